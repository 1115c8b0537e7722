"""What every exported file and column means: the one source for ``README.md`` and the workbook.

``FILES`` maps each file of ``exports/<name>/`` to a ``FileDoc``: one row per what, which
command writes it, and for tables every column with its unit and how it is computed.
``annotate.outputs.dictionary`` renders it as the folder's ``README.md`` and ``annotate.outputs.workbook`` as
the ``README`` sheet of ``summary.xlsx``. A test checks that the columns listed here are
exactly the columns ``pull`` and ``analysis.compute_tables`` produce, so the two cannot drift.

The wording follows the README's "Exports" and "For analysts" sections and the docstrings
of ``annotate.quality.agreement``, ``annotate.quality.aggregate`` and ``annotate.quality.spans``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CSV_ENCODING_NOTE",
    "FILES",
    "READING_NOTES",
    "SHEETS",
    "Column",
    "FileDoc",
    "SheetDoc",
    "sheet_columns",
]


@dataclass(frozen=True)
class Column:
    """One column: what it holds and its unit (empty when it has none)."""

    description: str
    unit: str = ""


@dataclass(frozen=True)
class FileDoc:
    """One exported file.

    ``row`` says what one row is (empty for files that are not tables); ``written_by`` the
    command that writes it; ``when`` when it is present, if not always; ``columns`` every
    column (for ``manifest.json``: every key) in file order; ``table`` the key of the table
    in ``analysis.compute_tables``'s result, for the summary CSVs.
    """

    name: str
    description: str
    written_by: str
    row: str = ""
    when: str = ""
    columns: dict[str, Column] = field(default_factory=dict)
    table: str | None = None


@dataclass(frozen=True)
class SheetDoc:
    """One data sheet of ``summary.xlsx``: the file it mirrors and columns added for reading."""

    file: str
    extra: dict[str, Column] = field(default_factory=dict)


SECONDS = "seconds"
UTC_TIME = "UTC time"
SHARE = "share 0–1"
COUNT = "count"
COEFFICIENT = "coefficient ≤ 1"

CSV_ENCODING_NOTE = (
    "CSV files are UTF-8 with a byte-order mark (BOM), comma-separated, with a header row, so "
    "spreadsheet programs read Chinese and other non-Latin text correctly; in pandas read them "
    "with encoding='utf-8-sig'. Empty cells are missing values. Times are ISO 8601 in UTC. "
    "Parquet files keep the exact types (text, integers, UTC timestamps)."
)

_SENTENCE_ID = Column(
    "Stable id of the sentence: derived from doc_id, the normalised text and its occurrence number"
)
_DOC_ID = Column("Id of the article the sentence comes from (the file name, or the id column of a table)")
_FIELD = Column(
    "The question answered: stance_<target id> (stance toward a target), sentence_type, "
    "cues (bias-cue spans) or comment"
)

_SENTENCES = FileDoc(
    name="sentences.parquet",
    description="Every sentence in the Label Studio project, with its article's metadata.",
    written_by="annotate pull",
    row="sentence (Label Studio task)",
    columns={
        "sentence_id": _SENTENCE_ID,
        "doc_id": _DOC_ID,
        "sentence_index": Column("Position of the sentence in its article, from 0", "index"),
        "paragraph": Column("Paragraph of the article the sentence is in, from 0", "index"),
        "text": Column("The sentence as annotators saw it"),
        "task_id": Column("Label Studio task id of the sentence"),
        "title": Column("Title of the article"),
        "outlet": Column("Outlet that published the article (from the article table, if given)"),
        "country": Column("Country of the outlet (from the article table, if given)"),
        "author": Column("Author(s) of the article (from the article table or the page's byline, if given)"),
        "published": Column("Publication date as given in the article table"),
        "url": Column("Address of the article (from the article table, if given)"),
        "language": Column("Language of the article (given, or detected from the script: en, zh, ...)"),
        "task_updated_at": Column("When the task last changed in Label Studio (any annotation)", UTC_TIME),
        "superseded": Column(
            "True when a later push of the article no longer produces this sentence (it was edited): the "
            "task and its annotations are kept, but no longer served to annotators",
            "true/false",
        ),
        "audit_probability": Column(
            "For a sentence of the audit sample (config audit, annotate push --audit): the probability "
            "it had of being drawn into it, a random sample for annotate estimate; empty for the others",
            SHARE,
        ),
    },
)

_ANNOTATIONS = FileDoc(
    name="annotations.parquet",
    description=(
        "Every annotation, one row per answer: a chosen label, a marked cue span or a comment. "
        "annotations.csv holds the same rows. A skipped or empty annotation is one row with an "
        "empty field, so it is counted."
    ),
    written_by="annotate pull",
    row="annotation × field × label or span",
    columns={
        "sentence_id": _SENTENCE_ID,
        "doc_id": _DOC_ID,
        "task_id": Column("Label Studio task id of the sentence"),
        "annotation_id": Column("Label Studio annotation id; one annotation gives several rows"),
        "annotator": Column(
            "The annotator's pseudonym (A01, A02, … the same in every file and pull); their e-mail "
            "address with --show-names"
        ),
        "field": _FIELD,
        "label": Column("The chosen label; for cues the cue label; for comment the comment's text"),
        "start": Column("Start of a cue span: offset of its first character in the sentence", "characters"),
        "end": Column("End of a cue span: offset just after its last character (exclusive)", "characters"),
        "span_text": Column("The characters of a cue span"),
        "created_at": Column("When the annotation was submitted", UTC_TIME),
        "updated_at": Column("When the annotation was last changed", UTC_TIME),
        "lead_time": Column("Time the annotator spent on the sentence, as Label Studio measured it", SECONDS),
        "cancelled": Column(
            "True for a skipped (cancelled) annotation: counted, but never a vote", "true/false"
        ),
        "ground_truth": Column(
            "True for a ground-truth annotation: the expected labels of a gold sentence, never a vote",
            "true/false",
        ),
    },
)

_ANNOTATIONS_CSV = FileDoc(
    name="annotations.csv",
    description="The rows and columns of annotations.parquet, for spreadsheet programs.",
    written_by="annotate pull",
    row="annotation × field × label or span",
)

_ADJUDICATIONS = FileDoc(
    name="adjudications.parquet",
    description=(
        "Final labels decided in the review project <name>-review (annotate adjudicate); they win "
        "over aggregated labels. adjudications.csv holds the same rows."
    ),
    written_by="annotate pull",
    row="adjudicated sentence × field",
    when="only once a review project exists",
    columns={
        "sentence_id": _SENTENCE_ID,
        "field": _FIELD,
        "label": Column("The adjudicator's final label"),
        "adjudicator": Column("The adjudicator's pseudonym (e-mail address with --show-names)"),
        "annotation_id": Column("Label Studio annotation id in the review project"),
        "updated_at": Column("When the decision was last changed; the latest one counts", UTC_TIME),
    },
)

_ADJUDICATIONS_CSV = FileDoc(
    name="adjudications.csv",
    description="The rows and columns of adjudications.parquet, for spreadsheet programs.",
    written_by="annotate pull",
    row="adjudicated sentence × field",
    when="only once a review project exists",
)

_SENTENCE_LABELS = FileDoc(
    name="sentence_labels.csv",
    description=(
        "The final label of every sentence and choice field, with the majority, Dawid–Skene and "
        "adjudicated labels side by side. Each annotator's latest submitted annotation of a sentence "
        "is their answer; skipped and ground-truth annotations are not votes."
    ),
    written_by="annotate summarize",
    row="sentence × choice field",
    table="sentence_labels",
    columns={
        "sentence_id": _SENTENCE_ID,
        "doc_id": _DOC_ID,
        "field": Column("The choice question: stance_<target id> or sentence_type"),
        "label": Column("The label to use: the one named by source"),
        "source": Column(
            "Where label comes from: adjudicated (decided in the review project; always wins), gold "
            "(a gold sentence: the expected label), majority (the most frequent answer) or "
            "dawid_skene (a tie, broken by the Dawid–Skene estimate)"
        ),
        "majority_label": Column(
            "The most frequent answer; empty when two or more labels tie for the most votes"
        ),
        "votes": Column("Answers for the most frequent label", COUNT),
        "n_annotators": Column("Annotators who answered this field for this sentence", COUNT),
        "agreement": Column("votes / n_annotators", SHARE),
        "margin": Column("(votes of the top label − votes of the runner-up) / n_annotators", SHARE),
        "contested": Column(
            "True when no label has more than half of the votes (every tie is contested; a single "
            "answer is not)",
            "true/false",
        ),
        "ds_label": Column(
            "Dawid–Skene (1979) estimate of the true label: each annotator's confusion matrix is learnt "
            "by EM from all answers of the field and their answers are weighed by it; empty for gold "
            "sentences"
        ),
        "ds_probability": Column(
            "Posterior probability of ds_label under the Dawid–Skene model", "probability 0–1"
        ),
    },
)

_DOCUMENT_STANCE = FileDoc(
    name="document_stance.csv",
    description=(
        "Per article and target, how many sentences have each final stance label (the label column of "
        "sentence_labels.csv). Gold sentences are left out. Every article × target with an answered "
        "sentence has one row per stance label plus 'No majority', zero counts included."
    ),
    written_by="annotate summarize",
    row="document × target × stance label",
    table="document_stance",
    columns={
        "doc_id": _DOC_ID,
        "target": Column("Target id from the config (the field is stance_<target>)"),
        "label": Column("A stance label of the config, or 'No majority' for sentences without a final label"),
        "sentences": Column(
            "Sentences of the article whose final stance toward the target is this label", COUNT
        ),
        "share": Column(
            "sentences / the article's sentences answered for this target; the shares of one article "
            "and target add up to 1",
            SHARE,
        ),
    },
)

_AGREEMENT = FileDoc(
    name="agreement.csv",
    description=(
        "Inter-annotator agreement: one row per choice field, then for bias cues a row 'cues' and one "
        "row 'cues:<label>' per cue label (token level). Gold sentences, skipped and ground-truth "
        "annotations are left out. A unit is a sentence (for cues, a token); coefficients are empty "
        "when undefined (e.g. everyone gave one and the same label)."
    ),
    written_by="annotate summarize",
    row="field (and cue label)",
    table="agreement",
    columns={
        "field": Column("stance_<target id>, sentence_type, cues or cues:<cue label>"),
        "level": Column(
            "Level of measurement used for Krippendorff's α: nominal, ordinal or interval "
            "(stance_level in the config; always nominal for sentence_type and cues)"
        ),
        "krippendorff_alpha": Column(
            "Krippendorff's α: 1 perfect agreement, 0 agreement at chance, below 0 systematic "
            "disagreement. Rely on α ≥ 0.800, draw tentative conclusions from 0.667 ≤ α < 0.800",
            COEFFICIENT,
        ),
        "alpha_ci_low": Column(
            "Lower end of the 95% bootstrap interval of α (1,000 seeded resamples of sentences, so it "
            "repeats); judge reliability by this end",
            COEFFICIENT,
        ),
        "alpha_ci_high": Column("Upper end of the 95% bootstrap interval of α", COEFFICIENT),
        "percent_agreement": Column(
            "Per unit, the share of annotator pairs that agree, averaged over units; ignores chance",
            SHARE,
        ),
        "fleiss_kappa": Column(
            "Fleiss' κ, chance-corrected from the answer shares (Gwet's generalisation when units have "
            "different numbers of annotators); low when one label dominates (the kappa paradox)",
            COEFFICIENT,
        ),
        "gwet_ac1": Column(
            "Gwet's AC1, chance-corrected in a way that stays stable when one label dominates",
            COEFFICIENT,
        ),
        "units": Column("Units with at least two answers (sentences; tokens for cues)", COUNT),
        "pairable_values": Column("Answers in those units", COUNT),
        "annotators": Column("Annotators with at least one counted answer", COUNT),
        "span_f1_exact": Column(
            "Cue rows only: mean over annotator pairs of span F1, a span matching when another annotator "
            "marked the same characters with the same label",
            SHARE,
        ),
        "span_f1_overlap": Column(
            "Cue rows only: as span_f1_exact, a span matching when it overlaps a span of the same label",
            SHARE,
        ),
    },
)

_ALPHA_NOTE = (
    "Why krippendorff_alpha is empty, when it is: fewer than 2 sentences with two or more answers, or "
    "no variation ({}); empty when α is given"
)
_CHOICE_FIELD = Column("The choice question: stance_<target id> or sentence_type")

_AGREEMENT_BY_LABEL = FileDoc(
    name="agreement_by_label.csv",
    description=(
        "Krippendorff's α per label of every choice field, one label against the rest: each answer is "
        "recoded as that label or not and nominal α is computed on the two values, so a label the "
        "annotators confuse with others stands out. The answers of agreement.csv (gold sentences, "
        "skipped and ground-truth annotations left out) and the same bootstrap interval."
    ),
    written_by="annotate summarize",
    row="choice field × label",
    table="agreement_by_label",
    columns={
        "field": _CHOICE_FIELD,
        "label": Column("The label, against all the other labels of the field together"),
        "krippendorff_alpha": Column(
            "Nominal Krippendorff's α of the answers recoded as this label or another one (with two "
            "values every level of measurement gives the same α); read it like the α of agreement.csv",
            COEFFICIENT,
        ),
        "alpha_ci_low": Column(
            "Lower end of the 95% bootstrap interval of α (the resamples of the field's sentences "
            "behind agreement.csv's interval)",
            COEFFICIENT,
        ),
        "alpha_ci_high": _AGREEMENT.columns["alpha_ci_high"],
        "units": Column("Sentences with at least two answers to the field", COUNT),
        "pairable_values": _AGREEMENT.columns["pairable_values"],
        "label_values": Column("Of those answers, the ones giving this label", COUNT),
        "note": Column(_ALPHA_NOTE.format("the label is every answer or none")),
    },
)

_AGREEMENT_BY_ARTICLE = FileDoc(
    name="agreement_by_article.csv",
    description=(
        "Krippendorff's α of every choice field within each article, over its sentences alone, to find the "
        "articles the annotators read differently. The answers of agreement.csv; the interval resamples "
        "the article's own sentences. With fewer than 2 sentences with two or more answers, no α."
    ),
    written_by="annotate summarize",
    row="article × choice field",
    table="agreement_by_article",
    columns={
        "doc_id": Column("Id of the article (the file name, or the id column of a table)"),
        "field": _CHOICE_FIELD,
        "level": _AGREEMENT.columns["level"],
        "krippendorff_alpha": Column(
            "Krippendorff's α over the article's sentences; read it like the α of agreement.csv, with "
            "more caution: an article has few sentences",
            COEFFICIENT,
        ),
        "alpha_ci_low": Column(
            "Lower end of the 95% bootstrap interval of α (1,000 seeded resamples of its sentences)",
            COEFFICIENT,
        ),
        "alpha_ci_high": _AGREEMENT.columns["alpha_ci_high"],
        "percent_agreement": _AGREEMENT.columns["percent_agreement"],
        "units": Column("The article's sentences with at least two answers to the field", COUNT),
        "pairable_values": _AGREEMENT.columns["pairable_values"],
        "note": Column(_ALPHA_NOTE.format("every answer the same label")),
    },
)

_ANNOTATORS = FileDoc(
    name="annotators.csv",
    description=(
        "Figures per annotator. Counts and times cover everything they submitted; agreement and "
        "Dawid–Skene figures leave out gold sentences."
    ),
    written_by="annotate summarize",
    row="annotator",
    table="annotators",
    columns={
        "annotator": Column("The annotator's pseudonym (e-mail address with --show-names)"),
        "annotations": Column("Submitted annotations (distinct annotation ids, skips excluded)", COUNT),
        "skipped": Column("Skipped (cancelled) annotations", COUNT),
        "median_lead_time": Column("Median lead time of the submitted annotations", SECONDS),
        "total_lead_time": Column("Sum of the lead times of the submitted annotations", SECONDS),
        "agreement_with_majority": Column(
            "Share of the annotator's answers equal to the majority of the other annotators of the same "
            "sentence and field (where those others have a unique most frequent answer)",
            SHARE,
        ),
        "gold_items": Column("Gold sentence × field answers that could be checked", COUNT),
        "gold_accuracy": Column("Share of correct answers on gold sentences", SHARE),
        "flagged": Column(
            "True when gold_accuracy is under gold_threshold (config, default 0.7) on at least "
            "gold_min_items (default 3) gold answers; summarize --exclude-flagged leaves them out",
            "true/false",
        ),
        "ds_reliability": Column(
            "Dawid–Skene estimate of how often the annotator gives the true label (prior-weighted "
            "diagonal of their confusion matrix), averaged over fields",
            "probability 0–1",
        ),
    },
)

_ANNOTATOR_PAIRS = FileDoc(
    name="annotator_pairs.csv",
    description="Agreement of every pair of annotators on every choice field, to find a pair (or one "
    "person) who reads the guidelines differently. Gold sentences are left out.",
    written_by="annotate summarize",
    row="annotator pair × field",
    table="annotator_pairs",
    columns={
        "annotator_a": Column("Pseudonym (or e-mail) of the first annotator (alphabetically)"),
        "annotator_b": Column("Pseudonym (or e-mail) of the second annotator"),
        "field": Column("The choice question: stance_<target id> or sentence_type"),
        "items": Column("Sentences both answered", COUNT),
        "percent_agreement": Column("Share of those sentences where both gave the same label", SHARE),
        "cohen_kappa": Column(
            "Cohen's κ = (p_o − p_e) / (1 − p_e), p_e from each annotator's own label shares; empty with "
            "fewer than 2 items or when both used one and the same label throughout",
            COEFFICIENT,
        ),
    },
)

_SUGGESTIONS = FileDoc(
    name="suggestions.csv",
    description="How well each cue-suggestion rule (configs/cues.yaml) matches what annotators marked, so "
    "rules can be improved with evidence. A human span is any annotator's span of that label; overlapping "
    "human spans are merged across annotators. Gold and superseded sentences are left out; empty when "
    "suggestions are off.",
    written_by="annotate summarize",
    row="rule (then one 'all' row per cue label and one overall)",
    table="suggestions",
    columns={
        "rule": Column("Rule id from the rules file, or 'all' for a total row"),
        "label": Column("The cue label the rule suggests, or 'all'"),
        "suggested": Column("Spans the rule suggests on annotated sentences", COUNT),
        "matched": Column("Of those, spans overlapping a human span of the same label", COUNT),
        "human_spans": Column("Human spans of that label (merged across annotators)", COUNT),
        "found": Column("Human spans overlapped by a suggestion of the rule", COUNT),
        "precision": Column("matched / suggested; empty when nothing was suggested", SHARE),
        "recall": Column("found / human_spans; empty without human spans", SHARE),
    },
)

_MANIFEST = FileDoc(
    name="manifest.json",
    description="Provenance of the last pull (JSON object). Never holds the API key.",
    written_by="annotate pull",
    columns={
        "pulled_at": Column("When the pull finished", UTC_TIME),
        "label_studio_url": Column("Address of the Label Studio server"),
        "label_studio_version": Column("Label Studio release of the server"),
        "annotate_version": Column("Version of annotate that pulled"),
        "project_id": Column("Label Studio project id"),
        "project_name": Column("Project name (config name)"),
        "project_title": Column("Project title in Label Studio"),
        "config_sha256": Column("SHA-256 of the project config as canonical JSON: which config was used"),
        "pull": Column("full (everything through the project export) or incremental (changed tasks only)"),
        "tasks_fetched": Column("Tasks read from the server by this pull", COUNT),
        "rows": Column(
            "Row counts: sentences, annotations (rows of annotations.parquet), distinct_annotations, "
            "skipped_annotations and, with a review project, adjudications",
            COUNT,
        ),
    },
)

_REPORT = FileDoc(
    name="report.html",
    description="A self-contained page for analysts with the summary tables (no scripts, no external "
    "requests).",
    written_by="annotate summarize",
)

_WORKBOOK = FileDoc(
    name="summary.xlsx",
    description=(
        "Excel workbook: a README sheet describing every column, then one sheet per summary table "
        "(sentence_labels with the sentence text, document_stance, agreement, agreement_by_label, "
        "agreement_by_article, annotators, annotator_pairs, suggestions) and the sentences. Numbers are "
        "numbers and missing values empty cells, with the same values as the CSV files."
    ),
    written_by="annotate summarize",
)

_README = FileDoc(
    name="README.md",
    description="This data dictionary: files, columns, units, how figures are computed and the pull's "
    "provenance.",
    written_by="annotate pull",
)

_SNAPSHOTS = FileDoc(
    name="snapshots/",
    description=(
        "Dated copies kept by 'annotate pull --snapshot', one folder per pull named by its UTC time "
        "(e.g. 20260301T120000Z): the pull's files, its README.md and manifest.json, the summary CSVs "
        "computed from exactly that pull's annotations, and snapshot.json. 'annotate diff OLD NEW' "
        "lists the sentences whose final label changed between two of them."
    ),
    written_by="annotate pull --snapshot",
    when="only after a pull with --snapshot",
)

_ANCHORING = FileDoc(
    name="anchoring.csv",
    description=(
        "The anchoring check: how often annotators chose the model's label on tasks where annotate "
        "learn pre-filled it, against a seeded random control share of the suggested tasks where it "
        "was recorded but not shown. A clear positive effect means the suggestions pull the answers "
        "toward the model."
    ),
    written_by="annotate summarize",
    row="field (stance target or sentence type)",
    when="only after annotate learn has put suggestions in Label Studio",
    columns={
        "field": _FIELD,
        "answers_shown": Column("Counted answers on tasks where the model's label was pre-filled", COUNT),
        "answers_control": Column(
            "Counted answers on control tasks (model's label recorded, not shown)", COUNT
        ),
        "agree_shown": Column("Share of answers equal to the model's label where it was shown", SHARE),
        "agree_control": Column("Share of answers equal to the model's label where it was not shown", SHARE),
        "effect": Column("agree_shown − agree_control: the anchoring effect", "difference of shares"),
        "effect_ci_low": Column("Lower end of the 95% interval of effect (bootstrap over articles)"),
        "effect_ci_high": Column("Upper end of the 95% interval of effect"),
        "verdict": Column("The effect in plain words"),
    },
)

_ESTIMATES = FileDoc(
    name="estimates.csv",
    description=(
        "The share of every label in the pushed corpus (or in each group), estimated from the audit "
        "sample two ways: human labels only (classical) and with the model's predictions on every "
        "sentence (PPI++, prediction-powered inference with power tuning). Intervals are "
        "cluster-robust over articles."
    ),
    written_by="annotate estimate",
    row="field × label × group × method",
    when="only after annotate estimate, which needs an audit sample (annotate push --audit)",
    columns={
        "field": _FIELD,
        "label": Column("The label whose share is estimated"),
        "by": Column("The grouping: all, outlet, country, document or month"),
        "group": Column("The group (all for the whole corpus)"),
        "method": Column("PPI++ (model-assisted) or classical (human labels of the audit only)"),
        "estimate": Column("Estimated share of the label's sentences", SHARE),
        "ci_low": Column("Lower end of the interval (level)", SHARE),
        "ci_high": Column("Upper end of the interval (level)", SHARE),
        "se": Column("Standard error (cluster-robust over articles)", SHARE),
        "level": Column("Confidence level of the interval", SHARE),
        "n_human": Column("Labelled audit sentences used", COUNT),
        "n_model": Column("Sentences with a model prediction used (0 for classical)", COUNT),
        "n_articles": Column("Articles among them", COUNT),
        "effective_n": Column(
            "Human labels the classical estimate would need for the same width (n_human for classical)"
        ),
        "lam": Column("PPI++'s power-tuning λ in [0, 1] (0: the classical estimate)"),
    },
)

_ESTIMATE_DIFFERENCES = FileDoc(
    name="estimate_differences.csv",
    description=(
        "Differences between groups' shares in estimates.csv, per field, label and method, with a "
        "normal interval, a two-sided p-value and Holm's adjustment over the pairs of groups."
    ),
    written_by="annotate estimate",
    row="field × label × method × pair of groups",
    when="only after annotate estimate --by",
    columns={
        "field": _FIELD,
        "label": Column("The label whose shares are compared"),
        "method": Column("PPI++ or classical"),
        "group_a": Column("First group"),
        "group_b": Column("Second group"),
        "difference": Column("Share in group_a minus share in group_b", "difference of shares"),
        "ci_low": Column("Lower end of the interval of the difference (unadjusted)"),
        "ci_high": Column("Upper end of the interval of the difference (unadjusted)"),
        "p_value": Column("Two-sided p-value of no difference"),
        "p_holm": Column("p-value adjusted by Holm's method over the pairs of this field, label, method"),
        "significant": Column("p_holm below 1 − level", "true/false"),
    },
)

#: ``annotate predict``: the column of a field's label and of each label's probability.
PREDICTED_LABEL, PREDICTED_PROBABILITY = "{field}", "{field}:{label}"
_FROM_SENTENCES = ("sentence_id", "doc_id", "sentence_index", "paragraph", "text", "title", "outlet",
                   "country", "author", "published", "url", "language")  # fmt: skip

_PREDICTIONS = FileDoc(
    name="predictions.parquet",
    description=(
        "The model of annotate learn applied to a corpus that never goes to Label Studio: every "
        "sentence, split and identified exactly as annotate push would (same sentence_id), with the "
        "model's label and its probability of every label, per field with a trained model. Written "
        "in row groups of --batch-size sentences; --out names another file."
    ),
    written_by="annotate predict",
    row="sentence",
    when="only after annotate predict",
    columns={
        **{name: _SENTENCES.columns[name] for name in _FROM_SENTENCES},
        "text": Column("The sentence"),
        PREDICTED_LABEL: Column(
            "One column per field with a trained model, named by the field (stance_<target id>, "
            "sentence_type): the model's label, the most probable one (the first in label order on a tie)"
        ),
        PREDICTED_PROBABILITY: Column(
            "One column per field and label of the config, named <field>:<label> (e.g. stance_china:Favor): "
            "the model's probability of the label (SentenceClassifier.predict_proba); a field's columns "
            "add up to 1; 0 for a label the model never learnt (too rare when it was trained)",
            "probability 0–1",
        ),
        "model_version": Column("model_version of the model that predicted (model/model_card.json)"),
    },
)
_BAD_ROWS = "one line each: <file>:row N (line M) or <file>:line N, what is wrong and how to fix it"
_PREDICTIONS_BAD_ROWS = FileDoc(
    name="predictions.bad_rows.txt",
    description=f"The corpus rows annotate predict skipped, {_BAD_ROWS}; beside the --out file.",
    written_by="annotate predict",
    when="only when annotate predict skipped a row",
)
_PUSH_BAD_ROWS = FileDoc(
    name="push.bad_rows.txt",
    description=f"The rows annotate push --skip-bad-rows skipped, {_BAD_ROWS}.",
    written_by="annotate push --skip-bad-rows",
    when="only when a push skipped a row",
)

#: Every file of ``exports/<name>/``, in the order the dictionary lists them.
FILES: dict[str, FileDoc] = {
    doc.name: doc
    for doc in (
        _SENTENCES,
        _ANNOTATIONS,
        _ANNOTATIONS_CSV,
        _ADJUDICATIONS,
        _ADJUDICATIONS_CSV,
        _MANIFEST,
        _README,
        _SENTENCE_LABELS,
        _DOCUMENT_STANCE,
        _AGREEMENT,
        _AGREEMENT_BY_LABEL,
        _AGREEMENT_BY_ARTICLE,
        _ANNOTATORS,
        _ANNOTATOR_PAIRS,
        _SUGGESTIONS,
        _ANCHORING,
        _ESTIMATES,
        _ESTIMATE_DIFFERENCES,
        _PREDICTIONS,
        _PREDICTIONS_BAD_ROWS,
        _PUSH_BAD_ROWS,
        _REPORT,
        _WORKBOOK,
        _SNAPSHOTS,
    )
}

#: The data sheets of ``summary.xlsx`` (after ``README``), in order.
SHEETS: dict[str, SheetDoc] = {
    "sentence_labels": SheetDoc(
        "sentence_labels.csv",
        extra={"text": Column("The sentence (joined from sentences.parquet for reading)")},
    ),
    "document_stance": SheetDoc("document_stance.csv"),
    "agreement": SheetDoc("agreement.csv"),
    "agreement_by_label": SheetDoc("agreement_by_label.csv"),
    "agreement_by_article": SheetDoc("agreement_by_article.csv"),
    "annotators": SheetDoc("annotators.csv"),
    "annotator_pairs": SheetDoc("annotator_pairs.csv"),
    "suggestions": SheetDoc("suggestions.csv"),
    "sentences": SheetDoc("sentences.parquet"),
}

#: How to read the figures (the README's "For analysts" section in short).
READING_NOTES: list[str] = [
    "label in sentence_labels.csv is the one to use; source says where it comes from "
    "(adjudicated > gold > majority > dawid_skene on a tie). Where ds_label disagrees with the "
    "majority, look at the sentence.",
    "Krippendorff's α: rely on α ≥ 0.800, draw only tentative conclusions from 0.667 ≤ α < 0.800 "
    "and do not rely on lower values. Judge the lower end of the interval (alpha_ci_low) and "
    "distrust any figure with few units or pairable_values.",
    "Percent agreement ignores chance: it looks good whenever one answer dominates. Fleiss' κ, like α, "
    "can be low even when almost everyone agrees if one label ('Not addressed') dominates; Gwet's AC1 "
    "stays stable then. When α/κ are low but AC1 and percent agreement high, the disagreement is in "
    "the rare labels: read their sentences.",
    "agreement_by_label.csv gives α per label, one label against the rest: the label with the lowest "
    "α is the one annotators confuse with the others. agreement_by_article.csv gives α within each "
    "article: an article has few sentences, so judge it by alpha_ci_low and units.",
    "Cue agreement is token-level: each token is a unit whose value is the cue label covering it "
    "(a span covers a token when it covers at least half of its characters) or none. Exact span F1 "
    "is usually much lower than overlap F1: annotators agree on the cue more than on its boundaries.",
    "Skipped (cancelled) annotations are counted but kept out of labels and agreement; ground-truth "
    "annotations of gold sentences are reference answers, never votes; when an annotator submitted a "
    "sentence twice, the most recently updated annotation counts.",
]


#: ``annotate diff --csv FILE``: written where the user asks, not in ``exports/<name>/``.
DIFF_CSV = FileDoc(
    name="diff CSV",
    description="Sentences whose final label changed between two snapshots or export folders.",
    written_by="annotate diff --csv",
    row="sentence × field whose final label changed, appeared or disappeared",
    columns={
        "sentence_id": _SENTENCE_ID,
        "doc_id": _DOC_ID,
        "field": _FIELD,
        "old_label": Column("Final label in the older folder (empty: it had none)"),
        "new_label": Column("Final label in the newer folder (empty: it has none)"),
        "old_source": Column("Where the old label came from (adjudicated, gold, majority, dawid_skene)"),
        "new_source": Column("Where the new label comes from"),
        "text": Column("The sentence"),
    },
)


def columns_of(name: str) -> list[str]:
    """The columns of the exported table ``name`` (a key of ``FILES`` or ``DIFF_CSV.name``), in order."""
    return list((DIFF_CSV if name == DIFF_CSV.name else FILES[name]).columns)


#: The column lists the code writes: every one comes from the documentation above, so a column
#: is added, renamed or reordered in this module only.
SENTENCE_COLUMNS = columns_of("sentences.parquet")
ANNOTATION_COLUMNS = columns_of("annotations.parquet")
ADJUDICATION_COLUMNS = columns_of("adjudications.parquet")
SENTENCE_LABEL_COLUMNS = columns_of("sentence_labels.csv")
DOCUMENT_STANCE_COLUMNS = columns_of("document_stance.csv")
SPAN_F1_COLUMNS = ["span_f1_exact", "span_f1_overlap"]
#: agreement.csv: every row has these; the cue rows add ``SPAN_F1_COLUMNS``.
AGREEMENT_COLUMNS = [c for c in columns_of("agreement.csv") if c not in SPAN_F1_COLUMNS]
LABEL_AGREEMENT_COLUMNS = columns_of("agreement_by_label.csv")
ARTICLE_AGREEMENT_COLUMNS = columns_of("agreement_by_article.csv")
ANNOTATOR_COLUMNS = columns_of("annotators.csv")
PAIR_COLUMNS = columns_of("annotator_pairs.csv")
METRIC_COLUMNS = columns_of("suggestions.csv")
ANCHORING_FILE = _ANCHORING.name
ANCHORING_COLUMNS = columns_of(ANCHORING_FILE)
DIFF_COLUMNS = columns_of(DIFF_CSV.name)
PREDICTIONS_FILE = _PREDICTIONS.name
#: predictions.parquet's columns before the fields' (then ``PREDICTED_*`` per field, then model_version).
_PREDICTION_COLUMNS = columns_of(PREDICTIONS_FILE)
PREDICTION_SENTENCE_COLUMNS = _PREDICTION_COLUMNS[: _PREDICTION_COLUMNS.index(PREDICTED_LABEL)]
PUSH_BAD_ROWS_FILE = _PUSH_BAD_ROWS.name
ESTIMATES_FILE, ESTIMATE_DIFFERENCES_FILE = _ESTIMATES.name, _ESTIMATE_DIFFERENCES.name
ESTIMATE_COLUMNS = columns_of(ESTIMATES_FILE)
ESTIMATE_DIFFERENCE_COLUMNS = columns_of(ESTIMATE_DIFFERENCES_FILE)
#: The summary tables ``annotate summarize`` computes: table key -> file, in writing order.
TABLE_FILES = {doc.table: doc.name for doc in FILES.values() if doc.table is not None}


def sheet_columns(sheet: str, file_columns: list[str] | None = None) -> dict[str, Column]:
    """The documented columns of a workbook sheet: its file's columns, then the added ones.

    ``file_columns`` limits the file's columns to those present (e.g. agreement without cues
    has no span F1 columns), in that order.
    """
    doc = SHEETS[sheet]
    columns = FILES[doc.file].columns
    names = list(columns) if file_columns is None else [c for c in file_columns if c in columns]
    return {name: columns[name] for name in names} | doc.extra

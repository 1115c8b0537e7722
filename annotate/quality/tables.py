"""Summarize pulled annotations: read ``exports/<name>/``, compute every table, write them and the report.

What counts where:

- ground-truth annotations (gold) are reference answers, never votes;
- gold sentences are kept out of agreement, aggregation and document stance, and
  give each annotator a gold accuracy; they appear in ``sentence_labels`` with
  ``source = gold``;
- adjudicated labels (from the review project) win over aggregated ones;
- with ``exclude_flagged``, annotators under the gold threshold are left out of
  everything but their own row in ``annotators``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from annotate.config import ProjectConfig
from annotate.ingest.cues import Rules
from annotate.quality.aggregate import dawid_skene_fields
from annotate.quality.agreement import choice_answers, field_agreement, pairwise_kappa
from annotate.quality.gold import expected_labels, gold_accuracy
from annotate.quality.majority import annotator_table, document_stance, majority_labels
from annotate.quality.spans import cue_agreement
from annotate.quality.suggestions import METRIC_COLUMNS, suggestion_metrics
from annotate.studio.pull import ANNOTATION_COLUMNS

TABLE_FILES = {
    "sentence_labels": "sentence_labels.csv",
    "document_stance": "document_stance.csv",
    "agreement": "agreement.csv",
    "annotators": "annotators.csv",
    "annotator_pairs": "annotator_pairs.csv",
    "suggestions": "suggestions.csv",
}
SENTENCE_LABEL_COLUMNS = [
    "sentence_id",
    "doc_id",
    "field",
    "label",
    "source",
    "majority_label",
    "votes",
    "n_annotators",
    "agreement",
    "margin",
    "contested",
    "ds_label",
    "ds_probability",
]
ANNOTATOR_COLUMNS = [
    "annotator",
    "annotations",
    "skipped",
    "median_lead_time",
    "total_lead_time",
    "agreement_with_majority",
    "gold_items",
    "gold_accuracy",
    "flagged",
    "ds_reliability",
]
#: Dawid–Skene iterations: enough to settle on campaign-sized crowds.
DS_MAX_ITER = 500
#: The columns of annotations.parquet the summaries read (not ``task_id``, ``created_at``).
SUMMARY_ANNOTATION_COLUMNS = [c for c in ANNOTATION_COLUMNS if c not in ("task_id", "created_at")]
#: Steps ``compute_tables`` reports.
COMPUTE_STEPS = 6


def _margins(answers: pd.DataFrame) -> pd.DataFrame:
    """``sentence_id, field, margin``: (top votes − runner-up votes) / answers of the item."""
    item = ["sentence_id", "field"]
    counts = answers.groupby([*item, "label"], sort=False).size().rename("n").reset_index()
    counts = counts.sort_values([*item, "n"], ascending=[True, True, False], kind="stable")
    counts["rank"] = counts.groupby(item, sort=False).cumcount()
    counts["total"] = counts.groupby(item, sort=False)["n"].transform("sum")
    top = counts[counts["rank"] == 0].set_index(item)
    runner = counts[counts["rank"] == 1].set_index(item)["n"].reindex(top.index).fillna(0)
    return ((top["n"] - runner) / top["total"]).rename("margin").reset_index()


def _final_labels(
    majority: pd.DataFrame,
    margins: pd.DataFrame,
    ds: pd.DataFrame,
    gold: pd.DataFrame,
    adjudications: pd.DataFrame | None,
) -> pd.DataFrame:
    """sentence_labels: majority, Dawid–Skene, gold and adjudicated labels side by side, and the winner."""
    table = majority.rename(columns={"label": "majority_label"})
    table = table.merge(margins, on=["sentence_id", "field"], how="left")
    table = table.merge(ds, on=["sentence_id", "field"], how="left")
    table["label"] = table["majority_label"]
    table["source"] = np.where(table["majority_label"].notna(), "majority", "dawid_skene")
    table["label"] = table["label"].fillna(table["ds_label"])
    if len(gold):
        expected = gold.rename(columns={"label": "_gold"})
        table = table.merge(expected, on=["sentence_id", "field"], how="left")
        is_gold = table["_gold"].notna()
        table.loc[is_gold, "label"] = table.loc[is_gold, "_gold"]
        table.loc[is_gold, "source"] = "gold"
        table = table.drop(columns="_gold")
    if adjudications is not None and len(adjudications):
        final = adjudications[["sentence_id", "field", "label"]].rename(columns={"label": "_adjudicated"})
        table = table.merge(final, on=["sentence_id", "field"], how="left")
        decided = table["_adjudicated"].notna()
        table.loc[decided, "label"] = table.loc[decided, "_adjudicated"]
        table.loc[decided, "source"] = "adjudicated"
        table = table.drop(columns="_adjudicated")
    table["label"] = table["label"].astype("string")
    return table[SENTENCE_LABEL_COLUMNS]


def compute_tables(
    config: ProjectConfig,
    annotations: pd.DataFrame,
    sentences: pd.DataFrame,
    adjudications: pd.DataFrame | None = None,
    exclude_flagged: bool = False,
    rules: Rules | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Every summary table from the pulled tables, and the annotators left out.

    In: ``annotations`` and ``sentences`` as written by ``pull``; ``adjudications``
    (``sentence_id, field, label, ...``) from the review project, if any; the cue-suggestion
    ``rules`` to score (none: an empty ``suggestions`` table).
    Out: tables keyed as ``TABLE_FILES``: ``sentence_labels`` (``SENTENCE_LABEL_COLUMNS``),
    ``document_stance``, ``agreement`` (choice fields, then ``cues`` rows),
    ``annotators`` (``ANNOTATOR_COLUMNS``), ``annotator_pairs`` (Cohen's κ), ``suggestions``
    (each rule's precision and recall). Superseded sentences (edited in their article) count
    only in the annotators' own figures. ``progress(done, total)`` is called after each of the
    ``COMPUTE_STEPS`` steps.
    """

    def done(step: int) -> None:
        if progress:
            progress(step, COMPUTE_STEPS)

    choice_fields = config.choice_fields()
    gt = annotations["ground_truth"].astype(bool) if "ground_truth" in annotations else False
    human_all = annotations[~gt] if isinstance(gt, pd.Series) else annotations
    if "superseded" in sentences:
        old = sentences["superseded"].astype("boolean").fillna(False).astype(bool)
        superseded_ids = set(sentences.loc[old, "sentence_id"])
        sentences = sentences[~old]
        annotations = annotations[~annotations["sentence_id"].isin(superseded_ids)]
    human = human_all[human_all["sentence_id"].isin(set(sentences["sentence_id"]))]
    gold = (
        expected_labels(annotations)
        if isinstance(gt, pd.Series)
        else pd.DataFrame(columns=["sentence_id", "field", "label"])
    )
    gold_ids = set(gold["sentence_id"])

    all_answers = choice_answers(human, choice_fields)
    accuracy = gold_accuracy(all_answers, gold)
    accuracy["flagged"] = (accuracy["gold_items"] >= config.gold_min_items) & (
        accuracy["gold_accuracy"] < config.gold_threshold
    )
    flagged = sorted(accuracy.loc[accuracy["flagged"], "annotator"].astype(str))
    excluded = flagged if exclude_flagged else []
    counted = human[~human["annotator"].isin(excluded)]
    analysis = counted[~counted["sentence_id"].isin(gold_ids)]
    analysis_sentences = sentences[~sentences["sentence_id"].isin(gold_ids)]

    answers = choice_answers(analysis, choice_fields)
    majority = majority_labels(counted, choice_fields, sentences)
    done(1)
    aggregates = dawid_skene_fields(answers, choice_fields, max_iter=DS_MAX_ITER)
    done(2)
    labels = _final_labels(
        majority, _margins(choice_answers(counted, choice_fields)), aggregates.labels, gold, adjudications
    )

    stance = labels[~labels["sentence_id"].isin(gold_ids)]
    doc_stance = document_stance(stance, config.targets_by_id(), list(config.stance_labels))
    done(3)

    agreement = field_agreement(analysis, choice_fields, levels=config.levels())
    if config.cues:
        agreement = pd.concat(
            [agreement, cue_agreement(analysis, analysis_sentences, list(config.cues))], ignore_index=True
        )
    done(4)

    annotators = _annotator_figures(human_all, analysis, choice_fields, accuracy, aggregates.reliability)
    done(5)
    if rules is not None and config.cues:
        suggestions = suggestion_metrics(analysis, analysis_sentences, rules)
    else:
        suggestions = pd.DataFrame(columns=METRIC_COLUMNS)
    tables = {
        "sentence_labels": labels,
        "document_stance": doc_stance,
        "agreement": agreement,
        "annotators": annotators,
        "annotator_pairs": pairwise_kappa(analysis, choice_fields),
        "suggestions": suggestions,
    }
    done(COMPUTE_STEPS)
    return tables, excluded


def _annotator_figures(
    human: pd.DataFrame,
    analysis: pd.DataFrame,
    choice_fields: dict[str, list[str]],
    accuracy: pd.DataFrame,
    reliability: pd.DataFrame,
) -> pd.DataFrame:
    """annotators.csv: counts and lead times over everything they did, agreement over the analysis set."""
    counts = annotator_table(human, choice_fields).set_index("annotator")
    loo = annotator_table(analysis, choice_fields).set_index("annotator")["agreement_with_majority"]
    per_annotation = human.drop_duplicates("annotation_id")
    submitted = per_annotation[~per_annotation["cancelled"].astype(bool)]
    total = submitted.groupby("annotator")["lead_time"].sum(min_count=1)
    table = counts.drop(columns="agreement_with_majority")
    table["total_lead_time"] = total.reindex(table.index).astype("float64")
    table["agreement_with_majority"] = loo.reindex(table.index).astype("float64")
    acc = accuracy.set_index("annotator")
    table["gold_items"] = acc["gold_items"].reindex(table.index).fillna(0).astype("int64")
    table["gold_accuracy"] = acc["gold_accuracy"].reindex(table.index).astype("float64")
    table["flagged"] = acc["flagged"].reindex(table.index).astype("boolean").fillna(False).astype(bool)
    mean_reliability = reliability.groupby("annotator")["ds_reliability"].mean()
    table["ds_reliability"] = mean_reliability.reindex(table.index).astype("float64")
    return table.reset_index()[ANNOTATOR_COLUMNS]

"""Every summary table of ``annotate summarize``, from the answers that count.

What counts where is decided once, by ``annotate.quality.answers.CountedAnswers``; this module
combines the figures: the final label of each sentence × field (adjudicated > gold > majority,
Dawid–Skene on a tie; gold sentences appear with ``source = gold``), document stance,
agreement (choice fields and cue spans; per label and per article), annotator figures, Cohen's
κ per pair and the cue rules' precision and recall. Nothing here reads or writes a file.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from annotate.columns import ANNOTATION_COLUMNS, ANNOTATOR_COLUMNS, METRIC_COLUMNS, SENTENCE_LABEL_COLUMNS
from annotate.config import ProjectConfig
from annotate.ingest.cues import Rules
from annotate.quality.aggregate import FieldAggregates, dawid_skene_fields
from annotate.quality.agreement import field_agreement, pairwise_kappa
from annotate.quality.agreement_scopes import scoped_agreement
from annotate.quality.answers import CountedAnswers
from annotate.quality.majority import annotator_table, document_stance, majority_labels
from annotate.quality.spans import cue_agreement
from annotate.quality.suggestions import suggestion_metrics

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

    In: ``annotations`` and ``sentences`` as written by ``pull``; the rest as ``summary_tables``.
    Applies ``CountedAnswers.of`` (what counts where), then ``summary_tables``.
    """
    counted = CountedAnswers.of(config, annotations, sentences, exclude_flagged)
    return summary_tables(config, counted, adjudications, rules, progress), counted.excluded


def final_labels(
    counted: CountedAnswers, adjudications: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, FieldAggregates]:
    """``sentence_labels`` alone (majority, Dawid–Skene, gold and adjudicated labels side by side,
    and the winner), and the Dawid–Skene fit it used: what ``annotate learn`` and ``annotate
    adjudicate`` need, without the agreement and annotator tables."""
    majority = majority_labels(
        counted.counted, counted.choice_fields, counted.sentences, answers=counted.counted_answers
    )
    aggregates = dawid_skene_fields(counted.analysis_answers, counted.choice_fields, max_iter=DS_MAX_ITER)
    labels = _final_labels(
        majority, _margins(counted.counted_answers), aggregates.labels, counted.gold, adjudications
    )
    return labels, aggregates


def summary_tables(
    config: ProjectConfig,
    counted: CountedAnswers,
    adjudications: pd.DataFrame | None = None,
    rules: Rules | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every summary table from the answers that count.

    In: ``counted`` (``CountedAnswers.of`` the pull); ``adjudications`` (``sentence_id, field,
    label, ...``) from the review project, if any; the cue-suggestion ``rules`` to score (none:
    an empty ``suggestions`` table).
    Out: tables keyed as ``TABLE_FILES``: ``sentence_labels`` (``SENTENCE_LABEL_COLUMNS``),
    ``document_stance``, ``agreement`` (choice fields, then ``cues`` rows), ``agreement_by_label``
    and ``agreement_by_article`` (alpha per label and per article, ``scoped_agreement``),
    ``annotators`` (``ANNOTATOR_COLUMNS``), ``annotator_pairs`` (Cohen's κ), ``suggestions``
    (each rule's precision and recall). ``progress(done, total)`` is called after each of the
    ``COMPUTE_STEPS`` steps.
    """

    def done(step: int) -> None:
        if progress:
            progress(step, COMPUTE_STEPS)

    choice_fields = counted.choice_fields
    labels, aggregates = final_labels(counted, adjudications)
    done(1)

    stance = labels[~labels["sentence_id"].isin(counted.gold_ids)]
    doc_stance = document_stance(stance, config.targets_by_id(), list(config.stance_labels))
    done(2)

    agreement = field_agreement(
        counted.analysis, choice_fields, levels=config.levels(), answers=counted.analysis_answers
    )
    if config.cues:
        cues = cue_agreement(counted.analysis, counted.analysis_sentences, list(config.cues))
        agreement = pd.concat([agreement, cues], ignore_index=True)
    done(3)

    by_label, by_article = scoped_agreement(counted.analysis_answers, choice_fields, levels=config.levels())
    done(4)

    annotators = _annotator_figures(counted, aggregates.reliability)
    done(5)
    if rules is not None and config.cues:
        suggestions = suggestion_metrics(counted.analysis, counted.analysis_sentences, rules)
    else:
        suggestions = pd.DataFrame(columns=METRIC_COLUMNS)
    tables = {
        "sentence_labels": labels,
        "document_stance": doc_stance,
        "agreement": agreement,
        "agreement_by_label": by_label,
        "agreement_by_article": by_article,
        "annotators": annotators,
        "annotator_pairs": pairwise_kappa(counted.analysis, choice_fields, answers=counted.analysis_answers),
        "suggestions": suggestions,
    }
    done(COMPUTE_STEPS)
    return tables


def _annotator_figures(counted: CountedAnswers, reliability: pd.DataFrame) -> pd.DataFrame:
    """annotators.csv: counts and lead times over everything they did, agreement over the analysis set."""
    human = counted.human_all
    table = annotator_table(human, counted.choice_fields, answers=counted.analysis_answers).set_index(
        "annotator"
    )
    per_annotation = human.drop_duplicates("annotation_id")
    submitted = per_annotation[~per_annotation["cancelled"].astype(bool)]
    total = submitted.groupby("annotator")["lead_time"].sum(min_count=1)
    table["total_lead_time"] = total.reindex(table.index).astype("float64")
    acc = counted.accuracy.set_index("annotator")
    table["gold_items"] = acc["gold_items"].reindex(table.index).fillna(0).astype("int64")
    table["gold_accuracy"] = acc["gold_accuracy"].reindex(table.index).astype("float64")
    table["flagged"] = acc["flagged"].reindex(table.index).astype("boolean").fillna(False).astype(bool)
    mean_reliability = reliability.groupby("annotator")["ds_reliability"].mean()
    table["ds_reliability"] = mean_reliability.reindex(table.index).astype("float64")
    return table.reset_index()[ANNOTATOR_COLUMNS]

"""Majority labels, per-document stance and annotator figures from the tidy annotations table.

In: the annotations table made by ``annotate.studio.pull`` (columns in ``annotate.columns``),
the sentences table (``sentence_id, doc_id, sentence_index, text, task_id``), ``choice_fields`` (each
single-choice field name -> its labels in config order), ``targets`` (target id -> display
label) and ``stance_labels`` (config order).
Out: the tables behind ``sentence_labels.csv``, ``document_stance.csv``, ``agreement.csv``
and ``annotators.csv``.

Only submitted answers count: skipped (cancelled) annotations are left out of every label
and agreement figure, and counted in ``annotators.skipped``. When one annotator submitted
several annotations of a sentence, the most recently updated one is their answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from annotate.columns import DOCUMENT_STANCE_COLUMNS
from annotate.errors import ExportError, InputError
from annotate.quality.agreement import check_annotations, choice_answers

__all__ = [
    "ANNOTATOR_COUNT_COLUMNS",
    "DOCUMENT_STANCE_COLUMNS",
    "NO_MAJORITY",
    "MAJORITY_COLUMNS",
    "annotator_table",
    "document_stance",
    "majority_labels",
]

MAJORITY_COLUMNS = [
    "sentence_id",
    "doc_id",
    "field",
    "label",
    "votes",
    "n_annotators",
    "agreement",
    "contested",
]
ANNOTATOR_COUNT_COLUMNS = [
    "annotator",
    "annotations",
    "skipped",
    "median_lead_time",
    "agreement_with_majority",
]
NO_MAJORITY = "No majority"

_ITEM = ["sentence_id", "field"]


def _check_sentences(sentences: object) -> None:
    if not isinstance(sentences, pd.DataFrame):
        raise ExportError(
            f"sentences must be a pandas DataFrame, got {type(sentences).__name__}; "
            "pass the sentences table (sentences.parquet) written by push/pull"
        )
    missing = [c for c in ("sentence_id", "sentence_index") if c not in sentences.columns]
    if missing:
        raise ExportError(
            f"sentences table is missing column(s) {', '.join(missing)}; "
            "pass the sentences table (sentences.parquet) written by push/pull"
        )


def _check_stance(targets: object, stance_labels: object) -> None:
    if not isinstance(targets, Mapping) or not all(isinstance(t, str) and t for t in targets):
        raise InputError("targets must map each target id to its display label, e.g. {'china': 'China'}")
    if (
        isinstance(stance_labels, str)
        or not isinstance(stance_labels, Sequence)
        or not stance_labels
        or not all(isinstance(label, str) for label in stance_labels)
    ):
        raise InputError(
            "stance_labels must be the config's non-empty list of stance labels, "
            f"e.g. ['Favor', 'Against', 'Neutral'], got {stance_labels!r}"
        )
    if len(set(stance_labels)) != len(stance_labels):
        raise InputError(f"stance_labels lists a label twice: {list(stance_labels)!r}")
    if NO_MAJORITY in stance_labels:
        raise InputError(
            f"{NO_MAJORITY!r} is reserved for sentences without a majority; "
            "rename that stance label in the config"
        )


# -- sentence_labels --------------------------------------------------------------------------


def majority_labels(
    annotations: pd.DataFrame,
    choice_fields: Mapping[str, Sequence[str]],
    sentences: pd.DataFrame | None = None,
    answers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The majority label of every sentence × choice field with at least one answer.

    In: the tidy annotations table, ``choice_fields`` and, for ordering, the sentences table
    (``sentence_id, sentence_index``).
    Out: columns ``sentence_id, doc_id, field, label, votes, n_annotators, agreement,
    contested``. ``label`` is the most frequent label, NA when two or more labels tie for the
    most votes; ``votes`` is that top count; ``n_annotators`` the annotators who answered the
    field for the sentence; ``agreement = votes / n_annotators``; ``contested`` is True when no
    label has strictly more than half the votes (so every tie is contested, and a sentence
    answered by one annotator is not). Rows are sorted by ``doc_id``, then ``sentence_index``
    (sentences missing from ``sentences`` come last in their document; without ``sentences``
    the order is by ``sentence_id``), then field in ``choice_fields`` order.
    ``answers``: ``choice_answers(annotations, choice_fields)`` when the caller has it already.
    """
    if sentences is not None:
        _check_sentences(sentences)
    answers = choice_answers(annotations, choice_fields) if answers is None else answers

    counts = answers.groupby([*_ITEM, "label"], sort=False).size().rename("votes").reset_index()
    item = counts.groupby(_ITEM, sort=False)["votes"]
    counts["n_annotators"] = item.transform("sum")
    top = counts[counts["votes"] == item.transform("max")].copy()
    top["labels_at_top"] = top.groupby(_ITEM, sort=False)["label"].transform("size")
    table = top.drop_duplicates(_ITEM).copy()
    table["label"] = table["label"].astype("string").mask(table["labels_at_top"] > 1)

    doc_of = answers.drop_duplicates("sentence_id").set_index("sentence_id")["doc_id"]
    table["doc_id"] = table["sentence_id"].map(doc_of)
    table["agreement"] = table["votes"] / table["n_annotators"]
    table["contested"] = 2 * table["votes"] <= table["n_annotators"]

    if sentences is not None:
        index_of = sentences.drop_duplicates("sentence_id").set_index("sentence_id")["sentence_index"]
        order = table["sentence_id"].map(index_of).astype("Float64")
    else:
        order = pd.Series(np.nan, index=table.index)
    field_rank = {field: rank for rank, field in enumerate(choice_fields)}
    table = (
        table.assign(_order=order, _field=table["field"].map(field_rank))
        .sort_values(["doc_id", "_order", "sentence_id", "_field"], na_position="last")
        .reset_index(drop=True)
    )
    return table[MAJORITY_COLUMNS].astype(
        {"votes": "int64", "n_annotators": "int64", "agreement": "float64", "contested": "bool"}
    )


# -- document_stance --------------------------------------------------------------------------


def document_stance(
    majority: pd.DataFrame, targets: Mapping[str, str], stance_labels: Sequence[str]
) -> pd.DataFrame:
    """Distribution of sentence majority stances per document and target.

    In: the ``majority_labels`` table, ``targets`` (target id -> display label) and the
    config's ``stance_labels``.
    Out: columns ``doc_id, target, label, sentences, share``, one row per document × target
    that has at least one sentence with an answer for ``stance_<target>``, × every stance
    label plus ``"No majority"`` (sentences whose top labels tie). Every such document ×
    target therefore has ``len(stance_labels) + 1`` rows, zero counts included, and its
    ``share`` values (``sentences`` / its answered sentences) add up to 1. ``target`` is the
    target id. Rows are sorted by ``doc_id``, target and label in config order, then
    ``"No majority"``.
    """
    _check_stance(targets, stance_labels)
    missing = [c for c in ("doc_id", "field", "label") if c not in getattr(majority, "columns", [])]
    if missing:
        raise ExportError(
            f"majority table is missing column(s) {', '.join(missing)}; "
            "pass the table made by majority_labels()"
        )
    labels = [*stance_labels, NO_MAJORITY]
    target_of = {f"stance_{target}": target for target in targets}
    part = majority[majority["field"].isin(list(target_of))]
    found = pd.DataFrame(
        {
            "doc_id": part["doc_id"].to_numpy(),
            "target": part["field"].map(target_of).to_numpy(),
            "label": part["label"].astype(object).where(part["label"].notna(), NO_MAJORITY).to_numpy(),
        }
    )
    unknown = sorted(set(found["label"]) - set(labels))
    if unknown:
        raise ExportError(
            f"majority labels {', '.join(map(repr, unknown))} are not stance labels of the "
            "config; pass the config's stance_labels, or summarize again after fixing the config"
        )

    counts = found.groupby(["doc_id", "target", "label"]).size().rename("sentences")
    pairs = found[["doc_id", "target"]].drop_duplicates()
    grid = pairs.merge(pd.DataFrame({"label": labels}), how="cross")
    grid = grid.join(counts, on=["doc_id", "target", "label"])
    grid["sentences"] = grid["sentences"].fillna(0).astype("int64")
    total = grid.groupby(["doc_id", "target"])["sentences"].transform("sum")
    grid["share"] = (grid["sentences"] / total).astype("float64")

    target_rank = {target: rank for rank, target in enumerate(targets)}
    label_rank = {label: rank for rank, label in enumerate(labels)}
    grid = grid.assign(
        _target=grid["target"].map(target_rank), _label=grid["label"].map(label_rank)
    ).sort_values(["doc_id", "_target", "_label"])
    return grid[DOCUMENT_STANCE_COLUMNS].reset_index(drop=True)


# -- annotators ------------------------------------------------------------------------------


def _leave_one_out(answers: pd.DataFrame) -> pd.DataFrame:
    """Per answer: is there a unique top label among the *other* annotators, and is it theirs?

    Works from each item's label counts without building the others' counts: with ``n`` the
    votes for the answer's own label, ``c1`` the item's top count, ``k1`` the number of
    labels at ``c1`` and ``c2`` the highest count below ``c1`` (0 if none), removing the
    answer leaves a unique top label iff
      own label at top, alone (k1 == 1): c1 - 1 > c2, and that label is the answer's -> agree;
      own label at top with one other (k1 == 2): the other one -> disagree;
      own label below the top, top alone (k1 == 1): the top -> disagree;
    and no unique top otherwise (k1 >= 3 at top, k1 >= 2 below it, or c1 - 1 == c2).
    Out: columns ``annotator, eligible, agree`` aligned with ``answers``.
    """
    item = answers.groupby(_ITEM, sort=False).ngroup().to_numpy()
    n = answers.groupby([*_ITEM, "label"], sort=False)["annotator"].transform("size").to_numpy()
    by_item = pd.DataFrame({"item": item, "n": n})
    c1 = by_item.groupby("item")["n"].transform("max").to_numpy()
    at_top = n == c1
    # each label at the top count has c1 answers, so answers at the top / c1 = labels at the top
    k1 = pd.Series(at_top, dtype="int64").groupby(item).transform("sum").to_numpy() // c1
    c2 = pd.Series(np.where(at_top, 0, n)).groupby(item).transform("max").to_numpy()
    agree = at_top & (k1 == 1) & (c1 - 1 > c2)
    eligible = agree | (at_top & (k1 == 2)) | (~at_top & (k1 == 1))
    return pd.DataFrame({"annotator": answers["annotator"].to_numpy(), "eligible": eligible, "agree": agree})


def annotator_table(
    annotations: pd.DataFrame,
    choice_fields: Mapping[str, Sequence[str]],
    answers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-annotator figures.

    In: the tidy annotations table (also needs ``lead_time``, seconds) and ``choice_fields``.
    Out: one row per annotator (sorted) with columns ``annotator, annotations, skipped,
    median_lead_time, agreement_with_majority``: ``annotations`` = distinct submitted
    annotation ids, ``skipped`` = distinct cancelled ones, ``median_lead_time`` = median
    lead time in seconds over the submitted annotations (NaN if none has one), and
    ``agreement_with_majority`` = leave-one-out agreement: over every sentence × choice field
    the annotator answered where the *other* annotators' answers have a unique most frequent
    label, the share where the annotator gave that label (NaN when there is no such item).
    ``answers``: the choice answers that agreement is computed on, when not those of
    ``annotations`` (``annotate.quality.tables`` counts everything an annotator did but scores
    agreement on the analysis set only).
    """
    check_annotations(annotations, ("annotation_id", "annotator", "cancelled", "lead_time"))
    per_annotation = annotations.drop_duplicates("annotation_id")
    per_annotation = per_annotation[per_annotation["annotator"].notna()]
    cancelled = per_annotation["cancelled"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    lead_time = pd.to_numeric(per_annotation["lead_time"], errors="coerce").astype("float64")
    figures = pd.DataFrame(
        {
            "annotator": per_annotation["annotator"].to_numpy(),
            "annotations": ~cancelled,
            "skipped": cancelled,
            "median_lead_time": lead_time.where(~cancelled).to_numpy(),
        }
    )
    table = figures.groupby("annotator").agg(
        annotations=("annotations", "sum"),
        skipped=("skipped", "sum"),
        median_lead_time=("median_lead_time", "median"),
    )

    loo = _leave_one_out(choice_answers(annotations, choice_fields) if answers is None else answers)
    scored = loo[loo["eligible"]].groupby("annotator")["agree"].mean()
    table["agreement_with_majority"] = scored.reindex(table.index).astype("float64")
    table = table.reset_index()
    return table[ANNOTATOR_COUNT_COLUMNS].astype(
        {
            "annotations": "int64",
            "skipped": "int64",
            "median_lead_time": "float64",
            "agreement_with_majority": "float64",
        }
    )

"""Gold sentences in the pulled annotations: the expected labels and each annotator's accuracy.

Gold tasks carry a Label Studio ground-truth annotation with the expected labels (written by
``annotate.studio.gold``); they are reference answers, never votes.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["expected_labels", "gold_accuracy"]


def expected_labels(annotations: pd.DataFrame) -> pd.DataFrame:
    """Gold labels from ground-truth annotations: columns ``sentence_id, field, label``.

    When a sentence has several ground-truth annotations, the latest updated wins.
    """
    gt = annotations[annotations["ground_truth"] & ~annotations["cancelled"] & annotations["field"].notna()]
    gt = gt.sort_values(["updated_at", "annotation_id"], kind="stable")
    latest = gt.groupby("sentence_id", sort=False)["annotation_id"].transform("last")
    gt = gt[gt["annotation_id"] == latest]
    return (
        gt[["sentence_id", "field", "label"]].drop_duplicates(["sentence_id", "field"]).reset_index(drop=True)
    )


def gold_accuracy(answers: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: ``annotator, gold_items, gold_correct, gold_accuracy``.

    ``answers`` has one row per sentence × field × annotator (``sentence_id, field,
    annotator, label``); an item is a gold sentence × field with an expected label
    that the annotator answered. Accuracy is correct / items (NaN without items).
    """
    merged = answers.merge(gold, on=["sentence_id", "field"], suffixes=("", "_gold"))
    merged["correct"] = merged["label"] == merged["label_gold"]
    out = merged.groupby("annotator", sort=True).agg(
        gold_items=("correct", "size"), gold_correct=("correct", "sum")
    )
    out["gold_accuracy"] = out["gold_correct"] / out["gold_items"]
    return out.reset_index()

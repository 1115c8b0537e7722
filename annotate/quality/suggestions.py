"""Each cue rule's precision and recall against the human cue spans (``suggestions.csv``).

Only non-cancelled, non-ground-truth annotations count, on sentences of the sentences table; a
sentence is *annotated* when at least one such annotation exists. A *human span* is any
annotator's ``cues`` span of a label; spans of the same sentence and label that overlap (across
or within annotators) are merged into one, so three annotators marking the same words give one
human span. A suggestion is *matched* when it overlaps a human span of its label; a human span is
*found* by a rule when one of the rule's suggestions overlaps it. ``precision = matched /
suggested`` and ``recall = found / human_spans`` (NaN when the denominator is 0). Suggestions are
counted after overlap resolution, i.e. as annotators see them (``annotate.ingest.cues.suggest``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from annotate.columns import METRIC_COLUMNS
from annotate.errors import ExportError
from annotate.ingest.cues import CUES_FIELD, TOTAL, Rules, suggest

__all__ = ["METRIC_COLUMNS", "suggestion_metrics"]


def _check_tables(annotations: object, sentences: object) -> None:
    for name, table, columns, what in (
        (
            "annotations",
            annotations,
            ("sentence_id", "field", "label", "start", "end"),
            "annotations.parquet",
        ),
        ("sentences", sentences, ("sentence_id", "text"), "sentences.parquet"),
    ):
        if not isinstance(table, pd.DataFrame):
            raise ExportError(
                f"{name} must be a pandas DataFrame, got {type(table).__name__}; "
                f"pass the {name} table ({what}) written by pull"
            )
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ExportError(
                f"{name} table is missing column(s) {', '.join(missing)}; "
                f"pass the {name} table ({what}) written by pull"
            )


def _flag(table: pd.DataFrame, column: str) -> np.ndarray:
    if column not in table.columns:
        return np.zeros(len(table), dtype=bool)
    return table[column].fillna(False).to_numpy(dtype=bool)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans merged into one (spans that only touch stay apart)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def suggestion_metrics(annotations: pd.DataFrame, sentences: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Each rule's precision and recall against the human cue spans (``suggestions.csv``).

    One row per rule (file order), then a total row per label (``rule == "all"``; ``found`` counts
    human spans found by any rule of the label) and an overall row (``rule == label == "all"``).
    Columns: ``METRIC_COLUMNS``. Definitions are in the module docstring.
    """
    _check_tables(annotations, sentences)
    texts = (
        sentences.loc[sentences["text"].notna(), ["sentence_id", "text"]]
        .drop_duplicates("sentence_id")
        .set_index("sentence_id")["text"]
    )
    counted = annotations.loc[
        ~_flag(annotations, "cancelled")
        & ~_flag(annotations, "ground_truth")
        & annotations["sentence_id"].isin(texts.index).to_numpy(dtype=bool)
    ]
    annotated = list(dict.fromkeys(counted["sentence_id"]))
    cues = counted.loc[
        (counted["field"] == CUES_FIELD).fillna(False).to_numpy(dtype=bool)
        & counted["label"].notna().to_numpy(dtype=bool)
    ]
    start = pd.to_numeric(cues["start"], errors="coerce")
    end = pd.to_numeric(cues["end"], errors="coerce")
    placed = (start.notna() & end.notna() & (start >= 0) & (end > start)).to_numpy(dtype=bool)
    raw: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for sid, label, a, b in zip(
        cues["sentence_id"][placed], cues["label"][placed], start[placed], end[placed], strict=True
    ):
        raw.setdefault((str(sid), str(label)), []).append((int(a), int(b)))
    human = {key: _merge(spans) for key, spans in raw.items()}

    n_rules = len(rules.rules)
    suggested = [0] * n_rules
    matched = [0] * n_rules
    found: list[set[tuple[str, str, int]]] = [set() for _ in range(n_rules)]
    order = {rule.id: i for i, rule in enumerate(rules.rules)}
    for sid in annotated:
        for s in suggest(str(texts[sid]), rules):
            i = order[s.rule]
            suggested[i] += 1
            spans = human.get((str(sid), s.label), [])
            hits = [k for k, (a, b) in enumerate(spans) if a < s.end and s.start < b]
            if hits:
                matched[i] += 1
                found[i].update((str(sid), s.label, k) for k in hits)

    human_count: dict[str, int] = {}
    for (_, label), spans in human.items():
        human_count[label] = human_count.get(label, 0) + len(spans)
    labels = rules.labels() + sorted(set(human_count) - set(rules.labels()))
    rows: list[tuple[str, str, int, int, int, int]] = []
    for i, rule in enumerate(rules.rules):
        rows.append(
            (rule.id, rule.label, suggested[i], matched[i], human_count.get(rule.label, 0), len(found[i]))
        )
    for label in labels:
        members = [i for i, rule in enumerate(rules.rules) if rule.label == label]
        union = set().union(*(found[i] for i in members)) if members else set()
        rows.append(
            (
                TOTAL,
                label,
                sum(suggested[i] for i in members),
                sum(matched[i] for i in members),
                human_count.get(label, 0),
                len(union),
            )
        )
    table = pd.DataFrame.from_records(rows, columns=METRIC_COLUMNS[:6])
    overall = table.iloc[n_rules:, 2:6].sum()
    table.loc[len(table)] = [TOTAL, TOTAL, *overall.tolist()]
    for column in METRIC_COLUMNS[2:6]:
        table[column] = table[column].astype("int64")
    table["precision"] = table["matched"] / table["suggested"].where(table["suggested"] > 0)
    table["recall"] = table["found"] / table["human_spans"].where(table["human_spans"] > 0)
    return table.astype({"precision": "float64", "recall": "float64"})

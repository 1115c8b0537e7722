"""Gold sentences: sentences with known labels, mixed into the stream to measure annotators.

A gold file (``gold:`` in the config, a path relative to the config file) is a
CSV, TSV or JSONL table with one sentence per row:

- ``text`` (required): the sentence;
- one column per choice field to check, named as the field (``stance_china``,
  ``sentence_type``, …): the expected label, or empty when that field is not checked;
- optional ``doc_id``, ``title``, ``context_before``, ``context_after``,
  ``sentence_number``, ``sentence_count``, so a gold task looks like any other.

Each gold sentence becomes a task carrying a Label Studio ground-truth
annotation with the expected labels. Its per-task overlap is raised so that
every annotator meets it; annotators see it like any other sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from annotate import TASK_SCHEMA_VERSION, __version__
from annotate.config import ProjectConfig
from annotate.errors import InputError
from annotate.ingest.segment import detect_language, sentence_id

#: Per-task overlap of gold tasks: high enough that every annotator is served them.
GOLD_OVERLAP = 1000
_OPTIONAL = ("doc_id", "title", "context_before", "context_after", "sentence_number", "sentence_count")


@dataclass(frozen=True)
class GoldSentence:
    """One gold sentence and its expected labels (field -> label)."""

    sentence_id: str
    doc_id: str
    text: str
    expected: dict[str, str]
    extra: dict[str, str]


def gold_path(config: ProjectConfig, config_path: Path | None) -> Path | None:
    """The gold file named by the config, resolved against the config file's folder."""
    if not config.gold:
        return None
    path = Path(config.gold).expanduser()
    if not path.is_absolute() and config_path is not None:
        path = config_path.parent / path
    return path


def read_gold(path: Path, config: ProjectConfig) -> list[GoldSentence]:
    """Read and check a gold file against the config; InputError names the row and column."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            table = pd.read_json(path, lines=True, dtype=False)
        elif suffix in (".csv", ".tsv"):
            table = pd.read_csv(
                path,
                sep="\t" if suffix == ".tsv" else ",",
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
            )
        else:
            raise InputError(f"{path}: gold file must be .csv, .tsv or .jsonl")
    except FileNotFoundError:
        raise InputError(f"{path}: gold file not found (named by 'gold' in the config)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the gold file ({str(exc).splitlines()[0]})") from None
    fields = config.choice_fields()
    columns = [str(c) for c in table.columns]
    if "text" not in columns:
        raise InputError(f"{path}: gold file needs a 'text' column (found: {', '.join(columns) or 'none'})")
    unknown = [c for c in columns if c != "text" and c not in fields and c not in _OPTIONAL]
    if unknown:
        raise InputError(
            f"{path}: unknown gold column(s) {', '.join(unknown)}; "
            f"use text, {', '.join(fields)} or {', '.join(_OPTIONAL)}"
        )
    checked = [c for c in columns if c in fields]
    if not checked:
        raise InputError(f"{path}: gold file has no expected-label column (one of {', '.join(fields)})")
    items: list[GoldSentence] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(table.to_dict("records"), start=1):
        text = str(row.get("text") or "").strip()
        if not text:
            raise InputError(f"{path}: row {i}: empty text")
        expected: dict[str, str] = {}
        for field in checked:
            value = row.get(field)
            if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
                continue
            label = str(value).strip()
            if label not in fields[field]:
                raise InputError(
                    f"{path}: row {i}: {field} = {label!r} is not one of {', '.join(fields[field])}"
                )
            expected[field] = label
        if not expected:
            raise InputError(f"{path}: row {i}: no expected label given")
        doc_id = str(row.get("doc_id") or f"{path.stem}-{i}")
        key = f"{doc_id}\x1f{text}"
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        extra = {k: str(row[k]) for k in _OPTIONAL[1:] if k in row and str(row[k]).strip() not in ("", "nan")}
        items.append(GoldSentence(sentence_id(doc_id, text, occurrence), doc_id, text, expected, extra))
    return items


def gold_result(expected: Mapping[str, str]) -> list[dict[str, Any]]:
    """A Label Studio annotation result choosing the expected labels."""
    return [
        {"from_name": field, "to_name": "sentence", "type": "choices", "value": {"choices": [label]}}
        for field, label in expected.items()
    ]


def gold_tasks(items: Sequence[GoldSentence]) -> list[dict[str, Any]]:
    """Tasks for gold sentences, shaped like ordinary ones, each with a ground-truth annotation."""
    tasks = []
    for item in items:
        number = int(item.extra.get("sentence_number", "1"))
        data: dict[str, Any] = {
            "text": item.text,
            "sentence_id": item.sentence_id,
            "doc_id": item.doc_id,
            "sentence_index": number - 1,
            "sentence_number": number,
            "sentence_count": int(item.extra.get("sentence_count", str(number))),
            "paragraph": 0,
            "start": 0,
            "end": len(item.text),
            "language": detect_language(item.text),
            "context_before": item.extra.get("context_before", ""),
            "context_after": item.extra.get("context_after", ""),
            "title": item.extra.get("title", ""),
            "outlet": "",
            "country": "",
            "published": "",
            "url": "",
            "metadata": {},
            "schema_version": TASK_SCHEMA_VERSION,
            "annotate_version": __version__,
        }
        tasks.append(
            {"data": data, "annotations": [{"result": gold_result(item.expected), "ground_truth": True}]}
        )
    return tasks


def interleave(tasks: list[dict[str, Any]], gold: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spread gold tasks evenly through ``tasks`` (deterministically), so they come mixed in the stream."""
    if not gold:
        return list(tasks)
    if not tasks:
        return list(gold)
    step = len(tasks) / (len(gold) + 1)
    out: list[dict[str, Any]] = []
    g = 0
    for i, task in enumerate(tasks):
        while g < len(gold) and i >= round(step * (g + 1)):
            out.append(gold[g])
            g += 1
        out.append(task)
    out.extend(gold[g:])
    return out

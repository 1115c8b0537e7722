"""The facts ``annotate status`` keeps between runs, as columns, and their cache file.

A ``FactTable`` holds one row per task (id, superseded, in the audit sample) and one row per
annotation (its task, id, user id or none, skipped, ground truth, ``created_at`` in epoch seconds
or none) in NumPy arrays, so a campaign of 100,000 tasks is read, merged with the tasks that
changed, counted and written back in a few tens of milliseconds instead of a second of Python
objects. Tasks are kept sorted by id; an annotation's task is always one of them.

The file is an uncompressed NumPy ``.npz`` (no pickles), written atomically, with a JSON header
(format version, server address, project id and creation time, watermark): a file with another
header, or damaged in any way, reads as no cache and is rebuilt.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from annotate.files import atomic_path
from annotate.studio.client import parse_time

__all__ = ["CACHE_VERSION", "Facts", "FactTable", "Record", "load_cache", "save_cache"]

#: Bumped whenever the file's layout or meaning changes (3 was the JSON cache).
CACHE_VERSION = 4

# One annotation: id, user id (or None), skipped, ground truth, created_at (epoch seconds, or None).
Record = tuple[int, int | None, bool, bool, float | None]
# One task: superseded (no longer served, see annotate.studio.push), its annotations, and whether
# it is in the audit sample (annotate.ingest.audit).
Facts = tuple[bool, list[Record], bool]

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class FactTable:
    """Tasks (``task_id`` sorted and unique, ``superseded``, ``audit``) and their annotations
    (``task``, ``annotation``, ``user`` where ``has_user``, else 0, ``cancelled``, ``ground_truth``,
    ``created``: NaN where unknown)."""

    task_id: Ints
    superseded: Bools
    audit: Bools
    task: Ints
    annotation: Ints
    user: Ints
    has_user: Bools
    cancelled: Bools
    ground_truth: Bools
    created: Floats

    def __len__(self) -> int:
        return len(self.task_id)

    @property
    def records(self) -> int:
        return len(self.task)

    @classmethod
    def from_facts(cls, tasks: Mapping[int, Facts]) -> FactTable:
        ids = sorted(tasks)
        facts = [tasks[tid] for tid in ids]
        lists = [f[1] for f in facts]
        # one column at a time: a tuple per annotation would cost more than the columns themselves
        users = [r[1] for records in lists for r in records]
        created = [r[4] for records in lists for r in records]
        task_id = np.array(ids, dtype=np.int64)
        return cls(
            task_id=task_id,
            superseded=np.array([f[0] for f in facts], dtype=bool),
            audit=np.array([f[2] for f in facts], dtype=bool),
            task=np.repeat(task_id, [len(records) for records in lists]),
            annotation=np.array([r[0] for records in lists for r in records], dtype=np.int64),
            user=np.array([0 if u is None else u for u in users], dtype=np.int64),
            has_user=np.array([u is not None for u in users], dtype=bool),
            cancelled=np.array([r[2] for records in lists for r in records], dtype=bool),
            ground_truth=np.array([r[3] for records in lists for r in records], dtype=bool),
            created=np.array([np.nan if c is None else c for c in created], dtype=np.float64),
        )

    def facts(self) -> dict[int, Facts]:
        """Back to one ``Facts`` per task, annotations in their stored order (tests, debugging)."""
        out: dict[int, Facts] = {
            int(tid): (bool(s), [], bool(a))
            for tid, s, a in zip(self.task_id, self.superseded, self.audit, strict=True)
        }
        for i in range(self.records):
            created = float(self.created[i])
            out[int(self.task[i])][1].append(
                (
                    int(self.annotation[i]),
                    int(self.user[i]) if self.has_user[i] else None,
                    bool(self.cancelled[i]),
                    bool(self.ground_truth[i]),
                    None if np.isnan(created) else created,
                )
            )
        return out

    def equals(self, other: FactTable) -> bool:
        return all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name), equal_nan=f.name == "created")
            for f in fields(self)
        )

    def task_rows(self) -> Ints:
        """Each annotation's row in the task columns."""
        return np.searchsorted(self.task_id, self.task).astype(np.int64, copy=False)

    def merge(self, fresh: Mapping[int, Facts]) -> FactTable:
        """These tasks as read again (replacing their cached rows, annotations included), the rest kept."""
        if not fresh:
            return self
        new = FactTable.from_facts(fresh)
        keep = ~np.isin(self.task_id, new.task_id)
        keep_rec = ~np.isin(self.task, new.task_id)
        task_id = np.concatenate([self.task_id[keep], new.task_id])
        order = np.argsort(task_id, kind="stable")
        rec = np.concatenate([self.task[keep_rec], new.task])
        rec_order = np.argsort(rec, kind="stable")

        def tasks(name: str) -> Any:
            return np.concatenate([getattr(self, name)[keep], getattr(new, name)])[order]

        def records(name: str) -> Any:
            return np.concatenate([getattr(self, name)[keep_rec], getattr(new, name)])[rec_order]

        return FactTable(
            task_id=task_id[order],
            superseded=tasks("superseded"),
            audit=tasks("audit"),
            task=rec[rec_order],
            **{name: records(name) for name in _RECORD_COLUMNS[1:]},
        )

    def keep(self, alive: Iterable[int]) -> FactTable:
        """Only the tasks whose ids are in ``alive`` (and their annotations)."""
        ids = np.fromiter(alive, dtype=np.int64)
        keep = np.isin(self.task_id, ids)
        if keep.all():
            return self
        keep_rec = np.isin(self.task, self.task_id[keep])
        return FactTable(
            **{name: getattr(self, name)[keep] for name in _TASK_COLUMNS},
            **{name: getattr(self, name)[keep_rec] for name in _RECORD_COLUMNS},
        )


_TASK_COLUMNS = {"task_id": np.int64, "superseded": np.bool_, "audit": np.bool_}
_RECORD_COLUMNS_DTYPES = {
    "task": np.int64,
    "annotation": np.int64,
    "user": np.int64,
    "has_user": np.bool_,
    "cancelled": np.bool_,
    "ground_truth": np.bool_,
    "created": np.float64,
}
_RECORD_COLUMNS = list(_RECORD_COLUMNS_DTYPES)
_HEADER = "header"


def _header(url: str, project: dict[str, Any], watermark: datetime | None) -> dict[str, Any]:
    return {
        "version": CACHE_VERSION,
        "url": url,
        "project_id": project["id"],
        "project_created_at": project.get("created_at"),
        "watermark": watermark.isoformat() if watermark else None,
    }


def save_cache(path: Path, url: str, project: dict[str, Any], watermark: datetime, table: FactTable) -> None:
    """Write ``table`` with its header to ``path``, atomically (readers never see half a file)."""
    header = json.dumps(_header(url, project, watermark)).encode("utf-8")
    arrays: dict[str, Any] = {_HEADER: np.frombuffer(header, dtype=np.uint8)}
    arrays.update((name, getattr(table, name)) for name in (*_TASK_COLUMNS, *_RECORD_COLUMNS))
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **arrays)


def load_cache(path: Path, url: str, project: dict[str, Any]) -> tuple[datetime, FactTable] | None:
    """The watermark and table of ``path``; None when it is missing, damaged, of another format
    version, server or project, or inconsistent."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data[_HEADER]).decode("utf-8"))
            if not isinstance(header, dict) or {**header, "watermark": None} != _header(url, project, None):
                return None
            columns = {name: data[name] for name in (*_TASK_COLUMNS, *_RECORD_COLUMNS)}
        watermark = parse_time(header.get("watermark"))
    except Exception:  # a damaged file raises any of zipfile's, numpy's, json's, datetime's or OS errors
        return None
    if watermark is None or not _consistent(columns):
        return None
    return watermark, FactTable(**columns)


def _consistent(columns: dict[str, np.ndarray]) -> bool:
    """Right dtypes and lengths, tasks sorted and unique, every annotation's task among them."""
    for names, kinds in ((_TASK_COLUMNS, _TASK_COLUMNS), (_RECORD_COLUMNS, _RECORD_COLUMNS_DTYPES)):
        arrays = [columns[name] for name in names]
        if any(a.ndim != 1 or a.dtype != np.dtype(kinds[n]) for a, n in zip(arrays, names, strict=True)):
            return False
        if len({len(a) for a in arrays}) != 1:
            return False
    ids, task = columns["task_id"], columns["task"]
    if len(ids) > 1 and not bool((np.diff(ids) > 0).all()):
        return False
    if len(task) == 0:
        return True
    if len(ids) == 0:
        return False
    rows = np.minimum(np.searchsorted(ids, task), len(ids) - 1)
    return bool((ids[rows] == task).all())

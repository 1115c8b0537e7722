"""The local record of what ``annotate push`` sent to a project, so a re-push need not list it.

Listing 20,000 tasks through Label Studio's API takes about 20 s; a re-push of unchanged
articles should take about as long as reading them. After each push the tool keeps, per
server and project, in ``<cache_dir>/<key>.json`` (``$ANNOTATE_CACHE_DIR/push`` or the user
cache folder):

- ``articles``: doc_id -> SHA-256 of everything in the article that shapes its tasks (text,
  title, metadata, language);
- ``sentences``: sentence_id -> task id and doc_id for every task of the project, as three
  columns (``SentenceTasks``);
- ``shape``: SHA-256 of what else shapes the tasks (the config's context, blinding and
  paragraph settings, the gold set, the cue rules' version, the task schema and the tool's
  version);
- what the project looked like when the push ended: its ``created_at``, task count, highest
  task id and the push stamp that push wrote into the project's description.

A push trusts the record only when all of these still match the server (two cheap requests):
another machine's push changes the stamp, an import or a deletion the count or the highest
id. Then only the articles whose digest changed are split and compared with their own tasks,
fetched by id. Anything else (no record, a mismatch, a changed config, ``push --full``)
falls back to listing every task.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from annotate import TASK_SCHEMA_VERSION, __version__
from annotate.cache import cache_root
from annotate.config import ProjectConfig
from annotate.files import read_json, write_text
from annotate.ingest.articles import Article

VERSION = 2  # 2: the sentences as columns


def default_cache_dir() -> Path:
    """``$ANNOTATE_CACHE_DIR/push``, else ``push`` in annotate's user cache folder."""
    return cache_root() / "push"


def _sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_digest(article: Article) -> str:
    """SHA-256 (hex) of the article fields that end up in its tasks."""
    return _sha(
        [
            article.doc_id,
            article.text,
            article.title,
            article.outlet,
            article.country,
            article.published,
            article.url,
            article.language,
            article.metadata,
        ]
    )


def shape_digest(
    config: ProjectConfig, gold: list[dict[str, Any]], rules_version: str | None, key_id: str | None = None
) -> str:
    """SHA-256 (hex) of what, besides the articles, decides the tasks a push sends or compares
    (``key_id``: the fingerprint of the blinding key that seals blinded documents, if any)."""
    shape: list[Any] = [
        config.name,
        config.context,
        list(config.blind),
        config.show_paragraph,
        config.overlap,
        gold,
        rules_version,
        TASK_SCHEMA_VERSION,
        __version__,
    ]
    return _sha(shape if key_id is None else [*shape, key_id])


class SentenceTasks:
    """sentence_id -> (task id, doc_id) for the tasks of a project, held as columns.

    A push adds each imported batch (``add``); an id added again maps to its latest task, as in
    a dict. The ids are kept as NumPy string arrays and the task ids and documents as integer
    arrays, a few allocations per batch, not objects per sentence: as a dict, a push of 100,000
    sentences kept about 1.1 KB per sentence (small objects allocated among each batch's
    short-lived tasks keep the allocator's pages from being reused), as columns about 100 bytes.
    """

    def __init__(self) -> None:
        self._parts: list[tuple[npt.NDArray[np.str_], npt.NDArray[np.int64], npt.NDArray[np.int32]]] = []
        self._docs: list[str | None] = []  # document code -> doc_id
        self._code: dict[str | None, int] = {}
        self._merged: tuple[npt.NDArray[np.str_], npt.NDArray[np.int64], npt.NDArray[np.int32]] | None = None

    @classmethod
    def of(cls, mapping: dict[str, tuple[int, str | None]]) -> SentenceTasks:
        """The columns of a ``{sentence_id: (task id, doc_id)}`` mapping."""
        out = cls()
        out.add(list(mapping), [t for t, _ in mapping.values()], [d for _, d in mapping.values()])
        return out

    def add(self, sentence_ids: Sequence[str], task_ids: Sequence[int], docs: Sequence[str | None]) -> None:
        """Map each of ``sentence_ids`` to its task id and doc_id (the same lengths)."""
        if not (len(sentence_ids) == len(task_ids) == len(docs)):
            raise ValueError("sentence ids, task ids and documents differ in length")
        if not sentence_ids:
            return
        codes = np.fromiter((self._doc(d) for d in docs), dtype=np.int32, count=len(docs))
        self._parts.append(
            (np.array(sentence_ids, dtype=np.str_), np.asarray(task_ids, dtype=np.int64), codes)
        )
        self._merged = None

    def _doc(self, doc: str | None) -> int:
        code = self._code.get(doc)
        if code is None:
            code = self._code[doc] = len(self._docs)
            self._docs.append(doc)
        return code

    def _columns(self) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """The columns with each id once (its latest task), in the order the ids were first added."""
        if self._merged is None:
            if not self._parts:
                self._merged = (np.array([], dtype=np.str_), np.array([], np.int64), np.array([], np.int32))
            else:
                sids = np.concatenate([p[0] for p in self._parts])
                tids = np.concatenate([p[1] for p in self._parts])
                codes = np.concatenate([p[2] for p in self._parts])
                _, first = np.unique(sids, return_index=True)
                if len(first) < len(sids):  # an id added again: its latest task, at its first place
                    _, last = np.unique(sids[::-1], return_index=True)
                    last = len(sids) - 1 - last
                    order = np.argsort(first, kind="stable")
                    keep_at, take = first[order], last[order]
                    sids, tids, codes = sids[keep_at], tids[take], codes[take]
                self._merged = (sids, tids, codes)
            self._parts = [self._merged] if len(self._merged[0]) else []
        return self._merged

    def __len__(self) -> int:
        return len(self._columns()[0])

    def _of(self, docs: Collection[str | None] | None) -> npt.NDArray[np.bool_]:
        codes = self._columns()[2]
        if docs is None:
            return np.ones(len(codes), dtype=bool)
        wanted = [self._code[d] for d in docs if d in self._code]
        return np.isin(codes, np.array(wanted, dtype=np.int32))

    def task_ids(self, docs: Collection[str | None] | None = None) -> list[int]:
        """The task ids (of the sentences of ``docs``, when given)."""
        return self._columns()[1][self._of(docs)].tolist()

    def sentence_ids(self, docs: Collection[str | None] | None = None) -> list[str]:
        """The sentence ids (of ``docs``, when given)."""
        return self._columns()[0][self._of(docs)].tolist()

    def as_dict(self) -> dict[str, tuple[int, str | None]]:
        """``{sentence_id: (task id, doc_id)}``."""
        sids, tids, codes = self._columns()
        return {
            s: (t, self._docs[c])
            for s, t, c in zip(sids.tolist(), tids.tolist(), codes.tolist(), strict=True)
        }

    def to_json(self) -> dict[str, Any]:
        sids, tids, codes = self._columns()
        return {"ids": sids.tolist(), "tasks": tids.tolist(), "docs": self._docs, "doc_of": codes.tolist()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SentenceTasks:
        """The columns ``to_json`` wrote; ValueError, TypeError or KeyError when they are not that."""
        docs = [None if d is None else str(d) for d in data["docs"]]
        codes = np.asarray(data["doc_of"], dtype=np.int32)
        if len(codes) and (codes.min() < 0 or codes.max() >= len(docs)):
            raise ValueError("document code out of range")
        out = cls()
        out.add([str(s) for s in data["ids"]], data["tasks"], [docs[c] for c in codes.tolist()])
        return out


@dataclass
class PushManifest:
    """What the tool last pushed to one project (see the module docstring)."""

    url: str
    project_id: int
    project_created_at: str | None
    shape: str
    task_number: int = 0
    max_task_id: int = 0
    stamp: str = ""
    articles: dict[str, str] = field(default_factory=dict)
    sentences: SentenceTasks = field(default_factory=SentenceTasks)

    def matches(self, shape: str, task_number: int, max_task_id: int, stamp: str) -> bool:
        """Does the record still describe the project (as the server reports it now)?"""
        return (
            self.shape == shape
            and self.task_number == task_number
            and self.max_task_id == max_task_id
            and self.stamp == stamp
            and len(self.sentences) <= task_number
        )

    def add_tasks(self, tasks: Iterable[dict[str, Any]], ids: Iterable[int]) -> None:
        """Record imported tasks (payloads with ``data.sentence_id``) under their new ids."""
        sids: list[str] = []
        tids: list[int] = []
        docs: list[str | None] = []
        for task, task_id in zip(tasks, ids, strict=True):
            data = task.get("data") or {}
            sid = data.get("sentence_id")
            if sid is not None:
                doc = data.get("doc_id")
                sids.append(str(sid))
                tids.append(int(task_id))
                docs.append(None if doc is None else str(doc))
            self.task_number += 1
            self.max_task_id = max(self.max_task_id, int(task_id))
        self.sentences.add(sids, tids, docs)


def manifest_path(cache_dir: Path, url: str, project_id: int, created_at: str | None) -> Path:
    key = f"{url}|{project_id}|{created_at}"
    return cache_dir / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:20]}.json"


def load(cache_dir: Path, url: str, project: dict[str, Any]) -> PushManifest | None:
    """The record for ``project`` on the server at ``url``, or None (none, unreadable, stale format)."""
    pid, created = int(project["id"]), project.get("created_at")
    data = read_json(manifest_path(cache_dir, url, pid, created))
    if not data or data.get("version") != VERSION or data.get("url") != url or data.get("project_id") != pid:
        return None
    if data.get("project_created_at") != created:
        return None
    try:
        return PushManifest(
            url=url,
            project_id=pid,
            project_created_at=created,
            shape=str(data["shape"]),
            task_number=int(data["task_number"]),
            max_task_id=int(data["max_task_id"]),
            stamp=str(data["stamp"]),
            articles={str(k): str(v) for k, v in data["articles"].items()},
            sentences=SentenceTasks.from_json(data["sentences"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError):
        return None


def save(cache_dir: Path, manifest: PushManifest) -> Path:
    """Write the record atomically; returns its path."""
    path = manifest_path(cache_dir, manifest.url, manifest.project_id, manifest.project_created_at)
    data = {
        "version": VERSION,
        "url": manifest.url,
        "project_id": manifest.project_id,
        "project_created_at": manifest.project_created_at,
        "shape": manifest.shape,
        "task_number": manifest.task_number,
        "max_task_id": manifest.max_task_id,
        "stamp": manifest.stamp,
        "articles": manifest.articles,
        "sentences": manifest.sentences.to_json(),
    }
    return write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False), path)


def forget(cache_dir: Path, url: str, project: dict[str, Any]) -> None:
    """Drop the record (a push that failed half-way must not leave a record that looks current)."""
    manifest_path(cache_dir, url, int(project["id"]), project.get("created_at")).unlink(missing_ok=True)

"""The local record of what ``annotate push`` sent to a project, so a re-push need not list it.

Listing 20,000 tasks through Label Studio's API takes about 20 s; a re-push of unchanged
articles should take about as long as reading them. After each push the tool keeps, per
server and project, in ``<cache_dir>/<key>.json`` (``$ANNOTATE_CACHE_DIR/push`` or the user
cache folder):

- ``articles``: doc_id -> SHA-256 of everything in the article that shapes its tasks (text,
  title, metadata, language);
- ``sentences``: sentence_id -> ``[task id, doc_id]`` for every task of the project;
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotate import TASK_SCHEMA_VERSION, __version__
from annotate.cache import cache_root
from annotate.config import ProjectConfig
from annotate.files import read_json, write_text
from annotate.ingest.articles import Article

VERSION = 1


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
    sentences: dict[str, tuple[int, str | None]] = field(default_factory=dict)

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
        for task, task_id in zip(tasks, ids, strict=True):
            data = task.get("data") or {}
            sid = data.get("sentence_id")
            if sid is not None:
                doc = data.get("doc_id")
                self.sentences[str(sid)] = (int(task_id), None if doc is None else str(doc))
            self.task_number += 1
            self.max_task_id = max(self.max_task_id, int(task_id))


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
            sentences={str(k): (int(v[0]), v[1]) for k, v in data["sentences"].items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
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
        "sentences": {sid: list(v) for sid, v in manifest.sentences.items()},
    }
    return write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False), path)


def forget(cache_dir: Path, url: str, project: dict[str, Any]) -> None:
    """Drop the record (a push that failed half-way must not leave a record that looks current)."""
    manifest_path(cache_dir, url, int(project["id"]), project.get("created_at")).unlink(missing_ok=True)

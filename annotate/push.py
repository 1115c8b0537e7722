"""Push articles to Label Studio: ingest, split, create or update the project, import new sentences.

Everything that can fail on the user's input (reading, splitting, the config)
happens before the first request to the server, so a bad batch pushes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotate import TASK_SCHEMA_VERSION, __version__
from annotate.config import ProjectConfig
from annotate.gold import GOLD_OVERLAP, gold_path, gold_tasks, interleave, read_gold
from annotate.ingest import Article, read_articles
from annotate.interface import build_label_config
from annotate.segment import Sentence, split_article
from annotate.studio import Studio

BATCH_SIZE = 1000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PushResult:
    """What a push did. Times in seconds."""

    project_id: int
    project_url: str
    created: bool  # the project was created by this push
    updated: bool  # an existing project's settings or interface were changed
    articles: int
    sentences: int
    imported: int
    already_present: int
    seconds: float


def task_payloads(article: Article, sentences: Sequence[Sentence], context: int) -> list[dict[str, Any]]:
    """Label Studio task data for each sentence of one article.

    Keys: ``text``, ``sentence_id``, ``doc_id``, ``sentence_index`` (0-based),
    ``sentence_number`` (1-based), ``sentence_count``, ``paragraph``, ``start``/``end``
    (offsets into the article), ``context_before``/``context_after`` (``context``
    neighbouring sentences of the same article, joined by spaces), ``title``,
    the article's metadata and ``schema_version``.
    """
    count = len(sentences)
    meta = {
        "title": article.title or "",
        "outlet": article.outlet or "",
        "country": article.country or "",
        "published": article.published or "",
        "url": article.url or "",
    }
    tasks = []
    for i, sent in enumerate(sentences):
        before = " ".join(s.text for s in sentences[max(0, i - context) : i])
        after = " ".join(s.text for s in sentences[i + 1 : i + 1 + context])
        data: dict[str, Any] = {
            "text": sent.text,
            "sentence_id": sent.sentence_id,
            "doc_id": sent.doc_id,
            "sentence_index": sent.index,
            "sentence_number": sent.index + 1,
            "sentence_count": count,
            "paragraph": sent.paragraph,
            "start": sent.start,
            "end": sent.end,
            "language": sent.language,
            "context_before": before,
            "context_after": after,
            **meta,
            "metadata": dict(article.metadata),
            "schema_version": TASK_SCHEMA_VERSION,
            "annotate_version": __version__,
        }
        tasks.append({"data": data})
    return tasks


@dataclass(frozen=True)
class Prepared:
    """Articles read and split, ready to push: one task per sentence in document order,
    with the config's gold sentences (if any) spread evenly among them."""

    articles: list[Article]
    tasks: list[dict[str, Any]]
    gold: int = 0


def prepare(paths: Sequence[str | Path], config: ProjectConfig, config_path: Path | None = None) -> Prepared:
    """Read and split every article (and the gold file); raises InputError before anything is sent.

    ``config_path`` resolves a relative ``gold`` path; without it, against the working directory.
    """
    articles = read_articles(paths)
    tasks: list[dict[str, Any]] = []
    for article in articles:
        tasks.extend(task_payloads(article, split_article(article), config.context))
    path = gold_path(config, config_path)
    golden = gold_tasks(read_gold(path, config)) if path is not None else []
    return Prepared(articles, interleave(tasks, golden), len(golden))


def project_fields(config: ProjectConfig) -> dict[str, Any]:
    """The Label Studio project settings the config determines."""
    return {
        "title": config.display_title()[:50],
        "label_config": build_label_config(config),
        "maximum_annotations": config.overlap,
        "sampling": "Sequential sampling",
        "show_skip_button": True,
        "enable_empty_annotation": False,
        "show_annotation_history": False,
    }


def push(
    articles: Prepared | Sequence[str | Path],
    config: ProjectConfig,
    studio: Studio,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> PushResult:
    """Create or update the project named ``config.name`` and import the sentences it lacks.

    ``articles`` are file paths, or the result of ``prepare`` on them.
    A sentence is identified by its ``sentence_id``; those already in the
    project are not imported again, so pushing the same articles twice imports
    nothing the second time.
    """
    began = time.perf_counter()
    prepared = articles if isinstance(articles, Prepared) else prepare(articles, config)
    tasks = prepared.tasks
    fields = project_fields(config)

    project = studio.find_project(config.name)
    created = project is None
    changed: dict[str, Any] = {}
    if project is None:
        studio.validate_label_config(fields["label_config"])
        project = studio.create_project(config.name, fields)
        existing: dict[str, int] = {}
    else:
        changed = {k: v for k, v in fields.items() if project.get(k) != v}
        if changed:
            studio.update_project(int(project["id"]), config.name, changed)
        existing = studio.sentence_task_ids(int(project["id"]))
    pid = int(project["id"])

    seen = set(existing)
    new_tasks = []
    for task in tasks:
        sid = task["data"]["sentence_id"]
        if sid not in seen:
            seen.add(sid)
            new_tasks.append(task)

    imported = 0
    if progress:
        progress(0, len(new_tasks))
    for i in range(0, len(new_tasks), batch_size):
        batch = new_tasks[i : i + batch_size]
        ids = studio.import_tasks(pid, batch)
        # gold tasks must reach every annotator: raise their overlap before anyone labels them
        for task, task_id in zip(batch, ids, strict=True):
            if task.get("annotations"):
                studio.set_task_overlap(task_id, GOLD_OVERLAP)
        imported += len(ids)
        if progress:
            progress(imported, len(new_tasks))
    return PushResult(
        project_id=pid,
        project_url=f"{studio.url}/projects/{pid}/data",
        created=created,
        updated=bool(changed),
        articles=len(prepared.articles),
        sentences=len(tasks),
        imported=imported,
        already_present=len(tasks) - len(new_tasks),
        seconds=time.perf_counter() - began,
    )

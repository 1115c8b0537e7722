"""The Label Studio task of each sentence, built in document order, in a worker process
while a push imports.

``task_payloads`` shapes one article's sentences as tasks (data shown to annotators, blinded
fields in ``meta``); ``article_tasks`` splits articles and adds the cue suggestions;
``TaskStream`` yields them a run of articles at a time, split in one worker process ahead of
the caller (``annotate.studio.push`` imports one run while the next is split), at most
``LOOKAHEAD`` runs ahead so a campaign's tasks never pile up in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from annotate import TASK_SCHEMA_VERSION, __version__
from annotate.config import ProjectConfig
from annotate.ingest import cues
from annotate.ingest.articles import Article
from annotate.ingest.parallel_split import _context
from annotate.ingest.segment import Sentence, split_article
from annotate.keys import ProjectKeys
from annotate.studio.blinding import AUTHOR_KEYS, blind_task, is_blinded
from annotate.studio.client import paused_gc

__all__ = [
    "LOOKAHEAD",
    "PIPELINE_CHARS",
    "RUN_CHARS",
    "TaskStream",
    "article_tasks",
    "split_blinded",
    "task_payloads",
]

#: Characters of articles split at a time (about 500 news sentences).
RUN_CHARS = 75_000
#: Runs the split worker may be ahead of the imports (about 6,000 sentences: more than the
#: largest import request). The worker splits a run in a small fraction of the time Label Studio
#: takes to import it, so a longer lead only holds more tasks in memory (40 runs held 40 MB more
#: at 100,000 sentences, and pushed no faster).
LOOKAHEAD = 12
#: Below this many characters a push splits in its own process; above, in a worker alongside imports.
PIPELINE_CHARS = 50_000


def split_blinded(data: dict[str, Any], blind: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split task data into what annotators may see and the blinded ``meta``."""
    shown = dict(data)
    hidden: dict[str, Any] = {}
    for name in blind:
        if name == "author":
            metadata = dict(shown.get("metadata") or {})
            for key in AUTHOR_KEYS:
                if key in metadata:
                    hidden[key] = metadata.pop(key)
            shown["metadata"] = metadata
        elif name in shown:
            hidden[name] = shown.pop(name)
    return shown, hidden


def task_payloads(
    article: Article,
    sentences: Sequence[Sentence],
    context: int,
    blind: Sequence[str] = (),
    keys: ProjectKeys | None = None,
) -> list[dict[str, Any]]:
    """Label Studio tasks (``{"data": ..., "meta": ...}``) for each sentence of one article.

    Data keys: ``text``, ``sentence_id``, ``doc_id``, ``sentence_index`` (0-based),
    ``sentence_number`` (1-based), ``sentence_count``, ``paragraph``, ``paragraph_text``,
    ``start``/``end`` (offsets into the article), ``context_before``/``context_after``
    (``context`` neighbouring sentences of the same article, joined by spaces), ``title``,
    the article's metadata and ``schema_version``. The fields named in ``blind`` (``outlet``,
    ``country``, ``published``, ``url``; ``author`` = the ``author``/``authors``/``byline``
    metadata) go to ``meta`` instead; with ``keys``, a blinded document's tasks are sealed
    (``annotate.studio.blinding``).
    """
    count = len(sentences)
    sealed = keys is not None and is_blinded(article, blind)
    meta = {
        "title": article.title or "",
        "outlet": article.outlet or "",
        "country": article.country or "",
        "published": article.published or "",
        "url": article.url or "",
    }
    spans: dict[int, tuple[int, int]] = {}
    for sent in sentences:
        low, high = spans.get(sent.paragraph, (sent.start, sent.end))
        spans[sent.paragraph] = (min(low, sent.start), max(high, sent.end))
    tasks = []
    for i, sent in enumerate(sentences):
        before = " ".join(s.text for s in sentences[max(0, i - context) : i])
        after = " ".join(s.text for s in sentences[i + 1 : i + 1 + context])
        low, high = spans[sent.paragraph]
        data: dict[str, Any] = {
            "text": sent.text,
            "sentence_id": sent.sentence_id,
            "doc_id": sent.doc_id,
            "sentence_index": sent.index,
            "sentence_number": sent.index + 1,
            "sentence_count": count,
            "paragraph": sent.paragraph,
            "paragraph_text": article.text[low:high],
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
        shown, hidden = split_blinded(data, blind)
        tasks.append(blind_task(shown, hidden, keys) if sealed and keys else {"data": shown, "meta": hidden})
    return tasks


def article_tasks(
    articles: Sequence[Article], config: ProjectConfig, rules: Any = None
) -> list[dict[str, Any]]:
    """The tasks of ``articles`` (split, shaped by ``config``, with ``rules``' cue suggestions)."""
    tasks: list[dict[str, Any]] = []
    for article in articles:
        tasks.extend(task_payloads(article, split_article(article), config.context, config.blind))
    if rules is not None:
        for task in tasks:
            found = cues.prediction(str(task["data"]["text"]), rules)
            if found is not None:
                task["predictions"] = [found]
    return tasks


_WORKER: tuple[ProjectConfig, Any] | None = None


def _worker_init(config: ProjectConfig, rules: Any) -> None:
    global _WORKER
    _WORKER = (config, rules)


def _worker_tasks(articles: list[Article]) -> list[dict[str, Any]]:
    assert _WORKER is not None
    with paused_gc():
        return article_tasks(articles, *_WORKER)


def _runs(articles: Sequence[Article], chars: int) -> Iterator[list[Article]]:
    """Consecutive runs of articles of about ``chars`` characters each (the first a quarter of
    that, so the first import can start early)."""
    run: list[Article] = []
    size = 0
    limit = chars // 4
    for article in articles:
        run.append(article)
        size += len(article.text)
        if size >= limit:
            yield run
            run, size, limit = [], 0, chars
    if run:
        yield run


class TaskStream:
    """The tasks of ``articles`` in document order, a run of about 500 sentences at a time, as
    ``(articles of the run, their tasks)``.

    Past ``PIPELINE_CHARS`` characters the splitting starts in one worker process as soon as
    the stream is made, and goes on while the caller waits for Label Studio (one worker: the
    server needs the other core), at most ``LOOKAHEAD`` runs ahead of the caller: the worker
    stays ahead of the imports while the tasks held in memory do not grow with the campaign.
    Use as a context manager (the worker stops on exit).
    """

    def __init__(self, articles: Sequence[Article], config: ProjectConfig, rules: Any = None) -> None:
        self.articles = list(articles)
        self.config = config
        self.rules = rules
        self.runs = list(_runs(self.articles, RUN_CHARS))
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[int, Future[list[dict[str, Any]]]] = {}
        self._next = 0
        if sum(len(a.text) for a in self.articles) >= PIPELINE_CHARS:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=_context(), initializer=_worker_init, initargs=(config, rules)
            )
            for i in range(min(LOOKAHEAD, len(self.runs))):
                self._submit(i)

    def _submit(self, i: int) -> None:
        assert self._pool is not None
        self._futures[i] = self._pool.submit(_worker_tasks, self.runs[i])

    def __iter__(self) -> Iterator[tuple[list[Article], list[dict[str, Any]]]]:
        for i, run in enumerate(self.runs):
            self._next = i + 1
            if self._pool is None:
                yield run, article_tasks(run, self.config, self.rules)
                continue
            tasks = self._futures.pop(i).result()  # a done future would keep its tasks alive
            if i + LOOKAHEAD < len(self.runs):
                self._submit(i + LOOKAHEAD)
            yield run, tasks

    def waiting(self) -> bool:
        """Would the next run keep the caller waiting for the worker? (False when splitting in
        this process, or after the last run.)"""
        i = self._next
        future = self._futures.get(i)
        return self._pool is not None and future is not None and not future.done()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> TaskStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Sentence splitting on all cores, with exactly the output of :mod:`annotate.ingest.segment`.

``annotate.ingest.segment.split_text`` treats every line as an independent paragraph, so a text can be
cut into its lines, the lines split in worker processes and the spans put back together: the
result is identical to splitting each text in one process (same sentences, paragraph numbers and
offsets). Work goes to the workers in batches of lines of about ``BATCH_CHARS`` characters, so one
long article keeps every core busy as well as many short ones.

``split_articles`` does the same for whole articles (``split_article``: sentences with their ids),
one article being the unit of work.

Small inputs (under ``MIN_PARALLEL_CHARS``) and ``processes=1`` are split in this process: starting
workers costs more than it saves there.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TypeVar

from annotate.ingest.articles import Article
from annotate.ingest.segment import Sentence, split_article, split_text

Span = tuple[int, int, int]
T = TypeVar("T")

#: Characters of text per batch sent to a worker.
BATCH_CHARS = 64_000
#: Below this many characters in total, splitting stays in the calling process.
MIN_PARALLEL_CHARS = 200_000
# the line breaks of annotate.ingest.segment (everything str.splitlines() treats as one)
_LINE = re.compile(r"[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")


def default_processes() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _context() -> multiprocessing.context.BaseContext:
    # fork shares the loaded pysbd segmenter with the workers; elsewhere spawn is the only choice
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _split_lines(batch: list[tuple[str, str]]) -> list[list[Span]]:
    """Worker: ``split_text`` of each ``(line, language)``."""
    return [split_text(line, language) for line, language in batch]


def _split_article_batch(batch: list[Article]) -> list[list[Sentence]]:
    return [split_article(article) for article in batch]


def _batches(items: Sequence[T], sizes: Sequence[int], limit: int) -> Iterator[list[T]]:
    batch: list[T] = []
    chars = 0
    for item, size in zip(items, sizes, strict=True):
        batch.append(item)
        chars += size
        if chars >= limit:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def split_texts(
    texts: Sequence[str],
    language: str | Sequence[str] = "en",
    processes: int | None = None,
    executor: Executor | None = None,
) -> list[list[Span]]:
    """``[split_text(text, language) for text in texts]``, computed on ``processes`` cores.

    ``language`` is one language for all texts or one per text. ``executor`` reuses a pool
    (a ``ProcessPoolExecutor``) across calls; otherwise one is started and shut down here.
    """
    languages = [language] * len(texts) if isinstance(language, str) else list(language)
    if len(languages) != len(texts):
        raise ValueError(f"{len(languages)} languages for {len(texts)} texts")
    processes = processes or default_processes()
    total = sum(len(t) for t in texts)
    if executor is None and (processes <= 1 or total < MIN_PARALLEL_CHARS):
        return [split_text(text, lang) for text, lang in zip(texts, languages, strict=True)]

    # paragraph pre-split: (text number, line offset) for every line, in order
    where: list[tuple[int, int]] = []
    work: list[tuple[str, str]] = []
    for number, (text, lang) in enumerate(zip(texts, languages, strict=True)):
        for match in _LINE.finditer(text):
            where.append((number, match.start()))
            work.append((match.group(), lang))
    split_text("Warm up. The segmenter.", "en")  # loaded once here, inherited by forked workers
    batches = list(_batches(work, [len(line) for line, _ in work], BATCH_CHARS))
    if executor is None:
        with ProcessPoolExecutor(max_workers=processes, mp_context=_context()) as pool:
            results = list(pool.map(_split_lines, batches))
    else:
        results = list(executor.map(_split_lines, batches))

    out: list[list[Span]] = [[] for _ in texts]
    paragraph = [0] * len(texts)
    line_spans = (spans for batch in results for spans in batch)
    for (number, offset), spans in zip(where, line_spans, strict=True):
        if spans:  # a line gives paragraph 0 of its own; renumber in the text
            p = paragraph[number]
            out[number].extend((p, offset + s, offset + e) for _, s, e in spans)
            paragraph[number] = p + 1
    return out


def split_articles(
    articles: Sequence[Article], processes: int | None = None, executor: Executor | None = None
) -> list[list[Sentence]]:
    """``[split_article(a) for a in articles]`` on ``processes`` cores (errors raise as there)."""
    processes = processes or default_processes()
    total = sum(len(a.text) for a in articles)
    if executor is None and (processes <= 1 or total < MIN_PARALLEL_CHARS):
        return [split_article(a) for a in articles]
    split_text("Warm up. The segmenter.", "en")
    batches = list(_batches(articles, [len(a.text) for a in articles], BATCH_CHARS))
    if executor is None:
        with ProcessPoolExecutor(max_workers=processes, mp_context=_context()) as pool:
            results = list(pool.map(_split_article_batch, batches))
    else:
        results = list(executor.map(_split_article_batch, batches))
    return [sentences for batch in results for sentences in batch]

"""``annotate predict``: the model of ``annotate learn`` applied to corpora that never go to Label Studio.

In: article files in any format ``annotate push`` reads, read by the same reader
(``annotate.ingest.articles.iter_articles``) and split by the same splitter
(``annotate.ingest.segment.split_article``), so a sentence gets the ``sentence_id`` and
``doc_id`` it would get from a push; the model folder ``exports/<name>/model/``
(``annotate.model.store.load_model``, its SHA-256 checked), of which the config's choice fields
with a trained model are applied.

Out: one Parquet file, ``exports/<name>/predictions.parquet`` by default, one row per sentence
in corpus order: the sentence's id, position and text and its article's metadata, then per
field the model's label (column ``<field>``) and its probability of each label of the config
(``<field>:<label>``), then ``model_version`` (``annotate.columns`` documents every column).
The probabilities are ``SentenceClassifier.predict_proba``'s (``annotate.model.batch``
computes them faster, checked against it).

Bad rows: the corpus is read with ``on_bad_row``, so a row the reader refuses (undecodable
bytes, a control character such as U+0080, no text, a doc_id reused with other text, ...) is
skipped and listed, one line each, in ``<out stem>.bad_rows.txt`` beside the output
(``annotate.ingest.bad_rows``); the rest is predicted. Files are not size-limited (they are
streamed).

Memory is bounded by the batch, not the corpus: articles are read one at a time, their
sentences gathered until ``batch_size`` are waiting, those predicted and written as one row
group (``pyarrow.parquet.ParquetWriter``), then dropped. What grows with the corpus is the
reader's duplicate-doc_id check: a 16-byte digest, the id and where it was read, about 300
bytes per article (10 MB for a million sentences in 33,000 articles).

Atomic: the Parquet file is written under a temporary name in the output's folder and renamed
when complete (``annotate.files.atomic_path``); a run that fails or is interrupted leaves no
output and no bad-rows list of its own, and the previous ones untouched.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from annotate.columns import PREDICTED_LABEL, PREDICTED_PROBABILITY, PREDICTION_SENTENCE_COLUMNS
from annotate.config import ProjectConfig
from annotate.errors import InputError
from annotate.files import atomic_path
from annotate.ingest.articles import Article, check_path, iter_articles
from annotate.ingest.bad_rows import BadRowLog, beside
from annotate.ingest.segment import Sentence, split_article
from annotate.memory import keep_freed_memory
from annotate.model.batch import BatchPredictor
from annotate.model.card import ModelCard
from annotate.model.classifier import SentenceClassifier
from annotate.model.store import CARD_FILE, MODEL_FILE, load_model

__all__ = ["DEFAULT_BATCH", "PredictResult", "load_fields", "predict", "prediction_schema"]

#: Sentences predicted and written (one Parquet row group) at a time.
DEFAULT_BATCH = 10_000
#: predict streams its files, so it sets no size limit (the reader needs a positive one).
_NO_LIMIT = 1 << 62
Progress = Callable[[int, int], None]
_AUTHOR_KEYS = ("author", "authors", "byline")  # as annotate pull reads the author


@dataclass(frozen=True)
class PredictResult:
    """What a prediction run did: where the table went, how many sentences (of how many
    articles, in how many row groups), which fields and model, the bad rows skipped and the
    file listing them (``None`` when none was skipped). Times in seconds."""

    out: Path
    sentences: int
    articles: int
    row_groups: int
    fields: list[str]
    model_version: str
    skipped: int
    bad_rows: Path | None
    seconds: float


def _full_regex_cache() -> None:
    """Give Python's regex cache back its 512 entries. Importing SciPy (for scikit-learn) imports
    ``numpy.f2py.crackfortran``, which sets ``re._MAXCACHE = 50`` for the whole process; pysbd
    looks up a few hundred patterns by string, so with 50 it recompiles them all the time (it
    made splitting 10× slower here before the splitter's fast path compiled its own)."""
    if getattr(re, "_MAXCACHE", 512) < 512:
        re._MAXCACHE = 512  # type: ignore[attr-defined]


def load_fields(
    model_dir: Path | str, config: ProjectConfig
) -> tuple[dict[str, SentenceClassifier], ModelCard]:
    """The trained models of the config's choice fields (config order) and the model's card.

    InputError ``no model: run annotate learn first (...)`` when the folder holds no model or
    none of the config's fields; the other refusals of ``load_model`` are its ExportErrors.
    """
    folder = Path(model_dir)
    missing = [name for name in (CARD_FILE, MODEL_FILE) if not (folder / name).is_file()]
    if missing:
        raise InputError(f"no model: run annotate learn first ({folder}/{missing[0]} does not exist)")
    models, card = load_model(folder)
    fields = {name: models[name] for name in config.choice_fields() if name in models}
    if not fields:
        raise InputError(
            f"no model: run annotate learn first (the model in {folder} has none of the config's "
            f"fields {', '.join(config.choice_fields())}; it has {', '.join(models) or 'none'})"
        )
    return fields, card


def _labels(config: ProjectConfig, field: str, model: SentenceClassifier) -> list[str]:
    """The probability columns of ``field``: the config's labels, then any the model has beyond them."""
    labels = list(config.choice_fields().get(field, []))
    return labels + sorted(str(c) for c in model.classes_ if str(c) not in labels)


def prediction_schema(
    config: ProjectConfig, models: dict[str, SentenceClassifier]
) -> tuple[pa.Schema, dict[str, list[str]]]:
    """The Parquet schema of the predictions of ``models`` and each field's probability labels."""
    labels = {field: _labels(config, field, model) for field, model in models.items()}
    kinds = {"sentence_index": pa.int64(), "paragraph": pa.int64()}
    columns = [pa.field(name, kinds.get(name, pa.string())) for name in PREDICTION_SENTENCE_COLUMNS]
    for field, names in labels.items():
        columns.append(pa.field(PREDICTED_LABEL.format(field=field), pa.string()))
        columns += [
            pa.field(PREDICTED_PROBABILITY.format(field=field, label=label), pa.float64()) for label in names
        ]
    columns.append(pa.field("model_version", pa.string()))
    return pa.schema(columns), labels


def _author(article: Article) -> str | None:
    return next((article.metadata[k] for k in _AUTHOR_KEYS if article.metadata.get(k)), None)


class _Batches:
    """Sentences waiting to be predicted, with their article; ``take(n)`` hands out the first n."""

    def __init__(self) -> None:
        self.sentences: list[Sentence] = []
        self.articles: list[Article] = []

    def add(self, article: Article, sentences: Sequence[Sentence]) -> None:
        self.sentences.extend(sentences)
        self.articles.extend([article] * len(sentences))

    def __len__(self) -> int:
        return len(self.sentences)

    def take(self, n: int) -> tuple[list[Sentence], list[Article]]:
        sentences, articles = self.sentences[:n], self.articles[:n]
        del self.sentences[:n], self.articles[:n]
        return sentences, articles


def _table(
    sentences: list[Sentence],
    articles: list[Article],
    probabilities: dict[str, np.ndarray],
    models: dict[str, SentenceClassifier],
    labels: dict[str, list[str]],
    version: str,
    schema: pa.Schema,
) -> pa.Table:
    """One batch as a table of ``schema``."""
    n = len(sentences)
    columns: list[Any] = [
        [s.sentence_id for s in sentences],
        [s.doc_id for s in sentences],
        [s.index for s in sentences],
        [s.paragraph for s in sentences],
        [s.text for s in sentences],
        [a.title for a in articles],
        [a.outlet for a in articles],
        [a.country for a in articles],
        [_author(a) for a in articles],
        [a.published for a in articles],
        [a.url for a in articles],
        [s.language for s in sentences],
    ]
    for field, model in models.items():
        proba = probabilities[field]
        classes = [str(c) for c in model.classes_]
        columns.append(np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)] if n else [])
        for label in labels[field]:
            columns.append(proba[:, classes.index(label)] if label in classes else np.zeros(n))
    columns.append([version] * n)
    arrays = [pa.array(values, type=f.type) for values, f in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def predict(
    paths: Sequence[str | Path],
    config: ProjectConfig,
    *,
    model_dir: Path | str,
    out: Path | str,
    batch_size: int = DEFAULT_BATCH,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> PredictResult:
    """Predict every sentence of the corpus ``paths`` with the model in ``model_dir``; write ``out``.

    ``batch_size`` sentences are predicted and written at a time (one row group each; memory
    holds one batch). ``encoding`` is the codec of the files that are not UTF-8, as for push.
    ``progress(done, total)`` counts sentences written; ``total`` is an estimate from the bytes
    read so far until the end. Raises InputError (no model, a path that cannot be read) before
    writing anything; bad rows are skipped and listed (see the module docstring).
    """
    began = time.perf_counter()
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"the batch size must be a whole number of sentences ≥ 1, got {batch_size!r}")
    models, card = load_fields(model_dir, config)
    _full_regex_cache()
    keep_freed_memory()
    predictor = BatchPredictor(models)
    schema, labels = prediction_schema(config, models)
    out = Path(out)
    files = [Path(p) for p in paths]
    total_bytes = sum(check_path(p) for p in files) or 1  # a missing path fails before any output
    done = articles = row_groups = 0
    chars = 0
    waiting = _Batches()

    with atomic_path(out) as tmp, BadRowLog(beside(out)) as log:
        writer = pq.ParquetWriter(tmp, schema, compression="zstd")
        try:

            def flush(n: int) -> None:
                nonlocal done, row_groups
                sentences, owners = waiting.take(n)
                probabilities = predictor.predict_proba([s.text for s in sentences])
                table = _table(sentences, owners, probabilities, models, labels, card.model_version, schema)
                writer.write_table(table, row_group_size=max(len(table), 1))
                done += len(table)
                row_groups += 1
                if progress:
                    progress(done, max(done, math.ceil(done * total_bytes / max(chars, 1))))

            reader = iter_articles(files, encoding=encoding, max_bytes=_NO_LIMIT, on_bad_row=log)
            for article in reader:
                try:
                    sentences = split_article(article)
                except InputError as error:  # e.g. a language the splitter lacks
                    log(error)
                    continue
                articles += 1
                chars += len(article.text)
                waiting.add(article, sentences)
                while len(waiting) >= batch_size:
                    flush(batch_size)
            if len(waiting):
                flush(len(waiting))
        finally:
            writer.close()
    if progress:
        progress(done, done)
    return PredictResult(
        out=out,
        sentences=done,
        articles=articles,
        row_groups=row_groups,
        fields=list(models),
        model_version=card.model_version,
        skipped=log.count,
        bad_rows=log.path if log.written else None,
        seconds=time.perf_counter() - began,
    )

"""Batch prediction: every field's probabilities for a batch of sentences, as
``SentenceClassifier.predict_proba`` gives them, 15–25× faster for a four-field model
(BENCHMARKS.md, ``make bench-predict``).

Where ``predict_proba`` spends its time (cProfile, 20,000 news sentences, four fields): over
80 % in scikit-learn's ``CountVectorizer``, in Python — the ``char_wb`` analyzer slices some
600 character n-grams per sentence and looks each up in a dict, raising ``KeyError`` for every
one the vocabulary lacks — and all of it again for every field, since each field's model has
its own vectorizers. :class:`BatchPredictor` does that work once per batch, mostly in NumPy:

- the text is normalised (NFKC, lower case: ``classifier.normalise_text``) once per sentence;
- word 1–2-grams: each sentence's tokens (the vectorizers' token pattern) get an id from the
  union of the fields' word vocabularies in one pass; unigrams and bigrams (pairs of ids of
  neighbouring tokens) are then looked up as arrays;
- ``char_wb`` 2–5-grams, without a string per n-gram: the batch's padded words (``" " + word +
  " "``, words split at whitespace as scikit-learn splits them) are laid end to end as one
  array of code points, and a trie of the union of the fields' character vocabularies is
  walked from every position at once (level k maps a prefix's node and the next character to
  the node of the longer prefix: a dense table, or a sorted array where the table would be
  large). No vocabulary n-gram holds two spaces in a row, so no n-gram crossing from one padded
  word into the next is found, and every n-gram inside a padded word is, once per occurrence:
  the analyzer's enumeration exactly;
- the occurrences are counted by sorting (document, column) keys, giving each field the count
  matrix its own vectorizer would (its columns taken from the union; vocabularies are sorted by
  n-gram, as scikit-learn sorts them, so column and index order are the vectorizer's own);
- fields whose vectorizers are equal (same vocabulary and idf: fields learnt from the same
  sentences, as stance targets and the sentence type usually are) share one TF-IDF matrix,
  made by their own fitted ``TfidfTransformer``; their logistic regressions (three per
  calibrated field) are applied together, as one sparse product with all their coefficients,
  then each field's Platt sigmoids, normalisation and average exactly as
  ``CalibratedClassifierCV``/``LogisticRegression.predict_proba`` compute them.

The count and TF-IDF matrices are identical to scikit-learn's; the decision values differ from
``predict_proba``'s only in the order floating-point sums are taken (the word and character
blocks are multiplied separately), a few 1e-15 at most. That is checked, not assumed: the first batch is
also predicted the plain way (its first ``CHECK_ROWS`` sentences) and compared; on a difference
over ``TOLERANCE``, or a model this module does not reproduce (a pipeline other than the one
``SentenceClassifier`` builds, changed vectorizer parameters, another calibration), the
predictor uses the plain ``predict_proba`` per field, ``fast`` is False and ``reason`` says why.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from annotate.model.classifier import SentenceClassifier, normalise_text, one_blas_thread
from annotate.model.embedding import EmbeddingFeatures

__all__ = ["CHECK_ROWS", "TOLERANCE", "BatchPredictor"]

#: Sentences of the first batch predicted both ways and compared.
CHECK_ROWS = 256
#: Largest difference allowed between the two ways (measured: under 2e-15).
TOLERANCE = 1e-9
#: Entries of a trie level's dense table above which it is a sorted array instead.
_DENSE_LIMIT = 8_000_000  # 32 MB of int32


class BatchPredictor:
    """``predict_proba(texts)`` -> ``{field: probabilities}`` for every model of ``models``, each
    array as ``models[field].predict_proba(texts)`` gives it (see the module docstring).

    ``fast`` says whether the shared computation is used; ``reason`` why not, when it is not.
    """

    def __init__(self, models: Mapping[str, SentenceClassifier]) -> None:
        self.models = dict(models)
        self.reason: str | None = None
        self._checked = False
        try:
            self._plan: _Plan | None = _Plan(self.models)
        except _Unsupported as why:
            self._plan, self.reason = None, str(why)

    @property
    def fast(self) -> bool:
        return self._plan is not None

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        texts = list(texts)
        if self._plan is None or not texts:
            return self.plain(texts)
        out = self._plan.predict_proba(texts)
        if not self._checked:
            self._checked = True
            sample = texts[:CHECK_ROWS]
            plain = self.plain(sample)
            worst = max(float(np.max(np.abs(out[f][: len(sample)] - plain[f]))) for f in plain)
            if not worst <= TOLERANCE:
                self._plan, self.reason = None, f"differs from predict_proba by {worst:.3g}"
                return self.plain(texts)
        return out

    def plain(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each model's own ``predict_proba`` (the reference)."""
        return {field: model.predict_proba(list(texts)) for field, model in self.models.items()}


class _Unsupported(Exception):
    """A model the shared computation does not reproduce (the plain way is used)."""


def _expect(condition: bool, why: str) -> None:
    if not condition:
        raise _Unsupported(why)


_TOKENS = r"(?u)\b\w+\b"  # SentenceClassifier's token pattern: maximal runs of word characters
_RUNS = r"\w+"  # the same tokens under findall (a maximal run is bounded by \b), a third faster
_WORD = {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": _TOKENS}
_CHAR = {"analyzer": "char_wb", "ngram_range": (2, 5)}
_COMMON = {"preprocessor": normalise_text, "input": "content", "binary": False, "stop_words": None,
           "tokenizer": None, "vocabulary": None, "use_idf": True, "norm": "l2", "sublinear_tf": True,
           "dtype": np.float64}  # fmt: skip


def _vectorizer(part: Any, expected: dict[str, Any], name: str) -> TfidfVectorizer:
    _expect(type(part) is TfidfVectorizer, f"{name} is {type(part).__name__}")
    params = part.get_params()
    for key, value in {**_COMMON, **expected}.items():
        _expect(params.get(key) is value or params.get(key) == value, f"{name}: {key}={params.get(key)!r}")
    _expect(hasattr(part, "vocabulary_") and hasattr(part, "_tfidf"), f"{name} is not fitted")
    return part


def _same(a: TfidfVectorizer, b: TfidfVectorizer) -> bool:
    return a.vocabulary_ == b.vocabulary_ and np.array_equal(a.idf_, b.idf_)


class _Head:
    """One field's classifier as linear units: the logistic regressions whose coefficients go into
    its group's product, and how their decision values become the field's probabilities."""

    def __init__(self, name: str, classifier: Any) -> None:
        self.name = name
        self.units: list[LogisticRegression] = []
        self.calibrated: list[tuple[np.ndarray, list[tuple[float, float]]]] = []  # per unit
        if isinstance(classifier, CalibratedClassifierCV):
            _expect(classifier.method == "sigmoid", f"{name}: calibration {classifier.method}")
            self.classes = np.asarray(classifier.classes_)
            for pair in classifier.calibrated_classifiers_:
                _expect(type(pair.estimator) is LogisticRegression, f"{name}: calibrated {pair.estimator}")
                _expect(pair.method == "sigmoid", f"{name}: calibration {pair.method}")
                positions = np.searchsorted(np.asarray(pair.classes), pair.estimator.classes_)
                sigmoids = [(float(c.a_), float(c.b_)) for c in pair.calibrators]
                _expect(len(sigmoids) == len(positions) or len(pair.classes) == 2, f"{name}: calibrators")
                self.units.append(pair.estimator)
                self.calibrated.append((positions, sigmoids))
        else:
            _expect(type(classifier) is LogisticRegression, f"{name}: classifier {type(classifier).__name__}")
            self.classes = np.asarray(classifier.classes_)
            self.units.append(classifier)
        self.widths = [int(unit.coef_.shape[0]) for unit in self.units]

    def probabilities(self, decisions: list[np.ndarray]) -> np.ndarray:
        """The field's ``predict_proba`` from each unit's decision values (n × its coef rows)."""
        if not self.calibrated:
            scores = decisions[0]
            if len(self.classes) <= 2:  # LogisticRegression._predict_proba_lr
                p = expit(scores[:, 0])
                return np.stack([1 - p, p], axis=1)
            scores = scores - scores.max(axis=1, keepdims=True)  # sklearn.utils.extmath.softmax
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=1, keepdims=True)
            return scores
        n, k = decisions[0].shape[0], len(self.classes)
        mean = np.zeros((n, k))
        for scores, (positions, sigmoids) in zip(decisions, self.calibrated, strict=True):
            proba = np.zeros((n, k))  # _CalibratedClassifier.predict_proba, method="sigmoid"
            for index, column, (a, b) in zip(positions, scores.T, sigmoids, strict=False):
                proba[:, index + 1 if k == 2 else index] = expit(-(a * column + b))
            if k == 2:
                proba[:, 0] = 1.0 - proba[:, 1]
            else:
                denominator = np.sum(proba, axis=1)[:, np.newaxis]
                uniform = np.full_like(proba, 1 / k)
                proba = np.divide(proba, denominator, out=uniform, where=denominator != 0)
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            mean += proba
        mean /= len(self.calibrated)
        return mean


class _Group:
    """Fields with equal vectorizers: one TF-IDF matrix and one product for all their units."""

    def __init__(self, word: TfidfVectorizer, char: TfidfVectorizer, embedding: EmbeddingFeatures | None):
        self.word, self.char, self.embedding = word, char, embedding
        self.heads: list[_Head] = []
        self.word_map = self.char_map = np.zeros(0, dtype=np.int64)  # set by _Plan
        self.weights: list[np.ndarray] = []  # per block: (its columns × all units' rows)
        self.intercept: np.ndarray = np.zeros(0)

    def matches(self, word: TfidfVectorizer, char: TfidfVectorizer, embedding: Any) -> bool:
        if (self.embedding is None) != (embedding is None):
            return False
        if embedding is not None and embedding.sha256_ != getattr(self.embedding, "sha256_", None):
            return False
        return _same(self.word, word) and _same(self.char, char)

    def compile(self) -> None:
        units = [unit for head in self.heads for unit in head.units]
        coef = np.vstack([np.asarray(unit.coef_, dtype=np.float64) for unit in units])
        sizes = [len(self.word.vocabulary_), len(self.char.vocabulary_)]
        if self.embedding is not None:
            sizes.append(int(self.embedding.n_features_out_))
        _expect(coef.shape[1] == sum(sizes), "coefficients do not fit the features")
        edges = np.cumsum([0, *sizes])
        self.weights = [np.ascontiguousarray(coef[:, a:b].T) for a, b in itertools.pairwise(edges)]
        self.intercept = np.concatenate([np.asarray(unit.intercept_, dtype=np.float64) for unit in units])

    def predict(
        self, words: sp.csr_matrix, chars: sp.csr_matrix, embedded: np.ndarray | None
    ) -> dict[str, np.ndarray]:
        blocks = [
            self.word._tfidf.transform(_columns(words, self.word_map), copy=False),
            self.char._tfidf.transform(_columns(chars, self.char_map), copy=False),
        ]
        if embedded is not None:
            blocks.append(embedded)
        scores = blocks[0] @ self.weights[0]
        for block, weights in zip(blocks[1:], self.weights[1:], strict=True):
            scores += block @ weights
        scores += self.intercept
        out, start = {}, 0
        for head in self.heads:
            decisions = []
            for width in head.widths:
                decisions.append(scores[:, start : start + width])
                start += width
            out[head.name] = head.probabilities(decisions)
        return out


class _Plan:
    """The union vocabularies of the fields, compiled for one pass per batch."""

    def __init__(self, models: Mapping[str, SentenceClassifier]) -> None:
        _expect(bool(models), "no models")
        self.groups: list[_Group] = []
        for name, model in models.items():
            pipeline = getattr(model, "model_", None)
            _expect(isinstance(pipeline, Pipeline) and len(pipeline.steps) == 2, f"{name}: pipeline")
            assert isinstance(pipeline, Pipeline)
            union = pipeline.steps[0][1]
            _expect(type(union) is FeatureUnion and union.transformer_weights is None, f"{name}: features")
            parts = dict(union.transformer_list)
            _expect(list(parts)[:2] == ["word", "char"], f"{name}: features {list(parts)}")
            word = _vectorizer(parts.pop("word"), _WORD, f"{name}: word")
            char = _vectorizer(parts.pop("char"), _CHAR, f"{name}: char")
            embedding = parts.pop("embedding", None)
            _expect(not parts, f"{name}: features {list(parts)}")
            _expect(embedding is None or type(embedding) is EmbeddingFeatures, f"{name}: embedding")
            group = next((g for g in self.groups if g.matches(word, char, embedding)), None)
            if group is None:
                group = _Group(word, char, embedding)
                self.groups.append(group)
            group.heads.append(_Head(name, pipeline.steps[1][1]))
        word_terms = sorted(set().union(*(g.word.vocabulary_ for g in self.groups)))
        char_terms = sorted(set().union(*(g.char.vocabulary_ for g in self.groups)))
        self.words = _Words(word_terms)
        self.trie = _Trie(char_terms)
        for group in self.groups:
            group.word_map = _column_map(word_terms, group.word.vocabulary_)
            group.char_map = _column_map(char_terms, group.char.vocabulary_)
            group.compile()

    def predict_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        norms = [normalise_text(text) for text in texts]
        words = self.words.counts(norms)
        chars = self.trie.counts(norms)
        embedded: np.ndarray | None = None
        out: dict[str, np.ndarray] = {}
        with one_blas_thread():
            for group in self.groups:
                if group.embedding is not None and embedded is None:
                    embedded = group.embedding.transform(texts)
                out.update(group.predict(words, chars, embedded if group.embedding is not None else None))
        return out


def _column_map(union: list[str], vocabulary: Mapping[str, int]) -> np.ndarray:
    """For each union term, its column in ``vocabulary`` (−1 when absent). ``vocabulary`` must
    number its terms in sorted order, as scikit-learn fits it."""
    mapping = np.asarray([vocabulary.get(term, -1) for term in union], dtype=np.int64)
    own = mapping[mapping >= 0]
    _expect(len(own) == len(vocabulary) and bool(np.all(np.diff(own) > 0)), "vocabulary not sorted")
    return mapping


def _columns(counts: sp.csr_matrix, mapping: np.ndarray) -> sp.csr_matrix:
    """``counts`` (union columns) with only a group's columns, renumbered as its own."""
    if len(mapping) and mapping[0] == 0 and mapping[-1] == len(mapping) - 1:
        return counts.copy()  # the group's vocabulary is the union (the map is increasing)
    own = mapping[counts.indices]
    keep = own >= 0
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    indptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=counts.shape[0]), out=indptr[1:])
    n_columns = int(mapping.max()) + 1 if len(mapping) else 0
    return sp.csr_matrix(
        (counts.data[keep], own[keep].astype(np.int32), indptr.astype(np.int32)),
        shape=(counts.shape[0], n_columns),
    )


def _count_matrix(docs: np.ndarray, columns: np.ndarray, n_docs: int, n_columns: int) -> sp.csr_matrix:
    """Occurrences ``(docs[i], columns[i])`` counted into a float64 CSR matrix in canonical form
    (each row's columns sorted, no repeats), as ``CountVectorizer`` makes it.

    Each occurrence becomes one key, the document in the high bits and the column in the low
    ``shift`` bits (a power-of-two stride, so both come back by a shift and a mask, not a
    division); the keys are sorted, as 32-bit integers when they fit (a batch of 10,000
    sentences and 400,000 columns does), runs of equal keys counted, and each row's start found
    by a binary search for its first possible key.
    """
    shift = int(max(n_columns, 1) - 1).bit_length()
    kind: type[np.unsignedinteger[Any]] = np.uint32 if n_docs << shift < 2**32 else np.uint64
    keys = docs.astype(kind)
    keys <<= kind(shift)
    keys |= columns.astype(kind)
    keys.sort()
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    del first
    unique = keys[starts]
    counts = np.diff(starts, append=len(keys)).astype(np.float64)
    del keys, starts
    indices = (unique & kind((1 << shift) - 1)).astype(np.int32)
    row_starts = np.arange(n_docs + 1, dtype=unique.dtype) << kind(shift)
    indptr = np.searchsorted(unique, row_starts).astype(np.int32)
    matrix = sp.csr_matrix((counts, indices, indptr), shape=(n_docs, n_columns))
    matrix.has_sorted_indices = True
    return matrix


class _Words:
    """The word 1–2-grams of a vocabulary, by token id: a unigram's column per token, a bigram's
    column per pair of tokens (sorted keys). Token ids 1.., 0 for a token no term holds."""

    def __init__(self, terms: list[str]) -> None:
        self.n_terms = len(terms)
        self.tokens = re.compile(_RUNS)
        parts = [term.split(" ") for term in terms]
        _expect(all(len(p) in (1, 2) for p in parts), "word terms other than 1-2-grams")
        names = sorted({token for p in parts for token in p})
        self.token_id = {token: i + 1 for i, token in enumerate(names)}
        self.width = len(names) + 1
        self.unigram = np.full(self.width, -1, dtype=np.int32)
        keys, columns = [], []
        for column, p in enumerate(parts):
            if len(p) == 1:
                self.unigram[self.token_id[p[0]]] = column
            else:
                keys.append(self.token_id[p[0]] * self.width + self.token_id[p[1]])
                columns.append(column)
        order = np.argsort(np.asarray(keys, dtype=np.int64))
        self.bigram_keys = np.asarray(keys, dtype=np.int64)[order]
        self.bigram_columns = np.asarray(columns, dtype=np.int32)[order]

    def counts(self, norms: list[str]) -> sp.csr_matrix:
        """The word counts of ``norms`` (normalised texts), one row each, columns = terms."""
        lists = [self.tokens.findall(norm) for norm in norms]
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        flat = list(itertools.chain.from_iterable(lists))
        ids = np.fromiter(map(self.token_id.get, flat, itertools.repeat(0)), dtype=np.int64, count=len(flat))
        docs = np.repeat(np.arange(len(norms), dtype=np.int32), lengths)
        unigrams = self.unigram[ids]
        known = unigrams >= 0
        found_docs, found = [docs[known]], [unigrams[known]]
        if len(ids) > 1 and len(self.bigram_keys):
            pair = (docs[:-1] == docs[1:]) & (ids[:-1] > 0) & (ids[1:] > 0)
            keys = ids[:-1][pair] * self.width + ids[1:][pair]
            at = np.minimum(np.searchsorted(self.bigram_keys, keys), len(self.bigram_keys) - 1)
            hit = self.bigram_keys[at] == keys
            found_docs.append(docs[:-1][pair][hit])
            found.append(self.bigram_columns[at[hit]])
        return _count_matrix(np.concatenate(found_docs), np.concatenate(found), len(norms), self.n_terms)


class _Trie:
    """The character n-grams of a vocabulary, for finding all their occurrences in a batch at once.

    Level 1 maps a character's id to the node of that one-character prefix; level k maps (node of
    a prefix of k − 1 characters, id of the next character) to the node of the k-character prefix
    (0: no vocabulary n-gram starts so). ``term[k][node]`` is the column of the n-gram the node
    spells, −1 when it is only a prefix. Character ids: 1.. for the vocabulary's characters,
    0 for any other (which no node follows). Past the first level node 0 is a dead end that every
    level maps to itself (no level's keys start from it), so ``counts`` walks every position
    through every level with contiguous slices instead of dropping dead positions as it goes:
    cheaper, since four in five positions of news text are still alive at the fifth character.
    """

    def __init__(self, terms: list[str]) -> None:
        self.n_terms = len(terms)
        chars = sorted({c for term in terms for c in term})
        self.width = len(chars) + 1
        codes = np.asarray([ord(c) for c in chars], dtype=np.int64)
        self.lut = np.zeros(int(codes.max(initial=0)) + 2, dtype=np.int32)
        self.lut[codes] = np.arange(1, self.width)
        char_id = {c: i + 1 for i, c in enumerate(chars)}
        self.depth = max((len(t) for t in terms), default=0)
        self.levels: list[tuple[np.ndarray, np.ndarray | None]] = []  # dense table, or sorted keys + nodes
        self.term: list[np.ndarray] = []
        column = {term: i for i, term in enumerate(terms)}
        parent: dict[str, int] = {"": 0}
        for k in range(1, self.depth + 1):
            prefixes = sorted({t[:k] for t in terms if len(t) >= k})
            sources = np.asarray([parent[p[:-1]] for p in prefixes], dtype=np.int64)
            ids = np.asarray([char_id[p[-1]] for p in prefixes], dtype=np.int64)
            targets = np.arange(1, len(prefixes) + 1, dtype=np.int64)
            keys = sources * self.width + ids
            if (len(parent) + 1) * self.width <= _DENSE_LIMIT:
                table = np.zeros((len(parent) + 1) * self.width, dtype=np.int32)
                table[keys] = targets
                self.levels.append((table, None))
            else:
                order = np.argsort(keys)
                self.levels.append((keys[order], targets[order].astype(np.int32)))
            self.term.append(np.asarray([-1] + [column.get(p, -1) for p in prefixes], dtype=np.int32))
            parent = {p: i + 1 for i, p in enumerate(prefixes)}

    def counts(self, norms: list[str]) -> sp.csr_matrix:
        """The ``char_wb`` counts of ``norms`` (normalised texts), one row each, columns = terms."""
        padded = [f" {'  '.join(words)} " if (words := norm.split()) else "" for norm in norms]
        lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
        codes = np.frombuffer("".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        size = len(codes)
        ids = self.lut[np.minimum(codes, len(self.lut) - 1)]
        ids = np.concatenate([ids, np.zeros(self.depth, dtype=np.int32)])  # nothing follows the end
        node: np.ndarray = np.zeros(size, dtype=np.int32)  # every position starts at the root
        width = np.int32(self.width)
        found_at: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        found: list[np.ndarray] = [np.zeros(0, dtype=np.int32)]
        for k, (table, targets) in enumerate(self.levels):
            step = ids[k : k + size]  # the k-th character after each position
            if targets is None:  # a dense table: its keys fit in 32 bits
                node *= width
                node += step
                node = table[node]
            else:
                keys = node.astype(np.int64) * self.width + step
                at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
                node = np.where(table[at] == keys, targets[at], 0).astype(np.int32)
            columns = self.term[k][node]
            hit = np.flatnonzero(columns >= 0)
            found_at.append(hit)
            found.append(columns[hit])
        docs = np.repeat(np.arange(len(norms), dtype=np.int32), lengths)
        at = np.concatenate(found_at)
        return _count_matrix(docs[at], np.concatenate(found), len(norms), self.n_terms)

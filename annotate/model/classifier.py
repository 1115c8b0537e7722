"""``SentenceClassifier``: one choice field's label from a sentence's text (TF-IDF + logistic regression).

Features: word 1–2-grams and character 2–5-grams (``char_wb``: n-grams inside word boundaries,
padded with a space), each TF-IDF weighted with sublinear term frequency (1 + log tf) and
L2-normalised, concatenated by a ``FeatureUnion``. Text is NFKC-normalised and lower-cased
first, so full-width Latin letters and digits in Chinese text match their ASCII forms. Chinese
has no spaces: its word "n-grams" are mostly whole runs between punctuation, and the character
n-grams carry the signal (as they do for misspellings and inflections in English).

Classifier: multinomial logistic regression (L2 penalty of strength ``1 / C``) with
``class_weight="balanced"``, so a rare stance is not drowned by "Not addressed". The solver is
newton-cg (Newton steps, the Hessian applied by conjugate gradients): on these L2-penalised
sparse problems it converges in a handful of iterations, 10–15× faster than lbfgs on 300
sentences (scikit-learn 1.9, SciPy 1.17), and it is deterministic like lbfgs. Its
probabilities are calibrated with Platt's sigmoid (``CalibratedClassifierCV(method="sigmoid",
cv=3)``: three models, each fitted on two thirds and calibrated on the held-out third,
probabilities averaged) when every class has at least 3 examples; otherwise the logistic
regression is fitted on all the data and its own probabilities are used. ``calibrated``
says which. The three calibration folds are stratified by label, not grouped by article, and
split only the logistic regression: the TF-IDF vocabulary and weights are fitted once on all
the training texts (no label is involved), which makes a calibrated fit about three times
cheaper at the price of idf weights that have seen the calibration third's texts.

Everything is deterministic: newton-cg has no randomness, the calibration folds are not shuffled,
and ``seed`` is passed as ``random_state`` wherever scikit-learn accepts one; the same texts,
labels and parameters give bit-identical probabilities. Fitting and predicting run with one
BLAS thread (threadpoolctl): the problems are far too small to gain from threads — on two busy
cores OpenBLAS's threads made a fit 5–20× slower — and a fixed thread count keeps floating-point
sums in the same order on machines with different numbers of cores.

References:
- J. Platt (1999), "Probabilistic outputs for support vector machines and comparisons to
  regularized likelihood methods", Advances in Large Margin Classifiers, 61–74.
- scikit-learn user guide: "Text feature extraction" (TfidfVectorizer, ``sublinear_tf``,
  ``char_wb``), "Probability calibration" (CalibratedClassifierCV), "Logistic regression"
  (``class_weight="balanced"`` weighs class k by n / (n_classes · n_k)),
  https://scikit-learn.org/stable/modules/
- S. Wang and C. Manning (2012), "Baselines and bigrams: simple, good sentiment and topic
  classification", ACL: word n-gram linear models as strong baselines for short texts.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from annotate.config import MODELS
from annotate.model.embedding import EmbeddingFeatures

__all__ = ["CALIBRATION_FOLDS", "FEATURES", "SentenceClassifier", "normalise_text", "one_blas_thread"]

#: The feature sets (the config's ``model``): TF-IDF n-grams alone (the default), or beside a
#: static sentence embedding (``annotate.model.embedding``, the optional extra ``annotate[embed]``).
FEATURES = MODELS

#: Folds of the sigmoid calibration; a class needs at least this many examples to be calibrated.
CALIBRATION_FOLDS = 3


def normalise_text(text: str) -> str:
    """NFKC (full-width → ASCII forms, compatibility characters folded) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


@functools.cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # finds the loaded BLAS libraries once (a few ms)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with a single BLAS thread (see the module docstring)."""
    with _controller().limit(limits=1, user_api="blas"):
        yield


def _features(min_df: int, features: str = "tfidf") -> FeatureUnion:
    word = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        token_pattern=r"(?u)\b\w+\b",  # one-character words too ("I", "a", a single hanzi)
        preprocessor=normalise_text,
        sublinear_tf=True,
        min_df=min_df,
        dtype=np.float64,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        preprocessor=normalise_text,
        sublinear_tf=True,
        min_df=min_df,
        dtype=np.float64,
    )
    parts: list[tuple[str, Any]] = [("word", word), ("char", char)]
    if features == "tfidf+embedding":
        parts.append(("embedding", EmbeddingFeatures()))
    return FeatureUnion(parts)


def _is_sequence(values: object) -> bool:
    """A list, tuple, array or pandas Series: ordered, sized, not a string, set or mapping."""
    if isinstance(values, str | bytes | set | frozenset | Mapping):
        return False
    return hasattr(values, "__len__") and hasattr(values, "__iter__")


def _check_texts(texts: object, name: str = "texts") -> list[str]:
    if not _is_sequence(texts):
        raise ValueError(f"{name} must be a sequence of strings, not {type(texts).__name__}")
    out = list(texts)  # type: ignore[call-overload]
    bad = [i for i, t in enumerate(out) if not isinstance(t, str)]
    if bad:
        raise ValueError(
            f"{name}[{bad[0]}] is {type(out[bad[0]]).__name__}, not a string ({len(bad)} such entries)"
        )
    return out


def _check_labels(labels: object, n: int) -> np.ndarray:
    if not _is_sequence(labels):
        raise ValueError(f"labels must be a sequence of strings, not {type(labels).__name__}")
    out = list(labels)  # type: ignore[call-overload]
    if len(out) != n:
        raise ValueError(f"texts and labels differ in length ({n} texts, {len(out)} labels)")
    bad = [i for i, label in enumerate(out) if not isinstance(label, str) or not label]
    if bad:
        raise ValueError(f"labels[{bad[0]}] is {out[bad[0]]!r}: every label must be a non-empty string")
    return np.asarray(out, dtype=object)


class SentenceClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier from sentence texts to the labels of one field.

    ``fit(texts, labels)`` takes a sequence of strings and a sequence of non-empty string
    labels (at least two distinct ones); ``predict_proba(texts)`` returns an array of shape
    ``(len(texts), len(classes_))`` whose rows sum to 1, columns in ``classes_`` order (the
    labels sorted); ``predict`` the most probable label (the first in ``classes_`` on a tie).

    Parameters (validated in ``fit``, scikit-learn style: ``ValueError`` with the bad value):
    ``C`` inverse L2 regularisation strength, a finite number > 0; ``seed`` an int in
    [0, 2**32 − 1], the ``random_state``; ``max_iter`` Newton iterations, an int ≥ 1 (the
    default is ample for a few thousand sentences; a ``ConvergenceWarning`` says otherwise);
    ``min_df`` the documents an n-gram must occur in to be a feature, an int ≥ 1 (1 keeps the
    only evidence a few hundred sentences have; the L2 penalty keeps one-off n-grams small);
    ``calibrate`` whether to calibrate when every class has ``CALIBRATION_FOLDS`` examples;
    ``features`` one of ``FEATURES``: ``"tfidf"`` or ``"tfidf+embedding"`` (the n-grams and the
    L2-normalised static sentence embedding side by side, each block of unit length; needs the
    ``embed`` extra, a ConfigError from ``fit`` when it is missing).

    Fitted attributes: ``classes_``, ``calibrated_`` (also ``calibrated``), ``n_features_``,
    ``model_`` (the fitted ``Pipeline``: ``features`` then ``classifier``, a
    ``CalibratedClassifierCV`` or the ``LogisticRegression``).
    """

    def __init__(
        self,
        C: float = 1.0,
        seed: int = 0,
        max_iter: int = 1000,
        min_df: int = 1,
        calibrate: bool = True,
        features: str = "tfidf",
    ) -> None:
        self.C = C
        self.seed = seed
        self.max_iter = max_iter
        self.min_df = min_df
        self.calibrate = calibrate
        self.features = features

    def _check_params(self) -> None:
        C = self.C
        if isinstance(C, bool) or not isinstance(C, numbers.Real) or not math.isfinite(C) or C <= 0:
            raise ValueError(f"C must be a finite number > 0, got {C!r}")
        for name, value, low, high in (
            ("seed", self.seed, 0, 2**32 - 1),
            ("max_iter", self.max_iter, 1, None),
            ("min_df", self.min_df, 1, None),
        ):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{name} must be an int, got {value!r}")
            if value < low or (high is not None and value > high):
                bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
                raise ValueError(f"{name} must be {bound}, got {value!r}")
        if not isinstance(self.calibrate, bool | np.bool_):
            raise ValueError(f"calibrate must be True or False, got {self.calibrate!r}")
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {', '.join(FEATURES)}, got {self.features!r}")

    def _logistic(self) -> LogisticRegression:
        return LogisticRegression(
            C=float(self.C),
            class_weight="balanced",
            solver="newton-cg",
            max_iter=int(self.max_iter),
            random_state=int(self.seed),
        )

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        """Learn the field from ``texts`` and their ``labels``; ``ValueError`` for bad input."""
        self._check_params()
        X = _check_texts(texts)
        y = _check_labels(labels, len(X))
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise ValueError(
                f"labels must have at least two distinct values to learn from, got only {classes.tolist()!r}"
            )
        calibrate = bool(self.calibrate) and int(counts.min()) >= CALIBRATION_FOLDS
        classifier: Any = self._logistic()
        if calibrate:
            classifier = CalibratedClassifierCV(classifier, method="sigmoid", cv=CALIBRATION_FOLDS)
        model = Pipeline(
            [("features", _features(int(self.min_df), self.features)), ("classifier", classifier)]
        )
        try:
            with one_blas_thread():
                model.fit(X, y)
        except ValueError as exc:
            if "empty vocabulary" in str(exc):
                raise ValueError(
                    "no features: the texts have no words or characters to learn from (all empty?)"
                ) from None
            raise
        if not np.array_equal(model.classes_, classes):  # both are np.unique of y; checked, not assumed
            raise RuntimeError(f"classes out of order: {model.classes_!r} != {classes!r}")
        self.model_ = model
        self.classes_ = classes
        self.calibrated_ = calibrate
        self.n_features_ = len(model[0].get_feature_names_out())
        return self

    @property
    def calibrated(self) -> bool:
        """True when the probabilities are Platt-calibrated, False when they are the raw logistic ones."""
        check_is_fitted(self, "model_")
        return bool(self.calibrated_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, shape ``(len(texts), len(classes_))``, columns in ``classes_`` order."""
        check_is_fitted(self, "model_")
        X = _check_texts(texts)
        if not X:
            return np.zeros((0, len(self.classes_)))
        with one_blas_thread():
            return np.asarray(self.model_.predict_proba(X), dtype=np.float64)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable label of each text (the first in ``classes_`` order on a tie)."""
        proba = self.predict_proba(texts)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)], dtype=object)

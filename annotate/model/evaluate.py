"""How well a field's classifier does on articles it has not seen: article-grouped cross-validation.

In: the texts of one field's labelled sentences, their labels and their article ids (groups).
Out: ``FieldReport`` — the folds, the out-of-fold probabilities of every sentence and the
figures computed from them; ``check_trainable`` says beforehand whether a field has enough
labels to be worth a model.

Folds are grouped by article: all sentences of an article are in the same fold, so a test
sentence never shares an article (its topic words, names, outlet style) with the training
sentences, which would flatter the figures. ``StratifiedGroupKFold`` (seeded shuffle of the
articles) also keeps each fold's label shares close to the whole's; when the rarest label has
fewer examples than folds, stratification is impossible and ``GroupKFold`` (no randomness:
articles assigned largest first to the smallest fold) is used. With fewer articles than
``n_splits`` there are as many folds as articles; with fewer than 2 articles there is no
held-out article and ``cross_validate_field`` refuses.

Every figure is computed from the pooled out-of-fold predictions (each sentence predicted once,
by the model that did not see its article), as ``sklearn.model_selection.cross_val_predict``
does: accuracy and macro-F1 (``sklearn.metrics``; the unweighted mean of the per-label F1, a
label never predicted counting 0), per-label precision, recall and support, the expected
calibration error, and the majority baseline (each fold's training majority label predicted for
its test sentences). A pooled accuracy is the mean of the fold accuracies weighted by fold size.

The learning curve refits each fold on a seeded random 25, 50 and 75 % of its training articles
(nested subsets: the 25 % articles are among the 50 %) and reports pooled accuracy and macro-F1
per fraction; the 100 % point is the cross-validation itself. The out-of-fold probabilities are
also what a cross-fitted suggestion shows: a sentence's suggestion from a model that never saw
its article (``FieldReport.oof_frame``).

References: C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger (2017), "On Calibration of Modern
Neural Networks", ICML (expected calibration error, eq. 3, M = 15 bins); scikit-learn user
guide, "Cross-validation: evaluating estimator performance" (StratifiedGroupKFold, GroupKFold)
and "Metrics and scoring" (accuracy_score, f1_score, precision_recall_fscore_support).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

from annotate.errors import InputError
from annotate.model.classifier import SentenceClassifier

__all__ = [
    "ECE_BINS",
    "FRACTIONS",
    "MIN_LABELS",
    "MIN_PER_LABEL",
    "FieldReport",
    "LearningPoint",
    "article_folds",
    "check_seed",
    "check_trainable",
    "cross_validate_field",
    "expected_calibration_error",
]

#: At least this many labels of a field, and of each of its labels, before a model is trained.
MIN_LABELS = 30
MIN_PER_LABEL = 5
#: Bins of the expected calibration error (Guo et al. 2017 use 15).
ECE_BINS = 15
#: Shares of each fold's training articles in the learning curve.
FRACTIONS = (0.25, 0.5, 0.75, 1.0)

Fold = tuple[np.ndarray, np.ndarray]


def check_trainable(
    labels: Sequence[object] | pd.Series,
    min_labels: int = MIN_LABELS,
    min_per_label: int = MIN_PER_LABEL,
    groups: Sequence[Any] | pd.Series | None = None,
) -> str | None:
    """None when a field's ``labels`` are enough to train and cross-validate, else a one-line reason.

    Enough means: at least ``min_labels`` labels, at least two distinct labels, each label at
    least ``min_per_label`` times, and (when ``groups`` is given) at least two articles. The
    first unmet condition is the reason, e.g. ``"only 12 labels (at least 30 needed)"`` or
    ``"label 'Favor' has 3 examples (at least 5 needed)"`` (the rarest such label, ties by
    name). Missing labels (None, NaN, empty) are not counted.
    """
    values = [str(v) for v in labels if isinstance(v, str) and v]
    if len(values) < min_labels:
        return f"only {len(values)} labels (at least {min_labels} needed)"
    counts = pd.Series(values).value_counts()
    if len(counts) < 2:
        return f"every one of the {len(values)} labels is {counts.index[0]!r}: nothing to tell apart"
    rare = sorted((int(n), str(label)) for label, n in counts.items() if n < min_per_label)
    if rare:
        n, label = rare[0]
        more = f"; {len(rare) - 1} more label(s) too rare" if len(rare) > 1 else ""
        return f"label {label!r} has {n} examples (at least {min_per_label} needed){more}"
    if groups is not None:
        n_groups = pd.Series(list(groups)).nunique(dropna=True)
        if n_groups < 2:
            return f"all labels come from {n_groups} article (at least 2 needed to hold one out)"
    return None


def expected_calibration_error(
    proba: np.ndarray, y_true: Sequence[str] | np.ndarray, classes: Sequence[str], n_bins: int = ECE_BINS
) -> float:
    """Expected calibration error of the top-class confidence (Guo et al. 2017, eq. 3).

    For each prediction, confidence = its largest probability and correct = whether that
    column's class (the first on a tie) is the true label. Predictions are put in ``n_bins``
    equal-width bins I_m = ((m − 1)/M, m/M] by confidence (0 goes into the first), and
    ECE = Σ_m |B_m| / n · |accuracy(B_m) − mean confidence(B_m)| over the non-empty bins.
    ``proba`` has shape (n, len(classes)), columns in ``classes`` order; n must be ≥ 1.
    """
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_true, dtype=object)
    if proba.ndim != 2 or proba.shape != (len(y), len(classes)) or len(y) == 0:
        raise ValueError(
            f"proba must have shape (n >= 1, {len(classes)}) matching {len(y)} labels, got {proba.shape}"
        )
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be an int >= 1, got {n_bins!r}")
    confidence = proba.max(axis=1)
    correct = np.asarray(classes, dtype=object)[proba.argmax(axis=1)] == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    ece = 0.0
    for m in np.unique(bins):
        members = bins == m
        ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(ece)


@dataclass(frozen=True)
class LearningPoint:
    """A learning-curve point: pooled out-of-fold figures, ``fraction`` of each fold's training articles."""

    fraction: float
    train_articles: float  # mean over folds
    accuracy: float
    macro_f1: float


@dataclass
class FieldReport:
    """Cross-validation of one field. Arrays are in the order of the input texts."""

    classes: list[str]
    n_labels: int
    n_articles: int
    splitter: str  # "StratifiedGroupKFold" or "GroupKFold"
    folds: list[Fold]  # (train indices, test indices); the test sets partition the sentences
    oof_proba: np.ndarray  # (n_labels, len(classes)), each row from the fold that held its article out
    accuracy: float
    macro_f1: float
    per_label: dict[str, dict[str, float | int]]
    ece: float
    majority_baseline: float
    learning_curve: list[LearningPoint] = field(default_factory=list)
    single_class_fits: int = 0  # training sets with one label: that label predicted with probability 1

    @property
    def n_splits(self) -> int:
        return len(self.folds)

    @property
    def oof_predictions(self) -> np.ndarray:
        """The out-of-fold label of every sentence (argmax of ``oof_proba``, first class on a tie)."""
        return np.asarray(self.classes, dtype=object)[self.oof_proba.argmax(axis=1)]

    def oof_frame(self, sentence_ids: Sequence[str]) -> pd.DataFrame:
        """Cross-fitted suggestions: ``sentence_id, prediction, confidence`` and ``p_<label>`` per label."""
        if len(sentence_ids) != len(self.oof_proba):
            raise ValueError(f"{len(sentence_ids)} sentence ids for {len(self.oof_proba)} predictions")
        frame = pd.DataFrame(
            {
                "sentence_id": list(sentence_ids),
                "prediction": self.oof_predictions,
                "confidence": self.oof_proba.max(axis=1),
            }
        )
        for i, label in enumerate(self.classes):
            frame[f"p_{label}"] = self.oof_proba[:, i]
        return frame

    def summary(self) -> dict[str, Any]:
        """The figures as plain JSON values (the ``cv`` entry of a model card), rounded to 4 places."""
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_label": {
                label: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}
                for label, figures in self.per_label.items()
            },
            "ece": round(self.ece, 4),
            "majority_baseline": round(self.majority_baseline, 4),
            "learning_curve": [
                {
                    "fraction": p.fraction,
                    "train_articles": round(p.train_articles, 2),
                    "accuracy": round(p.accuracy, 4),
                    "macro_f1": round(p.macro_f1, 4),
                }
                for p in self.learning_curve
            ],
            "n_splits": self.n_splits,
            "splitter": self.splitter,
            "single_class_fits": self.single_class_fits,
        }


def check_seed(seed: object) -> int:
    """``seed`` as an int; InputError unless it is an int in [0, 2**32 − 1] (what NumPy accepts)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 2**32:
        raise InputError(f"seed must be an int in [0, 2**32 - 1], got {seed!r}")
    return int(seed)


def article_folds(labels: np.ndarray, groups: np.ndarray, n_splits: int, seed: int) -> tuple[list[Fold], str]:
    """Folds with no article on both sides, and the splitter's name (see the module docstring).

    ``n_splits`` is lowered to the number of articles; fewer than 2 articles is an InputError.
    Empty test folds (possible with a few very unequal articles) are left out; the test sets of
    the folds returned partition ``range(len(labels))``.
    """
    n_groups = len(pd.unique(groups))
    if n_groups < 2:
        raise InputError(
            f"the labels come from {n_groups} article: cross-validation needs at least 2 to hold one out"
        )
    k = min(int(n_splits), n_groups)
    _, counts = np.unique(labels, return_counts=True)
    splitter: GroupKFold | StratifiedGroupKFold
    if counts.min() >= k:
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    else:
        splitter = GroupKFold(n_splits=k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class" is decided above
        folds = [
            (np.asarray(train), np.asarray(test))
            for train, test in splitter.split(np.zeros(len(labels)), labels, groups)
            if len(test) and len(train)
        ]
    covered = np.sort(np.concatenate([test for _, test in folds]))
    if not np.array_equal(covered, np.arange(len(labels))):  # a splitter's contract, checked
        raise RuntimeError(f"{type(splitter).__name__} did not partition the sentences")
    return folds, type(splitter).__name__


def _fit_proba(
    estimator: SentenceClassifier,
    texts: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    classes: list[str],
) -> tuple[np.ndarray, bool]:
    """(``test``'s probabilities in ``classes`` order, from a clone fitted on ``train``; one label?)."""
    out = np.zeros((len(test), len(classes)))
    seen = np.unique(labels[train])
    if len(seen) == 1:
        out[:, classes.index(str(seen[0]))] = 1.0
        return out, True
    model = clone(estimator).fit(list(texts[train]), list(labels[train]))
    columns = [classes.index(str(c)) for c in model.classes_]
    out[:, columns] = model.predict_proba(list(texts[test]))
    return out, False


def _scores(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> tuple[float, float]:
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    accuracy = float(accuracy_score(y, pred))
    macro = float(f1_score(y, pred, labels=classes, average="macro", zero_division=0))
    return accuracy, macro


def _learning_curve(
    estimator: SentenceClassifier,
    texts: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    folds: list[Fold],
    classes: list[str],
    fractions: Sequence[float],
    seed: int,
    full: np.ndarray,
) -> tuple[list[LearningPoint], int]:
    rng = np.random.default_rng(seed)
    # one permutation of each fold's training articles, drawn in fold order: nested subsets
    orders = [rng.permutation(np.asarray(pd.unique(groups[train]), dtype=object)) for train, _ in folds]
    points, single = [], 0
    for fraction in fractions:
        if fraction == 1.0:
            n_articles = [len(order) for order in orders]
            proba = full
        else:
            proba = np.zeros_like(full)
            n_articles = []
            for (train, test), order in zip(folds, orders, strict=True):
                chosen = order[: max(1, math.ceil(fraction * len(order)))]
                subset = train[np.isin(groups[train], chosen)]
                proba[test], was_single = _fit_proba(estimator, texts, labels, subset, test, classes)
                single += was_single
                n_articles.append(len(chosen))
        accuracy, macro = _scores(labels, proba, classes)
        points.append(LearningPoint(float(fraction), float(np.mean(n_articles)), accuracy, macro))
    return points, single


def _as_array(values: Sequence[Any] | pd.Series | np.ndarray, name: str) -> np.ndarray:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | pd.Series | np.ndarray):
        raise InputError(f"{name} must be a sequence (one per sentence), got {type(values).__name__}")
    return np.asarray(list(values), dtype=object)


def cross_validate_field(
    texts: Sequence[str] | pd.Series,
    labels: Sequence[str] | pd.Series,
    groups: Sequence[Any] | pd.Series,
    seed: int,
    n_splits: int = 5,
    *,
    estimator: SentenceClassifier | None = None,
    fractions: Sequence[float] = FRACTIONS,
) -> FieldReport:
    """Article-grouped cross-validation of ``estimator`` (default ``SentenceClassifier(seed=seed)``).

    ``texts``, ``labels`` (non-empty strings, at least two distinct) and ``groups`` (article
    ids, no missing value) are parallel sequences; ``n_splits`` an int ≥ 2; ``fractions`` the
    learning curve's shares of training articles, each in (0, 1] (1.0 reuses the
    cross-validation's own predictions). A fold whose training sentences all have one
    label predicts that label with probability 1 (counted in ``single_class_fits``); each fold's
    model is calibrated or not by the classifier's own rule (every label of its training
    sentences at least 3 times). Bad input
    is an InputError; the result is a function of the inputs and ``seed`` alone.
    """
    seed = check_seed(seed)
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) or n_splits < 2:
        raise InputError(f"n_splits must be an int >= 2, got {n_splits!r}")
    fractions = sorted({float(f) for f in fractions})
    if not fractions or not all(0.0 < f <= 1.0 for f in fractions):
        raise InputError(f"learning-curve fractions must lie in (0, 1], got {fractions!r}")
    X = _as_array(texts, "texts")
    y = _as_array(labels, "labels")
    g = _as_array(groups, "groups")
    if not len(X) == len(y) == len(g):
        raise InputError(f"texts, labels and groups differ in length ({len(X)}, {len(y)}, {len(g)})")
    if not all(isinstance(t, str) for t in X):
        raise InputError("every text must be a string")
    if not all(isinstance(v, str) and v for v in y):
        raise InputError("every label must be a non-empty string (leave unlabelled sentences out)")
    if pd.isna(pd.Series(g)).any():
        raise InputError("every sentence needs an article id (groups has missing values)")
    classes = sorted({str(v) for v in y})
    if len(classes) < 2:
        raise InputError(f"only one label ({classes[0]!r} if any): nothing to cross-validate")
    template = estimator if estimator is not None else SentenceClassifier(seed=seed)

    folds, splitter = article_folds(y, g, n_splits, seed)
    proba = np.zeros((len(y), len(classes)))
    majority = np.empty(len(y), dtype=object)
    single = 0
    for train, test in folds:
        proba[test], was_single = _fit_proba(template, X, y, train, test, classes)
        single += was_single
        names, counts = np.unique(y[train], return_counts=True)
        majority[test] = names[np.argmax(counts)]  # first in sorted order on a tie

    accuracy, macro = _scores(y, proba, classes)
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    per_label: dict[str, dict[str, float | int]] = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(classes)
    }
    curve, curve_single = _learning_curve(template, X, y, g, folds, classes, fractions, seed, proba)
    return FieldReport(
        classes=classes,
        n_labels=len(y),
        n_articles=len(pd.unique(g)),
        splitter=splitter,
        folds=folds,
        oof_proba=proba,
        accuracy=accuracy,
        macro_f1=macro,
        per_label=per_label,
        ece=expected_calibration_error(proba, y, classes),
        majority_baseline=float(accuracy_score(y, majority)),
        learning_curve=curve,
        single_class_fits=single + curve_single,
    )

"""Dawid–Skene aggregation: each annotator's confusion matrix and a posterior label per sentence.

In: answers, one row per unit (sentence) × annotator with the label given (the shape of
``annotate.quality.agreement.choice_answers``, one field at a time), and the field's labels in
config order.
Out: per unit the posterior distribution over the true label, its most probable label and
that label's probability; per annotator a confusion matrix and a reliability figure; the
label priors.

The model (Dawid & Skene 1979, "Maximum likelihood estimation of observer error-rates using
the EM algorithm", Applied Statistics 28(1), 20–28): unit ``i`` has a hidden true label
``z_i`` drawn with probability ``p_k``; annotator ``a`` shown a unit whose true label is
``k`` answers ``l`` with probability ``pi[a, k, l]``, independently of everything else. With
answers ``j = 1..n`` given as ``(u_j, a_j, l_j)``, ``K`` labels, ``N`` units and the
smoothing ``s > 0``, EM alternates, starting from the soft majority vote
``T[i, k] = n_ik / n_i`` (share of unit ``i``'s answers that are ``k``):

M-step (smoothed maximum likelihood, so unseen cells are small but never 0)::

    p_k        = (sum_i T[i, k] + s) / (N + K s)
    pi[a, k, l] = (sum_{j: a_j = a, l_j = l} T[u_j, k] + s) / (sum_{j: a_j = a} T[u_j, k] + K s)

E-step (in log space, normalised with the max-shift so no unit underflows)::

    log T[i, k] = log p_k + sum_{j: u_j = i} log pi[a_j, k, l_j] - log Z_i

and stops when ``max_{i,k} |T_new[i, k] - T_old[i, k]| < tol`` or after ``max_iter`` rounds.
EM finds a local maximum of the (smoothed) likelihood; starting from the majority vote keeps
it next to the labelling a reader would expect, and makes the result deterministic.

Everything runs on integer codes with ``np.bincount`` (no Python loop over answers): one
round over a million answers takes a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import pandas as pd

from annotate.errors import InputError
from annotate.quality.agreement import check_choice_fields

__all__ = [
    "DS_LABEL_COLUMNS",
    "DS_RELIABILITY_COLUMNS",
    "DawidSkeneResult",
    "FieldAggregates",
    "dawid_skene",
    "dawid_skene_fields",
]

DS_LABEL_COLUMNS = ["sentence_id", "field", "ds_label", "ds_probability"]
DS_RELIABILITY_COLUMNS = ["annotator", "field", "ds_reliability"]


@dataclass(frozen=True, eq=False)
class DawidSkeneResult:
    """What ``dawid_skene`` estimated. Arrays are read-only; indices follow the lists.

    ``posteriors[i, k]`` = P(true label of ``units[i]`` is ``labels[k]``), rows sum to 1;
    ``confusion[a, k, l]`` = P(``annotators[a]`` answers ``labels[l]`` | true label
    ``labels[k]``), each ``confusion[a, k]`` sums to 1; ``priors[k]`` = P(true label is
    ``labels[k]``). ``iterations`` counts EM rounds (M-step + E-step); ``converged`` is
    False when ``max_iter`` ran out before the posteriors settled within ``tol``.
    """

    labels: list[str]
    units: list[str]
    annotators: list[str]
    posteriors: np.ndarray
    confusion: np.ndarray
    priors: np.ndarray
    iterations: int
    converged: bool

    def table(self) -> pd.DataFrame:
        """One row per unit (sorted): ``unit``, ``label`` (the most probable one; a tie goes to
        the label first in ``labels`` order) and ``probability`` (its posterior)."""
        best = np.argmax(self.posteriors, axis=1)
        return pd.DataFrame(
            {
                "unit": self.units,
                "label": [self.labels[k] for k in best.tolist()],
                "probability": self.posteriors[np.arange(len(best)), best].astype(np.float64),
            }
        )

    def reliability(self) -> pd.Series:
        """Per annotator (sorted), the probability of giving the true label on a unit drawn from
        the priors: ``sum_k priors[k] * confusion[a, k, k]``."""
        values = np.einsum("akk,k->a", self.confusion, self.priors)
        return pd.Series(values, index=pd.Index(self.annotators, name="annotator"), name="reliability")


class FieldAggregates(NamedTuple):
    """``dawid_skene_fields``'s two tables; unpack as ``labels, reliability = ...``."""

    labels: pd.DataFrame
    """``sentence_id, field, ds_label, ds_probability``: one row per sentence × field answered."""
    reliability: pd.DataFrame
    """``annotator, field, ds_reliability``: one row per annotator × field they answered."""


# -- input checks ---------------------------------------------------------------------------


def _check_labels(labels: object) -> list[str]:
    if isinstance(labels, str) or not isinstance(labels, Sequence) or not labels:
        raise InputError(
            f"labels must be the field's non-empty list of labels in config order, e.g. "
            f"['Fact', 'Opinion'], got {labels!r}"
        )
    if not all(isinstance(label, str) for label in labels):
        raise InputError(f"labels must all be text, got {list(labels)!r}")
    duplicates = sorted({label for label in labels if list(labels).count(label) > 1})
    if duplicates:
        raise InputError(f"labels lists {', '.join(map(repr, duplicates))} more than once; give each once")
    return list(labels)


def _check_options(max_iter: object, tol: object, smoothing: object) -> None:
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral) or max_iter < 1:
        raise InputError(f"max_iter must be a whole number of EM rounds >= 1, e.g. 100; got {max_iter!r}")
    if isinstance(tol, bool) or not isinstance(tol, Real) or not 0 <= float(tol) < np.inf:
        raise InputError(f"tol must be a number >= 0, e.g. 1e-6; got {tol!r}")
    if isinstance(smoothing, bool) or not isinstance(smoothing, Real) or not 0 < float(smoothing) < np.inf:
        raise InputError(
            f"smoothing must be a number > 0 (it keeps unseen confusion cells off 0), e.g. 0.01; "
            f"got {smoothing!r}"
        )


def _check_columns(answers: object, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(answers, pd.DataFrame):
        raise InputError(
            f"answers must be a pandas DataFrame, got {type(answers).__name__}; "
            "pass one row per unit × annotator, e.g. from annotate.quality.agreement.choice_answers()"
        )
    if len(set(columns)) != len(columns):
        raise InputError(f"the unit, annotator and label columns must differ, got {list(columns)!r}")
    missing = [c for c in columns if c not in answers.columns]
    if missing and len(answers):
        raise InputError(
            f"answers has no column(s) {', '.join(map(repr, missing))} (it has "
            f"{', '.join(map(repr, answers.columns))}); rename them, or name the columns "
            "with unit=, annotator=, label="
        )
    return answers


def _encode(
    answers: pd.DataFrame, labels: list[str], unit: str, annotator: str, label: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    """Integer codes of the answers, with the sorted units and annotators; checks the values."""
    for column in (unit, annotator, label):
        empty = answers[column].isna().to_numpy()
        if empty.any():
            raise InputError(
                f"answers has {int(empty.sum())} row(s) without a {column!r}; drop them first "
                f"(e.g. answers.dropna(subset=[{column!r}]))"
            )
    label_codes = pd.Index(labels).get_indexer(pd.Index(answers[label])).astype(np.int64)
    if (label_codes < 0).any():
        unknown = pd.unique(answers[label][label_codes < 0])[:5]
        raise InputError(
            f"answers use label(s) {', '.join(map(repr, unknown))} missing from labels {labels!r}; "
            "add them to labels (the field's config labels) or correct the answers"
        )
    try:
        unit_codes, units = pd.factorize(answers[unit], sort=True)
        annotator_codes, annotators = pd.factorize(answers[annotator], sort=True)
    except TypeError as err:
        raise InputError(
            f"the {unit!r} and {annotator!r} values must be sortable ids of one type (e.g. all text): {err}"
        ) from err
    unit_codes = unit_codes.astype(np.int64)
    annotator_codes = annotator_codes.astype(np.int64)

    pairs = np.sort(unit_codes * len(annotators) + annotator_codes)
    repeated = np.flatnonzero(pairs[1:] == pairs[:-1])
    if len(repeated):
        pair = int(pairs[repeated[0]])
        raise InputError(
            f"annotator {annotators[pair % len(annotators)]!r} answered {unit} "
            f"{units[pair // len(annotators)]!r} more than once ({len(repeated)} repeated pair(s)); "
            "keep one answer per unit and annotator, e.g. the latest, as choice_answers() does"
        )
    return (
        unit_codes,
        annotator_codes,
        label_codes,
        units.astype(str).tolist(),
        annotators.astype(str).tolist(),
    )


# -- EM ---------------------------------------------------------------------------------------


def _m_step(
    posteriors: np.ndarray,
    unit_codes: np.ndarray,
    cell: np.ndarray,
    n_annotators: int,
    smoothing: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Priors (K) and confusion (A × K true × K given) from the posteriors (K × N)."""
    k, n_units = posteriors.shape
    # cell = annotator * K + given label; sum T[u_j, true] over the answers j in each cell
    mass = np.empty((k, n_annotators * k))
    for true in range(k):
        mass[true] = np.bincount(cell, weights=posteriors[true][unit_codes], minlength=n_annotators * k)
    confusion = mass.reshape(k, n_annotators, k).transpose(1, 0, 2) + smoothing
    confusion /= confusion.sum(axis=2, keepdims=True)
    priors = (posteriors.sum(axis=1) + smoothing) / (n_units + k * smoothing)
    return priors, confusion


def _e_step(
    priors: np.ndarray,
    confusion: np.ndarray,
    unit_codes: np.ndarray,
    cell: np.ndarray,
    n_units: int,
) -> np.ndarray:
    """Posteriors (K × N, label-major so the per-unit reductions run over long rows)."""
    n_annotators, k, _ = confusion.shape
    # log pi[a, true, given] laid out as true × (a * K + given), to be read at each answer's cell
    log_by_cell = np.log(confusion).transpose(1, 0, 2).reshape(k, n_annotators * k)
    log_joint = np.empty((k, n_units))
    for true in range(k):
        log_joint[true] = np.bincount(unit_codes, weights=log_by_cell[true][cell], minlength=n_units)
    log_joint += np.log(priors)[:, np.newaxis]
    log_joint -= log_joint.max(axis=0)
    posteriors = np.exp(log_joint, out=log_joint)
    posteriors /= posteriors.sum(axis=0)
    return posteriors


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def dawid_skene(
    answers: pd.DataFrame,
    labels: Sequence[str],
    *,
    unit: str = "sentence_id",
    annotator: str = "annotator",
    label: str = "label",
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
) -> DawidSkeneResult:
    """Fit the Dawid–Skene model by EM (formulas in the module docstring).

    In: ``answers`` with one row per unit × annotator (columns named by ``unit``,
    ``annotator``, ``label``; other columns are ignored) for one field, and that field's
    ``labels`` in config order (labels nobody used are fine: they get a prior near 0).
    ``max_iter`` caps the EM rounds, ``tol`` is the largest change of any posterior that
    counts as settled, ``smoothing`` the pseudo-count added to every prior and confusion cell.
    Out: a ``DawidSkeneResult``; ``.table()`` gives each unit's label and its probability,
    ``.reliability()`` each annotator's figure. Units and annotators are in sorted order and
    given as text. An input without rows gives empty units, annotators and posteriors, uniform
    priors, ``iterations == 0`` and ``converged == True``.

    Raises InputError for a table without the columns, missing values, labels outside
    ``labels``, an annotator answering a unit twice, or bad options.

    Annotators a and b agree on s1–s4, c contradicts them twice; on s5 only a and c answered,
    and disagree: the majority vote ties, Dawid–Skene sides with a.

    >>> given = {"s1": "FFO", "s2": "OOO", "s3": "FFF", "s4": "OOF", "s5": "F-O"}  # by a, b, c
    >>> answers = pd.DataFrame(
    ...     [(s, a, {"F": "Fact", "O": "Opinion"}[x]) for s, row in given.items()
    ...      for a, x in zip("abc", row) if x != "-"],
    ...     columns=["sentence_id", "annotator", "label"],
    ... )
    >>> result = dawid_skene(answers, ["Fact", "Opinion"])
    >>> result.converged, result.annotators
    (True, ['a', 'b', 'c'])
    >>> result.table().round(3)
      unit    label  probability
    0   s1     Fact        1.000
    1   s2  Opinion        1.000
    2   s3     Fact        1.000
    3   s4  Opinion        1.000
    4   s5     Fact        0.997
    >>> result.reliability().round(2).tolist()
    [1.0, 1.0, 0.4]
    """
    columns = [unit, annotator, label]
    labels = _check_labels(labels)
    _check_options(max_iter, tol, smoothing)
    answers = _check_columns(answers, columns)
    k = len(labels)

    if not len(answers):
        return DawidSkeneResult(
            labels=labels,
            units=[],
            annotators=[],
            posteriors=_frozen(np.zeros((0, k))),
            confusion=_frozen(np.zeros((0, k, k))),
            priors=_frozen(np.full(k, 1.0 / k)),
            iterations=0,
            converged=True,
        )

    unit_codes, annotator_codes, label_codes, units, annotators = _encode(
        answers, labels, unit, annotator, label
    )
    n_units, n_annotators = len(units), len(annotators)
    cell = annotator_codes * k + label_codes

    counts = np.bincount(label_codes * n_units + unit_codes, minlength=k * n_units).reshape(k, n_units)
    posteriors = counts / counts.sum(axis=0)

    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        priors, confusion = _m_step(posteriors, unit_codes, cell, n_annotators, float(smoothing))
        updated = _e_step(priors, confusion, unit_codes, cell, n_units)
        change = float(np.abs(updated - posteriors).max())
        posteriors = updated
        if change < tol:
            converged = True
            break

    return DawidSkeneResult(
        labels=labels,
        units=units,
        annotators=annotators,
        posteriors=_frozen(np.ascontiguousarray(posteriors.T)),
        confusion=_frozen(confusion),
        priors=_frozen(priors),
        iterations=iterations,
        converged=converged,
    )


def dawid_skene_fields(
    answers: pd.DataFrame,
    choice_fields: Mapping[str, Sequence[str]],
    *,
    unit: str = "sentence_id",
    annotator: str = "annotator",
    label: str = "label",
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
) -> FieldAggregates:
    """Dawid–Skene per single-choice field, as tables to set beside the majority labels.

    In: answers shaped like ``choice_answers(annotations, choice_fields)`` (columns
    ``sentence_id, field, annotator, label``; rows of fields missing from ``choice_fields``
    are left out) and ``choice_fields`` (field -> labels in config order). The keyword
    options are those of ``dawid_skene``; each field is fitted on its own.
    Out: ``FieldAggregates(labels, reliability)``, a named tuple of two DataFrames:
    ``labels`` with columns ``sentence_id, field, ds_label, ds_probability`` (one row per
    sentence × field with an answer) and ``reliability`` with ``annotator, field,
    ds_reliability`` (one row per annotator × field they answered; see
    ``DawidSkeneResult.reliability``). Rows go by field in ``choice_fields`` order, then
    sorted ``sentence_id`` / annotator. With ``unit=`` or ``annotator=`` given, those names
    replace ``sentence_id`` / ``annotator`` in the output too.
    """
    check_choice_fields(choice_fields)
    answers = _check_columns(answers, [unit, annotator, label])
    if len(answers) and "field" not in answers.columns:
        raise InputError(
            "answers has no 'field' column; pass the table made by "
            "annotate.quality.agreement.choice_answers(), or call dawid_skene() once per field"
        )
    by_field = dict(tuple(answers.groupby("field", sort=False))) if len(answers) else {}

    label_tables, reliability_tables = [], []
    for field, labels in choice_fields.items():
        if field not in by_field:
            continue
        try:
            result = dawid_skene(
                by_field[field],
                labels,
                unit=unit,
                annotator=annotator,
                label=label,
                max_iter=max_iter,
                tol=tol,
                smoothing=smoothing,
            )
        except InputError as err:
            raise InputError(f"field {field!r}: {err}") from err
        table = result.table()
        label_tables.append(
            pd.DataFrame(
                {
                    unit: table["unit"],
                    "field": field,
                    "ds_label": table["label"],
                    "ds_probability": table["probability"],
                }
            )
        )
        reliability = result.reliability()
        reliability_tables.append(
            pd.DataFrame(
                {
                    annotator: reliability.index.to_numpy(dtype=object),
                    "field": field,
                    "ds_reliability": reliability.to_numpy(dtype=np.float64),
                }
            )
        )

    label_columns = [unit, "field", "ds_label", "ds_probability"]
    reliability_columns = [annotator, "field", "ds_reliability"]
    return FieldAggregates(
        labels=_concat(label_tables, label_columns, "ds_probability"),
        reliability=_concat(reliability_tables, reliability_columns, "ds_reliability"),
    )


def _concat(tables: list[pd.DataFrame], columns: list[str], number: str) -> pd.DataFrame:
    if not tables:
        return pd.DataFrame({c: pd.Series(dtype=np.float64 if c == number else object) for c in columns})
    return pd.concat(tables, ignore_index=True)[columns].astype({number: np.float64})

"""Inter-annotator agreement on the single-choice fields (stance per target, sentence type).

In: the tidy annotations table made by ``annotate.pull`` (one row per annotation × field ×
label or span; see DESIGN.md) and ``choice_fields``, a mapping of each single-choice field
name (``stance_<target id>``, ``sentence_type``) to its labels in config order.
Out: Krippendorff's alpha and percent agreement per field.

A *unit* is a sentence, a *coder* an annotator. Labels are encoded as their index in the
field's label list, so ``nominal`` is the meaningful level for stance and sentence type;
the other levels are there for ordered scales.

Skipped (cancelled) annotations never count. When one annotator has several submitted
annotations of one sentence, only the most recently updated one counts.

The worked example used in the doctests is Krippendorff's reliability data (Krippendorff,
2011, "Computing Krippendorff's Alpha-Reliability"): 4 coders, 12 units, values 1-5,
published alpha 0.743 (nominal), 0.815 (ordinal), 0.849 (interval).

>>> nan = np.nan
>>> example = np.array([
...     [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
...     [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
...     [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
...     [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
... ])
>>> round(krippendorff_alpha(example), 3)
0.743
>>> round(krippendorff_alpha(example, level="ordinal"), 3)
0.815
>>> round(krippendorff_alpha(example, level="interval"), 3)
0.849
>>> round(percent_agreement(example), 3)
0.818
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, get_args

import krippendorff
import numpy as np
import pandas as pd

from annotate.errors import ExportError, InputError

__all__ = [
    "AGREEMENT_COLUMNS",
    "ANSWER_COLUMNS",
    "Level",
    "choice_answers",
    "field_agreement",
    "krippendorff_alpha",
    "percent_agreement",
    "reliability_matrix",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]

AGREEMENT_COLUMNS = ["field", "krippendorff_alpha", "percent_agreement", "units", "annotators"]
ANSWER_COLUMNS = ["sentence_id", "doc_id", "field", "annotator", "annotation_id", "label"]

_REQUIRED = (
    "sentence_id",
    "doc_id",
    "annotation_id",
    "annotator",
    "field",
    "label",
    "updated_at",
    "cancelled",
)
_FIX_TABLE = "pass the annotations table made by annotate.pull (or run `annotate pull --full`)"


# -- input checks ---------------------------------------------------------------------------


def check_annotations(annotations: object, required: Sequence[str] = _REQUIRED) -> None:
    """Raise ExportError unless ``annotations`` is a DataFrame with the ``required`` columns."""
    if not isinstance(annotations, pd.DataFrame):
        raise ExportError(
            f"annotations must be a pandas DataFrame, got {type(annotations).__name__}; {_FIX_TABLE}"
        )
    missing = [column for column in required if column not in annotations.columns]
    if missing:
        raise ExportError(f"annotations table is missing column(s) {', '.join(missing)}; {_FIX_TABLE}")


def check_choice_fields(choice_fields: object) -> None:
    """Raise InputError unless ``choice_fields`` maps field names to non-empty label lists."""
    if not isinstance(choice_fields, Mapping):
        raise InputError(
            "choice_fields must map each single-choice field name to its labels, e.g. "
            f"{{'stance_china': ['Favor', 'Against']}}; got {type(choice_fields).__name__}"
        )
    for field, labels in choice_fields.items():
        if not isinstance(field, str) or not field:
            raise InputError(f"choice_fields has a key {field!r}; field names are non-empty text")
        if isinstance(labels, str) or not isinstance(labels, Sequence):
            raise InputError(
                f"choice_fields[{field!r}] must be a list of labels in config order, "
                f"got {type(labels).__name__}"
            )
        if not labels:
            raise InputError(
                f"choice_fields[{field!r}] has no labels; leave the field out when the config has none"
            )
        if not all(isinstance(label, str) for label in labels):
            raise InputError(f"choice_fields[{field!r}] labels must all be text, got {labels!r}")
        duplicates = sorted({label for label in labels if list(labels).count(label) > 1})
        if duplicates:
            raise InputError(
                f"choice_fields[{field!r}] lists {', '.join(map(repr, duplicates))} more than once; "
                "give each label once, in config order"
            )


def _as_matrix(matrix: object) -> np.ndarray:
    try:
        data = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError) as err:
        raise InputError(
            "the reliability matrix must hold numbers (coders × units, NaN for missing); "
            "encode labels first, e.g. with reliability_matrix()"
        ) from err
    if data.ndim != 2:
        raise InputError(
            f"the reliability matrix must be 2-D (coders × units), got shape {data.shape}; "
            "for a single coder use matrix[np.newaxis, :]"
        )
    if np.isinf(data).any():
        raise InputError("the reliability matrix holds infinite values; use NaN for missing ones")
    return data


# -- the tidy table → answers → matrices -----------------------------------------------------


def choice_answers(annotations: pd.DataFrame, choice_fields: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """The answers that count: one row per sentence × choice field × annotator.

    In: the tidy annotations table (needs ``sentence_id, doc_id, annotation_id, annotator,
    field, label, updated_at, cancelled``) and ``choice_fields`` (field -> labels).
    Out: columns ``sentence_id, doc_id, field, annotator, annotation_id, label``, taken from
    each annotator's most recently updated non-cancelled annotation of each sentence (ties on
    ``updated_at`` go to the higher ``annotation_id``). Rows of other fields (``cues``,
    ``comment``, fields missing from ``choice_fields``), empty labels and rows without a
    ``sentence_id`` or ``annotator`` are left out.

    Raises ExportError when a label is not in its field's list, or when one annotation has
    several labels for one single-choice field.
    """
    check_annotations(annotations)
    check_choice_fields(choice_fields)

    cancelled = annotations["cancelled"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    submitted = annotations.loc[~cancelled]
    latest = (
        submitted[["sentence_id", "annotator", "annotation_id", "updated_at"]]
        .drop_duplicates("annotation_id")
        .sort_values(["updated_at", "annotation_id"], kind="stable", na_position="first")
        .drop_duplicates(["sentence_id", "annotator"], keep="last")["annotation_id"]
    )
    keep = (
        submitted["annotation_id"].isin(latest)
        & submitted["field"].isin(list(choice_fields))
        & submitted["label"].notna()
        & submitted["sentence_id"].notna()
        & submitted["annotator"].notna()
    )
    answers = submitted.loc[keep.to_numpy(dtype=bool), ANSWER_COLUMNS].reset_index(drop=True)

    repeated = answers.duplicated(["annotation_id", "field"], keep=False)
    if repeated.any():
        first = answers.loc[repeated.to_numpy(dtype=bool)].iloc[0]
        raise ExportError(
            f"annotation {first['annotation_id']} has several labels for {first['field']!r}, "
            f'which must be single-choice; set choice="single" on that <Choices> and fix the '
            "annotation in Label Studio, then pull again"
        )

    pairs = [(field, label) for field, labels in choice_fields.items() for label in labels]
    valid = pd.MultiIndex.from_arrays([[f for f, _ in pairs], [label for _, label in pairs]])
    known = pd.MultiIndex.from_frame(answers[["field", "label"]]).isin(valid)
    if not known.all():
        unknown = answers.loc[~known, ["field", "label"]].drop_duplicates().head(5)
        listed = ", ".join(f"{row.field}={row.label!r}" for row in unknown.itertuples())
        raise ExportError(
            f"annotations use label(s) missing from the config: {listed}; add them to the "
            "config's labels (or correct the annotations in Label Studio) and summarize again"
        )
    return answers


def _unit_value_counts(answers: pd.DataFrame, labels: Sequence[str]) -> np.ndarray:
    """units × labels answer counts of one field's answers (units in sorted sentence_id order)."""
    unit_codes, units = pd.factorize(answers["sentence_id"], sort=True)
    label_codes = pd.Categorical(answers["label"], categories=list(labels)).codes.astype(np.int64)
    width = len(labels)
    counts = np.bincount(unit_codes * width + label_codes, minlength=len(units) * width)
    return counts.reshape(len(units), width)


def reliability_matrix(
    annotations: pd.DataFrame, field: str, labels: Sequence[str]
) -> tuple[np.ndarray, list[str], list[str]]:
    """Coders × units matrix of one field's labels, encoded as their index in ``labels``.

    In: the tidy annotations table, a choice field name and its labels in config order.
    Out: ``(matrix, coders, units)``: a float array with one row per annotator (sorted
    e-mails, ``coders``) and one column per sentence with at least one answer (sorted
    ``sentence_id``, ``units``); NaN where the annotator gave no answer.

    >>> table = pd.DataFrame({
    ...     "sentence_id": ["s1", "s1", "s2"], "doc_id": "d1", "annotation_id": [1, 2, 3],
    ...     "annotator": ["a@x", "b@x", "a@x"], "field": "sentence_type",
    ...     "label": ["Opinion", "Fact", "Fact"], "updated_at": pd.Timestamp(0, tz="UTC"),
    ...     "cancelled": False,
    ... })
    >>> matrix, coders, units = reliability_matrix(table, "sentence_type", ["Fact", "Opinion"])
    >>> matrix
    array([[ 1.,  0.],
           [ 0., nan]])
    >>> coders, units
    (['a@x', 'b@x'], ['s1', 's2'])
    """
    if not isinstance(field, str):
        raise InputError(f"field must be a field name such as 'stance_china', got {field!r}")
    answers = choice_answers(annotations, {field: list(labels)})
    unit_codes, units = pd.factorize(answers["sentence_id"], sort=True)
    coder_codes, coders = pd.factorize(answers["annotator"], sort=True)
    label_codes = pd.Categorical(answers["label"], categories=list(labels)).codes
    matrix = np.full((len(coders), len(units)), np.nan)
    matrix[coder_codes, unit_codes] = label_codes
    return matrix, [str(c) for c in coders], [str(u) for u in units]


# -- coefficients ---------------------------------------------------------------------------


def _matrix_value_counts(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """units × distinct values counts of a coders × units matrix, and the sorted values."""
    present = ~np.isnan(data)
    _, unit_idx = np.nonzero(present)
    domain, value_codes = np.unique(data[present], return_inverse=True)
    width = max(len(domain), 1)
    counts = np.bincount(unit_idx * width + value_codes, minlength=data.shape[1] * width)
    return counts.reshape(data.shape[1], width), domain


def _alpha_from_counts(counts: np.ndarray, domain: np.ndarray, level: Level) -> float:
    pairable = counts[counts.sum(axis=1) >= 2]
    # alpha is 0/0 with no pairable unit or a single value among the pairable ones;
    # the package raises or warns there, so answer NaN first.
    if (pairable.sum(axis=0) > 0).sum() < 2:
        return float("nan")
    return float(krippendorff.alpha(value_counts=pairable, value_domain=domain, level_of_measurement=level))


def _percent_from_counts(counts: np.ndarray) -> float:
    m = counts.sum(axis=1)
    pairable = m >= 2
    if not pairable.any():
        return float("nan")
    agreeing = (counts[pairable] * (counts[pairable] - 1)).sum(axis=1)
    return float(np.mean(agreeing / (m[pairable] * (m[pairable] - 1))))


def krippendorff_alpha(matrix: object, level: Level = "nominal") -> float:
    """Krippendorff's alpha of a coders × units matrix (NaN = missing), via ``krippendorff``.

    ``level`` is one of ``nominal``, ``ordinal``, ``interval``, ``ratio``. Returns NaN,
    rather than raising, when alpha is undefined: no unit has two or more values, or the
    values in such units are all the same (no variation, so expected disagreement is 0).

    >>> krippendorff_alpha([[1, 2, 3], [1, 2, 3]])
    1.0
    >>> krippendorff_alpha([[1, 1], [1, 1]])  # one value only: undefined
    nan
    >>> krippendorff_alpha([[1, np.nan], [np.nan, 2]])  # nothing pairable: undefined
    nan
    """
    if level not in get_args(Level):
        raise InputError(
            f"level must be one of {', '.join(get_args(Level))}, got {level!r}; "
            "use 'nominal' for unordered labels"
        )
    counts, domain = _matrix_value_counts(_as_matrix(matrix))
    return _alpha_from_counts(counts, domain, level)


def percent_agreement(matrix: object) -> float:
    """Observed pairwise agreement of a coders × units matrix (NaN = missing), in [0, 1].

    With ``m_u`` values in unit ``u`` and ``n_uv`` of them equal to ``v``, over the set ``U``
    of units with ``m_u >= 2``::

        P = 1/|U| * sum_{u in U} sum_v n_uv * (n_uv - 1) / (m_u * (m_u - 1))

    i.e. per unit, the share of ordered pairs of different coders that agree, averaged over
    units. NaN when no unit has two values.

    >>> percent_agreement([[1, 1, 2], [1, 2, np.nan], [1, 2, np.nan]])  # (1 + 1/3) / 2
    0.6666666666666666
    """
    counts, _ = _matrix_value_counts(_as_matrix(matrix))
    return _percent_from_counts(counts)


def field_agreement(annotations: pd.DataFrame, choice_fields: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Agreement per single-choice field.

    In: the tidy annotations table and ``choice_fields`` (field -> labels, config order).
    Out: one row per field of ``choice_fields``, in its order, with columns
    ``field, krippendorff_alpha, percent_agreement, units, annotators``: nominal alpha and
    percent agreement (NaN when undefined), ``units`` = sentences with two or more answers
    (the pairable ones), ``annotators`` = distinct annotators with at least one answer.
    """
    answers = choice_answers(annotations, choice_fields)
    by_field = dict(tuple(answers.groupby("field", sort=False)))
    rows = []
    for field, labels in choice_fields.items():
        part = by_field.get(field, answers.iloc[:0])
        counts = _unit_value_counts(part, labels)
        domain = np.arange(len(labels))
        rows.append(
            {
                "field": field,
                "krippendorff_alpha": _alpha_from_counts(counts, domain, "nominal"),
                "percent_agreement": _percent_from_counts(counts),
                "units": int((counts.sum(axis=1) >= 2).sum()),
                "annotators": int(part["annotator"].nunique()),
            }
        )
    table = pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
    return table.astype(
        {"krippendorff_alpha": float, "percent_agreement": float, "units": int, "annotators": int}
    )

"""Inter-annotator agreement on the single-choice fields (stance per target, sentence type).

In: the tidy annotations table made by ``annotate.studio.pull`` (one row per annotation × field ×
label or span; columns in ``annotate.columns``) and ``choice_fields``, a mapping of each
single-choice field name (``stance_<target id>``, ``sentence_type``) to its labels in config order.
Out: ``field_agreement`` (one row per field: Krippendorff's alpha with a bootstrap interval,
percent agreement, Fleiss' kappa, Gwet's AC1, counts) and ``pairwise_kappa`` (Cohen's kappa
per annotator pair and field). ``annotate.quality.spans`` applies the same coefficients to cue tokens.

A *unit* is a sentence, a *coder* an annotator. Labels are encoded as their index in the
field's label list, so ``nominal`` treats them as unordered and ``ordinal`` as a scale in
config order. Only alpha has a level; kappa, AC1 and percent agreement are unweighted.

Skipped (cancelled) annotations never count. When one annotator has several submitted
annotations of one sentence, only the most recently updated one counts.

Libraries do the standard parts: ``krippendorff`` alpha's point estimate, statsmodels'
``fleiss_kappa`` (equal ratings per unit), scikit-learn's ``cohen_kappa_score``. Written
here: Fleiss' kappa for unequal ratings per unit and Gwet's AC1 (Gwet 2014, as in the
irrCAC packages), and alpha from summed coincidence matrices for the bootstrap.

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

The same data as units × values counts; Gwet's handbook values (irrCAC's README for
``cac.raw4raters``): Fleiss' kappa 0.76117, AC1 0.77544.

>>> counts, _ = _matrix_value_counts(example)
>>> round(fleiss_kappa(counts), 5), round(gwet_ac1(counts), 5)
(0.76117, 0.77544)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as _statsmodels_fleiss_kappa

from annotate.columns import AGREEMENT_COLUMNS, PAIR_COLUMNS
from annotate.errors import ExportError, InputError

__all__ = [
    "AGREEMENT_COLUMNS",
    "ANSWER_COLUMNS",
    "PAIR_COLUMNS",
    "Level",
    "agreement_row",
    "alpha_from_coincidences",
    "bootstrap_coincidences",
    "choice_answers",
    "coincidences",
    "counted_annotations",
    "field_agreement",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "pairwise_kappa",
    "percent_agreement",
    "percentile_interval",
    "percentile_intervals",
    "reliability_matrix",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
Seed = int | Sequence[int]

ANSWER_COLUMNS = ["sentence_id", "doc_id", "field", "annotator", "annotation_id", "label"]
CONFIDENCE = 0.95

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
_FIX_TABLE = "pass the annotations table made by annotate.studio.pull (or run `annotate pull --full`)"
# bootstrap draws are made in chunks of replicates of about this many cells
_CHUNK_CELLS = 4_000_000


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


def check_levels(levels: object, fields: Sequence[str]) -> dict[str, Level]:
    """``{field: level}`` for every field in ``fields``: ``levels`` filled in with ``nominal``.

    Raises InputError when ``levels`` is not a mapping, names a field not in ``fields`` or
    gives an unknown level.
    """
    if levels is None:
        return dict.fromkeys(fields, "nominal")
    if not isinstance(levels, Mapping):
        raise InputError(
            "levels must map field names to a level of measurement, e.g. {'stance_china': 'ordinal'}; "
            f"got {type(levels).__name__} (ProjectConfig.levels() gives it)"
        )
    unknown = [field for field in levels if field not in fields]
    if unknown:
        raise InputError(
            f"levels names field(s) {', '.join(map(repr, unknown))} that are not choice fields "
            f"({', '.join(fields)})"
        )
    for field, level in levels.items():
        if level not in get_args(Level):
            raise InputError(
                f"levels[{field!r}] must be one of {', '.join(get_args(Level))}, got {level!r}; "
                "use 'nominal' for unordered labels"
            )
    return {field: levels.get(field, "nominal") for field in fields}


def check_bootstrap(n_boot: object, seed: object) -> None:
    """Raise InputError unless ``n_boot`` is a whole number >= 0 and ``seed`` a whole number >= 0."""
    for name, value in (("n_boot", n_boot), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise InputError(f"{name} must be a whole number >= 0, got {value!r}")


# -- the tidy table → answers → matrices -----------------------------------------------------


def _submitted(annotations: pd.DataFrame) -> np.ndarray:
    return ~annotations["cancelled"].astype("boolean").fillna(False).to_numpy(dtype=bool)


def counted_annotations(annotations: pd.DataFrame) -> pd.DataFrame:
    """The annotations that count: one per sentence × annotator.

    In: the tidy annotations table (needs ``sentence_id, doc_id, annotation_id, annotator,
    field, label, updated_at, cancelled``).
    Out: columns ``sentence_id, doc_id, annotator, annotation_id``: each annotator's most
    recently updated non-cancelled annotation of each sentence (ties on ``updated_at`` go to
    the higher ``annotation_id``), whether or not it holds any label. Rows without a
    ``sentence_id`` or ``annotator`` are left out. Sorted by ``sentence_id``, ``annotator``.
    """
    check_annotations(annotations)
    rows = annotations.loc[
        _submitted(annotations)
        & annotations["sentence_id"].notna().to_numpy(dtype=bool)
        & annotations["annotator"].notna().to_numpy(dtype=bool),
        ["sentence_id", "doc_id", "annotator", "annotation_id", "updated_at"],
    ]
    latest = (
        rows.drop_duplicates("annotation_id")
        .sort_values(["updated_at", "annotation_id"], kind="stable", na_position="first")
        .drop_duplicates(["sentence_id", "annotator"], keep="last")
    )
    return (
        latest.drop(columns="updated_at")
        .sort_values(["sentence_id", "annotator"], kind="stable")
        .reset_index(drop=True)
    )


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

    latest = counted_annotations(annotations)["annotation_id"]
    submitted = annotations.loc[_submitted(annotations)]
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


# -- coefficients on a units × categories count table ----------------------------------------


def coincidences(counts: np.ndarray, groups: np.ndarray | None = None, n_groups: int = 0) -> np.ndarray:
    """Krippendorff's coincidence matrix, split into per-group parts that add up to it.

    In: ``counts``, units × values (``n_uv`` = coders who gave value ``v`` to unit ``u``);
    optionally ``groups``, the group (0 .. ``n_groups`` - 1) of each unit, e.g. the sentence
    of each token; by default every unit is its own group.
    Out: a groups × V × V float array whose entry ``(g, c, k)`` sums, over the units ``u`` of
    group ``g`` with ``m_u = sum_v n_uv >= 2`` values::

        (n_uc * n_uk - [c == k] * n_uc) / (m_u - 1)

    Summed over groups this is the coincidence matrix ``o_ck``; a unit's part adds up to its
    ``m_u`` pairable values, and units with one value add nothing.

    >>> coincidences(np.array([[2, 1], [1, 0]])).sum(axis=0)
    array([[1., 1.],
           [1., 0.]])
    """
    counts = np.asarray(counts, dtype=float)
    units, width = counts.shape
    values = counts.sum(axis=1)
    scale = np.zeros(units)
    np.divide(1.0, values - 1, out=scale, where=values >= 2)
    size = units if groups is None else n_groups
    parts = np.zeros((size, width, width))
    for c in range(width):
        for k in range(c, width):
            part = counts[:, c] * counts[:, k]
            if c == k:
                part -= counts[:, c]
            part *= scale
            parts[:, c, k] = part if groups is None else np.bincount(groups, part, minlength=size)
            parts[:, k, c] = parts[:, c, k]
    return parts


def _squared_distances(level: Level, values: np.ndarray, n_v: np.ndarray) -> np.ndarray:
    """Krippendorff's metric differences ``delta²_ck`` (V × V, or ... × V × V for ordinal).

    nominal ``[c != k]``; interval ``(c - k)²``; ratio ``((c - k) / (c + k))²`` (0 when
    ``c + k = 0``); ordinal ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)²`` with ``n_g`` the
    marginal counts of the values in rank order, so it depends on ``n_v`` (``... × V``).
    """
    width = len(values)
    if level == "nominal":
        return 1.0 - np.eye(width)
    if level == "interval":
        return np.subtract.outer(values, values) ** 2
    if level == "ratio":
        total = np.add.outer(values, values)
        ratio = np.zeros_like(total)
        np.divide(np.subtract.outer(values, values), total, out=ratio, where=total != 0)
        return ratio**2
    index = np.arange(width)
    low, high = np.minimum.outer(index, index), np.maximum.outer(index, index)
    cumulative = np.cumsum(n_v, axis=-1)
    between = cumulative[..., high] - cumulative[..., low] + n_v[..., low]
    return (between - (n_v[..., :, None] + n_v[..., None, :]) / 2) ** 2


def alpha_from_coincidences(
    matrices: np.ndarray, level: Level = "nominal", values: np.ndarray | None = None
) -> np.ndarray:
    """Krippendorff's alpha of one coincidence matrix (V × V) or a stack of them (... × V × V).

    ``values`` are the V values in rank order (default ``0 .. V-1``; used by the interval and
    ratio metrics). With ``n_c = sum_k o_ck`` and ``n = sum_c n_c``::

        alpha = 1 - (n - 1) * sum_ck o_ck delta²_ck / sum_ck n_c n_k delta²_ck

    NaN where the denominator is 0 (fewer than two distinct pairable values). Equals the
    ``krippendorff`` package on the same data (tested); used where the package would need
    every unit at once (bootstrap replicates, tokens).
    """
    o = np.asarray(matrices, dtype=float)
    width = o.shape[-1]
    domain = np.arange(width, dtype=float) if values is None else np.asarray(values, dtype=float)
    n_v = o.sum(axis=-1)
    n = n_v.sum(axis=-1)
    delta = _squared_distances(level, domain, n_v)
    observed = (o * delta).sum(axis=(-2, -1))
    expected = (n_v[..., :, None] * n_v[..., None, :] * delta).sum(axis=(-2, -1))
    alpha = np.full(np.shape(n), np.nan)
    np.divide((n - 1) * observed, expected, out=alpha, where=expected > 0)
    return np.where(expected > 0, 1 - alpha, np.nan)


def bootstrap_coincidences(
    parts: np.ndarray, n_boot: int, seed: Seed, strata: np.ndarray | None = None, n_strata: int = 0
) -> np.ndarray:
    """Coincidence matrices of ``n_boot`` bootstrap samples of the groups (``n_boot`` × V × V).

    In: ``parts``, groups × V × V per-group coincidences (``coincidences``), or any per-group
    sums, e.g. a linear reduction of each part (each replicate is then that reduction of a
    replicate's matrix). Groups adding nothing (all zero) are left out; each replicate draws as
    many groups as remain, with replacement, and sums their parts. Identical parts are merged
    first and the number of times each is drawn comes from one multinomial draw, which has the
    same distribution as drawing groups one by one, so each replicate is a weighted sum over the
    distinct parts. Seeded with ``numpy.random.default_rng(seed)`` (an int, or ints: one of
    several streams). With ``strata`` (stratum 0 .. ``n_strata`` - 1 of each group, e.g. each
    sentence's article) each stratum is resampled on its own, ``n_boot`` × ``n_strata`` × V × V;
    its few, mostly distinct parts are drawn one by one (uniform indices, ``bincount``).
    """
    shape = parts.shape[1:]
    everything = parts.reshape(len(parts), int(np.prod(shape)))
    adds = everything.any(axis=1)
    if strata is not None:
        sums = _stratified_sums(everything[adds], np.asarray(strata)[adds], n_strata, n_boot, seed)
        return sums.reshape(n_boot, n_strata, *shape)
    flat = everything[adds]
    if n_boot == 0 or len(flat) == 0:
        return np.zeros((n_boot, *shape))
    ordered = flat[np.lexsort(flat.T[::-1])]  # np.unique(flat, axis=0)'s order, sorted faster
    first = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    distinct, times = ordered[first], np.diff(np.r_[np.flatnonzero(first), len(ordered)])
    rng = np.random.default_rng(seed)
    total = int(times.sum())
    share = times / total
    sums = np.empty((n_boot, flat.shape[1]))
    chunk = max(1, _CHUNK_CELLS // len(distinct))
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        sums[start:stop] = rng.multinomial(total, share, size=stop - start) @ distinct
    return sums.reshape(n_boot, *shape)


def _stratified_sums(
    flat: np.ndarray, strata: np.ndarray, n_strata: int, n_boot: int, seed: Seed
) -> np.ndarray:
    """``n_boot`` × ``n_strata`` × F sums of ``flat`` (groups × F) resampled within ``strata``."""
    flat, sizes = flat[np.argsort(strata, kind="stable")], np.bincount(strata, minlength=n_strata)
    starts, rng = np.cumsum(sizes) - sizes, np.random.default_rng(seed)
    sums = np.zeros((n_boot, n_strata, flat.shape[1]))
    for size in np.unique(sizes[sizes > 0]):
        chosen = np.flatnonzero(sizes == size)
        members = flat[starts[chosen, None] + np.arange(size)]  # strata × size × F
        chunk = max(1, _CHUNK_CELLS // (len(chosen) * int(size)))
        for start in range(0, n_boot, chunk):
            shape = (min(n_boot, start + chunk) - start, len(chosen), int(size))
            drawn = rng.integers(0, size, size=shape, dtype=np.uint8 if size <= 255 else np.int64)
            slots = drawn + (np.arange(shape[0] * shape[1]) * size).reshape(shape[:2] + (1,))
            counts = np.bincount(slots.ravel(), minlength=slots.size).reshape(shape)
            sums[start : start + shape[0], chosen] = np.matmul(counts.swapaxes(0, 1), members).swapaxes(0, 1)
    return sums


def percentile_interval(replicates: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval: the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2``
    quantiles of the defined (finite) replicates; NaNs when none is defined."""
    low, high = percentile_intervals(np.asarray(replicates, dtype=float).reshape(-1, 1), confidence)[:, 0]
    return float(low), float(high)


def percentile_intervals(replicates: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """``percentile_interval`` of each column of ``replicates`` (``n_boot`` × k): 2 × k, low and high."""
    values, q = np.asarray(replicates, dtype=float), [(1 - confidence) / 2, (1 + confidence) / 2]
    finite, bounds = np.isfinite(values), np.full((2, *values.shape[1:]), np.nan)
    full = finite.all(axis=0) & (len(values) > 0)
    bounds[:, full] = np.quantile(values[:, full], q, axis=0) if full.any() else bounds[:, full]
    for k in np.flatnonzero(finite.any(axis=0) & ~full):
        bounds[:, k] = np.quantile(values[finite[:, k], k], q)
    return bounds


def _agreement_parts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(p_a, pi)`` of Gwet's framework, or None when no unit has two ratings.

    Over the units with ``r_i >= 1`` ratings (``n`` of them) and those with ``r_i >= 2``::

        p_a  = mean_{r_i >= 2} sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))
        pi_k = mean_{r_i >= 1} r_ik / r_i
    """
    counts = np.asarray(counts, dtype=float)
    ratings = counts.sum(axis=1)
    rated = counts[ratings >= 1]
    r = ratings[ratings >= 1]
    pairable = r >= 2
    if not pairable.any():
        return None
    agreeing = (rated[pairable] * (rated[pairable] - 1)).sum(axis=1) / (r[pairable] * (r[pairable] - 1))
    return np.asarray(agreeing.mean()), (rated / r[:, None]).mean(axis=0)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa of a units × categories count table (``r_ik`` ratings of unit i in k).

    With ``p_a`` and ``pi_k`` as in Gwet (2014, ch. 2; irrCAC's ``fleiss.kappa.raw``)::

        p_e = sum_k pi_k²        kappa = (p_a - p_e) / (1 - p_e)

    When every rated unit has the same number of ratings (two or more) this is Fleiss'
    (1971) kappa and statsmodels' ``fleiss_kappa`` computes it. When the numbers differ (an
    annotator skipped a sentence, or a sentence got extra annotators) Gwet's generalisation
    above is used: observed agreement over the units with two or more ratings, chance
    agreement from each unit's label shares averaged over all rated units. No unit is
    dropped, and the two agree whenever the numbers are equal. NaN when no unit has two
    ratings or one category holds every rating (``p_e = 1``).
    """
    counts = np.asarray(counts, dtype=float)
    parts = _agreement_parts(counts)
    if parts is None:
        return float("nan")
    p_a, pi = parts
    p_e = float((pi**2).sum())
    if p_e >= 1 - 1e-12:
        return float("nan")
    ratings = counts.sum(axis=1)
    ratings = ratings[ratings >= 1]
    if (ratings == ratings[0]).all():
        return float(_statsmodels_fleiss_kappa(counts[counts.sum(axis=1) >= 1], method="fleiss"))
    return float((p_a - p_e) / (1 - p_e))


def gwet_ac1(counts: np.ndarray, n_categories: int | None = None) -> float:
    """Gwet's AC1 of a units × categories count table (Gwet 2008; 2014, ch. 4).

    With ``p_a`` and ``pi_k`` as in ``fleiss_kappa`` and ``q`` categories (``n_categories``,
    default the table's columns: every label of the config, used or not)::

        p_e = sum_k pi_k (1 - pi_k) / (q - 1)        AC1 = (p_a - p_e) / (1 - p_e)

    Unlike kappa, ``p_e`` is small when one category dominates, so AC1 stays near the
    observed agreement. NaN when no unit has two ratings or ``q < 2``.
    """
    counts = np.asarray(counts, dtype=float)
    q = counts.shape[1] if n_categories is None else n_categories
    parts = _agreement_parts(counts)
    if parts is None or q < 2:
        return float("nan")
    p_a, pi = parts
    p_e = float((pi * (1 - pi)).sum() / (q - 1))
    return float((p_a - p_e) / (1 - p_e))


def agreement_row(
    field: str,
    level: Level,
    counts: np.ndarray,
    alpha: float,
    replicate_alphas: np.ndarray,
    annotators: int,
) -> dict[str, Any]:
    """One row of ``AGREEMENT_COLUMNS`` from a units × categories count table, its alpha and
    the alphas of its bootstrap replicates (the interval is NaN when alpha is)."""
    values = np.asarray(counts).sum(axis=1)
    low, high = percentile_interval(replicate_alphas) if np.isfinite(alpha) else (np.nan, np.nan)
    return {
        "field": field,
        "level": level,
        "krippendorff_alpha": float(alpha),
        "alpha_ci_low": low,
        "alpha_ci_high": high,
        "percent_agreement": _percent_from_counts(counts),
        "fleiss_kappa": fleiss_kappa(counts),
        "gwet_ac1": gwet_ac1(counts),
        "units": int((values >= 2).sum()),
        "pairable_values": int(values[values >= 2].sum()),
        "annotators": int(annotators),
    }


def agreement_table(rows: list[dict[str, Any]], columns: Sequence[str] = AGREEMENT_COLUMNS) -> pd.DataFrame:
    """Rows of ``agreement_row`` as a DataFrame of ``columns``: text ``field, level``,
    ``int64`` counts, ``float64`` for the rest."""
    counts = {"units": "int64", "pairable_values": "int64", "annotators": "int64"}
    floats = {c: "float64" for c in columns if c not in ("field", "level", *counts)}
    return pd.DataFrame(rows, columns=list(columns)).astype(floats | counts)


# -- the tables -----------------------------------------------------------------------------


def field_agreement(
    annotations: pd.DataFrame,
    choice_fields: Mapping[str, Sequence[str]],
    levels: Mapping[str, str] | None = None,
    n_boot: int = 1000,
    seed: int = 12345,
    answers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Agreement per single-choice field.

    In: the tidy annotations table; ``choice_fields`` (field -> labels, config order);
    ``levels`` (field -> ``nominal | ordinal | interval | ratio`` for alpha, default nominal;
    ``ProjectConfig.levels()``); ``n_boot`` bootstrap replicates (0: no interval) and
    ``seed``.
    Out: one row per field of ``choice_fields``, in its order, with ``AGREEMENT_COLUMNS``:
    ``field, level``; ``krippendorff_alpha`` (the ``krippendorff`` package, labels coded
    as their index in the field's list); ``alpha_ci_low, alpha_ci_high``, the 95% percentile
    interval of alpha over ``n_boot`` samples of the units drawn with replacement
    (``bootstrap_coincidences``; the same seed gives the same interval); ``percent_agreement``,
    ``fleiss_kappa``, ``gwet_ac1`` (unweighted; see ``percent_agreement``, ``fleiss_kappa``,
    ``gwet_ac1``); ``units`` = sentences with two or more answers; ``pairable_values`` = the
    answers in those sentences; ``annotators`` = distinct annotators with at least one
    answer. Coefficients are NaN when undefined, and so is the interval when alpha is.
    ``answers``: ``choice_answers(annotations, choice_fields)`` when the caller has it already.
    """
    answers = choice_answers(annotations, choice_fields) if answers is None else answers
    field_levels = check_levels(levels, list(choice_fields))
    check_bootstrap(n_boot, seed)
    by_field = dict(tuple(answers.groupby("field", sort=False)))
    rows = []
    for field, labels in choice_fields.items():
        part = by_field.get(field, answers.iloc[:0])
        counts = _unit_value_counts(part, labels)
        level = field_levels[field]
        alpha = _alpha_from_counts(counts, np.arange(len(labels)), level)
        replicates = np.empty(0)
        if np.isfinite(alpha) and n_boot:
            replicates = alpha_from_coincidences(
                bootstrap_coincidences(coincidences(counts), n_boot, seed), level
            )
        rows.append(agreement_row(field, level, counts, alpha, replicates, part["annotator"].nunique()))
    return agreement_table(rows)


def _cohen_kappa(first: np.ndarray, second: np.ndarray) -> float:
    if len(first) < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kappa = float(cohen_kappa_score(first, second))
    return kappa if np.isfinite(kappa) else float("nan")


def pairwise_kappa(
    annotations: pd.DataFrame,
    choice_fields: Mapping[str, Sequence[str]],
    answers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cohen's kappa of every annotator pair on every single-choice field.

    In: the tidy annotations table and ``choice_fields`` (field -> labels, config order).
    Out: ``PAIR_COLUMNS`` = ``annotator_a, annotator_b, field, items, percent_agreement,
    cohen_kappa``, one row per pair (``annotator_a < annotator_b``) × field where the two
    answered at least one sentence in common; ``items`` = those sentences,
    ``percent_agreement`` = the share of them with the same label, ``cohen_kappa`` =
    scikit-learn's ``cohen_kappa_score`` on them (``(p_o - p_e) / (1 - p_e)`` with ``p_e``
    from each annotator's own label shares), NaN when undefined: fewer than 2 items, or both
    used one and the same label throughout. Sorted by ``annotator_a, annotator_b`` and field
    in ``choice_fields`` order. ``answers``: ``choice_answers(annotations, choice_fields)`` when
    the caller has it already.
    """
    answers = choice_answers(annotations, choice_fields) if answers is None else answers
    field_rank = {field: rank for rank, field in enumerate(choice_fields)}
    coder, coders = pd.factorize(answers["annotator"], sort=True)
    label = np.zeros(len(answers), dtype=np.int64)
    fields = answers["field"].to_numpy()
    for field, labels in choice_fields.items():
        mine = fields == field
        label[mine] = pd.Categorical(answers["label"][mine], categories=list(labels)).codes
    frame = pd.DataFrame(
        {
            "field": answers["field"].map(field_rank).to_numpy(dtype=np.int64),
            "unit": pd.factorize(answers["sentence_id"])[0],
            "coder": coder,
            "label": label,
        }
    )
    pairs = frame.merge(frame, on=["field", "unit"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["coder_a"] < pairs["coder_b"]].sort_values(
        ["coder_a", "coder_b", "field"], kind="stable"
    )
    keys = pairs[["coder_a", "coder_b", "field"]].to_numpy()
    labels_a, labels_b = pairs["label_a"].to_numpy(), pairs["label_b"].to_numpy()
    new_group = np.flatnonzero((keys[1:] != keys[:-1]).any(axis=1)) + 1
    bounds = np.r_[0, new_group, len(keys)] if len(keys) else np.zeros(1, dtype=np.int64)
    names = list(choice_fields)
    rows = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        a, b = labels_a[start:stop], labels_b[start:stop]
        coder_a, coder_b, field = keys[start]
        rows.append(
            (
                str(coders[coder_a]),
                str(coders[coder_b]),
                names[field],
                int(stop - start),
                float(np.mean(a == b)),
                _cohen_kappa(a, b),
            )
        )
    table = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    return table.astype(
        {
            "items": "int64",
            "percent_agreement": "float64",
            "cohen_kappa": "float64",
        }
    )

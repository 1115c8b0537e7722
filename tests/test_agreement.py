"""Agreement: the published worked example, hand-computed figures, and the package as oracle."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from annotate.columns import AGREEMENT_COLUMNS, PAIR_COLUMNS
from annotate.config import parse_config
from annotate.errors import ExportError, InputError
from annotate.quality.agreement import (
    Level,
    alpha_from_coincidences,
    bootstrap_coincidences,
    choice_answers,
    coincidences,
    field_agreement,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    pairwise_kappa,
    percent_agreement,
    reliability_matrix,
)

NAN = np.nan
T0 = pd.Timestamp("2026-01-01T00:00:00Z")

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders × 12 units.
PUBLISHED = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)
CODERS = ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
SCALE = ["1", "2", "3", "4", "5"]
COLUMNS = [
    "sentence_id",
    "doc_id",
    "task_id",
    "annotation_id",
    "annotator",
    "field",
    "label",
    "start",
    "end",
    "span_text",
    "created_at",
    "updated_at",
    "lead_time",
    "cancelled",
]


def tidy(answers: Sequence[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    """Annotations table from ``(sentence_id, annotator, field, label)``; one annotation per
    sentence × annotator, a label of None marks a skipped annotation."""
    rows = []
    ids: dict[tuple[str, str], int] = {}
    for sentence_id, annotator, field, label in answers:
        annotation_id = ids.setdefault((sentence_id, annotator), len(ids) + 1)
        rows.append(
            {
                "sentence_id": sentence_id,
                "doc_id": "doc-1",
                "task_id": int(sentence_id.lstrip("s") or 0),
                "annotation_id": annotation_id,
                "annotator": annotator,
                "field": field if label is not None else None,
                "label": label,
                "start": pd.NA,
                "end": pd.NA,
                "span_text": None,
                "created_at": T0,
                "updated_at": T0,
                "lead_time": 12.5,
                "cancelled": label is None,
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.astype({"start": "Int64", "end": "Int64"})


def published_table() -> pd.DataFrame:
    answers = [
        (f"s{unit + 1:02d}", CODERS[coder], "stance_china", str(int(PUBLISHED[coder, unit])))
        for coder in range(4)
        for unit in range(12)
        if not math.isnan(PUBLISHED[coder, unit])
    ]
    return tidy(answers)


# -- the published example ------------------------------------------------------------------


def test_published_example_through_field_agreement() -> None:
    table = published_table()
    result = field_agreement(table, {"stance_china": SCALE})
    assert list(result.columns) == AGREEMENT_COLUMNS
    row = result.iloc[0]
    assert (row["field"], row["level"]) == ("stance_china", "nominal")
    assert round(row["krippendorff_alpha"], 3) == 0.743
    assert row["alpha_ci_low"] <= row["krippendorff_alpha"] <= row["alpha_ci_high"]
    # per unit with >= 2 values: units 1,3,4,5,7,9,10,11 agree fully, units 2 and 8 have
    # three of four coders agreeing (6 of 12 ordered pairs), unit 6 has four different values;
    # unit 12 has one value only. (8 * 1 + 2 * 0.5 + 0) / 11
    assert row["percent_agreement"] == pytest.approx(9 / 11)
    # Gwet's irrCAC README, cac.raw4raters (this very table, raters as columns):
    # fleiss.kappa.raw 0.76117 (pe 0.2387153), gwet.ac1.raw 0.77544 (pe 0.1903212)
    assert round(row["fleiss_kappa"], 5) == 0.76117
    assert round(row["gwet_ac1"], 5) == 0.77544
    assert row["units"] == 11
    # Krippendorff (2011): n = 40 pairable values (3 + 8 * 4 + 3 + 2 in units 1-11)
    assert row["pairable_values"] == 40
    assert row["annotators"] == 4


def test_published_example_matrix_and_levels() -> None:
    matrix, coders, units = reliability_matrix(published_table(), "stance_china", SCALE)
    assert coders == CODERS
    assert units == [f"s{i:02d}" for i in range(1, 13)]
    # labels are encoded as their index in the label list: "1" -> 0, ..., "5" -> 4
    np.testing.assert_array_equal(matrix, PUBLISHED - 1)
    assert round(krippendorff_alpha(matrix), 3) == 0.743
    assert round(krippendorff_alpha(matrix, level="ordinal"), 3) == 0.815
    assert round(krippendorff_alpha(matrix, level="interval"), 3) == 0.849
    assert round(krippendorff_alpha(PUBLISHED, level="ratio"), 3) == 0.797


# -- percent agreement by hand ----------------------------------------------------------------


def test_percent_agreement_by_hand() -> None:
    matrix = [
        [1, 1, 2, 3],
        [1, 2, 2, NAN],
        [1, 2, NAN, NAN],
    ]
    # unit 1: 1,1,1 -> 6 of 6 ordered pairs agree = 1
    # unit 2: 1,2,2 -> only the (2,2) pair agrees, both orders: 2 of 6 = 1/3
    # unit 3: 2,2   -> 2 of 2 = 1
    # unit 4: one value, not pairable, left out
    assert percent_agreement(matrix) == pytest.approx((1 + 1 / 3 + 1) / 3)


def test_percent_agreement_undefined() -> None:
    assert math.isnan(percent_agreement([[1, NAN], [NAN, 2]]))
    assert math.isnan(percent_agreement(np.empty((0, 0))))


# -- undefined alpha -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "matrix",
    [
        [[1, 1], [1, 1]],  # one value in the domain
        [[1, NAN], [NAN, 2]],  # no unit with two values
        [[1, 2, 3]],  # a single coder
        [[NAN, NAN], [NAN, NAN]],  # nothing at all
        [[1, 1, NAN], [1, 1, 2]],  # 2 only in a unit with one value: no variation in pairs
        np.empty((3, 0)),
    ],
)
def test_alpha_undefined_is_nan(matrix: object) -> None:
    assert math.isnan(krippendorff_alpha(matrix))


def test_field_with_no_answers_gives_nan_and_zero_counts() -> None:
    table = tidy([("s1", "a", "stance_china", "Favor"), ("s1", "b", "stance_china", "Favor")])
    result = field_agreement(
        table, {"stance_china": ["Favor", "Against"], "sentence_type": ["Fact", "Opinion"]}
    )
    assert result["field"].tolist() == ["stance_china", "sentence_type"]
    china, kind = result.to_dict("records")
    # one value only: alpha undefined, but the two answers do agree
    assert math.isnan(china["krippendorff_alpha"])
    assert china["percent_agreement"] == 1.0
    assert (china["units"], china["annotators"]) == (1, 2)
    assert math.isnan(kind["krippendorff_alpha"]) and math.isnan(kind["percent_agreement"])
    assert (kind["units"], kind["annotators"]) == (0, 0)


# -- what counts --------------------------------------------------------------------------------


def test_cancelled_annotations_and_other_fields_are_left_out() -> None:
    table = tidy(
        [
            ("s1", "a", "stance_china", "Favor"),
            ("s1", "b", "stance_china", "Against"),
            ("s1", "c", "stance_china", None),  # skipped
            ("s1", "a", "cues", "Loaded language"),
            ("s1", "a", "comment", "hard one"),
        ]
    )
    result = field_agreement(table, {"stance_china": ["Favor", "Against"]})
    assert result.loc[0, "annotators"] == 2
    assert result.loc[0, "percent_agreement"] == 0.0
    answers = choice_answers(table, {"stance_china": ["Favor", "Against"]})
    assert sorted(answers["annotator"]) == ["a", "b"]


def test_latest_annotation_of_an_annotator_counts() -> None:
    table = tidy(
        [
            ("s1", "a", "stance_china", "Favor"),
            ("s1", "b", "stance_china", "Favor"),
            ("s2", "a", "stance_china", "Against"),
            ("s2", "b", "stance_china", "Against"),
        ]
    )
    # b annotated s1 a second time, later, and changed the answer
    again = table[table["annotation_id"] == 2].assign(
        annotation_id=99, label="Against", updated_at=T0 + pd.Timedelta(hours=1)
    )
    table = pd.concat([again, table], ignore_index=True)
    matrix, coders, units = reliability_matrix(table, "stance_china", ["Favor", "Against"])
    np.testing.assert_array_equal(matrix, [[0, 1], [1, 1]])
    result = field_agreement(table, {"stance_china": ["Favor", "Against"]})
    assert result.loc[0, "percent_agreement"] == 0.5


# -- the package as oracle ----------------------------------------------------------------------

cells = st.sampled_from([NAN, NAN, 0.0, 1.0, 2.0, 3.0])


@st.composite
def matrices(draw: st.DrawFn) -> np.ndarray:
    coders = draw(st.integers(1, 5))
    units = draw(st.integers(1, 12))
    values = draw(st.lists(cells, min_size=coders * units, max_size=coders * units))
    return np.array(values).reshape(coders, units)


def package_alpha(matrix: np.ndarray, level: Level) -> float:
    try:
        return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))
    except ValueError:
        return NAN


@settings(max_examples=150, deadline=None)
@given(matrix=matrices(), level=st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_matches_package(matrix: np.ndarray, level: Level) -> None:
    ours = krippendorff_alpha(matrix, level=level)
    with np.errstate(invalid="ignore", divide="ignore"):
        theirs = package_alpha(matrix, level)
    if math.isnan(theirs) or math.isinf(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=75, deadline=None)
@given(matrix=matrices())
def test_field_agreement_matches_package_on_tidy_data(matrix: np.ndarray) -> None:
    labels = ["Favor", "Against", "Neutral", "Not addressed"]
    answers = [
        (f"s{unit:02d}", f"coder{coder}@x", "stance_us", labels[int(matrix[coder, unit])])
        for coder in range(matrix.shape[0])
        for unit in range(matrix.shape[1])
        if not math.isnan(matrix[coder, unit])
    ]
    row = field_agreement(tidy(answers), {"stance_us": labels}).iloc[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = package_alpha(matrix, "nominal")
    if math.isnan(expected):
        assert math.isnan(row["krippendorff_alpha"])
    else:
        assert row["krippendorff_alpha"] == pytest.approx(expected, abs=1e-9)
    counts = (~np.isnan(matrix)).sum(axis=0)
    assert row["units"] == (counts >= 2).sum()
    assert row["annotators"] == (~np.isnan(matrix)).any(axis=1).sum()


# -- Fleiss' kappa and Gwet's AC1: published values -------------------------------------------

# Wikipedia, "Fleiss' kappa", worked example (also statsmodels' test_inter_rater.py, table1):
# 10 subjects, 14 raters each, 5 categories; P-bar 0.378, P-bar_e 0.213, kappa 0.210.
WIKIPEDIA_FLEISS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)

# Gwet's irrCAC (R) README, distrib.6raters: 15 subjects, 6 raters each, 5 categories;
# gwet.ac1.dist 0.4448007 (pa 0.5511111, pe 0.1914815), fleiss.kappa.dist 0.4139265 (pe 0.2340741).
GWET_6RATERS = np.array(
    [
        [0, 0, 0, 6, 0],
        [0, 3, 0, 0, 3],
        [0, 1, 4, 0, 1],
        [0, 0, 0, 0, 6],
        [0, 3, 0, 3, 0],
        [2, 0, 4, 0, 0],
        [0, 0, 4, 0, 2],
        [2, 0, 3, 1, 0],
        [2, 0, 0, 4, 0],
        [0, 0, 0, 0, 6],
        [1, 0, 0, 5, 0],
        [1, 1, 0, 4, 0],
        [0, 3, 3, 0, 0],
        [1, 0, 0, 5, 0],
        [0, 2, 0, 3, 1],
    ]
)


def table_from_counts(counts: np.ndarray, field: str = "stance_china") -> pd.DataFrame:
    """Tidy annotations from subjects × categories counts: raters r00, r01, ... take the
    categories of each subject in order, the category k is the label str(k + 1)."""
    answers = []
    for unit, row in enumerate(counts):
        labels = [str(k + 1) for k, n in enumerate(row) for _ in range(n)]
        answers += [(f"s{unit:02d}", f"r{i:02d}", field, label) for i, label in enumerate(labels)]
    return tidy(answers)


def test_fleiss_kappa_wikipedia_example() -> None:
    assert round(fleiss_kappa(WIKIPEDIA_FLEISS), 3) == 0.210
    assert fleiss_kappa(WIKIPEDIA_FLEISS) == pytest.approx(
        statsmodels_fleiss_kappa(WIKIPEDIA_FLEISS), abs=1e-12
    )
    row = field_agreement(table_from_counts(WIKIPEDIA_FLEISS), {"stance_china": SCALE}).iloc[0]
    assert round(row["fleiss_kappa"], 3) == 0.210
    # P-bar, the mean share of agreeing rater pairs per subject
    assert round(row["percent_agreement"], 3) == 0.378
    assert (row["units"], row["pairable_values"], row["annotators"]) == (10, 140, 14)


def test_gwet_published_distribution_example() -> None:
    assert round(gwet_ac1(GWET_6RATERS), 7) == 0.4448007
    assert round(fleiss_kappa(GWET_6RATERS), 7) == 0.4139265
    row = field_agreement(table_from_counts(GWET_6RATERS), {"stance_china": SCALE}).iloc[0]
    assert round(row["gwet_ac1"], 7) == 0.4448007
    assert round(row["percent_agreement"], 7) == 0.5511111


def test_fleiss_kappa_with_unequal_raters_by_hand() -> None:
    # Gwet's generalisation (irrCAC's fleiss() / gwet() give 0.54286 / 0.56757 here).
    counts = np.array([[2, 0], [1, 2], [0, 2], [1, 0]])  # 2, 3, 2 and 1 ratings
    # p_a over units with >= 2 ratings: (2*1/2 + (0 + 2*1)/(3*2) + 2*1/2) / 3 = 7/9
    # pi over all 4 rated units: ((1 + 1/3 + 0 + 1) / 4, (0 + 2/3 + 1 + 0) / 4) = (7/12, 5/12)
    # kappa: p_e = 49/144 + 25/144 = 37/72 -> (7/9 - 37/72) / (1 - 37/72) = 19/35
    assert fleiss_kappa(counts) == pytest.approx(19 / 35)
    # AC1: p_e = 2 * 7/12 * 5/12 / (2 - 1) = 35/72 -> (7/9 - 35/72) / (1 - 35/72) = 21/37
    assert gwet_ac1(counts) == pytest.approx(21 / 37)
    table = tidy(
        [
            ("s1", "a", "sentence_type", "Fact"),
            ("s1", "b", "sentence_type", "Fact"),
            ("s2", "a", "sentence_type", "Fact"),
            ("s2", "b", "sentence_type", "Opinion"),
            ("s2", "c", "sentence_type", "Opinion"),
            ("s3", "b", "sentence_type", "Opinion"),
            ("s3", "c", "sentence_type", "Opinion"),
            ("s4", "c", "sentence_type", "Fact"),
        ]
    )
    row = field_agreement(table, {"sentence_type": ["Fact", "Opinion"]}).iloc[0]
    assert row["fleiss_kappa"] == pytest.approx(19 / 35)
    assert row["gwet_ac1"] == pytest.approx(21 / 37)
    assert (row["units"], row["pairable_values"], row["annotators"]) == (3, 7, 3)


def gwet_reference(counts: np.ndarray, chance: str) -> float:
    """Gwet (2014) written out unit by unit, as a slow reference."""
    rated = [row for row in counts if row.sum() >= 1]
    pairable = [row for row in rated if row.sum() >= 2]
    p_a = sum(sum(n * (n - 1) for n in row) / (row.sum() * (row.sum() - 1)) for row in pairable) / len(
        pairable
    )
    q = counts.shape[1]
    pi = [sum(row[k] / row.sum() for row in rated) / len(rated) for k in range(q)]
    fleiss = chance == "fleiss"
    p_e = sum(p * p for p in pi) if fleiss else sum(p * (1 - p) for p in pi) / (q - 1)
    return (p_a - p_e) / (1 - p_e)


@settings(max_examples=150, deadline=None)
@given(
    counts=st.integers(1, 8).flatmap(
        lambda units: st.lists(
            st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=units, max_size=units
        )
    ),
    equal=st.booleans(),
)
def test_fleiss_and_ac1_match_the_references(counts: list[list[int]], equal: bool) -> None:
    table = np.array(counts)
    if equal:  # every unit gets 4 ratings: Fleiss' own setting, statsmodels as oracle
        table = np.array(
            [np.bincount(np.r_[np.repeat(np.arange(3), row), [0] * 4][:4], minlength=3) for row in table]
        )
    pairable = table.sum(axis=1) >= 2
    if not pairable.any():
        assert math.isnan(fleiss_kappa(table)) and math.isnan(gwet_ac1(table))
        return
    assert gwet_ac1(table) == pytest.approx(gwet_reference(table, "ac1"), abs=1e-9)
    shares = table[table.sum(axis=1) >= 1].sum(axis=0)
    if (shares > 0).sum() < 2:  # one category holds every rating: kappa's p_e = 1
        assert math.isnan(fleiss_kappa(table))
        return
    assert fleiss_kappa(table) == pytest.approx(gwet_reference(table, "fleiss"), abs=1e-9)
    if equal:
        assert fleiss_kappa(table) == pytest.approx(statsmodels_fleiss_kappa(table), abs=1e-9)


def test_ac1_stays_high_when_one_label_dominates() -> None:
    # 19 sentences all "Not addressed" and one split: kappa collapses, AC1 does not
    answers = [(f"s{i:02d}", who, "stance_us", "Not addressed") for i in range(19) for who in ("a", "b", "c")]
    answers += [("s19", "a", "stance_us", "Not addressed"), ("s19", "b", "stance_us", "Not addressed")]
    answers += [("s19", "c", "stance_us", "Favor")]
    row = field_agreement(tidy(answers), {"stance_us": ["Favor", "Against", "Not addressed"]}).iloc[0]
    assert row["percent_agreement"] == pytest.approx((19 + 1 / 3) / 20)
    assert row["fleiss_kappa"] < 0 < 0.95 < row["gwet_ac1"]


def test_coefficients_undefined() -> None:
    one_label = np.array([[3, 0], [2, 0]])
    assert math.isnan(fleiss_kappa(one_label))
    assert gwet_ac1(one_label) == 1.0  # p_e = 0: perfect agreement is not chance here
    assert math.isnan(gwet_ac1(np.array([[3], [2]])))  # a single category
    singles = np.array([[1, 0], [0, 1]])
    assert math.isnan(fleiss_kappa(singles)) and math.isnan(gwet_ac1(singles))


# -- alpha from coincidences and the bootstrap --------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(matrix=matrices(), level=st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_from_coincidences_matches_package(matrix: np.ndarray, level: Level) -> None:
    present = ~np.isnan(matrix)
    counts = np.stack([(matrix == v).sum(axis=0) for v in range(4)], axis=1)
    ours = float(alpha_from_coincidences(coincidences(counts).sum(axis=0), level))
    with np.errstate(invalid="ignore", divide="ignore"):
        theirs = package_alpha(np.where(present, matrix, np.nan), level)
    if math.isnan(theirs) or math.isinf(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_coincidences_by_group_add_up() -> None:
    counts = np.array([[2, 1], [0, 3], [1, 0], [1, 1]])
    whole = coincidences(counts)
    grouped = coincidences(counts, np.array([0, 1, 0, 1]), 2)
    np.testing.assert_allclose(grouped[0], whole[0] + whole[2])
    np.testing.assert_allclose(grouped.sum(axis=0), whole.sum(axis=0))
    # a unit's part adds up to its pairable values; a lone value adds nothing
    np.testing.assert_allclose(whole.sum(axis=(1, 2)), [3, 3, 0, 2])


def test_bootstrap_of_identical_units_is_constant() -> None:
    parts = coincidences(np.array([[2, 1]] * 5 + [[1, 0]] * 3))
    replicates = bootstrap_coincidences(parts, 50, seed=1)
    # every replicate draws 5 of the 5 pairable units, all alike
    np.testing.assert_allclose(replicates, np.broadcast_to(parts.sum(axis=0), replicates.shape))


def test_bootstrap_interval_repeats_with_the_seed_and_contains_alpha() -> None:
    table = published_table()
    first = field_agreement(table, {"stance_china": SCALE}, n_boot=500, seed=7).iloc[0]
    again = field_agreement(table, {"stance_china": SCALE}, n_boot=500, seed=7).iloc[0]
    other = field_agreement(table, {"stance_china": SCALE}, n_boot=500, seed=8).iloc[0]
    assert (first["alpha_ci_low"], first["alpha_ci_high"]) == (again["alpha_ci_low"], again["alpha_ci_high"])
    assert (first["alpha_ci_low"], first["alpha_ci_high"]) != (other["alpha_ci_low"], other["alpha_ci_high"])
    assert first["alpha_ci_low"] < first["krippendorff_alpha"] < first["alpha_ci_high"] <= 1
    none = field_agreement(table, {"stance_china": SCALE}, n_boot=0).iloc[0]
    assert math.isnan(none["alpha_ci_low"]) and math.isnan(none["alpha_ci_high"])
    assert none["krippendorff_alpha"] == first["krippendorff_alpha"]


def test_bootstrap_interval_is_nan_when_alpha_is() -> None:
    table = tidy([("s1", "a", "stance_china", "Favor"), ("s1", "b", "stance_china", "Favor")])
    row = field_agreement(table, {"stance_china": ["Favor", "Against"]}).iloc[0]
    assert math.isnan(row["krippendorff_alpha"])
    assert math.isnan(row["alpha_ci_low"]) and math.isnan(row["alpha_ci_high"])


def test_bootstrap_is_fast() -> None:
    rng = np.random.default_rng(0)
    counts = np.c_[rng.multinomial(3, [0.7, 0.1, 0.1, 0.1], size=20_000), rng.integers(0, 2, (20_000, 2))]
    began = time.perf_counter()
    replicates = alpha_from_coincidences(bootstrap_coincidences(coincidences(counts), 1000, 12345))
    assert time.perf_counter() - began < 3
    assert replicates.shape == (1000,) and np.isfinite(replicates).all()


# -- levels -----------------------------------------------------------------------------------


def test_ordinal_level_from_the_config_gives_the_published_value() -> None:
    config = parse_config(
        {
            "name": "published",
            "targets": [{"id": "china", "label": "China"}],
            "stance_labels": SCALE,
            "stance_level": "ordinal",
        }
    )
    assert config.levels() == {"stance_china": "ordinal"}
    result = field_agreement(published_table(), config.choice_fields(), config.levels())
    row = result.iloc[0]
    assert row["level"] == "ordinal"
    assert round(row["krippendorff_alpha"], 3) == 0.815
    assert row["alpha_ci_low"] < row["krippendorff_alpha"] < row["alpha_ci_high"]
    # kappa and AC1 are unweighted: the level changes alpha only
    nominal = field_agreement(published_table(), config.choice_fields()).iloc[0]
    assert (row["fleiss_kappa"], row["gwet_ac1"]) == (nominal["fleiss_kappa"], nominal["gwet_ac1"])


def test_ordinal_bootstrap_replicates_match_the_package() -> None:
    counts = np.stack([np.equal(PUBLISHED, v).sum(axis=0) for v in range(1, 6)], axis=1)
    parts = coincidences(counts)
    # a replicate that draws every unit once is the data itself
    assert float(alpha_from_coincidences(parts.sum(axis=0), "ordinal")) == pytest.approx(
        krippendorff.alpha(reliability_data=PUBLISHED, level_of_measurement="ordinal"), abs=1e-12
    )


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (["ordinal"], "levels must map field names"),
        ({"stance_eu": "ordinal"}, "'stance_eu' that are not choice fields"),
        ({"stance_china": "ranked"}, r"levels\['stance_china'\] must be one of nominal, ordinal"),
    ],
)
def test_bad_levels(levels: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        field_agreement(published_table(), {"stance_china": SCALE}, levels)  # type: ignore[arg-type]


@pytest.mark.parametrize(("n_boot", "seed"), [(-1, 1), (10, -2), (1.5, 1), (True, 1), (10, "x")])
def test_bad_bootstrap_arguments(n_boot: object, seed: object) -> None:
    with pytest.raises(InputError, match="must be a whole number >= 0"):
        field_agreement(published_table(), {"stance_china": SCALE}, n_boot=n_boot, seed=seed)  # type: ignore[arg-type]


# -- pairwise Cohen's kappa -----------------------------------------------------------------------


def test_pairwise_kappa_by_hand_and_against_sklearn() -> None:
    labels = ["Favor", "Against", "Neutral"]
    ann = ["Favor", "Favor", "Against", "Neutral", "Favor"]
    ben = ["Favor", "Against", "Against", "Neutral", None]  # ben skipped s5
    cat = [None, None, None, None, "Favor"]  # cat only did s5
    answers = [
        (f"s{i + 1}", who, "stance_china", label)
        for who, row in (("ben", ben), ("ann", ann), ("cat", cat))
        for i, label in enumerate(row)
        if label is not None
    ]
    answers += [("s1", "ann", "sentence_type", "Fact"), ("s1", "ben", "sentence_type", "Fact")]
    answers += [("s2", "ann", "sentence_type", "Fact"), ("s2", "ben", "sentence_type", "Fact")]
    result = pairwise_kappa(tidy(answers), {"stance_china": labels, "sentence_type": ["Fact", "Opinion"]})
    assert list(result.columns) == PAIR_COLUMNS
    rows = result.to_dict("records")
    assert [(r["annotator_a"], r["annotator_b"], r["field"], r["items"]) for r in rows] == [
        ("ann", "ben", "stance_china", 4),
        ("ann", "ben", "sentence_type", 2),
        ("ann", "cat", "stance_china", 1),
    ]
    china, kind, single = rows
    # ann F F A N, ben F A A N: 3 of 4 agree. p_o = 3/4; ann's shares F 1/2, A 1/4, N 1/4,
    # ben's F 1/4, A 1/2, N 1/4 -> p_e = 1/8 + 1/8 + 1/16 = 5/16; kappa = (3/4 - 5/16) / (11/16) = 7/11
    assert china["percent_agreement"] == 0.75
    assert china["cohen_kappa"] == pytest.approx(7 / 11)
    expected = cohen_kappa_score(["F", "F", "A", "N"], ["F", "A", "A", "N"])
    assert china["cohen_kappa"] == pytest.approx(expected)
    # both said Fact twice: p_e = 1, kappa undefined, agreement perfect
    assert kind["percent_agreement"] == 1.0 and math.isnan(kind["cohen_kappa"])
    # one shared sentence: undefined
    assert single["percent_agreement"] == 1.0 and math.isnan(single["cohen_kappa"])


def test_pairwise_kappa_on_no_answers() -> None:
    result = pairwise_kappa(tidy([("s1", "a", "stance_china", None)]), {"stance_china": ["Favor", "Against"]})
    assert list(result.columns) == PAIR_COLUMNS and result.empty


@settings(max_examples=60, deadline=None)
@given(matrix=matrices())
def test_pairwise_kappa_matches_sklearn(matrix: np.ndarray) -> None:
    labels = ["Favor", "Against", "Neutral", "Not addressed"]
    answers = [
        (f"s{unit:02d}", f"coder{coder}", "stance_us", labels[int(matrix[coder, unit])])
        for coder in range(matrix.shape[0])
        for unit in range(matrix.shape[1])
        if not math.isnan(matrix[coder, unit])
    ]
    result = pairwise_kappa(tidy(answers), {"stance_us": labels})
    for row in result.to_dict("records"):
        a, b = matrix[int(str(row["annotator_a"])[-1])], matrix[int(str(row["annotator_b"])[-1])]
        both = ~np.isnan(a) & ~np.isnan(b)
        assert row["items"] == both.sum() >= 1
        assert row["percent_agreement"] == pytest.approx(np.mean(a[both] == b[both]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns where kappa is undefined
            expected = cohen_kappa_score(a[both], b[both]) if both.sum() >= 2 else np.nan
        kappa = float(row["cohen_kappa"])
        if math.isnan(expected):
            assert math.isnan(kappa)
        else:
            assert kappa == pytest.approx(expected, abs=1e-12)


# -- bad input ------------------------------------------------------------------------------


def test_missing_columns_say_how_to_fix() -> None:
    table = published_table().drop(columns=["cancelled", "updated_at"])
    with pytest.raises(ExportError, match=r"missing column\(s\) updated_at, cancelled.*pull"):
        field_agreement(table, {"stance_china": SCALE})


def test_not_a_dataframe() -> None:
    with pytest.raises(ExportError, match="must be a pandas DataFrame"):
        field_agreement([{"sentence_id": "s1"}], {"stance_china": SCALE})  # type: ignore[arg-type]


def test_label_missing_from_config() -> None:
    table = tidy([("s1", "a", "stance_china", "Favor"), ("s1", "b", "stance_china", "Maybe")])
    with pytest.raises(ExportError, match=r"stance_china='Maybe'.*add them to the config"):
        field_agreement(table, {"stance_china": ["Favor", "Against"]})


def test_two_labels_for_a_single_choice_field() -> None:
    table = tidy([("s1", "a", "stance_china", "Favor"), ("s1", "a", "stance_china", "Against")])
    with pytest.raises(ExportError, match="several labels for 'stance_china'.*single"):
        field_agreement(table, {"stance_china": ["Favor", "Against"]})


@pytest.mark.parametrize(
    ("choice_fields", "message"),
    [
        (["stance_china"], "must map each single-choice field"),
        ({"stance_china": "Favor"}, "must be a list of labels"),
        ({"stance_china": []}, "has no labels"),
        ({"stance_china": ["Favor", "Favor"]}, "'Favor' more than once"),
    ],
)
def test_bad_choice_fields(choice_fields: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        field_agreement(published_table(), choice_fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([1, 2, 3], "must be 2-D"),
        ([["a", "b"], ["a", "a"]], "must hold numbers"),
        ([[1, np.inf], [1, 2]], "infinite"),
    ],
)
def test_bad_matrix(matrix: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        krippendorff_alpha(matrix)
    with pytest.raises(InputError, match=message):
        percent_agreement(matrix)


def test_bad_level() -> None:
    with pytest.raises(InputError, match="level must be one of nominal, ordinal"):
        krippendorff_alpha(PUBLISHED, level="categorical")  # type: ignore[arg-type]


def test_doctests() -> None:
    """The module's doctests carry the published example too; run them with the suite."""
    import doctest

    import annotate.quality.agreement

    result = doctest.testmod(annotate.quality.agreement)
    assert result.attempted >= 8 and result.failed == 0

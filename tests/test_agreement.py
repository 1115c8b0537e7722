"""Agreement: the published worked example, hand-computed figures, and the package as oracle."""

from __future__ import annotations

import math
from collections.abc import Sequence

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.agreement import (
    AGREEMENT_COLUMNS,
    Level,
    choice_answers,
    field_agreement,
    krippendorff_alpha,
    percent_agreement,
    reliability_matrix,
)
from annotate.errors import ExportError, InputError

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
    assert row["field"] == "stance_china"
    assert round(row["krippendorff_alpha"], 3) == 0.743
    # per unit with >= 2 values: units 1,3,4,5,7,9,10,11 agree fully, units 2 and 8 have
    # three of four coders agreeing (6 of 12 ordered pairs), unit 6 has four different values;
    # unit 12 has one value only. (8 * 1 + 2 * 0.5 + 0) / 11
    assert row["percent_agreement"] == pytest.approx(9 / 11)
    assert row["units"] == 11
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

    import annotate.agreement

    result = doctest.testmod(annotate.agreement)
    assert result.attempted >= 8 and result.failed == 0

"""Summary tables on a small example worked out by hand: 3 annotators, 2 documents."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.columns import AGREEMENT_COLUMNS
from annotate.errors import ExportError, InputError
from annotate.quality.agreement import field_agreement
from annotate.quality.majority import (
    ANNOTATOR_COUNT_COLUMNS,
    DOCUMENT_STANCE_COLUMNS,
    MAJORITY_COLUMNS,
    NO_MAJORITY,
    annotator_table,
    document_stance,
    majority_labels,
)

STANCE = ["Favor", "Against", "Neutral"]
CHOICE_FIELDS = {"stance_china": STANCE, "stance_us": STANCE, "sentence_type": ["Fact", "Opinion"]}
TARGETS = {"china": "China", "us": "United States"}
T0 = pd.Timestamp("2026-01-01T00:00:00Z")
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

# sentence -> (doc, sentence_index). Ids sort against the reading order on purpose.
SENTENCES = {"d1-b": ("d1", 0), "d1-a": ("d1", 1), "d2-x": ("d2", 0), "d2-y": ("d2", 1)}

Annotation = tuple[int, str, str, int, float | None, dict[str, str] | None]


def labels_of(china: str | None, us: str | None, kind: str | None, **other: str) -> dict[str, str]:
    """Field -> label of one annotation; None = not answered."""
    chosen = {"stance_china": china, "stance_us": us, "sentence_type": kind, **other}
    return {field: label for field, label in chosen.items() if label is not None}


SKIPPED = None

# (annotation id, sentence, annotator, minutes after T0, lead time s, labels)
ANNOTATIONS: list[Annotation] = [
    (1, "d1-b", "ann", 0, 10.0, labels_of("Favor", "Against", "Fact")),
    (2, "d1-b", "ben", 0, 5.0, labels_of("Favor", "Neutral", "Fact")),
    (3, "d1-b", "cat", 0, 40.0, labels_of("Against", "Favor", "Opinion")),
    (4, "d1-a", "ann", 0, 20.0, labels_of("Neutral", "Against", "Opinion")),
    (5, "d1-a", "ben", 0, None, labels_of("Favor", "Against", "Opinion")),
    (6, "d1-a", "cat", 0, 1.0, SKIPPED),
    (7, "d2-x", "ann", 0, 30.0, labels_of("Against", "Against", None)),
    (8, "d2-x", "ben", 1, 7.0, labels_of("Favor", "Favor", "Opinion")),
    (9, "d2-x", "ben", 5, 9.0, labels_of("Against", "Against", "Fact")),
    (10, "d2-x", "cat", 0, 60.0, labels_of("Against", "Neutral", "Fact")),
    (11, "d2-y", "cat", 0, None, labels_of("Neutral", None, "Opinion", cues="Slogan", comment="?")),
]
# Annotation 8 is superseded by ben's later annotation 9 of the same sentence.


def build(annotations: list[Annotation]) -> pd.DataFrame:
    rows = []
    for annotation_id, sentence_id, annotator, minutes, lead_time, labels in annotations:
        base = {
            "sentence_id": sentence_id,
            "doc_id": SENTENCES.get(sentence_id, ("d9", 0))[0],
            "task_id": 100 + list(SENTENCES).index(sentence_id) if sentence_id in SENTENCES else 199,
            "annotation_id": annotation_id,
            "annotator": annotator,
            "start": pd.NA,
            "end": pd.NA,
            "span_text": None,
            "created_at": T0,
            "updated_at": T0 + pd.Timedelta(minutes=minutes),
            "lead_time": lead_time,
            "cancelled": labels is None,
        }
        if labels is None:
            rows.append({**base, "field": None, "label": None})
        for field, label in (labels or {}).items():
            rows.append({**base, "field": field, "label": label})
    return pd.DataFrame(rows, columns=COLUMNS).astype({"start": "Int64", "end": "Int64"})


@pytest.fixture
def annotated() -> pd.DataFrame:
    return build(ANNOTATIONS)


@pytest.fixture
def sentences() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sentence_id": list(SENTENCES),
            "doc_id": [doc for doc, _ in SENTENCES.values()],
            "sentence_index": [index for _, index in SENTENCES.values()],
            "text": ["b", "a", "x", "y"],
            "task_id": [100, 101, 102, 103],
        }
    )


def records(table: pd.DataFrame) -> list[tuple[object, ...]]:
    """Rows as tuples, with every missing value as None so tuples compare."""
    return [
        tuple(None if (not isinstance(v, str) and pd.isna(v)) else v for v in row)
        for row in table.itertuples(index=False)
    ]


def assert_rows(actual: Sequence[Sequence[object]], expected: Sequence[Sequence[object]]) -> None:
    """Row by row; floats within 1e-9, everything else equal."""
    assert len(actual) == len(expected), (actual, expected)
    for got, want in zip(actual, expected, strict=True):
        assert len(got) == len(want), (got, want)
        for g, w in zip(got, want, strict=True):
            if isinstance(w, float):
                assert g == pytest.approx(w, abs=1e-9), (got, want)
            else:
                assert g == w and type(g) is not float, (got, want)


# -- sentence_labels ----------------------------------------------------------------------------

MAJORITY = [
    # sentence, doc, field, label, votes, n_annotators, agreement, contested
    # d1-b: china Favor, Favor, Against
    ("d1-b", "d1", "stance_china", "Favor", 2, 3, 2 / 3, False),
    # us Against, Neutral, Favor: a three-way tie, no label
    ("d1-b", "d1", "stance_us", None, 1, 3, 1 / 3, True),
    ("d1-b", "d1", "sentence_type", "Fact", 2, 3, 2 / 3, False),
    # d1-a: cat skipped, so two answers; china Neutral vs Favor ties
    ("d1-a", "d1", "stance_china", None, 1, 2, 1 / 2, True),
    ("d1-a", "d1", "stance_us", "Against", 2, 2, 1.0, False),
    ("d1-a", "d1", "sentence_type", "Opinion", 2, 2, 1.0, False),
    # d2-x: ben's later annotation (9) counts; ann did not answer the type
    ("d2-x", "d2", "stance_china", "Against", 3, 3, 1.0, False),
    ("d2-x", "d2", "stance_us", "Against", 2, 3, 2 / 3, False),
    ("d2-x", "d2", "sentence_type", "Fact", 2, 2, 1.0, False),
    # d2-y: only cat, who did not answer stance_us (so no row for it)
    ("d2-y", "d2", "stance_china", "Neutral", 1, 1, 1.0, False),
    ("d2-y", "d2", "sentence_type", "Opinion", 1, 1, 1.0, False),
]


def test_majority_labels(annotated: pd.DataFrame, sentences: pd.DataFrame) -> None:
    table = majority_labels(annotated, CHOICE_FIELDS, sentences)
    assert list(table.columns) == MAJORITY_COLUMNS
    assert_rows(records(table), MAJORITY)
    assert table["label"].isna().sum() == 2
    assert table.dtypes["votes"] == "int64" and table.dtypes["contested"] == "bool"


def test_majority_labels_without_sentences_sorts_by_id(annotated: pd.DataFrame) -> None:
    table = majority_labels(annotated, CHOICE_FIELDS)
    assert table["sentence_id"].drop_duplicates().tolist() == ["d1-a", "d1-b", "d2-x", "d2-y"]


def test_contested_is_no_strict_majority() -> None:
    # 2 of 4 is half, not more than half: contested, though the label is unique
    table = build(
        [
            (1, "d1-b", "ann", 0, 1.0, {"stance_china": "Favor"}),
            (2, "d1-b", "ben", 0, 1.0, {"stance_china": "Favor"}),
            (3, "d1-b", "cat", 0, 1.0, {"stance_china": "Against"}),
            (4, "d1-b", "dan", 0, 1.0, {"stance_china": "Neutral"}),
        ]
    )
    row = majority_labels(table, CHOICE_FIELDS).iloc[0]
    assert (row["label"], row["votes"], row["n_annotators"]) == ("Favor", 2, 4)
    assert row["agreement"] == 0.5 and bool(row["contested"]) is True


# -- document_stance --------------------------------------------------------------------------

DOCUMENT_STANCE = [
    # d1 china: d1-b Favor, d1-a no majority -> 2 sentences
    ("d1", "china", "Favor", 1, 0.5),
    ("d1", "china", "Against", 0, 0.0),
    ("d1", "china", "Neutral", 0, 0.0),
    ("d1", "china", NO_MAJORITY, 1, 0.5),
    # d1 us: d1-b no majority, d1-a Against
    ("d1", "us", "Favor", 0, 0.0),
    ("d1", "us", "Against", 1, 0.5),
    ("d1", "us", "Neutral", 0, 0.0),
    ("d1", "us", NO_MAJORITY, 1, 0.5),
    # d2 china: d2-x Against, d2-y Neutral
    ("d2", "china", "Favor", 0, 0.0),
    ("d2", "china", "Against", 1, 0.5),
    ("d2", "china", "Neutral", 1, 0.5),
    ("d2", "china", NO_MAJORITY, 0, 0.0),
    # d2 us: only d2-x has an answer (Against); d2-y is not counted
    ("d2", "us", "Favor", 0, 0.0),
    ("d2", "us", "Against", 1, 1.0),
    ("d2", "us", "Neutral", 0, 0.0),
    ("d2", "us", NO_MAJORITY, 0, 0.0),
]


def test_document_stance(annotated: pd.DataFrame, sentences: pd.DataFrame) -> None:
    majority = majority_labels(annotated, CHOICE_FIELDS, sentences)
    table = document_stance(majority, TARGETS, STANCE)
    assert list(table.columns) == DOCUMENT_STANCE_COLUMNS
    assert records(table) == DOCUMENT_STANCE


def test_document_stance_leaves_out_targets_without_answers(annotated: pd.DataFrame) -> None:
    majority = majority_labels(annotated, CHOICE_FIELDS)
    only_d2_china = majority[(majority["doc_id"] == "d2") & (majority["field"] != "stance_us")]
    table = document_stance(only_d2_china, {**TARGETS, "eu": "EU"}, STANCE)
    assert table[["doc_id", "target"]].drop_duplicates().values.tolist() == [["d2", "china"]]


def test_document_stance_rejects_unknown_labels(annotated: pd.DataFrame) -> None:
    majority = majority_labels(annotated, CHOICE_FIELDS)
    with pytest.raises(ExportError, match="'Neutral' are not stance labels"):
        document_stance(majority, TARGETS, ["Favor", "Against"])
    with pytest.raises(InputError, match="reserved"):
        document_stance(majority, TARGETS, ["Favor", NO_MAJORITY])
    with pytest.raises(ExportError, match="missing column"):
        document_stance(majority.drop(columns="label"), TARGETS, STANCE)


# -- annotators --------------------------------------------------------------------------------

# Leave-one-out, per answer: the other annotators' answers on that sentence × field, their
# unique top label if any, and whether the answer matches it (- = no unique top, not scored).
#
# ann  d1-b china Favor    others Favor, Against     tie          -
#      d1-b us    Against  others Neutral, Favor     tie          -
#      d1-b type  Fact     others Fact, Opinion      tie          -
#      d1-a china Neutral  others Favor              Favor        no
#      d1-a us    Against  others Against            Against      yes
#      d1-a type  Opinion  others Opinion            Opinion      yes
#      d2-x china Against  others Against, Against   Against      yes
#      d2-x us    Against  others Against, Neutral   tie          -      -> 3 / 4
# ben  (annotation 8 is superseded by 9)
#      d1-b china Favor    others Favor, Against     tie          -
#      d1-b us    Neutral  others Against, Favor     tie          -
#      d1-b type  Fact     others Fact, Opinion      tie          -
#      d1-a china Favor    others Neutral            Neutral      no
#      d1-a us    Against  others Against            Against      yes
#      d1-a type  Opinion  others Opinion            Opinion      yes
#      d2-x china Against  others Against, Against   Against      yes
#      d2-x us    Against  others Against, Neutral   tie          -
#      d2-x type  Fact     others Fact               Fact         yes    -> 4 / 5
# cat  d1-b china Against  others Favor, Favor       Favor        no
#      d1-b us    Favor    others Against, Neutral   tie          -
#      d1-b type  Opinion  others Fact, Fact         Fact         no
#      d2-x china Against  others Against, Against   Against      yes
#      d2-x us    Neutral  others Against, Against   Against      no
#      d2-x type  Fact     others Fact               Fact         yes
#      d2-y china, type    nobody else               -            -      -> 2 / 5
ANNOTATORS = [
    # annotator, annotations, skipped, median lead time, agreement with majority
    ("ann", 3, 0, 20.0, 3 / 4),  # lead times 10, 20, 30
    ("ben", 4, 0, 7.0, 4 / 5),  # 5, (none), 7, 9: the superseded annotation still counts here
    ("cat", 3, 1, 50.0, 2 / 5),  # 40, 60, (none); the skip's 1.0 s is left out
]


def test_annotator_table(annotated: pd.DataFrame) -> None:
    table = annotator_table(annotated, CHOICE_FIELDS)
    assert list(table.columns) == ANNOTATOR_COUNT_COLUMNS
    assert_rows(records(table), ANNOTATORS)


def test_annotator_without_scored_items() -> None:
    table = build(
        [
            (1, "d1-b", "ann", 0, 3.0, {"stance_china": "Favor"}),
            (2, "d1-a", "ben", 0, 4.0, {"stance_china": "Against"}),  # alone on d1-a
            (3, "d1-b", "cat", 0, 2.0, None),  # only ever skipped
        ]
    )
    rows = records(annotator_table(table, CHOICE_FIELDS))
    assert rows == [("ann", 1, 0, 3.0, None), ("ben", 1, 0, 4.0, None), ("cat", 0, 1, None, None)]


def brute_force_loo(answers: list[tuple[str, str, str, str]]) -> dict[str, float]:
    """Reference: (sentence, field, annotator, label) answers -> leave-one-out agreement."""
    scores: dict[str, list[bool]] = {}
    for sentence, field, annotator, label in answers:
        others = Counter(
            other_label for s, f, a, other_label in answers if (s, f) == (sentence, field) and a != annotator
        )
        ranked = others.most_common()
        if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            scores.setdefault(annotator, []).append(label == ranked[0][0])
    return {annotator: float(np.mean(hits)) for annotator, hits in scores.items()}


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(
            st.sampled_from(list(SENTENCES)),
            st.sampled_from(["stance_china", "stance_us"]),
            st.sampled_from("abcde"),
        ),
        st.sampled_from(STANCE),
        max_size=40,
    )
)
def test_leave_one_out_matches_brute_force(answers: dict[tuple[str, str, str], str]) -> None:
    by_annotation: dict[tuple[str, str], dict[str, str]] = {}
    for (sentence, field, annotator), label in answers.items():
        by_annotation.setdefault((sentence, annotator), {})[field] = label
    table = build(
        [
            (annotation_id, sentence, annotator, 0, 1.0, labels)
            for annotation_id, ((sentence, annotator), labels) in enumerate(by_annotation.items())
        ]
    )
    expected = brute_force_loo([(s, f, a, label) for (s, f, a), label in answers.items()])
    result = annotator_table(table, CHOICE_FIELDS).set_index("annotator")
    assert sorted(result.index) == sorted({a for _, _, a in answers})
    for name, share in result["agreement_with_majority"].items():
        if name in expected:
            assert share == pytest.approx(expected[str(name)])
        else:
            assert math.isnan(share)


# -- all of it ---------------------------------------------------------------------------------


def majority_tables(annotations: pd.DataFrame, sentences: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The majority-vote building blocks that annotate.quality.tables.compute_tables combines."""
    majority = majority_labels(annotations, CHOICE_FIELDS, sentences)
    return {
        "sentence_labels": majority,
        "document_stance": document_stance(majority, TARGETS, STANCE),
        "agreement": field_agreement(annotations, CHOICE_FIELDS),
        "annotators": annotator_table(annotations, CHOICE_FIELDS),
    }


def test_majority_tables(annotated: pd.DataFrame, sentences: pd.DataFrame) -> None:
    tables = majority_tables(annotated, sentences)
    assert_rows(records(tables["sentence_labels"]), MAJORITY)
    assert records(tables["document_stance"]) == DOCUMENT_STANCE
    assert_rows(records(tables["annotators"]), ANNOTATORS)

    agreement = tables["agreement"]
    assert list(agreement.columns) == AGREEMENT_COLUMNS
    agreement = agreement[["field", "krippendorff_alpha", "percent_agreement", "units", "annotators"]]
    # Nominal alpha = 1 - (n - 1) * (off-diagonal coincidences) / (n^2 - sum n_c^2), over units
    # with >= 2 answers (d2-y has one). Coincidences: each ordered pair in a unit / (m_u - 1).
    # china: d1-b F,F,A -> FF 1, FA 1, AF 1; d1-a N,F -> NF 1, FN 1; d2-x A,A,A -> AA 3.
    #        n_F 3, n_A 4, n_N 1, n 8; off-diagonal 4 -> 1 - 7*4 / (64 - 26) = 10/38.
    #        percent: d1-b 2/6, d1-a 0, d2-x 1 -> (1/3 + 0 + 1) / 3 = 4/9
    # us:    d1-b A,N,F -> six off-diagonal pairs of 1/2; d1-a A,A -> AA 2; d2-x A,A,N -> AA 1,
    #        AN 1, NA 1. n_A 5, n_N 2, n_F 1, n 8; off-diagonal 5 -> 1 - 7*5 / (64 - 30) = -1/34
    #        percent: (0 + 1 + 2/6) / 3 = 4/9
    # type:  d1-b F,F,O -> FF 1, FO 1, OF 1; d1-a O,O -> OO 2; d2-x F,F -> FF 2.
    #        n_F 4, n_O 3, n 7; off-diagonal 2 -> 1 - 6*2 / (49 - 25) = 1/2
    #        percent: (1/3 + 1 + 1) / 3 = 7/9
    assert_rows(
        records(agreement),
        [
            ("stance_china", 10 / 38, 4 / 9, 3, 3),
            ("stance_us", -1 / 34, 4 / 9, 3, 3),
            ("sentence_type", 1 / 2, 7 / 9, 3, 3),
        ],
    )


def test_majority_tables_on_no_annotations(sentences: pd.DataFrame) -> None:
    tables = majority_tables(build([]), sentences)
    assert list(tables["sentence_labels"].columns) == MAJORITY_COLUMNS
    assert list(tables["document_stance"].columns) == DOCUMENT_STANCE_COLUMNS
    assert list(tables["annotators"].columns) == ANNOTATOR_COUNT_COLUMNS
    assert all(len(tables[key]) == 0 for key in ("sentence_labels", "document_stance", "annotators"))
    assert tables["agreement"]["units"].tolist() == [0, 0, 0]


def test_majority_tables_check_their_input(annotated: pd.DataFrame, sentences: pd.DataFrame) -> None:
    with pytest.raises(ExportError, match="sentences table is missing column"):
        majority_labels(annotated, CHOICE_FIELDS, sentences[["sentence_id"]])
    with pytest.raises(ExportError, match="missing column.*lead_time"):
        annotator_table(annotated.drop(columns="lead_time"), CHOICE_FIELDS)


def test_pull_dtypes_give_the_same_tables(annotated: pd.DataFrame, sentences: pd.DataFrame) -> None:
    """annotate.studio.pull stores text columns as pandas "string" (missing = pd.NA)."""
    text = ["sentence_id", "doc_id", "annotator", "field", "label", "span_text"]
    typed = annotated.astype(dict.fromkeys(text, "string"))
    # a row without a sentence id (a task that is not one of ours) is left out
    stray = typed.iloc[[0]].assign(sentence_id=pd.array([pd.NA], dtype="string"), annotation_id=50)
    typed = pd.concat([typed, stray], ignore_index=True)
    plain = majority_tables(annotated, sentences)
    tables = majority_tables(typed, sentences)
    for key in ("sentence_labels", "document_stance", "agreement"):
        assert records(tables[key]) == records(plain[key])
    # the stray annotation still counts as ann's annotation, but carries no answer
    assert tables["annotators"]["annotations"].tolist() == [4, 4, 3]
    assert tables["annotators"]["agreement_with_majority"].tolist() == pytest.approx([3 / 4, 4 / 5, 2 / 5])

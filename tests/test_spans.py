"""Cue spans: the tokenizer, token labels, token-level agreement and span F1, worked by hand."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.errors import ExportError, InputError
from annotate.quality.spans import CUE_COLUMNS, TOKEN_COLUMNS, cue_agreement, span_f1, token_labels, tokenize

T0 = pd.Timestamp("2026-01-01T00:00:00Z")
LOADED, VAGUE = "Loaded language", "Vague attribution"
CUES = [LOADED, VAGUE]
TEXTS = {
    # tokens: Officials 0-9, slammed 10-17, the 18-21, reckless 22-30, deal 31-35, . 35-36
    "s1": "Officials slammed the reckless deal.",
    # tokens: Experts 0-7, say 8-11, it 12-14, works 15-20, . 20-21
    "s2": "Experts say it works.",
    # one token per character: 专 家 称 合 作 有 益 。
    "zh": "专家称合作有益。",
}

# (annotation id, sentence, annotator, cue label or None for no span, start, end)
Span = tuple[int, str, str, str | None, int | None, int | None]

HAND: list[Span] = [
    (1, "s1", "ann", LOADED, 10, 17),  # slammed
    (1, "s1", "ann", LOADED, 22, 30),  # reckless
    (2, "s1", "ben", LOADED, 10, 30),  # slammed the reckless
    (3, "s1", "cat", LOADED, 22, 30),  # reckless
    (4, "s2", "ann", VAGUE, 0, 11),  # Experts say
    (5, "s2", "ben", None, None, None),  # annotated, marked nothing
    (6, "s2", "cat", VAGUE, 0, 7),  # Experts
]


def build(
    spans: Sequence[Span], cancelled: Sequence[int] = (), minutes: dict[int, int] | None = None
) -> pd.DataFrame:
    rows = []
    for annotation_id, sentence_id, annotator, label, start, end in spans:
        rows.append(
            {
                "sentence_id": sentence_id,
                "doc_id": "d1",
                "task_id": 1,
                "annotation_id": annotation_id,
                "annotator": annotator,
                "field": "cues" if label is not None else None,
                "label": label,
                "start": start,
                "end": end,
                "span_text": None,
                "created_at": T0,
                "updated_at": T0 + pd.Timedelta(minutes=(minutes or {}).get(annotation_id, 0)),
                "lead_time": 3.0,
                "cancelled": annotation_id in cancelled,
            }
        )
    return pd.DataFrame(rows).astype({"start": "Int64", "end": "Int64"})


def sentences(*ids: str) -> pd.DataFrame:
    chosen = ids or tuple(TEXTS)
    return pd.DataFrame(
        {"sentence_id": list(chosen), "doc_id": "d1", "text": [TEXTS[i] for i in chosen], "task_id": 1}
    )


def grid(table: pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    """(sentence, annotator) -> token labels, with L / V / - for short."""
    short = {LOADED: "L", VAGUE: "V", "none": "-"}
    return {
        (str(s), str(a)): [short[label] for label in part.sort_values("token")["label"]]
        for (s, a), part in table.groupby(["sentence_id", "annotator"])
    }


# -- tokenizer ---------------------------------------------------------------------------------

TOKEN_CASES = [
    ("Officials slammed the reckless deal.", ["Officials", "slammed", "the", "reckless", "deal", "."]),
    ("China’s AI, 3.5% up.", ["China’s", "AI", ",", "3.5", "%", "up", "."]),
    (
        'Washington\'s "AI dialogue" stalled—again!',
        ["Washington's", '"', "AI", "dialogue", '"', "stalled", "—", "again", "!"],
    ),
    ("1,000 chips (U.S.-made)", ["1,000", "chips", "(", "U", ".", "S", ".", "-", "made", ")"]),
    ("cafe\u0301 naïve", ["cafe\u0301", "naïve"]),  # a combining accent stays with its letter
    ("snake_case", ["snake", "_", "case"]),
    ("中美两国展开合作。", ["中", "美", "两", "国", "展", "开", "合", "作", "。"]),
    ("美国AI政策，2024年。", ["美", "国", "AI", "政", "策", "，", "2024", "年", "。"]),
    ("AIの協力", ["AI", "の", "協", "力"]),
    ("한국 정부", ["한국", "정부"]),  # Hangul separates words with spaces
    ("", []),
    (" \n\t ", []),
]


@pytest.mark.parametrize(("text", "expected"), TOKEN_CASES)
def test_tokenize(text: str, expected: list[str]) -> None:
    assert [text[a:b] for a, b in tokenize(text)] == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab Z9.,'’-_ \n中国。é\u0301")), max_size=40))
def test_tokens_are_ordered_and_cover_every_visible_character(text: str) -> None:
    tokens = tokenize(text)
    covered: set[int] = set()
    last = 0
    for start, end in tokens:
        assert last <= start < end <= len(text)
        assert not any(char.isspace() for char in text[start:end])
        covered.update(range(start, end))
        last = end
    assert covered == {i for i, char in enumerate(text) if not char.isspace()}


def test_tokenize_needs_text() -> None:
    with pytest.raises(InputError, match="tokenize needs text"):
        tokenize(None)  # type: ignore[arg-type]


# -- token labels --------------------------------------------------------------------------------


def test_token_labels_of_the_hand_example() -> None:
    table = token_labels(build(HAND), sentences("s1", "s2"), CUES)
    assert list(table.columns) == TOKEN_COLUMNS
    assert len(table) == 3 * 6 + 3 * 5
    assert grid(table) == {
        ("s1", "ann"): ["-", "L", "-", "L", "-", "-"],
        ("s1", "ben"): ["-", "L", "L", "L", "-", "-"],
        ("s1", "cat"): ["-", "-", "-", "L", "-", "-"],
        ("s2", "ann"): ["V", "V", "-", "-", "-"],
        ("s2", "ben"): ["-", "-", "-", "-", "-"],  # no spans: "none" everywhere
        ("s2", "cat"): ["V", "-", "-", "-", "-"],
    }
    first = table.iloc[0]
    assert (first["sentence_id"], first["token"], first["start"], first["end"]) == ("s1", 0, 0, 9)


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        # tokens: Officials slammed the reckless deal .
        # two spans cover "the": the one that starts first gives the label
        ([(LOADED, 10, 30), (VAGUE, 18, 21)], ["-", "L", "L", "L", "-", "-"]),
        ([(VAGUE, 18, 30), (LOADED, 10, 21)], ["-", "L", "L", "V", "-", "-"]),
        # same start: the longer span; same start and end: the cue listed first in the config
        ([(VAGUE, 10, 17), (LOADED, 10, 21)], ["-", "L", "L", "-", "-", "-"]),
        ([(VAGUE, 10, 17), (LOADED, 10, 17)], ["-", "L", "-", "-", "-", "-"]),
        # at least half of a token's characters: 4 of "slammed"'s 7 count, 3 do not
        ([(LOADED, 10, 14)], ["-", "L", "-", "-", "-", "-"]),
        ([(LOADED, 10, 13)], ["-", "-", "-", "-", "-", "-"]),
        # a selection with the spaces around it; one running 2 letters into "reckless"
        ([(LOADED, 9, 22)], ["-", "L", "L", "-", "-", "-"]),
        ([(VAGUE, 18, 24)], ["-", "-", "V", "-", "-", "-"]),
        # offsets past the end of the text cover what is there
        ([(LOADED, 31, 99)], ["-", "-", "-", "-", "L", "L"]),
    ],
)
def test_overlapping_and_partial_spans(spans: list[tuple[str, int, int]], expected: list[str]) -> None:
    rows: list[Span] = [(1, "s1", "ann", label, start, end) for label, start, end in spans]
    assert grid(token_labels(build(rows), sentences("s1"), CUES))[("s1", "ann")] == expected


def test_what_counts() -> None:
    spans: list[Span] = [
        (1, "s1", "ann", LOADED, 10, 17),
        (2, "s1", "ann", None, None, None),  # ann's later annotation, without spans, replaces 1
        (3, "s1", "ben", LOADED, 22, 30),
        (4, "s1", "cat", LOADED, 22, 30),  # skipped: cat does not count
        (5, "s9", "dan", LOADED, 0, 3),  # a sentence missing from the sentences table
        (6, "s1", "eve", LOADED, None, None),  # a cue without offsets is left out
        (7, "s1", "fay", LOADED, 17, 17),  # and so is an empty one
        (7, "s1", "fay", LOADED, -3, 9),  # or one starting before the text
    ]
    table = token_labels(build(spans, cancelled=[4], minutes={2: 5}), sentences("s1"), CUES)
    assert grid(table) == {
        ("s1", "ann"): ["-"] * 6,
        ("s1", "ben"): ["-", "-", "-", "L", "-", "-"],
        ("s1", "eve"): ["-"] * 6,
        ("s1", "fay"): ["-"] * 6,
    }


def test_cjk_tokens() -> None:
    spans: list[Span] = [(1, "zh", "a", VAGUE, 0, 3), (2, "zh", "b", VAGUE, 0, 2)]  # 专家称, 专家
    table = token_labels(build(spans), sentences("zh"), CUES)
    assert grid(table) == {("zh", "a"): ["V", "V", "V"] + ["-"] * 5, ("zh", "b"): ["V", "V"] + ["-"] * 6}


# -- agreement by hand ---------------------------------------------------------------------------


def row_of(table: pd.DataFrame, field: str) -> pd.Series:
    return table[table["field"] == field].iloc[0]


def test_cue_agreement_of_the_hand_example() -> None:
    table = cue_agreement(build(HAND), sentences("s1", "s2"), CUES, n_boot=200)
    assert list(table.columns) == CUE_COLUMNS
    assert table["field"].tolist() == ["cues", f"cues:{LOADED}", f"cues:{VAGUE}"]
    assert (table["level"] == "nominal").all()
    assert (table["units"] == 11).all() and (table["pairable_values"] == 33).all()
    assert (table["annotators"] == 3).all()

    cues = row_of(table, "cues")
    # 11 tokens, 3 labels each; counts (none, L, V) per token:
    #   s1: (3,0,0) (1,2,0) (2,1,0) (0,3,0) (3,0,0) (3,0,0); s2: (1,0,2) (2,0,1) (3,0,0) x3
    # coincidences, (n_c n_k - [c=k] n_c) / (3 - 1) per token:
    #   (3,0,0): o_nn 3 (x6 = 18); (1,2,0): o_nL 1, o_LL 1; (2,1,0): o_nn 1, o_nL 1;
    #   (0,3,0): o_LL 3; (1,0,2): o_nV 1, o_VV 1; (2,0,1): o_nn 1, o_nV 1
    #   -> o_nn 20, o_nL 2, o_LL 4, o_nV 2, o_VV 1; n_none 24, n_L 6, n_V 3, n 33
    # alpha = 1 - (n - 1) * 2 (o_nL + o_nV) / (n^2 - sum n_c^2) = 1 - 32 * 8 / (1089 - 621) = 53/117
    assert cues["krippendorff_alpha"] == pytest.approx(53 / 117)
    # percent: 7 tokens agree fully, 4 have one pair of three agreeing: (7 + 4/3) / 11
    assert cues["percent_agreement"] == pytest.approx(25 / 33)
    # Fleiss (3 ratings per token): p_e = 621/1089 -> (25/33 - 621/1089) / (468/1089) = 17/39
    assert cues["fleiss_kappa"] == pytest.approx(17 / 39)
    # AC1, q = 3: p_e = (1 - 621/1089) / 2 = 234/1089 -> (825 - 234) / (1089 - 234) = 197/285
    assert cues["gwet_ac1"] == pytest.approx(197 / 285)
    # span F1 per pair, over s1 and s2 (all pairs annotated both):
    #   ann/ben: ann L(10,17) L(22,30) V(0,11), ben L(10,30): exact 0; overlapping: ann's two L
    #            meet ben's, ben's one meets ann's -> m 2 and 1 of n 3 and 1: 2*2*1/(2*1 + 1*3) = 4/5
    #   ann/cat: cat L(22,30) V(0,7): exact L(22,30): 2*1/(3+2) = 2/5; overlapping: ann's
    #            L(22,30) and V, cat's two -> m 2 and 2 of 3 and 2: 2*2*2/(2*2 + 2*3) = 4/5
    #   ben/cat: exact 0; overlapping: L(10,30) meets L(22,30) -> m 1, 1 of 1, 2: 2/(2 + 1) = 2/3
    assert cues["span_f1_exact"] == pytest.approx((0 + 2 / 5 + 0) / 3)
    assert cues["span_f1_overlap"] == pytest.approx((4 / 5 + 4 / 5 + 2 / 3) / 3)

    loaded = row_of(table, f"cues:{LOADED}")
    # L or not per token: (not, L) = (1,2) (2,1) (0,3) and (3,0) x8
    # o_LL = 1 + 3 = 4, o_L,not = 1 + 1 = 2, n_L 6, n_not 27: alpha = 1 - 32 * 4 / (2 * 6 * 27) = 49/81
    assert loaded["krippendorff_alpha"] == pytest.approx(49 / 81)
    assert loaded["percent_agreement"] == pytest.approx((9 + 2 / 3) / 11)
    # L spans only: ann/ben m 2, 1 of 2, 1 -> 1; ann/cat exact 1 of 2 + 1 -> 2/3, m 1, 1 -> 2/3;
    # ben/cat exact 0, m 1, 1 of 1, 1 -> 1
    assert loaded["span_f1_exact"] == pytest.approx((0 + 2 / 3 + 0) / 3)
    assert loaded["span_f1_overlap"] == pytest.approx((1 + 2 / 3 + 1) / 3)

    vague = row_of(table, f"cues:{VAGUE}")
    # (not, V) = (1,2) (2,1) and (3,0) x9: o_VV 1, o_V,not 2, n_V 3, n_not 30:
    # alpha = 1 - 32 * 4 / (2 * 3 * 30) = 13/45
    assert vague["krippendorff_alpha"] == pytest.approx(13 / 45)
    # V spans: ann/ben 1 vs 0 -> 0; ann/cat V(0,11) meets V(0,7), not exactly -> 0 and 1; ben/cat 0
    assert vague["span_f1_exact"] == 0.0
    assert vague["span_f1_overlap"] == pytest.approx(1 / 3)


def test_cue_agreement_on_cjk() -> None:
    spans: list[Span] = [(1, "zh", "a", VAGUE, 0, 3), (2, "zh", "b", VAGUE, 0, 2)]
    cues = row_of(cue_agreement(build(spans), sentences("zh"), CUES), "cues")
    # 8 tokens, 2 labels each: (V,V) x2, (V,none), (none,none) x5
    # o_VV 4, o_V,none 1, o_none,none 10; n_V 5, n_none 11, n 16: 1 - 15 * 2 / (2 * 5 * 11) = 8/11
    assert cues["krippendorff_alpha"] == pytest.approx(8 / 11)
    assert cues["percent_agreement"] == pytest.approx(7 / 8)
    assert (cues["units"], cues["pairable_values"], cues["annotators"]) == (8, 16, 2)
    # 专家称 vs 专家: no exact match, overlapping both ways
    assert (cues["span_f1_exact"], cues["span_f1_overlap"]) == (0.0, 1.0)


def test_span_f1_does_not_depend_on_the_pair_order() -> None:
    swapped = build(
        [(a, s, {"ann": "zed", "cat": "abe"}.get(w, w), lab, b, e) for a, s, w, lab, b, e in HAND]
    )
    first = cue_agreement(build(HAND), sentences(), CUES, n_boot=0)
    second = cue_agreement(swapped, sentences(), CUES, n_boot=0)
    pd.testing.assert_frame_equal(first, second)


def test_span_f1_formula() -> None:
    # m_a, m_b matched, n_a, n_b spans
    result = span_f1(
        np.array([2, 0, 0, 1]), np.array([1, 0, 0, 1]), np.array([3, 2, 0, 1]), np.array([1, 0, 0, 1])
    )
    np.testing.assert_allclose(result, [4 / 5, 0.0, np.nan, 1.0])
    assert span_f1(1, 2, 2, 3) == pytest.approx(span_f1(2, 1, 3, 2))


def test_no_spans_and_no_annotations() -> None:
    nothing: list[Span] = [(1, "s1", "ann", None, None, None), (2, "s1", "ben", None, None, None)]
    row = row_of(cue_agreement(build(nothing), sentences("s1"), CUES), "cues")
    # every token "none" from both: alpha undefined, agreement perfect, no spans for F1
    assert math.isnan(row["krippendorff_alpha"]) and math.isnan(row["alpha_ci_low"])
    assert row["percent_agreement"] == 1.0 and row["gwet_ac1"] == 1.0 and math.isnan(row["fleiss_kappa"])
    assert math.isnan(row["span_f1_exact"]) and math.isnan(row["span_f1_overlap"])
    empty = cue_agreement(build(nothing).iloc[:0], sentences("s1"), CUES)
    assert len(empty) == 3 and (empty["units"] == 0).all() and empty["krippendorff_alpha"].isna().all()
    assert cue_agreement(build(HAND), sentences(), []).columns.tolist() == CUE_COLUMNS
    assert cue_agreement(build(HAND), sentences(), []).empty


def test_bootstrap_resamples_sentences_and_repeats() -> None:
    more = HAND + [(10 + i, s, w, lab, b, e) for i, (_, s, w, lab, b, e) in enumerate(HAND)]
    table = build(more, minutes={10 + i: 1 for i in range(len(HAND))})
    first = cue_agreement(table, sentences(), CUES, n_boot=300, seed=3)
    again = cue_agreement(table, sentences(), CUES, n_boot=300, seed=3)
    pd.testing.assert_frame_equal(first, again)
    cues = row_of(first, "cues")
    assert cues["alpha_ci_low"] <= cues["krippendorff_alpha"] <= cues["alpha_ci_high"]


def test_pull_dtypes_give_the_same_rows() -> None:
    text = ["sentence_id", "doc_id", "annotator", "field", "label", "span_text"]
    typed = build(HAND).astype(dict.fromkeys(text, "string"))
    sents = sentences().astype({"sentence_id": "string", "text": "string"})
    pd.testing.assert_frame_equal(
        cue_agreement(typed, sents, CUES, n_boot=50), cue_agreement(build(HAND), sentences(), CUES, n_boot=50)
    )


# -- oracle: the krippendorff package on the token table ---------------------------------------

span_rows = st.lists(
    st.tuples(
        st.sampled_from(["s1", "s2"]),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from([LOADED, VAGUE, None]),
        st.integers(0, 36),
        st.integers(1, 12),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=60, deadline=None)
@given(rows=span_rows)
def test_token_alpha_matches_the_package(rows: list[tuple[str, str, str | None, int, int]]) -> None:
    ids: dict[tuple[str, str], int] = {}
    spans: list[Span] = []
    for sentence_id, who, label, start, length in rows:
        annotation_id = ids.setdefault((sentence_id, who), len(ids) + 1)
        if label is None:
            spans.append((annotation_id, sentence_id, who, None, None, None))
        else:
            spans.append((annotation_id, sentence_id, who, label, start, start + length))
    annotations, sents = build(spans), sentences("s1", "s2")
    tokens = token_labels(annotations, sents, CUES)
    code = {"none": 0, LOADED: 1, VAGUE: 2}
    matrix = (
        tokens.assign(
            unit=tokens["sentence_id"] + ":" + tokens["token"].astype(str), value=tokens["label"].map(code)
        )
        .pivot(index="annotator", columns="unit", values="value")
        .to_numpy(dtype=float)
    )
    row = row_of(cue_agreement(annotations, sents, CUES, n_boot=0), "cues")
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))
    except ValueError:
        expected = float("nan")
    if not math.isfinite(expected):
        assert math.isnan(row["krippendorff_alpha"])
    else:
        assert row["krippendorff_alpha"] == pytest.approx(expected, abs=1e-9)
    assert row["units"] == int((np.sum(~np.isnan(matrix), axis=0) >= 2).sum())


# -- bad input ------------------------------------------------------------------------------------


def test_bad_input() -> None:
    table = build(HAND)
    with pytest.raises(ExportError, match=r"cue label\(s\) missing from the config: 'Vague attribution'"):
        cue_agreement(table, sentences(), [LOADED])
    with pytest.raises(InputError, match="'none' is reserved"):
        token_labels(table, sentences(), [LOADED, VAGUE, "None"])
    with pytest.raises(InputError, match="cues must be the config's list"):
        token_labels(table, sentences(), LOADED)
    with pytest.raises(ExportError, match="sentences table is missing column.*text"):
        cue_agreement(table, sentences()[["sentence_id"]], CUES)
    with pytest.raises(ExportError, match="missing column.*start"):
        cue_agreement(table.drop(columns="start"), sentences(), CUES)
    with pytest.raises(InputError, match="n_boot must be a whole number"):
        cue_agreement(table, sentences(), CUES, n_boot=-5)


def test_spans_are_fast_enough() -> None:
    rng = np.random.default_rng(0)
    words = [
        "the",
        "government",
        "said",
        "its",
        "reckless",
        "plan",
        "would",
        "boost",
        "cooperation",
        ",",
        "say",
    ]
    n = 5_000
    texts = {f"x{i:05d}": " ".join(rng.choice(words, 20)) + "." for i in range(n)}
    spans: list[Span] = []
    for i, (sentence_id, text) in enumerate(texts.items()):
        start, end = tokenize(text)[int(rng.integers(0, 20))]
        for j, who in enumerate(("a", "b", "c")):
            keep = rng.random() < 0.7
            spans.append(
                (3 * i + j, sentence_id, who, LOADED if keep else None, start if keep else None, end)
            )
    annotations = build(spans)
    sents = pd.DataFrame({"sentence_id": list(texts), "text": list(texts.values())})
    began = time.perf_counter()
    table = cue_agreement(annotations, sents, CUES, n_boot=1000)
    assert time.perf_counter() - began < 5
    assert row_of(table, "cues")["units"] == 21 * n


def test_doctests() -> None:
    import doctest

    import annotate.quality.spans

    result = doctest.testmod(annotate.quality.spans)
    assert result.attempted >= 4 and result.failed == 0

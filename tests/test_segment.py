"""Sentence splitting: golden cases, offsets, paragraphs, ids, language detection."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.errors import InputError
from annotate.ingest.articles import Article, read_articles
from annotate.ingest.segment import (
    MAX_SENTENCE_CHARS,
    Sentence,
    detect_language,
    normalise,
    sentence_id,
    split_article,
    split_text,
)

GOLDEN = Path(__file__).parent / "golden" / "segment_cases.jsonl"
SAMPLE = Path(__file__).parent.parent / "annotate" / "data" / "china_us_ai_cooperation.txt"
CASES = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]


def assert_exact_cover(text: str, spans: list[tuple[int, int, int]], strict: bool = True) -> None:
    """Spans are in order and trimmed; between them is whitespace (or, unless
    ``strict``, lines without letters or digits, which are left out)."""
    pos = 0
    for _, start, end in [*spans, (0, len(text), len(text))]:
        assert pos <= start <= end <= len(text)
        gap = text[pos:start]
        assert gap.strip() == "" if strict else not re.search(r"\w", gap)
        assert text[start:end] == text[start:end].strip()
        pos = end


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden(case: dict) -> None:
    text = case["text"]
    spans = split_text(text, case["language"])
    assert [text[start:end] for _, start, end in spans] == case["sentences"], case["note"]
    assert_exact_cover(text, spans)


def test_golden_table_is_large_and_unique() -> None:
    assert len(CASES) >= 30
    assert len({case["id"] for case in CASES}) == len(CASES)


def test_every_line_is_a_paragraph() -> None:
    text = "First one. Second one.\nThird one.\n\n\nFourth one.\r\nFifth one..\n   \n***\nSixth."
    spans = split_text(text)
    assert [(p, text[s:e]) for p, s, e in spans] == [
        (0, "First one."),
        (0, "Second one."),
        (1, "Third one."),
        (2, "Fourth one."),
        (3, "Fifth one.."),
        # "***" has no letter or digit: no sentence, and no paragraph number used.
        (4, "Sixth."),
    ]


def test_sentences_never_cross_a_line_break() -> None:
    text = "He met Mr.\nSmith on Monday. They\ntalked."
    assert [text[s:e] for _, s, e in split_text(text)] == [
        "He met Mr.",
        "Smith on Monday.",
        "They",
        "talked.",
    ]


def test_empty_and_blank_text() -> None:
    assert split_text("") == []
    assert split_text(" \n\t\n") == []


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        split_text("Bonjour.", "fr")
    article = Article(doc_id="a", text="Bonjour.", language="fr", source="a.csv:row 1")
    with pytest.raises(InputError, match=r"a\.csv:row 1: unsupported language 'fr'"):
        split_article(article)


def test_long_line_goes_through_windows_with_exact_offsets() -> None:
    # Longer than several pysbd windows; "Mr." and "U.S." land on window edges somewhere.
    sentence = "Mr. Smith met officials from the U.S. Department of State on Monday. "
    text = sentence * 400
    spans = split_text(text)
    assert len(spans) == 400
    assert {text[s:e] for _, s, e in spans} == {sentence.strip()}
    assert_exact_cover(text, spans)


def test_pysbd_placeholder_characters_in_text() -> None:
    # pysbd uses these characters internally and used to drop the text around them.
    text = "Odd chars ∯ ȸ ♨ ☝ here. Next one ☏ &ᓰ; here."
    assert [text[s:e] for _, s, e in split_text(text)] == [
        "Odd chars ∯ ȸ ♨ ☝ here.",
        "Next one ☏ &ᓰ; here.",
    ]


WORDS = st.sampled_from(
    [
        "The",
        "U.S.",
        "Mr.",
        "said",
        "approx.",
        "$3.50",
        "Inc.",
        "“Why?”",
        "...",
        "…",
        "3.5%",
        "no.",
        "(AP)",
        "-",
        "中国",
        "合作。",
        "”",
        "e.g.",
        "Corp.",
        "p.m.",
        "Tuesday",
        "It",
    ]
)
SEPARATORS = st.sampled_from([" ", "  ", ". ", "? ", "\n", "\n\n", "\t", "\u3000", ""])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(WORDS, SEPARATORS), max_size=40), st.sampled_from(["en", "zh"]))
def test_spans_always_cover_the_text_exactly(parts: list[tuple[str, str]], language: str) -> None:
    text = "".join(word + sep for word, sep in parts)
    spans = split_text(text, language)
    assert_exact_cover(text, spans, strict=False)
    for _, start, end in spans:
        assert "\n" not in text[start:end]
    assert [p for p, _, _ in spans] == sorted(p for p, _, _ in spans)


# --------------------------------------------------------------------------- over-long sentences

RUN_ON_CLAUSES = [
    "the minister said that the talks would continue",
    "and that both sides had agreed to meet again in June",
    "while officials in Washington warned of the risks",
    "and analysts in Beijing remained cautious about the outcome",
]


def run_on(length: int) -> str:
    """A single 'sentence' of ``length`` characters: clauses joined by commas, a semicolon now and then."""
    parts, size, i = [], 0, 0
    while size < length:
        part = RUN_ON_CLAUSES[i % 4] + ("; " if i % 7 == 6 else ", ")
        parts.append(part)
        size += len(part)
        i += 1
    return "".join(parts)[: length - 1].rstrip(",; ") + "."


def test_run_on_sentence_of_50000_characters_is_split_at_clause_boundaries() -> None:
    text = run_on(50_000)
    assert len(text) >= 49_990 and "\n" not in text
    spans = split_text(text)
    assert_exact_cover(text, spans)
    pieces = [text[start:end] for _, start, end in spans]
    assert all(len(piece) <= MAX_SENTENCE_CHARS for piece in pieces)
    assert len(pieces) >= 50_000 // MAX_SENTENCE_CHARS
    # Semicolons come every seven clauses (about 360 characters), so every cut but the
    # last piece's end is after one: within half the limit there is always one.
    assert all(piece.endswith(";") for piece in pieces[:-1])
    assert pieces[-1].endswith(".")
    assert {p for p, _, _ in spans} == {0}


def test_50000_characters_without_a_space_are_cut_at_the_limit() -> None:
    text = "x" * 50_000
    spans = split_text(text)
    assert [(start, end) for _, start, end in spans] == [(i, i + 2000) for i in range(0, 50_000, 2000)]


def test_long_chinese_sentence_is_cut_after_full_width_commas() -> None:
    text = "中美双方同意就人工智能举行对话，" * 3200
    spans = split_text(text, "zh")
    assert_exact_cover(text, spans)
    assert all(end - start <= MAX_SENTENCE_CHARS and text[end - 1] == "，" for _, start, end in spans)


@pytest.mark.parametrize(
    ("text", "max_chars", "pieces"),
    [
        # A semicolon beats a comma, a colon beats a comma, a comma beats a space.
        ("one, two; three, four", 12, ["one, two;", "three, four"]),
        ("one, two: three, four", 12, ["one, two:", "three, four"]),
        ("one two, three four", 12, ["one two,", "three four"]),
        ("one two three four", 12, ["one two", "three four"]),
        # Dashes between spaces are a comma-like break; the cut goes after them.
        ("one two – three four", 12, ["one two –", "three four"]),
        # A break in the first half is used only when the second half has none.
        ("a; bcdefghijklmnop", 12, ["a;", "bcdefghijklm", "nop"]),
        ("a; bcdefgh ijklmnop", 12, ["a; bcdefgh", "ijklmnop"]),
        # No break at all: cut at the limit, but never between a letter and its accent.
        ("e\u0301" * 6, 5, ["e\u0301e\u0301", "e\u0301e\u0301", "e\u0301e\u0301"]),
        # Chinese: 、 and ；
        ("甲乙丙丁、戊己庚辛；壬癸子丑", 10, ["甲乙丙丁、戊己庚辛；", "壬癸子丑"]),
        # Short sentences are left alone.
        ("One. Two.", 12, ["One.", "Two."]),
    ],
)
def test_where_long_sentences_are_cut(text: str, max_chars: int, pieces: list[str]) -> None:
    language = detect_language(text)
    assert [text[s:e] for _, s, e in split_text(text, language, max_chars=max_chars)] == pieces


def test_max_chars_must_leave_room() -> None:
    with pytest.raises(ValueError, match="max_chars must be at least 2"):
        split_text("One.", max_chars=1)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(WORDS, SEPARATORS), max_size=40),
    st.sampled_from(["en", "zh"]),
    st.integers(min_value=2, max_value=40),
)
def test_no_span_is_longer_than_the_limit(
    parts: list[tuple[str, str]], language: str, max_chars: int
) -> None:
    text = "".join(word + sep for word, sep in parts)
    spans = split_text(text, language, max_chars=max_chars)
    assert_exact_cover(text, spans, strict=False)
    assert all(end - start <= max_chars for _, start, end in spans)


def test_split_article_never_returns_a_sentence_over_the_limit() -> None:
    article = Article(doc_id="long", text="Short one here.\n" + run_on(50_000) + "\nThe end.")
    sentences = split_article(article)
    assert max(len(s.text) for s in sentences) <= MAX_SENTENCE_CHARS
    assert all(article.text[s.start : s.end] == s.text for s in sentences)
    assert sentences[0].text == "Short one here." and sentences[-1].text == "The end."
    assert [s.index for s in sentences] == list(range(len(sentences)))
    assert len({s.sentence_id for s in sentences}) == len(sentences)
    assert [s.sentence_id for s in split_article(article)] == [s.sentence_id for s in sentences]


# --------------------------------------------------------------------------- articles


def test_sample_article() -> None:
    (article,) = read_articles([SAMPLE])
    sentences = split_article(article)
    # Counted by reading the file: it has 21 non-blank lines (paragraphs). Eight of
    # them hold two sentences each -- "... Track II channels. These interactions ...",
    # "... also in the city. They remarked ...", "... technological progress. Industry
    # observers ...", "... wider application of AI. As an article ...", "... for US
    # businesses. China's cost-effective ...", "... engagement in AI. The core
    # priority ...", "... practical obstacles. Some in the US ...", "... regional AI
    # blocs. Ensuring that AI ..." -- and the other 13 one each: 13 + 8 * 2 = 29.
    assert len(sentences) == 29
    assert sentences[-1].paragraph == 20
    assert [s.index for s in sentences] == list(range(29))
    assert all(article.text[s.start : s.end] == s.text for s in sentences)
    assert all(s.language == "en" and s.doc_id == "china_us_ai_cooperation" for s in sentences)
    assert sentences[7].text.startswith("These interactions demonstrate")
    assert len({s.sentence_id for s in sentences}) == 29


def test_split_article_fields() -> None:
    article = Article(doc_id="d1", text="Headline news here.\n\nFirst point. Second point.")
    assert split_article(article) == [
        Sentence(sentence_id("d1", "Headline news here.", 0), "d1", 0, 0, 0, 19, "Headline news here.", "en"),
        Sentence(sentence_id("d1", "First point.", 0), "d1", 1, 1, 21, 33, "First point.", "en"),
        Sentence(sentence_id("d1", "Second point.", 0), "d1", 2, 1, 34, 47, "Second point.", "en"),
    ]


def test_sentence_ids_are_stable_and_local() -> None:
    text = "China exported more. The U.S. imported less. Prices rose."
    first = split_article(Article(doc_id="doc", text=text))
    again = split_article(Article(doc_id="doc", text=text))
    assert [s.sentence_id for s in first] == [s.sentence_id for s in again]
    assert all(re.fullmatch(r"s[0-9a-f]{16}", s.sentence_id) for s in first)

    edited = split_article(Article(doc_id="doc", text=text.replace("less", "more")))
    assert [a.sentence_id == b.sentence_id for a, b in zip(first, edited, strict=True)] == [
        True,
        False,
        True,
    ]
    other_doc = split_article(Article(doc_id="doc2", text=text))
    assert not {s.sentence_id for s in first} & {s.sentence_id for s in other_doc}


def test_sentence_id_formula() -> None:
    import hashlib

    expected = "s" + hashlib.sha256(b"doc\x1fPrices rose.\x1f0").hexdigest()[:16]
    assert sentence_id("doc", "Prices rose.", 0) == expected
    # The id uses the normalised text: whitespace and width differences do not matter.
    assert sentence_id("doc", "  Prices\u00a0 rose. ", 0) == expected
    assert sentence_id("doc", "ＡＩ rules.", 0) == sentence_id("doc", "AI rules.", 0)


def test_repeated_sentences_are_numbered_by_occurrence() -> None:
    text = "No comment.\nThe ministry spoke.\nNo  comment.\nNo comment."
    sentences = split_article(Article(doc_id="doc", text=text))
    repeated = [s for s in sentences if normalise(s.text) == "No comment."]
    assert [s.sentence_id for s in repeated] == [sentence_id("doc", "No comment.", n) for n in range(3)]
    assert len({s.sentence_id for s in sentences}) == 4


def test_normalise() -> None:
    assert normalise("  Ｈｅｌｌｏ,\u3000world \n again ") == "Hello, world again"


def test_language_given_or_detected() -> None:
    text = "中美双方应加强合作。美方表示欢迎。"
    detected = split_article(Article(doc_id="z", text=text))
    assert [s.text for s in detected] == ["中美双方应加强合作。", "美方表示欢迎。"]
    assert {s.language for s in detected} == {"zh"}
    # A given language wins over detection: the English rules do not split at 。
    forced = split_article(Article(doc_id="z", text=text, language="en-GB"))
    assert [s.text for s in forced] == [text]
    assert forced[0].language == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("China and the US agreed to hold talks.", "en"),
        ("中国和美国同意举行会谈。", "zh"),
        ("英伟达（Nvidia）与联想（Lenovo）合作推出了AI云超级工厂。", "zh"),
        ("The slogan “合作共赢” (win-win cooperation) was repeated at the forum.", "en"),
        ("2024 12 31 ...", "en"),
        ("", "en"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language

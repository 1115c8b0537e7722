"""The fast pysbd path of ingest.segment (``_FastPysbd``) gives exactly pysbd's output.

Each comparison runs the same text through the splitter twice: as shipped, and inside
``reference_pysbd()``, where every English line goes through pysbd itself.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pysbd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pysbd.abbreviation_replacer import AbbreviationReplacer
from pysbd.lang.english import English
from pysbd.lists_item_replacer import ListItemReplacer
from pysbd.punctuation_replacer import replace_punctuation
from pysbd.utils import Rule, Text

from annotate.ingest import pysbd_fast, segment
from annotate.ingest.pysbd_fast import reference_pysbd
from annotate.ingest.segment import split_text

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "segment_cases.jsonl"
CASES = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
SAMPLE = ROOT / "annotate" / "data" / "china_us_ai_cooperation.txt"


def test_the_fast_path_is_on_for_the_pinned_pysbd() -> None:
    """pyproject pins pysbd to the version whose steps _FastPysbd reproduces; with any other
    version the fast path turns itself off (and these comparisons would say so)."""
    assert pysbd.__version__ == pysbd_fast._PYSBD_VERSION
    assert pysbd_fast._fast_pysbd() is not None


@cache
def fast() -> pysbd_fast._FastPysbd:
    processor = pysbd_fast._fast_pysbd()
    assert processor is not None
    return processor


def pysbd_process(text: str) -> list[str]:
    return list(pysbd.Segmenter(language="en", clean=False).processor(text).process() or [])


def reference(text: str, language: str = "en") -> list[tuple[int, int, int]]:
    with reference_pysbd():
        return split_text(text, language)


def assert_identical(text: str, language: str = "en") -> None:
    """Same spans from split_text, and the same pysbd sentences for every line."""
    assert split_text(text, language) == reference(text, language)
    for line in segment._LINE.findall(text):
        line = line.translate(segment._PYSBD_RESERVED)
        assert fast().process(line) == pysbd_process(line), line


def textgen() -> ModuleType:
    """bench/textgen.py (the benchmark's generator; bench is not a package on the test path)."""
    if "bench_textgen" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_textgen", ROOT / "bench" / "textgen.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_textgen"] = module
        spec.loader.exec_module(module)
    return sys.modules["bench_textgen"]


# --------------------------------------------------------------------------- wiring


def test_the_fast_path_is_used_and_the_reference_is_pysbd(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Mr. Smith arrived. He met Dr. Jones at 3 p.m. on Monday."
    expected = split_text(text)

    def broken(self: pysbd_fast._FastPysbd, line: str) -> list[str]:
        raise RuntimeError("fast path used")

    monkeypatch.setattr(pysbd_fast._FastPysbd, "process", broken)
    with pytest.raises(RuntimeError, match="fast path used"):
        split_text(text)
    assert reference(text) == expected


def test_other_pysbd_versions_go_through_pysbd(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Mr. Smith arrived. He met Dr. Jones at 3 p.m. on Monday."
    expected = split_text(text)
    monkeypatch.setattr(pysbd, "__version__", "0.4.0")
    pysbd_fast._fast_pysbd.cache_clear()
    try:
        assert pysbd_fast._fast_pysbd() is None
        assert split_text(text) == expected
    finally:
        monkeypatch.undo()
        pysbd_fast._fast_pysbd.cache_clear()
    assert pysbd_fast._fast_pysbd() is not None


# --------------------------------------------------------------------------- whole texts


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden_cases_identical(case: dict) -> None:
    assert_identical(case["text"], case["language"])


def test_two_megabytes_of_generated_news_identical() -> None:
    articles = textgen().articles_with_bytes(2_000_000)
    assert sum(len(a.text.encode("utf-8")) for a in articles) >= 2_000_000
    texts = [a.text for a in articles]
    got = [split_text(text) for text in texts]
    with reference_pysbd():
        expected = [split_text(text) for text in texts]
    assert got == expected


def test_long_lines_split_in_windows_identical() -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    one_line = " ".join(sample.split() * 2)
    assert len(one_line) > 3 * segment._WINDOW
    assert_identical(one_line)
    # no sentence end pysbd accepts for more than the widest window: cut at a space
    run_on = "Mr. Smith and Mr. Jones met Gen. Li and " * 700 + "they left."
    assert len(run_on) > segment._MAX_WINDOW
    assert split_text(run_on) == reference(run_on)


# --------------------------------------------------------------------------- fuzzing

HARD = [
    # abbreviations, in the cases news uses
    "U.S.",
    "U.S",
    "U.K.",
    "E.U.",
    "U.S.A.",
    "Mr.",
    "Mrs.",
    "Ms.",
    "Dr.",
    "Prof.",
    "Gen.",
    "Sen.",
    "Rep.",
    "Gov.",
    "Lt.",
    "Col.",
    "St.",
    "Inc.",
    "Corp.",
    "Co.",
    "Ltd.",
    "Co. KG",
    "Bros.",
    "e.g.",
    "i.e.",
    "etc.",
    "vs.",
    "v.",
    "No.",
    "no.",
    "Nos.",
    "No",
    "pp.",
    "p.",
    "art.",
    "approx.",
    "Jan.",
    "Feb.",
    "Sept.",
    "Dec.",
    "a.m.",
    "p.m.",
    "A.M.",
    "P.M.",
    "Ph.D.",
    "d.phil.",
    "fig.",
    "Is.",
    "is.",
    "me.",
    "ill.",
    "id.",
    "mass.",
    "man.",
    "Mr.'s",
    "U.S.'s",
    # numbers
    "3.5",
    "1,000.00",
    "$2.5",
    "12.7%",
    "2019.",
    "45°.5",
    "10:30",
    "3.",
    "1.5.2",
    # list markers
    "1.",
    "2.",
    "3.",
    "10.",
    "11.",
    "a.",
    "b.",
    "c.",
    "i.",
    "ii.",
    "iii.",
    "iv.",
    "a)",
    "b)",
    "c)",
    "(a)",
    "(b)",
    "(i)",
    "(ii)",
    "(iii)",
    "1)",
    "2)",
    "3)",
    "-1.",
    "⁃2.",
    # quotes, brackets, dashes, ellipses
    "“",
    "”",
    '"',
    "'",
    "‘",
    "’",
    "(",
    ")",
    "[",
    "]",
    "[1]",
    "[2, 3]",
    "«",
    "»",
    "--",
    "—",
    "–",
    "…",
    "...",
    "....",
    ". . .",
    ". . . .",
    "'tis",
    "rock 'n' roll",
    '"Why?"',
    "“No!”",
    "(see above.)",
    # sentence ends
    "!",
    "!!",
    "?",
    "??",
    "?!",
    "!?",
    "!!!",
    "???",
    "Yahoo!",
    "Yum!",
    # initials, names, URLs, e-mail, files
    "J.",
    "K.",
    "Rowling",
    "A. B. Smith",
    "I",
    "I'm",
    "I'll",
    "www.example.com",
    "https://news.example.org/a.b?x=1",
    "john.doe@mail.com",
    "report.pdf",
    ".jpg",
    "file .txt",
    # Chinese, full-width marks
    "中国",
    "合作。",
    "美国！",
    "。",
    "．",
    "！",
    "？",
    "「好。」",
    # characters that matter to pysbd's internals or case folding
    "İstanbul",
    "ıx",
    "ſo",
    "\u212a",
    "{mr}",
    "{no} x",
    "x{",
    "\u00a0",
    "\u3000",
    "\t",
    # plain words, both cases
    "The",
    "It",
    "He",
    "said",
    "they",
    "walked",
    "China",
    "Washington",
    "in",
    "the",
    "of",
    "at",
]
WORDS = st.one_of(
    st.sampled_from(HARD),
    st.sampled_from(English.Abbreviation.ABBREVIATIONS).map(lambda a: a.strip()),
    st.sampled_from(English.Abbreviation.ABBREVIATIONS).map(lambda a: a.strip().title() + "."),
    st.sampled_from(English.Abbreviation.ABBREVIATIONS).map(lambda a: a.strip().upper() + "."),
    st.sampled_from(English.Abbreviation.ABBREVIATIONS).map(lambda a: a.strip() + "."),
)
SEPARATORS = st.sampled_from(
    [" ", " ", " ", " ", "  ", ". ", "? ", "! ", ", ", ": ", "; ", "", "\n", "\n\n", "\r", ".\n", "... "]
)
PARAGRAPHS = st.lists(st.tuples(WORDS, SEPARATORS), min_size=1, max_size=45).map(
    lambda parts: "".join(word + sep for word, sep in parts)
)


@settings(max_examples=400, deadline=None)
@given(PARAGRAPHS, st.sampled_from(["en", "en", "en", "zh"]))
def test_fuzzed_paragraphs_identical(text: str, language: str) -> None:
    assert_identical(text, language)


MARKERS = st.sampled_from(
    [
        "a.",
        "b.",
        "c.",
        "d.",
        "i.",
        "ii.",
        "iii.",
        "iv.",
        "v.",
        "a)",
        "b)",
        "(a)",
        "(b)",
        "(c)",
        "i)",
        "(ii)",
        "1.",
        "2.",
        "3.",
        "9.",
        "10.",
        "0.",
        "1)",
        "2)",
        "3)",
        "-1.",
        "-2.",
    ]
)
LISTS = st.lists(
    st.tuples(MARKERS, st.sampled_from(["cut tariffs", "open markets", "x", "The talks", "1999"])),
    min_size=1,
    max_size=8,
).map(lambda items: " ".join(f"{marker} {body}" for marker, body in items))


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(st.sampled_from(["", "Plans: ", "He said ", "1. "]), LISTS, st.sampled_from(["", ".", " end."]))
)
def test_fuzzed_lists_identical(parts: tuple[str, str, str]) -> None:
    text = "".join(parts)
    assert fast().list_items(text) == ListItemReplacer(text).add_line_break()
    assert_identical(text)


ABBR_LINES = st.lists(
    st.tuples(
        st.sampled_from(
            [a.strip() for a in English.Abbreviation.ABBREVIATIONS] + ["u∯s", "e∯g", "ſt", "\u212ao"]
        ),
        st.sampled_from([str.lower, str.upper, str.title]),
        st.sampled_from(
            [
                "",
                ".",
                ". ",
                ".. ",
                ".: ",
                ".- ",
                ".? ",
                "., ",
                ". a",
                ". I ",
                ". I'm",
                ". 3",
                ". (",
                ":3",
                ". A",
                " ",
                "'s ",
                ".)",
            ]
        ),
        st.sampled_from([" ", "  ", "(", "{", "\t", ""]),
    ),
    max_size=12,
).map(lambda parts: "".join(pre + case(abbr) + post for abbr, case, post, pre in parts))


@settings(max_examples=400, deadline=None)
@given(ABBR_LINES)
def test_abbreviation_scan_identical(line: str) -> None:
    expected = AbbreviationReplacer(line, English).search_for_abbreviations_in_string(line)
    assert fast().search_for_abbreviations(line) == expected


# --------------------------------------------------------------------------- the shortcuts' premises


def test_not_plain_holds_every_character_that_folds_to_ascii() -> None:
    """A case-insensitive ASCII letter matches no other character outside _NOT_PLAIN, and
    lower() keeps the length of any character outside it (the abbreviation scan's premise)."""
    chars = "".join(chr(i) for i in range(0x80, 0x110000) if not 0xD800 <= i < 0xE000)
    folding = set(re.findall("[a-z]", chars, re.IGNORECASE))
    longer = {c for c in chars if len(c.lower()) != 1}
    assert folding | longer
    assert all(pysbd_fast._NOT_PLAIN.match(c) for c in folding | longer | {"{"})


def test_abbreviation_list_premises() -> None:
    """What search_for_abbreviations relies on: abbreviations are lower-case ASCII letters,
    some with inner periods, and in those the letter before a period is not the last letter."""
    for abbr in (a.strip() for a in English.Abbreviation.ABBREVIATIONS):
        assert re.fullmatch(r"[a-z]+(?:\.[a-z]+)*", abbr), abbr
        for i, ch in enumerate(abbr):
            if ch == ".":
                assert abbr[i - 1] != abbr[-1], abbr
    assert set(English.Abbreviation.PREPOSITIVE_ABBREVIATIONS) | set(
        English.Abbreviation.NUMBER_ABBREVIATIONS
    ) <= {a.strip() for a in English.Abbreviation.ABBREVIATIONS if "." not in a}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab .。．！!?？'\"()[]-\\", max_size=30), st.sampled_from([None, "single"]))
def test_replace_punctuation_identical(text: str, match_type: str | None) -> None:
    match = re.match(r"(?s).*", text)
    assert match is not None
    assert pysbd_fast._replace_punctuation(match, match_type) == replace_punctuation(match, match_type)


RULES = [
    *English.SubSymbolsRules.All,
    *English.ReinsertEllipsisRules.All,
    *English.DoublePunctuationRules.All,
    *English.EllipsisRules.All,
    *English.ExclamationPointRules.All,
    English.QuestionMarkInQuotationRule,
    English.SubSingleQuoteRule,
    English.SingleNewLineRule,
]
RULE_CHARS = "".join(sorted(set("".join(rule.pattern + rule.replacement for rule in RULES)))) + " aA.\n"


def test_literal_rules_become_string_replacements() -> None:
    literal = [rule for rule in RULES if isinstance(pysbd_fast._rules(rule)[0][0], str)]
    assert len(literal) >= 25
    assert pysbd_fast._rules(Rule(r"\?!", "☉")) == (("?!", "☉"),)
    assert not isinstance(pysbd_fast._rules(Rule(r"\n", "ȹ"))[0][0], str)
    assert not isinstance(pysbd_fast._rules(Rule(r"a.b", "x"))[0][0], str)
    assert not isinstance(pysbd_fast._rules(Rule(r"a", "\\1"))[0][0], str)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=RULE_CHARS, max_size=40))
def test_rules_apply_as_pysbd_applies_them(text: str) -> None:
    for rule in RULES:
        assert pysbd_fast._apply(text, pysbd_fast._rules(rule)) == re.sub(
            rule.pattern, rule.replacement, text
        )
    assert pysbd_fast._apply(text, pysbd_fast._rules(*RULES)) == Text(text).apply(*RULES)


def test_am_pm_needles_are_in_their_patterns() -> None:
    for needle, pattern, _ in fast().ampm:
        assert needle[:-1] in pattern.pattern and pattern.pattern.endswith("∯(?=\\s[A-Z])")


# The post-processing of pysbd's spans as first written: every test a regex on the whole
# sentence before. segment._merge_misses reads only its last characters (and the start of the
# sentence after); the two must agree on every input.
_REF_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_REF_NUMBER_START = re.compile(r"[0-9$€£¥]")


def _reference_merge(line: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for span in spans:
        if out:
            before, after = line[out[-1][0] : out[-1][1]], line[span[0] : span[1]]
            if (
                not _REF_SENTENCE_END.search(before)
                or (segment._ABBR_BEFORE_NUMBER.search(before) and _REF_NUMBER_START.match(after))
                or (segment._SHORT_ABBR_END.search(before) and segment._LOWER_WORD_START.match(after))
                or (segment._CLOCK_END.search(before) and segment._CLOCK_FOLLOW.match(after))
                or (segment._COMPANY_END.search(before) and segment._JOB_TITLE_START.match(after))
            ):
                out[-1] = (out[-1][0], span[1])
                continue
        out.append(span)
    return out


_MERGE_ENDS = st.sampled_from(
    [
        "approx.",
        "Vol.",
        "est.",
        "ca.",
        "p.m.",
        "a.m.",
        "Inc.",
        "Corp.",
        "Bros.",
        "pct.",
        "X.",
        "said.",
        "policy.",
        "é.",
        "Washington.",
        "U.S.",
        "…",
        "?",
        "!",
        ".",
        "end",
        "approx",
        "Inc",
    ]
)
_MERGE_STARTS = st.sampled_from(
    ["The", "Chief", "Monday", "ET", "$5", "3", "from", "cost", "über", '"', "”", ")", "ab", "Chiefs", "30"]
)
_MERGE_MIDDLE = st.lists(st.sampled_from(["the", "ab", "Co", "x", "said"]), max_size=3)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.tuples(_MERGE_STARTS, _MERGE_MIDDLE, _MERGE_ENDS), min_size=1, max_size=6), st.integers(0, 14)
)
def test_merge_rules_read_only_the_tail(sentences: list[tuple[str, list[str], str]], closers: int) -> None:
    """_merge_misses gives the same spans as the whole-sentence regexes, also after a run of
    closing marks longer than the tail it reads."""
    pieces = [" ".join([first, *middle, last]) + ")" * (closers if i == 0 else 0)
              for i, (first, middle, last) in enumerate(sentences)]  # fmt: skip
    line, spans = "", []
    for piece in pieces:
        spans.append((len(line), len(line) + len(piece)))
        line += piece + " "
    assert segment._merge_misses(line, spans) == _reference_merge(line, spans)

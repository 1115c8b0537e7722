"""ingest.parallel_split gives exactly ingest.segment's output, on the golden table and on news text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from annotate.ingest import segment
from annotate.ingest.articles import Article
from annotate.ingest.parallel_split import _LINE, split_articles, split_texts
from annotate.ingest.segment import split_article, split_text

GOLDEN = Path(__file__).parent / "golden" / "segment_cases.jsonl"
SAMPLE = Path(__file__).parent.parent / "annotate" / "data" / "china_us_ai_cooperation.txt"
CASES = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]


def test_same_line_breaks_as_segment() -> None:
    assert _LINE.pattern == segment._LINE.pattern


@pytest.mark.parametrize("processes", [1, 2])
def test_golden_table_identical(processes: int) -> None:
    texts = [case["text"] for case in CASES]
    languages = [case["language"] for case in CASES]
    # force the pool even for this small input
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=processes) as pool:
        got = split_texts(texts, languages, processes=processes, executor=pool)
    for case, spans in zip(CASES, got, strict=True):
        assert spans == split_text(case["text"], case["language"])
        assert [case["text"][s:e] for _, s, e in spans] == case["sentences"], case["id"]


def test_many_paragraphs_and_blank_lines_identical() -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    texts = [sample, "***\n\nOne. Two.\r\n\n  \nThree…  Four.", "", "\n\n", sample.replace("\n", "\n\n")] * 20
    languages = ["en"] * len(texts)
    texts.append("中国欢迎。美国回应了！The U.S. agreed. 双方同意。\n第二段。")
    languages.append("zh")
    got = split_texts(texts * 3, languages * 3, processes=2)  # over MIN_PARALLEL_CHARS: the pool runs
    assert got == [split_text(t, lang) for t, lang in zip(texts * 3, languages * 3, strict=True)]
    assert re.sub(r"\s", "", "".join(texts[0][s:e] for _, s, e in got[0])) == re.sub(r"\s", "", texts[0])


def test_split_articles_identical() -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    articles = [Article(doc_id=f"doc-{i}", text=sample) for i in range(60)]
    assert split_articles(articles, processes=2) == [split_article(a) for a in articles]


def test_language_count_must_match() -> None:
    with pytest.raises(ValueError, match="2 languages for 1 texts"):
        split_texts(["One."], ["en", "en"])

"""Reading articles: every format, titles, metadata, and every input error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from annotate.errors import InputError
from annotate.ingest import SUPPORTED_SUFFIXES, Article, read_articles, slugify

DATA = Path(__file__).parent / "data" / "ingest"


def read_one(path: Path) -> Article:
    (article,) = read_articles([path])
    return article


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def raises(match: str) -> pytest.RaisesExc[InputError]:
    return pytest.raises(InputError, match=match)


# --------------------------------------------------------------------------- text files


def test_txt_with_title_bom_and_crlf() -> None:
    article = read_one(DATA / "titled.txt")
    assert article.doc_id == "titled"
    assert article.title == "China and US agree to AI dialogue"
    assert article.text == (
        "BEIJING, May 2 (Reuters) - The two governments will hold talks on AI. "
        "Details were not disclosed.\n"
        "Officials said the first round could take place in June."
    )
    assert article.source == str(DATA / "titled.txt")
    assert article.language is None


def test_txt_without_title_drops_leading_blank_lines_only() -> None:
    article = read_one(DATA / "untitled.txt")
    assert article.title is None
    assert article.text == (
        "Officials from both countries met on Tuesday. They agreed to talk again.\n"
        "The next round is planned for June."
    )


def test_markdown_heading_is_the_title_whatever_its_punctuation() -> None:
    article = read_one(DATA / "heading.md")
    assert article.title == "Why the chip race matters?"
    assert article.text == (
        "Export controls have reshaped the industry. Firms are adapting.\n\n"
        "Analysts expect more rules next year."
    )


@pytest.mark.parametrize(
    ("content", "title", "text"),
    [
        # A short line followed by a blank line is a title.
        ("Trade talks resume\n\nThey met.", "Trade talks resume", "They met."),
        ("## Trade talks resume ##\nThey met.", "Trade talks resume", "They met."),
        # Ends like a sentence: not a title (also with closing quotes after the mark).
        ("They met on Monday.\n\nThey talked.", None, "They met on Monday.\n\nThey talked."),
        ("He said “no.”\n\nThey talked.", None, "He said “no.”\n\nThey talked."),
        ("中美举行会谈。\n\n双方表示满意。", None, "中美举行会谈。\n\n双方表示满意。"),
        # Not followed by a blank line: not a title.
        ("Trade talks resume\nThey met.", None, "Trade talks resume\nThey met."),
        # Too long for a title.
        ("x" * 201 + "\n\nThey met.", None, "x" * 201 + "\n\nThey met."),
        # Nothing after it: the line is the text.
        ("Trade talks resume\n\n  \n", None, "Trade talks resume"),
        ("# Trade talks resume\n", None, "# Trade talks resume"),
        # "#hashtag" is not a heading.
        ("#AI talks resume\nThey met.", None, "#AI talks resume\nThey met."),
        # Leading blank lines and trailing whitespace go; inner text stays exactly.
        ("\n  \nTalks\n\n\n  They met.  \n\n", "Talks", "  They met."),
    ],
)
def test_title_rules(tmp_path: Path, content: str, title: str | None, text: str) -> None:
    article = read_one(write(tmp_path, "story.txt", content))
    assert (article.title, article.text) == (title, text)


@pytest.mark.parametrize(
    ("stem", "doc_id"),
    [
        ("China US AI Cooperation", "china-us-ai-cooperation"),
        ("Trade War (Draft) #2", "trade-war-draft-2"),
        ("report_2024.v2", "report_2024.v2"),
        ("中美人工智能合作", "中美人工智能合作"),
        ("2024年 中美会谈", "2024年-中美会谈"),
        ("ＡＢＣ新闻", "abc新闻"),
    ],
)
def test_doc_id_from_file_name(tmp_path: Path, stem: str, doc_id: str) -> None:
    assert slugify(stem) == doc_id
    assert read_one(write(tmp_path, f"{stem}.txt", "They met.")).doc_id == doc_id


def test_doc_id_falls_back_to_a_hash() -> None:
    assert re.fullmatch(r"doc-[0-9a-f]{8}", slugify("🙂🙂"))
    assert slugify("🙂🙂") == slugify("🙂🙂")
    assert slugify("🙂🙂") != slugify("😀")


# --------------------------------------------------------------------------- tables


def test_csv_rows_fields_and_metadata() -> None:
    first, second = read_articles([DATA / "articles.csv"])
    assert first == Article(
        doc_id="xinhua-001",
        text='China welcomes the talks. "Cooperation is the only right choice," a spokesperson said.',
        title="China welcomes AI talks",  # the "Title" column, matched case-insensitively
        outlet="Xinhua",
        country="CN",
        published="2024-05-02",
        url="https://example.com/xinhua-001",
        language="en",
        metadata={"section": "World", "word_count": "14"},
        source=f"{DATA / 'articles.csv'}:row 1",
    )
    # No id: file stem and row number. Quoted multi-line text kept; "EN-us" -> "en".
    assert second.doc_id == "articles-2"
    assert second.text == "US officials were cautious.\nThey said export controls stay."
    assert second.url is None
    assert second.language == "en"
    assert second.metadata == {"section": "Politics", "word_count": ""}


def test_tsv() -> None:
    article = read_one(DATA / "articles.tsv")
    assert article.doc_id == "china-daily-7"
    assert article.text == "中美双方同意就人工智能举行对话。双方表示，将加强沟通。"
    assert article.outlet == "China Daily"
    assert article.language == "zh"
    assert article.metadata == {"desk": "国际"}


def test_jsonl_values_become_strings() -> None:
    first, second = read_articles([DATA / "articles.jsonl"])
    assert first.doc_id == "gt-1"
    assert first.title == "AI talks end"
    assert first.published == "2024-05-14"
    # Non-string values are kept as JSON text; null values are left out.
    assert first.metadata == {"tags": '["ai", "diplomacy"]', "score": "0.7", "reviewed": "true"}
    # The blank line 2 is skipped; the default id uses the line number.
    assert second.doc_id == "articles-3"
    assert second.source == f"{DATA / 'articles.jsonl'}:line 3"
    assert second.metadata == {"Region": "Asia"}


def test_doc_id_column_alias_and_numeric_ids(tmp_path: Path) -> None:
    csv_path = write(tmp_path, "a.csv", "doc_id,text\nd-7,They met.\n")
    jsonl_path = write(tmp_path, "b.jsonl", '{"id": 42, "text": "They met again."}\n')
    assert [a.doc_id for a in read_articles([csv_path, jsonl_path])] == ["d-7", "42"]


def test_csv_blank_rows_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'text,title\r\nOne.,A\r\n,\r\n\r\n"Two\r\nlines.",B\r\n')
    first, second = read_articles([path])
    assert (first.doc_id, second.doc_id) == ("a-1", "a-2")
    assert second.text == "Two\nlines."


# --------------------------------------------------------------------------- HTML


def test_html_main_text_and_metadata() -> None:
    article = read_one(DATA / "chip_talks.html")
    assert article.doc_id == "chip_talks"
    assert article.title == "US and China resume talks on AI safety"
    assert article.outlet == "The Daily Ledger"
    assert article.published == "2024-05-14"
    assert article.url == "https://ledger.example.com/world/2024/05/14/us-china-ai-talks"
    assert article.language == "en"
    assert article.metadata == {"author": "Jane Doe"}
    assert article.text.startswith("GENEVA, May 14 (Ledger) - Officials from the United States")
    assert article.text.endswith("no date was set for a second round.")
    assert article.text.count("\n") == 3  # four paragraphs, one per line
    for boilerplate in ("Subscribe", "cookies", "Related stories", "Chip stocks slide",
                        "All rights reserved", "Privacy policy", "By Jane Doe"):  # fmt: skip
        assert boilerplate not in article.text
    # The <h1> is the title, not the first line of the text.
    assert "resume talks on AI safety" not in article.text


# --------------------------------------------------------------------------- duplicates


def test_same_id_same_text_is_kept_once(tmp_path: Path) -> None:
    first = write(tmp_path, "one.csv", "id,text\nx,They met.\n")
    second = write(tmp_path, "two.jsonl", '{"id": "x", "text": "They met.", "title": "T"}\n')
    articles = read_articles([first, second, first])
    assert len(articles) == 1
    assert articles[0].source == f"{first}:row 1"


def test_same_id_different_text_names_both_sources(tmp_path: Path) -> None:
    first = write(tmp_path, "one.csv", "id,text\nx,They met.\n")
    second = write(tmp_path, "two.jsonl", '{"id": "x", "text": "They did not meet."}\n')
    with raises(r"doc_id 'x' is used by .*one\.csv:row 1 and .*two\.jsonl:line 1 with different"):
        read_articles([first, second])


# --------------------------------------------------------------------------- errors


def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    path = write(tmp_path, "story.pdf", "They met.")
    with raises(r"story\.pdf: unsupported file type '\.pdf' \(supported: \.csv, .*\.txt\)"):
        read_articles([path])
    assert len(SUPPORTED_SUFFIXES) == 7


@pytest.mark.parametrize("name", ["empty.txt", "empty.csv", "empty.jsonl", "empty.html"])
@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b" \r\n\n\t"])
def test_empty_file(tmp_path: Path, name: str, content: bytes) -> None:
    path = write(tmp_path, name, content)
    with raises(rf"{re.escape(name)}: the file is empty"):
        read_articles([path])


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.txt", "Caf\u00e9 talks resumed.".encode("latin-1"))
    with raises(r"latin1\.txt: not UTF-8 text \(invalid byte at position 3\)"):
        read_articles([path])


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with raises(r"nowhere\.txt: no such file"):
        read_articles([tmp_path / "nowhere.txt"])
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with raises(r"folder\.txt: is a directory"):
        read_articles([folder])


def test_csv_without_text_column_lists_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "id,title,body\n1,T,They met.\n")
    with raises(r"a\.csv: no 'text' column \(columns found: id, title, body\)"):
        read_articles([path])


def test_csv_empty_text_names_the_row(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'id,text\n1,They met.\n2,"  "\n')
    with raises(r"a\.csv:row 2 \(line 3\): the text is empty"):
        read_articles([path])


def test_csv_header_only(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "id,text\n")
    with raises(r"a\.csv: the header has no rows below it"):
        read_articles([path])


def test_csv_duplicate_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "text,Text\nOne,Two\n")
    with raises(r"a\.csv: column 'text' appears more than once"):
        read_articles([path])


def test_csv_too_many_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "id,text\n1,They met, then left.\n")
    with raises(r"a\.csv:row 1 \(line 2\): 3 fields but the header has 2"):
        read_articles([path])


def test_csv_bad_quoting(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'id,text\n1,ok\n2,"Why?" he asked.\n')
    with raises(r"a\.csv:line 3: malformed CSV"):
        read_articles([path])


def test_unsupported_language_value(tmp_path: Path) -> None:
    path = write(tmp_path, "a.tsv", "text\tlanguage\nIls se sont vus.\tfr\n")
    with raises(r"a\.tsv:row 1 \(line 2\): unsupported language 'fr' \(supported: en, zh\)"):
        read_articles([path])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "ok"}\n{"text": "broken"\n', r"a\.jsonl:line 2: not valid JSON"),
        ('{"text": "ok"}\n\n["a list"]\n', r"a\.jsonl:line 3: expected a JSON object, got list"),
        ('{"body": "x", "id": 1}\n', r"a\.jsonl:line 1: no 'text' key \(keys found: body, id\)"),
        ('{"text": ""}\n', r"a\.jsonl:line 1: the text is empty"),
        ('{"text": null}\n', r"a\.jsonl:line 1: 'text' must be a string, got NoneType"),
        ('{"text": ["a"]}\n', r"a\.jsonl:line 1: 'text' must be a string, got list"),
    ],
)
def test_jsonl_errors(tmp_path: Path, content: str, message: str) -> None:
    with raises(message):
        read_articles([write(tmp_path, "a.jsonl", content)])


def test_html_without_article_text(tmp_path: Path) -> None:
    path = write(tmp_path, "page.html", "<html><head><title>Hi</title></head><body></body></html>")
    with raises(r"page\.html: no article text found in the page"):
        read_articles([path])


def test_all_or_nothing(tmp_path: Path) -> None:
    good = write(tmp_path, "good.txt", "They met.")
    bad = write(tmp_path, "bad.csv", "id,title\n1,T\n")
    with raises(r"bad\.csv: no 'text' column"):
        read_articles([good, bad])


def test_error_messages_are_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'id,text\n1,"multi\nline"\n2,\n')
    with pytest.raises(InputError) as info:
        read_articles([path])
    assert "\n" not in str(info.value)

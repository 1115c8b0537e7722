"""Reading articles: every format, titles, metadata, and every input error."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest

from annotate.errors import InputError
from annotate.ingest.articles import MAX_UNBROKEN_CHARS, SUPPORTED_SUFFIXES, Article, read_articles, slugify

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
    with raises(
        r"two\.jsonl:line 1: doc_id 'x' is already used by .*one\.csv:row 1 with different text; "
        r"change the .id. of one of them"
    ):
        read_articles([first, second])


def test_same_file_name_in_two_folders_says_rename(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write(tmp_path, "a/story.txt", "They met.")
    second = write(tmp_path, "b/story.txt", "They did not meet.")
    with raises(
        r"b/story\.txt: doc_id 'story' is already used by .*a/story\.txt .*; rename one of the files"
    ):
        read_articles([first, second])
    row = write(tmp_path, "rows.csv", "id,text\nstory,They met again.\n")
    with raises(r"rows\.csv:row 1: doc_id 'story' is .*; change the row's 'id' or rename the file$"):
        read_articles([first, row])


# --------------------------------------------------------------------------- errors


def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    path = write(tmp_path, "story.pdf", "They met.")
    with raises(r"story\.pdf: unsupported file type '\.pdf' \(supported: \.csv, .*\.txt\); extract its text"):
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
    with raises(r"latin1\.txt:line 1: not UTF-8 \(byte 0xE9 at column 4\); it looks like cp1252"):
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
    with raises(
        r"a\.csv: no 'text' column \(columns found: 'id', 'title', 'body'\); rename the column 'body'"
    ):
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


# --------------------------------------------------------------------------- bad input: encodings

BAD = Path(__file__).parent / "data" / "bad"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        # Latin-1 and Windows-1252 are proposed as cp1252, with the reading shown next to the
        # runner-up's, so that the user can see which one is right.
        (
            "latin1.txt",
            r"latin1\.txt:line 1: not UTF-8 \(byte 0xE8 at column 4\); it looks like cp1252 "
            r"\(Windows-1252/Latin-1, Western European\), where it reads 'Genève talks' "
            r"\(cp1250 would read 'Genčve talks'\); convert it to UTF-8 "
            r"\(iconv -f CP1252 -t UTF-8 latin1\.txt > latin1\.utf8\.txt\) or pass --encoding cp1252$",
        ),
        (
            "windows1252.txt",
            r"windows1252\.txt:line 3: not UTF-8 \(byte 0x92 at column 13\); it looks like cp1252 .*"
            r"reads 'The minister’s “new” policy – an'",
        ),
        (
            "gb18030.txt",
            r"gb18030\.txt:line 1: not UTF-8 \(byte 0xD6 at column 1\); it looks like gb18030 "
            r"\(GB18030/GBK, Simplified Chinese\), where it reads '中美人工智能对话'.*"
            r"iconv -f GB18030 -t UTF-8 .* or pass --encoding gb18030$",
        ),
        # charset-normalizer alone takes this short GBK text for Big5 ('陔恓').
        ("gbk-short.txt", r"gbk-short\.txt:line 1: .* it looks like gb18030 .* where it reads '新闻'"),
        (
            "big5.txt",
            r"big5\.txt:line 1: .* it looks like big5 \(Big5, Traditional Chinese\), "
            r"where it reads '中美雙方",
        ),
        (
            "utf16-no-bom.txt",
            r"utf16-no-bom\.txt: looks like UTF-16-LE text without a byte-order mark, not UTF-8; "
            r"convert it \(iconv -f UTF-16LE -t UTF-8 .*\) or pass --encoding utf-16-le$",
        ),
    ],
)
def test_not_utf8_is_refused_naming_the_encoding(name: str, message: str) -> None:
    with raises(message):
        read_articles([BAD / name])


def test_csv_not_utf8_mentions_excel(tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", "id,text\n1,Café talks resumed.\n".encode("cp1252"))
    with raises(r"export\.csv:line 2: not UTF-8 .*; re-save it as 'CSV UTF-8' in Excel, convert it to UTF-8"):
        read_articles([path])


def test_utf16_and_utf32_with_bom_are_decoded(tmp_path: Path) -> None:
    article = read_one(BAD / "utf16-bom.txt")
    assert (article.title, article.text) == (
        "AI talks",
        "The two governments will hold talks on AI. 双方表示欢迎。",
    )
    assert article.encoding == "utf-16"
    for codec in ("utf-16-be", "utf-32-le", "utf-32-be"):
        path = write(tmp_path, f"{codec}.txt", "\ufeffThey met.\r\n双方表示欢迎。\n".encode(codec))
        assert read_one(path).text == "They met.\n双方表示欢迎。", codec


def test_damaged_utf16_names_the_byte(tmp_path: Path) -> None:
    path = write(tmp_path, "u16.txt", codecs.BOM_UTF16_LE + "Hello\n".encode("utf-16-le") + b"\x00\xd8A\x00")
    with raises(r"u16\.txt: not valid UTF-16 \(at byte 14\); the file is damaged"):
        read_articles([path])


def test_encoding_option_reads_the_files_that_are_not_utf8(tmp_path: Path) -> None:
    utf8 = write(tmp_path, "plain.txt", "Déjà vu in Genève.")
    latin1, cp1252 = read_articles([BAD / "latin1.txt", BAD / "windows1252.txt", utf8], encoding="cp1252")[:2]
    assert (latin1.title, latin1.encoding) == ("Genève talks", "cp1252")
    assert latin1.text.startswith("Le président a déclaré que les négociations reprendront à Genève")
    assert cp1252.text.startswith("The minister’s “new” policy – announced")
    # UTF-8 files in the same batch are still read as UTF-8.
    assert read_articles([utf8], encoding="cp1252")[0].encoding == "utf-8"
    long, short = read_articles([BAD / "gb18030.txt", BAD / "gbk-short.txt"], encoding="GB18030")
    assert (long.title, long.encoding) == ("中美人工智能对话", "gb18030")
    assert long.text.startswith("中美双方同意就人工智能举行对话。")
    assert (short.title, short.text) == ("新闻", "中美双方同意。")
    assert read_one_with(BAD / "big5.txt", "big5").text.startswith("中美雙方同意")
    assert (
        read_one_with(BAD / "utf16-no-bom.txt", "utf-16-le").text
        == "The two governments will hold talks on AI."
    )


def read_one_with(path: Path, encoding: str) -> Article:
    (article,) = read_articles([path], encoding=encoding)
    return article


@pytest.mark.parametrize(
    ("name", "encoding", "message"),
    [
        # Big5 bytes decode as GB18030 without an error, into nonsense: refused.
        ("big5.txt", "gb18030", r"big5\.txt:line 1: not UTF-8 \(byte 0xA4 at column 1\), and it does not "
                                r"read as gb18030 \(--encoding\) either; it looks like big5 .* big5$"),
        ("gb18030.txt", "cp1252", r"gb18030\.txt:line 1: .* not read as cp1252 .* it looks like gb18030"),
        ("windows1252.txt", "latin-1", r"not read as latin-1 \(--encoding\) either; it looks like cp1252"),
        ("latin1.txt", "gb18030", r"latin1\.txt:line 1: .* does not read as gb18030"),
    ],
)  # fmt: skip
def test_encoding_option_refuses_a_file_that_does_not_read_as_it(
    name: str, encoding: str, message: str
) -> None:
    with raises(message):
        read_articles([BAD / name], encoding=encoding)


def test_encoding_option_error_further_down_names_the_line(tmp_path: Path) -> None:
    data = "中美双方同意。\n".encode("gb18030") + b"They met.\n" * 8000 + "Café\n".encode("latin-1")
    path = write(tmp_path, "mixed.txt", data)
    with raises(r"mixed\.txt:line 8002: not valid gb18030 \(byte 0xE9 at column 4\); the file uses another"):
        read_articles([path], encoding="gb18030")


def test_latin1_option_on_windows1252_text_points_at_cp1252(tmp_path: Path) -> None:
    french = "Le président a déclaré que les négociations reprendront à Genève, où la délégation arrivera.\n"
    path = write(tmp_path, "quotes.txt", (french * 30).encode("latin-1") + b"Il a dit \x93non\x94.\n")
    with raises(r"quotes\.txt:line 31: control character U\+0093 at column 10; .*pass --encoding cp1252"):
        read_articles([path], encoding="latin-1")
    assert read_articles([path], encoding="cp1252")[0].text.endswith("Il a dit “non”.")


def test_unknown_encoding() -> None:
    with raises(r"unknown encoding 'klingon'; give a Python codec name such as cp1252"):
        read_articles([BAD / "latin1.txt"], encoding="klingon")


def test_html_declared_charset_is_used() -> None:
    article = read_one(BAD / "gbk-page.html")
    assert (article.title, article.encoding) == ("中美人工智能对话", "gb18030")
    assert article.text.startswith("中美双方同意就人工智能举行对话。")


def test_declared_charset_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    body = (
        "<p>China and the US agreed to hold talks on AI safety, officials said in Genève on Monday.</p>" * 3
    )
    page = f"<html><head><meta charset='gb2312'></head><body><article>{body}</article></body></html>"
    path = write(tmp_path, "page.html", page.encode("cp1252"))  # "èv" is a valid GB18030 pair: 詅
    with raises(
        r"page\.html:line 1: not UTF-8 \(byte 0xE8 at column \d+\), and it does not read as gb18030 "
        r"\(the page's <meta charset>\) either; it looks like cp1252 .* or pass --encoding cp1252$"
    ):
        read_articles([path])
    assert "in Genève on Monday" in read_articles([path], encoding="cp1252")[0].text


def test_chinese_far_into_a_file_is_detected(tmp_path: Path) -> None:
    chinese = "中美双方同意就人工智能举行对话。双方表示，将加强沟通。\n".encode("gb18030")
    path = write(tmp_path, "late.txt", b"They met on Monday.\n" * 4000 + chinese * 3 + b"The end.\n" * 4000)
    with raises(r"late\.txt:line 4001: not UTF-8 \(byte 0xD6 at column 1\); it looks like gb18030"):
        read_articles([path])


def test_utf8_error_far_into_a_file_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "late.csv", ("id,text\n" + "1,They met.\n" * 5000).encode() + b"2,Caf\xe9\n")
    with raises(r"late\.csv:line 5002: not UTF-8 \(byte 0xE9 at column 6\); it looks like cp1252"):
        read_articles([path])


# --------------------------------------------------------------------------- bad input: not text


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", r"a PDF document; extract its text first \(pdftotext"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image; annotate reads text"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "a JPEG image"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml word/document.xml", r"a Word document \(\.docx\)"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml xl/workbook.xml", r"an Excel workbook .* CSV UTF-8"),
        (b"PK\x03\x04\x14\x00\x00\x00articles/a.txt", "a ZIP archive; unpack it"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", r"a gzip-compressed file; decompress it first \(gunzip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", r"an old Microsoft Office file \(\.doc/\.xls\)"),
        (b"SQLite format 3\x00\x10\x00", "an SQLite database"),
        (b"{\\rtf1\\ansi They met.}", "an RTF document"),
        (b"BZh91AY&SY\x00\x01", "a bzip2-compressed file"),
    ],
)
def test_binary_files_say_what_they_look_like(tmp_path: Path, content: bytes, looks_like: str) -> None:
    with raises(rf"story\.txt: not a text file: it looks like {looks_like}"):
        read_articles([write(tmp_path, "story.txt", content + bytes(range(256)))])


def test_random_bytes_are_not_text(tmp_path: Path) -> None:
    path = write(tmp_path, "noise.csv", bytes(range(256)) * 8)
    with raises(r"noise\.csv: not a text file: 208 of its first 2,048 bytes are binary control bytes"):
        read_articles([path])


# --------------------------------------------------------------------------- bad input: control characters


def test_nul_names_line_and_column() -> None:
    with raises(
        r"nul\.txt:line 2: control character U\+0000 \(NUL\) at column 10; .*\(tr -d '\\000' < IN > OUT\)$"
    ):
        read_articles([BAD / "nul.txt"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "id,text\n1,ok\n2,a \x07 bell\n",
            r"a\.csv:line 3: control character U\+0007 \(BEL\) at column 5; remove it",
        ),
        ('id,text\n1,"one\n\x1b two"\n', r"a\.csv:line 3: control character U\+001B \(ESC\) at column 1"),
        ("text\nThey met.\x7f\n", r"a\.csv:line 2: control character U\+007F \(DEL\) at column 10"),
        (
            "text\nThey \x85met.\n",
            r"a\.csv:line 2: control character U\+0085 at column 6; the file is probably in",
        ),
    ],
)
def test_control_characters_in_tables(tmp_path: Path, content: str, message: str) -> None:
    with raises(message):
        read_articles([write(tmp_path, "a.csv", content)])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (r"a\u0000b", r"a\.jsonl:line 2: 'text': control character U\+0000 \(NUL\) at character 2, "
                      r"written as \\u0000; remove the \\u0000 escape"),
        (r"a\ud83d b", r"a\.jsonl:line 2: 'text': an unpaired surrogate at character 2, written as \\ud83d"),
        (r"\u001b[1m", r"a\.jsonl:line 2: 'text': control character U\+001B \(ESC\) at character 1"),
    ],
)  # fmt: skip
def test_control_characters_in_json_escapes(tmp_path: Path, value: str, message: str) -> None:
    path = write(tmp_path, "a.jsonl", '{"text": "fine"}\n{"text": "' + value + '"}\n')
    with raises(message):
        read_articles([path])


def test_tab_form_feed_and_vertical_tab_are_text(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "They\tmet.\fThen\vthey talked.\r\n")
    assert read_one(path).text == "They\tmet.\fThen\vthey talked."


# --------------------------------------------------------------------------- bad input: size


def test_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as file:
        file.truncate(200 * 1024 * 1024)  # sparse: nothing is written, and nothing is read
    with raises(
        r"huge\.jsonl: the file is 200\.0 MB, over the 50\.0 MB limit for one file; split it into smaller "
        r"files, or raise the limit: ANNOTATE_MAX_FILE_MB=200$"
    ):
        read_articles([path])
    # A higher limit lets it through to the content checks, which read only its first block.
    with raises(r"huge\.jsonl: not a text file: 65,536 of its first 65,536 bytes are binary"):
        read_articles([path], max_bytes=300 * 1024 * 1024)


def test_limit_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a.txt", "They met. " * 200)
    monkeypatch.setenv("ANNOTATE_MAX_FILE_MB", "0.001")
    with raises(r"a\.txt: the file is 2,000 bytes, over the 1,048 bytes limit for one file.*MB=1$"):
        read_articles([path])
    assert read_articles([path], max_bytes=2000)[0].doc_id == "a"
    monkeypatch.setenv("ANNOTATE_MAX_FILE_MB", "lots")
    with raises(r"ANNOTATE_MAX_FILE_MB='lots': not a size in megabytes; set it to a number such as 200"):
        read_articles([path])


def test_large_tables_are_read_in_bounded_memory(tmp_path: Path) -> None:
    """Tables and JSONL are streamed: the peak is the articles kept, not copies of the file."""
    import json
    import tracemalloc

    paragraph = "China and the US agreed on Tuesday to hold talks on AI safety, officials said. " * 25
    jsonl = tmp_path / "big.jsonl"
    jsonl.write_text("".join(json.dumps({"id": i, "text": paragraph}) + "\n" for i in range(1000)))
    csv_path = tmp_path / "big.csv"
    csv_path.write_text("id,text\n" + "".join(f'{i},"{paragraph}"\n' for i in range(1000)))
    for path in (jsonl, csv_path):
        size = path.stat().st_size
        tracemalloc.start()
        try:
            articles = read_articles([path])
            kept, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(articles) == 1000
        assert peak < kept + size // 4, (path.name, size, kept, peak)


# --------------------------------------------------------------------------- bad input: not prose


def test_unbroken_run_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "blob.txt", "Title\n\nThey met.\nImage: " + "iVBORw0KGgo" * 5000 + "\nThey left.")
    with raises(
        r"blob\.txt:line 4: a run of 55,000 characters without a space or punctuation \(starting "
        r"'iVBORw0KGgoiVBORw0KGgoiV'\) is not prose .*; remove it"
    ):
        read_articles([path])
    row = write(tmp_path, "rows.csv", "text\nThey met.\n" + "x" * (MAX_UNBROKEN_CHARS + 1) + "\n")
    with raises(r"rows\.csv:row 2 \(line 3\): a run of 1,001 characters"):
        read_articles([row])
    fine = write(tmp_path, "fine.csv", "text\n" + "x" * MAX_UNBROKEN_CHARS + "\n")
    assert len(read_one(fine).text) == MAX_UNBROKEN_CHARS
    chinese = write(
        tmp_path, "zh.txt", "中美双方同意就人工智能举行对话，" * 3200
    )  # 51,200 characters, one line
    assert len(read_one(chinese).text) == 51200


def test_title_that_is_too_long() -> None:
    with raises(r"long-title\.csv:row 1 \(line 2\): the title has 1,259 characters \(at most 1,000\); check"):
        read_articles([BAD / "long-title.csv"])


# --------------------------------------------------------------------------- bad input: structure


def test_csv_with_another_delimiter_says_so() -> None:
    with raises(
        r"semicolons\.csv: no 'text' column .*; the header is separated by semicolons: save the file"
    ):
        read_articles([BAD / "semicolons.csv"])


def test_jsonl_malformed_line_and_json_array() -> None:
    with raises(
        r"malformed\.jsonl:line 3: not valid JSON: Unterminated string starting at \(column 22\); "
        r"each line must be one complete JSON object: fix or remove line 3$"
    ):
        read_articles([BAD / "malformed.jsonl"])
    with raises(r"array\.jsonl:line 1: expected a JSON object, got list; it is a JSON array, not JSON Lines"):
        read_articles([BAD / "array.jsonl"])


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("no-article.html", "only menus, links or notices"),
        ("javascript.html", "it loads its text with JavaScript"),
    ],
)
def test_html_page_without_an_article(name: str, why: str) -> None:
    with raises(rf"{re.escape(name)}: no article text found in the page \({why}\); save the article page"):
        read_articles([BAD / name])


def test_every_bad_fixture_gives_one_line_with_a_fix() -> None:
    for path in sorted(BAD.iterdir()):
        if path.suffix not in SUPPORTED_SUFFIXES or path.name in GOOD_FIXTURES:
            continue
        with pytest.raises(InputError) as info:
            read_articles([path])
        message = str(info.value)
        assert message.startswith(str(path)), message
        assert "\n" not in message and "; " in message, message


GOOD_FIXTURES = {"utf16-bom.txt", "gbk-page.html", "dup-a.csv", "dup-b.jsonl"}

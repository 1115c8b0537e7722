"""Read news articles from files into :class:`Article` records.

Supported: ``.txt``/``.md`` (one article per file), ``.csv``/``.tsv``/``.jsonl``
(one article per row) and ``.html``/``.htm`` (main text via trafilatura).

``Article.text`` is the canonical text that sentence offsets point into. It is
the input with a UTF-8 BOM removed, line endings turned into ``\\n``, leading
blank lines and trailing whitespace removed, and (for text files) the title
line removed; everything else is kept exactly as given.

Bad input raises :class:`InputError` with one line, ``<file>[:line N|:row N]: <what is
wrong>; <how to fix it>``; see docs/failures.md for every case. In short:

- Size: a file over the limit (``max_bytes``, else ``$ANNOTATE_MAX_FILE_MB``, else 50 MB)
  is refused before it is opened. Tables and JSONL are read line by line, so memory
  holds the articles, not extra copies of the file.
- Not text: PDF, Office, ZIP, images and other binary files are recognised by their
  first bytes and refused with what they look like.
- Encoding: UTF-8 (with or without BOM) is read as is; UTF-16/UTF-32 with a BOM and
  HTML with a declared ``<meta charset>`` are decoded as marked. Any other file that is
  not UTF-8 is refused, naming the encoding charset-normalizer detects and how the first
  non-ASCII text reads in it, unless ``encoding`` names the encoding of the batch's
  non-UTF-8 files; even then a file that does not read as that encoding is refused.
  Guessing silently is never done: a wrong guess (charset-normalizer takes French
  Windows-1252 for Windows-1250 and Big5 for GB18030 on short texts) would put mojibake
  in front of annotators and into every export.
- Control characters: NUL and the other C0/C1 controls except tab, line feed, carriage
  return, vertical tab and form feed are refused with their line and column (and,
  in JSONL, when written as ``\\u0000`` escapes, or as unpaired surrogates).
- Not prose: a run of more than ``MAX_UNBROKEN_CHARS`` characters without a space or
  punctuation (an embedded image, a long URL or token) is refused; so is a title
  longer than ``MAX_TITLE_CHARS`` (the article text in the wrong column).

This module owns the :class:`Article` record, :func:`read_articles`, the file-size limit
and the parsers of each format. Finding a file's encoding, and the wording of decoding and
control-character errors, is :mod:`annotate.ingest.encodings`'s.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import stat
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotate.errors import InputError
from annotate.ingest.encodings import (
    FORBIDDEN,
    bom_codec,
    check_controls,
    codec_name,
    control_error,
    input_error,
    non_utf8_codec,
    read_head,
    sniff_codec,
    undecodable_error,
)

SUPPORTED_SUFFIXES = (".csv", ".htm", ".html", ".jsonl", ".md", ".tsv", ".txt")

#: Table columns (and JSONL keys) read into Article fields; matched case-insensitively.
#: ``doc_id`` is accepted for ``id``.
KNOWN_COLUMNS = ("id", "text", "title", "outlet", "country", "published", "url", "language")

TITLE_MAX_CHARS = 200  # longest first line of a text file taken as its title
MAX_TITLE_CHARS = 1000  # longest title accepted from a table, JSONL or HTML
MAX_UNBROKEN_CHARS = 1000  # longest run without a space or punctuation

MB = 1024 * 1024
DEFAULT_MAX_FILE_MB = 50
MAX_FILE_MB_ENV = "ANNOTATE_MAX_FILE_MB"


@dataclass(frozen=True)
class Article:
    """One news article. ``source`` says where it came from, for error messages;
    ``encoding`` is the codec its file was decoded with (``utf-8`` for nearly all)."""

    doc_id: str
    text: str
    title: str | None = None
    outlet: str | None = None
    country: str | None = None
    published: str | None = None
    url: str | None = None
    language: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    source: str = ""
    encoding: str = "utf-8"


def read_articles(
    paths: Sequence[str | Path], *, encoding: str | None = None, max_bytes: int | None = None
) -> list[Article]:
    """Read every file in ``paths`` and return their articles in order.

    All files are read before anything is returned; the first problem raises
    :class:`InputError`. An article whose ``doc_id`` was already seen with the
    same text is dropped; with different text it is an error.

    ``encoding`` (a Python codec name such as ``cp1252`` or ``gb18030``) is used for
    files that are not UTF-8; without it such files are refused. ``max_bytes`` is the
    largest file accepted (default: ``$ANNOTATE_MAX_FILE_MB`` megabytes, else 50 MB).
    """
    fallback = codec_name(encoding) if encoding else None
    limit = max_file_bytes(max_bytes)
    articles: dict[str, Article] = {}
    for path in paths:
        for article in _read_file(Path(path), fallback, limit):
            first = articles.setdefault(article.doc_id, article)
            if first.text != article.text:
                named = _id_from_file_name(first.source) + _id_from_file_name(article.source)
                fix = ("change the 'id' of one of them", "change the row's 'id' or rename the file",
                       "rename one of the files")[named]  # fmt: skip
                raise input_error(
                    article.source,
                    f"doc_id {article.doc_id!r} is already used by {first.source} with different text",
                    fix,
                )
    return list(articles.values())


def _id_from_file_name(source: str) -> bool:
    """Does the article at ``source`` take its doc_id from its file name (not a row's id)?"""
    return not re.search(r":(?:row|line) \d+$", source)


def max_file_bytes(max_bytes: int | None = None) -> int:
    """The largest file accepted: ``max_bytes``, else ``$ANNOTATE_MAX_FILE_MB`` MB, else 50 MB."""
    if max_bytes is not None:
        if max_bytes <= 0:
            raise InputError(f"the file size limit must be positive, got {max_bytes} bytes")
        return max_bytes
    raw = os.environ.get(MAX_FILE_MB_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_FILE_MB * MB
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = math.nan
    if not megabytes > 0 or math.isinf(megabytes):
        raise InputError(
            f"{MAX_FILE_MB_ENV}={raw!r}: not a size in megabytes; set it to a number such as 200"
        )
    return int(megabytes * MB)


def _size(n: int) -> str:
    return f"{n / MB:,.1f} MB" if n >= MB // 10 else f"{n:,} bytes"


def _read_file(path: Path, fallback: str | None, limit: int) -> list[Article]:
    size = _file_size(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        hint = _SUFFIX_HINTS.get(suffix, "convert it to one of them")
        raise input_error(
            str(path),
            f"unsupported file type {suffix or '(no extension)'!r} "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})",
            hint,
        )
    if size == 0:
        raise input_error(str(path), "the file is empty", "add the article text or leave the file out")
    if size > limit:
        raise input_error(
            str(path),
            f"the file is {_size(size)}, over the {_size(limit)} limit for one file",
            f"split it into smaller files, or raise the limit: {MAX_FILE_MB_ENV}={math.ceil(size / MB)}",
        )
    head = read_head(path)
    bom = bom_codec(head)
    codec = bom or sniff_codec(path, head, fallback) or "utf-8-sig"
    try:
        return _parse(path, suffix, codec)
    except UnicodeDecodeError:
        if codec != "utf-8-sig" or bom:
            raise undecodable_error(path, codec) from None
    codec = non_utf8_codec(path, suffix, head, fallback)
    try:
        return _parse(path, suffix, codec)
    except UnicodeDecodeError:
        raise undecodable_error(path, codec) from None


_SUFFIX_HINTS = {
    ".pdf": "extract its text first (pdftotext FILE.pdf FILE.txt) and pass the .txt",
    ".docx": "save it as plain text (.txt, UTF-8) and pass that",
    ".doc": "save it as plain text (.txt, UTF-8) and pass that",
    ".rtf": "save it as plain text (.txt, UTF-8) and pass that",
    ".xlsx": "save the sheet as CSV UTF-8 and pass the .csv",
    ".xls": "save the sheet as CSV UTF-8 and pass the .csv",
    ".json": "write one JSON object per line into a .jsonl file (jq -c '.[]' FILE.json > FILE.jsonl)",
    ".zip": "unpack it and pass the files inside",
}


def _file_size(path: Path) -> int:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise input_error(str(path), "no such file", "check the path") from None
    except OSError as err:
        raise input_error(
            str(path), f"cannot read the file ({err.strerror})", "check its permissions"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise input_error(str(path), "is a directory", "pass the article files in it (e.g. DIR/*.txt)")
    return info.st_size


def _parse(path: Path, suffix: str, codec: str) -> list[Article]:
    """The articles of ``path`` decoded with ``codec``; UnicodeDecodeError when it does not fit."""
    if suffix in (".csv", ".tsv"):
        return _read_table(path, _lines(path, codec), "\t" if suffix == ".tsv" else ",", codec)
    if suffix == ".jsonl":
        return _read_jsonl(path, _lines(path, codec), codec)
    with path.open(encoding=codec) as file:  # universal newlines: \r\n and \r become \n
        content = file.read()
    if not content or content.isspace():
        raise input_error(str(path), "the file is empty", "add the article text or leave the file out")
    if suffix in (".txt", ".md"):
        check_controls(str(path), content, codec)
        return [_read_text(path, content, codec)]
    return [_read_html(path, content, codec)]


def _lines(path: Path, codec: str) -> Iterator[str]:
    """The lines of ``path`` with their endings, decoded and checked for control characters."""
    with path.open(encoding=codec, newline="") as file:
        for number, line in enumerate(file, start=1):
            bad = FORBIDDEN.search(line)
            if bad:
                raise control_error(f"{path}:line {number}", line, bad.start(), codec)
            yield line


# --------------------------------------------------------------------------- prose, text, doc ids


def _check_prose(where: str, text: str, base_line: int | None = None) -> None:
    """Refuse a run of more than MAX_UNBROKEN_CHARS characters without a space or punctuation.

    With ``base_line``, the message names the file line: ``base_line`` plus the lines before it.
    """
    run = _UNBROKEN.search(text)
    if run:
        if base_line is not None:
            where = f"{where}:line {base_line + text.count(chr(10), 0, run.start())}"
        raise input_error(
            where,
            f"a run of {run.end() - run.start():,} characters without a space or punctuation "
            f"(starting {text[run.start() : run.start() + 24]!r}) is not prose — an embedded image, "
            "a long URL or a token?",
            "remove it (sentences are split at spaces and punctuation, and annotators must read them)",
        )


_BREAKS = r"\s,;:.!?，；：、。！？"
_UNBROKEN = re.compile(f"[^{_BREAKS}]{{{MAX_UNBROKEN_CHARS + 1},}}")


def _canonical(text: str) -> str:
    """Drop leading blank lines and trailing whitespace; keep the rest exactly."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"\A(?:[^\S\n]*\n)+", "", text).rstrip()


def slugify(stem: str) -> str:
    """A file stem as a doc_id: lower-case ``[a-z0-9._-]`` plus CJK ideographs kept as
    they are (so Chinese file names stay readable); other runs become ``-``.
    A stem with nothing left becomes ``doc-`` and a short hash of it."""
    slug = unicodedata.normalize("NFKC", stem).lower()
    slug = re.sub(r"[^a-z0-9._\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff-]+", "-", slug)
    slug = re.sub(r"-{2,}", "-", slug).strip("-.")
    return slug or "doc-" + hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]


# --------------------------------------------------------------------------- text files

_HEADING = re.compile(r"#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
_SENTENCE_END = tuple(".!?。！？")
_CLOSERS = "\"'”’」』）)]"


def _read_text(path: Path, content: str, codec: str) -> Article:
    _check_prose(str(path), content, base_line=1)
    text = _canonical(content)
    title, body = _split_title(text)
    return Article(
        doc_id=slugify(path.stem), text=body, title=title, source=str(path), encoding=_plain(codec)
    )


def _plain(codec: str) -> str:
    """The codec's name for Article.encoding: 'utf-8' also for UTF-8 with a BOM."""
    return {"utf-8-sig": "utf-8"}.get(codec, codec)


def _split_title(text: str) -> tuple[str | None, str]:
    """``(title, body)`` when the first line is a title, else ``(None, text)``.

    A title is a Markdown heading (``# Title``), or a line of at most
    TITLE_MAX_CHARS characters, not ending like a sentence, followed by a blank line.
    """
    first, _, rest = text.partition("\n")
    heading = _HEADING.fullmatch(first)
    if heading:
        title = heading.group(1).strip()
    elif (
        len(first.strip()) <= TITLE_MAX_CHARS
        and not first.strip().rstrip(_CLOSERS).endswith(_SENTENCE_END)
        and rest.partition("\n")[0].strip() == ""
    ):
        title = first.strip()
    else:
        return None, text
    body = _canonical(rest)
    if not title or not body:
        return None, text
    return title, body


# --------------------------------------------------------------------------- tables

_TEXT_LIKE = ("body", "content", "article", "article_text", "full_text", "fulltext", "maintext", "story")


def _read_table(path: Path, lines: Iterator[str], delimiter: str, codec: str) -> list[Article]:
    csv.field_size_limit(2**31 - 1)  # the default 128 KiB is too small for long articles
    kind = "TSV" if delimiter == "\t" else "CSV"
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    articles = []
    try:
        header = next((cells for cells in reader if any(cell.strip() for cell in cells)), None)
        if header is None:
            raise input_error(
                str(path), "the file is empty", "add a header row with a 'text' column and the articles"
            )
        columns = [name.strip() for name in header]
        _check_columns(path, columns, delimiter)
        row, line = 0, reader.line_num
        for cells in reader:
            first_line, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank rows are not counted
            row += 1
            where = f"{path}:row {row} (line {first_line})"
            if len(cells) > len(columns):
                raise input_error(
                    where,
                    f"{len(cells)} fields but the header has {len(columns)}",
                    f"put fields that contain {'tabs' if delimiter == chr(9) else 'commas'} in double quotes",
                )
            cells += [""] * (len(columns) - len(cells))
            record = {name: cell for name, cell in zip(columns, cells, strict=True) if name}
            source = f"{path}:row {row}"
            articles.append(_article(record, f"{slugify(path.stem)}-{row}", source, where, codec))
    except csv.Error as err:
        raise input_error(
            f"{path}:line {reader.line_num}",
            f"malformed {kind} ({err})",
            "put fields containing quotes in double quotes and double the inner quotes",
        ) from None
    if not articles:
        raise input_error(str(path), "the header has no rows below it", "add the articles, one per row")
    return articles


def _check_columns(path: Path, columns: Sequence[str], delimiter: str) -> None:
    keys = [_column_key(name) for name in columns if name]
    duplicate = next((key for key in keys if keys.count(key) > 1), None)
    if duplicate:
        raise input_error(
            str(path),
            f"column {duplicate!r} appears more than once in the header",
            "rename or drop one of them",
        )
    if "text" in keys:
        return
    found = ", ".join(repr(name) for name in columns if name) or "none"
    fix = "name the column that holds the article text 'text'"
    others = {";": "semicolons", "\t": "tabs", ",": "commas", "|": "'|'"}
    for other, name in others.items():
        if (
            other != delimiter
            and len(columns) == 1
            and "text" in [_column_key(c) for c in columns[0].split(other)]
        ):
            fix = (
                f"the header is separated by {name}: save the file as comma-separated .csv "
                "(or tab-separated .tsv)"
            )
            break
    else:
        like = next((name for name in columns if _column_key(name) in _TEXT_LIKE), None)
        if like:
            fix = f"rename the column {like!r} to 'text' if it holds the article text"
    raise input_error(str(path), f"no 'text' column (columns found: {found})", fix)


# --------------------------------------------------------------------------- JSONL


def _read_jsonl(path: Path, lines: Iterator[str], codec: str) -> list[Article]:
    articles = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:line {number}"
        array = f"it is a JSON array, not JSON Lines: write one object per line (jq -c '.[]' {path.name})"
        try:
            record = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as err:
            if number == 1 and line.lstrip().startswith("["):
                fix = array
            else:
                fix = f"each line must be one complete JSON object: fix or remove line {number}"
            raise input_error(where, f"not valid JSON: {err.msg} (column {err.colno})", fix) from None
        if not isinstance(record, dict):
            raise input_error(
                where,
                f"expected a JSON object, got {type(record).__name__}",
                array
                if number == 1 and isinstance(record, list)
                else 'write one object per line, such as {"id": "a1", "text": "..."}',
            )
        keys = [_column_key(str(key)) for key in record]
        if "text" not in keys:
            found = ", ".join(map(str, record)) or "none"
            like = next((str(key) for key in record if _column_key(str(key)) in _TEXT_LIKE), None)
            fix = (
                f"rename {like!r} to 'text' if it holds the article text"
                if like
                else "add the article text as 'text'"
            )
            raise input_error(where, f"no 'text' key (keys found: {found})", fix)
        if len(set(keys)) < len(keys):
            raise input_error(
                where, f"a key appears more than once (keys: {', '.join(record)})", "keep one of them"
            )
        text = next(value for key, value in zip(keys, record.values(), strict=True) if key == "text")
        if not isinstance(text, str):
            raise input_error(
                where, f"'text' must be a string, got {type(text).__name__}", "give the article text"
            )
        values = {str(key): _json_str(value) for key, value in record.items()}
        articles.append(_article(values, f"{slugify(path.stem)}-{number}", where, where, codec))
    if not articles:
        raise input_error(str(path), "the file is empty", "add the articles, one JSON object per line")
    return articles


def _json_str(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- rows -> Article


def _column_key(name: str) -> str:
    key = name.strip().lower()
    return "id" if key == "doc_id" else key


def _article(
    record: Mapping[str, str | None], default_id: str, source: str, where: str, codec: str = "utf-8"
) -> Article:
    """Build an Article from one table row or JSON object (all values strings or None)."""
    known: dict[str, str | None] = {}
    metadata: dict[str, str] = {}
    for name, value in record.items():
        bad = FORBIDDEN.search(value) if value is not None else None
        if value is not None and bad is not None:  # only JSON escapes get here: raw ones are found first
            raise control_error(f"{where}: {name!r}", value, bad.start(), codec, escaped=True)
        key = _column_key(name)
        if key in KNOWN_COLUMNS:
            known[key] = value
        elif value is not None:
            metadata[name] = value
    text = _canonical(known.get("text") or "")
    if not text.strip():
        raise input_error(where, "the text is empty", "give the article text, or remove the row")
    _check_prose(where, text)
    fields = {key: (value or "").strip() or None for key, value in known.items()}
    language = fields.get("language")
    if language is not None:
        code = language_code(language)
        if code is None:
            raise input_error(
                where,
                f"unsupported language {language!r} (supported: en, zh)",
                "leave the language empty to detect it from the text, or leave the article out",
            )
        language = code
    title = fields.get("title")
    _check_title(where, title)
    return Article(
        doc_id=fields.get("id") or default_id,
        text=text,
        title=title,
        outlet=fields.get("outlet"),
        country=fields.get("country"),
        published=fields.get("published"),
        url=fields.get("url"),
        language=language,
        metadata=metadata,
        source=source,
        encoding=_plain(codec),
    )


def _check_title(where: str, title: str | None) -> None:
    if title is not None and len(title) > MAX_TITLE_CHARS:
        raise input_error(
            where,
            f"the title has {len(title):,} characters (at most {MAX_TITLE_CHARS:,})",
            "check the columns: the article text may be in the title column",
        )


def language_code(value: str) -> str | None:
    """'en', 'zh' from a language tag such as 'en-US', 'zh-Hans', 'ZH_cn'; else None."""
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return {"en": "en", "eng": "en", "zh": "zh", "zho": "zh", "chi": "zh"}.get(primary)


# --------------------------------------------------------------------------- HTML


def _read_html(path: Path, content: str, codec: str) -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(
        content, with_metadata=True, include_comments=False, include_tables=True
    )
    text = _canonical(getattr(doc, "text", None) or "")
    # The default extraction falls back to any text on the page ("Home", "Enable JavaScript");
    # the precise one finds nothing on a page without an article.
    if not text.strip() or not trafilatura.extract(content, fast=True, favor_precision=True):
        scripted = re.search(r"(?i)<noscript|enable javascript", content)
        raise input_error(
            str(path),
            "no article text found in the page"
            + (" (it loads its text with JavaScript)" if scripted else " (only menus, links or notices)"),
            "save the article page itself (not a front or section page; for a JavaScript page, the "
            "browser's reader view), or paste the article into a .txt file",
        )
    title = _clean(getattr(doc, "title", None))
    first, _, rest = text.partition("\n")
    if title and first.strip() == title and rest.strip():
        text = _canonical(rest)  # trafilatura repeats the <h1> title as the first line
    bad = FORBIDDEN.search(text)
    if bad:
        raise input_error(
            str(path),
            f"the article text holds control character U+{ord(bad.group()):04X}",
            "remove it from the page",
        )
    _check_prose(str(path), text)
    _check_title(str(path), title)
    tree = trafilatura.load_html(content)
    lang = tree.get("lang") if tree is not None else None
    author = _clean(getattr(doc, "author", None))
    return Article(
        doc_id=slugify(path.stem),
        text=text,
        title=title,
        outlet=_clean(getattr(doc, "sitename", None)),
        published=_clean(getattr(doc, "date", None)),
        url=_clean(getattr(doc, "url", None)),
        language=language_code(lang) if lang else None,
        metadata={"author": author} if author else {},
        source=str(path),
        encoding=_plain(codec),
    )


def _clean(value: object) -> str | None:
    return str(value).strip() or None if value else None

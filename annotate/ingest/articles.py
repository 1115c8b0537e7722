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

Skipping bad rows (``on_bad_row``; ``annotate predict``, ``annotate push --skip-bad-rows``):
each problem with one article (a table row, a JSONL line, a whole .txt/.md/.html file, a table
whose header cannot be read) goes to ``on_bad_row`` as the same one-line :class:`InputError`,
and reading goes on. A table not valid in its encoding is read with ``errors="surrogateescape"``:
only the lines holding an undecodable byte are bad. A skipped row keeps its number, so later
rows get the same default ids (``<file>-<row>``). A missing path, a directory, an unsupported
type and a file over the size limit still raise. :func:`iter_articles` streams row by row,
keeping a 16-byte digest per doc_id (for the duplicate check), not the texts.

This module owns the :class:`Article` record, :func:`read_articles`, :func:`iter_articles`, the
file-size limit and the parsers of each format. Finding a file's encoding, and the wording of
decoding and control-character errors, is :mod:`annotate.ingest.encodings`'s.
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotate.errors import InputError
from annotate.ingest.encodings import (
    FORBIDDEN,
    bad_character_error,
    bom_codec,
    check_controls,
    codec_name,
    control_error,
    decodes,
    input_error,
    non_utf8_codec,
    read_head,
    sniff_codec,
    undecodable_error,
)

SUPPORTED_SUFFIXES = (".csv", ".htm", ".html", ".jsonl", ".md", ".tsv", ".txt")
#: The formats with one article per row, whose bad rows can be skipped one by one.
ROW_SUFFIXES = (".csv", ".tsv", ".jsonl")

#: Called with each bad row's one-line InputError when skipping bad rows.
BadRowHandler = Callable[[InputError], None]

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
    paths: Sequence[str | Path],
    *,
    encoding: str | None = None,
    max_bytes: int | None = None,
    on_bad_row: BadRowHandler | None = None,
) -> list[Article]:
    """Read every file in ``paths`` and return their articles in order.

    All files are read before anything is returned; the first problem raises
    :class:`InputError` (with ``on_bad_row``, bad rows are handed to it and skipped: see the
    module docstring). An article whose ``doc_id`` was already seen with the same text is
    dropped; with different text it is an error.

    ``encoding`` (a Python codec name such as ``cp1252`` or ``gb18030``) is used for
    files that are not UTF-8; without it such files are refused. ``max_bytes`` is the
    largest file accepted (default: ``$ANNOTATE_MAX_FILE_MB`` megabytes, else 50 MB).
    """
    return list(iter_articles(paths, encoding=encoding, max_bytes=max_bytes, on_bad_row=on_bad_row))


def iter_articles(
    paths: Sequence[str | Path],
    *,
    encoding: str | None = None,
    max_bytes: int | None = None,
    on_bad_row: BadRowHandler | None = None,
) -> Iterator[Article]:
    """The articles of :func:`read_articles`, one at a time as they are read (the same
    articles in the same order, the same errors). Tables and JSONL are streamed row by row;
    without ``on_bad_row``, a file's articles are yielded once the whole file has been read
    (so a bad row raises before any article of its file is seen)."""
    fallback = codec_name(encoding) if encoding else None
    limit = max_file_bytes(max_bytes)
    seen: dict[str, tuple[bytes, str]] = {}  # doc_id -> (digest of its text, where it was first)
    for path in paths:
        for article in _read_file(Path(path), fallback, limit, on_bad_row):
            digest = hashlib.blake2b(article.text.encode("utf-8"), digest_size=16).digest()
            first = seen.get(article.doc_id)
            if first is None:
                seen[article.doc_id] = (digest, article.source)
                yield article
            elif first[0] != digest:
                named = _id_from_file_name(first[1]) + _id_from_file_name(article.source)
                fix = ("change the 'id' of one of them", "change the row's 'id' or rename the file",
                       "rename one of the files")[named]  # fmt: skip
                _bad_row(
                    on_bad_row,
                    input_error(
                        article.source,
                        f"doc_id {article.doc_id!r} is already used by {first[1]} with different text",
                        fix,
                    ),
                )


def _bad_row(on_bad_row: BadRowHandler | None, error: InputError) -> None:
    """Hand ``error`` to ``on_bad_row``; raise it when there is none (strict reading)."""
    if on_bad_row is None:
        raise error
    on_bad_row(error)


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


def _read_file(
    path: Path, fallback: str | None, limit: int, on_bad_row: BadRowHandler | None = None
) -> Iterator[Article]:
    size = check_path(path)
    suffix = path.suffix.lower()
    if size == 0:
        error = input_error(str(path), "the file is empty", "add the article text or leave the file out")
        _bad_row(on_bad_row, error)
        return
    if size > limit:
        raise input_error(
            str(path),
            f"the file is {_size(size)}, over the {_size(limit)} limit for one file",
            f"split it into smaller files, or raise the limit: {MAX_FILE_MB_ENV}={math.ceil(size / MB)}",
        )
    if on_bad_row is None:
        yield from _read_whole(path, suffix, fallback)
        return
    try:
        if suffix not in ROW_SUFFIXES:
            yield from _read_whole(path, suffix, fallback)  # one article: the whole file is the row
            return
        codec, errors = _row_codec(path, suffix, read_head(path), fallback)
    except InputError as error:
        on_bad_row(error)
        return
    yield from _parse(path, suffix, codec, errors, on_bad_row)


def check_path(path: Path) -> int:
    """The size of ``path``; InputError unless it is a readable file of a supported type
    (the problems no reader skips, found before a file is read)."""
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
    return size


def _read_whole(path: Path, suffix: str, fallback: str | None) -> list[Article]:
    """Every article of ``path``, read strictly: its codec found, decoded, checked."""
    head = read_head(path)
    bom = bom_codec(head)
    codec = bom or sniff_codec(path, head, fallback) or "utf-8-sig"
    try:
        return list(_parse(path, suffix, codec))
    except UnicodeDecodeError:
        if codec != "utf-8-sig" or bom:
            raise undecodable_error(path, codec) from None
    codec = non_utf8_codec(path, suffix, head, fallback)
    try:
        return list(_parse(path, suffix, codec))
    except UnicodeDecodeError:
        raise undecodable_error(path, codec) from None


def _row_codec(path: Path, suffix: str, head: bytes, fallback: str | None) -> tuple[str, str]:
    """``(codec, errors)`` to read a table or JSONL whose bad rows are skipped: the codec
    strict reading would use, ``errors="strict"`` when the whole file decodes in it, else
    ``"surrogateescape"`` (the undecodable bytes are then bad rows). A file that is not
    UTF-8 is read in ``fallback`` (``--encoding``) when it fits, as in strict reading."""
    bom = bom_codec(head)
    codec = bom or sniff_codec(path, head, fallback) or "utf-8-sig"
    if decodes(path, codec):
        return codec, "strict"
    if codec == "utf-8-sig" and not bom and fallback:
        try:
            other = non_utf8_codec(path, suffix, head, fallback)
        except InputError:
            return codec, "surrogateescape"  # not in the encoding given either: bad rows
        return other, "strict" if decodes(path, other) else "surrogateescape"
    return codec, "surrogateescape"


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


def _parse(
    path: Path,
    suffix: str,
    codec: str,
    errors: str = "strict",
    on_bad_row: BadRowHandler | None = None,
) -> Iterator[Article]:
    """The articles of ``path`` decoded with ``codec``; UnicodeDecodeError when it does not fit
    (``errors="strict"``). ``on_bad_row``: tables and JSONL skip their bad rows (see the module
    docstring)."""
    if suffix in (".csv", ".tsv"):
        delimiter = "\t" if suffix == ".tsv" else ","
        yield from _read_table(path, delimiter, codec, errors, on_bad_row)
        return
    if suffix == ".jsonl":
        yield from _read_jsonl(path, codec, errors, on_bad_row)
        return
    with path.open(encoding=codec) as file:  # universal newlines: \r\n and \r become \n
        content = file.read()
    if not content or content.isspace():
        raise input_error(str(path), "the file is empty", "add the article text or leave the file out")
    if suffix in (".txt", ".md"):
        check_controls(str(path), content, codec)
        yield _read_text(path, content, codec)
        return
    yield _read_html(path, content, codec)


def _lines(
    path: Path, codec: str, errors: str = "strict", check: bool = True, raw: list[str] | None = None
) -> Iterator[str]:
    """The lines of ``path`` with their endings, decoded; with ``check``, a line holding a
    control character raises. ``raw`` collects the lines given out (the caller clears it)."""
    with path.open(encoding=codec, errors=errors, newline="") as file:
        for number, line in enumerate(file, start=1):
            if check:
                bad = FORBIDDEN.search(line)
                if bad:
                    raise control_error(f"{path}:line {number}", line, bad.start(), codec)
            if raw is not None:
                raw.append(line)
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


def _read_table(
    path: Path,
    delimiter: str,
    codec: str,
    errors: str = "strict",
    on_bad_row: BadRowHandler | None = None,
) -> Iterator[Article]:
    csv.field_size_limit(2**31 - 1)  # the default 128 KiB is too small for long articles
    kind = "TSV" if delimiter == "\t" else "CSV"
    malformed = "put fields containing quotes in double quotes and double the inner quotes"
    # skipping bad rows: the lines are checked per row (a quoted field may span several lines)
    raw: list[str] | None = [] if on_bad_row is not None else None
    reader = csv.reader(
        _lines(path, codec, errors, check=raw is None, raw=raw), delimiter=delimiter, strict=True
    )
    try:
        header = next((cells for cells in reader if any(cell.strip() for cell in cells)), None)
        if header is None:
            raise input_error(
                str(path), "the file is empty", "add a header row with a 'text' column and the articles"
            )
        bad = _bad_character(raw or [])
        if bad is not None:
            number, text, index = bad
            raise bad_character_error(f"{path}:line {number + 1}", text, index, codec)
        columns = [name.strip() for name in header]
        _check_columns(path, columns, delimiter)
    except csv.Error as err:
        _bad_row(
            on_bad_row,
            input_error(f"{path}:line {reader.line_num}", f"malformed {kind} ({err})", malformed),
        )
        return
    except InputError as error:
        _bad_row(on_bad_row, error)  # the whole file: without its header no row can be read
        return
    row, line = 0, reader.line_num
    read = False  # any row below the header, good or bad
    while True:
        if raw is not None:
            raw.clear()
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            first_line, line = line + 1, reader.line_num
            read = True
            row += 1
            bad = _bad_character(raw or [])
            if bad is not None:
                number, text, index = bad
                where = f"{path}:row {row} (line {first_line + number})"
                _bad_row(on_bad_row, bad_character_error(where, text, index, codec))
            else:
                where = f"{path}:line {reader.line_num}"
                _bad_row(on_bad_row, input_error(where, f"malformed {kind} ({err})", malformed))
            continue
        first_line, line = line + 1, reader.line_num
        blank = not any(cell.strip() for cell in cells)
        bad = _bad_character(raw) if raw else None
        if blank and bad is None:
            continue  # blank rows are not counted
        read = True
        if not blank:
            row += 1
        try:
            if bad is not None:
                number, text, index = bad
                where = f"{path}:line {first_line + number}"
                if not blank:
                    where = f"{path}:row {row} (line {first_line + number})"
                raise bad_character_error(where, text, index, codec)
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
            article = _article(record, f"{slugify(path.stem)}-{row}", source, where, codec)
        except InputError as error:
            _bad_row(on_bad_row, error)
            continue
        yield article
    if not read:
        fix = "add the articles, one per row"
        _bad_row(on_bad_row, input_error(str(path), "the header has no rows below it", fix))


def _bad_character(lines: Sequence[str]) -> tuple[int, str, int] | None:
    """``(line number within lines, the line, index)`` of the first forbidden character, else None."""
    for number, line in enumerate(lines):
        bad = FORBIDDEN.search(line)
        if bad:
            return number, line, bad.start()
    return None


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


def _read_jsonl(
    path: Path, codec: str, errors: str = "strict", on_bad_row: BadRowHandler | None = None
) -> Iterator[Article]:
    found = False  # any line that is not blank, good or bad
    for number, line in enumerate(_lines(path, codec, errors, check=on_bad_row is None), start=1):
        bad = FORBIDDEN.search(line) if on_bad_row is not None else None
        if bad is None and not line.strip():
            continue
        found = True
        try:
            if bad is not None:
                raise bad_character_error(f"{path}:line {number}", line, bad.start(), codec)
            article = _jsonl_article(path, number, line, codec)
        except InputError as error:
            _bad_row(on_bad_row, error)
            continue
        yield article
    if not found:
        _bad_row(
            on_bad_row,
            input_error(str(path), "the file is empty", "add the articles, one JSON object per line"),
        )


def _jsonl_article(path: Path, number: int, line: str, codec: str) -> Article:
    """The article of JSONL line ``number`` (not blank); InputError when it is not one."""
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
    return _article(values, f"{slugify(path.stem)}-{number}", where, where, codec)


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

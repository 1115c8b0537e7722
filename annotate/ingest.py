"""Read news articles from files into :class:`Article` records.

Supported: ``.txt``/``.md`` (one article per file), ``.csv``/``.tsv``/``.jsonl``
(one article per row) and ``.html``/``.htm`` (main text via trafilatura).

``Article.text`` is the canonical text that sentence offsets point into. It is
the input with a UTF-8 BOM removed, line endings turned into ``\\n``, leading
blank lines and trailing whitespace removed, and (for text files) the title
line removed; everything else is kept exactly as given.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotate.errors import InputError

SUPPORTED_SUFFIXES = (".csv", ".htm", ".html", ".jsonl", ".md", ".tsv", ".txt")

#: Table columns (and JSONL keys) read into Article fields; matched case-insensitively.
#: ``doc_id`` is accepted for ``id``.
KNOWN_COLUMNS = ("id", "text", "title", "outlet", "country", "published", "url", "language")

TITLE_MAX_CHARS = 200


@dataclass(frozen=True)
class Article:
    """One news article. ``source`` says where it came from, for error messages."""

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


def read_articles(paths: Sequence[str | Path]) -> list[Article]:
    """Read every file in ``paths`` and return their articles in order.

    All files are read before anything is returned; the first problem raises
    :class:`InputError`. An article whose ``doc_id`` was already seen with the
    same text is dropped; with different text it is an error.
    """
    articles: dict[str, Article] = {}
    for path in paths:
        for article in _read_file(Path(path)):
            first = articles.setdefault(article.doc_id, article)
            if first.text != article.text:
                raise InputError(
                    f"doc_id {article.doc_id!r} is used by {first.source} and {article.source} "
                    "with different text; give one of them another id"
                )
    return list(articles.values())


def _read_file(path: Path) -> list[Article]:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type {suffix or '(no extension)'!r} "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; pass the article files in it") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read the file ({err.strerror})") from None
    content = _decode(path, data)
    if not content.strip():
        raise InputError(f"{path}: the file is empty")
    if suffix in (".txt", ".md"):
        return [_read_text(path, content)]
    if suffix in (".csv", ".tsv"):
        return _read_table(path, content, "\t" if suffix == ".tsv" else ",")
    if suffix == ".jsonl":
        return _read_jsonl(path, content)
    return [_read_html(path, content)]


def _decode(path: Path, data: bytes) -> str:
    """Bytes of ``path`` -> text with ``\\n`` line endings and no BOM."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: not UTF-8 text (invalid byte at position {err.start}); save it as UTF-8 and try again"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


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


def _read_text(path: Path, content: str) -> Article:
    text = _canonical(content)
    title, body = _split_title(text)
    return Article(doc_id=slugify(path.stem), text=body, title=title, source=str(path))


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


def _read_table(path: Path, content: str, delimiter: str) -> list[Article]:
    csv.field_size_limit(2**31 - 1)  # the default 128 KiB is too small for long articles
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
    try:
        columns = [name.strip() for name in next(reader)]
        _check_columns(path, columns)
        articles = []
        row, line = 0, reader.line_num
        for cells in reader:
            first_line, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank rows are not counted
            row += 1
            where = f"{path}:row {row} (line {first_line})"
            if len(cells) > len(columns):
                raise InputError(
                    f"{where}: {len(cells)} fields but the header has {len(columns)}; "
                    "quote fields that contain the delimiter"
                )
            cells += [""] * (len(columns) - len(cells))
            record = {name: cell for name, cell in zip(columns, cells, strict=True) if name}
            articles.append(_article(record, f"{slugify(path.stem)}-{row}", f"{path}:row {row}", where))
    except csv.Error as err:
        raise InputError(
            f"{path}:line {reader.line_num}: malformed {'TSV' if delimiter == chr(9) else 'CSV'} "
            f"({err}); put fields containing quotes in double quotes and double the inner quotes"
        ) from None
    if not articles:
        raise InputError(f"{path}: the header has no rows below it")
    return articles


def _check_columns(path: Path, columns: Sequence[str]) -> None:
    keys = [_column_key(name) for name in columns if name]
    duplicate = next((key for key in keys if keys.count(key) > 1), None)
    if duplicate:
        raise InputError(f"{path}: column {duplicate!r} appears more than once in the header")
    if "text" not in keys:
        found = ", ".join(name for name in columns if name) or "none"
        raise InputError(f"{path}: no 'text' column (columns found: {found})")


# --------------------------------------------------------------------------- JSONL


def _read_jsonl(path: Path, content: str) -> list[Article]:
    articles = []
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(record).__name__}")
        keys = [_column_key(str(key)) for key in record]
        if "text" not in keys:
            raise InputError(f"{where}: no 'text' key (keys found: {', '.join(record) or 'none'})")
        if len(set(keys)) < len(keys):
            raise InputError(f"{where}: a key appears more than once (keys: {', '.join(record)})")
        text = next(value for key, value in zip(keys, record.values(), strict=True) if key == "text")
        if not isinstance(text, str):
            raise InputError(f"{where}: 'text' must be a string, got {type(text).__name__}")
        values = {str(key): _json_str(value) for key, value in record.items()}
        articles.append(_article(values, f"{slugify(path.stem)}-{number}", where, where))
    return articles


def _json_str(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- rows -> Article


def _column_key(name: str) -> str:
    key = name.strip().lower()
    return "id" if key == "doc_id" else key


def _article(record: Mapping[str, str | None], default_id: str, source: str, where: str) -> Article:
    """Build an Article from one table row or JSON object (all values strings or None)."""
    known: dict[str, str | None] = {}
    metadata: dict[str, str] = {}
    for name, value in record.items():
        key = _column_key(name)
        if key in KNOWN_COLUMNS:
            known[key] = value
        elif value is not None:
            metadata[name] = value
    text = _canonical(known.get("text") or "")
    if not text.strip():
        raise InputError(f"{where}: the text is empty")
    fields = {key: (value or "").strip() or None for key, value in known.items()}
    language = fields.get("language")
    if language is not None:
        code = language_code(language)
        if code is None:
            raise InputError(f"{where}: unsupported language {language!r} (supported: en, zh)")
        language = code
    return Article(
        doc_id=fields.get("id") or default_id,
        text=text,
        title=fields.get("title"),
        outlet=fields.get("outlet"),
        country=fields.get("country"),
        published=fields.get("published"),
        url=fields.get("url"),
        language=language,
        metadata=metadata,
        source=source,
    )


def language_code(value: str) -> str | None:
    """'en', 'zh' from a language tag such as 'en-US', 'zh-Hans', 'ZH_cn'; else None."""
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return {"en": "en", "eng": "en", "zh": "zh", "zho": "zh", "chi": "zh"}.get(primary)


# --------------------------------------------------------------------------- HTML


def _read_html(path: Path, content: str) -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(
        content, with_metadata=True, include_comments=False, include_tables=True
    )
    text = _canonical(getattr(doc, "text", None) or "")
    if not text.strip():
        raise InputError(f"{path}: no article text found in the page")
    title = _clean(getattr(doc, "title", None))
    first, _, rest = text.partition("\n")
    if title and first.strip() == title and rest.strip():
        text = _canonical(rest)  # trafilatura repeats the <h1> title as the first line
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
    )


def _clean(value: object) -> str | None:
    return str(value).strip() or None if value else None

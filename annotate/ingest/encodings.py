"""Find the text encoding of an article file, and word the errors when it does not decode.

This module owns everything about a file's codec and the characters it decodes to:

- Not text: PDF, Office, ZIP, images and other binary files are recognised by their first
  bytes (:func:`sniff_codec`), as is UTF-16 without a byte-order mark.
- Choosing the codec: a BOM's (:func:`bom_codec`); for a file that is not UTF-8, the HTML
  page's declared ``<meta charset>`` or the ``--encoding`` given, if the file reads as it
  (:func:`non_utf8_codec`). Otherwise the file is refused, naming the encoding
  charset-normalizer detects (corrected for the Windows-1252 and East Asian cases it gets
  wrong on short texts) and how the first non-ASCII text reads in it. Guessing silently is
  never done.
- Decoding errors (:func:`undecodable_error`) and forbidden control characters
  (:data:`FORBIDDEN`, :func:`check_controls`, :func:`control_error`), with their line and
  column. For readers that skip bad rows instead of refusing the file (``on_bad_row``):
  :func:`decodes` says whether a whole file decodes, and a file that does not is read with
  ``errors="surrogateescape"``, each undecodable byte becoming a lone surrogate that
  :data:`FORBIDDEN` finds and :func:`bad_character_error` words as the byte it was.
- :func:`input_error`, the one-line ``<where>: <what>; <fix>`` :class:`InputError` that every
  ingest error is built with.

:mod:`annotate.ingest.articles` reads the files and parses each format, calling this module;
this module does not import it.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from annotate.errors import InputError

__all__ = [
    "FORBIDDEN",
    "bad_character_error",
    "bom_codec",
    "check_controls",
    "codec_name",
    "control_error",
    "decodes",
    "input_error",
    "non_utf8_codec",
    "read_head",
    "sniff_codec",
    "undecodable_error",
]

_CHUNK_BYTES = 1024 * 1024  # read at a time to find where a UTF-16/UTF-32 file stops decoding


def input_error(where: str, what: str, fix: str) -> InputError:
    """``<where>: <what>; <fix>`` on one line."""
    return InputError(_one_line(f"{where}: {what}; {fix}"))


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def codec_name(encoding: str) -> str:
    """The Python codec name for ``encoding`` (e.g. ``cp1252`` for ``windows-1252``)."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(
            f"unknown encoding {_one_line(encoding)!r}; give a Python codec name such as cp1252, "
            "latin-1, gb18030, big5, shift_jis or utf-16-le"
        ) from None


# --------------------------------------------------------------------------- not text

_HEAD_BYTES = 64 * 1024
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_EXTRACT = "annotate reads text: save or export the article as plain text (UTF-8) and pass that"
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "a PDF document", "extract its text first (pdftotext FILE.pdf FILE.txt) and pass the .txt"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc/.xls)", _EXTRACT),
    (b"{\\rtf", "an RTF document", _EXTRACT),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", _EXTRACT),
    (b"\xff\xd8\xff", "a JPEG image", _EXTRACT),
    (b"GIF87a", "a GIF image", _EXTRACT),
    (b"GIF89a", "a GIF image", _EXTRACT),
    (b"II*\x00", "a TIFF image", _EXTRACT),
    (b"MM\x00*", "a TIFF image", _EXTRACT),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip FILE.gz)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first (unxz FILE.xz)"),
    (b"(\xb5/\xfd", "a zstd-compressed file", "decompress it first (unzstd FILE.zst)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it and pass the files inside"),
    (b"Rar!\x1a\x07", "a RAR archive", "unpack it and pass the files inside"),
    (b"SQLite format 3\x00", "an SQLite database", "export the articles as CSV or JSONL"),
    (b"PAR1\x15", "a Parquet file", "export the articles as CSV or JSONL"),
    (b"\x7fELF", "an executable", "pass the article files"),
)
_ZIP_KINDS = (
    (b"word/", "a Word document (.docx)", _EXTRACT),
    (b"xl/", "an Excel workbook (.xlsx)", "save the sheet as CSV UTF-8 and pass the .csv"),
    (b"ppt/", "a PowerPoint file (.pptx)", _EXTRACT),
    (b"mimetypeapplication/epub+zip", "an EPUB e-book", _EXTRACT),
    (b"mimetypeapplication/vnd.oasis.opendocument.text", "an OpenDocument text (.odt)", _EXTRACT),
    (b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet", "an OpenDocument sheet (.ods)",
     "save the sheet as CSV UTF-8 and pass the .csv"),
)  # fmt: skip
# C0 controls other than tab, LF, VT, FF, CR and ESC: a share of them marks binary data.
_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def read_head(path: Path) -> bytes:
    """The first bytes of ``path``, which its codec is sniffed from."""
    try:
        with path.open("rb") as file:
            return file.read(_HEAD_BYTES)
    except OSError as err:
        raise input_error(
            str(path), f"cannot read the file ({err.strerror})", "check its permissions"
        ) from None


def bom_codec(head: bytes) -> str | None:
    """The codec a file starting with ``head`` declares by its byte-order mark, else None."""
    return next((codec for bom, codec in _BOMS if head.startswith(bom)), None)


def sniff_codec(path: Path, head: bytes, fallback: str | None) -> str | None:
    """Refuse a file that is not text by its first bytes; return a codec for BOM-less UTF-16
    when ``fallback`` names one, else None."""
    kind = _magic(head)
    if kind:
        what, fix = kind
        raise input_error(str(path), f"not a text file: it looks like {what}", fix)
    utf16 = _utf16_without_bom(head)
    if utf16:
        if fallback and fallback.startswith("utf-16"):
            return fallback
        iconv = utf16.upper().replace("-", "").replace("UTF16", "UTF-16")
        raise input_error(
            str(path),
            f"looks like {utf16.upper()} text without a byte-order mark, not UTF-8",
            f"convert it (iconv -f {iconv} -t UTF-8 {path.name} > {_utf8_name(path)}) "
            f"or pass --encoding {utf16}",
        )
    binary = sum(head.count(byte) for byte in _BINARY_BYTES)
    if binary >= 8 and binary > 0.05 * len(head):
        raise input_error(
            str(path),
            f"not a text file: {binary:,} of its first {len(head):,} bytes are binary control bytes",
            "pass the article as plain text (UTF-8)",
        )
    return None


def _magic(head: bytes) -> tuple[str, str] | None:
    if head.startswith(b"PK\x03\x04"):
        found = next(((what, fix) for marker, what, fix in _ZIP_KINDS if marker in head), None)
        return found or ("a ZIP archive", "unpack it and pass the files inside")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image", _EXTRACT
    if re.match(rb"BZh[1-9]1AY&SY", head):
        return "a bzip2-compressed file", "decompress it first (bunzip2 FILE.bz2)"
    return next(((what, fix) for magic, what, fix in _MAGIC if head.startswith(magic)), None)


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when every other byte is NUL, as in UTF-16 Latin text."""
    even, odd = head[0::2], head[1::2]
    if len(odd) < 4:
        return None
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd > 0.4 and nul_even < 0.1:
        return "utf-16-le"
    if nul_even > 0.4 and nul_odd < 0.1:
        return "utf-16-be"
    return None


# --------------------------------------------------------------------------- not UTF-8

_CN_NAMES = {"latin_1": "latin-1", "iso8859_1": "latin-1", "utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be"}
# What to propose for what charset-normalizer finds: a superset that decodes the same bytes
# the same way (GB2312 and GBK text is GB18030; Latin-1 text is Windows-1252 text).
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "latin-1": "cp1252", "iso8859-1": "cp1252"}
_DESCRIPTION = {
    "cp1252": "Windows-1252/Latin-1, Western European",
    "cp1250": "Windows-1250, Central European",
    "cp1251": "Windows-1251, Cyrillic",
    "cp1253": "Windows-1253, Greek",
    "cp1254": "Windows-1254, Turkish",
    "cp1256": "Windows-1256, Arabic",
    "cp1257": "Windows-1257, Baltic",
    "gb18030": "GB18030/GBK, Simplified Chinese",
    "big5": "Big5, Traditional Chinese",
    "cp950": "Big5, Traditional Chinese",
    "cp932": "Shift JIS, Japanese",
    "shift_jis": "Shift JIS, Japanese",
    "euc_jp": "EUC-JP, Japanese",
    "cp949": "EUC-KR, Korean",
    "euc_kr": "EUC-KR, Korean",
    "koi8_r": "KOI8-R, Cyrillic",
    "utf-16-le": "UTF-16 little-endian",
    "utf-16-be": "UTF-16 big-endian",
}
_ICONV = {"cp1252": "CP1252", "latin-1": "ISO-8859-1", "mac_roman": "MACINTOSH", "utf-16-le": "UTF-16LE",
          "utf-16-be": "UTF-16BE", "shift_jis": "SHIFT_JIS", "cp932": "CP932"}  # fmt: skip
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def non_utf8_codec(path: Path, suffix: str, head: bytes, fallback: str | None) -> str:
    """The codec for a file that is not UTF-8: the HTML page's declared charset, else
    ``fallback`` if the file reads as it; otherwise refuse, naming the likely encoding."""
    line, column, raw, offset = _decode_error_at(path, "utf-8")
    where = f"{path}:line {line}"
    bad = f"byte 0x{raw[column]:02X} at column {_char_column(raw, column, 'utf-8')}"
    sample = _sample(path, offset)
    declared = _declared_charset(head) if suffix in (".html", ".htm") else None
    given = [
        (c, said) for c, said in ((declared, "the page's <meta charset>"), (fallback, "--encoding")) if c
    ]
    tried = [(codec, said) for codec, said in given if codec not in ("utf-8", "utf-8-sig")]
    for codec, _ in tried:
        if _reads_as(sample, codec):
            return codec
    if tried:
        guess = _guesses(sample)
        looks = f"; it looks like {guess[0]} ({_DESCRIPTION.get(guess[0], guess[0])})" if guess else ""
        names = " or ".join(f"{_display(codec)} ({said})" for codec, said in tried)
        raise input_error(
            where,
            f"not UTF-8 ({bad}), and it does not read as {names} either{looks}",
            _convert_fix(path, suffix, guess[0] if guess else None),
        )
    guesses = _guesses(sample)
    if not guesses:
        raise input_error(
            where,
            f"not UTF-8 ({bad}), and no other text encoding fits it (binary or damaged?)",
            "save the article as UTF-8 text",
        )
    best = guesses[0]
    reads = f"where it reads {_snippet(raw, column, best)!r}"
    other = next((g for g in guesses[1:] if _snippet(raw, column, g) != _snippet(raw, column, best)), None)
    if other:
        reads += f" ({other} would read {_snippet(raw, column, other)!r})"
    raise input_error(
        where,
        f"not UTF-8 ({bad}); it looks like {best} ({_DESCRIPTION.get(best, best)}), {reads}",
        _convert_fix(path, suffix, best),
    )


def _display(codec: str) -> str:
    return {"iso8859-1": "latin-1", "utf-8-sig": "UTF-8 (it starts with a UTF-8 byte-order mark)"}.get(
        codec, codec
    )


def _convert_fix(path: Path, suffix: str, codec: str | None) -> str:
    if codec is None:
        return "save it as UTF-8 (or pass --encoding with its encoding)"
    iconv = _ICONV.get(codec, codec.upper().replace("_", "-"))
    excel = "re-save it as 'CSV UTF-8' in Excel, " if suffix in (".csv", ".tsv") else ""
    return (
        f"{excel}convert it to UTF-8 (iconv -f {iconv} -t UTF-8 {path.name} > {_utf8_name(path)}) "
        f"or pass --encoding {codec}"
    )


def _utf8_name(path: Path) -> str:
    return f"{path.stem}.utf8{path.suffix}"


def _guesses(sample: bytes) -> list[str]:
    """The encodings ``sample`` may be in, most likely first, as codecs to propose.

    charset-normalizer's candidates, with two corrections for the cases it gets wrong on
    short texts: among single-byte code pages Windows-1252 comes first when it reads the
    sample as cleanly (it takes French for Windows-1250); among East Asian codecs the one
    whose reading has the most common characters comes first (it takes short GBK for Big5).
    """
    from charset_normalizer import from_bytes

    results = list(from_bytes(sample))
    names: list[str] = []
    for match in results:
        name = _proposal(match.encoding)
        if name not in names and name not in ("ascii", "utf_8"):
            names.append(name)
    if not names:
        return names
    if names[0] in _CJK_CODECS:
        names += [c for c in _CJK_MAIN if c not in names and _decodes(sample, c)]
        scores = {name: _cjk_share(sample.decode(name, errors="replace")) or 0.0 for name in names}
        top = max(names, key=lambda name: scores[name])
        if scores[top] >= scores[names[0]] + 0.25:
            names.remove(top)
            names.insert(0, top)
    elif not names[0].startswith("utf"):
        best = results[0].chaos
        western = from_bytes(sample, cp_isolation=["cp1252"]).best()
        if western is not None and western.chaos <= best and names[0] != "cp1252":
            if "cp1252" in names:
                names.remove("cp1252")
            names.insert(0, "cp1252")
    return names


def _proposal(cn_name: str) -> str:
    """charset-normalizer's codec name -> the codec to propose (a superset where one exists)."""
    name = _CN_NAMES.get(cn_name, cn_name)
    return _SUPERSET.get(name, name)


def _decodes(sample: bytes, codec: str) -> bool:
    try:
        sample.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


_CJK_CODECS = frozenset(
    ("gb18030", "gbk", "gb2312", "hz", "big5", "big5hkscs", "cp950", "cp932", "shift_jis", "euc_jp",
     "euc_jis_2004", "euc_jisx0213", "shift_jis_2004", "shift_jisx0213", "iso2022_jp", "cp949",
     "euc_kr", "johab", "iso2022_kr")
)  # fmt: skip
_CJK_MAIN = ("gb18030", "big5", "cp932", "cp949")
# Frequent Chinese characters (simplified and traditional forms) and Hangul syllables. A right
# decoding of East Asian text is full of them (and of hiragana); a wrong one gives rare ones.
_COMMON_CJK = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政"
    "美相见被利什二等产或新己制身果加西月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解"
    "水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计"
    "管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完"
    "设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收"
    "根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深"
    "商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八"
    "這個們來為國說時會對過發後裡麼學現當沒動還進樣開從實軍與長機無點業將兩間問應戰頭體見產製總電數報結務"
    "場計資區隊統處義條題別變關經濟價華運際對雙達議黨導權讓識術領確傳師觀聯較"
    "이의에는을를가다고하지한서기로도수대사자리시나라아있어정국일인제보전것들그만면게했적우"
)


def _cjk_share(text: str) -> float | None:
    """The share of common characters among the East Asian characters of ``text`` (None if none)."""
    chars = [
        c for c in text if "\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7a3" or "\uff61" <= c <= "\uff9f"
    ]
    if not chars:
        return None
    common = sum(1 for c in chars if c in _COMMON_CJK or "\u3041" <= c <= "\u309f")
    return common / len(chars)


def _reads_as(sample: bytes, codec: str) -> bool:
    """Does ``sample`` decode as ``codec`` into text charset-normalizer finds clean (and, for
    an East Asian codec, with as many common characters as the other East Asian codecs give)?"""
    if codec.startswith(("utf-16", "utf-32")):
        return True
    from charset_normalizer import from_bytes

    if not _decodes(sample, codec) or not len(from_bytes(sample, cp_isolation=[codec])):
        return False
    if codec in _CJK_CODECS:
        # Right East Asian decodings score 0.5-0.8; Latin text read as GB18030 gets a few rare
        # characters ("Genève" -> "Gen誅e"), a wrong East Asian codec gets rare ones too.
        share = _cjk_share(sample.decode(codec))
        if share is not None and share < _MIN_CJK_SHARE:
            return False
        others = [
            _cjk_share(sample.decode(c)) or 0.0 for c in _CJK_MAIN if c != codec and _decodes(sample, c)
        ]
        return not others or max(others) < (share or 0.0) + 0.25
    return True


_MIN_CJK_SHARE = 0.2


def _declared_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head)
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None
    # As browsers do (WHATWG Encoding): Latin-1 and ASCII mean Windows-1252, GB2312 means GBK.
    return {"iso8859-1": "cp1252", "ascii": "cp1252", "gb2312": "gb18030", "gbk": "gb18030"}.get(name, name)


def _decode_error_at(path: Path, codec: str) -> tuple[int, int, bytes, int]:
    """``(line, byte column, the line's bytes, byte offset)`` of the first byte ``codec``
    cannot decode, for ASCII-compatible codecs (lines split at ``\\n``)."""
    offset = 0
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            start = 3 if number == 1 and raw.startswith(codecs.BOM_UTF8) and codec == "utf-8" else 0
            try:
                raw[start:].decode(codec)
            except UnicodeDecodeError as err:
                return number, start + err.start, raw, offset + start + err.start
            offset += len(raw)
    return 1, 0, b"?", 0  # not reached: the caller saw a decoding error


def undecodable_error(path: Path, codec: str) -> InputError:
    """The error for a file that ``codec`` (a BOM's or the one given) cannot decode."""
    if codec.startswith(("utf-16", "utf-32")):
        decoder = codecs.getincrementaldecoder(codec)()
        offset = 0
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK_BYTES):
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as err:
                    offset += err.start - pending
                    break
                offset += len(chunk)
        return input_error(
            str(path),
            f"not valid {codec.upper()} (at byte {offset:,})",
            "the file is damaged or mislabelled: save the article as UTF-8 again",
        )
    line, column, raw, _ = _decode_error_at(path, codec)
    return input_error(
        f"{path}:line {line}",
        f"not valid {_display(codec)} "
        f"(byte 0x{raw[column]:02X} at column {_char_column(raw, column, codec)})",
        "part of the file is in another encoding, or it is damaged: re-save it as UTF-8"
        if codec == "utf-8-sig"
        else "the file uses another encoding or is damaged: convert it to UTF-8 or pass the right --encoding",
    )


def decodes(path: Path, codec: str) -> bool:
    """Does the whole of ``path`` decode as ``codec``? (Read in 1 MiB blocks, nothing kept.)"""
    decoder = codecs.getincrementaldecoder(codec)()
    with path.open("rb") as file:
        try:
            while chunk := file.read(_CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def bad_character_error(where: str, line: str, index: int, codec: str) -> InputError:
    """The error for ``line[index]``, a character :data:`FORBIDDEN` found in a line decoded with
    ``errors="surrogateescape"``: an undecodable byte (U+DC80-U+DCFF) is named as the byte it
    was; anything else is a control character (:func:`control_error`)."""
    code = ord(line[index])
    if 0xDC80 <= code <= 0xDCFF:
        name = "UTF-8" if codec in ("utf-8", "utf-8-sig") else codec
        return input_error(
            where,
            f"not valid {name} (byte 0x{code - 0xDC00:02X} at column {index + 1})",
            "part of the file is in another encoding, or it is damaged: re-save it as UTF-8 "
            "(or pass --encoding with its encoding)",
        )
    return control_error(where, line, index, codec)


def _char_column(raw: bytes, byte_column: int, codec: str) -> int:
    return len(raw[:byte_column].decode(codec, errors="replace")) + 1


def _snippet(raw: bytes, byte_column: int, codec: str) -> str:
    """About 40 characters of ``raw`` around ``byte_column``, decoded with ``codec``."""
    text = raw.decode(codec, errors="replace")
    at = len(raw[:byte_column].decode(codec, errors="replace"))
    return " ".join(text[max(0, at - 20) : at + 20].split())


def _sample(path: Path, offset: int, size: int = _HEAD_BYTES) -> bytes:
    """Up to ``size`` bytes around ``offset``, cut after a line break or space where the window
    does not reach the start or end of the file (no East Asian codec has those bytes inside
    a character, so the sample never starts or ends with half of one)."""
    start = max(0, offset - size // 2)
    with path.open("rb") as file:
        file.seek(start)
        data = file.read(size)
        at_end = not file.read(1)
    if start:
        cut = max(data.rfind(b"\n", 0, offset - start), data.rfind(b" ", 0, offset - start))
        if cut >= 0:
            data, start = data[cut + 1 :], start + cut + 1
    if not at_end:
        cut = max(data.rfind(b"\n"), data.rfind(b" "))
        if cut > offset - start:
            data = data[: cut + 1]
    return data


# --------------------------------------------------------------------------- control characters

# C0 controls except tab, LF, VT, FF and CR; DEL and the C1 controls; unpaired surrogates
# (only JSON escapes can make them). Annotators cannot see them and exports choke on them.
FORBIDDEN = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "backspace", 0x1A: "SUB", 0x1B: "ESC", 0x7F: "DEL"}


def check_controls(where: str, text: str, codec: str) -> None:
    """Refuse ``text`` (a whole file) if it holds a forbidden character, naming its line."""
    bad = FORBIDDEN.search(text)
    if bad:
        pos = bad.start()
        line_start = text.rfind("\n", 0, pos) + 1
        line_end = text.find("\n", pos)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        raise control_error(f"{where}:line {text.count(chr(10), 0, pos) + 1}", line, pos - line_start, codec)


def control_error(where: str, line: str, index: int, codec: str, escaped: bool = False) -> InputError:
    """The error for the forbidden character ``line[index]``; ``escaped``: a JSON string's."""
    code = ord(line[index])
    at = f"at character {index + 1}, written as \\u{code:04x}" if escaped else f"at column {index + 1}"
    if 0xD800 <= code <= 0xDFFF:
        return input_error(
            where,
            f"an unpaired surrogate {at} (half of a character such as an emoji)",
            "write the character itself, or both halves of its \\u escape",
        )
    name = f"U+{code:04X}" + (f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else "")
    what = f"control character {name} {at}"
    if escaped:
        fix = f"remove the \\u{code:04x} escape (annotators cannot see control characters)"
    elif code == 0:
        fix = "the file is damaged or not plain text: remove the NUL bytes (tr -d '\\000' < IN > OUT)"
    elif 0x80 <= code <= 0x9F and codec == "iso8859-1":
        fix = "the file is probably Windows-1252, not Latin-1: pass --encoding cp1252"
    elif 0x80 <= code <= 0x9F:
        fix = "the file is probably in another encoding, or damaged: convert it to UTF-8 and check it"
    else:
        fix = "remove it (annotators cannot see control characters and exports cannot hold them)"
    return input_error(where, what, fix)

"""Split articles into sentences with exact character offsets.

Every line break is a paragraph boundary and no sentence spans one. English
lines go through pysbd plus a few post-processing rules for misses seen in
news prose. Chinese lines are split by punctuation (pysbd's Chinese rules move
closing quotes into the next sentence and never split inside 「」), and runs
of English inside them go through the English path.

Offsets always point into the text given: ``text[start:end]`` is the sentence.

With pysbd 0.3.4 English lines go through ``annotate.ingest.pysbd_fast``: exactly pysbd's
sentences for every input, 5-8x faster; with another pysbd version, and inside
``reference_pysbd()``, through pysbd itself (tests/test_segment_fast.py compares the two).

No sentence is longer than ``MAX_SENTENCE_CHARS``: a longer one (a run-on sentence, a
list, a paragraph without full stops) is cut at the best place available within the
limit -- after a semicolon, else a colon, else a comma (or their full-width forms, or
``、``), else at a space -- keeping at least half of the limit in each piece where it
can; only a stretch with none of these is cut at the limit itself (never inside a
character and its combining marks). Label Studio never gets a 50,000-character task.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from annotate.errors import InputError
from annotate.ingest.articles import Article, language_code
from annotate.ingest.pysbd_fast import pysbd_process

LANGUAGES = ("en", "zh")

#: The longest sentence returned; longer ones are split (see the module docstring).
MAX_SENTENCE_CHARS = 2000

Span = tuple[int, int]


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article; ``article.text[start:end] == text``."""

    sentence_id: str
    doc_id: str
    index: int
    paragraph: int
    start: int
    end: int
    text: str
    language: str


# --------------------------------------------------------------------------- public API


def normalise(text: str) -> str:
    """NFKC-normalise, collapse runs of whitespace to one space, strip."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def sentence_id(doc_id: str, text: str, occurrence: int) -> str:
    """Stable id of the ``occurrence``-th (0-based) sentence with this normalised text."""
    return _sentence_id(doc_id, normalise(text), occurrence)


def _sentence_id(doc_id: str, normalised: str, occurrence: int) -> str:
    key = f"{doc_id}\x1f{normalised}\x1f{occurrence}"
    return "s" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def detect_language(text: str) -> str:
    """Return ``'zh'`` when CJK ideographs dominate the letters of ``text``, else ``'en'``.

    One ideograph is weighed as two Latin letters (a Chinese word is one or two
    characters, an English one about five letters), so a Chinese article full
    of English company names is still 'zh', and an English article quoting a
    Chinese slogan is still 'en'.
    """
    cjk = _CJK.subn("", text)[1]
    if not cjk:
        return "en"
    latin = _LATIN.subn("", text)[1]
    return "zh" if 2 * cjk >= latin else "en"


def split_text(
    text: str, language: str = "en", max_chars: int = MAX_SENTENCE_CHARS
) -> list[tuple[int, int, int]]:
    """Split ``text`` into ``(paragraph, start, end)`` sentence spans.

    Each non-blank line is one paragraph (numbered from 0). Spans are trimmed of
    whitespace. A piece without any letter or digit joins its neighbour on the
    line; a line without any (a separator such as ``***``) gives no sentence and
    no paragraph number. No span is longer than ``max_chars``.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r} (supported: {', '.join(LANGUAGES)})")
    if max_chars < 2:
        raise ValueError(f"max_chars must be at least 2, got {max_chars}")
    split_line = _split_en if language == "en" else _split_zh
    out: list[tuple[int, int, int]] = []
    paragraph = 0
    for match in _LINE.finditer(text):
        line, offset = match.group(), match.start()
        spans = _limit(line, _join_wordless(line, split_line(line)), max_chars)
        if spans:
            out.extend((paragraph, offset + s, offset + e) for s, e in spans)
            paragraph += 1
    return out


def article_language(article: Article) -> str:
    """The article's language code: ``article.language`` when given (a tag such as 'en-US' is
    accepted), else detected from the text. InputError for a language the splitter lacks."""
    given = article.language
    language = (language_code(given) or given) if given else detect_language(article.text)
    if language not in LANGUAGES:
        raise InputError(
            f"{article.source or article.doc_id}: unsupported language {language!r} "
            f"(supported: {', '.join(LANGUAGES)})"
        )
    return language


def split_article(article: Article) -> list[Sentence]:
    """Split an article into sentences, in order, with stable ids (language: ``article_language``)."""
    language = article_language(article)
    seen: dict[str, int] = {}
    sentences = []
    for index, (paragraph, start, end) in enumerate(split_text(article.text, language)):
        sent = article.text[start:end]
        key = normalise(sent)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        sentences.append(
            Sentence(
                sentence_id=_sentence_id(article.doc_id, key, occurrence),
                doc_id=article.doc_id,
                index=index,
                paragraph=paragraph,
                start=start,
                end=end,
                text=sent,
                language=language,
            )
        )
    return sentences


# --------------------------------------------------------------------------- shared helpers

# Everything str.splitlines() treats as a line break.
_LINE = re.compile(r"[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")
_WORD = re.compile(r"\w")


def _join_wordless(line: str, spans: list[Span]) -> list[Span]:
    """Attach pieces without letters or digits ("..", "***") to a neighbouring sentence."""
    out: list[Span] = []
    pending: int | None = None
    for start, end in spans:
        if not _WORD.search(line, start, end):
            if out:
                out[-1] = (out[-1][0], end)
            elif pending is None:
                pending = start
        else:
            out.append((start if pending is None else pending, end))
            pending = None
    return out


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# Where an over-long sentence is cut, best first; the cut goes after the mark (at the space).
_SOFT_BREAKS = (
    re.compile(r"[;；]"),
    re.compile(r"[:：]"),
    re.compile(r"[,，、]|\s[—–-]+(?=\s)"),
    re.compile(r"\s+"),
)


def _limit(line: str, spans: list[Span], max_chars: int) -> list[Span]:
    """Split every span longer than ``max_chars`` at the best soft break (see the module docstring)."""
    out: list[Span] = []
    for start, end in spans:
        while end - start > max_chars:
            cut = _best_cut(line, start, max_chars)
            piece = _trim(line, start, cut)
            if piece[0] < piece[1]:
                out.append(piece)
            start = _trim(line, cut, end)[0]
        if start < end:
            out.append((start, end))
    return out


def _best_cut(line: str, start: int, max_chars: int) -> int:
    """Where to end a piece that starts at ``start``: a position in ``(start, start + max_chars]``."""
    limit = start + max_chars
    for low in (start + max_chars // 2, start + 1):
        for pattern in _SOFT_BREAKS:
            found = list(pattern.finditer(line, low, limit))
            if found:
                return found[-1].start() if pattern is _SOFT_BREAKS[-1] else found[-1].end()
    cut = limit  # no break at all: cut at the limit, but not before a combining mark
    while cut > start + 1 and (unicodedata.combining(line[cut]) or line[cut] in "\u200d\ufe0e\ufe0f"):
        cut -= 1
    return cut


def _cut(text: str, span: Span, cuts: Iterator[int]) -> list[Span]:
    """Split ``span`` at the given absolute positions, trimming and dropping empty pieces."""
    pieces, start = [], span[0]
    for cut in (*cuts, span[1]):
        piece = _trim(text, start, cut)
        if piece[0] < piece[1]:
            pieces.append(piece)
        start = cut
    return pieces


# --------------------------------------------------------------------------- English

# pysbd is quadratic in the length of its input; long lines go through it in windows.
_WINDOW = 3000
_MAX_WINDOW = 24000
# pysbd uses these characters as internal placeholders and loses text containing them.
_PYSBD_RESERVED = str.maketrans(dict.fromkeys("∯♟♝ǃ♨☝ƪ⁃ᓴ✂☏ᓷ☉☈☇☄∮ȹȸ⎋⌬ᓸᓳᓱᓰ♭♬", "_"))


def _split_en(line: str) -> list[Span]:
    whole = _trim(line, 0, len(line))
    if not _EN_END_CANDIDATE.search(line, *whole):
        # Nothing pysbd could end a sentence at; skipping it saves much of the time.
        return [whole] if whole[0] < whole[1] else []
    spans = _merge_misses(line, _pysbd_spans(line))
    if "…" not in line and not _DOTTED_ACRONYM.search(line):
        return spans  # _SPLIT_AFTER cannot match (and the spans are trimmed already)
    return [piece for span in spans for piece in _cut(line, span, _split_points(line, span))]


def _pysbd_spans(line: str) -> list[Span]:
    """pysbd's sentences as trimmed spans of ``line`` (offsets computed here, not by pysbd)."""
    spans: list[Span] = []
    pos, n = 0, len(line)
    while pos < n:
        width = _WINDOW
        while True:
            end = min(n, pos + width)
            chunk = line[pos:end].translate(_PYSBD_RESERVED)
            found = _align(chunk, pysbd_process(chunk))
            if end == n or len(found) >= 2:
                break
            if width >= _MAX_WINDOW:
                # No boundary in a very long stretch: cut at the last space to keep going.
                cut = chunk.rstrip().rfind(" ")
                found = [_trim(chunk, 0, cut if cut > 0 else len(chunk)), (len(chunk), len(chunk))]
                break
            width *= 2
        if end < n:
            found = found[:-1]  # the window may have cut the last sentence short
        spans.extend((pos + s, pos + e) for s, e in found if s < e)
        if end == n or not found:
            break
        pos += found[-1][1]
    return spans


def _align(text: str, pieces: list[str]) -> list[Span]:
    """Locate pysbd's pieces in ``text`` in order; whitespace may differ, nothing else."""
    spans: list[Span] = []
    pos = 0
    for raw in pieces:
        piece = raw.strip()
        if not piece:
            continue
        start = _trim(text, pos, len(text))[0]
        if text.startswith(piece, start):
            end = start + len(piece)
        else:
            end = _match_ignoring_space(text, piece, start)
            if end < 0:
                break  # pysbd changed the text: keep the rest in one piece
        spans.append((start, end))
        pos = end
    rest = _trim(text, pos, len(text))
    if rest[0] < rest[1]:
        spans.append(rest)
    return spans


def _match_ignoring_space(text: str, piece: str, start: int) -> int:
    """End of ``piece`` matched at ``start`` of ``text`` ignoring whitespace, or -1."""
    j = start
    for ch in piece:
        if ch.isspace():
            continue
        while j < len(text) and text[j].isspace():
            j += 1
        if j >= len(text) or text[j] != ch:
            return -1
        j += 1
    return j


# Where a sentence can end inside a line: . ! ? or … (plus closing quotes) and a space.
_EN_END_CANDIDATE = re.compile(r"[.!?…][\"'”’)\]]*\s")
# pysbd breaks before inline list markers: "three parts: 1) cut tariffs, 2) open
# markets". A piece that does not end like a sentence is joined to the next one.
_ENDS, _CLOSERS = ".!?…", "\"'”’)]"  # _SENTENCE_END's two classes, for str tests
_TAIL = 10
# pysbd ends a sentence after these abbreviations even when a number, a currency
# amount or a lower-case word follows: "approx. $2 billion", "Vol. 3", "est. 1990".
_ABBR_BEFORE_NUMBER = re.compile(r"(?i)\b(?:approx|ca|est|vol|vols|ch)\.$")
_NUMBER_FIRST = "0123456789$€£¥"
# ... and after any short abbreviation followed by a lower-case word: "3.5 pct. from",
# "The approx. cost". ("iPhone", "eBay" are not all lower-case, so they do not match.)
_SHORT_ABBR_END = re.compile(r"\b[A-Za-z]{1,6}\.$")
_LOWER_WORD_START = re.compile(r"[a-z]+\b")
# "at 3 p.m. ET on Monday", "at 2 p.m. Tuesday, officials said".
_CLOCK_END = re.compile(r"\b[ap]\.m\.$")
_CLOCK_FOLLOW = re.compile(
    r"(?:ET|EST|EDT|CT|CST|CDT|PT|PST|PDT|GMT|UTC|BST|CET|CEST|HKT|JST|SGT"
    r"|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
# "Apple Inc. Chief Executive Tim Cook said", "Microsoft Corp. Chairman Brad Smith".
_COMPANY_END = re.compile(r"\b(?:Inc|Corp|Co|Ltd|Plc|PLC|LLC|Bhd|Bros|AG|SA|NV)\.$")
_JOB_TITLE_START = re.compile(
    r"(?:Chief|Chairman|Chairwoman|Chairperson|CEO|CFO|CTO|COO|Vice|Executive|Founder"
    r"|Co-founder|Spokesman|Spokeswoman|Spokesperson|Senior|Managing)\b"
)


def _merge_misses(line: str, spans: list[Span]) -> list[Span]:
    """Undo pysbd's sentence breaks after abbreviations that do not end the sentence.

    Each test reads only the last ``_TAIL`` characters of the sentence before (every pattern
    that ends in ``\\.$`` matches at most 7; with 10 the ``\\b`` before a match still sees the
    real character before it) and the start of the one after, so the cost does not grow with
    the sentence."""
    out: list[Span] = []
    for start, end in spans:
        if out:
            before_start, before_end = out[-1]
            tail = line[max(before_start, before_end - _TAIL) : before_end]
            body = tail.rstrip(_CLOSERS)
            if not body and before_end - before_start > _TAIL:  # ten closing marks: look at all of it
                body = line[before_start:before_end].rstrip(_CLOSERS)
            if (
                not body
                or body[-1] not in _ENDS
                or (
                    tail[-1] == "."
                    and (
                        (line[start] in _NUMBER_FIRST and _ABBR_BEFORE_NUMBER.search(tail))
                        or (_LOWER_WORD_START.match(line, start, end) and _SHORT_ABBR_END.search(tail))
                        or (_CLOCK_FOLLOW.match(line, start, end) and _CLOCK_END.search(tail))
                        or (_JOB_TITLE_START.match(line, start, end) and _COMPANY_END.search(tail))
                    )
                )
            ):
                out[-1] = (before_start, end)
                continue
        out.append((start, end))
    return out


# Words that begin a sentence and practically never follow an abbreviation inside
# one: pysbd's own list plus common news openers. pysbd only applies its list after
# U.S., U.K. and E.U., so "from the U.S. But imports fell" and "in Washington, D.C.
# The talks" stay one sentence; a country or other proper noun after "U.S." stays
# ambiguous ("in the U.S. China and Europe") and is left alone.
_STARTERS = (
    "A|Being|Did|For|He|How|However|I|In|It|Millions|More|She|That|The|There|They|We|What|"
    "When|Where|Who|Why|And|But|Yet|So|Its|His|Her|Their|Our|This|These|Those|Such|Some|Many|"
    "Meanwhile|Still|After|Before|While|Although|Though|Since|If|As|At|On|By|Both|Now|Then"
)
_SPLIT_AFTER = re.compile(
    # A dotted acronym (U.S., D.C., N.B.S.) before a sentence-opening word.
    r"\b(?:[A-Z]\.){2,}(?=\s+(?:" + _STARTERS + r")[\s,])"
    # A Unicode ellipsis before a capitalised word, as pysbd does for "...".
    r"|…+[\"”’')\]]*(?=\s+[\"“‘(]?[A-Z])"
)


# Every match of _SPLIT_AFTER holds "…" or this.
_DOTTED_ACRONYM = re.compile(r"[A-Z]\.[A-Z]\.")


def _split_points(line: str, span: Span) -> Iterator[int]:
    """Sentence breaks pysbd missed inside ``span``."""
    return (m.end() for m in _SPLIT_AFTER.finditer(line, span[0], span[1]))


# --------------------------------------------------------------------------- Chinese

# A run of sentence-final marks. ASCII ?! count only when Chinese text follows
# (inside English text the English path decides); a full-width ． is a decimal
# point or part of a name when a letter or digit follows.
_ZH_END = re.compile(r"(?:[。！？]|[!?]+(?![ -~\s])|．(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ]))+")
# Closing quotes and brackets after the end mark stay with the sentence: 。” 。」 。）
_ZH_CLOSERS = "”’」』）》〉】〕)]\"'"
# Marks that cannot start a sentence: after “……！”， the sentence goes on.
_ZH_NO_START = "，、；：,;:”’」』）》〉】〕)]"
# English inside Chinese text: ". " or "? " after Latin text.
_EN_END = re.compile(r"[A-Za-z0-9)\]\"'”’][.!?…]+[\"')\]”’]*\s")
# Abbreviations that do not end an English sentence when Chinese text follows.
_EN_ABBR_END = re.compile(
    r"(?i)(?:\b(?:[a-z]\.){2,}|\b(?:inc|corp|co|ltd|plc|llc|mr|mrs|ms|dr|prof|gen|st|no|vs"
    r"|jr|sr|approx|etc|al)\.)$"
)


def _split_zh(line: str) -> list[Span]:
    spans: list[Span] = []
    start, n = 0, len(line)
    for match in _ZH_END.finditer(line):
        end = match.end()
        if end <= start:
            continue  # already consumed as a closer
        if _inside_title(line, match.start(), start):
            continue
        while end < n and line[end] in _ZH_CLOSERS:
            # An ASCII quote closes only if an odd number of them opened it.
            if line[end] in "\"'" and line.count(line[end], start, end) % 2 == 0:
                break
            end += 1
        rest = _trim(line, end, n)[0]
        if rest < n and line[rest] in _ZH_NO_START:
            continue
        spans.extend(_split_zh_english(line, _trim(line, start, end)))
        start = end
    tail = _trim(line, start, n)
    if tail[0] < tail[1]:
        spans.extend(_split_zh_english(line, tail))
    return spans


def _inside_title(line: str, pos: int, start: int) -> bool:
    """Is ``pos`` inside a short 《title》, as in 《人工智能：机遇与挑战？》一书?"""
    back = max(start, pos - 100)
    return line.rfind("《", back, pos) > line.rfind("》", back, pos) and "》" in line[pos : pos + 40]


def _split_zh_english(line: str, span: Span) -> list[Span]:
    """Split English sentences out of a Chinese sentence: "The U.S. agreed. 中国欢迎。"."""
    if span[0] >= span[1] or not _EN_END.search(line, span[0], span[1]):
        return [span] if span[0] < span[1] else []
    part = line[span[0] : span[1]]
    pieces = _split_en(part)
    out: list[Span] = [pieces[0]]
    for s, e in pieces[1:]:
        # pysbd breaks after "Inc." when Chinese follows; an abbreviation does not end it.
        if _CJK.match(part, s) and _EN_ABBR_END.search(part, out[-1][0], out[-1][1]):
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return [(span[0] + s, span[0] + e) for s, e in out]

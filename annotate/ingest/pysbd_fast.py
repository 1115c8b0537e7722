"""pysbd's English sentence splitting, fast and exact.

pysbd's English ``Processor.process`` (~0.7 ms a news paragraph) makes ~130 regex passes, most
of which cannot match, and two case-insensitive findall passes per abbreviation found as a
substring. ``_FastPysbd`` runs pysbd 0.3.4's steps in order with pysbd's patterns and returns
the same strings, doing less (see the section comment below). ``pysbd_process`` is the entry
point ``annotate.ingest.segment`` uses: the fast path with pysbd 0.3.4, pysbd itself with any
other version and inside ``reference_pysbd()`` (tests/test_segment_fast.py compares the two
on golden cases, 2 MB of generated news and fuzzed hard cases).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from itertools import pairwise
from typing import Any

__all__ = ["pysbd_process", "reference_pysbd"]


@cache
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


# --------------------------------------------------------------------------- pysbd, fast and exact

# pysbd's English Processor.process (~0.7 ms a news paragraph) makes ~130 regex passes, most of
# which cannot match, and two case-insensitive findall passes per abbreviation found as a substring.
# _FastPysbd runs pysbd 0.3.4's steps in order with pysbd's patterns and returns the same strings,
# doing less: patterns are compiled once (pysbd looks them up in re's 512-entry cache, which it
# overflows); a step is skipped when the text lacks a substring, or a match of a cheap "_pre"
# pattern, that every match of the step's pattern contains; a literal pattern and replacement
# become str.replace; list_items and search_for_abbreviations skip what cannot change the text.

_PYSBD_VERSION = "0.3.4"
_use_reference: ContextVar[bool] = ContextVar("_use_reference", default=False)


@contextmanager
def reference_pysbd() -> Iterator[None]:
    """Within this block English lines go through pysbd itself, not ``_FastPysbd``."""
    token = _use_reference.set(True)
    try:
        yield
    finally:
        _use_reference.reset(token)


def pysbd_process(text: str) -> list[str]:
    """``pysbd.Segmenter(language="en", clean=False).processor(text).process()``."""
    fast = _fast_pysbd()
    if fast is None or _use_reference.get():
        return list(_segmenter().processor(text).process() or [])
    return fast.process(text)


@cache
def _fast_pysbd() -> _FastPysbd | None:
    import pysbd

    return _FastPysbd() if pysbd.__version__ == _PYSBD_VERSION else None


_META = frozenset(".^$*+?{}[]|()\\")
_Rule = tuple[re.Pattern[str] | str, str]  # (compiled pattern or literal, replacement)


def _rules(*rules: Any) -> tuple[_Rule, ...]:
    """pysbd Rules as pairs for ``_apply``: a plain literal pattern (``\\?`` is ``?``) with a
    replacement without backslashes becomes the two strings for ``str.replace``."""
    out: list[_Rule] = []
    for rule in rules:
        tokens = re.findall(r"\\(.)|(.)", rule.pattern, re.DOTALL)
        if not tokens or "\\" in rule.replacement or any(e.isalnum() or c in _META for e, c in tokens):
            out.append((re.compile(rule.pattern), rule.replacement))
        else:
            out.append(("".join(e or c for e, c in tokens), rule.replacement))
    return tuple(out)


def _apply(text: str, rules: tuple[_Rule, ...]) -> str:
    for pattern, replacement in rules:
        if not isinstance(pattern, str):
            text = pattern.sub(replacement, text)
        elif pattern in text:
            text = text.replace(pattern, replacement)
    return text


_PLACEHOLDERS = {".": "∯", "。": "&ᓰ&", "．": "&ᓱ&", "！": "&ᓳ&", "!": "&ᓴ&", "?": "&ᓷ&", "？": "&ᓸ&"}


def _replace_punctuation(match: re.Match[str], match_type: str | None = None) -> str:
    """pysbd.punctuation_replacer.replace_punctuation, whose 18 ``re.sub`` calls all have literal
    patterns and replacements, with ``str.replace`` in the same order."""
    text = match.group()
    for ch in "()[]-":
        text = text.replace(ch, "\\" + ch)
    for old, new in _PLACEHOLDERS.items():
        text = text.replace(old, new)
    if match_type != "single":
        text = text.replace("'", "&⎋&")
    for ch in "()[]-":
        text = text.replace("\\" + ch, ch)
    return text


# Non-ASCII characters that a case-insensitive ASCII letter matches (İ ı ſ K; İ is also the one
# whose lower() is longer), and the brace of pysbd's next-word pattern: see search_for_abbreviations.
_NOT_PLAIN = re.compile("[\u0130\u0131\u017f\u212a{]")


class _FastPysbd:
    """pysbd 0.3.4's English ``Processor.process`` (see the section comment above)."""

    def __init__(self) -> None:
        from pysbd.between_punctuation import BetweenPunctuation as BP
        from pysbd.exclamation_words import ExclamationWords
        from pysbd.lang.english import English as L
        from pysbd.lists_item_replacer import ListItemReplacer as LI

        c = re.compile
        self.list_replacer, self.alphabets = LI, (LI.LATIN_NUMERALS, LI.ROMAN_NUMERALS)
        self.li_alpha, self.li_alpha_pre = c(LI.ALPHABETICAL_LIST_WITH_PERIODS), c(r"\s[a-z]\.")
        self.li_numbered, self.li_numbered_pre = c(LI.NUMBERED_LIST_REGEX_1), c(r"\d\.[\s)]")
        self.li_alpha_parens = c(LI.ALPHABETICAL_LIST_WITH_PARENS)
        self.li_numbered_parens = c(LI.NUMBERED_LIST_PARENS_REGEX)
        self.possessive = c(L.PossessiveAbbreviationRule.pattern)  # needs ".'s"
        self.kg = c(L.KommanditgesellschaftRule.pattern)  # needs "KG"
        self.single_start, self.single_letter = (c(r.pattern) for r in L.SingleLetterAbbreviationRules.All)
        self.single_letter_pre = c(r"\s[A-Z]\.")
        self.abbreviations = abbrs = tuple(a.strip() for a in L.Abbreviation.ABBREVIATIONS)
        self.abbr_index = {a: [i for i, b in enumerate(abbrs) if a == b] for a in abbrs}
        self.dotted, longest = [i for i, a in enumerate(abbrs) if "." in a], max(map(len, abbrs))
        # on the reversed line: "." after a word of at most ``longest`` letters after a space or the start
        self.word_before_dot = c(rf"\.([A-Za-z]{{1,{longest}}})(?:\s|\Z)")
        self.prepositive = frozenset(L.Abbreviation.PREPOSITIVE_ABBREVIATIONS)
        self.number_abbr = frozenset(L.Abbreviation.NUMBER_ABBREVIATIONS)
        self.multi_period = c(L.MULTI_PERIOD_ABBREVIATION_REGEX, re.IGNORECASE)
        ampm = ("P∯M∯", "A∯M∯", "p∯m∯", "a∯m∯")  # each am/pm rule replaces the ∯ after these
        self.ampm = [(n, c(r.pattern), r.replacement) for n, r in zip(ampm, L.AmPmRules.All, strict=True)]
        starters = "|".join(rf"(?=\s{word}\s)" for word in L.AbbreviationReplacer.SENTENCE_STARTERS)
        self.abbr_boundary = c(rf"(U∯S|U\.S|U∯K|E∯U|E\.U|U∯S∯A|U\.S\.A|I|i.v|I.V)∯({starters})")
        self.digit, self.numbers = c(r"\d"), [c(rule.pattern) for rule in L.Numbers.All]
        self.number_letter_pre = c(r"\d\.\S")
        self.continuous = c(L.CONTINUOUS_PUNCTUATION_REGEX)
        self.numbered_reference = c(L.NUMBERED_REFERENCE_REGEX)
        self.numbered_reference_pre = c(r"[.∯][\d\[]")  # a period, then a digit or "["
        self.email = c(L.Abbreviation.WithMultiplePeriodsAndEmailRule.pattern)
        self.geo = c(L.GeoLocationRule.pattern)  # needs "°"
        self.file_format = c(L.FileFormatRule.pattern)  # (?<=\s)\.(?=(jpe?g|png|...)\s)
        self.file_format_pre = c(L.FileFormatRule.pattern.removeprefix(r"(?<=\s)"))
        self.parens_between_quotes = c(L.PARENS_BETWEEN_DOUBLE_QUOTES_REGEX)  # needs "("
        self.new_line = _rules(L.SingleNewLineRule)
        self.spaced_ellipsis = _rules(*L.EllipsisRules.All[:2])  # both need ". ."
        self.ellipsis, self.dot_space_dot = _rules(*L.EllipsisRules.All[2:]), c(r"\.\s\.")  # need "..."
        self.punctuations = frozenset(L.Punctuations)
        self.punctuation = c("[" + re.escape("".join(L.Punctuations)) + "]")
        self.exclamation_words = c(ExclamationWords.EXCLAMATION_REGEX)  # each has ! or ǃ
        self.leading_apostrophe, self.quote_space = c(BP.WORD_WITH_LEADING_APOSTROPHE), c(r"'\s")
        between = [BP.BETWEEN_SINGLE_QUOTES_REGEX, BP.BETWEEN_SINGLE_QUOTE_SLANTED_REGEX]
        between += [BP.BETWEEN_DOUBLE_QUOTES_REGEX_2, BP.BETWEEN_SQUARE_BRACKETS_REGEX_2]
        between += [BP.BETWEEN_PARENS_REGEX_2, BP.BETWEEN_QUOTE_ARROW_REGEX_2]
        between += [BP.BETWEEN_EM_DASHES_REGEX_2, BP.BETWEEN_QUOTE_SLANTED_REGEX_2]
        needs = ("'", "‘", '"', "[", "(", "«", "--", "“")  # in BetweenPunctuation's order
        self.between = [(n, c(pattern)) for n, pattern in zip(needs, between, strict=True)]
        self.double_punctuation = c(L.DoublePunctuationRules.DoublePunctuation)
        self.double_rules = _rules(*L.DoublePunctuationRules.All)
        self.question_rules = _rules(L.QuestionMarkInQuotationRule)  # needs "?"
        self.exclamation_rules = _rules(*L.ExclamationPointRules.All)  # need "!"
        self.roman_parens = c(LI.ROMAN_NUMERALS_IN_PARENTHESES)  # needs "("
        self.boundary = c(L.SENTENCE_BOUNDARY_REGEX)
        self.sub_symbols, self.symbol = _rules(*L.SubSymbolsRules.All), c("[∯♬♭ᓰᓱᓳᓴᓷᓸ☉☇☈☄✂⌬ȸȹ]")
        self.reinsert, self.reinsert_symbol = _rules(*L.ReinsertEllipsisRules.All), c("[ƪ♟♝☏∮]")
        self.alpha_only, self.single_quote = c(r"\A[a-zA-Z]*\Z"), _rules(L.SubSingleQuoteRule)
        self.quote_end = c(L.QUOTATION_AT_END_OF_SENTENCE_REGEX)
        self.quote_split = c(L.SPLIT_SPACE_QUOTATION_AT_END_OF_SENTENCE_REGEX)

    def process(self, text: str) -> list[str]:
        """Processor.process (but [] for "")."""
        text = self.list_items(text.replace("\n", "\r"))
        text = self.replace_abbreviations(text)
        digits = self.digit.search(text) is not None
        if digits and "." in text:  # Numbers.All: each needs a digit, a period and what follows
            pre = self.number_letter_pre.search(text)  # (substitutions of . by ∯ make none of it true)
            needs = (True, pre, "\r" in text, text[1:2] == ".", text[2:3] == ".")
            for pattern, needed in zip(self.numbers, needs, strict=True):
                text = pattern.sub("∯", text) if needed else text
        if "!!" in text or "??" in text or "!?" in text or "?!" in text:
            text = self.continuous.sub(lambda m: m.group().replace("!", "&ᓴ&").replace("?", "&ᓷ&"), text)
        if digits and self.numbered_reference_pre.search(text):
            text = self.numbered_reference.sub(r"∯\2\r\7", text)
        if "." in text:
            text = self.email.sub("\\1∮\\3", text)
        if "°" in text:
            text = self.geo.sub("∯", text)
        if self.file_format_pre.search(text):
            text = self.file_format.sub("∯", text)
        return self.split_into_segments(text)

    def list_items(self, text: str) -> str:
        """ListItemReplacer.add_line_break, run only if it can change the text: if the text holds
        its markers ♨ ☝, or if two of the list items its patterns find are neighbours."""
        alpha = self.li_alpha_pre.search(text) or (text[1:2] == "." and "a" <= text[0] <= "z")
        if (
            "♨" in text
            or "☝" in text
            or (alpha and self.list_changes(self.li_alpha.findall(text)))
            or (self.li_numbered_pre.search(text) and self.list_changes(self.li_numbered.findall(text), True))
            or (")" in text and self.list_changes(self.li_alpha_parens.findall(text)))
            or (")" in text and self.list_changes(self.li_numbered_parens.findall(text), True))
        ):
            return str(self.list_replacer(text).add_line_break())
        return text

    def list_changes(self, found: list[str], numbers: bool = False) -> bool:
        """Would ListItemReplacer.scan_lists (numbers) or iterate_alphabet_array (Latin, then Roman
        letters) replace anything? Only if two consecutive items are neighbours in the sequence
        (for numbers also 9 and 0; for letters also the last item and the first, either way)."""
        if numbers:
            n = [int(item) for item in found]
            return any(b == a + 1 or {a, b} == {0, 9} for a, b in pairwise(n))
        for alphabet in self.alphabets:
            k = [alphabet.index(item) for item in found if item in alphabet]
            if any(abs(a - b) == 1 for a, b in zip(k, k[1:] + k[:1], strict=True)):
                return True
        return False

    def replace_abbreviations(self, text: str) -> str:
        """AbbreviationReplacer.replace."""
        if ".'s" in text:
            text = self.possessive.sub("∯", text)
        if "KG" in text:
            text = self.kg.sub("∯", text)
        if text[1:2] == ".":  # "X." at the start
            text = self.single_start.sub("∯", text)
        if self.single_letter_pre.search(text):
            text = self.single_letter.sub("∯", text)
        text = "".join(self.search_for_abbreviations(line) for line in text.splitlines(True))
        if "." in text:
            text = self.multi_period.sub(lambda m: m.group().replace(".", "∯"), text)
        if "∯" in text:
            for needle, pattern, replacement in self.ampm:
                if needle in text:
                    text = pattern.sub(replacement, text)
            text = self.abbr_boundary.sub("\\1.", text)
        return text

    def search_for_abbreviations(self, text: str) -> str:
        """AbbreviationReplacer.search_for_abbreviations_in_string (with scan_for_replacements).

        For each abbreviation in the lower-cased line, in order, pysbd finds the matches ``key``
        of ``(?:^|\\s)abbr`` (ignoring case) and for each substitutes ``∯`` for the periods after
        `` key`` that precede what the abbreviation's kind allows (unless the next word is upper
        case, which its pattern ``(?<={abbr} ).`` sees only after a literal brace). That changes
        the line only if ``key + "."`` is in it, and never a second time for the same key (the
        substitutions only turn periods into ``∯``; a key holds ``∯`` only where ``u.s`` and the
        like have their wildcard ``.``, never after their last letter, the letter before the
        periods their substitutions replace): such keys are skipped. On a "plain" line (no brace,
        no character of ``_NOT_PLAIN``) an abbreviation without a period matches the letters whose
        ``lower()`` equals it, so it changes the line only where it is a whole word before a
        period, after a space or at the start (``word_before_dot`` finds these): only those and
        the abbreviations with a period are scanned.
        """
        lowered = text.lower()
        if _NOT_PLAIN.search(text) is None:
            found = self.word_before_dot.findall(text[::-1])
            todo = {i for word in found for i in self.abbr_index.get(word[::-1].lower(), ())}
            todo.update(i for i in self.dotted if self.abbreviations[i] in lowered)
            scan = [self.abbreviations[i] for i in sorted(todo)]
        else:
            scan = [abbr for abbr in self.abbreviations if abbr in lowered]
        for abbr in scan:
            find, next_word = _abbreviation_patterns(abbr)
            matches = find.findall(text)
            chars = next_word.findall(text) if matches and "{" in text else []
            done: set[str] = set()
            for ind, am in enumerate(matches):
                key = am.strip()
                if key + "." not in text or (not chars and key in done):
                    continue
                done.add(key)
                lower, char = key.lower(), chars[ind] if ind < len(chars) else ""
                if lower in self.prepositive:
                    text = _abbreviation_sub("prepositive", key).sub("∯", " " + text)[1:]
                elif not char.isupper():
                    kind = "number" if lower in self.number_abbr else "period"
                    text = _abbreviation_sub(kind, key).sub("∯", " " + text)[1:]
        return text

    def split_into_segments(self, text: str) -> list[str]:
        """Processor.split_into_segments (with check_for_punctuation)."""
        if "(" in text:
            text = self.parens_between_quotes.sub(
                lambda m: re.sub(r"(?<=\))\s", "\r", re.sub(r"\s(?=\()", "\r", m.group())), text
            )
        sents: list[str] = []
        for sent in filter(None, text.split("\r")):
            if "\n" in sent:
                sent = _apply(sent, self.new_line)
            if self.dot_space_dot.search(sent):
                sent = _apply(sent, self.spaced_ellipsis)
            if "..." in sent:
                sent = _apply(sent, self.ellipsis)
            sents.extend(self.process_text(sent) if self.punctuation.search(sent) else [sent])
        return [_apply(out, self.single_quote) for sent in sents for out in self.post_process(sent)]

    def post_process(self, txt: str) -> list[str]:
        """SubSymbolsRules, then Processor.post_process_segments, as a list without ''."""
        if self.symbol.search(txt):
            txt = _apply(txt, self.sub_symbols)
        if len(txt) > 2 and self.alpha_only.search(txt):
            return [txt]
        if self.reinsert_symbol.search(txt):
            txt = _apply(txt, self.reinsert)
        if self.quote_end.search(txt):
            return self.quote_split.split(txt)
        txt = txt.replace("\n", "").strip()
        return [txt] if txt else []

    def process_text(self, txt: str) -> list[str]:
        if txt[-1] not in self.punctuations:
            txt += "ȸ"
        if "!" in txt or "ǃ" in txt:
            txt = self.exclamation_words.sub(_replace_punctuation, txt)
        for needle, pattern in self.between:  # BetweenPunctuation.replace
            if needle not in txt:
                continue
            if needle != "'":
                txt = pattern.sub(_replace_punctuation, txt)
            elif not self.leading_apostrophe.search(txt) or self.quote_space.search(txt):
                txt = pattern.sub(lambda m: _replace_punctuation(m, "single"), txt)
        if "?" in txt or "!" in txt:
            if not self.double_punctuation.match(txt):
                txt = _apply(txt, self.double_rules)
            if "?" in txt:
                txt = _apply(txt, self.question_rules)
            if "!" in txt:
                txt = _apply(txt, self.exclamation_rules)
        if "(" in txt:
            txt = self.roman_parens.sub(r"&✂&\1&⌬&", txt)
        if txt.endswith(("&ᓴ&", "&ᓴ&\n")):
            txt = re.sub(r"&ᓴ&$", "!", txt)
        return [m.group() for m in self.boundary.finditer(txt)]


@cache
def _abbreviation_patterns(abbr: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The two patterns of AbbreviationReplacer.search_for_abbreviations_in_string."""
    next_word = r"(?<={" + str(re.escape(abbr)) + "} ).{1}"
    return re.compile(rf"(?:^|\s|\r|\n){abbr}", re.IGNORECASE), re.compile(next_word)


@lru_cache(maxsize=4096)
def _abbreviation_sub(kind: str, key: str) -> re.Pattern[str]:
    """The patterns of replace_prepositive_abbr, replace_pre_number_abbr and replace_period_of_abbr."""
    if kind == "prepositive":
        return re.compile(rf"(?<=\s{key})\.(?=(\s|:\d+))")
    if kind == "number":
        return re.compile(rf"(?<=\s{key})\.(?=(\s\d|\s+\())")
    return re.compile(rf"(?<=\s{re.escape(key)})\.(?=((\.|\:|-|\?|,)|(\s([a-z]|I\s|I'm|I'll|\d|\())))")

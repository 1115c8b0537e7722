"""Suggested bias-cue spans (pre-annotations) from lexicons and patterns kept in a rules file.

In: a rules file (``configs/cues.yaml``, found by ``annotate.starter``), the config's cue
labels, sentence texts. Out: ``suggest`` (spans) and ``prediction`` (a Label Studio prediction
to import with the task); ``annotate.quality.suggestions`` scores the rules against the human
cue spans.

The rules file (its header documents every key) has ``rules``, each with an ``id``, a cue
``label``, a ``kind`` and a ``comment``: a ``lexicon`` rule lists ``terms`` (matched ignoring
case, on word boundaries, one alternation per rule), a ``pattern`` rule gives a Python regular
expression, in which ``{{name}}`` stands for the entries of ``lists.name``, a group named
``span`` marks only part of the match and a match in which a group named ``veto`` took part is
dropped; its optional ``requires`` names words every match contains, so the rule is skipped on
sentences without them (lexicons get this from their terms). Adding a word or a name never
needs code.

``suggest`` keeps spans that do not overlap: when two overlap, the longer one wins, then the
rule listed first. Offsets are Python ``str`` indices (code points) into the text, like the
``start``/``end`` of the cue rows pulled from Label Studio.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from annotate.config import ProjectConfig, read_yaml
from annotate.errors import ConfigError, InputError
from annotate.starter import default_rules_path, suggestions_path

__all__ = [
    "Rule",
    "Rules",
    "Suggestion",
    "load_rules",
    "prediction",
    "suggest",
    "suggestion_rules",
]

Kind = Literal["lexicon", "pattern"]
KINDS: tuple[str, ...] = get_args(Kind)
#: ``rule`` (and for the overall row ``label``) of the total rows of ``suggestion_metrics``.
TOTAL = "all"
DEFAULT_CONFIDENCE = 0.5
FROM_NAME = "cues"
TO_NAME = "sentence"
CUES_FIELD = "cues"

_TOP_KEYS = ("lists", "rules")
_RULE_KEYS = ("id", "label", "kind", "comment", "terms", "pattern", "requires", "confidence")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_LIST_NAME = re.compile(r"[A-Za-z_]\w*")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# Han ideographs, kana: scripts without spaces between words, so no word boundaries there.
_CJK_CHAR = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Word boundaries of entries: plain \w (a class that excluded CJK would cost ~2 ms to compile at
# every use); so an English entry right next to a Chinese character does not match.
_LEFT = r"(?<!\w)"
_RIGHT = r"(?!\w)"
_HYPHEN = r"(?:[-‐‑]|\s+)?"  # a hyphen in an entry: hyphen, space or nothing
_APOSTROPHE = "['’]"
_STAR = r"\w*"
#: Gates compare words by their first this many characters when an entry ends in ``*``.
GATE_PREFIX = 5
_WORD_RUN = re.compile(r"\w+")
_ENTRY_WORD = re.compile(r"\w+(\*)?")
_NOT_VARIANT = re.compile(r"[^\s'’*-]+")

Loc = tuple[int | str, ...]


@dataclass(frozen=True)
class _Gate:
    """A cheap test, run before a rule's regex, that the rule may match a text at all.

    Each entry of a lexicon (or of a pattern's ``requires``) needs its words in the text:
    whole words, or for a word ending in ``*`` its first ``GATE_PREFIX`` characters (``short``
    holds such prefixes of fewer characters). Words joined by hyphens are not needed (a hyphen
    may match a space or nothing), except that an entry made only of them needs its first word
    or the whole run without hyphens. ``index`` maps one needed key of each entry to the sets
    of its other keys. Entries that start with a Chinese character or a symbol need that
    ``substring``. Gates only save time: a rule whose gate stays shut could not have matched.
    """

    index: Mapping[str, tuple[frozenset[str], ...]]
    short: tuple[str, ...]
    substrings: tuple[str, ...]

    def opens(self, low: str, words: set[str], keys: set[str]) -> bool:
        for key in self.index.keys() & keys:
            if any(others <= keys for others in self.index[key]):
                return True
        if self.short and any(word.startswith(self.short) for word in words):
            return True
        return any(sub in low for sub in self.substrings)


def _text_keys(low: str) -> tuple[set[str], set[str]]:
    """The words of casefolded text, and those words plus their ``GATE_PREFIX``-character prefixes."""
    words = set(_WORD_RUN.findall(low))
    return words, words.union([word[:GATE_PREFIX] for word in words])


def _entry_needs(low: str) -> list[list[tuple[str, bool]]]:
    """Alternative lists of ``(word, is_prefix)`` that a text must have for one casefolded
    entry (starting with a letter or digit) to match."""
    found = []
    for match in _ENTRY_WORD.finditer(low):
        start, end = match.span()
        hyphenated = low[start - 1 : start] == "-" or low[end : end + 1] == "-"
        found.append((match.group().rstrip("*"), match.group(1) is not None, hyphenated))
    free = [(word, star) for word, star, hyphenated in found if not hyphenated]
    if free:
        return [sorted(free, key=lambda item: (item[1], -len(item[0])))]
    first, star, _ = found[0]
    run = re.match(r"[\w-]+", low)
    assert run is not None
    return [[(first, star)], [(run.group().replace("-", ""), True)]]


def _gate(entries: Sequence[str]) -> _Gate | None:
    """The gate of lexicon-style ``entries``, or None when one of them cannot be gated."""
    index: dict[str, set[frozenset[str]]] = {}
    short: set[str] = set()
    substrings: set[str] = set()
    for entry in entries:
        low = entry.casefold()
        if not _bounded(low[0]) or _CJK_CHAR.search(low):
            lead = _NOT_VARIANT.match(low)
            if lead is None:
                return None
            substrings.add(lead.group())
            continue
        for needs in _entry_needs(low):
            keys = [
                word[:GATE_PREFIX] if prefix else word
                for word, prefix in needs
                if len(word) >= GATE_PREFIX or not prefix
            ]
            if not keys:  # only a short prefix: the first word is enough
                short.add(needs[0][0])
                continue
            index.setdefault(keys[0], set()).add(frozenset(keys[1:]))
    return _Gate(
        {key: tuple(sets) for key, sets in index.items()}, tuple(sorted(short)), tuple(sorted(substrings))
    )


@dataclass(frozen=True)
class Rule:
    """One suggestion rule; ``regex`` is compiled from ``terms`` or ``pattern`` (lists expanded).

    ``requires`` (pattern rules, optional) lists words of which every match contains one; the
    rule is skipped on texts without any, which is what keeps ``suggest`` fast.
    """

    id: str
    label: str
    kind: Kind
    comment: str
    regex: re.Pattern[str] = field(repr=False)
    confidence: float = DEFAULT_CONFIDENCE
    terms: tuple[str, ...] = ()
    pattern: str | None = None  # as written, before {{list}} expansion
    requires: tuple[str, ...] = ()  # as written
    gate: _Gate | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Rules:
    """The rules in file order (earlier wins ties) and ``version``: ``cues-`` + 12 hex digits of
    the SHA-256 of the file's content as canonical JSON, used as the predictions' model version."""

    rules: tuple[Rule, ...]
    version: str

    def labels(self) -> list[str]:
        """The cue labels the rules suggest, in order of first use."""
        return list(dict.fromkeys(rule.label for rule in self.rules))


@dataclass(frozen=True)
class Suggestion:
    """A suggested cue span: ``text == sentence[start:end]``; ``rule`` is the rule's id."""

    start: int
    end: int
    label: str
    rule: str
    text: str


# -- loading ------------------------------------------------------------------------------------


def _format_loc(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _read(path: Path) -> object:
    return read_yaml(path, "rules file")


def _unknown_key(key: object, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f", did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (allowed: {', '.join(allowed)})"


def _entry_problem(entry: object) -> str | None:
    if not isinstance(entry, str):
        return f"must be text, got {type(entry).__name__}"
    if not entry.strip():
        return "must not be empty"
    if entry != entry.strip():
        return "must not start or end with whitespace"
    if entry.startswith("*") or re.search(r"[\s*]\*", entry):
        return "'*' must follow a letter (weaponiz* matches weaponize, weaponizing, ...)"
    return None


def _entries(values: object, loc: Loc, problems: list[tuple[Loc, str]], what: str) -> list[str]:
    """Check a list of lexicon-style entries; returns the good ones."""
    if not isinstance(values, list) or not values:
        problems.append((loc, f"must be a non-empty list of {what}"))
        return []
    good: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(values):
        problem = _entry_problem(entry)
        if problem:
            problems.append(((*loc, index), problem))
            continue
        assert isinstance(entry, str)
        key = entry.casefold()
        if key in seen:
            problems.append(((*loc, index), f"duplicate entry {entry!r} (same as item {seen[key]})"))
            continue
        seen[key] = index
        good.append(entry)
    return good


def _atoms(entry: str, fold: bool) -> list[str]:
    """Regex pieces of one lexicon entry (see the rules file header for the syntax)."""
    atoms: list[str] = []
    for part in re.findall(r"\s+|.", entry):
        if part.isspace():
            atoms.append(r"\s+")
        elif part == "-":
            atoms.append(_HYPHEN)
        elif part in "'’":
            atoms.append(_APOSTROPHE)
        elif part == "*":
            atoms.append(_STAR)
        else:
            atoms.append(re.escape(part.lower() if fold else part))
    return atoms


def _bounded(char: str) -> bool:
    """Does an entry edge ``char`` need a word boundary (a letter or digit of a spaced script)?"""
    return bool(re.fullmatch(r"\w", char)) and not _CJK_CHAR.fullmatch(char)


class _Trie:
    __slots__ = ("children", "ends")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.ends: set[str] = set()  # "" (ends here) or _RIGHT (ends at a word boundary)

    def add(self, atoms: list[str], end: str) -> None:
        node = self
        for atom in atoms:
            node = node.children.setdefault(atom, _Trie())
        node.ends.add(end)

    def regex(self) -> str:
        alternatives = [atom + child.regex() for atom, child in self.children.items()]
        # Ends come after every longer continuation, so the longest entry wins at a position.
        if "" in self.ends:
            alternatives.append("")
        elif _RIGHT in self.ends:
            alternatives.append(_RIGHT)
        if len(alternatives) == 1:
            return alternatives[0]
        if alternatives[-1] == "":
            return f"(?:{'|'.join(alternatives[:-1])})?"
        return f"(?:{'|'.join(alternatives)})"


def _alternation(entries: Sequence[str], fold: bool) -> str:
    """One regex matching any of ``entries`` (a trie, so matching costs about one character test
    per position), with word boundaries at the entries' letter or digit edges."""
    bounded, free = _Trie(), _Trie()
    for entry in entries:
        core = entry.rstrip("*")
        right = _RIGHT if not entry.endswith("*") and _bounded(core[-1]) else ""
        (bounded if _bounded(entry[0]) else free).add(_atoms(entry, fold), right)
    parts = []
    if bounded.children:
        parts.append(f"{_LEFT}{bounded.regex()}")
    if free.children:
        parts.append(free.regex())
    return "(?:" + "|".join(parts) + ")"


def _cue_problem(label: object, cues: Sequence[str]) -> str | None:
    if not isinstance(label, str):
        return f"must be text (a cue label), got {type(label).__name__}"
    if label in cues:
        return None
    if not cues:
        return f"unknown cue {label!r}: the project config has no cues"
    close = difflib.get_close_matches(label, list(cues), n=1)
    hint = f", did you mean {close[0]!r}?" if close else ""
    return f"unknown cue {label!r}{hint} (the config's cues: {', '.join(cues)})"


def _compile_rule(
    index: int,
    raw: object,
    cues: Sequence[str],
    lists: Mapping[str, str],
    list_entries: Mapping[str, list[str]],
    ids: dict[str, int],
    problems: list[tuple[Loc, str]],
) -> Rule | None:
    loc: Loc = ("rules", index)
    if not isinstance(raw, dict):
        problems.append((loc, "must be a mapping with keys id, label, kind, comment and terms or pattern"))
        return None
    before = len(problems)
    for key in raw:
        if key not in _RULE_KEYS:
            problems.append(((*loc, str(key)), _unknown_key(key, _RULE_KEYS)))
    for key in ("id", "label", "kind", "comment"):
        if key not in raw:
            problems.append(((*loc, key), "required key is missing"))
    rule_id = raw.get("id")
    name = f"rule {rule_id!r}: " if isinstance(rule_id, str) else ""
    if "id" in raw:
        if not isinstance(rule_id, str) or not _ID.fullmatch(rule_id):
            problems.append(
                ((*loc, "id"), "must be lowercase letters, digits, '-' and '_' (e.g. vague-some-in)")
            )
        elif rule_id == TOTAL:
            problems.append(((*loc, "id"), f"{TOTAL!r} is reserved for the total rows of suggestions.csv"))
        elif rule_id in ids:
            problems.append(((*loc, "id"), f"duplicate rule id {rule_id!r} (same as rules[{ids[rule_id]}])"))
        else:
            ids[rule_id] = index
    if "label" in raw:
        problem = _cue_problem(raw["label"], cues)
        if problem:
            problems.append(((*loc, "label"), name + problem))
    comment = raw.get("comment")
    if "comment" in raw and (not isinstance(comment, str) or not comment.strip()):
        problems.append(((*loc, "comment"), name + "must say what the rule finds and why it is a cue"))
    confidence = raw.get("confidence", DEFAULT_CONFIDENCE)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        problems.append(((*loc, "confidence"), name + f"must be a number from 0 to 1, got {confidence!r}"))
    kind = raw.get("kind")
    regex: re.Pattern[str] | None = None
    terms: list[str] = []
    requires: list[str] = []
    gate: _Gate | None = None
    if "kind" in raw and kind not in KINDS:
        problems.append(((*loc, "kind"), name + f"must be one of {', '.join(KINDS)}, got {kind!r}"))
    elif kind == "lexicon":
        for key in ("pattern", "requires"):
            if key in raw:
                problems.append(((*loc, key), name + f"a lexicon rule has terms, not {key}"))
        if "terms" not in raw:
            problems.append(((*loc, "terms"), name + "required key is missing (a lexicon rule lists terms)"))
        else:
            terms = _entries(raw["terms"], (*loc, "terms"), problems, "words or phrases")
            if terms:
                regex = re.compile(_alternation(terms, fold=True), re.IGNORECASE)
                gate = _gate(terms)
    elif kind == "pattern":
        if "terms" in raw:
            problems.append(((*loc, "terms"), name + "a pattern rule has a pattern, not terms"))
        pattern = raw.get("pattern")
        if "pattern" not in raw:
            problems.append(
                ((*loc, "pattern"), name + "required key is missing (a pattern rule has a pattern)")
            )
        elif not isinstance(pattern, str) or not pattern.strip():
            problems.append(((*loc, "pattern"), name + "must be a regular expression (text)"))
        else:
            regex = _compile_pattern(pattern, lists, (*loc, "pattern"), name, problems)
        if "requires" in raw:
            requires = _requires(raw["requires"], list_entries, (*loc, "requires"), name, problems)
            gate = _gate(_expand_requires(requires, list_entries)) if requires else None
    if len(problems) > before or regex is None:
        return None
    assert isinstance(rule_id, str) and isinstance(raw["label"], str) and isinstance(comment, str)
    return Rule(
        id=rule_id,
        label=raw["label"],
        kind="lexicon" if kind == "lexicon" else "pattern",
        comment=" ".join(comment.split()),
        regex=regex,
        confidence=float(confidence),
        terms=tuple(terms),
        pattern=raw.get("pattern"),
        requires=tuple(requires),
        gate=gate,
    )


def _requires(
    values: object,
    list_entries: Mapping[str, list[str]],
    loc: Loc,
    name: str,
    problems: list[tuple[Loc, str]],
) -> list[str]:
    before = len(problems)
    entries = _entries(values, loc, problems, "words (or {{list}} names) every match contains")
    for index, entry in enumerate(entries):
        found = _PLACEHOLDER.fullmatch(entry)
        if found and found.group(1) not in list_entries:
            known = ", ".join(sorted(list_entries)) or "none"
            problems.append(((*loc, index), name + f"unknown list {found.group(1)} (lists: {known})"))
    return entries if len(problems) == before else []


def _expand_requires(entries: list[str], list_entries: Mapping[str, list[str]]) -> list[str]:
    out: list[str] = []
    for entry in entries:
        found = _PLACEHOLDER.fullmatch(entry)
        out.extend(list_entries[found.group(1)] if found else [entry])
    return out


def _compile_pattern(
    pattern: str, lists: Mapping[str, str], loc: Loc, name: str, problems: list[tuple[Loc, str]]
) -> re.Pattern[str] | None:
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(pattern)} - set(lists))
    if unknown:
        known = ", ".join(sorted(lists)) or "none"
        problems.append((loc, name + f"unknown list(s) {', '.join(unknown)} (lists: {known})"))
        return None
    expanded = _PLACEHOLDER.sub(lambda m: lists[m.group(1)], pattern)
    try:
        regex = re.compile(expanded)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        after = " (after expanding {{lists}})" if expanded != pattern else ""
        problems.append((loc, name + f"does not compile: {exc.msg}{where}{after}"))
        return None
    extra = sorted(set(regex.groupindex) - {"span", "veto"})
    if extra:
        problems.append((loc, name + f"unknown named group(s) {', '.join(extra)} (allowed: span, veto)"))
        return None
    return regex


def _version(data: object) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "cues-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def load_rules(path: str | Path, cues: Sequence[str], only_known: bool = False) -> Rules:
    """Read, validate and compile the rules file at ``path`` for a config with these ``cues``.

    Raises ConfigError listing every problem, each as ``<key path>: <what is wrong>``: an
    unreadable file or YAML, unknown or missing keys, a label that is not one of ``cues``, a
    pattern that does not compile (naming the rule), duplicate ids or terms, unknown lists.
    With ``only_known`` (used for the packaged rules), rules for labels the config does not
    have are left out instead of reported.
    """
    path = Path(path)
    if isinstance(cues, str) or not all(isinstance(c, str) for c in cues):
        raise InputError(f"cues must be the config's list of cue labels, got {cues!r}")
    if only_known:
        raw = _read(path)
        labels = (
            {str(r.get("label")) for r in (raw.get("rules") or []) if isinstance(r, dict)}
            if isinstance(raw, dict)
            else set()
        )
        every = load_rules(path, sorted(labels | set(cues)))
        kept = tuple(rule for rule in every.rules if rule.label in cues)
        if len(kept) == len(every.rules):
            return every
        suffix = hashlib.sha256("\x1f".join(sorted(cues)).encode()).hexdigest()[:6]
        return Rules(rules=kept, version=f"{every.version}-{suffix}")
    data = _read(path)
    source = str(path)
    if not isinstance(data, dict):
        got = "an empty document" if data is None else type(data).__name__
        raise ConfigError(f"{source}: the top level must be a mapping with keys lists and rules, got {got}")
    problems: list[tuple[Loc, str]] = []
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(((str(key),), _unknown_key(key, _TOP_KEYS)))
    lists: dict[str, str] = {}
    list_entries: dict[str, list[str]] = {}
    raw_lists = data.get("lists", {})
    if not isinstance(raw_lists, dict):
        problems.append((("lists",), "must be a mapping of list names to lists of entries"))
    else:
        for list_name, values in raw_lists.items():
            if not isinstance(list_name, str) or not _LIST_NAME.fullmatch(list_name):
                problems.append((("lists", str(list_name)), "a list name is letters, digits and '_'"))
                continue
            entries = _entries(values, ("lists", list_name), problems, "entries")
            if entries:
                lists[list_name] = _alternation(entries, fold=False)
                list_entries[list_name] = entries
    raw_rules = data.get("rules")
    rules: list[Rule] = []
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append((("rules",), "must be a non-empty list of rules"))
    else:
        ids: dict[str, int] = {}
        for index, raw in enumerate(raw_rules):
            rule = _compile_rule(index, raw, cues, lists, list_entries, ids, problems)
            if rule is not None:
                rules.append(rule)
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(f"{_format_loc(loc)}: {msg}" for loc, msg in problems))
    return Rules(rules=tuple(rules), version=_version(data))


# -- suggesting ---------------------------------------------------------------------------------


def suggest(text: str, rules: Rules) -> list[Suggestion]:
    """The rules' cue spans in ``text``, sorted by start, never overlapping.

    Each rule proposes its matches (the ``span`` group when the pattern has one; matches where a
    ``veto`` group took part are dropped; surrounding whitespace is trimmed). Overlapping spans
    are resolved greedily: the longer span first, then the rule listed first, then the earlier.
    """
    if not isinstance(text, str):
        raise InputError(f"suggest needs the sentence text, got {type(text).__name__}")
    candidates: list[tuple[int, int, int, int]] = []  # (-length, rule order, start, end)
    low = ""
    words: set[str] = set()
    keys: set[str] | None = None
    for order, rule in enumerate(rules.rules):
        if rule.gate is not None:
            if keys is None:
                low = text.casefold()
                words, keys = _text_keys(low)
            if not rule.gate.opens(low, words, keys):
                continue
        groups = rule.regex.groupindex
        has_span, has_veto = "span" in groups, "veto" in groups
        for match in rule.regex.finditer(text):
            if has_veto and match.start("veto") >= 0:
                continue
            start, end = match.span("span") if has_span else match.span()
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start >= 0 and end > start:
                candidates.append((start - end, order, start, end))
    if not candidates:
        return []
    candidates.sort()
    kept: list[tuple[int, int, int]] = []
    for _, order, start, end in candidates:
        if all(end <= s or start >= e for s, e, _ in kept):
            kept.append((start, end, order))
    kept.sort()
    return [
        Suggestion(start, end, rules.rules[order].label, rules.rules[order].id, text[start:end])
        for start, end, order in kept
    ]


def _region_id(text: str, suggestion: Suggestion) -> str:
    key = f"{suggestion.rule}\x1f{suggestion.label}\x1f{suggestion.start}\x1f{suggestion.end}\x1f{text}"
    return "sg" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def prediction(text: str, rules: Rules) -> dict[str, Any] | None:
    """The suggestions for ``text`` as a Label Studio prediction, or None when there are none.

    ``model_version`` is ``rules.version``; ``score`` is the mean confidence of the rules that
    found the spans (each region carries its rule's confidence as ``score`` too). Region ids
    are short and stable: the same text and rules always give the same ids.
    """
    found = suggest(text, rules)
    if not found:
        return None
    confidence = {rule.id: rule.confidence for rule in rules.rules}
    result = [
        {
            "id": _region_id(text, s),
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "origin": "prediction",
            "score": confidence[s.rule],
            "value": {"start": s.start, "end": s.end, "text": s.text, "labels": [s.label]},
        }
        for s in found
    ]
    score = round(sum(confidence[s.rule] for s in found) / len(found), 4)
    return {"model_version": rules.version, "score": score, "result": result}


def suggestion_rules(config: ProjectConfig, config_path: Path | None = None) -> Rules | None:
    """The compiled cue rules for the config, or None when suggestions are off.

    The packaged rules are cut down to the config's cues; a rules file the config names
    must fit its cues exactly (ConfigError otherwise).
    """
    path = suggestions_path(config, config_path)
    if path is None:
        return None
    packaged = path == default_rules_path()
    return load_rules(path, config.cues, only_known=packaged)

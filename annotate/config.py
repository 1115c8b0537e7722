"""The project config: a YAML file validated into a `ProjectConfig`.

`load_config(path)` and `parse_config(data)` raise one `ConfigError` listing every
problem, each as ``<key path>: <what is wrong>``, joined by ``"; "`` on one line.

Label rules. Every label, target labels included: not empty, no leading or
trailing whitespace, no control, invisible or line-break characters (they cannot
be typed, compared or written to XML 1.0 reliably), no ``$`` (Label Studio
replaces ``$name`` in a ``<Choice>``, ``<Label>`` or ``<Header>`` value with task
data), at most 100 characters, unique within its list ignoring case. Stance
labels, sentence types and cues must also have no comma: Label Studio splits the
label lists of ``whenChoiceValue``/``whenLabelValue`` on commas, so such a label
could never be referred to there. Target labels are only shown, never matched,
so commas are fine in them. Quotes and ``& < >`` are fine everywhere.

``stance_level`` (optional, ``nominal``, ``ordinal`` or ``interval``, default ``nominal``) is
the level of measurement Krippendorff's alpha uses for the stance fields. ``ordinal`` treats
``stance_labels`` as an ordered scale in the order listed (e.g. ``[Against, Neutral,
Favor]``), so a Favor/Neutral disagreement counts less than Favor/Against; ``interval``
treats them as equally spaced points of that scale (e.g. a 1-5 rating). The sentence type
is always nominal. Only alpha uses the level; kappa, AC1 and percent agreement are unweighted.

What annotators see and how they work (all optional):

- ``guidelines``: a Markdown file shown as the project's instructions (before the first task
  and on demand), relative to the config file. Left out (or ``true``): ``guidelines.md``
  next to the config file if there is one, else the packaged guidelines of the sample scheme
  when the config uses that scheme (same targets, stance labels, sentence types and cues),
  else none. ``false`` (or null): no instructions.
- ``blind``: article metadata hidden from annotators, any of ``outlet``, ``country``,
  ``author``, ``published``, ``url`` (default ``[outlet, country, author]``; ``[]`` shows
  everything). Hidden fields are kept in the task's ``meta``, which neither the labeling view
  nor the Data Manager shows, and still reach ``sentences.parquet``.
- ``suggestions``: a cue-rules YAML file (see annotate.ingest.cues) whose matches are imported as
  Label Studio predictions and pre-fill the cue spans, relative to the config file. Left out
  (or ``true``): the packaged rules when the config has cues. ``false`` (or null): none.
- ``show_paragraph`` (default false): also offer the sentence's whole paragraph, in a panel
  that opens with a click.
- Every answer (targets × stance labels + sentence types + cues) gets its own single-key
  hotkey, so there may be at most 25 of them.
- ``skip_queue``: what happens to a sentence an annotator skips (Label Studio's setting):
  ``requeue_for_others`` (default) — it goes back to the common queue for the other
  annotators and the skip does not count toward ``overlap``; ``requeue_for_me`` — it comes
  back to the same annotator after their other sentences; ``ignore`` — the skip counts as one
  of the sentence's ``overlap`` answers and nobody is served it again for it.
- ``order``: the order Label Studio serves sentences in: ``article`` (default; each article
  from its first sentence on, Label Studio's "Sequential sampling"), ``random`` ("Uniform
  sampling") or ``uncertainty`` ("Uncertainty sampling": the sentences whose suggestion from
  ``annotate learn`` has the lowest score first; reading order is lost, the context sentences
  are still shown).
- ``suggest`` (default ``[cues, stance, type]``): what ``annotate learn`` pre-fills: the cue
  spans of the rules, the model's stance per target, the model's fact/opinion choice.
- ``suggest_control`` (default 0.1): the share of the tasks ``annotate learn`` suggests on that
  get no pre-filled choice (seeded, at random; the model's guess is recorded locally), so that
  ``annotate summarize`` can measure whether the suggestions pull the answers toward the model
  (``anchoring.csv``). 0 turns the check off.
- ``audit`` (default 0, none): the share of the pushed sentences drawn, at random, into the
  audit sample that ``annotate estimate`` needs (a uniformly random sample labelled like the
  rest; see annotate.ingest.audit). ``annotate push --audit`` overrides it. The audit tasks
  are imported first, in random order, so annotators label them first; ``audit_seed``
  (default 0) draws another sample. ``audit_by`` (``outlet`` or ``country``) with ``audit_min``
  raises the share of a stratum with too few sentences, so that each gets about ``audit_min``
  audit sentences (each sentence's probability is recorded and weighted by estimates).
- ``model``: the features of the classifier ``annotate learn`` trains: ``tfidf`` (default; word
  and character n-grams) or ``tfidf+embedding`` (the n-grams beside a static sentence embedding
  that ships on PyPI; about 3 points more accurate on news sentences, needs
  ``pip install 'annotate[embed]'``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from annotate.errors import ConfigError

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
TARGET_ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
MAX_NAME_LENGTH = 64
MAX_TARGET_ID_LENGTH = 40
MAX_LABEL_LENGTH = 100
MAX_TITLE_LENGTH = 200
StanceLevel = Literal["nominal", "ordinal", "interval"]
STANCE_LEVELS: tuple[str, ...] = get_args(StanceLevel)
BlindField = Literal["outlet", "country", "author", "published", "url"]
BLIND_FIELDS: tuple[str, ...] = get_args(BlindField)
DEFAULT_BLIND: tuple[str, ...] = ("outlet", "country", "author")
SkipQueue = Literal["requeue_for_others", "requeue_for_me", "ignore"]
Order = Literal["article", "random", "uncertainty"]
Suggestion = Literal["cues", "stance", "type"]
Model = Literal["tfidf", "tfidf+embedding"]
AuditStratum = Literal["outlet", "country"]
AUDIT_STRATA: tuple[str, ...] = get_args(AuditStratum)
#: ``model`` values: the features of ``annotate learn``'s classifier (annotate.model.classifier).
MODELS: tuple[str, ...] = get_args(Model)
SUGGESTIONS: tuple[str, ...] = get_args(Suggestion)


def _every_suggestion() -> list[Suggestion]:
    return ["cues", "stance", "type"]


ORDERS: tuple[str, ...] = get_args(Order)
#: ``order`` values as Label Studio's project ``sampling`` spells them.
LABEL_STUDIO_SAMPLING = {
    "article": "Sequential sampling",
    "random": "Uniform sampling",
    "uncertainty": "Uncertainty sampling",
}
SKIP_QUEUES: tuple[str, ...] = get_args(SkipQueue)
#: ``skip_queue`` values as Label Studio spells them.
LABEL_STUDIO_SKIP_QUEUE = {
    "requeue_for_others": "REQUEUE_FOR_OTHERS",
    "requeue_for_me": "REQUEUE_FOR_ME",
    "ignore": "IGNORE_SKIPPED",
}
GUIDELINES_FILE = "guidelines.md"
#: Single keys free for answers (``len(annotate.studio.interface.HOTKEYS)``): every answer gets its own.
ANSWER_KEYS = 25
OVERLAP_RANGE = (1, 20)
CONTEXT_RANGE = (0, 5)

# Cc control, Cf format (zero-width and direction marks), Cs/Co/Cn surrogates,
# private use and unassigned, Zl/Zp line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# pydantic error type for problems found by our list validators; ctx["problems"]
# holds (sub-location, message) pairs so each is reported at its own key path.
_PROBLEMS = "config_problems"
_LABEL_LISTS = ("stance_labels", "sentence_types", "cues")

Loc = tuple[int | str, ...]


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("config_value", message)


def _text_problem(value: str, max_length: int = MAX_LABEL_LENGTH, dollar: bool = False) -> str | None:
    """Why ``value`` is unusable as shown text, or None. ``dollar``: allow ``$``."""
    if not value:
        return "must not be empty"
    if value != value.strip():
        return "must not start or end with whitespace"
    for char in value:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return f"must not contain control or invisible characters (found U+{ord(char):04X})"
    if not dollar and "$" in value:
        return "must not contain '$' (Label Studio reads $name as a task data field)"
    if len(value) > max_length:
        return f"must be at most {max_length} characters (has {len(value)})"
    return None


def _check_target_label(value: str) -> str:
    problem = _text_problem(value)
    if problem:
        raise _problem(problem)
    return value


def _check_choice_label(value: str) -> str:
    problem = _text_problem(value)
    if problem is None and "," in value:
        problem = "must not contain ',' (Label Studio splits lists of label values on commas)"
    if problem:
        raise _problem(problem)
    return value


TargetLabel = Annotated[str, AfterValidator(_check_target_label)]
ChoiceLabel = Annotated[str, AfterValidator(_check_choice_label)]


def _duplicates(items: Iterable[tuple[int, object]], what: str, suffix: Loc = ()) -> list[tuple[Loc, str]]:
    """A problem for every text in ``(index, value)`` pairs that repeats an earlier one, ignoring case."""
    seen: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for index, value in items:
        if not isinstance(value, str):
            continue
        key = value.casefold()
        if key in seen:
            problems.append(((index, *suffix), f"duplicate {what} {value!r} (same as item {seen[key]})"))
        else:
            seen[key] = index
    return problems


def _raise(problems: list[tuple[Loc, str]]) -> None:
    if problems:
        summary = "; ".join(message for _, message in problems)
        raise PydanticCustomError(_PROBLEMS, "{summary}", {"summary": summary, "problems": problems})


class Target(BaseModel):
    """One thing whose stance is tagged: ``id`` names the field ``stance_<id>``, ``label`` is shown."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str
    label: TargetLabel

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not TARGET_ID_PATTERN.fullmatch(value):
            raise _problem("must be lowercase letters, digits and '_', starting with a letter (e.g. china)")
        if len(value) > MAX_TARGET_ID_LENGTH:
            raise _problem(f"must be at most {MAX_TARGET_ID_LENGTH} characters")
        return value


class ProjectConfig(BaseModel):
    """A validated project config; see configs/stance.yaml for what each key means.

    ``stance_level`` (``nominal`` | ``ordinal`` | ``interval``, default ``nominal``) is the
    level of measurement of Krippendorff's alpha for the stance fields; ``ordinal`` reads
    ``stance_labels`` as a scale in the order listed, ``interval`` as equally spaced points.
    ``levels()`` maps every choice field to its level (``sentence_type`` is always nominal).

    ``gold`` names a file of gold sentences with expected labels (see annotate.studio.gold),
    relative to the config file. An annotator whose gold accuracy is below
    ``gold_threshold`` (a share, default 0.7) on at least ``gold_min_items`` gold answers
    (default 3) is flagged.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str
    title: str | None = None
    targets: list[Target] = Field(min_length=1)
    stance_labels: list[ChoiceLabel] = Field(min_length=2)
    sentence_types: list[ChoiceLabel] = []
    cues: list[ChoiceLabel] = []
    overlap: int = 3
    context: int = 1
    stance_level: StanceLevel = "nominal"
    gold: str | None = None
    gold_threshold: float = 0.7
    gold_min_items: int = 3
    guidelines: str | bool = True
    blind: list[str] = Field(default_factory=lambda: list(DEFAULT_BLIND))
    suggestions: str | bool = True
    show_paragraph: bool = False
    skip_queue: SkipQueue = "requeue_for_others"
    order: Order = "article"
    suggest_control: float = Field(default=0.1, ge=0.0, lt=1.0)
    audit: float = Field(default=0.0, ge=0.0, le=1.0)
    audit_seed: int = Field(default=0, ge=0)
    audit_by: AuditStratum | None = None
    audit_min: int = Field(default=0, ge=0)
    suggest: list[Suggestion] = Field(default_factory=lambda: _every_suggestion())
    model: Model = "tfidf"

    @field_validator("guidelines", "suggestions", mode="before")
    @classmethod
    def _path_or_switch(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip():
            return value
        what = "a Markdown file" if info.field_name == "guidelines" else "a cue-rules YAML file"
        raise _problem(
            f"must be {what} (relative to the config file), true for the default or false for none,"
            f" got {_describe(value)}"
        )

    @field_validator("blind", "suggest", mode="before")
    @classmethod
    def _known_items(cls, value: object, info: ValidationInfo) -> object:
        allowed, noun = (BLIND_FIELDS, "field") if info.field_name == "blind" else (SUGGESTIONS, "suggestion")
        if value is None:
            return []
        if not isinstance(value, list):
            raise _problem(f"must be a list of {', '.join(allowed)} (or []), got {_describe(value)}")
        problems: list[tuple[Loc, str]] = [
            ((i,), f"must be one of {', '.join(allowed)}, got {_describe(item)}")
            for i, item in enumerate(value)
            if item not in allowed
        ]
        problems += _duplicates(enumerate(value), noun)
        _raise(problems)
        return value

    @field_validator("skip_queue", "order", "model", "audit_by", mode="before")
    @classmethod
    def _known_choice(cls, value: object, info: ValidationInfo) -> object:
        allowed = {"skip_queue": SKIP_QUEUES, "order": ORDERS, "model": MODELS, "audit_by": AUDIT_STRATA}[
            str(info.field_name)
        ]
        if value is None and info.field_name == "audit_by":
            return value
        if value not in allowed:
            raise _problem(f"must be one of {', '.join(allowed)}, got {_describe(value)}")
        return value

    @field_validator("gold")
    @classmethod
    def _gold_is_path(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise _problem("must be a file path (relative to the config file) or left out")
        return value

    @field_validator("gold_threshold")
    @classmethod
    def _threshold_is_share(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise _problem(f"must be between 0 and 1, got {value}")
        return value

    @field_validator("gold_min_items")
    @classmethod
    def _min_items_positive(cls, value: int) -> int:
        if value < 1:
            raise _problem(f"must be at least 1, got {value}")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str) -> str:
        if not NAME_PATTERN.fullmatch(value):
            raise _problem(
                "must be lowercase letters, digits and '-', starting with a letter or digit"
                " (e.g. china-us-ai)"
            )
        if len(value) > MAX_NAME_LENGTH:
            raise _problem(f"must be at most {MAX_NAME_LENGTH} characters")
        return value

    @field_validator("title")
    @classmethod
    def _title_is_text(cls, value: str | None) -> str | None:
        if value is not None:
            problem = _text_problem(value, MAX_TITLE_LENGTH, dollar=True)
            if not value:
                problem = "must not be empty (leave the key out to use the name)"
            if problem:
                raise _problem(problem)
        return value

    @field_validator("sentence_types", "cues", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("targets")
    @classmethod
    def _targets_unique(cls, value: list[Target]) -> list[Target]:
        ids = _duplicates(enumerate(t.id for t in value), "target id", ("id",))
        labels = _duplicates(enumerate(t.label for t in value), "target label", ("label",))
        _raise(ids + labels)
        return value

    @field_validator(*_LABEL_LISTS)
    @classmethod
    def _labels_unique(cls, value: list[str]) -> list[str]:
        _raise(_duplicates(enumerate(value), "label"))
        return value

    @field_validator("stance_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        if value not in STANCE_LEVELS:
            raise _problem(f"must be one of {', '.join(STANCE_LEVELS)}, got {_describe(value)}")
        return value

    @field_validator("overlap", "context")
    @classmethod
    def _in_range(cls, value: int, info: ValidationInfo) -> int:
        low, high = OVERLAP_RANGE if info.field_name == "overlap" else CONTEXT_RANGE
        if not low <= value <= high:
            raise _problem(f"must be between {low} and {high}, got {value}")
        return value

    def choice_fields(self) -> dict[str, list[str]]:
        """``{"stance_<id>": stance labels, ..., "sentence_type": types}``; the last only if any."""
        fields = {f"stance_{t.id}": list(self.stance_labels) for t in self.targets}
        if self.sentence_types:
            fields["sentence_type"] = list(self.sentence_types)
        return fields

    def levels(self) -> dict[str, str]:
        """Krippendorff's alpha level of each choice field, in ``choice_fields()`` order:
        ``stance_level`` for every ``stance_<id>``, ``nominal`` for ``sentence_type``."""
        return {
            field: self.stance_level if field.startswith("stance_") else "nominal"
            for field in self.choice_fields()
        }

    def targets_by_id(self) -> dict[str, str]:
        """``{target id: target label}`` in config order."""
        return {t.id: t.label for t in self.targets}

    @model_validator(mode="after")
    def _answers_fit_the_keys(self) -> ProjectConfig:
        answers = len(self.targets) * len(self.stance_labels) + len(self.sentence_types) + len(self.cues)
        if answers > ANSWER_KEYS:
            _raise(
                [
                    (
                        ("targets",),
                        f"{len(self.targets)} targets × {len(self.stance_labels)} stance labels"
                        f" + {len(self.sentence_types)} sentence types + {len(self.cues)} cues"
                        f" = {answers} answers, but only {ANSWER_KEYS} single keys are free for"
                        " hotkeys; use fewer targets, labels or cues",
                    )
                ]
            )
        return self

    def suggested_fields(self) -> list[str]:
        """The choice fields ``annotate learn`` pre-fills, by ``suggest``."""
        fields = [f"stance_{t.id}" for t in self.targets] if "stance" in self.suggest else []
        return fields + (["sentence_type"] if "type" in self.suggest and self.sentence_types else [])

    def label_studio_sampling(self) -> str:
        """``order`` as Label Studio's project ``sampling`` setting."""
        return LABEL_STUDIO_SAMPLING[self.order]

    def label_studio_skip_queue(self) -> str:
        """``skip_queue`` as Label Studio's project setting (``REQUEUE_FOR_OTHERS``, ...)."""
        return LABEL_STUDIO_SKIP_QUEUE[self.skip_queue]

    def display_title(self) -> str:
        """The title, or the name when there is none."""
        return self.title or self.name

    def sha256(self) -> str:
        """Hex SHA-256 of the config as canonical JSON (sorted keys, no spaces, UTF-8)."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _format_loc(loc: Iterable[int | str]) -> str:
    """``("targets", 1, "id")`` -> ``targets[1].id``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _unknown_key_message(key: object, allowed: list[str]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f", did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (allowed: {', '.join(allowed)})"


def _messages(error: Any) -> Iterator[tuple[Loc, str]]:
    """(location, message) pairs for one pydantic error dict."""
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == _PROBLEMS:
        for sub, message in ctx["problems"]:
            yield loc + tuple(sub), message
        return
    if kind == "config_value":
        message = error["msg"]
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "extra_forbidden":
        model = Target if len(loc) == 3 and loc[0] == "targets" else ProjectConfig
        message = _unknown_key_message(loc[-1], list(model.model_fields))
    elif kind == "string_type":
        message = f"must be text, got {_describe(value)}"
        if isinstance(value, bool):
            message += " (YAML reads yes/no/on/off unquoted as booleans: quote it)"
    elif kind == "list_type":
        message = f"must be a list, got {_describe(value)}"
    elif kind == "bool_type":
        message = f"must be true or false, got {_describe(value)}"
    elif kind == "int_type":
        message = f"must be a whole number, got {_describe(value)}"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"must be a mapping with keys id and label, got {_describe(value)}"
    elif kind == "too_short":
        need = ctx.get("min_length")
        what = "target" if loc == ("targets",) else "label"
        message = f"must have at least {need} {what}{'s' if need != 1 else ''}"
    else:
        message = str(error["msg"])
    yield loc, message


def parse_config(data: object, source: str = "<config>") -> ProjectConfig:
    """Validate already-parsed YAML/JSON ``data``; ``source`` prefixes the error message.

    Raises ConfigError listing every problem found.
    """
    if not isinstance(data, dict):
        got = "an empty document" if data is None else _describe(data)
        raise ConfigError(
            f"{source}: the top level must be a mapping of keys (name, targets, stance_labels, ...),"
            f" got {got}"
        )
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        found = [pair for error in exc.errors() for pair in _messages(error)]
    # pydantic skips a list's own validator when an item fails, so look for
    # duplicates in the raw data too, to report them in the same message.
    found += [pair for pair in _raw_duplicates(data) if pair not in found]
    found.sort(key=_problem_order)
    raise ConfigError(f"{source}: " + "; ".join(f"{_format_loc(loc)}: {msg}" for loc, msg in found))


def _raw_duplicates(data: dict[Any, Any]) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    targets = data.get("targets")
    if isinstance(targets, list):
        for key in ("id", "label"):
            items = [(i, t.get(key)) for i, t in enumerate(targets) if isinstance(t, dict)]
            found = _duplicates(items, f"target {key}", (key,))
            problems += [(("targets", *loc), message) for loc, message in found]
    for field in _LABEL_LISTS:
        values = data.get(field)
        if isinstance(values, list):
            found = _duplicates(enumerate(values), "label")
            problems += [((field, *loc), message) for loc, message in found]
    return problems


def _problem_order(problem: tuple[Loc, str]) -> tuple[int, int]:
    """Config key order first (unknown keys last), then item index."""
    loc = problem[0]
    keys = list(ProjectConfig.model_fields)
    first = keys.index(loc[0]) if loc and loc[0] in keys else len(keys)
    index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else -1
    return first, index


# libyaml's parser when PyYAML was built with it (about 10× faster on the cue rules)
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool | None):
                continue  # the base class reports unhashable keys
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path, what: str = "config file") -> object:
    """Plain data from the YAML file at ``path`` (duplicate keys refused).

    Raises ConfigError naming the file, for a missing or unreadable file or a YAML syntax
    error (with its line and column); ``what`` names the kind of file in the messages.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{source}: {what} not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a directory, not a {what}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: plain data only
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what_went_wrong = ": ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise ConfigError(f"{source}: YAML syntax error{where}: {what_went_wrong}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: YAML syntax error: {exc}") from None


def load_config(path: str | Path) -> ProjectConfig:
    """Read and validate the YAML project config at ``path``.

    Raises ConfigError for a missing or unreadable file, a YAML syntax error (with
    its line and column), a top level that is not a mapping, or invalid values.
    """
    return parse_config(read_yaml(path), str(path))

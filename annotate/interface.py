"""The Label Studio labeling interface (XML) for a project config.

Layout: headline and position in the article (small), the neighbouring sentences
(smaller, grey), the sentence (prominent), then one single-choice row per target,
the sentence-type row, the cue labels for marking spans, and a comment box.

Hotkeys: every choice and cue label gets its own single key, handed out in
`HOTKEYS` order to the stance questions (target by target), then the sentence
types, then the cues. `RESERVED_KEYS` are single keys Label Studio's editor binds
itself (see its ``keymap.json``): ``u`` unselects a region; ``h o e m k w p r v b
[ ]`` pick image tools. ``r`` and ``h`` are also skipped by the editor's own
automatic hotkeys. All other built-in shortcuts use a modifier (Ctrl+Enter
submits, Ctrl+Space skips, ...) or a non-character key (Enter, Escape,
Backspace, Delete, arrows), so they cannot collide with the keys used here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from annotate.config import ProjectConfig
from annotate.errors import ConfigError

RESERVED_KEYS = frozenset("uhoemkwprvb[]")
# Digits, then the letters in the order of Label Studio's own automatic hotkeys
# ("1234567890qwetasdfgzxcvbyiopjklnm") without the reserved ones.
HOTKEYS: tuple[str, ...] = tuple("1234567890qtasdfgzxcyijln")

_META_STYLE = "margin: 0 0 2px 0; font-size: 13px; font-weight: normal; color: #666"
_CONTEXT_STYLE = "color: #888; font-size: 0.9em; line-height: 1.4; margin: 4px 0"
_SENTENCE_STYLE = (
    "font-size: 1.3em; line-height: 1.5; font-weight: 500; margin: 6px 0;"
    " padding: 8px 12px; border-left: 4px solid #1f6feb; background: #f6f8fa"
)
_QUESTION_STYLE = "margin: 10px 0 0 0; font-size: 15px"
_BLOCK_STYLE = "margin-top: 6px"


def assign_hotkeys(config: ProjectConfig) -> dict[tuple[str, str], str]:
    """``{(field, label): key}`` for every stance choice, sentence type and cue, in that order.

    Raises ConfigError when the config has more choices and cues than `HOTKEYS`.
    """
    wanted = [(field, label) for field, labels in config.choice_fields().items() for label in labels]
    wanted += [("cues", cue) for cue in config.cues]
    if len(wanted) > len(HOTKEYS):
        raise ConfigError(
            f"the interface needs {len(wanted)} hotkeys (targets x stance labels + sentence types"
            f" + cues) but only {len(HOTKEYS)} single keys are free ({''.join(HOTKEYS)});"
            " use fewer targets, labels or cues"
        )
    return dict(zip(wanted, HOTKEYS, strict=False))


def build_label_config(config: ProjectConfig) -> str:
    """The labeling-interface XML for ``config``, as a string.

    Control names: ``stance_<target id>``, ``sentence_type`` (only if the config has
    sentence types), ``cues`` (only if it has cues) and ``comment``, all on the
    ``<Text name="sentence">``. Raises ConfigError when hotkeys run out.
    """
    keys = assign_hotkeys(config)
    root = ET.Element("View")

    meta = ET.SubElement(root, "View", style=_BLOCK_STYLE)
    ET.SubElement(meta, "Header", value="$title", size="5", style=_META_STYLE)
    position = "Sentence $sentence_number of $sentence_count"
    ET.SubElement(meta, "Header", value=position, size="5", style=_META_STYLE)

    if config.context:
        _text(root, "context_before", _CONTEXT_STYLE)
    _text(root, "sentence", _SENTENCE_STYLE, value="$text")
    if config.context:
        _text(root, "context_after", _CONTEXT_STYLE)

    for target in config.targets:
        name = f"stance_{target.id}"
        block = ET.SubElement(root, "View", style=_BLOCK_STYLE)
        ET.SubElement(block, "Header", value=target.label, size="5", style=_QUESTION_STYLE)
        message = f"Choose the sentence's stance toward: {target.label}"
        _choices(block, name, config.stance_labels, keys, message)

    if config.sentence_types:
        block = ET.SubElement(root, "View", style=_BLOCK_STYLE)
        ET.SubElement(block, "Header", value="Sentence type", size="5", style=_QUESTION_STYLE)
        _choices(block, "sentence_type", config.sentence_types, keys, "Choose the sentence type")

    if config.cues:
        block = ET.SubElement(root, "View", style=_BLOCK_STYLE)
        hint = "Bias cues: pick a cue, then select its words in the sentence"
        ET.SubElement(block, "Header", value=hint, size="5", style=_QUESTION_STYLE)
        labels = ET.SubElement(block, "Labels", name="cues", toName="sentence")
        for cue in config.cues:
            ET.SubElement(labels, "Label", value=cue, hotkey=keys[("cues", cue)])

    block = ET.SubElement(root, "View", style=_BLOCK_STYLE)
    ET.SubElement(block, "Header", value="Comment (optional)", size="5", style=_QUESTION_STYLE)
    ET.SubElement(
        block,
        "TextArea",
        name="comment",
        toName="sentence",
        editable="true",
        maxSubmissions="1",
        rows="2",
        placeholder="Anything unclear or noteworthy about this sentence",
    )

    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode")


def build_review_config(config: ProjectConfig) -> str:
    """The adjudication interface: the sentence in context, every annotator's answers, final choices.

    Task data adds ``answers`` (one line per annotator and field) and ``reason``
    (why the sentence was sent to review). Choices are not required: the
    adjudicator decides the fields that need a decision; the others keep their
    aggregated label. Same control names and hotkeys as the labeling interface.
    """
    keys = assign_hotkeys(config)
    root = ET.Element("View")
    meta = ET.SubElement(root, "View", style=_BLOCK_STYLE)
    ET.SubElement(meta, "Header", value="$title", size="5", style=_META_STYLE)
    ET.SubElement(
        meta, "Header", value="Sentence $sentence_number of $sentence_count", size="5", style=_META_STYLE
    )
    _text(root, "context_before", _CONTEXT_STYLE)
    _text(root, "sentence", _SENTENCE_STYLE, value="$text")
    _text(root, "context_after", _CONTEXT_STYLE)
    block = ET.SubElement(root, "View", style=_BLOCK_STYLE)
    ET.SubElement(block, "Header", value="Annotators' answers", size="5", style=_QUESTION_STYLE)
    _text(block, "answers", _META_STYLE)
    _text(block, "reason", _CONTEXT_STYLE)
    for target in config.targets:
        name = f"stance_{target.id}"
        block = ET.SubElement(root, "View", style=_BLOCK_STYLE)
        ET.SubElement(block, "Header", value=f"Final: {target.label}", size="5", style=_QUESTION_STYLE)
        _choices(block, name, config.stance_labels, keys, None)
    if config.sentence_types:
        block = ET.SubElement(root, "View", style=_BLOCK_STYLE)
        ET.SubElement(block, "Header", value="Final: sentence type", size="5", style=_QUESTION_STYLE)
        _choices(block, "sentence_type", config.sentence_types, keys, None)
    block = ET.SubElement(root, "View", style=_BLOCK_STYLE)
    ET.SubElement(
        block, "TextArea", name="comment", toName="sentence", editable="true", maxSubmissions="1", rows="2"
    )
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode")


def _text(parent: ET.Element, name: str, style: str, value: str | None = None) -> None:
    box = ET.SubElement(parent, "View", style=style)
    ET.SubElement(box, "Text", name=name, value=value or f"${name}")


def _choices(
    parent: ET.Element,
    name: str,
    labels: list[str],
    keys: dict[tuple[str, str], str],
    required_message: str | None,
) -> None:
    """A single-choice row; required when ``required_message`` is given."""
    attrs = {"name": name, "toName": "sentence", "choice": "single-radio", "showInline": "true"}
    if required_message is not None:
        attrs.update(required="true", requiredMessage=required_message)
    choices = ET.SubElement(parent, "Choices", attrs)
    for label in labels:
        ET.SubElement(choices, "Choice", value=label, hotkey=keys[(name, label)])


def label_config_fields(xml: str) -> dict[str, list[str]]:
    """``{control name: [its Choice/Label values]}`` of a labeling-interface XML, in order.

    A control is any tag with both ``name`` and ``toName`` (a TextArea maps to ``[]``).
    Raises ConfigError when ``xml`` does not parse.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ConfigError(f"label config is not valid XML: {exc}") from None
    return {
        str(element.get("name")): [str(child.get("value")) for child in element if "value" in child.attrib]
        for element in root.iter()
        if "name" in element.attrib and "toName" in element.attrib
    }

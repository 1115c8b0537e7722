"""The Label Studio labeling interface (XML) for a project config, and the annotators' guidelines.

Layout, top to bottom: the headline and the position in the article ("Sentence 7 of 29",
small, grey), the previous sentence(s) (smaller, grey), the sentence (large, on a tinted
background), the next sentence(s), optionally the whole paragraph (a panel that opens with a
click), then one row per target with its stance choices, the sentence-type row, the cue
labels for marking spans, a comment box and a one-line keyboard reminder.

Hotkeys: every choice and cue label gets its own single key, handed out in `HOTKEYS` order to
the stance questions (target by target), then the sentence types, then the cues. The key is
shown next to its answer as a key cap: the choice's ``html`` attribute renders the label
followed by ``<kbd>key</kbd>`` (the stored value stays the plain label) and a ``<Style>``
hides Label Studio's own small ``[key]`` superscript; cue labels show their key as Label
Studio draws it. `RESERVED_KEYS` are single keys Label Studio's editor binds itself (see its
``keymap.json``): ``u`` unselects a region; ``h o e m k w p r v b [ ]`` pick image tools.
``r`` and ``h`` are also skipped by the editor's own automatic hotkeys. All other built-in
shortcuts use a modifier (Ctrl+Enter submits, Ctrl+Space skips, ...) or a non-character key
(Enter, Escape, Backspace, Delete, arrows), so they cannot collide with the keys used here.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

from markdown_it import MarkdownIt

from annotate.config import ProjectConfig
from annotate.errors import ConfigError

RESERVED_KEYS = frozenset("uhoemkwprvb[]")
# Digits, then the letters in the order of Label Studio's own automatic hotkeys
# ("1234567890qwetasdfgzxcvbyiopjklnm") without the reserved ones.
HOTKEYS: tuple[str, ...] = tuple("1234567890qtasdfgzxcyijln")
#: Label Studio's own shortcuts annotators need (its keymap; macOS uses Cmd for Ctrl).
EDITOR_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+Enter (⌘+Enter on a Mac)", "submit the sentence"),
    ("Ctrl+Space (Alt+Enter on a Mac)", "skip the sentence"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"),
    ("Alt+.", "select the next cue span"),
    ("Backspace", "delete the selected cue span"),
    ("u or Escape", "unselect the selected cue span"),
)
KEY_CLASS = "annotate-key"
#: Highlight colours of the cue labels, in order (distinct, light enough to read black text on).
CUE_COLOURS: tuple[str, ...] = ("#f4a261", "#8ecae6", "#b5e48c", "#cdb4db", "#ffd166", "#f28482", "#90dbf4")

_META_STYLE = "margin: 0; font-size: 13px; font-weight: normal; color: #6a737d"
_HEADLINE_STYLE = "margin: 0; font-size: 13px; font-weight: 600; color: #444d56"
_META_ROW_STYLE = "display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; margin-bottom: 4px"
_CONTEXT_STYLE = "color: #6a737d; font-size: 0.9em; line-height: 1.45; margin: 2px 0"
_SENTENCE_STYLE = (
    "font-size: 1.3em; line-height: 1.5; font-weight: 500; margin: 6px 0;"
    " padding: 8px 12px; border-left: 4px solid #1f6feb; background: #f6f8fa"
)
_QUESTION_STYLE = "margin: 0; font-size: 15px; font-weight: 600"
_ROW_STYLE = (
    "display: grid; grid-template-columns: minmax(180px, 300px) 1fr; gap: 4px 16px;"
    " align-items: center; padding: 6px 0; border-top: 1px solid #eaecef"
)
_BLOCK_STYLE = "margin-top: 8px; padding-top: 6px; border-top: 1px solid #eaecef"
_HINT_STYLE = "margin: 4px 0 0 0; font-size: 12px; font-weight: normal; color: #6a737d"
# No '>', '&' or quotes: Label Studio runs <Style> text through an HTML sanitiser, which would
# escape them inside the <style> element.
_CSS = (
    ".lsf-choice .lsf-hint { display: none; }"
    f" kbd.{KEY_CLASS} {{ display: inline-block; min-width: 18px; margin-left: 6px; padding: 0 4px;"
    " font: 600 11px/16px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #444d56;"
    " text-align: center; background: #fafbfc; border: 1px solid #c6cbd1; border-bottom-width: 2px;"
    " border-radius: 4px; vertical-align: 1px; }"
    " .lsf-choices, .lsf-labels { margin: 2px 0; }"
    " .annotate-meta :empty { display: none; }"
)
GUIDELINES_CLASS = "annotate-guidelines"
# Label Studio's page resets list and heading styles; again no '>' (its sanitiser escapes it).
_G = f".{GUIDELINES_CLASS}"
_GUIDELINES_CSS = " ".join(
    [
        f"{_G} {{ font-size: 14px; line-height: 1.5; }}",
        f"{_G} h1 {{ font-size: 21px; margin: 0 0 8px; }}",
        f"{_G} h2 {{ font-size: 17px; margin: 18px 0 6px; }}",
        f"{_G} h3 {{ font-size: 15px; margin: 14px 0 4px; }}",
        f"{_G} p {{ margin: 0 0 8px; }}",
        f"{_G} ul, {_G} ol {{ margin: 0 0 8px; padding-left: 22px; }}",
        f"{_G} ul {{ list-style: disc; }}",
        f"{_G} ol {{ list-style: decimal; }}",
        f"{_G} li {{ margin: 2px 0; }}",
        f"{_G} table {{ border-collapse: collapse; margin: 6px 0 12px; }}",
        f"{_G} th, {_G} td {{ border: 1px solid #d0d7de; padding: 3px 8px; text-align: left;"
        " vertical-align: top; }",
        f"{_G} code {{ font-family: ui-monospace, Menlo, Consolas, monospace; background: #f6f8fa;"
        " border: 1px solid #d0d7de; border-radius: 4px; padding: 0 4px; }",
    ]
)
KEYBOARD_HINT = (
    "Keyboard: press an answer's key · cue key, then select the words · Ctrl+Enter submit"
    " · Ctrl+Space skip · Ctrl+Z undo · Alt+. next cue span, Backspace deletes it"
)


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
    ``<Text name="sentence">``. Task data used: ``title``, ``sentence_number``,
    ``sentence_count``, ``text``, ``context_before``/``context_after`` (when ``context`` > 0)
    and ``paragraph_text`` (when ``show_paragraph``). Raises ConfigError when hotkeys run out.
    """
    keys = assign_hotkeys(config)
    root = ET.Element("View")
    ET.SubElement(root, "Style").text = _CSS
    _meta(root)

    if config.context:
        _text(root, "context_before", _CONTEXT_STYLE)
    _text(root, "sentence", _SENTENCE_STYLE, value="$text", showLabels="true")
    if config.context:
        _text(root, "context_after", _CONTEXT_STYLE)
    if config.show_paragraph:
        collapse = ET.SubElement(root, "Collapse", bordered="false")
        panel = ET.SubElement(collapse, "Panel", value="Whole paragraph")
        _text(panel, "paragraph", _CONTEXT_STYLE, value="$paragraph_text")

    questions = ET.SubElement(root, "View", style="margin-top: 10px")
    for target in config.targets:
        name = f"stance_{target.id}"
        row = ET.SubElement(questions, "View", style=_ROW_STYLE)
        ET.SubElement(row, "Header", value=target.label, size="5", style=_QUESTION_STYLE)
        message = f"Choose the sentence's stance toward: {target.label}"
        _choices(row, name, config.stance_labels, keys, message)

    if config.sentence_types:
        row = ET.SubElement(questions, "View", style=_ROW_STYLE)
        ET.SubElement(row, "Header", value="Sentence type", size="5", style=_QUESTION_STYLE)
        _choices(row, "sentence_type", config.sentence_types, keys, "Choose the sentence type")

    if config.cues:
        row = ET.SubElement(questions, "View", style=_ROW_STYLE)
        cues = ET.SubElement(row, "View")
        ET.SubElement(cues, "Header", value="Bias cues", size="5", style=_QUESTION_STYLE)
        hint = "press a cue's key, then select its words"
        ET.SubElement(cues, "Header", value=hint, size="5", style=_HINT_STYLE)
        labels = ET.SubElement(row, "Labels", name="cues", toName="sentence")
        for i, cue in enumerate(config.cues):
            colour = CUE_COLOURS[i % len(CUE_COLOURS)]
            ET.SubElement(labels, "Label", value=cue, hotkey=keys[("cues", cue)], background=colour)

    block = ET.SubElement(root, "View", style=_BLOCK_STYLE)
    ET.SubElement(block, "Header", value="Comment (optional)", size="5", style=_HINT_STYLE)
    ET.SubElement(
        block,
        "TextArea",
        name="comment",
        toName="sentence",
        editable="true",
        maxSubmissions="1",
        rows="1",
        placeholder="Anything unclear or noteworthy about this sentence",
    )
    ET.SubElement(root, "Header", value=KEYBOARD_HINT, size="5", style=_HINT_STYLE)

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
    ET.SubElement(root, "Style").text = _CSS
    _meta(root)
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


def _meta(parent: ET.Element) -> None:
    """The headline and the position in the article, on one line."""
    row = ET.SubElement(parent, "View", className="annotate-meta", style=_META_ROW_STYLE)
    ET.SubElement(row, "Header", value="$title", size="5", style=_HEADLINE_STYLE)
    position = "Sentence $sentence_number of $sentence_count"
    ET.SubElement(row, "Header", value=position, size="5", style=_META_STYLE)


def _text(parent: ET.Element, name: str, style: str, value: str | None = None, **attrs: str) -> None:
    box = ET.SubElement(parent, "View", style=style)
    ET.SubElement(box, "Text", {"name": name, "value": value or f"${name}", **attrs})


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
        key = keys[(name, label)]
        ET.SubElement(choices, "Choice", value=label, hotkey=key, html=choice_html(label, key))


def choice_html(label: str, key: str) -> str:
    """What a choice shows: its label (as text) followed by its key as a key cap."""
    return f'{html.escape(label)}<kbd class="{KEY_CLASS}">{html.escape(key)}</kbd>'


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


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")
_ALIGN_STYLE = re.compile(r' style="text-align:(?:left|right|center)"')


def _md_text(text: str) -> str:
    """``text`` as literal Markdown inline text (every punctuation mark escaped)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def keyboard_markdown(config: ProjectConfig) -> str:
    """A Markdown section listing every question's answers with their keys, and the editor's keys."""
    keys = assign_hotkeys(config)
    questions = [(f"stance_{t.id}", t.label) for t in config.targets]
    if config.sentence_types:
        questions.append(("sentence_type", "Sentence type"))
    if config.cues:
        questions.append(("cues", "Bias cues (then select the words)"))
    lines = ["## Keys in this project", "", "| Question | Answers and their keys |", "| --- | --- |"]
    for field, title in questions:
        labels = config.cues if field == "cues" else config.choice_fields()[field]
        answers = " · ".join(f"{_md_text(label)} `{keys[(field, label)]}`" for label in labels)
        lines.append(f"| {_md_text(title)} | {answers} |")
    lines += ["", "| Key | Does |", "| --- | --- |"]
    lines += [f"| {_md_text(key)} | {_md_text(does)} |" for key, does in EDITOR_KEYS]
    return "\n".join(lines) + "\n"


def guidelines_html(markdown: str, config: ProjectConfig) -> str:
    """Guidelines written in Markdown as the HTML of Label Studio's project instructions.

    Sanitised: raw HTML in the Markdown is shown as text, never passed through (Label Studio
    inserts the instructions into the page as HTML), and links with ``javascript:``,
    ``vbscript:``, ``file:`` or ``data:`` URLs are not made links. The project's keys
    (`keyboard_markdown`) are appended, so the list always matches the interface.
    """
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    body = md.render(markdown.rstrip() + "\n\n" + keyboard_markdown(config))
    # Label Studio strips style attributes from instructions; leave them out so a re-push sees no change
    body = _ALIGN_STYLE.sub("", body).strip()
    return f'<style>{_GUIDELINES_CSS}</style><div class="{GUIDELINES_CLASS}">\n{body}\n</div>'

"""The Label Studio labeling interface built from a config, and its hotkeys."""

from __future__ import annotations

import html
import importlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from annotate.config import ANSWER_KEYS, ProjectConfig, Target, load_config, parse_config
from annotate.errors import ConfigError
from annotate.studio.interface import (
    HOTKEYS,
    KEY_CLASS,
    RESERVED_KEYS,
    assign_hotkeys,
    build_label_config,
    build_review_config,
    choice_html,
    guidelines_html,
    keyboard_markdown,
    label_config_fields,
)

SAMPLE = Path(__file__).resolve().parents[1] / "configs" / "stance.yaml"
TRICKY = "A & B <C> \"quoted\" 'x'"


@pytest.fixture(scope="module")
def sample() -> ProjectConfig:
    return load_config(SAMPLE)


def small(**changes: Any) -> ProjectConfig:
    data: dict[str, Any] = {
        "name": "t",
        "targets": [{"id": "ab", "label": TRICKY}],
        "stance_labels": ["Favor", "Against"],
        "sentence_types": ["Fact", "Opinion"],
        "cues": ["Loaded language"],
    }
    data.update(changes)
    return parse_config(data)


def controls(xml: str) -> dict[str, ET.Element]:
    return {e.attrib["name"]: e for e in ET.fromstring(xml).iter() if "toName" in e.attrib}


def test_xml_parses_with_the_design_names(sample: ProjectConfig) -> None:
    xml = build_label_config(sample)
    root = ET.fromstring(xml)
    assert root.tag == "View"
    texts = {e.attrib["name"]: e.attrib["value"] for e in root.iter("Text")}
    assert texts == {
        "context_before": "$context_before",
        "sentence": "$text",
        "context_after": "$context_after",
    }
    found = controls(xml)
    assert list(found) == [
        "stance_china",
        "stance_us",
        "stance_cooperation",
        "sentence_type",
        "cues",
        "comment",
    ]
    assert {e.attrib["toName"] for e in found.values()} == {"sentence"}
    for name in ("stance_china", "stance_us", "stance_cooperation", "sentence_type"):
        assert found[name].tag == "Choices"
        assert found[name].attrib["choice"] == "single-radio"
        assert found[name].attrib["showInline"] == "true"
    assert found["cues"].tag == "Labels"
    assert [e.tag for e in found["cues"]] == ["Label"] * 4
    assert found["comment"].tag == "TextArea"
    assert found["comment"].attrib["editable"] == "true"


def test_fields_round_trip(sample: ProjectConfig) -> None:
    fields = label_config_fields(build_label_config(sample))
    assert fields == {**sample.choice_fields(), "cues": sample.cues, "comment": []}


def test_headers_show_title_position_and_target_labels(sample: ProjectConfig) -> None:
    headers = [e.attrib["value"] for e in ET.fromstring(build_label_config(sample)).iter("Header")]
    assert headers[:2] == ["$title", "Sentence $sentence_number of $sentence_count"]
    for label in sample.targets_by_id().values():
        assert label in headers


def test_special_characters_are_escaped_and_round_trip() -> None:
    xml = build_label_config(small())
    assert "A &amp; B &lt;C&gt; &quot;quoted&quot; 'x'" in xml
    headers = [e.attrib["value"] for e in ET.fromstring(xml).iter("Header")]
    assert TRICKY in headers


def test_empty_sentence_types_and_cues_leave_their_blocks_out() -> None:
    xml = build_label_config(small(sentence_types=[], cues=[]))
    assert list(label_config_fields(xml)) == ["stance_ab", "comment"]
    assert "Labels" not in {e.tag for e in ET.fromstring(xml).iter()}
    assert "Sentence type" not in xml


def test_no_context_leaves_the_context_out() -> None:
    names = [e.attrib["name"] for e in ET.fromstring(build_label_config(small(context=0))).iter("Text")]
    assert names == ["sentence"]


def test_sample_hotkeys(sample: ProjectConfig) -> None:
    keys = assign_hotkeys(sample)
    assert [keys[("stance_china", s)] for s in sample.stance_labels] == ["1", "2", "3", "4"]
    assert [keys[("stance_us", s)] for s in sample.stance_labels] == ["5", "6", "7", "8"]
    assert [keys[("stance_cooperation", s)] for s in sample.stance_labels] == ["9", "0", "q", "t"]
    assert [keys[("sentence_type", s)] for s in sample.sentence_types] == ["a", "s"]
    assert [keys[("cues", c)] for c in sample.cues] == ["d", "f", "g", "z"]


def test_xml_carries_the_assigned_hotkeys(sample: ProjectConfig) -> None:
    keys = assign_hotkeys(sample)
    in_xml = {
        (control.attrib["name"], item.attrib["value"]): item.attrib["hotkey"]
        for control in controls(build_label_config(sample)).values()
        for item in control
    }
    assert in_xml == keys


def test_key_pool_avoids_label_studio_shortcuts() -> None:
    assert len(set(HOTKEYS)) == len(HOTKEYS)
    assert all(len(k) == 1 and (k.isdigit() or k.islower()) for k in HOTKEYS)
    assert not RESERVED_KEYS & set(HOTKEYS)
    assert "u" in RESERVED_KEYS  # region:unselect in the editor's keymap


def test_too_many_choices_is_a_config_error() -> None:
    targets = [{"id": f"t{i}", "label": f"T{i}"} for i in range(len(HOTKEYS))]
    # refused when the config is read, so no valid config can run out of keys ...
    with pytest.raises(ConfigError, match=r"targets: 25 targets .* = 53 answers, but only 25 single keys"):
        small(targets=targets)
    # ... and by the interface for a config built around the validation
    many = [Target(id=f"t{i}", label=f"T{i}") for i in range(len(HOTKEYS))]
    config = ProjectConfig.model_construct(**{**small().__dict__, "targets": many})
    with pytest.raises(ConfigError, match="hotkeys"):
        assign_hotkeys(config)
    with pytest.raises(ConfigError, match="hotkeys"):
        build_label_config(config)


def test_the_config_knows_how_many_keys_there_are() -> None:
    assert len(HOTKEYS) == ANSWER_KEYS


def test_label_config_fields_rejects_bad_xml() -> None:
    with pytest.raises(ConfigError, match="not valid XML"):
        label_config_fields("<View><Choices></View>")


# Labels: printable, with XML-special characters, no comma or '$', no outer spaces.
label_text = st.text(alphabet="abcXYZ é–&<>\"'()", min_size=1, max_size=12).filter(lambda s: s == s.strip())


def labels(min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(label_text, min_size=min_size, max_size=max_size, unique_by=str.casefold)


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=8, unique=True)
    )
    target_labels = draw(st.lists(label_text, min_size=len(ids), max_size=len(ids), unique_by=str.casefold))
    data = {
        "name": "p",
        "targets": [{"id": i, "label": label} for i, label in zip(ids, target_labels, strict=True)],
        "stance_labels": draw(labels(2, 6)),
        "sentence_types": draw(labels(0, 4)),
        "cues": draw(labels(0, 8)),
        "context": draw(st.integers(0, 5)),
        "show_paragraph": draw(st.booleans()),
    }
    return data


@settings(max_examples=200, deadline=None)
@given(configs())
def test_hotkeys_never_collide(data: dict[str, Any]) -> None:
    needed = (
        len(data["targets"]) * len(data["stance_labels"]) + len(data["sentence_types"]) + len(data["cues"])
    )
    event("too many for the keys" if needed > len(HOTKEYS) else "fits")
    if needed > len(HOTKEYS):
        with pytest.raises(ConfigError, match="single keys"):
            parse_config(data)
        return
    config = parse_config(data)  # every valid config ...
    keys = assign_hotkeys(config)  # ... gets a key for every answer, all different
    assert len(keys) == needed
    assert len(set(keys.values())) == needed
    assert not set(keys.values()) & RESERVED_KEYS
    xml = build_label_config(config)
    expected = dict(config.choice_fields())
    if config.cues:
        expected["cues"] = config.cues
    assert label_config_fields(xml) == {**expected, "comment": []}
    headers = {e.attrib["value"] for e in ET.fromstring(xml).iter("Header")}
    assert set(config.targets_by_id().values()) <= headers
    # every choice shows its label and, next to it, its key; the stored value stays the label
    for choice in ET.fromstring(xml).iter("Choice"):
        assert shown_text(choice.attrib["html"]) == choice.attrib["value"] + choice.attrib["hotkey"]
        assert choice.attrib["html"].endswith(f'<kbd class="{KEY_CLASS}">{choice.attrib["hotkey"]}</kbd>')


def test_label_studio_sdk_accepts_the_interface(sample: ProjectConfig) -> None:
    label_interface = importlib.import_module("label_studio_sdk.label_interface")
    for config in (sample, small(), small(sentence_types=[], cues=[], context=0)):
        interface = label_interface.LabelInterface(build_label_config(config))
        interface.validate()
        assert {c.name for c in interface.controls} == set(label_config_fields(build_label_config(config)))


def test_label_studio_sdk_accepts_answers_with_every_label(sample: ProjectConfig) -> None:
    label_interface = importlib.import_module("label_studio_sdk.label_interface")
    interface = label_interface.LabelInterface(build_label_config(sample))
    text = "Officials hailed the historic deal."
    result: list[dict[str, Any]] = []
    for field, values in sample.choice_fields().items():
        for value in values:
            result.append(
                {"from_name": field, "to_name": "sentence", "type": "choices", "value": {"choices": [value]}}
            )
    for cue in sample.cues:
        span = {"start": 0, "end": 9, "text": text[:9], "labels": [cue]}
        result.append({"from_name": "cues", "to_name": "sentence", "type": "labels", "value": span})
    result.append(
        {"from_name": "comment", "to_name": "sentence", "type": "textarea", "value": {"text": ["ok"]}}
    )
    assert interface.validate_prediction({"result": result}, return_errors=True) == []
    wrong = [{**result[0], "value": {"choices": ["Maybe"]}}]
    assert interface.validate_prediction({"result": wrong}, return_errors=True) != []


def test_label_studio_server_validator_accepts_the_interface(sample: ProjectConfig) -> None:
    label_config = pytest.importorskip("label_studio.core.label_config")
    xml = build_label_config(sample)
    label_config.validate_label_config(xml)
    assert label_config.extract_data_types(xml) == {
        "context_before": "Text",
        "text": "Text",
        "context_after": "Text",
    }


def shown_text(markup: str) -> str:
    """The text a browser shows for a choice's ``html``."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_every_answer_shows_its_key_as_a_key_cap(sample: ProjectConfig) -> None:
    root = ET.fromstring(build_label_config(sample))
    keys = assign_hotkeys(sample)
    choices = {(c.attrib["value"], c.attrib["hotkey"]): c.attrib["html"] for c in root.iter("Choice")}
    assert choices[("Favor", "1")] == f'Favor<kbd class="{KEY_CLASS}">1</kbd>'
    assert len(choices) == len(keys) - len(sample.cues)
    # Label Studio's own "[1]" superscript is hidden, the key cap styled; the CSS has no
    # characters Label Studio's sanitiser would escape inside <style>
    [style] = [e.text or "" for e in root.iter("Style")]
    assert ".lsf-choice .lsf-hint { display: none; }" in style and f"kbd.{KEY_CLASS}" in style
    assert not set(style) & set("<>&\"'")
    # cue labels show their key themselves, each in its own colour
    labels = list(root.iter("Label"))
    assert [(e.attrib["value"], e.attrib["hotkey"]) for e in labels] == [
        (c, keys[("cues", c)]) for c in sample.cues
    ]
    assert len({e.attrib["background"] for e in labels}) == len(labels)


def test_choice_html_escapes_the_label() -> None:
    assert (
        choice_html(TRICKY, "q")
        == f'A &amp; B &lt;C&gt; &quot;quoted&quot; &#x27;x&#x27;<kbd class="{KEY_CLASS}">q</kbd>'
    )
    assert shown_text(choice_html(TRICKY, "q")) == TRICKY + "q"


def test_layout_order_and_secondary_context(sample: ProjectConfig) -> None:
    root = ET.fromstring(build_label_config(sample))
    order = [
        e.attrib.get("name") or e.attrib.get("value")
        for e in root.iter()
        if e.tag in ("Text", "Choices", "Labels", "TextArea")
    ]
    assert order == [
        "context_before",
        "sentence",
        "context_after",
        "stance_china",
        "stance_us",
        "stance_cooperation",
        "sentence_type",
        "cues",
        "comment",
    ]
    sentence = next(e for e in root.iter("Text") if e.attrib["name"] == "sentence")
    assert sentence.attrib.get("showLabels") == "true"  # a suggested span shows its cue label
    headers = [e.attrib["value"] for e in root.iter("Header")]
    assert any("Ctrl+Enter" in h for h in headers)


def test_show_paragraph_adds_a_collapsed_paragraph_panel() -> None:
    assert "paragraph_text" not in build_label_config(small())
    root = ET.fromstring(build_label_config(small(show_paragraph=True)))
    [panel] = root.iter("Panel")
    assert panel.attrib["value"] == "Whole paragraph"
    assert [e.attrib["value"] for e in panel.iter("Text")] == ["$paragraph_text"]
    assert "open" not in next(root.iter("Collapse")).attrib


def test_review_interface_shows_keys_too(sample: ProjectConfig) -> None:
    root = ET.fromstring(build_review_config(sample))
    assert any(e.tag == "Style" for e in root.iter())
    assert all("<kbd" in c.attrib["html"] for c in root.iter("Choice"))


def test_keyboard_markdown_lists_every_key(sample: ProjectConfig) -> None:
    text = keyboard_markdown(sample)
    for (_, label), key in assign_hotkeys(sample).items():
        assert f"{label} `{key}`" in text
    rendered = guidelines_html("", sample)
    assert "Ctrl+Enter" in rendered and "Ctrl+Space" in rendered


def test_guidelines_are_sanitised_markdown(sample: ProjectConfig) -> None:
    markdown = (
        "# Guide\n\nPick **one**.\n\n<script>alert(1)</script>\n\n"
        "<img src=x onerror=alert(2)> [bad](javascript:alert(3)) [good](https://example.org/a)\n\n"
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n"
    )
    out = guidelines_html(markdown, sample)
    body = re.sub(r"<style>.*?</style>", "", out, flags=re.S)
    assert "<h1>Guide</h1>" in body and "<strong>one</strong>" in body
    assert "<script" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img" not in body and 'href="javascript' not in body
    assert '<a href="https://example.org/a">good</a>' in body
    assert "style=" not in body  # Label Studio would strip alignment styles
    assert "Keys in this project" in body and "<table>" in body
    assert ">" not in re.search(r"<style>(.*?)</style>", out, flags=re.S).group(1)  # type: ignore[union-attr]


def test_sample_guidelines_cover_the_scheme(sample: ProjectConfig) -> None:
    text = (SAMPLE.parent / "guidelines.md").read_text(encoding="utf-8")
    for label in [*sample.stance_labels, *sample.sentence_types, *sample.cues]:
        assert f"### {label}" in text or f"**{label}**" in text, label
    for topic in ("Neutral or Not addressed?", "Predictions", "Attributed claims", "Rhetorical questions"):
        assert topic in text
    assert "Span boundaries" in text and "Ctrl+Enter" in text


def test_label_studio_server_accepts_the_paragraph_panel() -> None:
    label_config = pytest.importorskip("label_studio.core.label_config")
    xml = build_label_config(small(show_paragraph=True))
    label_config.validate_label_config(xml)
    assert label_config.extract_data_types(xml)["paragraph_text"] == "Text"

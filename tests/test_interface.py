"""The Label Studio labeling interface built from a config, and its hotkeys."""

from __future__ import annotations

import importlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from annotate.config import ProjectConfig, load_config, parse_config
from annotate.errors import ConfigError
from annotate.interface import (
    HOTKEYS,
    RESERVED_KEYS,
    assign_hotkeys,
    build_label_config,
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
    config = small(targets=targets)
    with pytest.raises(ConfigError, match="hotkeys"):
        assign_hotkeys(config)
    with pytest.raises(ConfigError, match="hotkeys"):
        build_label_config(config)


def test_label_config_fields_rejects_bad_xml() -> None:
    with pytest.raises(ConfigError, match="not valid XML"):
        label_config_fields("<View><Choices></View>")


# Labels: printable, with XML-special characters, no comma or '$', no outer spaces.
label_text = st.text(alphabet="abcXYZ é–&<>\"'()", min_size=1, max_size=12).filter(lambda s: s == s.strip())


def labels(min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(label_text, min_size=min_size, max_size=max_size, unique_by=str.casefold)


@st.composite
def configs(draw: st.DrawFn) -> ProjectConfig:
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
    }
    return parse_config(data)


@settings(max_examples=150, deadline=None)
@given(configs())
def test_hotkeys_never_collide(config: ProjectConfig) -> None:
    needed = len(config.targets) * len(config.stance_labels) + len(config.sentence_types) + len(config.cues)
    event("too many for the keys" if needed > len(HOTKEYS) else "fits")
    if needed > len(HOTKEYS):
        with pytest.raises(ConfigError):
            assign_hotkeys(config)
        return
    keys = assign_hotkeys(config)
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

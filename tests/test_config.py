"""The project config: the sample file, and every way a config can be wrong."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from annotate.config import ProjectConfig, load_config, parse_config
from annotate.errors import ConfigError

SAMPLE = Path(__file__).resolve().parents[1] / "configs" / "stance.yaml"

VALID: dict[str, Any] = {
    "name": "china-us-ai",
    "targets": [{"id": "china", "label": "China"}, {"id": "us", "label": "United States"}],
    "stance_labels": ["Favor", "Against"],
}


def config_with(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return data


def error_for(data: object) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, source="x.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("x.yaml: ")
    return message


def test_sample_config_has_the_design_values() -> None:
    config = load_config(SAMPLE)
    assert config.name == "china-us-ai"
    assert config.title == "China–US AI coverage"
    assert config.targets_by_id() == {
        "china": "China (government and policy)",
        "us": "United States (government and policy)",
        "cooperation": "China–US cooperation on AI",
    }
    assert config.stance_labels == ["Favor", "Against", "Neutral", "Not addressed"]
    assert config.sentence_types == ["Fact", "Opinion"]
    assert config.cues == [
        "Loaded language",
        "Vague attribution",
        "Appeal to authority",
        "Slogan or metaphor",
    ]
    assert (config.overlap, config.context) == (3, 1)
    assert config.stance_level == "nominal"


def test_sample_config_comments_every_key() -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    for key in ProjectConfig.model_fields:
        # optional keys may be shown commented out, e.g. "# gold: gold.csv"
        at = next(i for i, line in enumerate(lines) if line.startswith((f"{key}:", f"# {key}:")))
        assert lines[at - 1].startswith("#"), f"{key} has no comment above it"


def test_choice_fields_are_stance_per_target_then_sentence_type() -> None:
    config = load_config(SAMPLE)
    fields = config.choice_fields()
    assert list(fields) == ["stance_china", "stance_us", "stance_cooperation", "sentence_type"]
    assert fields["stance_us"] == config.stance_labels
    assert fields["sentence_type"] == ["Fact", "Opinion"]
    fields["stance_us"].append("changed")
    assert config.stance_labels == ["Favor", "Against", "Neutral", "Not addressed"]


def test_defaults_and_empty_blocks() -> None:
    config = parse_config(VALID)
    assert (config.title, config.sentence_types, config.cues) == (None, [], [])
    assert (config.overlap, config.context) == (3, 1)
    assert config.display_title() == "china-us-ai"
    assert list(config.choice_fields()) == ["stance_china", "stance_us"]
    assert parse_config(config_with(cues=None, sentence_types=None)).cues == []


def test_stance_level_defaults_to_nominal_and_sets_alpha_levels() -> None:
    config = parse_config(VALID)
    assert config.stance_level == "nominal"
    assert config.levels() == {"stance_china": "nominal", "stance_us": "nominal"}
    ordinal = parse_config(config_with(stance_level="ordinal", sentence_types=["Fact", "Opinion"]))
    assert ordinal.levels() == {"stance_china": "ordinal", "stance_us": "ordinal", "sentence_type": "nominal"}
    assert list(ordinal.levels()) == list(ordinal.choice_fields())


def test_sha256_is_stable_and_follows_content() -> None:
    first = parse_config(VALID).sha256()
    assert first == parse_config(copy.deepcopy(VALID)).sha256()
    assert len(first) == 64
    assert parse_config(config_with(overlap=4)).sha256() != first


def test_target_labels_may_hold_any_visible_characters() -> None:
    label = "A & B <C>, \"quoted\" 'x' – Ünïcode"
    config = parse_config(config_with(targets=[{"id": "ab", "label": label}]))
    assert config.targets_by_id() == {"ab": label}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "China US"}, "name: must be lowercase letters"),
        ({"name": "-x"}, "name: must be lowercase letters"),
        ({"name": ...}, "name: required key is missing"),
        ({"title": ""}, "title: must not be empty"),
        ({"title": "a\nb"}, "title: must not contain control"),
        ({"targets": []}, "targets: must have at least 1 target"),
        ({"targets": ...}, "targets: required key is missing"),
        ({"targets": "china"}, "targets: must be a list, got the text 'china'"),
        ({"targets": ["china"]}, "targets[0]: must be a mapping with keys id and label"),
        ({"targets": [{"id": "China", "label": "c"}]}, "targets[0].id: must be lowercase letters"),
        ({"targets": [{"id": "1st", "label": "c"}]}, "targets[0].id: must be lowercase letters"),
        ({"targets": [{"id": "a-b", "label": "c"}]}, "targets[0].id: must be lowercase letters"),
        ({"targets": [{"id": "c"}]}, "targets[0].label: required key is missing"),
        ({"targets": [{"id": "c", "label": ""}]}, "targets[0].label: must not be empty"),
        ({"targets": [{"id": "c", "label": "$text"}]}, "targets[0].label: must not contain '$'"),
        ({"targets": [{"id": "c", "label": 7}]}, "targets[0].label: must be text, got the number 7"),
        ({"stance_labels": []}, "stance_labels: must have at least 2 labels"),
        ({"stance_labels": ["Only"]}, "stance_labels: must have at least 2 labels"),
        ({"stance_labels": "Favor"}, "stance_labels: must be a list"),
        ({"stance_labels": ["a", "b", "A"]}, "stance_labels[2]: duplicate label 'A'"),
        ({"stance_labels": ["a", ""]}, "stance_labels[1]: must not be empty"),
        ({"stance_labels": ["a", " b"]}, "stance_labels[1]: must not start or end with whitespace"),
        ({"stance_labels": ["a", "b\n"]}, "stance_labels[1]: must not start or end with whitespace"),
        ({"stance_labels": ["a", "b\nc"]}, "stance_labels[1]: must not contain control"),
        ({"stance_labels": ["a", "b\tc"]}, "stance_labels[1]: must not contain control"),
        ({"stance_labels": ["a", "b\u200bc"]}, "stance_labels[1]: must not contain control"),
        ({"stance_labels": ["a", "b,c"]}, "stance_labels[1]: must not contain ','"),
        ({"stance_labels": ["a", "US$"]}, "stance_labels[1]: must not contain '$'"),
        ({"stance_labels": ["a", "x" * 101]}, "stance_labels[1]: must be at most 100 characters"),
        ({"stance_labels": ["a", True]}, "stance_labels[1]: must be text, got the boolean true"),
        ({"sentence_types": ["Fact", "fact"]}, "sentence_types[1]: duplicate label 'fact'"),
        ({"sentence_types": "Fact"}, "sentence_types: must be a list"),
        ({"cues": ["a,b"]}, "cues[0]: must not contain ','"),
        ({"cues": [{"a": 1}]}, "cues[0]: must be text, got a mapping"),
        ({"overlap": 0}, "overlap: must be between 1 and 20, got 0"),
        ({"overlap": 21}, "overlap: must be between 1 and 20, got 21"),
        ({"overlap": "3"}, "overlap: must be a whole number, got the text '3'"),
        ({"overlap": 2.5}, "overlap: must be a whole number"),
        ({"context": -1}, "context: must be between 0 and 5, got -1"),
        ({"context": 6}, "context: must be between 0 and 5, got 6"),
        ({"context": True}, "context: must be a whole number, got the boolean true"),
        (
            {"stance_level": "ranked"},
            "stance_level: must be one of nominal, ordinal, interval, got the text 'ranked'",
        ),
        (
            {"stance_level": "Ordinal"},
            "stance_level: must be one of nominal, ordinal, interval, got the text 'Ordinal'",
        ),
        ({"stance_level": 1}, "stance_level: must be one of nominal, ordinal, interval, got the number 1"),
        (
            {"stance_level": None},
            "stance_level: must be one of nominal, ordinal, interval, got nothing (null)",
        ),
        ({"guidelines": ""}, "guidelines: must be a Markdown file (relative to the config file)"),
        ({"guidelines": 3}, "guidelines: must be a Markdown file"),
        ({"suggestions": " "}, "suggestions: must be a cue-rules YAML file"),
        ({"suggestions": ["a"]}, "suggestions: must be a cue-rules YAML file"),
        ({"blind": "outlet"}, "blind: must be a list of outlet, country, author, published, url"),
        ({"blind": ["outlet", "editor"]}, "blind[1]: must be one of outlet, country, author, published, url"),
        ({"blind": ["url", "url"]}, "blind[1]: duplicate field 'url'"),
        ({"show_paragraph": "yes"}, "show_paragraph: must be true or false, got the text 'yes'"),
        ({"show_paragraph": 1}, "show_paragraph: must be true or false, got the number 1"),
        (
            {"skip_queue": "REQUEUE_FOR_ME"},
            "skip_queue: must be one of requeue_for_others, requeue_for_me, ignore",
        ),
    ],
)
def test_each_problem_names_its_key_path(changes: dict[str, Any], expected: str) -> None:
    assert expected in error_for(config_with(**changes))


def test_unknown_keys_are_named_with_the_allowed_ones() -> None:
    message = error_for(config_with(unknwon=1, targets=[{"id": "c", "label": "C", "lable": "x"}]))
    assert "unknwon: unknown key (allowed: name, title, targets, stance_labels," in message
    assert "targets[0].lable: unknown key, did you mean 'label'? (allowed: id, label)" in message


def test_misspelt_key_gets_a_suggestion() -> None:
    message = error_for(config_with(stance_label=["a", "b"]))
    assert "stance_label: unknown key, did you mean 'stance_labels'?" in message


def test_duplicate_target_ids_point_at_the_repeat() -> None:
    targets = [
        {"id": "china", "label": "China"},
        {"id": "china", "label": "China again"},
        {"id": "us", "label": "china"},
    ]
    message = error_for(config_with(targets=targets))
    assert "targets[1].id: duplicate target id 'china' (same as item 0)" in message
    assert "targets[2].label: duplicate target label 'china' (same as item 0)" in message


def test_every_problem_is_reported_in_one_message() -> None:
    data = config_with(
        targets=[{"id": "china", "label": "China"}, {"id": "china", "label": "PRC", "x": 1}],
        stance_labels=["Favor"],
        cues=["a", "a"],
        overlap=0,
        unknwon=True,
    )
    message = error_for(data)
    problems = message.removeprefix("x.yaml: ").split("; ")
    assert [p.split(":")[0] for p in problems] == [
        "targets[1].x",
        "targets[1].id",
        "stance_labels",
        "cues[1]",
        "overlap",
        "unknwon",
    ]


def test_duplicates_are_reported_even_next_to_a_bad_item() -> None:
    message = error_for(config_with(stance_labels=["Yes", "yes", 1]))
    assert "stance_labels[1]: duplicate label 'yes'" in message
    assert "stance_labels[2]: must be text, got the number 1" in message


@pytest.mark.parametrize("data", [None, [], ["name"], "name: x", 3])
def test_top_level_must_be_a_mapping(data: object) -> None:
    assert "the top level must be a mapping" in error_for(data)


def test_load_reports_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="nope.yaml: config file not found"):
        load_config(missing)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ntargets:\n  - id: a\n    label: b\n   oops: [\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: YAML syntax error at line 5")
    assert "\n" not in message


def test_yaml_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nname: y\n")
    with pytest.raises(ConfigError, match="line 2, column 1: duplicate key 'name'"):
        load_config(path)


def test_empty_file_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="got an empty document"):
        load_config(write(tmp_path, "# nothing here\n"))


def test_unquoted_yes_gets_a_quoting_hint(tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace("[Fact, Opinion]", "[Yes, No]")
    with pytest.raises(ConfigError, match=r"sentence_types\[0\]: must be text, got the boolean"):
        load_config(write(tmp_path, text))
    with pytest.raises(ConfigError, match="quote it"):
        load_config(write(tmp_path, text))


def test_load_prefixes_errors_with_the_path(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ntargets: []\nstance_labels: [a, b]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: targets: must have at least 1 target"


def test_python_construction_validates_too() -> None:
    with pytest.raises(ValueError, match="duplicate label"):
        ProjectConfig(name="x", targets=[{"id": "a", "label": "A"}], stance_labels=["a", "a"])  # type: ignore[list-item]


def test_annotator_facing_keys_have_documented_defaults() -> None:
    config = parse_config(VALID)
    assert config.guidelines is True and config.suggestions is True
    assert config.blind == ["outlet", "country", "author"]
    assert config.show_paragraph is False
    assert config.skip_queue == "requeue_for_others"
    assert config.label_studio_skip_queue() == "REQUEUE_FOR_OTHERS"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"guidelines": None, "suggestions": None}, (False, False)),
        ({"guidelines": False, "suggestions": False}, (False, False)),
        ({"guidelines": True, "suggestions": True}, (True, True)),
        ({"guidelines": "docs/guide.md", "suggestions": "cues.yaml"}, ("docs/guide.md", "cues.yaml")),
    ],
)
def test_guidelines_and_suggestions_are_a_path_or_a_switch(changes: dict[str, Any], expected: tuple) -> None:
    config = parse_config(config_with(**changes))
    assert (config.guidelines, config.suggestions) == expected


@pytest.mark.parametrize(
    ("value", "label_studio"),
    [
        ("requeue_for_others", "REQUEUE_FOR_OTHERS"),
        ("requeue_for_me", "REQUEUE_FOR_ME"),
        ("ignore", "IGNORE_SKIPPED"),
    ],
)
def test_skip_queue_maps_to_label_studio(value: str, label_studio: str) -> None:
    assert parse_config(config_with(skip_queue=value)).label_studio_skip_queue() == label_studio


def test_suggest_names_what_learn_prefills() -> None:
    sample = load_config(SAMPLE)
    assert sample.suggested_fields() == ["stance_china", "stance_us", "stance_cooperation", "sentence_type"]
    assert sample.model_copy(update={"suggest": ["cues", "type"]}).suggested_fields() == ["sentence_type"]
    assert sample.model_copy(update={"suggest": []}).suggested_fields() == []
    assert "suggest[1]: must be one of cues, stance, type" in error_for(
        config_with(suggest=["cues", "model"])
    )


def test_order_maps_to_label_studio_sampling() -> None:
    assert parse_config(config_with()).label_studio_sampling() == "Sequential sampling"
    assert parse_config(config_with(order="random")).label_studio_sampling() == "Uniform sampling"
    assert parse_config(config_with(order="uncertainty")).label_studio_sampling() == "Uncertainty sampling"
    assert "order: must be one of article, random, uncertainty" in error_for(config_with(order="by-outlet"))


def test_model_is_one_of_the_classifier_feature_sets() -> None:
    assert parse_config(config_with()).model == "tfidf"
    assert parse_config(config_with(model="tfidf+embedding")).model == "tfidf+embedding"
    assert "model: must be one of tfidf, tfidf+embedding, got the text 'bert'" in error_for(
        config_with(model="bert")
    )


def test_blind_may_be_empty_or_every_field() -> None:
    assert parse_config(config_with(blind=[])).blind == []
    assert parse_config(config_with(blind=None)).blind == []
    every = ["outlet", "country", "author", "published", "url"]
    assert parse_config(config_with(blind=every)).blind == every

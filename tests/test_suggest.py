"""Suggested cue spans: golden sentences, the sample article as labelled by hand (precision and
recall), the rules file's validation, Label Studio predictions, the metrics worked by hand, speed."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import math
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.columns import METRIC_COLUMNS
from annotate.config import load_config
from annotate.errors import ConfigError, ExportError, InputError
from annotate.ingest.articles import read_articles
from annotate.ingest.cues import TOTAL, Rules, Suggestion, load_rules, prediction, suggest
from annotate.ingest.segment import split_article
from annotate.quality.suggestions import suggestion_metrics
from annotate.starter import default_rules_path
from annotate.studio.interface import build_label_config

ROOT = Path(__file__).resolve().parent.parent
RULES_YAML = ROOT / "configs" / "cues.yaml"
SAMPLE_ARTICLE = ROOT / "annotate" / "data" / "china_us_ai_cooperation.txt"
GOLDEN = Path(__file__).parent / "golden" / "suggest_cases.jsonl"
CASES: list[dict[str, Any]] = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
HAND = [case for case in CASES if case["source"] != "sample"]
SAMPLE = [case for case in CASES if case["source"] == "sample"]
CONFIG = load_config(ROOT / "configs" / "stance.yaml")
LL, VA, AA, SM = "Loaded language", "Vague attribution", "Appeal to authority", "Slogan or metaphor"


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(RULES_YAML, CONFIG.cues)


def spans(found: list[Suggestion]) -> list[list[Any]]:
    return [[s.start, s.end, s.label] for s in found]


def ungated(rules: Rules) -> Rules:
    """The same rules with every gate removed: each regex runs on every text."""
    return Rules(tuple(dataclasses.replace(rule, gate=None) for rule in rules.rules), rules.version)


def write_rules(tmp_path: Path, data: object, name: str = "cues.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def rule(id: str, label: str = LL, **keys: object) -> dict[str, object]:
    if "pattern" not in keys and "terms" not in keys:
        keys["terms"] = ["example"]
    kind = "pattern" if "pattern" in keys else "lexicon"
    return {"id": id, "label": label, "kind": kind, "comment": f"test rule {id}", **keys}


# -- golden table -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", HAND, ids=[case["id"] for case in HAND])
def test_golden(case: dict[str, Any], rules: Rules) -> None:
    found = suggest(case["text"], rules)
    assert spans(found) == [span[:3] for span in case["spans"]], case["note"]
    assert all(s.text == case["text"][s.start : s.end] for s in found)


def test_golden_table_is_well_formed() -> None:
    assert len(CASES) >= 25
    assert len(HAND) >= 25
    assert len({case["id"] for case in CASES}) == len(CASES)
    for case in CASES:
        text, previous_end = case["text"], 0
        for start, end, label, span_text in case["spans"]:
            assert 0 <= previous_end <= start < end <= len(text), case["id"]
            assert text[start:end] == span_text, case["id"]
            assert label in CONFIG.cues, case["id"]
            previous_end = end
    assert sum(not case["spans"] for case in HAND) >= 8  # negatives
    assert any("\u201c" in case["text"] for case in HAND)  # curly quotes
    assert any('"' in case["text"] and case["spans"] for case in HAND)  # straight quotes
    assert any(re.search("[\u4e00-\u9fff]", case["text"]) for case in HAND)  # Chinese
    assert {span[2] for case in CASES for span in case["spans"]} == set(CONFIG.cues)


def test_sample_cases_are_the_whole_sample_article() -> None:
    article = read_articles([SAMPLE_ARTICLE])[0]
    assert [case["text"] for case in SAMPLE] == [s.text for s in split_article(article)]
    assert len(SAMPLE) == 29


def test_every_rule_is_exercised_by_the_golden_table(rules: Rules) -> None:
    fired = {s.rule for case in CASES for s in suggest(case["text"], rules)}
    assert fired == {r.id for r in rules.rules}


# -- the sample article, labelled by hand ---------------------------------------------------------


def sample_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One annotator's annotations of the sample article: the golden spans, one annotation per
    sentence (a sentence type row where no cue was marked)."""
    sentences = pd.DataFrame(
        {"sentence_id": [case["id"] for case in SAMPLE], "text": [case["text"] for case in SAMPLE]}
    )
    rows = []
    for number, case in enumerate(SAMPLE, start=1):
        base = {"sentence_id": case["id"], "annotation_id": number, "annotator": "careful@example.com"}
        rows.append({**base, "field": "sentence_type", "label": "Opinion", "start": None, "end": None})
        for start, end, label, span_text in case["spans"]:
            rows.append(
                {**base, "field": "cues", "label": label, "start": start, "end": end, "span_text": span_text}
            )
    annotations = pd.DataFrame(rows)
    annotations["cancelled"] = False
    annotations["ground_truth"] = False
    return annotations, sentences


def test_sample_article_precision_and_recall(rules: Rules) -> None:
    annotations, sentences = sample_tables()
    table = suggestion_metrics(annotations, sentences, rules)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\n" + table.to_string(index=False, float_format="%.3f"))
    overall = table[(table["rule"] == TOTAL) & (table["label"] == TOTAL)].iloc[0]
    assert overall["human_spans"] == 25
    assert overall["precision"] >= 0.85
    assert overall["recall"] >= 0.8
    labels = table[(table["rule"] == TOTAL) & (table["label"] != TOTAL)].set_index("label")
    assert list(labels.index) == rules.labels()
    assert (labels["precision"] >= 0.75).all()
    assert (labels["recall"] >= 0.7).all()
    fired = table[(table["rule"] != TOTAL) & (table["suggested"] > 0)]
    assert (fired["precision"] >= 0.5).all()
    # the totals add up
    for column in ("suggested", "matched", "human_spans", "found"):
        assert overall[column] == labels[column].sum()
    for column in ("suggested", "matched"):
        assert labels[column].sum() == table.loc[table["rule"] != TOTAL, column].sum()


# -- the rules file -------------------------------------------------------------------------------


def test_packaged_rules_are_the_configs_rules() -> None:
    assert default_rules_path().read_bytes() == RULES_YAML.read_bytes()


def test_default_rules_load_with_the_sample_config(rules: Rules) -> None:
    packaged = load_rules(default_rules_path(), CONFIG.cues)
    assert packaged.version == rules.version
    assert re.fullmatch(r"cues-[0-9a-f]{12}", rules.version)
    assert len(rules.rules) >= 12
    assert set(rules.labels()) == set(CONFIG.cues)
    for r in rules.rules:
        assert len(r.comment) > 30, r.id
        assert (r.kind == "lexicon") == bool(r.terms) and (r.kind == "pattern") == (r.pattern is not None)
        assert 0 <= r.confidence <= 1


def test_version_is_the_content_not_the_layout(tmp_path: Path, rules: Rules) -> None:
    data = yaml.safe_load(RULES_YAML.read_text(encoding="utf-8"))
    relaid = write_rules(tmp_path, yaml.safe_dump(data, allow_unicode=True, width=60))  # no comments
    assert load_rules(relaid, CONFIG.cues).version == rules.version
    data["rules"][0]["confidence"] = 0.11
    assert load_rules(write_rules(tmp_path, data, "changed.yaml"), CONFIG.cues).version != rules.version


def test_adding_a_word_needs_no_code(tmp_path: Path, rules: Rules) -> None:
    text = "The plan is a cynical ploy."
    assert suggest(text, rules) == []
    data = yaml.safe_load(RULES_YAML.read_text(encoding="utf-8"))
    emotive = next(r for r in data["rules"] if r["id"] == "loaded-emotive")
    emotive["terms"] += ["cynical ploy*"]
    changed = load_rules(write_rules(tmp_path, data), CONFIG.cues)
    assert [(s.text, s.rule) for s in suggest(text, changed)] == [("cynical ploy", "loaded-emotive")]
    assert changed.version != rules.version


def test_errors_are_all_reported_at_once_with_their_paths(tmp_path: Path) -> None:
    data = {
        "lists": {"names": ["Reuters"], "bad name": ["x"]},
        "rules": [
            rule("bad-label", label="Loaded langauge"),
            rule("bad-regex", label=VA, pattern="(unclosed"),
            rule("extra-key", weight=2),
            {"id": "no-comment", "label": AA, "kind": "lexicon", "terms": ["x"]},
            rule("unknown-list", pattern="according to {{outlets}}"),
            rule("unknown-list", terms=["a", "A"]),
            rule("both", terms=["x"], pattern="x"),
            rule("kind", kind="regex"),
            rule("confidence", confidence=2),
            rule("requires", pattern="x", requires=["{{nope}}"]),
            rule("groups", pattern="(?P<words>x)"),
            rule("Bad Id"),
            rule(TOTAL),
            "not a rule",
        ],
        "version": 2,
    }
    with pytest.raises(ConfigError) as caught:
        load_rules(write_rules(tmp_path, data), CONFIG.cues)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "cues.yaml") + ": ")
    expected = [
        "version: unknown key (allowed: lists, rules)",
        "lists.bad name: a list name is letters, digits and '_'",
        "rules[0].label: rule 'bad-label': unknown cue 'Loaded langauge', did you mean 'Loaded language'?",
        "rules[1].pattern: rule 'bad-regex': does not compile: missing ), unterminated subpattern",
        "rules[2].weight: unknown key",
        "rules[3].comment: required key is missing",
        "rules[4].pattern: rule 'unknown-list': unknown list(s) outlets (lists: names)",
        "rules[5].id: duplicate rule id 'unknown-list' (same as rules[4])",
        "rules[5].terms[1]: duplicate entry 'A' (same as item 0)",
        "rules[6].terms: rule 'both': a pattern rule has a pattern, not terms",
        "rules[7].kind: rule 'kind': must be one of lexicon, pattern, got 'regex'",
        "rules[8].confidence: rule 'confidence': must be a number from 0 to 1, got 2",
        "rules[9].requires[0]: rule 'requires': unknown list nope (lists: names)",
        "rules[10].pattern: rule 'groups': unknown named group(s) words (allowed: span, veto)",
        "rules[11].id: must be lowercase letters",
        "rules[12].id: 'all' is reserved",
        "rules[13]: must be a mapping",
    ]
    for part in expected:
        assert part in message
    assert "\n" not in message


def test_bad_regex_names_the_rule(tmp_path: Path) -> None:
    path = write_rules(tmp_path, {"rules": [rule("broken-quote", label=SM, pattern="[unclosed")]})
    with pytest.raises(ConfigError, match=r"rules\[0\]\.pattern: rule 'broken-quote': does not compile"):
        load_rules(path, CONFIG.cues)


def test_labels_must_be_the_configs_cues(tmp_path: Path) -> None:
    path = write_rules(tmp_path, {"rules": [rule("r", label=LL)]})
    assert load_rules(path, CONFIG.cues).labels() == [LL]
    with pytest.raises(
        ConfigError, match="rules\\[0\\].label: rule 'r': unknown cue 'Loaded language' \\(the"
    ):
        load_rules(path, ["Framing", "Omission"])
    with pytest.raises(ConfigError, match="the project config has no cues"):
        load_rules(path, [])
    with pytest.raises(InputError):
        load_rules(path, "Loaded language")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: []", "rules: must be a non-empty list of rules"),
        ("- a\n- b", "the top level must be a mapping"),
        ("", "the top level must be a mapping with keys lists and rules, got an empty document"),
        ("rules:\n  - id: a\n    id: b", "duplicate key 'id'"),
        ("rules: [", "YAML syntax error at line"),
    ],
)
def test_broken_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_rules(write_rules(tmp_path, text), CONFIG.cues)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rules file not found"):
        load_rules(tmp_path / "nope.yaml", CONFIG.cues)


# -- matching -------------------------------------------------------------------------------------


def test_lexicon_entries(tmp_path: Path) -> None:
    terms = ["zero-sum", "weaponiz*", "Pandora's box", "霸权", "U.S. hegemony"]
    rules = load_rules(write_rules(tmp_path, {"rules": [rule("lex", terms=terms)]}), CONFIG.cues)

    def found(text: str) -> list[str]:
        return [s.text for s in suggest(text, rules)]

    assert found("A ZERO-SUM game, a zero sum game, a zerosum game, zero‑sum.") == [
        "ZERO-SUM",
        "zero sum",
        "zerosum",
        "zero‑sum",
    ]
    assert found("zero-summer, nonzero-sum, weaponize, weaponization, Weaponizing.") == [
        "weaponize",
        "weaponization",
        "Weaponizing",
    ]
    assert found("It opened Pandora’s box and pandora's  box.") == ["Pandora’s box", "pandora's  box"]
    assert found("反对霸权主义。U.S. hegemony, US hegemony") == ["霸权", "U.S. hegemony"]


def test_longer_span_wins_then_the_rule_listed_first(tmp_path: Path) -> None:
    data = {
        "rules": [
            rule("short-first", label=LL, terms=["iron curtain", "curtain"]),
            rule("long", label=SM, terms=["AI iron curtain"]),
            rule("same-span", label=VA, terms=["curtain"]),
        ]
    }
    rules = load_rules(write_rules(tmp_path, data), CONFIG.cues)
    found = suggest("No AI iron curtain, no iron curtain, no curtain.", rules)
    assert [(s.text, s.rule, s.label) for s in found] == [
        ("AI iron curtain", "long", SM),
        ("iron curtain", "short-first", LL),
        ("curtain", "short-first", LL),
    ]


def test_span_and_veto_groups(tmp_path: Path) -> None:
    pattern = r"(?P<veto>[A-Z]\w+\s+)??(?P<span>\b(?i:analysts)\s+said)"
    rules = load_rules(
        write_rules(tmp_path, {"rules": [rule("says", label=VA, pattern=pattern)]}), CONFIG.cues
    )
    assert [s.text for s in suggest("Barclays analysts said so; analysts said no.", rules)] == [
        "analysts said"
    ]
    quoted = {"rules": [rule("quoted", label=SM, pattern=r'"(?P<span>[^"]+)"')]}
    rules = load_rules(write_rules(tmp_path, quoted), CONFIG.cues)
    assert [(s.start, s.end, s.text) for s in suggest('a " padded " b', rules)] == [(4, 10, "padded")]


def test_suggest_needs_text(rules: Rules) -> None:
    assert suggest("", rules) == []
    with pytest.raises(InputError):
        suggest(None, rules)  # type: ignore[arg-type]


def test_gates_never_change_what_is_found(rules: Rules) -> None:
    plain = ungated(rules)
    for case in CASES:
        assert suggest(case["text"], rules) == suggest(case["text"], plain), case["id"]


@functools.cache
def pieces() -> list[str]:
    """Every lexicon term and list entry (``*`` made "ing"), and the handwritten sentences."""
    data = yaml.safe_load(RULES_YAML.read_text(encoding="utf-8"))
    words = [t for r in data["rules"] for t in r.get("terms", [])] + [
        e for v in data["lists"].values() for e in v
    ]
    return [w.replace("*", "ing") for w in words] + [case["text"] for case in HAND]


FILLER = [
    "the",
    "said",
    "say",
    "and",
    ",",
    ".",
    "in",
    "US",
    "China",
    "\u201c",
    "\u201d",
    '"',
    "as",
    "noted",
    "a",
]


@st.composite
def news_like(draw: st.DrawFn, pieces: list[str]) -> str:
    parts = draw(
        st.lists(st.one_of(st.sampled_from(pieces), st.sampled_from(FILLER)), min_size=1, max_size=12)
    )
    out = []
    for part in parts:
        case = draw(st.sampled_from(["keep", "upper", "lower", "title"]))
        part = {"keep": part, "upper": part.upper(), "lower": part.lower(), "title": part.title()}[case]
        part = part.replace("-", draw(st.sampled_from(["-", " ", "", "\u2011"])))
        out.append(part)
    return draw(st.sampled_from([" ", "", "  "])).join(out)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_gates_never_change_what_is_found_on_generated_text(data: st.DataObject, rules: Rules) -> None:
    text = data.draw(news_like(pieces()))
    found = suggest(text, rules)
    assert found == suggest(text, ungated(rules))
    assert found == sorted(found, key=lambda s: s.start)
    for before, after in zip(found, found[1:], strict=False):
        assert before.end <= after.start
    for s in found:
        assert s.text == text[s.start : s.end] and s.text == s.text.strip() and s.text


def test_speed(rules: Rules) -> None:
    texts = ([case["text"] for case in CASES] * 400)[:20_000]
    began = time.perf_counter()
    found = sum(len(suggest(text, rules)) for text in texts)
    seconds = time.perf_counter() - began
    print(f"\nsuggest: {len(texts)} sentences, {found} spans, {seconds:.2f} s")
    assert seconds < 15  # about 1.5 s on an idle machine


# -- Label Studio predictions ---------------------------------------------------------------------


def test_predictions_pass_label_studios_own_validation(rules: Rules) -> None:
    label_interface = importlib.import_module("label_studio_sdk.label_interface")
    interface = label_interface.LabelInterface(build_label_config(CONFIG))
    seen = 0
    for case in CASES:
        result = prediction(case["text"], rules)
        if result is None:
            assert suggest(case["text"], rules) == []
            continue
        seen += 1
        assert interface.validate_prediction(result, return_errors=True) == [], case["id"]
        assert set(result) == {"model_version", "score", "result"}
        assert result["model_version"] == rules.version
        assert 0 <= result["score"] <= 1
        for region in result["result"]:
            assert region["from_name"] == "cues" and region["to_name"] == "sentence"
            assert region["type"] == "labels" and region["origin"] == "prediction"
            value = region["value"]
            assert value["text"] == case["text"][value["start"] : value["end"]]
            assert value["labels"][0] in CONFIG.cues and len(value["labels"]) == 1
        json.dumps(result)
    assert seen >= 30
    # the validator does check: a label missing from the interface is refused
    wrong = prediction("Experts say so.", rules)
    assert wrong is not None
    wrong["result"][0]["value"]["labels"] = ["Spin"]
    assert interface.validate_prediction(wrong, return_errors=True) != []


def test_prediction_ids_are_short_stable_and_unique(rules: Rules, tmp_path: Path) -> None:
    text = SAMPLE[23]["text"]
    first = prediction(text, rules)
    assert first is not None
    ids = [region["id"] for region in first["result"]]
    assert len(set(ids)) == len(ids) == 5
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{6,12}", i) for i in ids)
    reloaded = load_rules(write_rules(tmp_path, RULES_YAML.read_text(encoding="utf-8")), CONFIG.cues)
    assert prediction(text, reloaded) == first
    a, b = prediction("Experts say yes.", rules), prediction("Experts say no.", rules)
    assert a is not None and b is not None
    assert a["result"][0]["value"]["start"] == b["result"][0]["value"]["start"]
    assert a["result"][0]["id"] != b["result"][0]["id"]


def test_no_prediction_without_suggestions(rules: Rules) -> None:
    assert prediction("The ministry published its annual trade figures on Tuesday.", rules) is None


# -- metrics worked by hand -----------------------------------------------------------------------

TEXTS = {
    "s1": "Experts say the so-called deal is weaponizing trade.",
    "s2": "Critics say it is reckless.",
    "s3": "The talks ended.",
    "s4": "Experts say nothing.",  # never annotated: its suggestions do not count
}


def at(sid: str, piece: str) -> tuple[int, int]:
    start = TEXTS[sid].index(piece)
    return start, start + len(piece)


def metric_row(table: pd.DataFrame, rule_id: str, label: str, columns: list[str]) -> list[Any]:
    found = table[(table["rule"] == rule_id) & (table["label"] == label)]
    assert len(found) == 1, (rule_id, label)
    return [found[column].iloc[0] for column in columns]


def test_metrics_worked_by_hand(rules: Rules) -> None:
    sentences = pd.DataFrame({"sentence_id": list(TEXTS), "text": list(TEXTS.values())})
    rows = [
        # (annotation, sentence, annotator, field, label, span, cancelled, ground truth)
        (1, "s1", "ann", "cues", VA, at("s1", "Experts say"), False, False),
        (1, "s1", "ann", "cues", LL, at("s1", "weaponizing trade"), False, False),
        (2, "s1", "ben", "cues", VA, at("s1", "Experts"), False, False),  # same human span as ann's
        (2, "s1", "ben", "cues", LL, at("s1", "deal"), False, False),  # missed by the rules
        (3, "s2", "ann", "cues", LL, at("s2", "reckless"), False, False),
        (3, "s2", "ann", "cues", AA, at("s2", "Critics"), False, False),  # "Critics say" is VA: no match
        (4, "s2", "ben", "cues", VA, at("s2", "Critics say"), True, False),  # skipped: not counted
        (5, "s2", "gold", "cues", VA, at("s2", "Critics say"), False, True),  # ground truth: not counted
        (6, "s3", "ann", "sentence_type", "Fact", (None, None), False, False),
        (7, "s9", "ann", "cues", VA, (0, 4), False, False),  # sentence not in the table
        (8, "s3", "ben", "cues", LL, (None, None), False, False),  # span without offsets
    ]
    annotations = pd.DataFrame(
        [
            {
                "annotation_id": a,
                "sentence_id": s,
                "annotator": who,
                "field": f,
                "label": label,
                "start": span[0],
                "end": span[1],
                "cancelled": c,
                "ground_truth": g,
            }
            for a, s, who, f, label, span, c, g in rows
        ]
    )
    table = suggestion_metrics(annotations, sentences, rules)
    assert list(table.columns) == METRIC_COLUMNS

    def row(rule_id: str, label: str) -> list[Any]:
        return metric_row(table, rule_id, label, METRIC_COLUMNS[2:])

    # suggestions on s1, s2, s3: Experts say, so-called, weaponizing, Critics say, reckless
    assert row("vague-unnamed-group-says", VA) == [2, 1, 1, 1, 0.5, 1.0]
    assert row("loaded-accusation", LL) == [1, 1, 3, 1, 1.0, pytest.approx(1 / 3)]
    assert row("loaded-emotive", LL) == [2, 1, 3, 1, 0.5, pytest.approx(1 / 3)]
    assert row("loaded-rivalry-frame", LL)[:4] == [0, 0, 3, 0] and math.isnan(
        row("loaded-rivalry-frame", LL)[4]
    )
    assert row(TOTAL, VA) == [2, 1, 1, 1, 0.5, 1.0]
    assert row(TOTAL, LL) == [3, 2, 3, 2, pytest.approx(2 / 3), pytest.approx(2 / 3)]
    assert row(TOTAL, AA)[:4] == [0, 0, 1, 0] and math.isnan(row(TOTAL, AA)[4]) and row(TOTAL, AA)[5] == 0
    assert row(TOTAL, SM)[:4] == [0, 0, 0, 0] and math.isnan(row(TOTAL, SM)[5])
    assert row(TOTAL, TOTAL) == [5, 3, 5, 3, 0.6, 0.6]
    assert len(table) == len(rules.rules) + len(rules.labels()) + 1


def test_overlapping_human_spans_merge_across_annotators(rules: Rules) -> None:
    text = "Some in the US see a zero-sum game."
    sentences = pd.DataFrame({"sentence_id": ["x"], "text": [text]})
    rows = [
        ("a", VA, 0, 4),  # Some
        ("b", VA, 0, 14),  # Some in the US
        ("c", VA, 12, 18),  # US see: overlaps b's, so all three are one human span
        ("a", LL, 21, 29),  # zero-sum
        ("b", LL, 30, 34),  # game: touches nothing of a's, a second human span
    ]
    annotations = pd.DataFrame(
        [
            {"sentence_id": "x", "annotator": who, "field": "cues", "label": label, "start": s, "end": e}
            for who, label, s, e in rows
        ]
    )  # no cancelled / ground_truth columns: all count
    table = suggestion_metrics(annotations, sentences, rules)
    columns = ["human_spans", "found", "suggested", "matched"]
    assert metric_row(table, TOTAL, VA, columns) == [1, 1, 1, 1]
    assert metric_row(table, TOTAL, LL, columns) == [2, 2, 1, 1]


def test_metrics_of_nothing_are_nan(rules: Rules) -> None:
    empty = pd.DataFrame(
        columns=["sentence_id", "field", "label", "start", "end", "cancelled", "ground_truth"]
    )
    table = suggestion_metrics(empty, pd.DataFrame({"sentence_id": ["x"], "text": ["Experts say."]}), rules)
    assert (table[["suggested", "matched", "human_spans", "found"]] == 0).all().all()
    assert table["precision"].isna().all() and table["recall"].isna().all()
    assert str(table["suggested"].dtype) == "int64" and str(table["recall"].dtype) == "float64"


def test_metrics_check_their_inputs(rules: Rules) -> None:
    sentences = pd.DataFrame({"sentence_id": ["x"], "text": ["t"]})
    annotations = pd.DataFrame(columns=["sentence_id", "field", "label", "start", "end"])
    with pytest.raises(
        ExportError, match="annotations table is missing column\\(s\\) field, label, start, end"
    ):
        suggestion_metrics(pd.DataFrame({"sentence_id": ["x"]}), sentences, rules)
    with pytest.raises(ExportError, match="sentences must be a pandas DataFrame"):
        suggestion_metrics(annotations, [], rules)  # type: ignore[arg-type]
    with pytest.raises(ExportError, match="sentences table is missing column\\(s\\) text"):
        suggestion_metrics(annotations, sentences[["sentence_id"]], rules)

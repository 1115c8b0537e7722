"""Gold sentences and adjudication, round-tripped through a real Label Studio with several users.

Four annotators work through the labeling stream (``/api/projects/N/next``) one after the
other, as they would in the browser: with overlap 3 the first three share the ordinary
sentences, and every one of them — the fourth included — is served the gold sentences.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.studio.client import Connection, Studio

runner = CliRunner()
F, A, N, X = "Favor", "Against", "Neutral", "Not addressed"

ARTICLE = (
    "China expanded its research grants this year. "
    "The partnership was praised and criticised in equal measure. "
    "Washington tightened chip export rules again. "
    "The weather in Geneva was mild during the talks.\n"
)
# honest annotators 1-3: sentence text -> china stance per annotator
HONEST_CHINA = {
    "China expanded its research grants this year.": (F, F, F),
    "The partnership was praised and criticised in equal measure.": (F, A, N),  # a three-way tie
    "Washington tightened chip export rules again.": (A, A, N),
    "The weather in Geneva was mild during the talks.": (X, X, X),
}
GOLD_ROWS = [
    {"text": "Beijing welcomed the joint statement warmly.", "stance_china": F, "sentence_type": "Opinion"},
    {"text": "China imposed new sanctions on the firms.", "stance_china": A, "sentence_type": "Fact"},
    {"text": "The museum opened a new wing.", "stance_china": X, "sentence_type": ""},
]
GOLD = {row["text"]: row for row in GOLD_ROWS}


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _answer(annotator: int, text: str) -> tuple[str, str]:
    """(china stance, sentence type) that annotator 0-3 gives for a sentence."""
    if annotator == 3:  # the careless one
        return N, "Fact"
    if text in GOLD:
        china = str(GOLD[text]["stance_china"])
        kind = str(GOLD[text]["sentence_type"] or "Fact")
        if annotator == 0 and text == GOLD_ROWS[0]["text"]:
            kind = "Fact"  # annotator 1 misses one gold answer: 4 of 5
        return china, kind
    return HONEST_CHINA[text][annotator], "Fact"


def _result(china: str, kind: str) -> list[dict[str, object]]:
    def choice(name: str, label: str) -> dict[str, object]:
        return {"from_name": name, "to_name": "sentence", "type": "choices", "value": {"choices": [label]}}

    return [choice("stance_china", china), choice("stance_us", X), choice("stance_cooperation", X)] + [
        choice("sentence_type", kind)
    ]


def _work_through_stream(url: str, key: str, project_id: int, annotator: int) -> list[str]:
    """Label every task the stream serves this user; returns the texts seen."""
    seen = []
    with Studio(Connection(url, key, "test")) as me:
        for _ in range(50):
            resp = me.request("GET", f"api/projects/{project_id}/next", ok=(200, 404))
            if resp.status_code == 404:
                break
            task = resp.json()
            assert not task.get("annotations"), "the stream must not show other answers (gold included)"
            text = task["data"]["text"]
            seen.append(text)
            me.create_annotation(task["id"], _result(*_answer(annotator, text)), lead_time=5.0)
    return seen


@pytest.fixture
def campaign(tmp_path, make_project, server_env, annotator_keys, studio):
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text("".join(json.dumps(row) + "\n" for row in GOLD_ROWS), encoding="utf-8")
    config, cfg_path = make_project(gold=str(gold_file), gold_threshold=0.75, gold_min_items=2)
    article = tmp_path / "grants.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    _invoke("push", str(article), "--config", str(cfg_path))
    project = studio.find_project(config.name)
    pid = int(project["id"])
    tasks = [t for page, _ in studio.iter_task_pages(pid, fields="all") for t in page]
    keys = annotator_keys(4)
    served = [_work_through_stream(studio.url, key, pid, i) for i, (_, key) in enumerate(keys)]
    out = tmp_path / "exports"
    _invoke("pull", "--config", str(cfg_path), "--out", str(out), "--show-names")
    return config, cfg_path, out, keys, tasks, served, pid


def test_gold_is_mixed_in_flagged_and_kept_out_of_analysis(campaign, studio):
    config, cfg_path, out, keys, tasks, served, pid = campaign
    texts = [t["data"]["text"] for t in sorted(tasks, key=lambda t: t["id"])]
    assert len(texts) == 7
    # spread through the stream, not all at the end, and stored with the ground-truth flag
    gold_positions = [i for i, text in enumerate(texts) if text in GOLD]
    assert gold_positions != [4, 5, 6] and len(gold_positions) == 3
    for task in tasks:
        truth = [a for a in task["annotations"] if a["ground_truth"]]
        assert len(truth) == (1 if task["data"]["text"] in GOLD else 0)
    # annotators 1-3 share the ordinary sentences; everyone meets every gold sentence
    assert [len(s) for s in served] == [7, 7, 7, 3]
    assert set(served[3]) == set(GOLD)

    _invoke("summarize", "--config", str(cfg_path), "--out", str(out), "--show-names")
    folder = out / config.name
    people = pd.read_csv(folder / "annotators.csv", encoding="utf-8-sig").set_index("annotator")
    emails = [email for email, _ in keys]
    # 5 checked gold answers each (3 stances + 2 sentence types): annotator 1 misses one type,
    # annotator 4 only gets the sentence type of the second gold sentence right
    assert people.loc[emails, "gold_items"].tolist() == [5, 5, 5, 5]
    assert people.loc[emails, "gold_accuracy"].tolist() == pytest.approx([0.8, 1.0, 1.0, 0.2])
    assert people.loc[emails, "flagged"].tolist() == [False, False, False, True]
    assert "admin@annotate.localhost" not in people.index  # gold answers are not annotations

    labels = pd.read_csv(folder / "sentence_labels.csv", encoding="utf-8-sig")
    gold_rows = labels[labels["source"] == "gold"]
    expected = {(r["text"], "stance_china"): r["stance_china"] for r in GOLD_ROWS}
    sentences = pd.read_parquet(folder / "sentences.parquet").set_index("sentence_id")["text"]
    got = {
        (sentences[r.sentence_id], r.field): r.label
        for r in gold_rows.itertuples()
        if r.field == "stance_china"
    }
    assert got == expected
    agreement = pd.read_csv(folder / "agreement.csv", encoding="utf-8-sig").set_index("field")
    assert agreement.loc["stance_china", "units"] == 4  # the four ordinary sentences only
    stance = pd.read_csv(folder / "document_stance.csv", encoding="utf-8-sig")
    assert set(stance["doc_id"]) == {"grants"}
    assert stance[stance["target"] == "china"]["sentences"].sum() == 4

    output = _invoke(
        "summarize", "--config", str(cfg_path), "--out", str(out), "--show-names", "--exclude-flagged"
    )
    assert f"Left out flagged annotators: {emails[3]}" in output
    agreement = pd.read_csv(folder / "agreement.csv", encoding="utf-8-sig").set_index("field")
    assert agreement.loc["stance_china", "annotators"] == 3


def test_adjudication_round_trip(campaign, studio, admin_login):
    config, cfg_path, out, keys, tasks, served, pid = campaign
    folder = out / config.name
    output = _invoke("adjudicate", "--config", str(cfg_path), "--out", str(out))
    # only the three-way tie is contested (2-1 splits have a majority)
    assert "1 sentence × field decision(s) on 1 sentence(s) need review; 1 new" in output
    review = studio.find_project(f"{config.name}-review")
    assert review is not None and int(review["id"]) != pid
    review_tasks = [t for page, _ in studio.iter_task_pages(int(review["id"]), fields="all") for t in page]
    assert len(review_tasks) == 1
    data = review_tasks[0]["data"]
    assert data["text"] == "The partnership was praised and criticised in equal measure."
    assert "Annotator A — stance_china: Favor" in data["answers"]
    assert all(email not in data["answers"] for email, _ in keys)  # names hidden by default
    assert data["context_before"] == "China expanded its research grants this year."

    again = _invoke("adjudicate", "--config", str(cfg_path), "--out", str(out))
    assert "0 new in the review project, 1 already there" in again

    # the adjudicator decides
    studio.create_annotation(review_tasks[0]["id"], _result(A, "Opinion")[:1])
    _invoke("pull", "--config", str(cfg_path), "--out", str(out), "--show-names")
    decided = pd.read_parquet(folder / "adjudications.parquet")
    assert decided[["field", "label", "adjudicator"]].values.tolist() == [
        ["stance_china", A, admin_login.email]
    ]
    _invoke("summarize", "--config", str(cfg_path), "--out", str(out), "--show-names")
    labels = pd.read_csv(folder / "sentence_labels.csv", encoding="utf-8-sig")
    row = labels[(labels["sentence_id"] == data["sentence_id"]) & (labels["field"] == "stance_china")].iloc[0]
    assert (row["label"], row["source"]) == (A, "adjudicated")
    assert pd.isna(row["majority_label"]) and bool(row["contested"])


@pytest.mark.parametrize(
    "by, threshold, expected",
    [
        # margins of the china answers: FFF 1, FAN 0, AAN 1/3, XXX 1; every other field unanimous
        ("margin", 0.34, 2),
        # china α over the four sentences is 1 - 11·5/106 = 0.481; without FAN it is 0.724,
        # without AAN 0.556, without FFF 0.310, without XXX 0.231: two sentences raise it.
        # Unanimous fields have no α, so nothing there can raise it.
        ("alpha", 0.0, 2),
        ("alpha", 0.1, 1),
        # a posterior is never above 1: every ordinary sentence × field is selected
        ("dawid-skene", 1.01, 16),
    ],
)
def test_other_selection_rules(campaign, by, threshold, expected):
    config, cfg_path, out, *_ = campaign
    output = _invoke(
        "adjudicate", "--config", str(cfg_path), "--out", str(out), "--by", by, "--threshold", str(threshold)
    )
    assert f"{expected} sentence × field decision(s)" in output


def test_unknown_criterion_is_a_clear_error(campaign):
    config, cfg_path, out, *_ = campaign
    result = runner.invoke(app, ["adjudicate", "--config", str(cfg_path), "--out", str(out), "--by", "vibes"])
    assert result.exit_code == 2
    assert "unknown adjudication criterion 'vibes'" in result.output

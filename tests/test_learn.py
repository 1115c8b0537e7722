"""``annotate learn`` on a pulled folder: trains what it can, skips what it cannot, says why."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from annotate.cli import app
from annotate.columns import ANNOTATION_COLUMNS, SENTENCE_COLUMNS
from annotate.config import load_config
from annotate.files import write_parquet
from annotate.model.store import load_model
from annotate.studio.client import Connection, Studio
from annotate.studio.pull import _typed_annotations

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
FACTS = ["Officials reported {n} meetings on Monday.", "The agency said {n} labs signed the accord."]
OPINIONS = ["The talks should go much further.", "Frankly, this cooperation must not fail."]
CHINA = {
    "Favor": "China's wise and generous leadership helped.",
    "Against": "China's aggressive and reckless policy hurt.",
}


def _corpus(articles: int, per_article: int) -> tuple[pd.DataFrame, list[tuple[str, str, dict[str, str]]]]:
    """Sentences and each one's true labels: fact/opinion and China's stance from fixed phrases."""
    rows, truth = [], []
    for a in range(articles):
        for i in range(per_article):
            k = a * per_article + i
            kind = "Fact" if k % 2 == 0 else "Opinion"
            base = (FACTS if kind == "Fact" else OPINIONS)[k % 4 // 2].format(n=k + 2)
            china = ["Favor", "Against", "Not addressed"][k % 3]
            text = f"{base.rstrip('.')}, while {CHINA.get(china, 'markets were calm.')}"  # one sentence
            sid, doc = f"a{a}-{i}", f"a{a}"
            rows.append(
                {"sentence_id": sid, "doc_id": doc, "sentence_index": i, "paragraph": 0, "text": text}
            )
            truth.append(
                (sid, doc, {"sentence_type": kind, "stance_china": china, "stance_us": "Not addressed"})
            )
    table = pd.DataFrame.from_records(rows).reindex(columns=SENTENCE_COLUMNS)
    table["task_id"] = range(1, len(table) + 1)
    table["paragraph"] = 0
    table["superseded"] = False
    return table, truth


def _pulled(folder: Path, articles: int, per_article: int) -> None:
    """A pull as annotate pull writes it: three annotators who agree with the truth."""
    sentences, truth = _corpus(articles, per_article)
    records, annotation_id = [], 0
    t0 = pd.Timestamp("2026-01-01T00:00:00Z")
    for task_id, (sid, doc, labels) in enumerate(truth, start=1):
        for who in ("a@x.org", "b@x.org", "c@x.org"):
            annotation_id += 1
            for field, label in labels.items():
                records.append(
                    {
                        "sentence_id": sid,
                        "doc_id": doc,
                        "task_id": task_id,
                        "annotation_id": annotation_id,
                        "annotator": who,
                        "field": field,
                        "label": label,
                        "created_at": t0,
                        "updated_at": t0,
                        "lead_time": 5.0,
                        "cancelled": False,
                        "ground_truth": False,
                    }
                )
    annotations = _typed_annotations(pd.DataFrame.from_records(records).reindex(columns=ANNOTATION_COLUMNS))
    folder.mkdir(parents=True)
    write_parquet(sentences, folder / "sentences.parquet")
    write_parquet(annotations, folder / "annotations.parquet")


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path, str]:
    config = load_config(ROOT / "configs" / "stance.yaml")
    cfg = tmp_path / "stance.yaml"
    cfg.write_text(yaml.safe_dump({**config.model_dump(), "name": "learn-test"}), encoding="utf-8")
    return cfg, tmp_path / "exports", "learn-test"


def test_learn_trains_what_has_labels_and_skips_the_rest(project) -> None:
    cfg, out, name = project
    _pulled(out / name, articles=16, per_article=6)
    result = runner.invoke(app, ["learn", "--config", str(cfg), "--out", str(out), "--no-suggest"])
    assert result.exit_code == 0, result.output
    models, card = load_model(out / name / "model")
    assert set(models) == {"sentence_type", "stance_china"}
    kind = card.fields["sentence_type"]
    assert kind.trained and kind.n_labels == 96 and kind.n_articles == 16
    assert kind.cv is not None and kind.cv["accuracy"] > kind.cv["majority_baseline"] + 0.3
    us = card.fields["stance_us"]
    assert not us.trained and us.reason  # every sentence is 'Not addressed': nothing to learn
    assert "stance_us" in result.output and us.reason in result.output
    saved = json.loads((out / name / "model" / "model_card.json").read_text(encoding="utf-8"))
    assert saved["model_version"] == card.model_version and saved["model_sha256"]
    # a new sentence, never labelled: the model has learnt the phrases
    proba = models["sentence_type"].predict_proba(["Officials reported 99 meetings on Monday."])
    classes = list(models["sentence_type"].classes_)
    assert classes[int(proba.argmax())] == "Fact"

    again = runner.invoke(app, ["learn", "--config", str(cfg), "--out", str(out), "--no-suggest"])
    assert again.exit_code == 0 and "(was " in again.output and "previous run" in again.output


def test_too_few_labels_is_one_line_and_writes_nothing(project) -> None:
    cfg, out, name = project
    _pulled(out / name, articles=2, per_article=4)
    result = runner.invoke(app, ["learn", "--config", str(cfg), "--out", str(out), "--no-suggest"])
    assert result.exit_code == 2
    assert result.output.startswith("error: no field has enough labels") and result.output.count("\n") == 1
    assert not (out / name / "model").exists()


def test_learn_before_pull_says_pull_first(project) -> None:
    cfg, out, _ = project
    result = runner.invoke(app, ["learn", "--config", str(cfg), "--out", str(out), "--no-suggest"])
    assert result.exit_code == 5 and "annotate pull" in result.output


def test_learn_puts_one_scored_suggestion_on_each_unlabelled_task(
    tmp_path, make_project, server_env, studio, annotator_keys
) -> None:
    """On a real server: the unlabelled tasks get one prediction of the card's version, better
    than the majority class on sentences nobody labelled; the project pre-fills with it; a second
    learn replaces it; a push keeps the project on it. (overlap 1: with more, Label Studio first
    completes the sentences others have started, breadth first, before any sampling order.)"""
    config, cfg_path = make_project(overlap=1)
    _, truth = _corpus(articles=16, per_article=6)
    texts = dict(_corpus(articles=16, per_article=6)[0][["sentence_id", "text"]].values)
    files = []
    for a in range(16):
        path = tmp_path / f"a{a}.txt"
        path.write_text("\n".join(texts[f"a{a}-{i}"] for i in range(6)) + "\n", encoding="utf-8")
        files.append(path)
    assert runner.invoke(app, ["push", *map(str, files), "--config", str(cfg_path)]).exit_code == 0
    pid = int(studio.find_project(config.name)["id"])
    by_text = {t: labels for (sid, _, labels), t in zip(truth, [texts[s] for s, _, _ in truth], strict=True)}
    tasks = [t for page, _ in studio.iter_task_pages(pid, fields="all") for t in page]
    assert len(tasks) == 96
    labelled_docs = {f"a{a}" for a in range(12)}  # 72 sentences labelled, 24 never
    (_, token), *_ = annotator_keys(1)
    with Studio(Connection(server_env.url, token, "test")) as me:
        for task in tasks:
            if task["data"]["doc_id"] not in labelled_docs:
                continue
            labels = by_text[task["data"]["text"]]
            me.create_annotation(
                task["id"],
                [
                    {"from_name": f, "to_name": "sentence", "type": "choices", "value": {"choices": [v]}}
                    for f, v in labels.items()
                ],
            )
    out = tmp_path / "exports"
    assert runner.invoke(app, ["pull", "--config", str(cfg_path), "--out", str(out)]).exit_code == 0
    learned = runner.invoke(app, ["learn", "--config", str(cfg_path), "--out", str(out)])
    assert learned.exit_code == 0, learned.output
    _, card = load_model(out / config.name / "model")
    assert "Suggestions of " + card.model_version + " on 24 unlabelled task(s)" in learned.output

    def suggested() -> dict[int, tuple[str, list[dict]]]:
        found = [t for page, _ in studio.iter_task_pages(pid, fields="all") for t in page]
        return {
            t["id"]: (t["data"]["text"], [p for p in t.get("predictions") or [] if isinstance(p, dict)])
            for t in found
        }

    version = card.model_version
    fresh = {
        tid: (text, preds)
        for tid, (text, preds) in suggested().items()
        if preds and preds[0]["model_version"] == version
    }
    assert len(fresh) == 24
    records = pd.read_parquet(out / config.name / "model" / "suggestions.parquet")
    assert len(records) == 24 * sum(entry.trained for entry in card.fields.values())
    hidden = set(records.loc[~records["shown"], "sentence_id"])
    right = shown = 0
    for text, preds in fresh.values():
        assert len(preds) == 1 and 0 < preds[0]["score"] <= 1
        choices = [r for r in preds[0]["result"] if r["type"] == "choices"]
        chosen = {r["from_name"]: r["value"]["choices"][0] for r in choices}
        if not chosen:  # a control task: the model's guess is recorded, not shown
            continue
        shown += 1
        right += chosen["sentence_type"] == by_text[text]["sentence_type"]
    assert shown == 24 - len(hidden) and shown >= 18  # about a tenth are controls
    accuracy = right / shown
    cv = card.fields["sentence_type"].cv
    assert cv is not None
    cv_accuracy, baseline = cv["accuracy"], cv["majority_baseline"]
    print(f"never-labelled: {accuracy:.3f}; card: {cv_accuracy:.3f}, majority {baseline:.3f}")
    assert accuracy > baseline and abs(accuracy - cv_accuracy) <= 0.05
    assert studio.project(pid)["model_version"] == card.model_version

    # again: one current prediction per task, not two
    assert runner.invoke(app, ["learn", "--config", str(cfg_path), "--out", str(out)]).exit_code == 0
    assert all(len(preds) <= 1 for _, preds in suggested().values())
    # a push leaves the project on the model's version
    assert runner.invoke(app, ["push", *map(str, files), "--config", str(cfg_path)]).exit_code == 0
    assert studio.project(pid)["model_version"].startswith("annotate-tfidf-lr-")

    # order: uncertainty -> Label Studio serves the least certain suggestion first
    uncertain = cfg_path.with_name("uncertain.yaml")
    uncertain.write_text(yaml.safe_dump({**config.model_dump(), "order": "uncertainty"}), encoding="utf-8")
    assert runner.invoke(app, ["push", *map(str, files), "--config", str(uncertain)]).exit_code == 0
    assert studio.project(pid)["sampling"] == "Uncertainty sampling"
    scores = sorted(
        preds[0]["score"]
        for _, preds in suggested().values()
        if preds and preds[0]["model_version"].startswith("annotate-tfidf")
    )
    (_, second), *_ = annotator_keys(2)[1:]
    with Studio(Connection(server_env.url, second, "test")) as other:
        served = other.get_json(f"api/projects/{pid}/next")
    served_score = suggested()[served["id"]][1][0]["score"]
    # Label Studio picks at random among the (annotators + 1) lowest scores, to spread annotators
    assert served_score <= scores[2] < scores[-1]

    # the anchoring check: a second annotator labels the suggested tasks; summarize compares
    # their answers on shown and control tasks with the model's recorded guesses
    fresh_ids = set(fresh)
    with Studio(Connection(server_env.url, second, "test")) as other:
        for task in tasks:
            if task["id"] in fresh_ids:
                labels = by_text[task["data"]["text"]]
                other.create_annotation(
                    task["id"],
                    [
                        {"from_name": f, "to_name": "sentence", "type": "choices", "value": {"choices": [v]}}
                        for f, v in labels.items()
                    ],
                )
    assert runner.invoke(app, ["pull", "--config", str(cfg_path), "--out", str(out)]).exit_code == 0
    assert runner.invoke(app, ["summarize", "--config", str(cfg_path), "--out", str(out)]).exit_code == 0
    anchoring = pd.read_csv(out / config.name / "anchoring.csv", encoding="utf-8-sig")
    assert set(anchoring["field"]) == set(records["field"])
    assert (anchoring["answers_shown"] + anchoring["answers_control"] == 24).all()
    assert anchoring["verdict"].str.len().gt(0).all()
    report = (out / config.name / "report.html").read_text(encoding="utf-8")
    assert "Did the suggestions pull the answers toward the model?" in report

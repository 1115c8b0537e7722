"""Push against a real Label Studio: blinding, suggestions, superseded sentences, skip queue, guidelines.

Annotators are real Label Studio users; what they are served is read from the same endpoint the
labeling stream uses (``/api/projects/N/next``), and what they can see from the endpoints the
labeling view and the Data Manager read.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from annotate.cli import app
from annotate.config import load_config
from annotate.demo import sample_article
from annotate.errors import InputError
from annotate.ingest import cues as suggest
from annotate.ingest.articles import read_articles
from annotate.ingest.segment import split_article
from annotate.starter import guidelines_path, packaged_file, suggestions_path
from annotate.studio.client import Connection, Studio
from annotate.studio.gold import gold_tasks, read_gold
from annotate.studio.push import prepare, push
from annotate.studio.tasks import task_payloads
from annotate.workflows import pull

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "configs" / "cues.yaml"
F, A, N, X = "Favor", "Against", "Neutral", "Not addressed"
HIDDEN = {"outlet": "Outlet-Secret", "country": "Country-Secret", "author": "Author-Secret"}
ARTICLE = {
    "id": "talks",
    "title": "Talks resume",
    **HIDDEN,
    "published": "2025-02-03",
    "url": "https://example.org/talks",
    "text": "The two governments met on Monday. Some in Washington are weaponizing chip exports. "
    "Officials will meet again in March.",
}


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _jsonl(path: Path, *rows: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _tasks(studio: Studio, pid: int) -> list[dict]:
    tasks = [t for page, _ in studio.iter_task_pages(pid, fields="all") for t in page]
    return sorted(tasks, key=lambda t: t["id"])


def _choices(china: str = X) -> list[dict[str, object]]:
    def one(name: str, label: str) -> dict[str, object]:
        return {"from_name": name, "to_name": "sentence", "type": "choices", "value": {"choices": [label]}}

    return [one("stance_china", china), one("stance_us", X), one("stance_cooperation", X)] + [
        one("sentence_type", "Fact")
    ]


def _stream(url: str, key: str, pid: int, answer: bool = True, limit: int = 30) -> list[str]:
    """Work through the labeling stream as this user; returns the texts served, in order."""
    served = []
    with Studio(Connection(url, key, "test")) as me:
        for _ in range(limit):
            resp = me.request("GET", f"api/projects/{pid}/next", ok=(200, 404))
            if resp.status_code == 404:
                break
            task = resp.json()
            served.append(task["data"]["text"])
            if answer:
                me.create_annotation(task["id"], _choices())
    return served


# -- no server ------------------------------------------------------------------------------


def test_blinded_fields_go_to_meta_and_gold_tasks_have_the_same_keys(tmp_path):
    config = load_config(ROOT / "configs" / "stance.yaml")
    article = read_articles([_jsonl(tmp_path / "a.jsonl", ARTICLE)])[0]
    tasks = task_payloads(article, split_article(article), 1, config.blind)
    data, meta = tasks[1]["data"], tasks[1]["meta"]
    assert meta == {"outlet": "Outlet-Secret", "country": "Country-Secret", "author": "Author-Secret"}
    assert not set(HIDDEN.values()) & {str(v) for v in data.values()}
    assert data["metadata"] == {} and data["published"] == "2025-02-03" and data["url"].endswith("talks")
    assert data["paragraph_text"] == ARTICLE["text"]
    shown = task_payloads(article, split_article(article), 1, [])[1]
    assert shown["meta"] == {} and shown["data"]["outlet"] == "Outlet-Secret"
    assert shown["data"]["metadata"] == {"author": "Author-Secret"}

    gold = _jsonl(tmp_path / "gold.jsonl", {"text": "A gold sentence.", "stance_china": F})
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({**config.model_dump(), "gold": str(gold)}), encoding="utf-8")
    prepared = prepare([_jsonl(tmp_path / "b.jsonl", ARTICLE)], load_config(cfg), cfg)
    golden = [t for t in prepared.tasks if t.get("annotations")]
    ordinary = [t for t in prepared.tasks if not t.get("annotations")]
    assert len(golden) == 1 and gold_tasks(read_gold(gold, load_config(cfg)))
    # nothing annotators can see tells a gold sentence from an ordinary one, even in the API:
    # with a blinded article in the push, both are sealed
    assert set(golden[0]["data"]) == set(ordinary[0]["data"])
    assert set(golden[0]["meta"]) == set(ordinary[0]["meta"]) == {"sealed", "key_id"}
    plain = prepare(
        [_jsonl(tmp_path / "b.jsonl", ARTICLE)], load_config(cfg).model_copy(update={"blind": []}), cfg
    )
    assert [t["meta"] for t in plain.tasks if t.get("annotations")] == [{}]


def test_guidelines_and_rules_paths(tmp_path):
    sample = load_config(ROOT / "configs" / "stance.yaml")
    # the sample config finds configs/guidelines.md; a copy elsewhere falls back to the packaged one
    assert guidelines_path(sample, ROOT / "configs" / "stance.yaml") == ROOT / "configs" / "guidelines.md"
    assert guidelines_path(sample, tmp_path / "stance.yaml") == packaged_file("guidelines.md")
    assert (ROOT / "configs" / "guidelines.md").read_bytes() == packaged_file("guidelines.md").read_bytes()
    (tmp_path / "guidelines.md").write_text("# Ours\n", encoding="utf-8")
    assert guidelines_path(sample, tmp_path / "stance.yaml") == tmp_path / "guidelines.md"
    # another scheme gets no guidelines by default: the sample's would describe other questions
    other = sample.model_copy(update={"stance_labels": ["Pro", "Contra"]})
    assert guidelines_path(other, tmp_path / "sub" / "x.yaml") is None
    assert guidelines_path(sample.model_copy(update={"guidelines": False}), tmp_path / "stance.yaml") is None
    named = sample.model_copy(update={"guidelines": "docs/g.md", "suggestions": "rules/cues.yaml"})
    assert guidelines_path(named, tmp_path / "stance.yaml") == tmp_path / "docs" / "g.md"
    assert suggestions_path(named, tmp_path / "stance.yaml") == tmp_path / "rules" / "cues.yaml"
    assert suggestions_path(sample, None) is not None
    assert suggestions_path(sample.model_copy(update={"cues": []}), None) is None
    assert suggestions_path(sample.model_copy(update={"suggestions": False}), None) is None

    cfg = tmp_path / "missing.yaml"
    cfg.write_text(yaml.safe_dump({**sample.model_dump(), "guidelines": "nope.md"}), encoding="utf-8")
    article = _jsonl(tmp_path / "a.jsonl", ARTICLE)
    with pytest.raises(InputError, match="nope.md: guidelines file not found"):
        prepare([article], load_config(cfg), cfg)


def test_prepare_attaches_suggestions(tmp_path):
    config = load_config(ROOT / "configs" / "stance.yaml").model_copy(update={"suggestions": str(RULES)})
    prepared = prepare([_jsonl(tmp_path / "a.jsonl", ARTICLE)], config)
    assert prepared.rules is not None
    found = {t["data"]["text"]: t.get("predictions") for t in prepared.tasks}
    assert found["The two governments met on Monday."] is None
    [suggestion] = found["Some in Washington are weaponizing chip exports."]
    assert suggestion["model_version"] == prepared.rules.version
    spans = {(r["value"]["text"], r["value"]["labels"][0]) for r in suggestion["result"]}
    assert spans == {("Some in Washington", "Vague attribution"), ("weaponizing", "Loaded language")}


# -- real server ----------------------------------------------------------------------------


def test_blinded_metadata_is_invisible_to_annotators_but_pulled(
    tmp_path, make_project, server_env, studio, annotator_keys
):
    config, cfg_path = make_project(suggestions=False)
    _invoke("push", str(_jsonl(tmp_path / "a.jsonl", ARTICLE)), "--config", str(cfg_path))
    pid = int(studio.find_project(config.name)["id"])
    email, key = annotator_keys(1)[0]
    with Studio(Connection(studio.url, key, "test")) as me:
        # the labeling view: the task the stream serves
        served = me.get_json(f"api/projects/{pid}/next")
        # the Data Manager: its columns and its table rows
        columns = [c["id"] for c in me.get_json("api/dm/columns", params={"project": pid})["columns"]]
        rows = me.get_json("api/tasks/", params={"project": pid})["tasks"]
        project = me.get_json(f"api/projects/{pid}/")
    for task in [served, *rows]:
        shown = json.dumps(task["data"])
        for value in HIDDEN.values():
            assert value not in shown
        assert "2025-02-03" in shown  # published is not blinded by default
    assert not {"outlet", "country", "author"} & set(columns)
    for value in HIDDEN.values():
        assert value not in project["label_config"]
    # ... but the exports have them
    out = tmp_path / "exports"
    pull(config, studio, out)
    sentences = pd.read_parquet(out / config.name / "sentences.parquet")
    assert sentences[["outlet", "country", "author"]].drop_duplicates().values.tolist() == [
        ["Outlet-Secret", "Country-Secret", "Author-Secret"]
    ]
    assert sentences["published"].unique().tolist() == ["2025-02-03"]
    assert not sentences["superseded"].any()

    # blinding a project pushed before: a re-push moves the fields out of the data
    open_cfg = cfg_path.with_name("open.yaml")
    open_cfg.write_text(
        yaml.safe_dump({**config.model_dump(), "blind": [], "suggestions": False}), encoding="utf-8"
    )
    result = _invoke("push", str(tmp_path / "a.jsonl"), "--config", str(open_cfg))
    assert "Nothing new to import" in result
    assert all(t["data"]["outlet"] == "Outlet-Secret" for t in _tasks(studio, pid))
    again = push(prepare([tmp_path / "a.jsonl"], config, cfg_path), config, studio)
    assert again.refreshed == 3 and again.imported == 0
    # blinded again: sealed, the outlet readable nowhere in the task
    assert all(
        "outlet" not in t["data"] and set(t["meta"]) == {"sealed", "key_id"} for t in _tasks(studio, pid)
    )
    assert all("Outlet-Secret" not in json.dumps(t) for t in _tasks(studio, pid))


def test_suggestions_are_predictions_that_prefill_the_stream(
    tmp_path, make_project, server_env, studio, annotator_keys
):
    config, cfg_path = make_project(suggestions=str(RULES), overlap=1)
    prepared = prepare([_jsonl(tmp_path / "a.jsonl", ARTICLE)], config, cfg_path)
    result = push(prepared, config, studio)
    assert result.predictions == 1 and result.suggestions_version == prepared.rules.version
    project = studio.find_project(config.name)
    # the project's model version is the rules' version, and predictions are shown to annotators:
    # the labeling stream then starts the annotation from the prediction
    assert project["model_version"] == prepared.rules.version
    assert project["show_collab_predictions"] and not project["reveal_preannotations_interactively"]
    pid = int(project["id"])
    key = annotator_keys(1)[0][1]
    with Studio(Connection(studio.url, key, "test")) as me:
        first = me.get_json(f"api/projects/{pid}/next")
        assert first["predictions"] == []
        me.create_annotation(first["id"], _choices())
        second = me.get_json(f"api/projects/{pid}/next")
    assert second["data"]["text"] == "Some in Washington are weaponizing chip exports."
    [suggested] = second["predictions"]
    assert suggested["model_version"] == prepared.rules.version
    assert [r["value"]["text"] for r in suggested["result"]] == ["Some in Washington", "weaponizing"]

    # new rules: every live sentence gets a suggestion of the new version, which becomes the project's
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules["rules"][0]["confidence"] = 0.42
    changed = tmp_path / "cues.yaml"
    changed.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    newer = config.model_copy(update={"suggestions": str(changed)})
    again = push(prepare([tmp_path / "a.jsonl"], newer, cfg_path), newer, studio)
    assert again.suggestions_version != prepared.rules.version and again.predictions == 1
    assert studio.project(pid)["model_version"] == again.suggestions_version
    with Studio(Connection(studio.url, key, "test")) as me:
        served = me.get_json(f"api/projects/{pid}/next")  # the task this annotator has open
    assert served["id"] == second["id"]
    assert [p["model_version"] for p in served["predictions"]] == [again.suggestions_version]

    # switched off: no predictions are shown any more
    off = config.model_copy(update={"suggestions": False})
    push(prepare([tmp_path / "a.jsonl"], off, cfg_path), off, studio)
    project = studio.project(pid)
    assert not project["show_collab_predictions"] and project["model_version"] == ""


def test_suggestions_do_not_slow_push_much(tmp_path, make_project, server_env, studio):
    sample = sample_article().read_text(encoding="utf-8")
    paths = []
    for i in range(20):
        path = tmp_path / f"article{i:02d}.txt"
        path.write_text(f"Article {i}\n\n{sample}\nThis is article number {i}.\n", encoding="utf-8")
        paths.append(path)
    timings = {}
    for suggestions in (False, str(RULES)):
        config, cfg_path = make_project(suggestions=suggestions)
        prepared = prepare(paths, config, cfg_path)
        result = push(prepared, config, studio)
        began = time.perf_counter()
        if prepared.rules is not None:
            for task in prepared.tasks:
                suggest.prediction(task["data"]["text"], prepared.rules)
        timings[bool(suggestions)] = (result.seconds, time.perf_counter() - began, result.predictions)
    (plain, _, _), (with_suggestions, finding, predictions) = timings[False], timings[True]
    print(
        f"\npush of {len(paths) * 30} sentences: {plain:.2f} s without suggestions, {with_suggestions:.2f} s"
        f" with {predictions} suggestions (finding them: {finding:.2f} s)"
    )
    assert predictions > 100
    assert finding < 2.0
    assert with_suggestions < 3 * plain + 5.0


def test_edited_sentence_is_superseded_not_orphaned(
    tmp_path, make_project, server_env, studio, annotator_keys
):
    config, cfg_path = make_project(suggestions=False, overlap=2)
    article = tmp_path / "talks.txt"
    original = "The two sides met on Monday. Both praised the talks. Officials will meet again in March.\n"
    article.write_text(original, encoding="utf-8")
    _invoke("push", str(article), "--config", str(cfg_path))
    pid = int(studio.find_project(config.name)["id"])
    keys = annotator_keys(3)
    # the first annotator labels everything, including the sentence about to change
    assert len(_stream(studio.url, keys[0][1], pid)) == 3

    article.write_text(original.replace("Both praised the talks.", "Both sides praised the talks."), "utf-8")
    result = push(prepare([article], config, cfg_path), config, studio)
    assert (result.imported, result.superseded, result.revived) == (1, 1, 0)
    # the neighbours now show the edited sentence as their context
    assert result.refreshed == 2
    tasks = _tasks(studio, pid)
    assert len(tasks) == 4  # nothing deleted
    old = next(t for t in tasks if t["data"]["text"] == "Both praised the talks.")
    assert old["meta"]["superseded"] is True and old["meta"]["superseded_at"].endswith("Z")
    assert old["overlap"] == 0 and old["is_labeled"] and len(old["annotations"]) == 1
    first = next(t for t in tasks if t["data"]["sentence_index"] == 0 and not t["meta"].get("superseded"))
    assert first["data"]["context_after"] == "Both sides praised the talks."

    # annotators are no longer served the superseded sentence
    served = _stream(studio.url, keys[1][1], pid)
    assert sorted(served) == [
        "Both sides praised the talks.",
        "Officials will meet again in March.",
        "The two sides met on Monday.",
    ]

    out = tmp_path / "exports"
    pull(config, studio, out)
    sentences = pd.read_parquet(out / config.name / "sentences.parquet")
    annotations = pd.read_parquet(out / config.name / "annotations.parquet")
    flags = dict(zip(sentences["text"], sentences["superseded"], strict=True))
    assert flags == {
        "The two sides met on Monday.": False,
        "Both praised the talks.": True,
        "Both sides praised the talks.": False,
        "Officials will meet again in March.": False,
    }
    assert int(old["id"]) in set(annotations["task_id"])  # its annotation is still exported

    # pushing the same edit again changes nothing; undoing the edit revives the old sentence
    assert push(prepare([article], config, cfg_path), config, studio).superseded == 0
    article.write_text(original, encoding="utf-8")
    back = push(prepare([article], config, cfg_path), config, studio)
    assert (back.imported, back.superseded, back.revived) == (0, 1, 1)
    revived = next(t for t in _tasks(studio, pid) if t["id"] == old["id"])
    assert not revived["meta"].get("superseded") and revived["overlap"] == 2 and not revived["is_labeled"]
    time.sleep(1)
    pull(config, studio, out)
    flags = pd.read_parquet(out / config.name / "sentences.parquet").set_index("text")["superseded"]
    assert not flags["Both praised the talks."] and flags["Both sides praised the talks."]


@pytest.mark.parametrize(
    ("skip_queue", "back_to_me", "to_others"),
    [("requeue_for_me", True, False), ("requeue_for_others", False, True), ("ignore", False, False)],
)
def test_skipped_sentence_is_requeued_as_configured(
    tmp_path, make_project, server_env, studio, annotator_keys, skip_queue, back_to_me, to_others
):
    config, cfg_path = make_project(suggestions=False, overlap=1, skip_queue=skip_queue)
    article = tmp_path / "two.txt"
    article.write_text("The first sentence is hard. The second sentence is easy.\n", encoding="utf-8")
    _invoke("push", str(article), "--config", str(cfg_path))
    project = studio.find_project(config.name)
    assert project["skip_queue"] == config.label_studio_skip_queue()
    pid = int(project["id"])
    (_, me), (_, other) = annotator_keys(2)
    with Studio(Connection(studio.url, me, "test")) as as_me:
        hard = as_me.get_json(f"api/projects/{pid}/next")
        assert hard["data"]["text"] == "The first sentence is hard."
        as_me.create_annotation(hard["id"], [], was_cancelled=True)  # what the Skip button sends
    # the skipper labels what is left; the skipped sentence comes back to them only with requeue_for_me
    mine = _stream(studio.url, me, pid)
    assert mine == ["The second sentence is easy."] + (["The first sentence is hard."] if back_to_me else [])
    theirs = _stream(studio.url, other, pid)
    assert theirs == (["The first sentence is hard."] if to_others else [])

    out = tmp_path / "exports"
    pull(config, studio, out)
    annotations = pd.read_parquet(out / config.name / "annotations.parquet")
    # the skip is counted
    assert int(annotations["cancelled"].sum()) == 1


def test_guidelines_become_the_instructions(tmp_path, make_project, server_env, studio):
    config, cfg_path = make_project(suggestions=False)
    (cfg_path.parent / "guidelines.md").write_text(
        "# Our rules\n\nLabel **carefully**. <img src=x onerror=alert(1)> [x](javascript:alert(1))\n",
        encoding="utf-8",
    )
    article = _jsonl(tmp_path / "a.jsonl", ARTICLE)
    first = push(prepare([article], config, cfg_path), config, studio)
    assert first.guidelines == cfg_path.parent / "guidelines.md"
    project = studio.project(first.project_id)
    html = project["expert_instruction"]
    assert project["show_instruction"] is True
    assert "<h1>Our rules</h1>" in html and "<strong>carefully</strong>" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript' not in html
    assert "Keys in this project" in html
    # Label Studio keeps the instructions as sent, so a re-push changes nothing
    assert not push(prepare([article], config, cfg_path), config, studio).updated
    shutil.copy(packaged_file("guidelines.md"), cfg_path.parent / "guidelines.md")
    assert push(prepare([article], config, cfg_path), config, studio).updated
    off = config.model_copy(update={"guidelines": False})
    push(prepare([article], off, cfg_path), off, studio)
    project = studio.project(first.project_id)
    assert project["show_instruction"] is False and project["expert_instruction"] == ""


def test_sentences_pushed_by_earlier_versions_are_not_rewritten_for_nothing(
    tmp_path, make_project, server_env, studio
):
    config, cfg_path = make_project(suggestions=False)
    article = tmp_path / "plain.txt"
    article.write_text("A plain article. It has no outlet. Nor a country.\n", encoding="utf-8")
    first = push(prepare([article], config, cfg_path), config, studio)
    # how earlier versions stored a sentence: empty metadata fields in the data, no paragraph text
    for task in _tasks(studio, first.project_id):
        data = {k: v for k, v in task["data"].items() if k != "paragraph_text"}
        studio.update_task(task["id"], {"data": {**data, "outlet": "", "country": ""}, "meta": {}})
    again = push(prepare([article], config, cfg_path), config, studio)
    assert (again.imported, again.refreshed, again.superseded) == (0, 0, 0)
    # showing the paragraph needs it in the data: then every sentence is refreshed
    shown = config.model_copy(update={"show_paragraph": True})
    assert push(prepare([article], shown, cfg_path), shown, studio).refreshed == 3


def test_import_requests_grow_to_the_cap() -> None:
    """The first request is ``batch_size`` tasks (it goes out early); later ones grow by
    ``GROWTH`` to ``GROWTH_CAP`` times it, and stay there."""
    from annotate.studio.push import BATCH_SIZE, GROWTH_CAP, _batch

    sizes = [_batch(BATCH_SIZE, sent) for sent in range(8)]
    assert sizes[0] == BATCH_SIZE
    assert sizes == sorted(sizes) and len(set(sizes)) > 2
    assert sizes[-1] == sizes[-2] == int(BATCH_SIZE * GROWTH_CAP)
    assert [_batch(100, sent) for sent in range(4)] == [100, 150, 225, 250]


def test_split_worker_stays_at_most_lookahead_runs_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's results are held for at most LOOKAHEAD runs, and released once taken (a
    campaign's tasks never pile up in memory); the tasks are those of splitting in-process."""
    from annotate.ingest.articles import Article
    from annotate.studio import tasks as tasks_module

    monkeypatch.setattr(tasks_module, "PIPELINE_CHARS", 1_000)
    monkeypatch.setattr(tasks_module, "RUN_CHARS", 300)
    monkeypatch.setattr(tasks_module, "LOOKAHEAD", 3)
    config = load_config(ROOT / "configs" / "stance.yaml").model_copy(update={"suggestions": False})
    sentence = "Officials met in round {}-{} of the talks."
    texts = {f"d{i}": " ".join(sentence.format(i, j) for j in range(8)) for i in range(12)}
    articles = [Article(doc_id=doc, text=text) for doc, text in texts.items()]
    held, streamed = [], []
    with tasks_module.TaskStream(articles, config) as stream:
        assert len(stream.runs) > 6
        for _run, tasks in stream:
            held.append(len(stream._futures))
            streamed.extend(tasks)
    assert max(held) <= 3 and held[-1] == 0
    assert streamed == tasks_module.article_tasks(articles, config)

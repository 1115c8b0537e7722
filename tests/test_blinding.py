"""Blinding that holds against the API, and annotator pseudonyms (annotate.keys, annotate.studio.blinding).

The unit tests check the sealing, the pseudonyms and the keys file; the server tests push a
blinded article to the real Label Studio and look for its outlet in every answer an annotator
who joined through the invite link can get with their own API key.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from annotate import keys as keys_module
from annotate.cli import app
from annotate.errors import KeyFileError
from annotate.files import read_table
from annotate.ingest.articles import read_articles
from annotate.ingest.segment import split_article
from annotate.keys import ProjectKeys, export_keys, import_keys, key_path, load_keys, project_keys
from annotate.studio.blinding import blind_task, check_key, is_blinded, unseal_tasks
from annotate.studio.client import Connection, Studio
from annotate.studio.push import prepare, push
from annotate.studio.tasks import task_payloads

runner = CliRunner()
OUTLET = "Xinhua-Secret-Outlet"
COUNTRY = "Ruritania-Secret"
AUTHOR = "Jane Secret-Author"
URL = "https://secret-outlet.example/2026/ai-talks"
DOC_ID = "xinhua-secret-2026-ai"
ARTICLE = {
    "id": DOC_ID,
    "title": "Talks on AI",
    "outlet": OUTLET,
    "country": COUNTRY,
    "author": AUTHOR,
    "published": "2026-03-01",
    "url": URL,
    "text": "China and the US met on AI. Some in the US objected to the talks. Both sides will meet again.",
}
SECRETS = (OUTLET, COUNTRY, AUTHOR, URL, DOC_ID, "secret-outlet")


@pytest.fixture(autouse=True)
def _own_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts on a machine with no keys."""
    monkeypatch.setenv(keys_module.KEY_DIR_ENV, str(tmp_path / "keys"))


def _jsonl(path: Path, *rows: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _keys(project: str = "p") -> ProjectKeys:
    keys = load_keys(project, create=True)
    assert keys is not None
    return keys


# -- sealing and pseudonyms ---------------------------------------------------------------------


def test_a_blinded_task_carries_nothing_readable(tmp_path: Path) -> None:
    article = read_articles([_jsonl(tmp_path / "a.jsonl", ARTICLE)])[0]
    keys = _keys()
    assert is_blinded(article, ["outlet"]) and not is_blinded(article, [])
    tasks = task_payloads(article, split_article(article), 1, ["outlet", "country", "author"], keys)
    text = json.dumps(tasks)
    for secret in SECRETS:
        assert secret not in text, secret
    task = tasks[0]
    assert set(task["meta"]) == {"sealed", "key_id"}
    assert task["data"]["doc_id"].startswith("d") and "url" not in task["data"]
    # deterministic: the same sentence sealed twice is the same bytes (a re-push changes nothing)
    again = task_payloads(article, split_article(article), 1, ["outlet", "country", "author"], keys)
    assert again == tasks
    # pull opens it: the real ids and every hidden field come back
    real = task_payloads(article, split_article(article), 1, ["outlet", "country", "author"])
    assert unseal_tasks(tasks, keys) == 0
    assert tasks[0]["data"]["doc_id"] == DOC_ID
    assert tasks[0]["data"]["sentence_id"] == real[0]["data"]["sentence_id"]
    assert tasks[0]["meta"] == {"outlet": OUTLET, "country": COUNTRY, "author": AUTHOR, "url": URL}


def test_without_the_key_pull_keeps_pseudonyms_and_counts_them(tmp_path: Path) -> None:
    article = read_articles([_jsonl(tmp_path / "a.jsonl", ARTICLE)])[0]
    tasks = task_payloads(article, split_article(article), 0, ["outlet"], _keys("a"))
    other = _keys("b")
    assert unseal_tasks(tasks, None) == len(tasks)
    tasks = task_payloads(article, split_article(article), 0, ["outlet"], _keys("a"))
    assert unseal_tasks(tasks, other) == len(tasks)  # another key opens nothing
    assert all(set(t["meta"]) == set() and t["data"]["doc_id"].startswith("d") for t in tasks)


def test_pseudonyms_are_keyed_and_stable() -> None:
    a, b = _keys("a"), _keys("b")
    assert a.pseudonym("doc", DOC_ID) == a.pseudonym("doc", DOC_ID) != b.pseudonym("doc", DOC_ID)
    assert a.pseudonym("doc", DOC_ID) != a.pseudonym("sentence", DOC_ID)
    sealed = blind_task({"doc_id": "x", "sentence_id": "s1", "url": ""}, {}, a)
    assert "url" not in sealed["data"]
    # the published construction, computed the long way: HMAC-SHA256 over kind, U+001F, value
    import hashlib
    import hmac

    assert a.key is not None
    long_way = hmac.new(a.key, f"doc\x1f{DOC_ID}".encode(), hashlib.sha256).hexdigest()[:16]
    assert a.pseudonym("doc", DOC_ID) == "d" + long_way
    assert a.key_id == hmac.new(a.key, b"key id", hashlib.sha256).hexdigest()[:12] != b.key_id
    assert a.unseal(a.seal({"k": "v"})) == {"k": "v"} and b.unseal(a.seal({"k": "v"})) is None


def test_push_refuses_tasks_sealed_with_another_key() -> None:
    mine, theirs = _keys("a"), _keys("b")
    task = {"meta": {"sealed": "x", "key_id": theirs.key_id}}
    check_key([{"meta": {}}, {"meta": {"key_id": mine.key_id}}], mine, "a")
    with pytest.raises(KeyFileError, match="annotate key import"):
        check_key([task], mine, "a")
    with pytest.raises(KeyFileError, match="does not have"):
        check_key([task], None, "a")


# -- the keys file --------------------------------------------------------------------------------


def test_keys_file_is_private_and_round_trips(tmp_path: Path) -> None:
    keys = _keys("study")
    assert keys.annotator("b@x.org") == "A01" and keys.annotator("a@x.org") == "A02"
    path = keys.save()
    assert path == key_path("study") and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    back = project_keys("study")
    assert back.key == keys.key and back.annotators == {"b@x.org": "A01", "a@x.org": "A02"}
    exported = export_keys("study", tmp_path / "study.keys")
    assert stat.S_IMODE(os.stat(exported).st_mode) == 0o600


def test_import_installs_and_refuses_a_different_key(tmp_path: Path, monkeypatch) -> None:
    keys = _keys("study")
    keys.annotator("a@x.org")
    keys.save()
    exported = export_keys("study", tmp_path / "study.keys")
    monkeypatch.setenv(keys_module.KEY_DIR_ENV, str(tmp_path / "other-machine"))
    assert load_keys("study") is None
    installed = import_keys(exported)
    assert installed.key == keys.key and installed.annotators == {"a@x.org": "A01"}
    assert import_keys(exported).key == keys.key  # the same keys again: nothing to refuse
    stranger = ProjectKeys("study", os.urandom(64), {}, tmp_path / "stranger.keys")
    stranger.save()
    with pytest.raises(KeyFileError, match="different blinding key"):
        import_keys(tmp_path / "stranger.keys")
    assert project_keys("study").key == keys.key  # nothing was lost
    assert import_keys(tmp_path / "stranger.keys", force=True).key == stranger.key


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a readable annotate keys file"),
        (json.dumps({"format": "x"}), "not an annotate keys file"),
        (json.dumps({"format": keys_module.FORMAT, "project": "study"}), "damaged"),
        (
            json.dumps({"format": keys_module.FORMAT, "project": "study", "blinding_key": "AAAA"}),
            "has 3 bytes, not 64",
        ),
        (
            json.dumps(
                {"format": keys_module.FORMAT, "project": "other", "blinding_key": None, "annotators": {}}
            ),
            "holds the keys of project 'other'",
        ),
    ],
)
def test_a_bad_keys_file_is_one_clear_line(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.keys"
    bad.write_text(content, encoding="utf-8")
    path = key_path("study")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KeyFileError, match=message):
        project_keys("study")
    result = runner.invoke(app, ["key", "import", str(bad)])
    if "holds the keys of project" not in message:
        assert (
            result.exit_code == 2 and result.output.startswith("error: ") and "Traceback" not in result.output
        )
    path.unlink()


def test_annotator_column_as_pseudonyms_or_names() -> None:
    keys = project_keys("study")
    column = pd.Series(["b@x.org", "a@x.org", None, "b@x.org"], dtype="string")
    shown = keys.display(column, show_names=False, order={"a@x.org": 7, "b@x.org": 3})
    assert shown.tolist()[:2] == ["A01", "A02"] and shown.isna().tolist() == [False, False, True, False]
    # once assigned, the same in every column and either form maps back and forth
    assert keys.display(pd.Series(["A02", "b@x.org"]), show_names=True).tolist() == ["a@x.org", "b@x.org"]
    assert keys.display(pd.Series(["a@x.org", "A01"]), show_names=False).tolist() == ["A02", "A01"]
    assert keys.display(pd.Series(["c@x.org"]), show_names=False).tolist() == ["A03"]


# -- on the real server ---------------------------------------------------------------------------


def _annotator_answers(url: str, token: str, pid: int, task_ids: list[int]) -> dict[str, str]:
    """Every answer about the project an annotator can get with their own API key."""
    headers = {"Authorization": f"Token {token}"}
    paths = [
        f"/api/projects/{pid}",
        f"/api/projects/{pid}/next",
        f"/api/tasks?project={pid}&fields=all",
        f"/api/dm/views?project={pid}",
        f"/api/dm/columns?project={pid}",
        f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true",
        f"/api/projects/{pid}/export?exportType=CSV&download_all_tasks=true",
        f"/api/projects/{pid}/export/formats",
        "/api/projects",
        *[f"/api/tasks/{tid}" for tid in task_ids],
    ]
    answers = {}
    with httpx.Client(base_url=url, headers=headers, timeout=60.0) as web:
        for path in paths:
            resp = web.get(path)
            answers[path] = f"{resp.status_code} {resp.text}"
        views = web.get(f"/api/dm/views?project={pid}").json()
        for view in views if isinstance(views, list) else []:
            resp = web.get(f"/api/tasks?view={view['id']}&project={pid}&fields=all")
            answers[f"view {view['id']}"] = f"{resp.status_code} {resp.text}"
    return answers


def test_an_annotator_with_the_api_cannot_recover_a_blinded_outlet(
    tmp_path, make_project, server_env, studio, annotator_keys, monkeypatch
) -> None:
    """The issue's check: the annotator finds no blinded value anywhere; the analyst's exports have them;
    a second machine without the key gets pseudonyms and one warning, then the key, then the values."""
    config, cfg_path = make_project()
    articles = _jsonl(tmp_path / "a.jsonl", ARTICLE)
    result = push(prepare([articles], config, cfg_path), config, studio)
    assert result.imported == 3
    (email, token), *_ = annotator_keys(1)
    pid = result.project_id
    task_ids = sorted(studio.sentence_task_ids(pid).values())
    with Studio(Connection(server_env.url, token, "test")) as me:
        me.create_annotation(
            task_ids[0],
            [
                {
                    "from_name": "stance_china",
                    "to_name": "sentence",
                    "type": "choices",
                    "value": {"choices": ["Favor"]},
                }
            ],
        )
    answers = _annotator_answers(server_env.url, token, pid, task_ids)
    assert answers[f"/api/tasks/{task_ids[0]}"].startswith("200 ")  # the annotator can read tasks
    assert "China and the US met on AI" in answers[f"/api/tasks/{task_ids[0]}"]
    exported = answers[f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true"]
    assert exported.startswith("200 ") and "sealed" in exported  # members can export: it must not help
    for where, text in answers.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} readable by an annotator in {where}"

    out = tmp_path / "exports"
    pulled = runner.invoke(app, ["pull", "--config", str(cfg_path), "--out", str(out), "--full"])
    assert pulled.exit_code == 0, pulled.output
    sentences = read_table(out / config.name / "sentences.parquet")
    assert set(sentences["doc_id"]) == {DOC_ID}
    assert set(sentences["outlet"]) == {OUTLET} and set(sentences["url"]) == {URL}
    assert set(sentences["author"]) == {AUTHOR}
    annotations = read_table(out / config.name / "annotations.parquet")
    assert annotations["annotator"].dropna().unique().tolist() == ["A01"]
    assert email not in (out / config.name / "annotations.csv").read_text(encoding="utf-8-sig")

    # a second analyst machine without the key: pseudonyms, no blinded field, one warning line
    exported_keys = tmp_path / "study.keys"
    assert runner.invoke(app, ["key", "export", str(exported_keys), "--config", str(cfg_path)]).exit_code == 0
    monkeypatch.setenv(keys_module.KEY_DIR_ENV, str(tmp_path / "second-machine"))
    blind_out = tmp_path / "second"
    second = runner.invoke(app, ["pull", "--config", str(cfg_path), "--out", str(blind_out), "--full"])
    assert second.exit_code == 0, second.output
    warnings = [line for line in second.output.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "annotate key import" in warnings[0]
    seen = read_table(blind_out / config.name / "sentences.parquet")
    assert DOC_ID not in set(seen["doc_id"]) and seen["outlet"].isna().all()
    # with the key imported, the same machine gets everything back, names included
    assert runner.invoke(app, ["key", "import", str(exported_keys)]).exit_code == 0
    again = runner.invoke(
        app, ["pull", "--config", str(cfg_path), "--out", str(blind_out), "--full", "--show-names"]
    )
    assert again.exit_code == 0 and "warning" not in again.output
    seen = read_table(blind_out / config.name / "sentences.parquet")
    assert set(seen["outlet"]) == {OUTLET}
    named = read_table(blind_out / config.name / "annotations.parquet")
    assert named["annotator"].dropna().unique().tolist() == [email]


def test_a_repush_changes_nothing_and_another_key_is_refused(
    tmp_path, make_project, server_env, studio, monkeypatch
) -> None:
    config, cfg_path = make_project()
    articles = _jsonl(tmp_path / "a.jsonl", ARTICLE)
    first = push(prepare([articles], config, cfg_path), config, studio)
    again = push(prepare([articles], config, cfg_path), config, studio, full=True)
    assert (again.imported, again.refreshed, again.superseded) == (0, 0, 0)
    assert first.imported == 3
    monkeypatch.setenv(keys_module.KEY_DIR_ENV, str(tmp_path / "machine-without-the-key"))
    before = studio.task_count(first.project_id)
    result = runner.invoke(app, ["push", str(articles), "--config", str(cfg_path)])
    assert result.exit_code == 2 and "annotate key import" in result.output
    assert studio.task_count(first.project_id) == before  # nothing imported twice


def test_the_review_project_names_no_blinded_document_either(
    tmp_path, make_project, server_env, studio, annotator_keys
) -> None:
    """Contested sentences of a blinded document go to review under pseudonymous ids, and the
    decision comes back on the real sentence."""
    config, cfg_path = make_project()
    result = push(prepare([_jsonl(tmp_path / "a.jsonl", ARTICLE)], config, cfg_path), config, studio)
    task_ids = sorted(studio.sentence_task_ids(result.project_id).values())
    choice = {"from_name": "stance_china", "to_name": "sentence", "type": "choices"}
    for (_, token), label in zip(annotator_keys(2), ["Favor", "Against"], strict=True):
        with Studio(Connection(server_env.url, token, "test")) as me:
            me.create_annotation(task_ids[0], [{**choice, "value": {"choices": [label]}}])
    out = tmp_path / "exports"
    assert runner.invoke(app, ["pull", "--config", str(cfg_path), "--out", str(out)]).exit_code == 0
    sent = runner.invoke(app, ["adjudicate", "--config", str(cfg_path), "--out", str(out)])
    assert sent.exit_code == 0, sent.output
    review = studio.find_project(f"{config.name}-review")
    assert review is not None
    tasks = studio.export_tasks(int(review["id"]))
    assert len(tasks) == 1
    text = json.dumps(tasks)
    for secret in SECRETS:
        assert secret not in text, secret
    sentences = read_table(out / config.name / "sentences.parquet")
    real_sid = sentences.sort_values("sentence_index")["sentence_id"].iloc[0]
    assert tasks[0]["data"]["sentence_id"] != real_sid
    studio.create_annotation(int(tasks[0]["id"]), [{**choice, "value": {"choices": ["Neutral"]}}])
    assert runner.invoke(app, ["pull", "--config", str(cfg_path), "--out", str(out)]).exit_code == 0
    decided = read_table(out / config.name / "adjudications.parquet")
    assert decided[["sentence_id", "label"]].values.tolist() == [[real_sid, "Neutral"]]

"""Re-pushing at scale: the local record of the previous push, and splitting alongside imports.

A re-push must not list every task of a large project when nothing changed, and must still
notice what changed: an edited article, another machine's push, tasks deleted on the server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.studio import push_manifest
from annotate.studio import tasks as tasks_module
from annotate.studio.client import Studio, push_stamp
from annotate.studio.push import prepare, push

runner = CliRunner()

ARTICLES = {
    "alpha": "Talks resumed in Geneva on Monday. Both sides praised the tone. A statement followed.",
    "beta": "Chip rules were tightened again. Some in the US welcomed them. Others did not.",
    "gamma": "Researchers met in Shanghai. They agreed to share safety tests. Details are due in May.",
}


class RecordingStudio(Studio):
    """A real session that also notes every task listing it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listings: list[dict[str, Any]] = []
        self.details: list[dict[str, Any]] = []  # the parameters of each project detail read

    def request(self, method: str, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        if method == "GET" and path.rstrip("/") == "api/tasks":
            params = dict(kwargs.get("params") or {})
            self.listings.append({**params, "query": json.loads(params.get("query") or "{}")})
        if method == "GET" and re.fullmatch(r"api/projects/\d+", path.rstrip("/")):
            self.details.append(dict(kwargs.get("params") or {}))
        return super().request(method, path, **kwargs)


def _write(folder: Path, articles: dict[str, str], title: str = "Wire") -> list[Path]:
    paths = []
    for doc_id, text in articles.items():
        path = folder / f"{doc_id}.jsonl"
        path.write_text(json.dumps({"id": doc_id, "title": title, "text": text}) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _full_listings(studio: RecordingStudio) -> list[dict[str, Any]]:
    """Task listings that read the whole project (not a page of one, not chosen ids)."""
    return [
        q for q in studio.listings if "selectedItems" not in q["query"] and int(q.get("page_size", 0)) > 1
    ]


def _live(studio: Studio, pid: int) -> dict[str, list[str]]:
    """doc_id -> texts of the sentences still served, in order."""
    out: dict[str, list[str]] = {}
    for page, _ in studio.iter_task_pages(pid, fields="task_only"):
        for task in sorted(page, key=lambda t: t["data"]["sentence_index"]):
            if not (task.get("meta") or {}).get("superseded"):
                out.setdefault(task["data"]["doc_id"], []).append(task["data"]["text"])
    return out


@pytest.fixture
def recording(admin_login) -> RecordingStudio:
    from annotate.studio.client import Connection

    with RecordingStudio(Connection(admin_login.url, admin_login.token, "test")) as s:
        yield s


def test_unchanged_repush_lists_no_tasks(tmp_path, make_project, recording):
    config, cfg_path = make_project(suggestions=False)
    paths = _write(tmp_path, ARTICLES)
    first = push(prepare(paths, config, cfg_path), config, recording)
    assert first.created and first.imported == 9

    recording.listings.clear()
    again = push(prepare(paths, config, cfg_path), config, recording)
    assert (again.imported, again.already_present, again.sentences) == (0, 9, 9)
    assert _full_listings(recording) == []
    # what it asked: the highest task id only
    assert [q["page_size"] for q in recording.listings] == [1]
    # and of the project, its settings and one count (Label Studio computes only the counts
    # named): the settings compare equal, so the project is not updated
    [asked] = recording.details
    named = set(asked["include"].split(","))
    assert "task_number" in named and not named & {"total_annotations_number", "total_predictions_number"}
    assert not again.updated

    # with --full (here: full=True) it compares every task, and agrees
    recording.listings.clear()
    checked = push(prepare(paths, config, cfg_path), config, recording, full=True)
    assert checked.imported == 0 and checked.refreshed == 0
    assert len(_full_listings(recording)) == 1


def test_edited_article_is_compared_with_its_own_tasks_only(tmp_path, make_project, recording):
    config, cfg_path = make_project(suggestions=False)
    paths = _write(tmp_path, ARTICLES)
    push(prepare(paths, config, cfg_path), config, recording)
    pid = int(recording.find_project(config.name)["id"])
    beta_ids = {
        t["id"]
        for page, _ in recording.iter_task_pages(pid, fields="task_only")
        for t in page
        if t["data"]["doc_id"] == "beta"
    }

    edited = dict(
        ARTICLES, beta="Chip rules were tightened again. Some in the US welcomed them. Many did not."
    )
    _write(tmp_path, {"beta": edited["beta"]})
    recording.listings.clear()
    result = push(prepare(paths, config, cfg_path), config, recording)
    assert (result.imported, result.superseded, result.already_present) == (1, 1, 8)
    assert _full_listings(recording) == []
    fetched = {
        i
        for q in recording.listings
        if "selectedItems" in q["query"]
        for i in q["query"]["selectedItems"]["included"]
    }
    assert fetched == beta_ids
    assert _live(recording, pid)["beta"][-1] == "Many did not."
    assert _live(recording, pid)["alpha"] == [
        "Talks resumed in Geneva on Monday.",
        "Both sides praised the tone.",
        "A statement followed.",
    ]

    # the edit undone: the superseded sentence comes back, still without listing the project
    _write(tmp_path, {"beta": ARTICLES["beta"]})
    recording.listings.clear()
    back = push(prepare(paths, config, cfg_path), config, recording)
    assert (back.imported, back.revived, back.superseded) == (0, 1, 1)
    assert _full_listings(recording) == []
    assert _live(recording, pid)["beta"][-1] == "Others did not."


def test_another_machines_push_makes_the_record_stale(tmp_path, make_project, recording):
    config, cfg_path = make_project(suggestions=False)
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    paths = _write(tmp_path, ARTICLES, title="Wire")
    push(prepare(paths, config, cfg_path), config, recording, cache_dir=mine)
    pid = int(recording.find_project(config.name)["id"])
    stamp = push_stamp(recording.project(pid))
    assert stamp

    # another machine (its own cache) pushes the same articles under a new title: the tasks are
    # refreshed in place, so the count and the highest id stay the same; the stamp changes
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    retitled = _write(elsewhere, ARTICLES, title="Retitled")
    theirs_result = push(prepare(retitled, config, cfg_path), config, recording, cache_dir=theirs)
    assert theirs_result.refreshed == 9 and theirs_result.imported == 0
    assert push_stamp(recording.project(pid)) != stamp

    # back on this machine: the record no longer matches, so every task is compared again
    recording.listings.clear()
    result = push(prepare(paths, config, cfg_path), config, recording, cache_dir=mine)
    assert result.refreshed == 9 and result.imported == 0
    assert len(_full_listings(recording)) == 1
    titles = {
        t["data"]["title"] for page, _ in recording.iter_task_pages(pid, fields="task_only") for t in page
    }
    assert titles == {"Wire"}


def test_task_deleted_on_the_server_is_imported_again(tmp_path, make_project, recording):
    config, cfg_path = make_project(suggestions=False)
    paths = _write(tmp_path, ARTICLES)
    push(prepare(paths, config, cfg_path), config, recording)
    pid = int(recording.find_project(config.name)["id"])
    victim = next(t for page, _ in recording.iter_task_pages(pid, fields="task_only") for t in page)
    recording.request("DELETE", f"api/tasks/{victim['id']}/")

    result = push(prepare(paths, config, cfg_path), config, recording)
    assert result.imported == 1 and result.already_present == 8
    texts = [
        t["data"]["text"] for page, _ in recording.iter_task_pages(pid, fields="task_only") for t in page
    ]
    assert len(texts) == 9 and victim["data"]["text"] in texts


def test_record_holds_no_secret_and_cli_full_flag(tmp_path, make_project, server_env, admin_login):
    config, cfg_path = make_project(suggestions=False)
    paths = [str(p) for p in _write(tmp_path, ARTICLES)]
    first = runner.invoke(app, ["push", *paths, "--config", str(cfg_path)])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["push", *paths, "--config", str(cfg_path), "--full"])
    assert again.exit_code == 0, again.output
    assert "Nothing new to import: all 9 sentences are already in the project." in again.output
    records = list(push_manifest.default_cache_dir().glob("*.json"))
    assert records
    for path in records:
        text = path.read_text(encoding="utf-8")
        assert admin_login.token not in text and admin_login.password not in text


def test_pipelined_push_sends_what_prepare_builds(tmp_path, make_project, studio, monkeypatch):
    """Above PIPELINE_CHARS, splitting runs in a worker process while batches are imported;
    the project must end up with exactly the tasks an in-process split gives, in order."""
    monkeypatch.setattr(tasks_module, "PIPELINE_CHARS", 2_000)
    monkeypatch.setattr(tasks_module, "RUN_CHARS", 400)
    config, cfg_path = make_project()  # with cue suggestions
    texts = {
        f"doc-{i:02d}": " ".join(
            f"Some in Washington said talks {i}-{j} would weaponize chip rules." for j in range(12)
        )
        for i in range(20)
    }
    paths = _write(tmp_path, texts)
    prepared = prepare(paths, config, cfg_path)
    seen: list[tuple[int, int]] = []
    result = push(prepared, config, studio, batch_size=40, progress=lambda d, t: seen.append((d, t)))
    assert result.imported == len(prepared.tasks) == 240
    assert result.predictions == sum(1 for t in prepared.tasks if t.get("predictions")) > 0
    assert seen[-1] == (240, 240) and len({d for d, _ in seen}) > 3
    pid = result.project_id
    served = sorted(
        (t for page, _ in studio.iter_task_pages(pid, fields="all") for t in page), key=lambda t: t["id"]
    )
    assert [t["data"] for t in served] == [
        {**t["data"], "annotate_version": s["data"]["annotate_version"]}
        for t, s in zip(prepared.tasks, served, strict=True)
    ]
    assert [len(t["predictions"]) for t in served] == [len(t.get("predictions", [])) for t in prepared.tasks]

"""Snapshots of an export folder and `diff` between two of them (offline, then through a real server)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from annotate.columns import DIFF_COLUMNS, TABLE_FILES
from annotate.config import ProjectConfig, parse_config
from annotate.errors import ExportError
from annotate.files import write_csv, write_json, write_parquet
from annotate.outputs.snapshots import SNAPSHOT_FILE, diff, list_snapshots, snapshot
from annotate.quality.tables import compute_tables
from annotate.studio.pull import tidy_annotations, tidy_sentences
from annotate.studio.review import tidy_adjudications

F, A, N, X = "Favor", "Against", "Neutral", "Not addressed"
USERS = {1: "ann@example.org", 2: "ben@example.org", 3: "cat@example.org", 4: "judge@example.org"}
TEXTS = {
    "s0": "China said it will share its AI research.",
    "s1": "Officials praised the dialogue.",
    "s2": "Critics called the plan a stunt.",
    "s3": "Washington tightened export rules.",
}
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def config() -> ProjectConfig:
    return parse_config(
        {
            "name": "snap-test",
            "targets": [{"id": "china", "label": "China"}, {"id": "us", "label": "United States"}],
            "stance_labels": [F, A, N, X],
            "sentence_types": ["Fact", "Opinion"],
            "cues": [],
        }
    )


_ids = count(1)


def _choice(name: str, label: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": "sentence", "type": "choices", "value": {"choices": [label]}}


def _tasks(answers: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Tasks of sentences ``s0..s3`` (those in ``answers``), each annotator's china stance in order."""
    tasks = []
    for sid, chinas in answers.items():
        annotations = [
            {
                "id": next(_ids),
                "completed_by": user,
                "result": [
                    _choice("stance_china", china),
                    _choice("stance_us", X),
                    _choice("sentence_type", "Fact"),
                ],
                "was_cancelled": False,
                "ground_truth": False,
                "created_at": "2026-03-01T10:00:00Z",
                "updated_at": "2026-03-01T10:00:00Z",
                "lead_time": 5.0,
            }
            for user, china in enumerate(chinas, start=1)
        ]
        index = int(sid[1:])
        data = {"sentence_id": sid, "doc_id": "d", "sentence_index": index, "text": TEXTS[sid]}
        tasks.append(
            {"id": index + 1, "updated_at": "2026-03-01T10:00:00Z", "data": data, "annotations": annotations}
        )
    return tasks


def _export(
    folder: Path, answers: dict[str, list[str]], decisions: dict[tuple[str, str], str] | None = None
) -> Path:
    """An export folder as pull writes it (annotations, sentences, adjudications, manifest)."""
    tasks = _tasks(answers)
    annotations = tidy_annotations(tasks, USERS)
    write_parquet(tidy_sentences(tasks), folder / "sentences.parquet")
    write_parquet(annotations, folder / "annotations.parquet")
    write_csv(annotations, folder / "annotations.csv")
    if decisions:
        review = [
            {
                "id": 100 + i,
                "data": {"sentence_id": sid},
                "annotations": [
                    {
                        "id": next(_ids),
                        "completed_by": 4,
                        "result": [_choice(field, label)],
                        "updated_at": "2026-03-01T11:00:00Z",
                    }
                ],
            }
            for i, ((sid, field), label) in enumerate(decisions.items())
        ]
        write_parquet(tidy_adjudications(review, USERS), folder / "adjudications.parquet")
    write_json(
        {"pulled_at": "2026-03-01T12:00:00+00:00", "project_id": 7, "config_sha256": "c" * 64},
        folder / "manifest.json",
    )
    (folder / "README.md").write_text("# dictionary\n", encoding="utf-8")
    return folder


BEFORE = {"s0": [F, F, A], "s1": [A, A, N], "s2": [N, N, N]}


def test_snapshot_copies_the_pull_and_computes_its_own_summary(tmp_path: Path) -> None:
    folder = _export(tmp_path / "exports" / "snap-test", BEFORE)
    (folder / "sentence_labels.csv").write_text("stale,from,an,earlier,pull\n", encoding="utf-8")
    (folder / ".pull-state.json").write_text("{}", encoding="utf-8")

    snap = snapshot(folder, config(), now=NOON)
    assert snap == folder / "snapshots" / "20260301T120000Z"
    names = {p.name for p in snap.iterdir()}
    assert names == {
        "sentences.parquet",
        "annotations.parquet",
        "annotations.csv",
        "manifest.json",
        "README.md",
        SNAPSHOT_FILE,
        *TABLE_FILES.values(),
    }
    assert (snap / "annotations.parquet").read_bytes() == (folder / "annotations.parquet").read_bytes()
    # the summary belongs to this pull, not to the stale CSV beside it
    labels = pd.read_csv(snap / "sentence_labels.csv", encoding="utf-8-sig")
    china = labels[labels["field"] == "stance_china"].set_index("sentence_id")["label"]
    assert china.to_dict() == {"s0": F, "s1": A, "s2": N}
    info = json.loads((snap / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    assert (
        info["taken_at"] == "2026-03-01T12:00:00+00:00" and info["pulled_at"] == "2026-03-01T12:00:00+00:00"
    )
    assert info["summary"]["config_sha256"] == config().sha256()
    assert sorted(info["summary"]["files"]) == sorted(TABLE_FILES.values())

    # a second snapshot in the same second gets its own folder
    second = snapshot(folder, config(), now=NOON)
    assert second.name == "20260301T120000Z-2"
    assert list_snapshots(folder) == [snap, second]
    assert not [p for p in (folder / "snapshots").iterdir() if p.name.startswith(".")]


def test_snapshot_without_config_copies_the_summary_files(tmp_path: Path) -> None:
    folder = _export(tmp_path / "x", BEFORE)
    (folder / "agreement.csv").write_text("field\nstance_china\n", encoding="utf-8")
    snap = snapshot(folder)
    assert (snap / "agreement.csv").read_text(encoding="utf-8") == "field\nstance_china\n"
    assert not (snap / "sentence_labels.csv").exists()
    info = json.loads((snap / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    assert info["summary"]["files"] == ["agreement.csv"] and "earlier pull" in info["summary"]["how"]


def test_diff_lists_changed_appeared_and_disappeared_labels(tmp_path: Path) -> None:
    old = _export(tmp_path / "old", BEFORE)
    # s0 flips to Against; s1 unchanged, but its US stance is adjudicated; s2 is gone; s3 is new
    after = {"s0": [A, A, F], "s1": [A, A, N], "s3": [F, F, F]}
    new = _export(tmp_path / "new", after, decisions={("s1", "stance_us"): F})
    changes = diff(old, new, config())
    assert list(changes.columns) == DIFF_COLUMNS
    rows = [tuple(None if pd.isna(v) else v for v in row) for row in changes.itertuples(index=False)]
    assert rows == [
        ("s0", "d", "stance_china", F, A, "majority", "majority", TEXTS["s0"]),
        ("s1", "d", "stance_us", X, F, "majority", "adjudicated", TEXTS["s1"]),
        ("s2", "d", "stance_china", N, None, "majority", None, TEXTS["s2"]),
        ("s2", "d", "stance_us", X, None, "majority", None, TEXTS["s2"]),
        ("s2", "d", "sentence_type", "Fact", None, "majority", None, TEXTS["s2"]),
        ("s3", "d", "stance_china", None, F, None, "majority", TEXTS["s3"]),
        ("s3", "d", "stance_us", None, X, None, "majority", TEXTS["s3"]),
        ("s3", "d", "sentence_type", None, "Fact", None, "majority", TEXTS["s3"]),
    ]
    # the same labels computed by summarize's own function
    tables, _ = compute_tables(
        config(), pd.read_parquet(new / "annotations.parquet"), pd.read_parquet(new / "sentences.parquet")
    )
    assert (
        tables["sentence_labels"].set_index(["sentence_id", "field"]).loc[("s0", "stance_china"), "label"]
        == A
    )
    assert diff(new, new, config()).empty


def test_diff_takes_snapshots_and_export_folders_and_rejects_anything_else(tmp_path: Path) -> None:
    folder = _export(tmp_path / "exports" / "snap-test", BEFORE)
    snap = snapshot(folder, config(), now=NOON)
    assert diff(snap, folder, config()).empty
    with pytest.raises(ExportError, match="OLD .* is not an export folder or snapshot"):
        diff(tmp_path, folder, config())
    with pytest.raises(ExportError, match="NEW .* is not a folder"):
        diff(snap, tmp_path / "missing", config())
    with pytest.raises(ExportError, match="snapshots there: 20260301T120000Z"):
        diff(folder / "snapshots", snap, config())
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportError, match="annotate pull"):
        snapshot(tmp_path / "empty")


def test_pull_with_snapshot_then_diff(tmp_path, make_project, studio, annotator_keys):
    from annotate.studio.client import WATERMARK_MARGIN, Connection, Studio
    from annotate.studio.push import prepare, push
    from annotate.workflows import pull

    cfg, cfg_path = make_project()
    article = tmp_path / "a.txt"
    article.write_text(f"{TEXTS['s0']} {TEXTS['s1']}\n", encoding="utf-8")
    push(prepare([article], cfg, cfg_path), cfg, studio)
    pid = int(studio.find_project(cfg.name)["id"])
    tasks = sorted(
        (t for page, _ in studio.iter_task_pages(pid, fields="task_only") for t in page),
        key=lambda t: t["data"]["sentence_index"],
    )
    made = {}
    for a, (_, key) in enumerate(annotator_keys(3)):
        with Studio(Connection(studio.url, key, "test")) as me:
            for s, task in enumerate(tasks):
                china = [F, F, A][a] if s == 0 else N
                result = [
                    _choice("stance_china", china),
                    _choice("stance_us", X),
                    _choice("stance_cooperation", X),
                ]
                made[(a, s)] = int(
                    me.create_annotation(task["id"], result + [_choice("sentence_type", "Fact")])["id"]
                )

    out = tmp_path / "exports"
    first = pull(cfg, studio, out, snapshot=True)
    assert first.snapshot is not None and first.snapshot.parent == first.out_dir / "snapshots"
    assert (first.snapshot / "sentence_labels.csv").exists() and (first.snapshot / "README.md").exists()

    # annotator 2 changes their mind: sentence 1's majority goes from Favor to Against
    with Studio(Connection(studio.url, annotator_keys(3)[1][1], "test")) as second_annotator:
        answer = [_choice("stance_china", A), _choice("stance_us", X), _choice("stance_cooperation", X)]
        second_annotator.update_annotation(made[(1, 0)], answer + [_choice("sentence_type", "Fact")])
    time.sleep(WATERMARK_MARGIN.total_seconds() + 1.1)  # snapshots are named by the second
    second = pull(cfg, studio, out, snapshot=True)
    assert second.snapshot is not None and second.snapshot != first.snapshot
    assert list_snapshots(second.out_dir) == [first.snapshot, second.snapshot]

    changes = diff(first.snapshot, second.snapshot, cfg)
    assert changes[["sentence_id", "field", "old_label", "new_label", "text"]].values.tolist() == [
        [tasks[0]["data"]["sentence_id"], "stance_china", F, A, TEXTS["s0"]]
    ]
    assert diff(second.snapshot, second.out_dir, cfg).empty

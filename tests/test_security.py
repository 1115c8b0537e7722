"""Secrets stay secret, input stays text, paths stay inside the export folder, old projects still pull."""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from annotate.cli import app
from annotate.config import parse_config
from annotate.studio import server
from annotate.studio.client import Connection, Studio
from annotate.studio.interface import build_label_config, label_config_fields

runner = CliRunner()


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _choice(label: str) -> list[dict[str, object]]:
    return [
        {"from_name": "stance_china", "to_name": "sentence", "type": "choices", "value": {"choices": [label]}}
    ]


def test_no_secret_in_outputs_exports_report_logs_or_argv(
    tmp_path, make_project, server_env, annotator_keys, studio, label_studio
):
    config, cfg_path = make_project()
    article = tmp_path / "a.txt"
    article.write_text("China opened a lab. The US praised it. Observers disagreed.\n", encoding="utf-8")
    outputs = [_invoke("push", str(article), "--config", str(cfg_path))]
    keys = annotator_keys(2)
    project = studio.find_project(config.name)
    for _, key in keys:
        with Studio(Connection(server_env.url, key, "test")) as me:
            for page, _ in me.iter_task_pages(int(project["id"]), fields="task_only"):
                for task in page:
                    me.create_annotation(task["id"], _choice("Favor"))
    out = tmp_path / "exports"
    outputs.append(_invoke("pull", "--config", str(cfg_path), "--out", str(out)))
    outputs.append(_invoke("summarize", "--config", str(cfg_path), "--out", str(out)))
    outputs.append(_invoke("status", "--config", str(cfg_path)))
    bad = runner.invoke(app, ["status", "--config", str(cfg_path)], env={"LABEL_STUDIO_API_KEY": "9" * 40})
    outputs.append(bad.output)

    secrets = [server_env.token, server_env.password] + [key for _, key in keys]
    exported = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in exported) and any(p.name == "manifest.json" for p in exported)
    for path in exported + [label_studio.log_file]:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret leaked into {path}"
    for text in outputs:
        for secret in secrets + ["9" * 40]:
            assert secret not in text
    current = server.running(label_studio.data_dir)
    assert current is not None
    cmdline = Path(f"/proc/{current.pid}/cmdline").read_bytes()
    for secret in secrets:
        assert secret.encode() not in cmdline


def test_django_secret_key_is_fresh_and_private(label_studio):
    env_file = label_studio.data_dir / ".env"
    assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert len(values.get("SECRET_KEY", "")) >= 40
    assert stat.S_IMODE(os.stat(label_studio.data_dir).st_mode) == 0o700


def test_xml_injection_in_config_values_is_escaped():
    evil = '"/><Choices name="evil" toName="sentence"><Choice value="x"/></Choices><View a="'
    config = parse_config(
        {
            "name": "evil",
            "title": "T",
            "targets": [{"id": "china", "label": evil}],
            "stance_labels": ["Favor", "Against"],
        }
    )
    xml = build_label_config(config)
    assert set(label_config_fields(xml)) == {"stance_china", "comment"}
    headers = [h.get("value") for h in ET.fromstring(xml).iter("Header")]
    assert evil in headers


def test_doc_ids_never_become_paths(tmp_path, make_project, server_env, annotator_keys, studio):
    config, cfg_path = make_project()
    table = tmp_path / "articles.csv"
    pd.DataFrame({"id": ["../../etc/x"], "text": ["A sentence from a hostile file. Another one."]}).to_csv(
        table, index=False
    )
    _invoke("push", str(table), "--config", str(cfg_path))
    project = studio.find_project(config.name)
    with Studio(Connection(server_env.url, annotator_keys(1)[0][1], "test")) as me:
        for page, _ in me.iter_task_pages(int(project["id"]), fields="task_only"):
            for task in page:
                me.create_annotation(task["id"], _choice("Against"))
    out = tmp_path / "work" / "exports"
    before = {p for p in tmp_path.rglob("*")}
    _invoke("pull", "--config", str(cfg_path), "--out", str(out))
    _invoke("summarize", "--config", str(cfg_path), "--out", str(out))
    created = {p for p in tmp_path.rglob("*")} - before
    folder = (out / config.name).resolve()
    for path in created:
        assert (
            path.resolve() == folder or folder in path.resolve().parents or path.resolve() in folder.parents
        )
    assert not (tmp_path / "etc").exists() and not Path("/etc/x").exists()
    sentences = pd.read_parquet(out / config.name / "sentences.parquet")
    assert set(sentences["doc_id"]) == {"../../etc/x"}  # kept as data, never as a path


def test_project_pushed_by_an_older_version_still_pulls(tmp_path, make_project, server_env, studio):
    """A project made before task data had ``schema_version``, context or metadata: it still
    updates, pulls and summarizes with the current version."""
    config, cfg_path = make_project()
    old_interface = (
        '<View><Text name="sentence" value="$text"/>'
        '<Choices name="stance_china" toName="sentence">'
        + "".join(f'<Choice value="{label}"/>' for label in config.stance_labels)
        + "</Choices></View>"
    )
    project = studio.create_project(config.name, {"title": "old project", "label_config": old_interface})
    old_style = [
        {
            "data": {
                "text": "An old sentence.",
                "sentence_id": "s-old-1",
                "doc_id": "old",
                "sentence_index": 0,
            }
        },
        {
            "data": {
                "text": "Another old one.",
                "sentence_id": "s-old-2",
                "doc_id": "old",
                "sentence_index": 1,
            }
        },
    ]
    ids = studio.import_tasks(int(project["id"]), old_style)
    studio.create_annotation(ids[0], _choice("Neutral"))

    article = tmp_path / "new.txt"
    article.write_text("A current sentence.\n", encoding="utf-8")
    output = _invoke("push", str(article), "--config", str(cfg_path))
    assert "Updated project" in output and "Imported 1 new sentences" in output
    out = tmp_path / "exports"
    _invoke("pull", "--config", str(cfg_path), "--out", str(out))
    _invoke("summarize", "--config", str(cfg_path), "--out", str(out))
    sentences = pd.read_parquet(out / config.name / "sentences.parquet")
    assert sorted(sentences["doc_id"]) == ["new", "old", "old"]
    labels = pd.read_csv(out / config.name / "sentence_labels.csv", encoding="utf-8-sig")
    assert labels.loc[labels["sentence_id"] == "s-old-1", "label"].tolist() == ["Neutral"]

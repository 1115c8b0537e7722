"""The command line: exit codes and one-line messages, and the README documents every command."""

from __future__ import annotations

import re
import time
from pathlib import Path

from typer.testing import CliRunner

from annotate import __version__
from annotate.cli import app
from annotate.studio.server import free_port

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _error_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    assert "Traceback" not in output
    return lines[0]


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    assert set(commands) == {
        "init",
        "serve",
        "push",
        "pull",
        "summarize",
        "learn",
        "estimate",
        "predict",
        "adjudicate",
        "status",
        "diff",
        "demo",
    }
    for name in commands:
        assert re.search(rf"annotate {name}\b", readme), f"README does not document 'annotate {name}'"


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_missing_article_is_exit_2_and_one_line(tmp_path):
    result = runner.invoke(
        app, ["push", str(tmp_path / "nope.txt"), "--config", str(ROOT / "configs/stance.yaml")]
    )
    assert result.exit_code == 2
    assert "nope.txt" in _error_line(result.output)


def test_bad_config_is_exit_2_and_names_the_key(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("name: x\ntargets: []\nstance_labels: [Favor]\n", encoding="utf-8")
    article = tmp_path / "a.txt"
    article.write_text("One sentence here.\n", encoding="utf-8")
    result = runner.invoke(app, ["push", str(article), "--config", str(cfg)])
    assert result.exit_code == 2
    line = _error_line(result.output)
    assert "targets" in line and "stance_labels" in line


def test_unreachable_server_is_a_quick_clear_error(tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("LABEL_STUDIO_URL", url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "k" * 40)
    began = time.monotonic()
    result = runner.invoke(app, ["status", "--config", str(ROOT / "configs/stance.yaml")])
    assert time.monotonic() - began < 10
    assert result.exit_code == 3
    assert url in _error_line(result.output)


def test_wrong_token_is_named(server_env, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "f" * 40)
    result = runner.invoke(app, ["status", "--config", str(ROOT / "configs/stance.yaml")])
    assert result.exit_code == 3
    line = _error_line(result.output)
    assert "refused the API key" in line and "f" * 40 not in line


def test_pull_of_unknown_project_says_push_first(server_env, make_project, tmp_path):
    _, cfg_path = make_project()
    result = runner.invoke(app, ["pull", "--config", str(cfg_path), "--out", str(tmp_path)])
    assert result.exit_code == 4
    assert "annotate push" in _error_line(result.output)


def test_summarize_before_pull_says_pull_first(make_project, tmp_path):
    _, cfg_path = make_project()
    result = runner.invoke(app, ["summarize", "--config", str(cfg_path), "--out", str(tmp_path)])
    assert result.exit_code == 5
    assert "annotate pull" in _error_line(result.output)


def test_status_reports_progress(server_env, make_project, tmp_path):
    _, cfg_path = make_project()
    article = tmp_path / "a.txt"
    article.write_text("First sentence here. Second sentence there.\n", encoding="utf-8")
    assert runner.invoke(app, ["push", str(article), "--config", str(cfg_path)]).exit_code == 0
    result = runner.invoke(app, ["status", "--config", str(cfg_path)])
    assert result.exit_code == 0, result.output
    assert "2 sentences (0 gold, 0 superseded) · 0 annotations (0 today)" in result.output


def test_demo_runs_the_whole_loop(label_studio, tmp_path, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:1")  # the demo ignores it
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "unused")
    port = label_studio.url.rsplit(":", 1)[1]
    args = ["demo", "--simulate", "2", "--data-dir", str(label_studio.data_dir), "--port", port]
    result = runner.invoke(app, [*args, "--out", str(tmp_path), "--config", str(tmp_path / "none.yaml")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "china-us-ai"
    for name in (
        "sentences.parquet",
        "annotations.parquet",
        "annotations.csv",
        "sentence_labels.csv",
        "document_stance.csv",
        "agreement.csv",
        "annotators.csv",
        "manifest.json",
        "report.html",
    ):
        assert (folder / name).stat().st_size > 0, name
    assert "demo-annotator-1@annotate.localhost" in result.output
    assert "Krippendorff" in result.output


def test_demo_without_simulation_waits_until_ctrl_c(label_studio, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    port = label_studio.url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    env["COLUMNS"] = "200"
    proc = subprocess.Popen(
        [sys.executable, "-m", "annotate", "demo", "--data-dir", str(label_studio.data_dir), "--port", port]
        + ["--out", str(tmp_path), "--config", str(tmp_path / "none.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "Waiting for annotators" in line:
            break
    assert any("Waiting for annotators" in line for line in seen), "".join(seen)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, "".join(seen) + rest
    assert (tmp_path / "china-us-ai" / "report.html").exists()
    assert "Exports:" in rest

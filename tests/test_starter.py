"""A user with only the wheel: `annotate init`, where every command finds its config, one copy per file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate import starter
from annotate.cli import app
from annotate.config import load_config
from annotate.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
runner = CliRunner()


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(starter.CONFIG_ENV, raising=False)
    return tmp_path


def test_init_writes_the_starter_files(empty: Path) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    for name in starter.STARTER_FILES:
        assert (empty / "configs" / name).read_bytes() == (CONFIGS / name).read_bytes()
    assert load_config(empty / "configs" / "stance.yaml").name == "china-us-ai"


def test_init_into_a_folder_says_how_to_use_it(empty: Path) -> None:
    result = runner.invoke(app, ["init", "study"])
    assert result.exit_code == 0, result.output
    assert (empty / "study" / "configs" / "cues.yaml").is_file()
    assert "--config study/configs/stance.yaml" in result.output


def test_init_never_overwrites_without_force(empty: Path) -> None:
    (empty / "configs").mkdir()
    (empty / "configs" / "guidelines.md").write_text("ours", encoding="utf-8")
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert "guidelines.md already exist" in result.output and "--force" in result.output
    assert sorted(p.name for p in (empty / "configs").iterdir()) == ["guidelines.md"]  # nothing half-written
    assert (empty / "configs" / "guidelines.md").read_text(encoding="utf-8") == "ours"
    assert runner.invoke(app, ["init", "--force"]).exit_code == 0
    assert (empty / "configs" / "guidelines.md").read_bytes() == (CONFIGS / "guidelines.md").read_bytes()


def test_config_is_found_by_flag_then_environment_then_folder(empty: Path, monkeypatch) -> None:
    with pytest.raises(ConfigError, match="annotate init"):
        starter.find_config()
    runner.invoke(app, ["init"])
    assert starter.find_config() == Path("configs/stance.yaml")
    monkeypatch.setenv(starter.CONFIG_ENV, "elsewhere.yaml")
    assert starter.find_config() == Path("elsewhere.yaml")
    assert starter.find_config(Path("given.yaml")) == Path("given.yaml")


def test_without_a_config_every_command_suggests_init(empty: Path) -> None:
    for command in (["summarize"], ["pull"], ["status"], ["adjudicate"], ["push", "a.txt"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, (command, result.output)
        assert "annotate init" in result.output


def test_an_environment_config_is_used(empty: Path, monkeypatch) -> None:
    runner.invoke(app, ["init", "study"])
    monkeypatch.setenv(starter.CONFIG_ENV, str(empty / "study" / "configs" / "stance.yaml"))
    result = runner.invoke(app, ["summarize"])
    assert result.exit_code == 5, result.output  # found the config; nothing pulled yet
    assert "annotate pull" in result.output


def test_starter_files_exist_once_in_the_repository() -> None:
    """configs/ is the one copy: no other tracked file has the same bytes."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    others = [ROOT / p for p in tracked.stdout.splitlines() if not p.startswith("configs/")]
    for name in starter.STARTER_FILES:
        content = (CONFIGS / name).read_bytes()
        copies = [str(p) for p in others if p.is_file() and p.stat().st_size == len(content)]
        assert [p for p in copies if Path(p).read_bytes() == content] == []
        assert starter.packaged_file(name) == CONFIGS / name  # a checkout reads configs/ itself


def test_the_wheel_alone_builds_cleanly_and_runs_init(tmp_path: Path) -> None:
    """Built without a warning; installed alone, `init` then `summarize` stops at the missing pull (5)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    pip = [sys.executable, "-m", "pip"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-v", ".", "-w", tmp_path],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    warnings = [line for line in (build.stdout + build.stderr).splitlines() if "warning" in line.lower()]
    assert warnings == []
    wheel = next(tmp_path.glob("annotate-*.whl"))
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in env.items() if k != starter.CONFIG_ENV} | {"PYTHONPATH": str(site)}

    def annotate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "annotate", *args], cwd=work, env=env, capture_output=True, text=True
        )

    where = subprocess.run(
        [sys.executable, "-c", "import annotate; print(annotate.__file__)"], cwd=work, env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(site))  # the wheel's copy, not this checkout
    before = annotate("summarize")
    assert before.returncode == 2 and "annotate init" in before.stderr
    assert annotate("init").returncode == 0
    for name in starter.STARTER_FILES:
        assert (work / "configs" / name).read_bytes() == (CONFIGS / name).read_bytes()
    after = annotate("summarize")
    assert after.returncode == 5, after.stderr
    assert after.stderr.strip().count("\n") == 0 and after.stderr.strip().startswith("error: ")

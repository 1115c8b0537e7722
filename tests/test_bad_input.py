"""Bad input through the command line: one ``error:`` line naming the file (and line or row),
exit code 2, and nothing pushed.

Every case runs ``annotate push`` on a good article followed by the bad input, with
``LABEL_STUDIO_URL`` pointing at a closed port: an input error (exit 2) rather than a
connection error (exit 3) shows that the whole batch was checked before any request.
One test does the same against the real server and checks the project was not created.
See docs/failures.md for the table of cases.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from annotate.cli import app
from annotate.config import ProjectConfig, load_config
from annotate.ingest.segment import MAX_SENTENCE_CHARS
from annotate.studio.server import free_port

ROOT = Path(__file__).resolve().parent.parent
BAD = Path(__file__).parent / "data" / "bad"
CONFIG = ROOT / "configs" / "stance.yaml"
runner = CliRunner()


def error_line(output: str) -> str:
    """The only line of ``output``: ``error: ...``, without a traceback."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert "Traceback" not in output, output
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    return lines[0]


@pytest.fixture
def closed_server(monkeypatch: pytest.MonkeyPatch) -> str:
    """LABEL_STUDIO_URL at a port where nothing listens: any request would fail with exit 3."""
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("LABEL_STUDIO_URL", url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "k" * 40)
    monkeypatch.delenv("ANNOTATE_MAX_FILE_MB", raising=False)
    return url


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.txt"
    path.write_text("China and the US agreed to hold talks on AI. Officials welcomed the step.\n")
    return path


def write_config(folder: Path, **changes: Any) -> Path:
    """The sample config with ``changes`` (``...`` removes a key), written to ``folder``.

    Cue suggestions and guidelines are turned off where the config has them: these tests
    are about input, not about those files.
    """
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    data.update({key: False for key in ("suggestions", "guidelines") if key in ProjectConfig.model_fields})
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def push(*args: str | Path, config: Path | None = None) -> Any:
    config = config or write_config(Path(args[0]).parent)
    return runner.invoke(app, ["push", *map(str, args), "--config", str(config)])


# --------------------------------------------------------------------------- article files

Maker = Callable[[Path], list[Path]]


def fixture(*names: str) -> Maker:
    return lambda _tmp: [BAD / name for name in names]


def touch(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n")
    return path


def sparse_file(tmp: Path) -> list[Path]:
    path = tmp / "dump.jsonl"
    with path.open("wb") as file:
        file.truncate(200 * 1024 * 1024)  # 200 MB on paper, nothing on disk
    return [path]


def unbroken_run(tmp: Path) -> list[Path]:
    path = tmp / "blob.txt"
    path.write_text("Talks resume\n\nThey met.\n" + "x" * 50_000 + "\n")
    return [path]


def whitespace_csv(tmp: Path) -> list[Path]:
    path = tmp / "blank.csv"
    path.write_bytes(b"\xef\xbb\xbf \r\n\n")
    return [path]


# (case id, files after the good one, what the line must contain: file name, where, what)
CASES: list[tuple[str, Maker, tuple[str, ...]]] = [
    ("empty", fixture("empty.txt"), ("empty.txt: the file is empty; add the article text",)),
    ("blank csv", whitespace_csv, ("blank.csv: the file is empty;",)),
    (
        "pdf renamed .txt",
        fixture("scan.txt"),
        ("scan.txt: not a text file: it looks like a PDF", "pdftotext"),
    ),
    ("png renamed .txt", fixture("photo.txt"), ("photo.txt: not a text file: it looks like a PNG image",)),
    (
        "latin-1",
        fixture("latin1.txt"),
        ("latin1.txt:line 1: not UTF-8", "it looks like cp1252", "'Genève talks'", "--encoding cp1252"),
    ),
    (
        "windows-1252",
        fixture("windows1252.txt"),
        ("windows1252.txt:line 3: not UTF-8 (byte 0x92 at column 13)", "cp1252", "iconv -f CP1252"),
    ),
    (
        "gb18030",
        fixture("gb18030.txt"),
        (
            "gb18030.txt:line 1: not UTF-8",
            "it looks like gb18030",
            "'中美人工智能对话'",
            "--encoding gb18030",
        ),
    ),
    ("gbk short", fixture("gbk-short.txt"), ("gbk-short.txt:line 1:", "it looks like gb18030", "'新闻'")),
    ("big5", fixture("big5.txt"), ("big5.txt:line 1:", "it looks like big5")),
    ("utf-16 without bom", fixture("utf16-no-bom.txt"), ("utf16-no-bom.txt: looks like UTF-16-LE", "iconv")),
    ("nul", fixture("nul.txt"), ("nul.txt:line 2: control character U+0000 (NUL) at column 10;",)),
    (
        "escape codes",
        fixture("control.csv"),
        ("control.csv:line 3: control character U+001B (ESC) at column 16",),
    ),
    ("no text column", fixture("no-text-column.csv"), ("no-text-column.csv: no 'text' column", "'body'")),
    (
        "semicolons",
        fixture("semicolons.csv"),
        ("semicolons.csv: no 'text' column", "separated by semicolons"),
    ),
    ("malformed jsonl", fixture("malformed.jsonl"), ("malformed.jsonl:line 3: not valid JSON", "line 3")),
    ("json array", fixture("array.jsonl"), ("array.jsonl:line 1: expected a JSON object", "jq -c")),
    ("html without article", fixture("no-article.html"), ("no-article.html: no article text found",)),
    ("javascript page", fixture("javascript.html"), ("javascript.html: no article text", "JavaScript")),
    (
        "same doc_id, different text",
        fixture("dup-a.csv", "dup-b.jsonl"),
        ("dup-b.jsonl:line 1: doc_id 'x-1' is already used by", "dup-a.csv:row 1", "change the 'id'"),
    ),
    (
        "long title",
        fixture("long-title.csv"),
        ("long-title.csv:row 1 (line 2): the title has 1,259 characters",),
    ),
    (
        "200 MB file",
        sparse_file,
        ("dump.jsonl: the file is 200.0 MB, over the 50.0 MB limit", "ANNOTATE_MAX_FILE_MB=200"),
    ),
    (
        "50,000 characters without a space",
        unbroken_run,
        ("blob.txt:line 4: a run of 50,000 characters without a space or punctuation", "remove it"),
    ),
    ("missing file", lambda tmp: [tmp / "nope.txt"], ("nope.txt: no such file; check the path",)),
    ("directory", lambda tmp: [tmp], ("is a directory; pass the article files in it",)),
    (
        "unsupported type",
        lambda tmp: [touch(tmp / "report.pdf")],
        ("report.pdf: unsupported file type '.pdf'",),
    ),
]


@pytest.mark.parametrize(("maker", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_article_input(
    closed_server: str, good: Path, tmp_path: Path, maker: Maker, expected: tuple[str, ...]
) -> None:
    result = push(good, *maker(tmp_path))
    line = error_line(result.output)
    assert result.exit_code == 2, result.output
    for part in expected:
        assert part in line, (part, line)
    assert closed_server not in line  # an input error, not a connection error: no request was made


def test_size_limit_can_be_raised_from_the_environment(
    closed_server: str, good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (big,) = sparse_file(tmp_path)
    monkeypatch.setenv("ANNOTATE_MAX_FILE_MB", "200")
    # Under the raised limit the file is looked at (its first 64 KiB only): it is all NUL bytes.
    assert "dump.jsonl: not a text file" in error_line(push(good, big).output)
    monkeypatch.setenv("ANNOTATE_MAX_FILE_MB", "many")
    result = push(good)
    assert result.exit_code == 2
    assert "ANNOTATE_MAX_FILE_MB='many': not a size in megabytes" in error_line(result.output)


def test_the_good_files_alone_pass(tmp_path: Path, good: Path) -> None:
    """The control: the good article (and the decodable fixtures) are ready to push."""
    from annotate.studio.push import prepare

    config_path = write_config(tmp_path)
    prepared = prepare(
        [good, BAD / "utf16-bom.txt", BAD / "gbk-page.html"], load_config(config_path), config_path
    )
    assert [a.encoding for a in prepared.articles] == ["utf-8", "utf-16", "gb18030"]
    assert len(prepared.tasks) >= 3


def test_run_on_sentence_is_split_before_it_reaches_label_studio(tmp_path: Path) -> None:
    from annotate.studio.push import prepare

    clause = "the minister said that the talks would continue, and that both sides had agreed, "
    text = "They met.\n" + (clause * 700)[:50_000].rstrip(", ") + ".\n"
    path = tmp_path / "run-on.txt"
    path.write_text(text)
    config_path = write_config(tmp_path)
    prepared = prepare([path], load_config(config_path), config_path)
    lengths = [len(task["data"]["text"]) for task in prepared.tasks]
    assert max(lengths) <= MAX_SENTENCE_CHARS
    assert sum(lengths) >= 50_000 - len(lengths)  # nothing lost but the spaces at the cuts


# --------------------------------------------------------------------------- configs


TARGETS = [{"id": "china", "label": "China"}, {"id": "us", "label": "United States"}]
CONFIG_CASES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("unknown key", {"overlapp": 2}, ("overlapp: unknown key, did you mean 'overlap'?",)),
    (
        "duplicate target ids",
        {"targets": [*TARGETS, {"id": "china", "label": "PRC"}]},
        ("targets[2].id: duplicate target id 'china'",),
    ),
    ("empty label list", {"stance_labels": []}, ("stance_labels: must have at least 2 labels",)),
    (
        "comma in a label",
        {"stance_labels": ["Favor", "Against, strongly"]},
        ("stance_labels[1]: must not contain ','",),
    ),
    ("dollar in a label", {"cues": ["US$ talk"]}, ("cues[0]: must not contain '$'",)),
    (
        "tab in a label",
        {"sentence_types": ["Fact", "Opin\tion"]},
        ("sentence_types[1]: must not contain control",),
    ),
    (
        "more choices than hotkeys",
        {"targets": [{"id": f"t{i}", "label": f"Target {i}"} for i in range(8)]},
        ("hotkeys", "use fewer targets, labels or cues"),
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES]
)
def test_bad_config(
    closed_server: str, good: Path, tmp_path: Path, changes: dict[str, Any], expected: tuple[str, ...]
) -> None:
    result = push(good, config=write_config(tmp_path, **changes))
    line = error_line(result.output)
    assert result.exit_code == 2, result.output
    for part in expected:
        assert part in line, (part, line)
    assert closed_server not in line


# --------------------------------------------------------------------------- the real server


def test_bad_batch_creates_nothing_on_the_server(server_env, studio, make_project, good: Path) -> None:
    config, config_path = make_project()
    result = push(good, BAD / "malformed.jsonl", config=config_path)
    assert result.exit_code == 2, result.output
    assert "malformed.jsonl:line 3" in error_line(result.output)
    assert studio.find_project(config.name) is None  # not even created
    # The control: without the bad file the same push creates the project.
    assert push(good, config=config_path).exit_code == 0
    assert studio.find_project(config.name) is not None

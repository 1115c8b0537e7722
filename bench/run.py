"""The benchmark: annotate's own cost next to Label Studio's, measured in one run on one server.

    .venv/bin/python -m bench.run                  # 20,000 sentences (make bench), ~8-10 min
    .venv/bin/python -m bench.run --quick          # 2,000 sentences, smoke run, ~2 min
    .venv/bin/python -m bench.run --database postgresql
    .venv/bin/python -m bench.run --sentences 100000 --only push,status --out -   # 100k, ~20 min

It starts its own embedded Label Studio (``annotate.studio.server``) in a temporary data directory on a
free port, generates deterministic English news text (``bench.textgen``), and measures each row
against a baseline taken on the same server in the same run:

1. push (read + split + import) of N sentences vs one raw ``POST /api/projects/<id>/import`` of
   the very tasks push sends (already encoded: only Label Studio's work is timed);
2. re-push of the same articles (nothing new), seconds;
3. full pull of N tasks with 3 annotations each (real users, bulk-imported with ``completed_by``)
   vs downloading Label Studio's own JSON export of the project;
4. incremental pull after 1% of the tasks changed (an annotation edited) vs the full pull;
5. ``compute_tables`` (α with bootstrap CI, Dawid–Skene, every table) on 1,000,000 annotation
   rows, in a fresh process: seconds and peak RSS (``getrusage`` in that process);
6. sentence splitting of 10 MB of news text (``annotate.ingest.parallel_split``: paragraph pre-split, all
   cores) vs ``pysbd.Segmenter(language="en", clean=False).segment(article)`` per article, and
   the check that the output is identical to ``annotate.ingest.segment`` (golden table and the 10 MB);
7. peak memory of push and of the full pull (rows of their own, with ``push`` and ``pull``): one
   more push of the N sentences into a fresh project, and one more full pull of the annotated
   project, each in a fresh process (``bench.rss_child``: that process's own peak, ``VmHWM``,
   and ``getrusage`` ``ru_maxrss`` of push's split worker), so the figure is theirs, not this
   process's. Run at ``--sentences 10000`` and ``--sentences 100000`` to see whether it is flat
   in campaign size;
8. ``annotate status`` (``--only status``) on the N tasks × 3 annotations of the pull's project
   (made as the pull row makes it when pull does not run): the CLI itself (the ``annotate``
   console script) in a fresh process, as a user waits for it (interpreter start, imports, the
   server's answers, the printed tables), wall clock from this process to its exit, first with
   no status cache (a full read) and then repeated (incremental), in the order cold, warm, warm,
   cold; its peak RSS through GNU time where ``/usr/bin/time`` exists. The library call alone
   (``annotate.studio.status.status``, in this process), the imports alone and reading the tasks'
   status fields alone are timed as the breakdown. Status needs the push's tasks: ``--only
   status`` runs the push rows' work without reporting them; ``--only push,pull,status``
   reports all three.

The table is printed and written into BENCHMARKS.md between markers (the text around them is kept);
with ``--out -`` the same section is printed on standard output instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` as well as `python -m bench.run`
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from annotate import __version__  # noqa: E402
from annotate.cache import CACHE_DIR_ENV  # noqa: E402
from annotate.config import ProjectConfig, load_config  # noqa: E402
from annotate.studio import postgres, server  # noqa: E402
from annotate.studio.client import (  # noqa: E402
    KEY_ENV,
    URL_ENV,
    WATERMARK_MARGIN,
    Connection,
    Studio,
    parse_time,
)
from annotate.studio.pull import STATE_FILE, tidy_annotations, tidy_sentences  # noqa: E402
from annotate.studio.push import BATCH_SIZE, MIN_BATCH, prepare, push  # noqa: E402
from annotate.studio.status import INCLUDE as STATUS_FIELDS  # noqa: E402
from annotate.studio.status import status  # noqa: E402
from annotate.workflows import pull  # noqa: E402
from bench import simulate, textgen  # noqa: E402

CONFIG = ROOT / "configs" / "stance.yaml"
GOLDEN = ROOT / "tests" / "golden" / "segment_cases.jsonl"
BENCHMARKS = ROOT / "BENCHMARKS.md"
ANNOTATORS = 3
PASSWORD = "Bench-Password-123"
console = Console(stderr=True, width=120)


@dataclass
class Row:
    """One line of the table. ``ratio`` is ours relative to the baseline as the target states it."""

    name: str
    ours: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    notes: list[str] = field(default_factory=list)


@dataclass
class Sizes:
    sentences: int
    summarize_rows: int
    split_bytes: int
    change_share: float = 0.01


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def _rate(count: float, seconds: float, unit: str) -> str:
    return f"{count / seconds:,.0f} {unit}/s"


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    began = time.perf_counter()
    console.print(f"[bold cyan]▶ {title}[/] (load {os.getloadavg()[0]:.2f})")
    yield
    console.print(f"  done in {time.perf_counter() - began:.1f} s")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    value = fn()
    return time.perf_counter() - began, value


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    return {
        "cpu": cpu,
        "cores": str(cores),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def versions(studio: Studio | None, database: str) -> dict[str, str]:
    v = _version
    out = {
        "Python": platform.python_version(),
        "Label Studio": studio.version() if studio is not None else _version("label-studio"),
        "annotate": __version__,
        "label-studio-sdk": v("label-studio-sdk"),
        "pandas": v("pandas"),
        "pyarrow": v("pyarrow"),
        "numpy": v("numpy"),
        "pysbd": v("pysbd"),
        "database": database,
    }
    if database == "postgresql":
        with contextlib.suppress(Exception):
            pg = subprocess.run(
                [str(postgres.bin_dir() / "postgres"), "--version"], capture_output=True, text=True
            )
            out["database"] = pg.stdout.strip()
    return out


# --------------------------------------------------------------------------- helpers


def bench_config(name: str) -> ProjectConfig:
    return load_config(CONFIG).model_copy(update={"name": name})


def create_project_like_push(studio: Studio, config: ProjectConfig, workdir: Path) -> int:
    """A project with exactly push's settings, made by pushing a one-sentence article."""
    seed = workdir / f"{config.name}-seed.txt"
    seed.write_text("Benchmark project\n\nThis project was set up by the benchmark.\n", encoding="utf-8")
    return push([seed], config, studio).project_id


#: Batch sizes of the raw-import sweep (None: every task in one request).
IMPORT_BATCHES: tuple[int | None, ...] = (None, 500, 1_000, 5_000)


def raw_import_batched(url: str, token: str, project_id: int, tasks: list[bytes], batch: int | None) -> int:
    """The same already-encoded tasks in requests of ``batch`` tasks (None: one request), one
    after another on one connection, as a careful raw client would; returns the tasks created."""
    size = batch or len(tasks)
    created = 0
    with httpx.Client(
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"}, timeout=3600
    ) as client:
        for start in range(0, len(tasks), size):
            body = b"[" + b",".join(tasks[start : start + size]) + b"]"
            resp = client.post(f"{url}/api/projects/{project_id}/import", content=body)
            resp.raise_for_status()
            created += int(resp.json()["task_count"])
    return created


def raw_snapshot_export(url: str, token: str, project_id: int) -> bytes:
    """Label Studio's export snapshot API: create a JSON snapshot, download it, delete it."""
    with httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=3600) as client:
        made = client.post(f"{url}/api/projects/{project_id}/exports/", json={"title": "bench"})
        made.raise_for_status()
        export_id = made.json()["id"]
        while made.json().get("status") not in ("completed", "failed"):
            time.sleep(0.2)
            made = client.get(f"{url}/api/projects/{project_id}/exports/{export_id}")
        body = client.get(
            f"{url}/api/projects/{project_id}/exports/{export_id}/download", params={"exportType": "JSON"}
        ).content
        client.delete(f"{url}/api/projects/{project_id}/exports/{export_id}")
    return body


def raw_task_pages(url: str, token: str, project_id: int, page_size: int = 1_000) -> int:
    """Every task with its annotations through the paged task list (``/api/tasks``); the count."""
    seen = 0
    with httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=3600) as client:
        page = 1
        while True:
            resp = client.get(
                f"{url}/api/tasks",
                params={"project": project_id, "page": page, "page_size": page_size, "fields": "all"},
            )
            if resp.status_code == 404:  # past the last page
                break
            resp.raise_for_status()
            tasks = resp.json().get("tasks", [])
            seen += len(tasks)
            if len(tasks) < page_size:
                break
            page += 1
    return seen


def raw_export(url: str, token: str, project_id: int) -> bytes:
    """Label Studio's own JSON export of the whole project, downloaded to memory."""
    resp = httpx.get(
        f"{url}/api/projects/{project_id}/export",
        params={"exportType": "JSON", "download_all_tasks": "true"},
        headers={"Authorization": f"Token {token}"},
        timeout=3600,
    )
    resp.raise_for_status()
    return resp.content


def annotators(studio: Studio) -> list[int]:
    """Three real users created through the invite link; their Label Studio ids."""
    emails = [f"bench-annotator{i}@example.org" for i in range(1, ANNOTATORS + 1)]
    for email in emails:
        studio.create_annotator(email, PASSWORD)
    users = studio.users()
    ids = [uid for uid, email in users.items() if email in emails]
    assert len(ids) == ANNOTATORS, users
    return sorted(ids)


@dataclass
class Campaign:
    """A project holding every pushed sentence with ``ANNOTATORS`` annotations each (bulk-imported)."""

    config: ProjectConfig
    project_id: int
    tasks: int


def annotated_project(studio: Studio, workdir: Path, prepared: Any, name: str = "bench-pull") -> Campaign:
    """The pull row's project: 3 real annotator users, push's tasks with 3 annotations each."""
    config = bench_config(name)
    with step("setup: 3 annotator users and a project with 3 annotations per task (bulk import)"):
        ids = annotators(studio)
        pid = create_project_like_push(studio, config, workdir)
        tasks = simulate.with_annotations(prepared.tasks, config, ids)
        for task in tasks:  # Label Studio marks imported annotations as ground truth unless told
            for ann in task["annotations"]:
                ann["ground_truth"] = False
        for i in range(0, len(tasks), 2000):
            studio.import_tasks(pid, tasks[i : i + 2000])
    return Campaign(config, pid, len(tasks))


def child_env(login: server.Login, **extra: str) -> dict[str, str]:
    """The environment of a child process: this repository on its path, the benchmark's server."""
    return {**os.environ, "PYTHONPATH": str(ROOT), URL_ENV: login.url, KEY_ENV: login.token, **extra}


def _mib(nbytes: float) -> str:
    return f"{nbytes / 1024**2:,.0f} MiB"


def rss_child(what: str, name: str, target: Path, login: server.Login) -> dict[str, Any]:
    """``bench.rss_child``: one push (``target``: the articles) or full pull (``target``: the
    output folder) of the project ``name`` in a fresh process; its JSON report, with the load."""
    load = os.getloadavg()[0]
    done = subprocess.run(
        [sys.executable, "-m", "bench.rss_child", what, str(CONFIG), name, str(target)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(login),
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} child failed: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["load"] = load
    return report


def rss_row(title: str, report: dict[str, Any], detail: str) -> Row:
    """A peak-memory row from a ``bench.rss_child`` report."""
    worker = int(report["children_maxrss_bytes"])
    return Row(
        title,
        f"peak {_mib(report['maxrss_bytes'])}" + (f" (split worker {_mib(worker)})" if worker else ""),
        "—",
        None,
        "flat in campaign size",
        None,
        [
            f"{detail} in a fresh process (bench/rss_child.py): peak RSS of that process "
            f"(VmHWM) {_mib(report['maxrss_bytes'])}, of which "
            f"{_mib(report['baseline_maxrss_bytes'])} was already reached with Python and the "
            "command's modules imported, before any work"
            + (
                f"; its largest child process (push's split worker) peaked at {_mib(worker)}"
                if worker
                else ""
            )
            + f". That run took {report['seconds']:.2f} s (load {report['load']:.1f}). Compare the "
            "figure at --sentences 10000 with --sentences 100000: flat means it does not grow with N."
        ],
    )


# --------------------------------------------------------------------------- rows


def bench_push(
    studio: Studio,
    workdir: Path,
    articles_file: Path,
    login: server.Login,
    rss: bool = False,
    status_after: bool = False,
) -> tuple[list[Row], Any]:
    """Raw import and push in A-B-B-A order (each into a fresh project; the means are compared),
    so a drift of the shared machine's load or of the server's state weighs on both alike. With
    ``rss``, one more push into a fresh project in a fresh process gives push's peak memory; with
    ``status_after``, the first ``annotate status`` after the push that created a project."""
    with step("prepare the tasks push would send (read + split + suggestions), for the raw baseline"):

        def read_and_split() -> Any:
            made = prepare([articles_file], bench_config("bench-push-1"))
            assert made.tasks  # split now, as the raw baseline needs the tasks
            return made

        prepare_s, prepared = timed(read_and_split)
        encoded = [json.dumps(task, ensure_ascii=False).encode("utf-8") for task in prepared.tasks]
        body_mb = (sum(len(t) for t in encoded) + len(encoded) + 1) / 1e6
    n = len(prepared.tasks)
    suggested = sum(1 for t in prepared.tasks if t.get("predictions"))

    # the strongest baseline: the same payloads in each batch size Label Studio accepts well
    sweep: dict[int | None, tuple[float, float]] = {}
    for batch in IMPORT_BATCHES:
        pid = create_project_like_push(studio, bench_config(f"bench-sweep-{batch or 'all'}"), workdir)
        what = "one request" if batch is None else f"requests of {batch:,}"
        with step(f"baseline sweep: raw import of the same {n:,} tasks in {what}"):
            load = os.getloadavg()[0]
            seconds, created = timed(
                lambda pid=pid, batch=batch: raw_import_batched(login.url, login.token, pid, encoded, batch)
            )
        assert created == n, created
        sweep[batch] = (seconds, load)
    best = min(sweep, key=lambda b: sweep[b][0])
    best_name = "one request" if best is None else f"batches of {best:,}"

    def raw_once(k: int) -> float:
        pid = create_project_like_push(studio, bench_config(f"bench-raw-{k}"), workdir)
        with step(f"baseline {k}/2: raw import of the same {n:,} tasks in {best_name} (the sweep's fastest)"):
            seconds, created = timed(lambda: raw_import_batched(login.url, login.token, pid, encoded, best))
        assert created == n, created
        return seconds

    def push_once(k: int) -> tuple[float, Any]:
        config = bench_config(f"bench-push-{k}")
        with step(f"ours {k}/2: annotate.studio.push.push of {n:,} sentences (ingest + split + import)"):
            seconds, result = timed(lambda: push([articles_file], config, studio))
        assert result.imported == n, result
        return seconds, result

    loads = [os.getloadavg()[0]]
    raws = [raw_once(1)]
    pushes = [push_once(1)[0]]
    second, result = push_once(2)
    pushes.append(second)
    raws.append(raw_once(2))
    loads.append(os.getloadavg()[0])
    raw_s, push_s = sum(raws) / 2, sum(pushes) / 2
    ratio = raw_s / push_s  # throughput ours / throughput raw
    swept = ", ".join(
        f"{'one request' if b is None else f'{b:,}'} {s:.2f} s (load {load:.1f})"
        for b, (s, load) in sweep.items()
    )
    push_row = Row(
        f"push {n:,} sentences (ingest + split + import) — throughput vs the fastest raw import",
        f"{_fmt_s(push_s)} ({_rate(n, push_s, 'sent')})",
        f"{_fmt_s(raw_s)} ({_rate(n, raw_s, 'tasks')}, {best_name})",
        ratio,
        "≥ 0.9×",
        ratio >= 0.9,
        [
            f"baseline sweep, the same {n:,} task payloads per request size: {swept}; fastest: {best_name}.",
            f"mean of two runs each, in the order raw, push, push, raw: raw {raws[0]:.2f} / "
            f"{raws[1]:.2f} s, push {pushes[0]:.2f} / {pushes[1]:.2f} s; load average "
            f"{loads[0]:.1f} before, {loads[1]:.1f} after.",
            f"read + split + suggestions in one process (timed separately): {prepare_s:.2f} s, which "
            f"push overlaps with the imports (split in a worker process; import requests of "
            f"{BATCH_SIZE:,} tasks, or of {MIN_BATCH:,}+ whenever the worker is behind the server).",
            f"payload {body_mb:.1f} MB; {suggested:,} tasks carry a cue suggestion (prediction), in both.",
        ],
    )

    config = bench_config("bench-push-2")
    with step("ours: re-push of the same articles (nothing new)"):
        repush_s, again = timed(lambda: push([articles_file], config, studio))
        assert again.imported == 0, again
    with step("ours: re-push with --full (every task listed and compared)"):
        full_s, checked = timed(lambda: push([articles_file], config, studio, full=True))
        assert checked.imported == 0 and checked.refreshed == 0, checked
    with step("breakdown: reading the articles (what a re-push does before asking the server)"):
        read_s, _ = timed(lambda: prepare([articles_file], config))
    repush_row = Row(
        f"re-push of the same {n:,} sentences (nothing new)",
        _fmt_s(repush_s),
        "—",
        None,
        "≤ 3 s",
        repush_s <= 3.0,
        [
            f"reading and checking the articles {read_s:.2f} s; the rest is hashing them against the "
            "local record of the previous push and two requests that check the record is current.",
            f"the same re-push with `--full` (no record: split everything, list and compare all "
            f"{n:,} tasks): {full_s:.2f} s.",
        ],
    )
    rows = [push_row, repush_row]
    if status_after:
        rows.append(status_after_push_row(workdir, config.name, n, login))
    if rss:
        with step(f"ours: push of the {n:,} sentences into a fresh project, in a fresh process (peak RSS)"):
            report = rss_child("push", "bench-push-rss", articles_file, login)
        assert report["imported"] == n, report
        rows.append(
            rss_row(
                f"peak memory of push, {n:,} sentences (fresh process)",
                report,
                f"annotate.studio.push.push of the same {n:,} sentences into a fresh project",
            )
        )
    return rows, prepared


def bench_pull(
    studio: Studio,
    workdir: Path,
    prepared: Any,
    login: server.Login,
    change_share: float,
) -> tuple[list[Row], Campaign]:
    """Label Studio's export and the full pull in A-B-B-A order (means compared), then the
    incremental pull after 1% of the tasks changed, then one more full pull in a fresh process
    for its peak memory. Returns the rows and the annotated project (for the status row)."""
    campaign = annotated_project(studio, workdir, prepared)
    config, pid, n = campaign.config, campaign.project_id, campaign.tasks
    out = workdir / "exports"

    # the strongest baseline: the fastest way Label Studio offers to read every task and annotation
    exporters: dict[str, Callable[[], Any]] = {
        "JSON export": lambda: raw_export(login.url, login.token, pid),
        "export snapshot API": lambda: raw_snapshot_export(login.url, login.token, pid),
        "paged task reads (1,000 a page)": lambda: raw_task_pages(login.url, login.token, pid),
    }
    sweep: dict[str, tuple[float, float]] = {}
    for name, run in exporters.items():
        with step(f"baseline sweep: {name} of {n:,} tasks × {ANNOTATORS} annotations"):
            load = os.getloadavg()[0]
            sweep[name] = (timed(run)[0], load)
    best = min(sweep, key=lambda name: sweep[name][0])

    def export_once(k: int) -> tuple[float, bytes]:
        with step(f"baseline {k}/2: {best} (the sweep's fastest)"):
            seconds, _ = timed(exporters[best])
        return seconds, raw_export(login.url, login.token, pid) if k == 1 else b""

    def pull_once(k: int) -> tuple[float, Any]:
        with step(f"ours {k}/2: annotate.workflows.pull(full=True)"):
            seconds, result = timed(lambda: pull(config, studio, out, full=True))
        assert result.annotations == n * ANNOTATORS, result
        return seconds, result

    first_export, body = export_once(1)
    with step("breakdown: parsing that export and building the tidy table (client side)"):
        began = time.perf_counter()
        exported = json.loads(body)
        parse_s = time.perf_counter() - began
        users = studio.users()
        began = time.perf_counter()
        tidy = tidy_annotations(exported, users)
        tidy_s = time.perf_counter() - began
        changes = max(1, round(n * change_share))
        edits = _edits(exported, changes)
        del exported, body
    time.sleep(WATERMARK_MARGIN.total_seconds() + 1.5)  # the import is older than the next watermark
    pulls = [pull_once(1)[0]]
    with step("breakdown: the export snapshot alone (create, download, delete), as pull fetches"):
        snap_s, _ = timed(lambda: studio.export_tasks(pid))
    second, full = pull_once(2)
    pulls.append(second)
    last_export, body = export_once(2)
    del body
    export_s, full_s = (first_export + last_export) / 2, sum(pulls) / 2
    ratio = full_s / export_s
    swept = ", ".join(f"{name} {s:.2f} s (load {load:.1f})" for name, (s, load) in sweep.items())
    full_row = Row(
        f"full pull of {n:,} tasks × {ANNOTATORS} annotations vs the fastest export",
        f"{_fmt_s(full_s)} ({full.rows:,} rows)",
        f"{_fmt_s(export_s)} ({best})",
        ratio,
        "≤ 1.0×",
        ratio <= 1.0,
        [
            f"baseline sweep: {swept}; fastest: {best}.",
            f"mean of two runs each, in the order export, pull, pull, export: export "
            f"{first_export:.2f} / {last_export:.2f} s, pull {pulls[0]:.2f} / {pulls[1]:.2f} s.",
            f"pull fetches through Label Studio's export snapshot API (create, download, delete; "
            f"annotators as ids), timed separately with the JSON parse: {snap_s:.2f} s.",
            f"client side, timed separately: JSON parse of the baseline's export {parse_s:.2f} s, "
            f"tidy_annotations {tidy_s:.2f} s ({len(tidy):,} rows); the rest is writing "
            "Parquet + CSV (pyarrow) + manifest and the API calls around the export.",
        ],
    )
    with step(f"setup: edit one annotation on each of {changes:,} tasks ({change_share:.0%})"):
        for ann_id, result in edits:
            studio.update_annotation(ann_id, result)
    state = json.loads((full.out_dir / STATE_FILE).read_text(encoding="utf-8"))
    with step("ours: annotate.workflows.pull (incremental)"):
        inc_s, inc = timed(lambda: pull(config, studio, out))
    assert not inc.full and inc.tasks_fetched >= changes, inc
    with step("breakdown: fetching the changed tasks alone (the same query the pull sent)"):
        since = parse_time(state["watermark"])
        assert since is not None
        fetch_s, _ = timed(lambda: [t for page, _ in studio.changed_tasks(pid, since) for t in page])
    inc_ratio = inc_s / full_s
    inc_row = Row(
        f"incremental pull after {changes:,} of {n:,} tasks changed vs the full pull",
        f"{_fmt_s(inc_s)} ({inc.tasks_fetched:,} tasks fetched)",
        _fmt_s(full_s),
        inc_ratio,
        "≤ 0.1×",
        inc_ratio <= 0.1,
        [
            f"fetching the {inc.tasks_fetched:,} changed tasks with their annotations (timed "
            f"separately, same query): {fetch_s:.2f} s; the rest is merging them into the previous "
            f"tables and rewriting annotations.parquet/.csv and sentences.parquet ({full.rows:,} rows)."
        ],
    )
    return [full_row, inc_row, pull_rss_row(workdir, campaign, login)], campaign


def pull_rss_row(workdir: Path, campaign: Campaign, login: server.Login) -> Row:
    """Peak memory of a full pull of the annotated project, in a fresh process (also alone:
    ``--only pull-rss``, without the export sweep)."""
    n = campaign.tasks
    with step(f"ours: full pull of the {n:,} tasks in a fresh process (peak RSS)"):
        report = rss_child("pull", campaign.config.name, workdir / "exports-rss", login)
    assert report["annotations"] == n * ANNOTATORS, report
    return rss_row(
        f"peak memory of full pull, {n:,} tasks × {ANNOTATORS} annotations (fresh process)",
        report,
        f"annotate.workflows.pull(full=True) of the same project ({report['rows']:,} rows) into a new folder",
    )


def _edits(exported: list[dict[str, Any]], count: int) -> list[tuple[int, list[dict[str, Any]]]]:
    """(annotation id, changed result) for the first annotation of ``count`` tasks spread evenly."""
    annotated = [task for task in sorted(exported, key=lambda t: int(t["id"])) if task.get("annotations")]
    stride = max(1, len(annotated) // count)
    found: list[tuple[int, list[dict[str, Any]]]] = []
    for task in annotated[::stride][:count]:
        ann = task["annotations"][0]
        result = [dict(item) for item in ann["result"]]
        labels = result[0]["value"]["choices"]
        result[0]["value"] = {"choices": ["Favor" if labels != ["Favor"] else "Against"]}
        found.append((int(ann["id"]), result))
    return found


GNU_TIME = Path("/usr/bin/time")


def run_cli(args: list[str], env: dict[str, str], workdir: Path) -> tuple[float, int | None, str]:
    """``annotate ARGS`` (the console script) in a fresh process, as a user runs it: wall-clock
    seconds from here to its exit, its peak RSS in bytes (None without GNU time) and its output.

    The peak comes from GNU time (``%M``: ``ru_maxrss`` of the process it starts). Not from
    ``os.wait4`` here: a process started by fork/vfork + exec inherits in ``ru_maxrss`` the peak
    of the process that started it, which for this benchmark process is far larger than status's
    own; started by the small ``time`` process, the inherited part is a few MB."""
    script = Path(sys.executable).with_name("annotate")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "annotate"]
    rss_file = workdir / "cli-maxrss.txt"
    rss_file.unlink(missing_ok=True)
    if GNU_TIME.exists():
        cmd = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *cmd]
    began = time.perf_counter()
    done = subprocess.run([*cmd, *args], capture_output=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - began
    text = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0:
        raise RuntimeError(f"annotate {' '.join(args)} failed: {done.stderr.decode()[-2000:]}{text}")
    peak = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        peak = int(rss_file.read_text().split()[-1]) * 1024  # KiB
    return seconds, peak, text


#: The last line of ``annotate status``: "... · full read: 10002 task(s) read in 1.2 s".
STATUS_TAIL = re.compile(r"(full read|incremental): (\d+) task\(s\) read in ([\d.]+) s")
STATUS_HEAD = re.compile(r"(\d+) sentences \(\d+ gold, \d+ superseded\) · (\d+) annotations")


def cli_config(workdir: Path, name: str) -> Path:
    """The benchmark's config as a file for the CLI, for the project ``name``."""
    config_file = workdir / f"{name}.yaml"
    text = CONFIG.read_text(encoding="utf-8")
    config_file.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}", text, count=1), encoding="utf-8")
    return config_file


def status_after_push_row(workdir: Path, name: str, n: int, login: server.Login) -> Row:
    """The first ``annotate status`` (the CLI, a fresh process) after the push that created the
    project ``name``, on the machine that pushed: it starts from the cache the push left."""
    env = child_env(login, ANNOTATE_CACHE_DIR=os.environ[CACHE_DIR_ENV])  # where push left it
    args = ["status", "--config", str(cli_config(workdir, name))]
    with step(f"ours: the first annotate status after the push of {n:,} sentences (fresh process)"):
        load = os.getloadavg()[0]
        seconds, peak, printed = run_cli(args, env, workdir)
    tail = STATUS_TAIL.search(printed)
    assert tail is not None and tail.group(1) == "incremental", printed
    return Row(
        f"first annotate status after the push that created the project ({n:,} tasks, none annotated yet)",
        _fmt_s(seconds) + (f" (peak {_mib(peak)})" if peak else ""),
        "—",
        None,
        "≤ 2 s",
        seconds <= 2.0,
        [
            f"`annotate status` (the console script) in a fresh process on the machine that pushed, "
            f"wall clock from start to exit, load {load:.1f}: it starts from the cache the push left "
            f"(annotate.studio.status.seed_cache) and read {int(tail.group(2)):,} task(s) in "
            f"{float(tail.group(3)):.1f} s instead of all {n:,}. One run (only the first call is this one)."
        ],
    )


def bench_status(studio: Studio, workdir: Path, campaign: Campaign, login: server.Login) -> list[Row]:
    """``annotate status`` (the CLI, a fresh process each time: what the user waits for) with no
    cache and repeated, in the order cold, warm, warm, cold; then the breakdown in this process."""
    config, n = campaign.config, campaign.tasks
    config_file = cli_config(workdir, config.name)
    cache_root = workdir / "status-cache"  # status keeps its cache in $ANNOTATE_CACHE_DIR/status
    env = child_env(login, ANNOTATE_CACHE_DIR=str(cache_root))
    args = ["status", "--config", str(config_file)]
    runs: dict[str, list[tuple[float, float, int | None, float]]] = {"cold": [], "warm": []}

    def status_once(kind: str, k: int) -> None:
        if kind == "cold":
            shutil.rmtree(cache_root, ignore_errors=True)
        what = "no status cache (full read)" if kind == "cold" else "repeated (incremental, cached)"
        with step(f"ours {k}/4: annotate status on {n:,} tasks × {ANNOTATORS} annotations, {what}"):
            load = os.getloadavg()[0]
            seconds, peak, printed = run_cli(args, env, workdir)
        tail, head = STATUS_TAIL.search(printed), STATUS_HEAD.search(printed)
        assert tail is not None and head is not None, printed
        assert tail.group(1) == ("full read" if kind == "cold" else "incremental"), printed
        assert int(head.group(1)) >= n and int(head.group(2)) == n * ANNOTATORS, printed
        runs[kind].append((seconds, load, peak, float(tail.group(3))))

    status_once("cold", 1)
    status_once("warm", 2)
    status_once("warm", 3)
    status_once("cold", 4)
    cache_files = sorted((cache_root / "status").glob("*.npz"))
    cache_mb = sum(f.stat().st_size for f in cache_files) / 1e6

    with step("breakdown: Python start + importing the CLI and annotate.studio.status (fresh process)"):
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import annotate.cli, annotate.studio.status"],
            check=True,
            cwd=ROOT,
            env=env,
        )
        import_s = time.perf_counter() - began
    lib_cache = workdir / "status-library-cache"
    with step("breakdown: annotate.studio.status.status in this process, no cache, then repeated"):
        lib_cold_s, lib_cold = timed(lambda: status(config, studio, cache_dir=lib_cache))
        lib_warm_s, lib_warm = timed(lambda: status(config, studio, cache_dir=lib_cache))
    assert lib_cold.full and not lib_warm.full, (lib_cold, lib_warm)
    with step(f"breakdown: reading every task's status fields alone ({n:,} tasks, pages of 1,000)"):
        read_s, _ = timed(
            lambda: sum(
                len(page) for page, _ in studio.iter_task_pages(campaign.project_id, include=STATUS_FIELDS)
            )
        )

    def row(kind: str, title: str) -> Row:
        (a, load_a, peak_a, own_a), (b, load_b, peak_b, own_b) = runs[kind]
        mean = (a + b) / 2
        peaks = [p for p in (peak_a, peak_b) if p is not None]
        return Row(
            f"annotate status on {n:,} tasks × {ANNOTATORS} annotations, {title}",
            _fmt_s(mean) + (f" (peak {_mib(max(peaks))})" if peaks else ""),
            "—",
            None,
            "≤ 2 s",
            mean <= 2.0,
            [
                f"`annotate status` (the console script) in a fresh process, wall clock from start to "
                f"exit (what the user waits for), mean of two runs in the order cold, warm, warm, cold: "
                f"{a:.2f} s (load {load_a:.1f}) and {b:.2f} s (load {load_b:.1f}); the time status "
                f"itself reports on its last line: {own_a:.1f} / {own_b:.1f} s"
                + (
                    f"; peak RSS of that process (GNU time %M) {' / '.join(_mib(p) for p in peaks)}."
                    if peaks
                    else "."
                )
            ],
        )

    cold, warm = (
        row("cold", "first call (no status cache: every task read)"),
        row("warm", "repeated (status cache: only changed tasks read)"),
    )
    cold.notes.append(
        f"breakdown, timed separately: Python start + imports of the CLI {import_s:.2f} s; the library "
        f"call annotate.studio.status.status in the benchmark's process {lib_cold_s:.2f} s "
        f"({lib_cold.fetched:,} tasks read); the same read of every task's status fields "
        f"(/api/tasks with status's sparse fields, pages of 1,000) alone {read_s:.2f} s; the cache "
        f"it writes: {cache_mb:.1f} MB (NumPy columns)."
    )
    warm.notes.append(
        f"breakdown: Python start + imports {import_s:.2f} s; the library call in the benchmark's "
        f"process {lib_warm_s:.2f} s ({lib_warm.fetched:,} tasks read; it loads the {cache_mb:.1f} MB cache, "
        "asks for the tasks changed since its watermark and for the drafts, and counts)."
    )
    return [cold, warm]


def bench_summarize(workdir: Path, rows: int) -> list[Row]:
    config = bench_config("bench-summarize")
    out = workdir / "summarize"
    with step(
        f"setup: a pulled project with {rows:,} annotation rows (simulated, 25 annotators, 3–5 per sentence)"
    ):
        per_sentence = simulate.rows_per_sentence(config)
        n_sentences = int(rows / per_sentence * 1.04) + 10
        articles = textgen.articles_with_sentences(n_sentences, seed=99)
        texts = [s for a in articles for p in a.paragraphs for s in p][:n_sentences]
        tasks, users = simulate.campaign_tasks(texts, config)
        annotations = tidy_annotations(tasks, users)
        sentences = tidy_sentences(tasks)
        del tasks
        # cut at an annotation boundary at the requested row count
        ends = annotations.groupby("annotation_id", sort=False).size().cumsum()
        last = int(ends.index[ends.searchsorted(rows)]) if len(annotations) > rows else int(ends.index[-1])
        annotations = annotations[annotations["annotation_id"] <= last]
        tasks = set(annotations["task_id"])
        sentences = sentences[sentences["task_id"].isin(tasks)]
        folder = out / config.name
        folder.mkdir(parents=True)
        from annotate.files import write_json, write_parquet

        write_parquet(annotations, folder / "annotations.parquet")
        write_parquet(sentences, folder / "sentences.parquet")
        write_json(
            {"project_name": config.name, "rows": {"annotations": len(annotations)}}, folder / "manifest.json"
        )
        config_file = workdir / "bench-summarize.yaml"
        shutil.copy(CONFIG, config_file)
        n_rows, n_sent = len(annotations), len(sentences)
        del annotations, sentences
    with step("ours: compute_tables in a fresh process (time and peak RSS)"):
        done = subprocess.run(
            [sys.executable, "-m", "bench.summarize_child", str(out), str(config_file), config.name],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if done.returncode != 0:
            raise RuntimeError(f"summarize child failed: {done.stderr[-2000:]}")
        report = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = float(report["compute_seconds"])
    peak = float(report["maxrss_bytes"])
    ok = seconds <= 20 and peak <= 4 * 1024**3
    return [
        Row(
            f"summarize {n_rows:,} annotation rows ({n_sent:,} sentences): α + CI, Dawid–Skene, all tables",
            f"{seconds:.2f} s, peak {peak / 1024**3:.2f} GiB",
            "—",
            None,
            "≤ 20 s, ≤ 4 GB",
            ok,
            [
                f"compute_tables only; reading the two Parquet files took {report['load_seconds']:.2f} s "
                "more "
                f"and starting Python + imports {report['import_seconds']:.2f} s. Peak RSS of that process "
                "(resource.getrusage ru_maxrss), which includes the loaded tables."
            ],
        )
    ]


def bench_split(size: int) -> list[Row]:
    import pysbd

    from annotate.ingest.parallel_split import default_processes, split_texts
    from annotate.ingest.segment import split_text

    articles = textgen.articles_with_bytes(size, seed=7)
    texts = [a.text for a in articles]
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    mb = nbytes / 1e6
    processes = default_processes()
    segmenter = pysbd.Segmenter(language="en", clean=False)
    with step(f"baseline: pysbd on whole articles ({len(texts):,} articles, {mb:.1f} MB)"):
        base_s, base = timed(lambda: [segmenter.segment(t) for t in texts])
    with step(
        f"ours: annotate.ingest.parallel_split.split_texts ({processes} processes, paragraph pre-split)"
    ):
        ours_s, ours = timed(lambda: split_texts(texts, processes=processes))
    with step("check: identical to annotate.ingest.segment.split_text, one process (and its time)"):
        seq_s, seq = timed(lambda: [split_text(t) for t in texts])
        identical = ours == seq
        cases = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=processes) as pool:
            golden = split_texts([c["text"] for c in cases], [c["language"] for c in cases], executor=pool)
        golden_ok = all(
            [c["text"][s:e] for _, s, e in spans] == c["sentences"]
            for c, spans in zip(cases, golden, strict=True)
        )
    ratio = base_s / ours_s
    return [
        Row(
            f"sentence splitting of {mb:.1f} MB of news text vs pysbd on whole articles",
            f"{_fmt_s(ours_s)} ({mb / ours_s:.2f} MB/s, {processes} processes)",
            f"{_fmt_s(base_s)} ({mb / base_s:.2f} MB/s)",
            ratio,
            "≥ 2× and identical",
            ratio >= 2.0 and identical and golden_ok,
            [
                f"identical to ingest.segment on the {mb:.1f} MB: {identical}; on the {len(cases)} golden "
                f"cases: {golden_ok}. One process (annotate.ingest.segment.split_text): {seq_s:.2f} s "
                f"({mb / seq_s:.2f} MB/s, {base_s / seq_s:.2f}× pysbd). Sentences: ours "
                f"{sum(len(s) for s in ours):,}, pysbd {sum(len(s) for s in base):,} (annotate fixes pysbd's "
                "splits after abbreviations such as 'Inc. Chief', 'approx. $')."
            ],
        )
    ]


# --------------------------------------------------------------------------- output


def render(rows: list[Row], title: str) -> Table:
    table = Table(title=title, show_lines=True)
    for col in ("measurement", "ours", "baseline", "ratio", "target", "met?"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            row.name,
            row.ours,
            row.baseline,
            "—" if row.ratio is None else f"{row.ratio:.2f}×",
            row.target,
            {True: "[green]yes[/]", False: "[red]no[/]", None: "—"}[row.met],
        )
    return table


def markdown(rows: list[Row], info: dict[str, Any]) -> str:
    m, v = info["machine"], info["versions"]
    lines = [
        f"### {info['label']} — {info['date']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['os']}; "
        f"load average {info['load_before']:.2f} before, {info['load_after']:.2f} after "
        "(other work on the machine shares its cores).",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        f"Sizes: {info['sizes']}. Whole run: {info['elapsed'] / 60:.1f} min (`{info['command']}`).",
        "",
        *(
            [
                "A smoke run: the targets are set for the full sizes; at a tenth of them the fixed "
                "costs (reading the cue rules, starting the split worker, creating the project, "
                "about ten small API calls) weigh ten times more.",
                "",
            ]
            if info["label"].startswith("Quick")
            else []
        ),
        "| measurement | ours | baseline | ratio | target | met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
        met = {True: "yes", False: "**no**", None: "—"}[row.met]
        lines.append(f"| {row.name} | {row.ours} | {row.baseline} | {ratio} | {row.target} | {met} |")
    lines += ["", "Measured details:", ""]
    for row in rows:
        for note in row.notes:
            label = row.name.split(" —")[0].split(" vs ")[0].rstrip(", ")
            lines.append(f"- *{label}*: {note}")
    return "\n".join(lines) + "\n"


def write_benchmarks(section: str, key: str, path: Path = BENCHMARKS) -> None:
    """Replace the ``key`` block between its markers in BENCHMARKS.md (append it if missing)."""
    begin, end = f"<!-- bench:{key}:begin -->", f"<!-- bench:{key}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{begin}\n{section}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=20_000, help="sentences pushed and pulled")
    parser.add_argument("--rows", type=int, default=1_000_000, help="annotation rows for summarize")
    parser.add_argument("--split-mb", type=float, default=10.0, help="megabytes of text for splitting")
    parser.add_argument(
        "--quick", action="store_true", help="2,000 sentences, 100,000 rows, 1 MB: a smoke run"
    )
    parser.add_argument("--database", choices=server.DATABASES, default="sqlite")
    parser.add_argument(
        "--workers", type=int, default=1, help="Label Studio web worker processes (more than 1: PostgreSQL)"
    )
    parser.add_argument(
        "--only",
        default="push,pull,summarize,split",
        help="comma-separated rows: push, pull, pull-rss (the full pull's peak memory alone), status, "
        "summarize, split (status and pull-rss run the push's work)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCHMARKS,
        help="Markdown file to update ('-': print the section instead)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (and its server data)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        sizes = Sizes(2_000, 100_000, 1_000_000)
    else:
        sizes = Sizes(args.sentences, args.rows, int(args.split_mb * 1_000_000))
    only = {part.strip() for part in args.only.split(",")}
    began = time.perf_counter()
    load_before = os.getloadavg()[0]

    workdir = Path(tempfile.mkdtemp(prefix="annotate-bench-"))
    data_dir = workdir / "label-studio"
    rows: list[Row] = []
    os.chdir(ROOT)  # the config's relative paths (guidelines, cue rules) resolve as in the repository
    os.environ[CACHE_DIR_ENV] = str(workdir / "cache")  # push records and status caches
    try:
        vers = versions(None, "(not used)")
        if only & {"push", "pull", "pull-rss", "status"}:
            with step(f"start an embedded Label Studio on {args.database} in {data_dir}"):
                info = server.start_server(
                    data_dir,
                    port=server.free_port(),
                    timeout=900,
                    database=args.database,
                    workers=args.workers,
                )
            login = server.read_login(data_dir)
            assert login is not None
            with Studio(Connection(login.url, login.token, str(login.path)), timeout=3600) as studio:
                vers = versions(studio, info.database)
                articles = textgen.articles_with_sentences(sizes.sentences)
                articles_file = textgen.write_jsonl(articles, workdir / "articles.jsonl")
                push_rows, prepared = bench_push(
                    studio, workdir, articles_file, login, rss="push" in only, status_after="status" in only
                )
                if "push" in only:
                    rows += push_rows
                campaign = None
                if "pull" in only:
                    pull_rows, campaign = bench_pull(studio, workdir, prepared, login, sizes.change_share)
                    rows += pull_rows
                if "status" in only:
                    if campaign is None:  # the pull row's project, made the same way
                        campaign = annotated_project(studio, workdir, prepared)
                    rows += bench_status(studio, workdir, campaign, login)
                if "pull-rss" in only and "pull" not in only:
                    if campaign is None:
                        campaign = annotated_project(studio, workdir, prepared)
                    rows.append(pull_rss_row(workdir, campaign, login))
                del prepared
        if "summarize" in only:
            rows += bench_summarize(workdir, sizes.summarize_rows)
        if "split" in only:
            rows += bench_split(sizes.split_bytes)
    finally:
        server.stop_server(data_dir)
        if args.database == "postgresql":
            postgres.remove_local(data_dir)
        if args.keep:
            console.print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    label = "Quick run" if args.quick else "Full run"
    console.print(render(rows, f"annotate benchmark — {label.lower()} ({args.database})"))
    record = {
        "label": f"{label} ({args.database}"
        + (f", {args.workers} Label Studio web workers)" if args.workers > 1 else ")"),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": vers,
        "sizes": ", ".join(
            part
            for key, part in (
                ("push", f"{sizes.sentences:,} sentences"),
                ("summarize", f"{sizes.summarize_rows:,} annotation rows"),
                ("split", f"{sizes.split_bytes / 1e6:.0f} MB of text"),
            )
            if key in only or (key == "push" and only & {"pull", "pull-rss", "status"})
        ),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "elapsed": time.perf_counter() - began,
        "command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
    }
    if str(args.out) != "-":
        key = ("quick" if args.quick else "full") + ("" if args.database == "sqlite" else f"-{args.database}")
        key += f"-w{args.workers}" if args.workers > 1 else ""
        write_benchmarks(markdown(rows, record), key, args.out)
        console.print(f"wrote {args.out}")
    else:  # nothing written: the section (table and measured details) on standard output
        print(markdown(rows, record), end="")
    missed = [row.name for row in rows if row.met is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

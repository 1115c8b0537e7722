"""Prototypes of the changes BENCHMARKS.md proposes, measured on the benchmark's own server.

Not part of annotate: each function shows what one proposed change would cost, using only
annotate's public pieces and Label Studio's API, and checks that it gives the same result as
the tool does today. ``bench.run --prototypes`` runs them after the main rows.

- ``pipelined_push``: split (and suggest cues) in worker processes while Label Studio imports
  the previous batch, instead of splitting everything first;
- ``repush_check``: what a re-push costs when a local manifest of what was pushed replaces
  listing every task (read + hash the articles, two cheap API calls);
- ``chunked_pull``: the full pull as exports of ≤990 task ids each (Django's 1,000-field limit),
  the next chunk downloading while the previous one is parsed and tidied;
- ``snapshot_pull``: the full pull through Label Studio's export snapshot API, which serialises
  tasks with fewer queries than the one-request export (no per-task project object, drafts and
  comment authors prefetched, one streaming JSON pass);
- ``csv_writers``: pandas' ``to_csv`` against pyarrow's CSV writer on the pulled table.
"""

from __future__ import annotations

import hashlib
import io
import json
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from annotate import suggest
from annotate.config import ProjectConfig
from annotate.ingest import Article, read_articles
from annotate.parallel_split import _context
from annotate.pull import ANNOTATION_COLUMNS, tidy_annotations
from annotate.push import prepare, suggestions_path, task_payloads
from annotate.segment import split_article
from annotate.studio import Studio

# set in the parent before the pool forks; read by the workers
_CONFIG: ProjectConfig | None = None
_RULES: Any = None


def _tasks_for(articles: list[Article]) -> list[dict[str, Any]]:
    assert _CONFIG is not None
    tasks: list[dict[str, Any]] = []
    for article in articles:
        tasks.extend(task_payloads(article, split_article(article), _CONFIG.context, _CONFIG.blind))
    if _RULES is not None:
        for task in tasks:
            found = suggest.prediction(str(task["data"]["text"]), _RULES)
            if found is not None:
                task["predictions"] = [found]
    return tasks


def _chunks(articles: Sequence[Article], sentences: int = 500) -> Iterator[list[Article]]:
    """Runs of articles of about ``sentences`` sentences (estimated at 150 characters each)."""
    chunk: list[Article] = []
    chars = 0
    for article in articles:
        chunk.append(article)
        chars += len(article.text)
        if chars >= sentences * 150:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


def pipelined_push(
    path: Path,
    config: ProjectConfig,
    studio: Studio,
    batch_size: int = 2000,
    processes: int = 1,
) -> tuple[float, int, list[dict[str, Any]]]:
    """Import the articles of ``path`` into the (existing, empty) project ``config.name``, splitting
    in ``processes`` workers while Label Studio imports. Returns (seconds, imported, tasks sent).

    One worker is enough on two cores: Label Studio's import is the longer of the two and needs
    the other core (measured at 20,000 sentences: 1 worker 0.92×, 2 workers 0.89× the raw
    import's throughput; batches of 2,000 beat 1,000 and 5,000)."""
    global _CONFIG, _RULES
    began = time.perf_counter()
    articles = read_articles([path])  # the input errors a push must raise before sending anything
    rules_path = suggestions_path(config)
    _CONFIG = config
    _RULES = suggest.load_rules(rules_path, config.cues) if rules_path is not None else None
    project = studio.find_project(config.name)
    assert project is not None
    pid = int(project["id"])
    sent: list[dict[str, Any]] = []
    imported = 0
    pending: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=processes, mp_context=_context()) as pool:
        for tasks in pool.map(_tasks_for, _chunks(articles)):
            pending.extend(tasks)
            # the first batch goes as soon as it is there, so Label Studio starts early
            if len(pending) >= (batch_size if imported else batch_size // 4):
                imported += len(studio.import_tasks(pid, pending))
                sent.extend(pending)
                pending = []
        if pending:
            imported += len(studio.import_tasks(pid, pending))
            sent.extend(pending)
    return time.perf_counter() - began, imported, sent


def repush_check(path: Path, config: ProjectConfig, studio: Studio) -> tuple[float, dict[str, float]]:
    """The work of a re-push with a local manifest: read and hash every article, find the
    project, read its task count and highest task id (to see nobody else changed its tasks).
    Returns (seconds, breakdown)."""
    parts: dict[str, float] = {}
    t0 = time.perf_counter()
    articles = read_articles([path])
    t1 = time.perf_counter()
    digests = {
        a.doc_id: hashlib.sha256(
            json.dumps([a.text, a.title, a.metadata, config.context, list(config.blind)]).encode()
        ).hexdigest()
        for a in articles
    }
    t2 = time.perf_counter()
    project = studio.find_project(config.name)
    assert project is not None
    pid = int(project["id"])
    count = studio.task_count(pid)
    last = studio.get_json(
        "api/tasks/",
        params={
            "project": pid,
            "fields": "task_only",
            "page": 1,
            "page_size": 1,
            "resolve_uri": "false",
            "query": json.dumps({"ordering": ["-tasks:id"]}),
        },
    )["tasks"][0]["id"]
    t3 = time.perf_counter()
    parts.update(read=t1 - t0, hash=t2 - t1, server=t3 - t2)
    assert count > 0 and last > 0 and len(digests) == len(articles)
    return t3 - t0, parts


def _id_range(studio: Studio, pid: int) -> tuple[int, int]:
    ends = []
    for order in ("tasks:id", "-tasks:id"):
        page = studio.get_json(
            "api/tasks/",
            params={
                "project": pid,
                "fields": "task_only",
                "page": 1,
                "page_size": 1,
                "resolve_uri": "false",
                "query": json.dumps({"ordering": [order]}),
            },
        )
        ends.append(int(page["tasks"][0]["id"]))
    return ends[0], ends[1]


def chunked_pull(
    studio: Studio, pid: int, users: dict[int, str], chunk: int = 990
) -> tuple[float, pd.DataFrame]:
    """Every annotation of the project through exports of ``chunk`` task ids, one chunk
    downloading while the previous is parsed and tidied. Returns (seconds, tidy table)."""
    began = time.perf_counter()
    low, high = _id_range(studio, pid)
    ranges = [list(range(start, min(start + chunk, high + 1))) for start in range(low, high + 1, chunk)]
    bodies: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=2)

    def fetch() -> None:
        try:
            for ids in ranges:
                resp = studio.request(
                    "GET",
                    f"api/projects/{pid}/export",
                    params={"exportType": "JSON", "download_all_tasks": "true", "ids[]": ids},
                    timeout=3600,
                )
                bodies.put(resp.content)
            bodies.put(None)
        except BaseException as exc:  # hand it to the consumer
            bodies.put(exc)

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    parts: list[pd.DataFrame] = []
    while True:
        item = bodies.get()
        if item is None:
            break
        if isinstance(item, BaseException):
            raise item
        parts.append(tidy_annotations(json.loads(item), users))
    worker.join()
    table = pd.concat(parts, ignore_index=True)[ANNOTATION_COLUMNS]
    table = table.sort_values(["task_id", "annotation_id"], kind="stable").reset_index(drop=True)
    return time.perf_counter() - began, table


def snapshot_pull(
    studio: Studio, pid: int, users: dict[int, str]
) -> tuple[float, pd.DataFrame, dict[str, float]]:
    """Every annotation of the project through Label Studio's export *snapshot* API: create a
    JSON snapshot (``POST /api/projects/<id>/exports/``, synchronous without Redis), download it,
    delete it on the server, parse and tidy. Returns (seconds, tidy table, breakdown)."""
    began = time.perf_counter()
    created = studio.request(
        "POST",
        f"api/projects/{pid}/exports/",
        json_body={
            "title": "annotate pull",
            "serialization_options": {
                "drafts": {"only_id": True},
                "predictions": {"only_id": True},
                "annotations__completed_by": {"only_id": True},
            },
        },
        timeout=3600,
        retries=0,
    ).json()
    made = time.perf_counter()
    export_id = int(created["id"])
    body = studio.request(
        "GET", f"api/projects/{pid}/exports/{export_id}/download", params={"exportType": "JSON"}, timeout=3600
    ).content
    studio.request("DELETE", f"api/projects/{pid}/exports/{export_id}")
    fetched = time.perf_counter()
    tasks = json.loads(body)
    parsed = time.perf_counter()
    table = tidy_annotations(tasks, users)[ANNOTATION_COLUMNS]
    table = table.sort_values(["task_id", "annotation_id"], kind="stable").reset_index(drop=True)
    done = time.perf_counter()
    parts = {
        "snapshot": made - began,
        "download+delete": fetched - made,
        "parse": parsed - fetched,
        "tidy": done - parsed,
    }
    return done - began, table, parts


def csv_writers(table: pd.DataFrame) -> dict[str, float]:
    """Seconds to write ``table`` as CSV with pandas and with pyarrow (both to memory)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    t0 = time.perf_counter()
    table.to_csv(io.StringIO(), index=False)
    t1 = time.perf_counter()
    sink = io.BytesIO()
    sink.write("\ufeff".encode())
    pacsv.write_csv(pa.Table.from_pandas(table, preserve_index=False), sink)
    t2 = time.perf_counter()
    return {"pandas": t1 - t0, "pyarrow": t2 - t1}


def same_tasks(sent: list[dict[str, Any]], path: Path, config: ProjectConfig) -> bool:
    """Do the pipelined push's tasks equal what ``prepare`` builds for the same file?"""
    return sent == prepare([path], config).tasks

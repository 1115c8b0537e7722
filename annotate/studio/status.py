"""Campaign progress read from the server: coverage, per annotator today and in total, skips, drafts.

Fast enough to run every minute on a campaign of 100,000 sentences:

- Only the facts status needs are asked for: ``/api/tasks`` with ``include=id,meta,
  annotations,completed_by,was_cancelled,ground_truth,created_at`` (Label Studio's sparse
  fields, which also trim the nested annotations), not every annotation's result.
- They are kept in a small per-project cache (``<cache_dir>/<key>.npz``: NumPy columns, one row
  per task and one per annotation, see ``annotate.studio.status_cache``; by default in
  ``$ANNOTATE_CACHE_DIR/status`` or the user cache folder) and refreshed incrementally: the
  next run asks only for tasks whose ``updated_at`` is later than the previous run's server
  clock less ``client.WATERMARK_MARGIN``, the same Data Manager filter as ``annotate pull`` (creating,
  editing and deleting an annotation all bump the task). When the project holds fewer tasks
  than the cache, the deleted ones are found from the task ids alone; when the cache, brought up
  to date, lacks tasks the project lists or holds fewer annotations than the project counted
  before the read, a change escaped the watermark and everything is read again. The cache is keyed by
  server address, project id and the project's creation time, so a reset server or a
  recreated project is never mistaken for the cached one; ``refresh=True`` rebuilds it and
  ``use_cache=False`` neither reads nor writes it; a damaged cache, or one of an older format
  (the JSON cache of earlier versions), is rebuilt. It holds ids, user ids and times only, and
  the counting runs on its columns (100,000 tasks in a few tens of milliseconds).
- A push that creates the project leaves the cache behind (``seed_cache``): it knows every
  task it imported and their audit marks, and that none was annotated before it imported it,
  so the first ``status`` after it, on that machine, reads only what changed since instead
  of listing every task (over two minutes at 100,000 tasks).
- Drafts are not in task pages for other users (Label Studio shows each user only their own),
  so the tasks with a draft come from the ``draft_exists`` filter and their drafts, of every
  user, from ``/api/tasks/<id>/drafts``, a few requests at a time.

What counts: ground-truth annotations (the expected answers of gold sentences) are nobody's
work and are left out everywhere; a task carrying one is a gold sentence, counted in ``gold``
and left out of ``coverage`` and ``complete`` (every annotator is meant to see it), and so
is a ``superseded`` sentence (no longer in its edited article; no longer served). Annotators'
work on both still counts in their figures. Coverage counts, per ordinary sentence, the
distinct annotators with a submitted (not skipped) annotation. "Today" is the calendar day
of the server's clock in ``tz`` (UTC by default), and an annotation counts on the day it was
first submitted (``created_at``). A draft is work saved but not submitted: a new answer in
progress, or an unsaved edit of a submitted one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from annotate import cache
from annotate.config import ProjectConfig
from annotate.errors import ProjectNotFound
from annotate.keys import ProjectKeys, load_keys, project_keys
from annotate.studio.blinding import unseal_tasks
from annotate.studio.client import WATERMARK_MARGIN, Studio, format_filter_time, parse_time
from annotate.studio.status_cache import Facts, FactTable, Record, load_cache, save_cache

__all__ = ["ANNOTATOR_STATUS_COLUMNS", "StatusResult", "default_cache_dir", "seed_cache", "status"]

#: Sparse fields of a task page: the annotation facts status needs, nothing else.
INCLUDE = "id,meta,annotations,completed_by,was_cancelled,ground_truth,created_at"
#: The project's fields status reads: only the two counts it checks, not every count Label
#: Studio can compute (all of them take about 0.9 s at 100,000 tasks, these two 0.05 s).
PROJECT_FIELDS = ("title", "created_at", "task_number", "total_annotations_number")
#: Concurrent requests for drafts.
DRAFT_WORKERS = 6
ANNOTATOR_STATUS_COLUMNS = ["annotator", "today", "annotations", "skipped", "drafts", "last_submitted"]


@dataclass(frozen=True)
class StatusResult:
    """Progress of one project, as of ``as_of`` (the server's clock).

    ``sentences`` counts every task; ``gold`` the gold sentences among them (tasks with a
    ground-truth annotation) and ``superseded`` those no longer in their edited article.
    ``coverage`` maps k to the ordinary sentences (neither) with submitted annotations from
    exactly k distinct annotators; it always has the keys ``0..overlap`` (zeros included) and
    higher keys where present; its values add up to ``sentences - gold - superseded``.
    ``complete`` is the ordinary sentences with at least ``overlap``.
    ``annotations``/``skipped``/``today`` count submitted, skipped and today's submitted
    annotations of annotators (ground-truth ones excluded); ``drafts`` every unsubmitted draft.
    ``annotators`` has ``ANNOTATOR_STATUS_COLUMNS``: ``annotator`` (e-mail), ``today``,
    ``annotations``, ``skipped``, ``drafts`` (counts) and ``last_submitted`` (UTC time of their
    latest submitted annotation, NaT if none), busiest first. ``day`` is the calendar day
    that ``today`` counts, in ``timezone``. ``full`` says the whole project was read (no usable
    cache); ``fetched`` how many tasks were read; ``seconds`` how long it took. ``audit`` counts
    the ordinary sentences of the audit sample, ``audit_unlabelled`` those without any submitted
    annotation and ``audit_complete`` those with at least ``overlap``.
    """

    project_id: int
    project_url: str
    overlap: int
    sentences: int
    gold: int
    superseded: int
    annotations: int
    skipped: int
    drafts: int
    today: int
    complete: int
    coverage: dict[int, int]
    annotators: pd.DataFrame
    day: date
    timezone: str
    as_of: datetime
    full: bool
    fetched: int
    seconds: float
    cache: Path | None
    audit: int = 0
    audit_unlabelled: int = 0
    audit_complete: int = 0


def default_cache_dir() -> Path:
    """Where status keeps its per-project caches: ``$ANNOTATE_CACHE_DIR/status``, else the user
    cache folder of annotate (``~/.cache/annotate/status`` on Linux)."""
    return cache.cache_root() / "status"


# -- reading the server ----------------------------------------------------------------------------


def _pages(
    studio: Studio, project_id: int, *, fields: str, include: str, query: dict[str, Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Pages of tasks with only the ``include`` fields (Label Studio's sparse fieldsets)."""
    for tasks, _ in studio.iter_task_pages(project_id, fields=fields, query=query, include=include):
        yield tasks


def _filter(item: dict[str, Any]) -> dict[str, Any]:
    return {"filters": {"conjunction": "and", "items": [item]}, "ordering": ["tasks:id"]}


def _facts(task: dict[str, Any]) -> Facts:
    out: list[Record] = []
    for ann in task.get("annotations") or []:
        user = ann.get("completed_by")
        if isinstance(user, dict):
            user = user.get("id")
        created = parse_time(ann.get("created_at"))
        out.append(
            (
                int(ann["id"]),
                int(user) if user is not None else None,
                bool(ann.get("was_cancelled")),
                bool(ann.get("ground_truth")),
                created.timestamp() if created else None,
            )
        )
    meta = task.get("meta") or {}
    return bool(meta.get("superseded")), out, meta.get("audit_probability") is not None


def _read(
    studio: Studio, project_id: int, keys: ProjectKeys | None, query: dict[str, Any] | None
) -> tuple[dict[int, Facts], int]:
    """The facts of the tasks ``query`` selects (every task when None), and how many were read."""
    facts: dict[int, Facts] = {}
    for page in _pages(studio, project_id, fields="all", include=INCLUDE, query=query):
        unseal_tasks(page, keys)  # a blinded task's meta (its audit mark) is sealed
        for task in page:
            facts[int(task["id"])] = _facts(task)
    return facts, len(facts)


def _draft_users(studio: Studio, project_id: int) -> list[Any]:
    """The user (a reference, see ``_who``) of every unsubmitted draft, of every user."""
    query = _filter(
        {"filter": "filter:tasks:draft_exists", "operator": "equal", "type": "Boolean", "value": True}
    )
    ids = [
        int(t["id"])
        for page in _pages(studio, project_id, fields="task_only", include="id", query=query)
        for t in page
    ]

    def of_task(task_id: int) -> list[Any]:
        resp = studio.request("GET", f"api/tasks/{task_id}/drafts", ok=(200, 404))
        data = resp.json() if resp.status_code == 200 else []
        return data if isinstance(data, list) else list(data.get("results", []))

    if not ids:
        return []
    with ThreadPoolExecutor(max_workers=min(DRAFT_WORKERS, len(ids))) as pool:
        return [draft.get("user") for drafts in pool.map(of_task, ids) for draft in drafts]


def _who(user: Any, users: dict[int, str]) -> str:
    """A user reference (id, e-mail or object) as an e-mail."""
    if isinstance(user, dict):
        user = user.get("email") or user.get("id")
    if user is None:
        return "unknown"
    if isinstance(user, int) or (isinstance(user, str) and user.isdigit()):
        return users.get(int(user), f"user-{user}")
    return str(user)


# -- the cache ---------------------------------------------------------------------------------------


def _cache_path(cache_dir: Path, url: str, project: dict[str, Any]) -> Path:
    key = f"{url}|{project['id']}|{project.get('created_at')}"
    return cache_dir / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:20]}.npz"


_MS = timedelta(milliseconds=1)


def seed_cache(
    studio: Studio,
    project: dict[str, Any],
    audit: Mapping[int, bool],
    *,
    cache_dir: Path | None = None,
) -> Path:
    """Write the cache of a project that holds exactly the tasks ``audit`` names (task id → in
    the audit sample), none superseded and none annotated: what ``annotate push`` knows right
    after creating the project and importing them; return the cache's path.

    The watermark is the later of the server's clock less ``WATERMARK_MARGIN`` and the
    ``updated_at`` of the last task imported (no task of the push is stamped later, and reading
    the last seconds' imports again is what the seed saves): whatever happens to a task after
    that (an annotation, an edit, a deletion) bumps its ``updated_at`` past it, so the next
    ``status`` reads it as it reads any change. Whatever the seed does not know (an annotation
    made while the push ran, a task imported by someone else meanwhile) is found by ``status``
    itself: its cache then lacks tasks the project lists or annotations the project counts,
    and it reads everything again. So the push spends one request here, not a count of the
    project.
    """
    # the last task imported (the highest id): no task of the push is stamped later
    newest = studio.get_json(f"api/tasks/{max(audit)}/") if audit else None
    watermark = studio.server_time() - WATERMARK_MARGIN  # the clock of that answer
    changed = parse_time(newest.get("updated_at")) if newest else None
    if changed is not None:
        # just past that stamp (filters compare milliseconds)
        watermark = max(watermark, changed.replace(microsecond=changed.microsecond // 1000 * 1000) + _MS)
    table = FactTable.from_facts({task_id: (False, [], flag) for task_id, flag in audit.items()})
    path = _cache_path(cache_dir or default_cache_dir(), studio.url, project)
    save_cache(path, studio.url, project, watermark, table)
    return path


# -- status ------------------------------------------------------------------------------------------


def status(
    config: ProjectConfig,
    studio: Studio,
    *,
    tz: tzinfo = UTC,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    refresh: bool = False,
    day: date | None = None,
    show_names: bool = False,
) -> StatusResult:
    """Progress of the project named ``config.name``; see the module docstring for what counts.

    ``tz`` is the time zone of "today" (UTC by default; ``datetime.now().astimezone().tzinfo``
    for the local one); ``day`` counts another calendar day (in ``tz``) as "today".
    ``cache_dir`` (default ``default_cache_dir()``) holds the incremental cache; ``refresh``
    rebuilds it, ``use_cache=False`` reads the whole project and stores nothing. Raises
    ProjectNotFound when there is no such project. Annotators are named by their pseudonyms
    (``annotate.keys``), by e-mail with ``show_names``.
    """
    began = time.perf_counter()
    project = studio.find_project(config.name, fields=PROJECT_FIELDS)
    if project is None:
        raise ProjectNotFound(
            f"no Label Studio project named '{config.name}' at {studio.url}: run 'annotate push' first"
        )
    pid = int(project["id"])
    # The users and the drafts are read beside the tasks (the server answers them meanwhile);
    # the project's counts above were read before the tasks, as the check below needs.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="status") as beside:
        users_read = beside.submit(studio.users)
        drafts_read = beside.submit(_draft_users, studio, pid)
        as_of = studio.server_time()  # before reading: the next run looks from here
        path = _cache_path(cache_dir or default_cache_dir(), studio.url, project) if use_cache else None
        table, full, fetched = _tasks(studio, project, load_keys(config.name), path, as_of, refresh)
        users = users_read.result()
        drafts = Counter(_who(user, users) for user in drafts_read.result())
    result = _summarize(
        config,
        studio,
        pid,
        table,
        users,
        drafts,
        as_of=as_of,
        tz=tz,
        day=day,
        full=full,
        fetched=fetched,
        seconds=time.perf_counter() - began,
        cache=path,
    )
    keys = project_keys(config.name)
    known = dict(keys.annotators)
    order = {email: uid for uid, email in users.items()}
    shown = keys.display(result.annotators["annotator"], show_names, order)
    if keys.annotators != known:
        keys.save()
    return dataclasses.replace(result, annotators=result.annotators.assign(annotator=shown.to_numpy()))


def _tasks(
    studio: Studio,
    project: dict[str, Any],
    keys: ProjectKeys | None,
    path: Path | None,
    as_of: datetime,
    refresh: bool,
) -> tuple[FactTable, bool, int]:
    """Every task's facts, from the cache at ``path`` (None: no cache) brought up to date, or
    read whole; whether they were read whole, and how many tasks were read. Saves the cache
    with the watermark ``as_of`` (the server's clock before the read) less the margin."""
    pid = int(project["id"])
    cached = load_cache(path, studio.url, project) if path is not None and not refresh else None
    fetched = pruned = 0
    query = None
    if cached is not None:
        since = cached[0]
        query = _filter(
            {
                "filter": "filter:tasks:updated_at",
                "operator": "greater",
                "type": "Datetime",
                "value": format_filter_time(since),
            }
        )
    fresh, fetched = _read(studio, pid, keys, query)
    if cached is None:
        table = FactTable.from_facts(fresh)
    else:
        table = cached[1].merge(fresh)
        if len(table) != int(project.get("task_number") or 0):  # tasks were deleted (or added meanwhile)
            alive = [
                int(t["id"]) for page in _pages(studio, pid, fields="task_only", include="id") for t in page
            ]
            pruned = len(table)
            table = table.keep(alive)
            pruned -= len(table)
            missing = len(table) < len(set(alive))  # tasks the cache never saw, stamped before it
        else:
            missing = False
        if missing or table.records < int(project.get("total_annotations_number") or 0):
            # tasks or annotations counted before the read are missing: a change raced the
            # cache's watermark (or annotations were deleted meanwhile); read everything again
            fresh, fetched = _read(studio, pid, keys, None)
            table, cached = FactTable.from_facts(fresh), None
    # When nothing changed since the cached watermark, keeping it is as good as moving it.
    if path is not None and (cached is None or fetched or pruned):
        save_cache(path, studio.url, project, as_of - WATERMARK_MARGIN, table)
        path.with_suffix(".json").unlink(missing_ok=True)  # the JSON cache of earlier versions
    return table, cached is None, fetched


def _summarize(
    config: ProjectConfig,
    studio: Studio,
    pid: int,
    table: FactTable,
    users: dict[int, str],
    drafts: Counter[str],
    *,
    as_of: datetime,
    tz: tzinfo,
    day: date | None,
    full: bool,
    fetched: int,
    seconds: float,
    cache: Path | None,
) -> StatusResult:
    day = day or as_of.astimezone(tz).date()
    start = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
    end = start + 86_400
    # tasks: superseded first, then gold (any ground-truth annotation), the rest counted
    rows = table.task_rows()
    has_gt = np.zeros(len(table), dtype=bool)
    has_gt[rows[table.ground_truth]] = True
    superseded = table.superseded
    counted = ~superseded & ~has_gt
    # annotators' records (ground truth is nobody's work), each under its annotator's name
    mine = ~table.ground_truth
    names, code = _names(table.user[mine], table.has_user[mine], users)
    cancelled = table.cancelled[mine]
    submitted = ~cancelled
    k = len(names)
    skipped_n = np.bincount(code[cancelled], minlength=k)
    code_s = code[submitted]
    done_n = np.bincount(code_s, minlength=k)
    created = table.created[mine][submitted]
    today_n = np.bincount(code_s[(start <= created) & (created < end)], minlength=k)
    dated = ~np.isnan(created)
    last_n = np.full(k, -np.inf)
    np.maximum.at(last_n, code_s[dated], created[dated])
    has_last = np.bincount(code_s[dated], minlength=k) > 0
    # distinct annotators with a submitted annotation, per task
    pairs = pd.unique(rows[mine][submitted] * max(k, 1) + code_s)
    people = np.bincount(pairs // max(k, 1), minlength=len(table))
    coverage = {n: 0 for n in range(config.overlap + 1)}
    for n, tasks in enumerate(np.bincount(people[counted]).tolist()):
        if tasks or n <= config.overlap:
            coverage[n] = tasks
    in_audit = table.audit & counted
    audited = people[in_audit]

    done = {names[i]: int(n) for i, n in enumerate(done_n) if n}
    skipped = {names[i]: int(n) for i, n in enumerate(skipped_n) if n}
    today = {names[i]: int(n) for i, n in enumerate(today_n) if n}
    last = {names[i]: float(t) for i, t in enumerate(last_n) if has_last[i]}
    who = sorted(set(done) | set(skipped) | set(drafts), key=lambda w: (-done.get(w, 0), -today.get(w, 0), w))
    annotators = pd.DataFrame(
        {
            "annotator": pd.Series(who, dtype="string"),
            "today": pd.Series([today.get(w, 0) for w in who], dtype="int64"),
            "annotations": pd.Series([done.get(w, 0) for w in who], dtype="int64"),
            "skipped": pd.Series([skipped.get(w, 0) for w in who], dtype="int64"),
            "drafts": pd.Series([drafts[w] for w in who], dtype="int64"),
            "last_submitted": pd.to_datetime(
                pd.Series([last.get(w) for w in who], dtype="float64"), unit="s", utc=True
            ).dt.floor("s"),
        },
        columns=ANNOTATOR_STATUS_COLUMNS,
    )
    return StatusResult(
        project_id=pid,
        project_url=f"{studio.url}/projects/{pid}/data",
        overlap=config.overlap,
        sentences=len(table),
        gold=int((~superseded & has_gt).sum()),
        superseded=int(superseded.sum()),
        annotations=int(done_n.sum()),
        skipped=int(skipped_n.sum()),
        drafts=sum(drafts.values()),
        today=int(today_n.sum()),
        complete=sum(n for c, n in coverage.items() if c >= config.overlap),
        coverage=dict(sorted(coverage.items())),
        annotators=annotators,
        day=day,
        timezone=str(tz) if tz is not UTC else "UTC",
        as_of=as_of,
        full=full,
        fetched=fetched,
        seconds=seconds,
        cache=cache,
        audit=int(in_audit.sum()),
        audit_unlabelled=int((audited == 0).sum()),
        audit_complete=int((audited >= config.overlap).sum()),
    )


def _names(
    user: npt.NDArray[np.int64], has_user: npt.NDArray[np.bool_], users: dict[int, str]
) -> tuple[list[str], npt.NDArray[np.int64]]:
    """The distinct names (``_who``) of these records' users, and each record's index among them:
    two user ids with the same e-mail are one annotator, a missing user is "unknown"."""
    ids, inverse = np.unique(user, return_inverse=True)
    index: dict[str, int] = {}  # name -> its number, in order of first appearance
    of_id = np.array([index.setdefault(_who(u, users), len(index)) for u in ids.tolist()], dtype=np.int64)
    code = of_id[inverse.reshape(-1)]
    if not has_user.all():
        code[~has_user] = index.setdefault("unknown", len(index))
    return list(index), code

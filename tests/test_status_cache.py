"""`annotate status` counted on its columnar cache, without a server: the counts agree with the
plain loop they replaced on any set of tasks, and the cache file round-trips or reads as absent."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.studio.status import ANNOTATOR_STATUS_COLUMNS, StatusResult, _summarize, _who
from annotate.studio.status_cache import CACHE_VERSION, Facts, FactTable, load_cache, save_cache

URL = "http://127.0.0.1:8080"
PROJECT = {"id": 7, "created_at": "2026-01-05T10:00:00.000000Z"}
DAY = date(2026, 3, 1)
AS_OF = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
START = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
END = START + 86_400
#: Two ids with one e-mail; an id named "unknown" (as a missing user is); an e-mail that is also
#: the name of an unknown id (99); ids 0 and 99 unknown to the server.
USERS = {1: "a@x.org", 2: "a@x.org", 3: "unknown", 4: "user-99", 5: "b@x.org", 6: "c@x.org"}
USER_IDS = [None, 0, 1, 2, 3, 4, 5, 6, 99]
EAST = timezone(timedelta(hours=8))


def _reference(
    config: Any,
    studio: Any,
    pid: int,
    tasks: dict[int, Facts],
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
    """The per-record loop status counted with before the columnar cache (cache version 3), unchanged."""
    day = day or as_of.astimezone(tz).date()
    start = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
    end = start + 86_400
    coverage: Counter[int] = Counter({k: 0 for k in range(config.overlap + 1)})
    done: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    today: Counter[str] = Counter()
    last: dict[str, float] = {}
    gold = retired = audit = audit_unlabelled = audit_complete = 0
    for superseded, records, in_audit in tasks.values():
        counted = False
        if superseded:
            retired += 1
        elif any(gt for _, _, _, gt, _ in records):
            gold += 1
        else:
            counted = True
        people = set()
        for _, user, cancelled, gt, created in records:
            if gt:
                continue
            who = _who(user, users)
            if cancelled:
                skipped[who] += 1
                continue
            done[who] += 1
            people.add(who)
            if created is not None:
                last[who] = max(last.get(who, created), created)
                if start <= created < end:
                    today[who] += 1
        if counted:
            coverage[len(people)] += 1
            if in_audit:
                audit += 1
                audit_unlabelled += not people
                audit_complete += len(people) >= config.overlap
    names = sorted(set(done) | set(skipped) | set(drafts), key=lambda who: (-done[who], -today[who], who))
    table = pd.DataFrame(
        {
            "annotator": pd.Series(names, dtype="string"),
            "today": pd.Series([today[w] for w in names], dtype="int64"),
            "annotations": pd.Series([done[w] for w in names], dtype="int64"),
            "skipped": pd.Series([skipped[w] for w in names], dtype="int64"),
            "drafts": pd.Series([drafts[w] for w in names], dtype="int64"),
            "last_submitted": pd.to_datetime(
                pd.Series([last.get(w) for w in names], dtype="float64"), unit="s", utc=True
            ).dt.floor("s"),
        },
        columns=ANNOTATOR_STATUS_COLUMNS,
    )
    return StatusResult(
        project_id=pid,
        project_url=f"{studio.url}/projects/{pid}/data",
        overlap=config.overlap,
        sentences=len(tasks),
        gold=gold,
        superseded=retired,
        annotations=sum(done.values()),
        skipped=sum(skipped.values()),
        drafts=sum(drafts.values()),
        today=sum(today.values()),
        complete=sum(n for k, n in coverage.items() if k >= config.overlap),
        coverage=dict(sorted(coverage.items())),
        annotators=table,
        day=day,
        timezone=str(tz) if tz is not UTC else "UTC",
        as_of=as_of,
        full=full,
        fetched=fetched,
        seconds=seconds,
        cache=cache,
        audit=audit,
        audit_unlabelled=audit_unlabelled,
        audit_complete=audit_complete,
    )


def _check_same_summary(
    tasks: dict[int, Facts],
    drafts: Counter[str],
    *,
    overlap: int = 3,
    tz: tzinfo = UTC,
    day: date | None = DAY,
    users: dict[int, str] = USERS,
) -> StatusResult:
    config, studio = SimpleNamespace(overlap=overlap), SimpleNamespace(url=URL)
    context = dict(as_of=AS_OF, tz=tz, day=day, full=False, fetched=2, seconds=0.5, cache=None)
    expected = _reference(config, studio, 7, tasks, users, drafts, **context)  # type: ignore[arg-type]
    got = _summarize(config, studio, 7, FactTable.from_facts(tasks), users, drafts, **context)  # type: ignore[arg-type]
    for field in dataclasses.fields(StatusResult):
        if field.name == "annotators":
            continue
        a, b = getattr(got, field.name), getattr(expected, field.name)
        assert a == b, field.name
        assert type(a) is type(b), field.name
    assert all(type(k) is int and type(v) is int for k, v in got.coverage.items())
    pd.testing.assert_frame_equal(got.annotators, expected.annotators, check_exact=True)
    return got


created_times = st.one_of(
    st.none(),
    st.sampled_from([START, END, END - 1e-6, START - 1e-6, START + 0.5]),
    st.floats(START - 3 * 86_400, END + 86_400, allow_nan=False),
)
records = st.tuples(
    st.integers(1, 2**40),
    st.sampled_from(USER_IDS),
    st.booleans(),
    st.booleans() | st.just(False),
    created_times,
)
facts = st.tuples(st.booleans() | st.just(False), st.lists(records, max_size=6), st.booleans())
task_sets = st.dictionaries(st.integers(-(2**62), 2**62), facts, max_size=25)
draft_counts = st.dictionaries(
    st.sampled_from(["a@x.org", "unknown", "user-0", "c@x.org", "d@x.org"]), st.integers(0, 3)
).map(Counter)


@settings(max_examples=400, deadline=None)
@given(
    tasks=task_sets,
    drafts=draft_counts,
    overlap=st.integers(0, 4),
    tz=st.sampled_from([UTC, EAST]),
    day=st.sampled_from([DAY, None, date(2026, 2, 28)]),
)
def test_summary_agrees_with_the_plain_loop(tasks, drafts, overlap, tz, day) -> None:
    _check_same_summary(tasks, drafts, overlap=overlap, tz=tz, day=day)


@pytest.mark.parametrize("seed", range(5))
def test_summary_agrees_with_the_plain_loop_on_a_large_campaign(seed: int) -> None:
    rng = random.Random(seed)
    tasks: dict[int, Facts] = {}
    for tid in rng.sample(range(1, 10**6), 3000):
        recs = [
            (
                rng.randrange(1, 10**9),
                rng.choice(USER_IDS),
                rng.random() < 0.1,
                rng.random() < 0.03,
                None if rng.random() < 0.05 else START + rng.uniform(-5, 2) * 86_400,
            )
            for _ in range(rng.randrange(0, 6))
        ]
        tasks[tid] = (rng.random() < 0.05, recs, rng.random() < 0.2)
    got = _check_same_summary(tasks, Counter({"a@x.org": 2, "e@x.org": 1}), overlap=rng.randrange(1, 5))
    assert got.gold and got.superseded and got.audit and got.today and got.skipped


def test_summary_edge_cases() -> None:
    """Hand-picked: gold and superseded at once, duplicate e-mails on one task, a missing user beside
    a user named "unknown", an annotation without a time, ties in the table's order."""
    tasks: dict[int, Facts] = {
        1: (True, [(1, 1, False, True, START)], False),  # superseded before gold
        2: (False, [(2, 1, False, True, START), (3, 5, False, False, START)], True),  # gold
        3: (False, [(4, 1, False, False, START), (5, 2, False, False, END)], True),  # one person, twice
        4: (False, [(6, None, False, False, None), (7, 3, True, False, START)], True),
        5: (False, [], True),
        6: (False, [(8, 99, False, False, END - 1), (9, 4, False, False, START - 1)], False),
    }
    got = _check_same_summary(tasks, Counter({"z@x.org": 1}))
    assert (got.sentences, got.gold, got.superseded) == (6, 1, 1)
    assert got.coverage == {0: 1, 1: 3, 2: 0, 3: 0}
    assert (got.audit, got.audit_unlabelled, got.audit_complete) == (3, 1, 0)
    _check_same_summary({}, Counter())
    _check_same_summary({}, Counter({"a@x.org": 0}), overlap=0)


def test_merge_and_keep_match_the_dict_updates() -> None:
    rng = random.Random(3)

    def facts(tid: int) -> Facts:
        recs = [
            (rng.randrange(10**6), rng.choice(USER_IDS), False, False, START) for _ in range(rng.randrange(4))
        ]
        return (rng.random() < 0.1, recs, rng.random() < 0.5)

    tasks = {tid: facts(tid) for tid in rng.sample(range(1000), 300)}
    fresh = {tid: facts(tid) for tid in rng.sample(range(1200), 80)}
    merged = FactTable.from_facts(tasks).merge(fresh)
    assert merged.equals(FactTable.from_facts({**tasks, **fresh}))
    alive = rng.sample(sorted({**tasks, **fresh}), 200) + [5000]
    kept = merged.keep(alive)
    assert kept.equals(FactTable.from_facts({t: f for t, f in {**tasks, **fresh}.items() if t in alive}))
    assert kept.keep(alive) is kept and merged.merge({}) is merged


@settings(max_examples=100, deadline=None)
@given(tasks=task_sets)
def test_cache_round_trips_exactly(tmp_path_factory, tasks: dict[int, Facts]) -> None:
    path = tmp_path_factory.mktemp("cache") / "c.npz"
    table = FactTable.from_facts(tasks)
    assert table.facts() == {tid: tasks[tid] for tid in sorted(tasks)}
    watermark = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    save_cache(path, URL, PROJECT, watermark, table)
    assert path.stat().st_mode & 0o777 == 0o644
    loaded = load_cache(path, URL, PROJECT)
    assert loaded is not None
    assert loaded[0] == watermark
    assert loaded[1].equals(table) and loaded[1].facts() == table.facts()
    assert [p.name for p in path.parent.iterdir()] == ["c.npz"]  # no temporary file left


def test_a_foreign_stale_or_damaged_cache_reads_as_absent(tmp_path: Path) -> None:
    tasks: dict[int, Facts] = {
        5: (False, [(1, 2, False, False, START), (2, None, True, False, None)], True),
        9: (True, [], False),
    }
    table = FactTable.from_facts(tasks)
    path = tmp_path / "c.npz"
    watermark = AS_OF
    save_cache(path, URL, PROJECT, watermark, table)
    good = path.read_bytes()
    assert load_cache(path, URL, PROJECT) is not None
    # another server, project or project incarnation
    assert load_cache(path, "http://127.0.0.1:9090", PROJECT) is None
    assert load_cache(path, URL, {**PROJECT, "id": 8}) is None
    assert load_cache(path, URL, {**PROJECT, "created_at": "2026-02-01T00:00:00Z"}) is None
    assert load_cache(tmp_path / "missing.npz", URL, PROJECT) is None
    damaged = {
        "truncated": good[: len(good) // 2],
        "one byte short": good[:-1],
        "empty": b"",
        "garbage": bytes(random.Random(1).randrange(256) for _ in range(5000)),
        "old JSON cache": b'{"version": 3, "url": "http://127.0.0.1:8080", "project_id": 7, "tasks": {}}',
        "a pickle": b"\x80\x04\x95" + good[3:],
        "a lone array": _npy(np.arange(5)),
    }
    for name, data in damaged.items():
        path.write_bytes(data)
        assert load_cache(path, URL, PROJECT) is None, name
    # a well-formed file of the wrong version, with a bad watermark, or with inconsistent columns
    arrays = {f.name: getattr(table, f.name) for f in dataclasses.fields(FactTable)}
    header = {
        "version": CACHE_VERSION,
        "url": URL,
        "project_id": 7,
        "project_created_at": PROJECT["created_at"],
        "watermark": AS_OF.isoformat(),
    }
    assert _load_written(path, header, arrays) is not None
    for wrong in (
        {**header, "version": CACHE_VERSION - 1},
        {**header, "watermark": None},
        {**header, "watermark": "yesterday"},
        {**header, "watermark": 5},
        [1, 2],
    ):
        assert _load_written(path, wrong, arrays) is None, wrong
    for column, value in (
        ("task_id", np.array([9, 5])),  # unsorted
        ("task_id", np.array([5, 5])),  # repeated
        ("task", np.array([5, 6])),  # an annotation of an unknown task
        ("created", np.array([1.0, 2.0], dtype=np.float32)),  # another dtype
        ("user", np.array([1])),  # another length
        ("audit", np.array([[True, False]])),  # another shape
    ):
        assert _load_written(path, header, {**arrays, column: value}) is None, column
    without = {name: a for name, a in arrays.items() if name != "cancelled"}
    assert _load_written(path, header, without) is None


def _npy(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _load_written(path: Path, header: Any, arrays: dict[str, np.ndarray]) -> Any:
    import json

    raw = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with path.open("wb") as fh:
        np.savez(fh, header=raw, **arrays)
    return load_cache(path, URL, PROJECT)

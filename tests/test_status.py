"""`annotate status` on a real Label Studio: coverage, annotator figures, drafts, the incremental cache."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from annotate.config import ProjectConfig
from annotate.errors import ProjectNotFound
from annotate.ingest.audit import mark_audit
from annotate.studio.client import WATERMARK_MARGIN, Connection, Studio
from annotate.studio.gold import gold_result
from annotate.studio.push import prepare, push
from annotate.studio.status import (
    ANNOTATOR_STATUS_COLUMNS,
    PROJECT_FIELDS,
    StatusResult,
    _cache_path,
    seed_cache,
    status,
)
from annotate.studio.status_cache import FactTable, load_cache, save_cache
from annotate.studio.tasks import article_tasks

F, A, N, X = "Favor", "Against", "Neutral", "Not addressed"
ARTICLE = (
    "China said it will share its AI research with partners. "
    "Officials praised the new dialogue with Washington. "
    "Critics called the plan a publicity stunt. "
    "Analysts disagree about what the rules will achieve.\n"
)


def _answer(china: str) -> list[dict[str, Any]]:
    return gold_result(
        {"stance_china": china, "stance_us": X, "stance_cooperation": X, "sentence_type": "Fact"}
    )


def _same(a: StatusResult, b: StatusResult) -> None:
    """Equal in everything but how it was obtained."""
    skip = {"full", "fetched", "seconds", "cache", "as_of", "annotators"}
    for field in dataclasses.fields(StatusResult):
        if field.name not in skip:
            assert getattr(a, field.name) == getattr(b, field.name), field.name
    assert a.annotators.drop(columns="last_submitted").equals(b.annotators.drop(columns="last_submitted"))


@pytest.fixture
def campaign(tmp_path: Path, make_project, studio: Studio, annotator_keys):
    """4 sentences and a gold one; annotator 1 answers all, 2 answers two and skips one, 3 answers one;
    annotator 2 leaves a draft."""
    config, cfg_path = make_project()
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    push(prepare([article], config, cfg_path), config, studio)
    pid = int(studio.find_project(config.name)["id"])
    first = next(t for page, _ in studio.iter_task_pages(pid, fields="task_only") for t in page)
    data = dict(first["data"], text="China imposed sanctions.", sentence_id="gold-1", doc_id="gold")
    studio.import_tasks(pid, [{"data": data, "annotations": [{"result": _answer(A), "ground_truth": True}]}])
    tasks = [t for page, _ in studio.iter_task_pages(pid, fields="task_only") for t in page]
    tasks.sort(key=lambda t: (t["data"]["doc_id"] != "a", t["data"].get("sentence_index", 0)))
    ids = [int(t["id"]) for t in tasks]  # s0..s3, then gold
    keys = annotator_keys(3)
    made: dict[tuple[int, int], int] = {}
    plan = {0: [0, 1, 2, 3, 4], 1: [0, 1], 2: [0]}
    for a, sentences in plan.items():
        with Studio(Connection(studio.url, keys[a][1], "test")) as me:
            for s in sentences:
                made[(a, s)] = int(me.create_annotation(ids[s], _answer(F), lead_time=5.0)["id"])
            if a == 1:
                me.create_annotation(ids[2], [], was_cancelled=True)
                me.request(
                    "POST", f"api/tasks/{ids[3]}/drafts", json_body={"result": _answer(N), "lead_time": 2}
                )
    return config, pid, ids, [email for email, _ in keys], made


def test_status_counts_coverage_annotators_and_drafts(campaign, studio, tmp_path):
    config, pid, ids, emails, _ = campaign
    first = status(config, studio, show_names=True, cache_dir=tmp_path / "cache")
    assert first.full and first.fetched == 5 and first.project_id == pid
    assert (first.sentences, first.gold, first.superseded) == (5, 1, 0)
    # s0: 3 annotators, s1: 2, s2: 1 (the skip does not count), s3: 1; the gold sentence is left out
    assert first.coverage == {0: 0, 1: 2, 2: 1, 3: 1}
    assert first.complete == 1 and first.overlap == config.overlap == 3
    # the ground-truth answer is nobody's work; annotator 1's answer on the gold sentence is
    assert (first.annotations, first.skipped, first.drafts, first.today) == (8, 1, 1, 8)
    table = first.annotators
    assert list(table.columns) == ANNOTATOR_STATUS_COLUMNS
    assert table["annotator"].tolist() == emails
    # without --show-names the same people, under their pseudonyms
    hidden = status(config, studio, cache_dir=tmp_path / "cache").annotators
    assert hidden["annotator"].str.fullmatch(r"A\d\d").all() and not set(hidden["annotator"]) & set(emails)
    assert table[["today", "annotations", "skipped", "drafts"]].values.tolist() == [
        [5, 5, 0, 0],
        [2, 2, 1, 1],
        [1, 1, 0, 0],
    ]
    assert table["last_submitted"].notna().all()
    assert first.timezone == "UTC" and first.day == first.as_of.date()

    # counted on another day, nothing was done "today"
    other = status(
        config, studio, show_names=True, cache_dir=tmp_path / "cache", day=first.day - timedelta(days=1)
    )
    assert other.today == 0 and other.annotators["today"].tolist() == [0, 0, 0]
    assert other.annotations == 8


def test_status_asks_the_server_for_two_counts_and_they_match_all_counts(campaign, studio):
    """Label Studio computes every count of a project's detail (0.9 s at 100,000 tasks) unless
    told which: status names its fields, and gets the same counts."""
    config, pid, *_ = campaign
    some = studio.find_project(config.name, fields=PROJECT_FIELDS)
    every = studio.find_project(config.name)
    assert some is not None and every is not None
    assert set(some) == {"id", *PROJECT_FIELDS}  # no other count was computed
    assert {k: some[k] for k in some} == {k: every[k] for k in some}
    # 8 submitted by annotators and the ground-truth answer (Label Studio does not count the skip)
    assert (some["task_number"], some["total_annotations_number"]) == (5, 9)


def test_incremental_status_follows_edits_and_deletions(campaign, studio, tmp_path, annotator_keys):
    config, pid, ids, emails, made = campaign
    cache = tmp_path / "cache"
    # a run re-reads what changed within WATERMARK_MARGIN before the previous one; wait past it
    # so that "nothing changed" reads nothing
    time.sleep(WATERMARK_MARGIN.total_seconds() + 1.5)
    first = status(config, studio, show_names=True, cache_dir=cache)
    assert first.full
    again = status(config, studio, show_names=True, cache_dir=cache)
    assert not again.full and again.fetched == 0
    _same(first, again)
    (cached,) = cache.iterdir()
    assert cached.suffix == ".npz" and studio.conn.api_key.encode() not in cached.read_bytes()
    # a damaged cache is rebuilt, not trusted and not fatal
    cached.write_bytes(cached.read_bytes()[:100])
    rebuilt = status(config, studio, show_names=True, cache_dir=cache)
    assert rebuilt.full and rebuilt.fetched == 5
    _same(first, rebuilt)
    assert not status(config, studio, show_names=True, cache_dir=cache).full

    # annotator 3 answers s1, annotator 1's answer on s3 is deleted, s2 is deleted,
    # s0 is superseded (its article was edited)
    with Studio(Connection(studio.url, annotator_keys(3)[2][1], "test")) as third:
        third.create_annotation(ids[1], _answer(A))
    studio.delete_annotation(made[(0, 3)])
    studio.request("DELETE", f"api/tasks/{ids[2]}/")
    studio.request("PATCH", f"api/tasks/{ids[0]}/", json_body={"meta": {"superseded": True}})

    incremental = status(config, studio, show_names=True, cache_dir=cache)
    assert not incremental.full and incremental.fetched == 3  # s0, s1, s3
    fresh = status(config, studio, show_names=True, use_cache=False)
    assert fresh.full and fresh.cache is None
    _same(incremental, fresh)
    assert (fresh.sentences, fresh.gold, fresh.superseded) == (4, 1, 1)
    # s1 now has 3 annotators, s3 none; s0 (superseded) and the gold sentence are left out
    assert fresh.coverage == {0: 1, 1: 0, 2: 0, 3: 1}
    # annotator 1: s0, s1, gold (s2 deleted with its task, s3 deleted); 2: s0, s1 (the skip went
    # with s2); 3: s0, s1
    counts = dict(zip(fresh.annotators["annotator"], fresh.annotators["annotations"], strict=True))
    assert counts == {emails[0]: 3, emails[1]: 2, emails[2]: 2}
    assert fresh.skipped == 0 and fresh.drafts == 1

    # a rebuilt cache agrees too
    _same(status(config, studio, show_names=True, cache_dir=cache, refresh=True), fresh)


def test_status_of_a_missing_project(make_project, studio, tmp_path):
    config, _ = make_project()
    with pytest.raises(ProjectNotFound, match="annotate push"):
        status(config, studio, show_names=True, cache_dir=tmp_path)


def _mixed_audit(config: ProjectConfig, cfg_path: Path, article: Path) -> ProjectConfig:
    """``config`` with an ``audit_seed`` that puts some of the article's sentences in the audit
    sample and not all (the sample depends on the project's name, which is random in tests: at a
    share of 0.5, one name in 16 would put none of 4 sentences in it)."""
    for seed in range(100):
        seeded = config.model_copy(update={"audit_seed": seed})
        prepared = prepare([article], seeded, cfg_path)
        tasks = article_tasks(prepared.articles, seeded, prepared.rules)
        mark_audit(tasks, seeded)
        marks = [(t.get("meta") or {}).get("audit_probability") is not None for t in tasks]
        if any(marks) and not all(marks):
            return seeded
    raise AssertionError("no seed in 100 gives a mixed audit sample")


def test_a_push_that_creates_the_project_leaves_status_its_cache(
    make_project, studio, tmp_path, annotator_keys
):
    """The first status after the push that created the project reads only what changed since
    (nothing, then one annotated task) and counts exactly what a full read counts, audit sample
    of blinded articles included; a push with gold sentences, or to an existing project, leaves
    no cache, and a seed that does not match the project is read again in full by status."""
    config, cfg_path = make_project(audit=0.5)
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    config = _mixed_audit(config, cfg_path, article)
    cache = tmp_path / "status"
    result = push(prepare([article], config, cfg_path), config, studio, status_cache_dir=cache)
    assert result.created and result.audit_imported > 0
    assert len(list(cache.glob("*.npz"))) == 1

    seeded = status(config, studio, cache_dir=cache)
    assert not seeded.full and seeded.fetched == 0
    fresh = status(config, studio, use_cache=False)
    _same(seeded, fresh)
    assert seeded.audit == result.audit_imported and seeded.audit_unlabelled == seeded.audit

    pid = int(studio.find_project(config.name)["id"])
    first = next(t for page, _ in studio.iter_task_pages(pid, fields="task_only") for t in page)
    with Studio(Connection(studio.url, annotator_keys(1)[0][1], "test")) as me:
        me.create_annotation(int(first["id"]), _answer(F))
    after = status(config, studio, cache_dir=cache)
    assert not after.full and after.fetched == 1 and after.annotations == 1
    _same(after, status(config, studio, use_cache=False))

    # pushing again (an existing project) writes no new cache
    other = tmp_path / "other"
    push(prepare([article], config, cfg_path), config, studio, status_cache_dir=other)
    assert not other.exists()
    # a push with gold sentences cannot describe their ground-truth annotations: no cache
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"text": "A gold sentence.", "stance_china": "Favor"}\n', encoding="utf-8")
    with_gold, gold_cfg = make_project(gold=str(gold))
    push(prepare([article], with_gold, gold_cfg), with_gold, studio, status_cache_dir=other)
    assert not other.exists()
    # a seed that does not match the project (a task and an annotation it does not know) is
    # found out by status, which reads everything
    project = studio.find_project(config.name)
    seed_cache(studio, project, {int(first["id"]): False}, cache_dir=other)
    fixed = status(config, studio, cache_dir=other)
    assert fixed.full and fixed.fetched == seeded.sentences
    _same(fixed, status(config, studio, use_cache=False))


@pytest.mark.parametrize("lacks", ["annotations", "a task"])
def test_a_cache_missing_what_the_project_counts_is_read_again(campaign, studio, tmp_path, lacks):
    """A cache whose watermark let changes escape (here: a table without the annotations, or
    without one task, dated in the future) is found out by the project's counts: status reads
    everything again."""
    config, pid, ids, _, _ = campaign
    cache = tmp_path / "cache"
    project = studio.find_project(config.name)
    if lacks == "annotations":
        stale = FactTable.from_facts({task_id: (False, [], False) for task_id in ids})
    else:  # a task imported after the cache was made, but stamped before its watermark
        assert status(config, studio, cache_dir=cache).full
        stale = load_cache(_cache_path(cache, studio.url, project), studio.url, project)[1]
        first = next(t for page, _ in studio.iter_task_pages(pid, fields="task_only") for t in page)
        studio.import_tasks(pid, [{"data": dict(first["data"], sentence_id="late-1")}])
        ids = [*ids, 0]  # one more task to read
        project = studio.find_project(config.name)
    future = studio.server_time() + timedelta(minutes=5)
    save_cache(_cache_path(cache, studio.url, project), studio.url, project, future, stale)
    result = status(config, studio, cache_dir=cache)
    assert result.full and result.fetched == len(ids)
    _same(result, status(config, studio, use_cache=False))


def test_a_push_whose_status_seed_fails_still_succeeds(make_project, studio, tmp_path, monkeypatch):
    """The seed is a courtesy: when it cannot be written the push still ends well, and status
    reads every task."""
    from annotate.errors import ServerError
    from annotate.studio import push as push_module

    def failing(*args: object, **kwargs: object) -> None:
        raise ServerError("Label Studio went away")

    monkeypatch.setattr(push_module, "seed_cache", failing)
    config, cfg_path = make_project()
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    cache = tmp_path / "status"
    result = push(prepare([article], config, cfg_path), config, studio, status_cache_dir=cache)
    assert result.created and result.imported == 4 and not cache.exists()
    first = status(config, studio, cache_dir=cache)
    assert first.full and first.fetched == 4

"""Push articles to Label Studio: ingest, split, create or update the project, import new sentences.

Everything that can fail on the user's input (reading and checking the articles and their
languages, the config, the gold file, the guidelines, the cue rules) happens in `prepare`,
before the first request to the server, so a bad batch pushes nothing. Splitting cannot fail
on checked input; it runs during the push, in a worker process, while Label Studio imports.

What a push does to the project:

- settings from the config: interface, overlap, sequential sampling, skip queue, the
  guidelines as instructions shown before the first task, predictions shown to annotators;
- new sentences are imported in document order, each with its cue suggestions (a Label
  Studio prediction whose ``model_version`` is the rules' version; the project's
  ``model_version`` is set to it, so the suggested spans pre-fill the annotation, unless the
  project is on a model version of ``annotate learn``, which the next ``learn`` extends to the
  new sentences);
- sentences already in the project whose shown data changed (context, position, title,
  blinding) are updated in place; their annotations stay; gold sentences get back the raised
  overlap Label Studio resets whenever the project's overlap changes;
- sentences of a pushed article that the article no longer produces (the sentence was
  edited, so its ``sentence_id`` changed) are **superseded**, never deleted: the task keeps
  its annotations, ``meta.superseded`` records when, and its overlap is set to 0 so Label
  Studio counts it as complete and no longer serves it. A superseded sentence that comes back
  (the edit was undone) is revived.

Blinding: the article metadata named by ``config.blind`` goes to the task's ``meta``, not
its ``data``: Label Studio shows ``data`` in the labeling view, the Data Manager columns and
the task source viewer, but ``meta`` nowhere. ``annotate pull`` reads both.

Audit (config ``audit`` > 0, annotate.ingest.audit): an audit sentence's ``meta`` holds its
``audit_probability`` (sealed with the rest of the meta when its article is blinded, so the
annotators' API cannot tell an audit task from another). The new tasks of a push are then
imported once all are split (no splitting while Label Studio imports): the audit tasks first,
in the random order of their keys, then the others in document order. Label Studio's
"Sequential sampling" (``order: article``) serves by import order, so annotators label the
audit sample first and it stays a random sample however far they get; with ``order:
random`` every task is served at random anyway; with ``order: uncertainty`` ``annotate
learn`` gives audit tasks a prediction without the model's choices (the cue spans only)
scored 0, the lowest, so they come first there too.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from annotate.config import ProjectConfig
from annotate.errors import InputError, ServerError
from annotate.ingest import cues
from annotate.ingest.articles import Article, read_articles
from annotate.ingest.audit import audit_first, mark_audit
from annotate.ingest.bad_rows import BadRowLog
from annotate.ingest.cues import suggestion_rules
from annotate.ingest.segment import article_language
from annotate.keys import ProjectKeys, load_keys
from annotate.memory import release_freed_memory
from annotate.starter import guidelines_path
from annotate.studio import push_manifest
from annotate.studio.blinding import blind_task, check_key, is_blinded, unseal_tasks
from annotate.studio.client import LEARNED_MODEL_PREFIX, Studio, encode_tasks, push_stamp
from annotate.studio.gold import GOLD_OVERLAP, gold_path, gold_tasks, interleave, read_gold
from annotate.studio.interface import build_label_config, guidelines_html
from annotate.studio.status import seed_cache
from annotate.studio.tasks import TaskStream, article_tasks, split_blinded

#: What push reads of an existing project besides the settings it compares (``project_fields``).
PROJECT_FACTS = ("description", "created_at", "model_version", "task_number")
#: Tasks per import request.
BATCH_SIZE = 2000
#: The smallest batch sent early, while the split worker is behind the server.
MIN_BATCH = 250
#: Requests grow from ``batch_size`` tasks by this factor each, up to ``GROWTH_CAP`` times it:
#: the first goes out soon, and a large push pays Label Studio's cost per request (about 0.1 s)
#: fewer times (BENCHMARKS.md: at 100,000 sentences requests of 5,000 import fastest).
GROWTH, GROWTH_CAP = 1.5, 2.5
#: Task updates sent at once (refreshed, superseded and revived sentences).
UPDATE_WORKERS = 4
Progress = Callable[[int, int], None]
#: Task data keys that do not make an existing task "changed" (they follow the tool's version).
_UNCOMPARED = frozenset({"annotate_version"})
_BLINDABLE = frozenset({"outlet", "country", "published", "url"})


@dataclass(frozen=True)
class PushResult:
    """What a push did. Times in seconds."""

    project_id: int
    project_url: str
    created: bool  # the project was created by this push
    updated: bool  # an existing project's settings or interface were changed
    articles: int
    sentences: int
    imported: int
    already_present: int
    seconds: float
    refreshed: int = 0  # existing sentences whose shown data (context, position, blinding) was updated
    superseded: int = 0  # sentences no longer in their (edited) article, kept and marked superseded
    revived: int = 0  # superseded sentences back in their article
    predictions: int = 0  # cue suggestions imported
    suggestions_version: str | None = None  # the cue rules' model version, None when off
    guidelines: Path | None = None  # the guidelines file shown as instructions, None when none
    audit_imported: int = 0  # new tasks of the audit sample (imported before the others)


def _shape_gold(task: dict[str, Any], blind: Sequence[str]) -> dict[str, Any]:
    """A gold task with the same data keys as the others, so nothing gives it away."""
    data = dict(task["data"])
    data.setdefault("paragraph_text", data.get("text", ""))
    shown, hidden = split_blinded(data, blind)
    return {**task, "data": shown, "meta": hidden}


def read_guidelines(path: Path, config: ProjectConfig) -> str:
    """The guidelines at ``path`` as sanitised HTML; InputError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: guidelines file not found (named by 'guidelines' in the config)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the guidelines ({exc})") from None
    return guidelines_html(text, config)


@dataclass(frozen=True)
class Prepared:
    """Articles read and checked, with the gold sentences, guidelines and cue rules: everything
    a push needs, before any request. The sentences are split when needed: ``tasks`` splits
    every article here; ``push`` splits only the articles it must, in a worker process while
    Label Studio imports."""

    articles: list[Article]
    gold_tasks: list[dict[str, Any]] = field(default_factory=list)  # shaped like the others
    config: ProjectConfig | None = None
    instructions: str = ""  # the guidelines as HTML ("" when there are none)
    guidelines: Path | None = None
    rules: Any = None  # annotate.ingest.cues.Rules, or None when suggestions are off
    keys: ProjectKeys | None = None  # the project's blinding key, if this machine has one
    sealed_docs: frozenset[str] = frozenset()  # doc ids of the blinded articles
    skipped: int = 0  # bad rows skipped (prepare's bad_rows), listed in bad_rows_file
    bad_rows_file: Path | None = None  # the list of the skipped rows, None when none were

    def server_form(self, task: dict[str, Any]) -> dict[str, Any]:
        """``task`` as the server gets it: sealed when its article is blinded (and gold tasks
        too whenever an article is, so their shape does not give them away)."""
        doc = (task.get("data") or {}).get("doc_id")
        gold = bool(task.get("annotations"))
        if self.keys is None or not (doc in self.sealed_docs or (gold and self.sealed_docs)):
            return task
        return {**task, **blind_task(task["data"], task.get("meta") or {}, self.keys)}

    @property
    def gold(self) -> int:
        return len(self.gold_tasks)

    @cached_property
    def tasks(self) -> list[dict[str, Any]]:
        """One task per sentence in document order, with the gold sentences (if any) spread
        evenly among them, each with its cue suggestion (if any) under ``predictions``."""
        assert self.config is not None
        plain = interleave(article_tasks(self.articles, self.config, self.rules), self.gold_tasks)
        return [self.server_form(task) for task in plain]


def prepare(
    paths: Sequence[str | Path],
    config: ProjectConfig,
    config_path: Path | None = None,
    encoding: str | None = None,
    max_bytes: int | None = None,
    bad_rows: Path | None = None,
) -> Prepared:
    """Read and check every article (and the gold file, guidelines and cue rules).

    Raises InputError (or ConfigError for bad cue rules) before anything is sent.
    ``config_path`` resolves relative ``gold``, ``guidelines`` and ``suggestions`` paths;
    without it, they are taken against the working directory. ``encoding`` is the codec of
    the files that are not UTF-8; ``max_bytes`` the largest file accepted (see ingest).
    ``bad_rows`` (``push --skip-bad-rows``): skip the rows the reader refuses and list them,
    one line each, in that file (``annotate.ingest.bad_rows``); InputError when none is left.
    """
    skipped, listed = 0, None
    if bad_rows is None:
        articles = read_articles(paths, encoding=encoding, max_bytes=max_bytes)
    else:
        with BadRowLog(bad_rows) as log:
            articles = read_articles(paths, encoding=encoding, max_bytes=max_bytes, on_bad_row=log)
        skipped, listed = log.count, (log.path if log.written else None)
        if not articles:
            raise InputError(f"no article left to push: all {skipped} row(s) are bad, listed in {log.path}")
    for article in articles:
        if article.language:  # an unsupported language fails now, not half-way through a push
            article_language(article)
    path = gold_path(config, config_path)
    golden = gold_tasks(read_gold(path, config)) if path is not None else []
    golden = [_shape_gold(task, config.blind) for task in golden]
    guide = guidelines_path(config, config_path)
    instructions = read_guidelines(guide, config) if guide is not None else ""
    rules = suggestion_rules(config, config_path)
    sealed = frozenset(a.doc_id for a in articles if is_blinded(a, config.blind))
    return Prepared(
        articles,
        golden,
        config=config,
        instructions=instructions,
        guidelines=guide,
        rules=rules,
        # this machine's key opens the tasks sealed before, even when nothing is blinded now
        keys=load_keys(config.name, create=bool(sealed)),
        sealed_docs=sealed,
        skipped=skipped,
        bad_rows_file=listed,
    )


def project_fields(
    config: ProjectConfig, instructions: str = "", suggestions: bool = False
) -> dict[str, Any]:
    """The Label Studio project settings the config determines.

    ``instructions``: the guidelines as HTML, shown before the first task when not empty.
    ``suggestions``: show predictions (cue suggestions) to annotators, pre-filling the annotation.
    """
    return {
        "title": config.display_title()[:50],
        "label_config": build_label_config(config),
        "maximum_annotations": config.overlap,
        "sampling": config.label_studio_sampling(),
        "skip_queue": config.label_studio_skip_queue(),
        "show_skip_button": True,
        "enable_empty_annotation": False,
        "show_annotation_history": False,
        "expert_instruction": instructions,
        "show_instruction": bool(instructions),
        "show_collab_predictions": suggestions,
        "reveal_preannotations_interactively": False,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _comparable(data: dict[str, Any], config: ProjectConfig) -> dict[str, Any]:
    """Task data as far as a change matters: an empty metadata field reveals nothing wherever it
    is, and the paragraph is only shown with ``show_paragraph`` (so projects pushed by earlier
    versions are not rewritten for it)."""
    return {
        k: v
        for k, v in data.items()
        if k not in _UNCOMPARED
        and not (k in _BLINDABLE and v in ("", None))
        and not (k == "paragraph_text" and not config.show_paragraph)
    }


def _own_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The meta keys push writes (blinded fields), without the superseded marks and empty values."""
    return {k: v for k, v in meta.items() if k not in ("superseded", "superseded_at") and v not in ("", None)}


def _batch(batch_size: int, sent: int) -> int:
    """Tasks in the next import request after ``sent`` requests (see ``GROWTH``)."""
    return int(batch_size * min(GROWTH**sent, GROWTH_CAP))


def push(
    articles: Prepared | Sequence[str | Path],
    config: ProjectConfig,
    studio: Studio,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    full: bool = False,
    cache_dir: Path | None = None,
    status_cache_dir: Path | None = None,
) -> PushResult:
    """Create or update the project named ``config.name`` and import the sentences it lacks.

    ``articles`` are file paths, or the result of ``prepare`` on them (which resolves the
    config's relative paths against the config file). A sentence is identified by its
    ``sentence_id``; those already in the project are not imported again, so pushing the same
    articles twice imports nothing the second time. See the module docstring for what else a
    push updates, supersedes and revives.

    Which tasks are compared: with a current local record of the previous push
    (``annotate.studio.push_manifest``, kept in ``cache_dir``), only those of the articles that
    changed since; otherwise, or with ``full``, every task of the project. New sentences are
    split in a worker process while Label Studio imports the previous batch.
    ``progress(done, total)`` counts sentences imported and tasks updated; ``total`` is an
    estimate until every article is split.

    A push that creates the project (without gold sentences, whose ground-truth annotations it
    cannot describe) leaves ``annotate status`` its cache in ``status_cache_dir`` (default: the
    one status uses), so that status's first run reads only what changed since the push.
    """
    began = time.perf_counter()
    prepared = articles if isinstance(articles, Prepared) else prepare(articles, config)
    rules = prepared.rules
    version = str(rules.version) if rules is not None else None
    fields = project_fields(config, prepared.instructions, suggestions=rules is not None)
    keys = prepared.keys
    shape = push_manifest.shape_digest(
        config, prepared.gold_tasks, version, keys.key_id if prepared.sealed_docs and keys else None
    )
    cache = cache_dir if cache_dir is not None else push_manifest.default_cache_dir()
    digests = {a.doc_id: push_manifest.article_digest(a) for a in prepared.articles}
    stamp = _stamp()

    with contextlib.ExitStack() as cleanup:  # stops the split worker however the push ends
        # the settings push compares and the one count it checks, not every count (0.9 s at 100,000 tasks)
        project = studio.find_project(config.name, fields=[*fields, *PROJECT_FACTS])
        created = project is None
        changed: dict[str, Any] = {}
        record: push_manifest.PushManifest | None = None
        early: TaskStream | None = None
        if project is None:
            # a new project gets every article: start splitting them while it is created
            early = cleanup.enter_context(TaskStream(prepared.articles, config, rules))
            studio.validate_label_config(fields["label_config"])
            # a new project accepts any model version; an existing one only a version it has predictions of
            project = studio.create_project(
                config.name, {**fields, "model_version": version or ""}, stamp=stamp
            )
        else:
            changed = {k: v for k, v in fields.items() if project.get(k) != v}
            if not changed and not full:
                record = _current_record(studio, cache, project, shape)
        pid = int(project["id"])
        url = studio.url

        listed_all = False  # every task of the project was listed (no usable record)
        if created or record is not None:
            # only the articles that changed since the recorded push, compared with their own tasks
            if record is None:
                record = push_manifest.PushManifest(
                    url, pid, project.get("created_at"), shape, stamp=push_stamp(project)
                )
            todo = [a for a in prepared.articles if record.articles.get(a.doc_id) != digests[a.doc_id]]
            docs = {a.doc_id for a in todo}
            ids = record.sentences.task_ids(docs)
            existing = studio.task_records(pid, ids) if ids else []
            gold = prepared.gold_tasks if created else []
        else:
            if changed:
                studio.update_project(pid, config.name, changed)
            existing = studio.task_records(pid)
            todo = list(prepared.articles)
            docs = set(digests)
            gold = prepared.gold_tasks
            record = push_manifest.PushManifest(url, pid, project.get("created_at"), shape)
            listed_all = True
        # tasks are matched by their real ids (the record keeps those): sealed ones are opened
        # with this machine's key, and a project sealed with another key is refused
        check_key(existing, keys, config.name)
        plain = [
            {**r, "data": dict(r.get("data") or {}), "meta": dict(r.get("meta") or {})} for r in existing
        ]
        unseal_tasks(plain, keys)
        if listed_all:
            record.sentences = push_manifest.SentenceTasks.of(
                {
                    str(r["data"]["sentence_id"]): (int(r["id"]), _doc(r))
                    for r in plain
                    if r["data"].get("sentence_id") is not None
                }
            )
            record.task_number = len(existing)
            record.max_task_id = max((int(r["id"]) for r in existing), default=0)
        if keys is not None and prepared.sealed_docs and keys.path is not None and not keys.path.exists():
            keys.save()  # before the first task sealed with it reaches the server
        # the record is rewritten at the end; a push that stops half-way leaves none
        push_manifest.forget(cache, url, project)

        by_sid: dict[str, dict[str, Any]] = {}  # real sentence id -> the task as the server has it
        for old, opened in zip(existing, plain, strict=True):
            sid = opened["data"].get("sentence_id")
            if sid is not None:
                by_sid.setdefault(str(sid), old)

        # the sentences of the project's tasks that this push produced again (the others are superseded)
        produced: set[str] = set()
        updates: list[tuple[int, dict[str, Any]]] = []
        revived = 0
        imported = 0
        predictions = 0
        sentences = 0
        pending: list[dict[str, Any]] = []
        total_chars = sum(len(a.text) for a in todo) or 1
        chars = 0

        # One import request in flight while the next batch is made (split, sealed, encoded):
        # Label Studio never waits for this side between two requests.
        importer = cleanup.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="import"))
        audit_ids: set[int] = set()  # the imported tasks of the audit sample
        in_flight: tuple[Future[list[int]], list[dict[str, Any]]] | None = None
        sent = 0

        def land() -> None:
            """Wait for the request in flight; record what it imported."""
            nonlocal imported, predictions, in_flight
            if in_flight is None:
                return
            future, batch = in_flight
            in_flight = None
            ids = future.result()
            # gold tasks must reach every annotator: raise their overlap before anyone labels them
            for task, task_id in zip(batch, ids, strict=True):
                if task.get("annotations"):
                    studio.set_task_overlap(task_id, GOLD_OVERLAP)
            record.add_tasks(batch, ids)
            # the batch's tasks and body are freed now; glibc would keep their pages (annotate.memory)
            release_freed_memory()
            audit_ids.update(
                task_id
                for task, task_id in zip(batch, ids, strict=True)
                if (task.get("meta") or {}).get("audit_probability") is not None
            )
            imported += len(ids)
            predictions += sum(len(task.get("predictions", [])) for task in batch)

        def send(batch: list[dict[str, Any]]) -> None:
            nonlocal in_flight, sent
            body = encode_tasks([prepared.server_form(task) for task in batch])
            land()
            in_flight = (importer.submit(studio.import_encoded, pid, body), batch)
            sent += 1

        # with an audit, every new task waits until all are split: the audit ones go first, by key
        held: list[dict[str, Any]] | None = [] if config.audit > 0 else None
        stream = early if early is not None else cleanup.enter_context(TaskStream(todo, config, rules))
        assert [a.doc_id for a in stream.articles] == [a.doc_id for a in todo]
        for run, tasks in _task_runs(stream, gold, config):
            chars += sum(len(a.text) for a in run)
            # A sentence id names a document's n-th sentence of a text, and each article is in one
            # run (gold sentences run with all the articles): an id twice in a run counts once (a
            # gold sentence that is also an article's). No set of every id of the push is kept.
            in_run: set[str] = set()
            for task in tasks:
                sentences += 1
                sid = str(task["data"]["sentence_id"])
                if sid in in_run:
                    continue
                in_run.add(sid)
                known = by_sid.get(sid)
                if known is None:
                    (held if held is not None else pending).append(task)
                    continue
                produced.add(sid)
                patch = _patch(known, prepared.server_form(task), config)
                if patch:
                    revived += bool(patch.pop("revived", False))
                    updates.append((int(known["id"]), patch))
            # full batches; a smaller one when the splitter is behind, so Label Studio never idles
            smallest = MIN_BATCH if sent else 1  # the first request goes as soon as it can
            if len(pending) >= _batch(batch_size, sent) or (len(pending) >= smallest and stream.waiting()):
                send(pending)
                pending = []
            if progress:
                # new sentences so far, scaled to the characters still to split
                progress(imported, round((imported + len(pending)) * total_chars / max(chars, 1)))
        audit_imported = 0
        if held:
            pending = audit_first(held, config)
            audit_imported = sum((t.get("meta") or {}).get("audit_probability") is not None for t in held)
        while pending:
            size = _batch(batch_size, sent)
            send(pending[:size])
            pending = pending[size:]
        land()
        stream.close()
        refreshed = len(updates) - revived

        # sentences of the pushed articles that the articles no longer produce
        superseded = 0
        marked_at = _now()
        for old, opened in zip(existing, plain, strict=True):
            data = opened["data"]
            sid = data.get("sentence_id")
            if sid is None or data.get("doc_id") not in docs or str(sid) in produced:
                continue
            meta = dict(old.get("meta") or {})
            if not meta.get("superseded"):
                meta.update(superseded=True, superseded_at=marked_at)
                updates.append((int(old["id"]), {"meta": meta, "overlap": 0, "is_labeled": True}))
                superseded += 1
            elif old.get("overlap") != 0 or not old.get("is_labeled"):
                # Label Studio resets every task's overlap when the project's overlap is set to 1
                updates.append((int(old["id"]), {"overlap": 0, "is_labeled": True}))

        total = imported + len(updates)
        if progress:
            progress(imported, total)
        # Label Studio answers a task update in about 0.1 s (it recomputes the task's fields and the
        # project summary); a few in parallel keep a push that refreshes every sentence bearable.
        with ThreadPoolExecutor(max_workers=UPDATE_WORKERS) as pool:
            futures = [pool.submit(studio.update_task, task_id, patch) for task_id, patch in updates]
            for done, future in enumerate(as_completed(futures), start=1):
                future.result()
                if progress and (done % 50 == 0 or done == len(updates)):
                    progress(imported + done, total)

        if (
            rules is not None
            and version is not None
            and not created
            and project.get("model_version") != version
            and not str(project.get("model_version") or "").startswith(LEARNED_MODEL_PREFIX)
        ):
            predictions += _switch_model_version(studio, pid, config.name, prepared, version)
            changed["model_version"] = version

        if created:
            record.stamp = stamp
        elif imported or updates or changed:
            # tell other machines' records that the tasks changed
            studio.update_project(pid, config.name, {}, stamp=stamp)
            record.stamp = stamp
        for article in todo:
            record.articles[article.doc_id] = digests[article.doc_id]
        push_manifest.save(cache, record)
        if created and not gold:
            # status on this machine then starts from what this push knows (annotate.studio.status);
            # the push is done whatever happens here: without the cache, status reads every task
            with contextlib.suppress(ServerError, OSError):
                # a new project's record holds exactly the tasks this push imported
                seed = {task_id: task_id in audit_ids for task_id in record.sentences.task_ids()}
                seed_cache(studio, project, seed, cache_dir=status_cache_dir)

        unchanged = len(_unchanged(prepared.articles, todo, record))
        return PushResult(
            project_id=pid,
            project_url=f"{studio.url}/projects/{pid}/data",
            created=created,
            updated=bool(changed),
            articles=len(prepared.articles),
            sentences=sentences + unchanged,
            imported=imported,
            already_present=sentences - imported + unchanged,
            seconds=time.perf_counter() - began,
            refreshed=refreshed,
            superseded=superseded,
            revived=revived,
            predictions=predictions,
            suggestions_version=version,
            guidelines=prepared.guidelines,
            audit_imported=audit_imported,
        )


def _stamp() -> str:
    return f"{_now()} {secrets.token_hex(4)}"


def _doc(task: dict[str, Any]) -> str | None:
    doc = (task.get("data") or {}).get("doc_id")
    return None if doc is None else str(doc)


def _current_record(
    studio: Studio, cache: Path, project: dict[str, Any], shape: str
) -> push_manifest.PushManifest | None:
    """The local record of the previous push, if it still describes the project."""
    record = push_manifest.load(cache, studio.url, project)
    if record is None:
        return None
    pid = int(project["id"])
    count = project.get("task_number")
    count = int(count) if count is not None else studio.task_count(pid)
    if not record.matches(shape, count, studio.last_task_id(pid), push_stamp(project)):
        return None
    return record


def _unchanged(
    articles: Sequence[Article], todo: Sequence[Article], record: push_manifest.PushManifest
) -> list[str]:
    """Sentence ids of the articles a push skipped because they had not changed."""
    skipped = {a.doc_id for a in articles} - {a.doc_id for a in todo}
    if not skipped:
        return []
    return record.sentences.sentence_ids(skipped)


def _task_runs(
    stream: TaskStream, gold: list[dict[str, Any]], config: ProjectConfig
) -> Iterator[tuple[list[Article], list[dict[str, Any]]]]:
    """Runs of tasks to compare and import. Gold sentences are spread through all the tasks,
    and an audit is drawn over all of them (``mark_audit``), which then have to be split first;
    otherwise the runs stream as they are split."""
    if not gold and config.audit <= 0:
        yield from stream
        return
    tasks: list[dict[str, Any]] = []
    for _, run in stream:
        tasks.extend(run)
    if config.audit > 0:
        mark_audit(tasks, config)
    yield list(stream.articles), interleave(tasks, gold) if gold else tasks


def _patch(old: dict[str, Any], task: dict[str, Any], config: ProjectConfig) -> dict[str, Any]:
    """The update that makes the existing task ``old`` show ``task`` (empty when none is needed);
    ``revived: True`` marks a superseded sentence brought back."""
    meta = dict(old.get("meta") or {})
    patch: dict[str, Any] = {}
    if _comparable(old.get("data") or {}, config) != _comparable(task["data"], config):
        patch["data"] = task["data"]
    if _own_meta(meta) != _own_meta(task.get("meta", {})) or meta.get("superseded"):
        patch["meta"] = dict(task.get("meta", {}))
    if meta.get("superseded"):
        overlap = GOLD_OVERLAP if task.get("annotations") else config.overlap
        patch["overlap"] = overlap
        patch["is_labeled"] = int(old.get("total_annotations") or 0) >= overlap
        patch["revived"] = True
    elif task.get("annotations") and old.get("overlap") != GOLD_OVERLAP:
        # a gold sentence: Label Studio resets task overlaps when the project's overlap changes
        patch.update(overlap=GOLD_OVERLAP, is_labeled=False)
    return patch


def _switch_model_version(studio: Studio, pid: int, name: str, prepared: Prepared, version: str) -> int:
    """Give every live task a suggestion of the rules ``version`` and make it the project's.

    Label Studio pre-fills only predictions whose model version is the project's, and accepts
    a version only once predictions of it exist. Returns the number of predictions added.
    """
    rules = prepared.rules
    added = []
    present = False  # some task has a prediction of this version already
    for tasks, _ in studio.iter_task_pages(pid, fields="all"):
        for task in tasks:
            if (task.get("meta") or {}).get("superseded"):
                continue
            versions = str(task.get("predictions_model_versions") or "")
            if version in re.split(r"\s*,\s*", versions):
                present = True
                continue
            found = cues.prediction(str((task.get("data") or {}).get("text", "")), rules)
            if found is not None:
                added.append({**found, "task": int(task["id"])})
    for i in range(0, len(added), BATCH_SIZE):
        studio.import_predictions(pid, added[i : i + BATCH_SIZE])
    # with no prediction of this version anywhere, Label Studio refuses it: show none rather than stale ones
    studio.update_project(pid, name, {"model_version": version if added or present else ""})
    return len(added)

"""Pull annotations from Label Studio into tidy tables under ``exports/<name>/``.

Incremental by default: only tasks whose ``updated_at`` is later than the
previous pull's watermark are fetched, and each fetched task replaces all rows
of that task (so edited annotations replace their old version and deleted ones
disappear). ``full=True`` refetches everything through the project export.

Memory of a full pull: the export is parsed a chunk of 2,000 tasks at a time, each chunk's
annotation rows are tidied and spilled to a temporary Parquet file (``annotate.spill``), and
the rows are written back sorted by task, a chunk (a range of task ids) at a time, with the
pseudonyms of the whole pull assigned first, as if the whole column had been named at once.
What stays in memory is one chunk and the sentences table (one row per task). An incremental
pull reads the previous tables whole.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from annotate import __version__
from annotate.columns import ANNOTATION_COLUMNS, SENTENCE_COLUMNS
from annotate.config import ProjectConfig
from annotate.errors import ProjectNotFound
from annotate.files import (
    DEFAULT_OUT,
    TableWriter,
    project_dir,
    read_json,
    read_table,
    write_csv,
    write_json,
    write_parquet,
)
from annotate.keys import ProjectKeys, key_path, project_keys
from annotate.spill import SpillFile
from annotate.studio.blinding import unseal_tasks
from annotate.studio.client import WATERMARK_MARGIN, Studio, parse_time, paused_gc, user_email
from annotate.studio.review import review_name, tidy_adjudications

STATE_FILE = ".pull-state.json"
#: Annotation rows a full pull sorts and writes at a time (when the export's chunks are not in
#: task order; otherwise one chunk at a time).
SPILL_RANGE_ROWS = 200_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PullResult:
    """What a pull did. Times in seconds."""

    out_dir: Path
    project_id: int
    full: bool
    tasks_fetched: int
    annotations: int  # distinct annotations in the exports after the pull
    rows: int  # rows of annotations.parquet
    sentences: int
    seconds: float
    #: as written to manifest.json
    manifest: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    #: one line each, for the user (the CLI prints them as warnings)
    warnings: list[str] = dataclasses.field(default_factory=list)
    snapshot: Path | None = None  # the snapshot folder, with workflows.pull(snapshot=True)


def python_offsets(text: str, start: Any, end: Any, span_text: Any) -> tuple[Any, Any]:
    """A span's offsets as Python string indices.

    Label Studio's editor counts JavaScript string positions (UTF-16 code units), which differ
    from Python's after a character outside the Basic Multilingual Plane (an emoji, a rare CJK
    ideograph). Offsets that already select ``span_text`` are kept.
    """
    if not isinstance(start, int) or not isinstance(end, int) or text.isascii():
        return start, end
    if text[start:end] == span_text or all(ord(c) <= 0xFFFF for c in text):
        return start, end
    index_of: dict[int, int] = {}
    units = 0
    for i, char in enumerate(text):
        index_of[units] = i
        units += 2 if ord(char) > 0xFFFF else 1
    index_of[units] = len(text)
    if start in index_of and end in index_of:
        return index_of[start], index_of[end]
    return start, end


def tidy_annotations(tasks: Iterable[dict[str, Any]], users: dict[int, str]) -> pd.DataFrame:
    """One row per annotation × field × label or span (columns: ``ANNOTATION_COLUMNS``).

    ``tasks`` are Label Studio task JSON objects with their ``annotations``.
    Choices give one row per chosen label; Labels spans one row per span with
    ``start``/``end`` (character offsets into the sentence) and ``span_text``;
    a TextArea one row with the text as ``label``. A skipped (cancelled) or
    empty annotation gives one row with ``field`` missing, so it is counted.
    """
    rows: list[tuple[Any, ...]] = []
    for task in tasks:
        data = task.get("data") or {}
        sid = data.get("sentence_id")
        doc = data.get("doc_id")
        tid = int(task["id"])
        for ann in task.get("annotations") or []:
            base = (sid, doc, tid, int(ann["id"]), user_email(ann.get("completed_by"), users))
            tail = (
                ann.get("created_at"),
                ann.get("updated_at"),
                ann.get("lead_time"),
                bool(ann.get("was_cancelled")),
                bool(ann.get("ground_truth")),
            )
            before = len(rows)
            if not ann.get("was_cancelled"):
                for item in ann.get("result") or []:
                    field = item.get("from_name")
                    value = item.get("value") or {}
                    kind = item.get("type")
                    if kind == "choices":
                        for label in value.get("choices") or []:
                            rows.append((*base, field, label, None, None, None, *tail))
                    elif kind == "labels":
                        start, end = python_offsets(
                            str(data.get("text") or ""),
                            value.get("start"),
                            value.get("end"),
                            value.get("text"),
                        )
                        for label in value.get("labels") or []:
                            rows.append((*base, field, label, start, end, value.get("text"), *tail))
                    elif kind == "textarea":
                        text = "\n".join(str(t) for t in value.get("text") or [])
                        if text.strip():
                            rows.append((*base, field, text, None, None, None, *tail))
            if len(rows) == before:
                rows.append((*base, None, None, None, None, None, *tail))
    df = pd.DataFrame.from_records(rows, columns=ANNOTATION_COLUMNS)
    return _typed_annotations(df)


def _typed_annotations(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in ("sentence_id", "doc_id", "annotator", "field", "label", "span_text"):
        out[col] = out[col].astype("string")
    for col in ("task_id", "annotation_id"):
        out[col] = out[col].astype("int64")
    for col in ("start", "end"):
        out[col] = pd.to_numeric(out[col]).astype("Int64")
    for col in ("created_at", "updated_at"):
        # microseconds, as Label Studio stamps them, also in a part with none (which parses as seconds)
        out[col] = pd.to_datetime(out[col], utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    out["lead_time"] = pd.to_numeric(out["lead_time"]).astype("float64")
    out["cancelled"] = out["cancelled"].astype(bool)
    out["ground_truth"] = out["ground_truth"].astype(bool)
    return out


def tidy_sentences(tasks: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per task that carries a sentence (columns: ``SENTENCE_COLUMNS``)."""
    rows = []
    for task in tasks:
        data = task.get("data") or {}
        if data.get("sentence_id") is None:
            continue
        # metadata blinded from annotators (config `blind`) is kept in the task's meta
        meta = task.get("meta") or {}
        metadata = data.get("metadata") or {}

        def field(name: str, data: dict[str, Any] = data, meta: dict[str, Any] = meta) -> Any:
            return data.get(name) or meta.get(name) or None

        author = next(
            (v for k in ("author", "authors", "byline") for v in (metadata.get(k), meta.get(k)) if v), None
        )
        rows.append(
            (
                data.get("sentence_id"),
                data.get("doc_id"),
                data.get("sentence_index"),
                data.get("paragraph"),
                data.get("text"),
                int(task["id"]),
                data.get("title"),
                field("outlet"),
                field("country"),
                author,
                field("published"),
                field("url"),
                data.get("language"),
                task.get("updated_at"),
                bool(meta.get("superseded")),
                meta.get("audit_probability"),
            )
        )
    df = pd.DataFrame.from_records(rows, columns=SENTENCE_COLUMNS)
    df["superseded"] = df["superseded"].astype(bool)
    df["audit_probability"] = pd.to_numeric(df["audit_probability"]).astype("float64")
    for col in (
        "sentence_id",
        "doc_id",
        "text",
        "title",
        "outlet",
        "country",
        "author",
        "published",
        "url",
        "language",
    ):
        df[col] = df[col].astype("string")
    for col in ("sentence_index", "paragraph"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    df["task_id"] = df["task_id"].astype("int64")
    df["task_updated_at"] = pd.to_datetime(df["task_updated_at"], utc=True, format="ISO8601")
    return df


def _concat(parts: list[pd.DataFrame], empty: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The chunks' tables as one (the empty table when there were none)."""
    if not parts:
        return empty()
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _sort_sentences(sentences: pd.DataFrame) -> pd.DataFrame:
    order = ["doc_id", "sentence_index", "task_id"]
    return sentences.sort_values(order, kind="stable").reset_index(drop=True)


def _sort_annotations(annotations: pd.DataFrame) -> pd.DataFrame:
    return annotations.sort_values(["task_id", "annotation_id"], kind="stable").reset_index(drop=True)


def _sort(annotations: pd.DataFrame, sentences: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _sort_annotations(annotations), _sort_sentences(sentences)


def _write_annotations(parts: Iterable[pd.DataFrame], folder: Path) -> dict[str, int]:
    """``annotations.parquet`` and ``.csv`` from ``parts`` (typed, sorted, in order; the first may
    be empty), a part at a time; the manifest's counts of rows, annotations and skipped ones."""
    counts = {"annotations": 0, "distinct_annotations": 0, "skipped_annotations": 0}
    with TableWriter(folder / "annotations.parquet", folder / "annotations.csv") as out:
        for part in parts:
            out.write(part)
            # an annotation's rows are one task's, so never in two parts
            counts["annotations"] += len(part)
            counts["distinct_annotations"] += int(part["annotation_id"].nunique())
            counts["skipped_annotations"] += int(part.loc[part["cancelled"], "annotation_id"].nunique())
    return counts


def _full_pull(
    chunks: Iterable[list[dict[str, Any]]],
    keys: ProjectKeys,
    users: dict[int, str],
    order: dict[str, int],
    show_names: bool,
    folder: Path,
    progress: Progress | None,
) -> tuple[pd.DataFrame, dict[str, int], int, int]:
    """Every task of the export's ``chunks``, a chunk at a time: the annotation rows are spilled to a
    temporary file as they are tidied (``annotate.spill``) and written back sorted by task, a
    range of tasks at a time, so memory holds one chunk and the sentences, not every row. The
    sentences (one row per task) are sorted whole and written. Returns the sentences, the
    annotation counts, the tasks fetched and the sealed tasks that could not be opened."""
    sent_parts: list[pd.DataFrame] = []
    emails: set[str] = set()
    tasks_fetched = closed = 0
    empty = tidy_annotations([], users)
    with SpillFile("task_id", range_rows=SPILL_RANGE_ROWS) as spill:
        spill.add(empty)
        for chunk in chunks:
            closed += unseal_tasks(chunk, keys)
            with paused_gc():
                part = tidy_annotations(chunk, users)
                sent_parts.append(tidy_sentences(chunk))
            emails.update(part["annotator"].dropna().unique())
            spill.add(part)
            tasks_fetched += len(chunk)
            if progress:
                progress(tasks_fetched, tasks_fetched)
        # pseudonyms for the whole pull at once: numbered as if the whole column were shown
        distinct = sorted(emails)
        shown = dict(
            zip(distinct, keys.display(pd.Series(distinct, dtype="string"), show_names, order), strict=True)
        )
        sentences = _sort_sentences(_concat(sent_parts, lambda: tidy_sentences([])))
        del sent_parts
        write_parquet(sentences, folder / "sentences.parquet")

        def ready(part: pd.DataFrame) -> pd.DataFrame:
            part["annotator"] = part["annotator"].map(shown).astype("string")
            return _sort_annotations(_typed_annotations(part[ANNOTATION_COLUMNS]))

        parts = itertools.chain([_typed_annotations(empty[ANNOTATION_COLUMNS])], map(ready, spill.ranges()))
        counts = _write_annotations(parts, folder)
    return sentences, counts, tasks_fetched, closed


def _closed_warning(closed: int, project: str) -> list[str]:
    """The one-line warning when sealed tasks could not be opened (no key, or another key)."""
    if not closed:
        return []
    return [
        f"{closed} task(s) of blinded documents are sealed with a key this machine lacks "
        f"({key_path(project)}): their doc ids are pseudonyms and their blinded fields are empty in "
        "the exports; run 'annotate key import FILE', then 'annotate pull --full'"
    ]


def _pull_adjudications(config: ProjectConfig, studio: Studio, users: dict[int, str]) -> pd.DataFrame | None:
    """Final labels from the review project (whole project: it holds only contested sentences)."""
    review = studio.find_project(review_name(config), detail=False)
    if review is None:
        return None
    return tidy_adjudications(studio.export_tasks(int(review["id"])), users)


def pull_tables(
    config: ProjectConfig,
    studio: Studio,
    out_dir: Path | str = DEFAULT_OUT,
    full: bool = False,
    progress: Progress | None = None,
    show_names: bool = False,
) -> PullResult:
    """Fetch the project's annotations into ``<out_dir>/<config.name>/``.

    Writes ``annotations.parquet`` + ``.csv``, ``sentences.parquet``, the review project's
    ``adjudications.parquet`` + ``.csv`` (if it exists) and ``manifest.json`` atomically.
    Incremental unless ``full`` or there is no previous pull of the same project in that
    folder. ``annotate.workflows.pull`` adds the data dictionary and the snapshot.

    Annotators are named by their pseudonyms (``annotate.keys``: ``A01``, ``A02``, … in the order
    they are first pulled), in the rows pulled before too; ``show_names`` writes their e-mail
    addresses instead. Sealed tasks of blinded documents are opened with this machine's key; the
    ones it cannot open keep their pseudonymous ids (``warnings`` says so).
    """
    began = time.perf_counter()
    project = studio.find_project(config.name, detail=False)
    if project is None:
        raise ProjectNotFound(
            f"no Label Studio project named '{config.name}' at {studio.url}: run 'annotate push' first"
        )
    pid = int(project["id"])
    folder = project_dir(out_dir, config.name)
    state = read_json(folder / STATE_FILE) or {}
    incremental = (
        not full
        and state.get("project_id") == pid
        and (folder / "annotations.parquet").exists()
        and (folder / "sentences.parquet").exists()
        and state.get("watermark")
    )
    users = studio.users()
    keys = project_keys(config.name)  # a damaged keys file stops the pull here, before anything is written
    known = dict(keys.annotators)
    closed = 0
    order = {email: uid for uid, email in users.items()}  # new pseudonyms go in user id order
    # The watermark is the server's clock before reading, less a margin.
    started_at = studio.server_time()

    if incremental:
        since = parse_time(str(state["watermark"]))
        assert since is not None
        fetched: list[dict[str, Any]] = []
        for page, total in studio.changed_tasks(pid, since):
            fetched.extend(page)
            if progress:
                progress(len(fetched), total)
        closed += unseal_tasks(fetched, keys)
        old_ann = read_table(folder / "annotations.parquet")
        old_sent = read_table(folder / "sentences.parquet")
        # exports written before the author and superseded columns existed
        if "author" not in old_sent:
            old_sent["author"] = pd.Series(pd.NA, index=old_sent.index, dtype="string")
        if "superseded" not in old_sent:
            old_sent["superseded"] = False
        new_ann = tidy_annotations(fetched, users)
        new_sent = tidy_sentences(fetched)
        ids = {int(t["id"]) for t in fetched}
        annotations = pd.concat([old_ann[~old_ann["task_id"].isin(ids)], new_ann], ignore_index=True)
        sentences = pd.concat([old_sent[~old_sent["task_id"].isin(ids)], new_sent], ignore_index=True)
        if studio.task_count(pid) != len(sentences):
            # tasks were deleted on the server: keep only those still there
            alive = set(studio.sentence_task_ids(pid).values())
            annotations = annotations[annotations["task_id"].isin(alive)]
            sentences = sentences[sentences["task_id"].isin(alive)]
        tasks_fetched = len(fetched)
        annotations["annotator"] = keys.display(annotations["annotator"], show_names, order)
        annotations = _typed_annotations(annotations[ANNOTATION_COLUMNS])
        annotations, sentences = _sort(annotations, sentences)
        write_parquet(sentences, folder / "sentences.parquet")
        counts = _write_annotations([annotations], folder)
        del annotations
    else:
        sentences, counts, tasks_fetched, closed = _full_pull(
            studio.export_task_chunks(pid), keys, users, order, show_names, folder, progress
        )
    watermark = started_at - WATERMARK_MARGIN
    manifest = {
        "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "label_studio_url": studio.url,
        "label_studio_version": studio.version(),
        "annotate_version": __version__,
        "project_id": pid,
        "project_name": config.name,
        "project_title": project.get("title"),
        "config_sha256": config.sha256(),
        "pull": "full" if not incremental else "incremental",
        "tasks_fetched": tasks_fetched,
        "rows": {"sentences": len(sentences), **counts},
    }
    adjudications = _pull_adjudications(config, studio, users)
    if adjudications is not None:
        adjudications["adjudicator"] = keys.display(adjudications["adjudicator"], show_names, order)
        if keys.key is not None:  # the review tasks of blinded documents carry pseudonymous ids
            real = {keys.pseudonym("sentence", str(sid)): sid for sid in sentences["sentence_id"].dropna()}
            adjudications["sentence_id"] = (
                adjudications["sentence_id"].map(lambda s: real.get(s, s)).astype("string")
            )
        write_parquet(adjudications, folder / "adjudications.parquet")
        write_csv(adjudications, folder / "adjudications.csv")
        manifest["rows"]["adjudications"] = len(adjudications)  # type: ignore[index]
    write_json(manifest, folder / "manifest.json")
    if keys.annotators != known:
        keys.save()
    write_json(
        {"project_id": pid, "watermark": watermark.isoformat(), "pulled_at": manifest["pulled_at"]},
        folder / STATE_FILE,
    )
    return PullResult(
        out_dir=folder,
        project_id=pid,
        full=not incremental,
        tasks_fetched=tasks_fetched,
        annotations=counts["distinct_annotations"],
        rows=counts["annotations"],
        sentences=len(sentences),
        seconds=time.perf_counter() - began,
        manifest=manifest,
        warnings=_closed_warning(closed, config.name),
    )


def load_pulled(
    config: ProjectConfig, out_dir: Path | str, columns: list[str] | None = None
) -> tuple[Path, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The folder and the tables of the last pull: annotations (only ``columns``, if given),
    sentences, adjudications (or None)."""
    folder = project_dir(out_dir, config.name)
    annotations = read_table(folder / "annotations.parquet", columns=columns)
    sentences = read_table(folder / "sentences.parquet")
    adjudications = (
        read_table(folder / "adjudications.parquet") if (folder / "adjudications.parquet").exists() else None
    )
    return folder, annotations, sentences, adjudications

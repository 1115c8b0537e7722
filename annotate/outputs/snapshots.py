"""Dated copies of an export folder, and what changed between two of them.

``snapshot(folder, config)`` copies the pull's files of ``exports/<name>/`` into
``exports/<name>/snapshots/<UTC time>/`` (e.g. ``20260301T120000Z``): the sentences,
annotations and adjudications (Parquet and CSV), ``manifest.json`` and ``README.md``.
``annotate pull --snapshot`` takes one right after the pull has written its files.

The summary CSVs of a snapshot are computed from the snapshot's own annotations
(``analysis.compute_tables``, as ``annotate summarize`` without ``--exclude-flagged``), not
copied: the CSVs beside the pull were written by the ``summarize`` run *before* that pull,
so a copy would pair this pull's annotations with the previous pull's labels. Without a
config (``snapshot(folder)``) the summary files present are copied as they are, and
``snapshot.json`` says so. ``snapshot.json`` records when the snapshot was taken, the pull
it holds and how its summary files were made.

``diff(old, new, config)`` recomputes the final labels of both sides from their
annotations with the same config, so it needs only ``annotations.parquet`` and
``sentences.parquet`` (and ``adjudications.parquet`` when there is one) and works on
snapshots and on the export folder itself alike; there is no need to run ``summarize``
before diffing. It lists each sentence × choice field whose final label (the ``label`` of
``sentence_labels.csv``) changed, appeared (no label before, e.g. first answers) or
disappeared (no label any more, e.g. annotations or the sentence deleted).

A snapshot folder is built under a temporary name and renamed into place, so a snapshot is
either complete or absent.
"""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from annotate.columns import DIFF_COLUMNS, TABLE_FILES
from annotate.config import ProjectConfig
from annotate.errors import AnnotateError, ExportError
from annotate.files import read_json, read_table, write_csv, write_json
from annotate.quality.tables import compute_tables

__all__ = [
    "DIFF_COLUMNS",
    "PULL_FILES",
    "SNAPSHOT_DIR",
    "SNAPSHOT_FILE",
    "diff",
    "list_snapshots",
    "snapshot",
]

SNAPSHOT_DIR = "snapshots"
SNAPSHOT_FILE = "snapshot.json"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
#: Files written by ``pull`` that a snapshot copies (those present).
PULL_FILES = (
    "sentences.parquet",
    "annotations.parquet",
    "annotations.csv",
    "adjudications.parquet",
    "adjudications.csv",
    "manifest.json",
    "README.md",
)
REQUIRED = ("annotations.parquet", "sentences.parquet")


def _summary_files() -> dict[str, str]:
    return dict(TABLE_FILES)


def _check_folder(folder: Path, role: str = "") -> Path:
    """``folder`` if it holds a pull (annotations and sentences), else ExportError saying what to pass."""
    what = f"{role} " if role else ""
    if not folder.is_dir():
        raise ExportError(
            f"{what}{folder} is not a folder: pass an export folder (exports/<name>/) or one of its "
            f"snapshots (exports/<name>/{SNAPSHOT_DIR}/<time>/)"
        )
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        hint = ""
        if (folder / SNAPSHOT_DIR).is_dir() or folder.name == SNAPSHOT_DIR:
            found = list_snapshots(folder.parent if folder.name == SNAPSHOT_DIR else folder)
            if found:
                hint = f"; snapshots there: {', '.join(p.name for p in found[-3:])}"
        raise ExportError(
            f"{what}{folder} is not an export folder or snapshot (no {' or '.join(missing)}): pass "
            f"exports/<name>/ after 'annotate pull', or exports/<name>/{SNAPSHOT_DIR}/<time>/{hint}"
        )
    return folder


def list_snapshots(folder: Path) -> list[Path]:
    """The snapshots of the export folder ``folder``, oldest first."""
    root = Path(folder) / SNAPSHOT_DIR
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / SNAPSHOT_FILE).exists()
    )


def _free_name(root: Path, stamp: str) -> Path:
    target = root / stamp
    n = 2
    while target.exists():
        target = root / f"{stamp}-{n}"
        n += 1
    return target


def snapshot(folder: Path, config: ProjectConfig | None = None, now: datetime | None = None) -> Path:
    """Copy the export folder's files into ``<folder>/snapshots/<UTC time>/``; returns that folder.

    With ``config``, the snapshot's summary CSVs are computed from its own annotations;
    without, the summary CSVs present are copied. ``now`` (default: the current time) names
    the folder; a second snapshot in the same second gets ``-2``, ``-3``, ... Raises
    ExportError when ``folder`` holds no pull.
    """
    folder = _check_folder(Path(folder))
    taken = (now or datetime.now(UTC)).astimezone(UTC)
    root = folder / SNAPSHOT_DIR
    root.mkdir(exist_ok=True)
    work = root / f".tmp-{taken.strftime(STAMP_FORMAT)}-{secrets.token_hex(4)}"
    work.mkdir()
    try:
        copied = []
        for name in PULL_FILES:
            if (folder / name).is_file():
                shutil.copy2(folder / name, work / name)
                copied.append(name)
        summary: dict[str, Any]
        if config is not None:
            summary = _computed_summary(work, config)
        else:
            summary = {
                "how": "copied from the export folder as they were (they may describe an earlier pull)"
            }
            names = []
            for name in _summary_files().values():
                if (folder / name).is_file():
                    shutil.copy2(folder / name, work / name)
                    names.append(name)
            summary["files"] = names
        manifest = read_json(folder / "manifest.json") or {}
        write_json(
            {
                "taken_at": taken.isoformat(timespec="seconds"),
                "export_folder": folder.name,
                "pulled_at": manifest.get("pulled_at"),
                "project_id": manifest.get("project_id"),
                "config_sha256": manifest.get("config_sha256"),
                "files": copied,
                "summary": summary,
            },
            work / SNAPSHOT_FILE,
        )
        target = _free_name(root, taken.strftime(STAMP_FORMAT))
        os.rename(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


def _computed_summary(work: Path, config: ProjectConfig) -> dict[str, Any]:
    """Write the summary CSVs computed from the snapshot's own tables; how it went, for snapshot.json."""
    info: dict[str, Any] = {
        "how": "computed from this snapshot's annotations (annotate summarize without --exclude-flagged)",
        "config_sha256": config.sha256(),
    }
    try:
        tables, _ = compute_tables(config, *_tables(work))
    except AnnotateError as exc:  # the pull itself is fine; say why the summary is missing
        info["error"] = str(exc)
        info["files"] = []
        return info
    names = []
    for key, name in _summary_files().items():
        write_csv(tables[key], work / name)
        names.append(name)
    info["files"] = names
    return info


def _tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    annotations = read_table(folder / "annotations.parquet")
    sentences = read_table(folder / "sentences.parquet")
    adjudications = (
        read_table(folder / "adjudications.parquet") if (folder / "adjudications.parquet").exists() else None
    )
    return annotations, sentences, adjudications


def final_labels(folder: Path, config: ProjectConfig, exclude_flagged: bool = False) -> pd.DataFrame:
    """``sentence_labels`` of an export folder or snapshot, computed from its annotations."""
    annotations, sentences, adjudications = _tables(_check_folder(Path(folder)))
    tables, _ = compute_tables(config, annotations, sentences, adjudications, exclude_flagged)
    return tables["sentence_labels"]


def diff(old: Path, new: Path, config: ProjectConfig, exclude_flagged: bool = False) -> pd.DataFrame:
    """Sentence × choice field whose final label differs between two pulls.

    ``old`` and ``new`` are snapshots or export folders. Out: ``DIFF_COLUMNS``; ``old_label``
    / ``old_source`` are empty for a label that appeared, ``new_label`` / ``new_source`` for
    one that disappeared; ``text`` is the sentence (from ``new``, else ``old``). Sorted by
    document, position in the document and field in config order.
    """
    old, new = _check_folder(Path(old), "OLD"), _check_folder(Path(new), "NEW")
    keys = ["sentence_id", "field"]
    before = final_labels(old, config, exclude_flagged)[[*keys, "doc_id", "label", "source"]]
    after = final_labels(new, config, exclude_flagged)[[*keys, "doc_id", "label", "source"]]
    both = before.merge(after, on=keys, how="outer", suffixes=("_old", "_new"))
    old_label, new_label = both["label_old"].astype("string"), both["label_new"].astype("string")
    changed = old_label.isna() != new_label.isna()
    changed |= (old_label.notna() & new_label.notna() & (old_label != new_label)).fillna(False)
    both = both[changed.to_numpy(dtype=bool)]

    sentences = pd.concat([_tables(new)[1], _tables(old)[1]], ignore_index=True).drop_duplicates(
        "sentence_id"
    )
    text = sentences.set_index("sentence_id")["text"]
    order = sentences.set_index("sentence_id")["sentence_index"]
    doc_id = both["doc_id_new"].astype("string").fillna(both["doc_id_old"].astype("string"))
    out = pd.DataFrame(
        {
            "sentence_id": both["sentence_id"].astype("string"),
            "doc_id": doc_id,
            "field": both["field"].astype("string"),
            "old_label": old_label[both.index],
            "new_label": new_label[both.index],
            "old_source": both["source_old"].astype("string"),
            "new_source": both["source_new"].astype("string"),
            "text": both["sentence_id"].map(text).astype("string"),
        }
    )
    rank = {field: i for i, field in enumerate(config.choice_fields())}
    out = out.assign(
        _order=both["sentence_id"].map(order).astype("Float64"),
        _field=out["field"].map(rank).astype("Float64"),
    ).sort_values(["doc_id", "_order", "sentence_id", "_field", "field"], na_position="last", kind="stable")
    return out[DIFF_COLUMNS].reset_index(drop=True)

"""The review project: contested sentences go to it, its final labels come back.

The review project is a second Label Studio project (``<name>-review``) whose
tasks show a sentence in context with every annotator's answers; the
adjudicator picks the final label of the fields that need one. ``annotate pull``
fetches its annotations into ``adjudications.parquet`` and ``annotate summarize``
lets them win over the aggregated labels.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from annotate import TASK_SCHEMA_VERSION, __version__
from annotate.columns import ADJUDICATION_COLUMNS
from annotate.config import ProjectConfig
from annotate.errors import ProjectNotFound
from annotate.keys import load_keys
from annotate.studio.client import Studio, user_email
from annotate.studio.interface import build_review_config

Progress = Callable[[int, int], None]


def review_name(config: ProjectConfig) -> str:
    """Name under which the review project is found."""
    return f"{config.name}-review"


def _answer_lines(answers: pd.DataFrame, show_names: bool) -> dict[str, str]:
    """sentence_id -> one line per annotator: ``Annotator A — stance_china: Favor; sentence_type: Fact``."""
    names: dict[str, str] = {}
    if not show_names:
        for i, who in enumerate(sorted(answers["annotator"].unique())):
            letter = string.ascii_uppercase[i % 26] + (str(i // 26) if i >= 26 else "")
            names[who] = f"Annotator {letter}"
    out: dict[str, str] = {}
    for sid, part in answers.groupby("sentence_id", sort=False):
        lines = []
        for who, mine in part.groupby("annotator", sort=True):
            shown = str(who) if show_names else names[str(who)]
            lines.append(
                f"{shown} — "
                + "; ".join(f"{f}: {lab}" for f, lab in zip(mine["field"], mine["label"], strict=True))
            )
        out[str(sid)] = "\n".join(lines)
    return out


@dataclass(frozen=True)
class AdjudicateResult:
    """What ``adjudicate`` did."""

    project_id: int
    project_url: str
    selected: int  # sentence × field pairs selected
    sentences: int  # distinct sentences selected
    imported: int  # new review tasks
    already_present: int


def check_main_project(config: ProjectConfig, studio: Studio) -> None:
    """ProjectNotFound unless the config's project exists on the server (its review needs it)."""
    if studio.find_project(config.name) is None:
        raise ProjectNotFound(f"no Label Studio project named '{config.name}' at {studio.url}: push first")


def send_for_review(
    config: ProjectConfig,
    studio: Studio,
    selected: pd.DataFrame,
    answers: pd.DataFrame,
    sentences: pd.DataFrame,
    show_names: bool = False,
) -> AdjudicateResult:
    """Create or update the review project and import the selected sentences it lacks.

    ``selected`` (``sentence_id, field, reason``) comes from
    ``annotate.quality.adjudication.select_for_review``; ``answers`` are the choice answers
    shown to the adjudicator; ``sentences`` is the pulled ``sentences`` table: the task data of
    each review task copies the original sentence's text, context and position.
    """
    check_main_project(config, studio)
    name = review_name(config)
    label_config = build_review_config(config)
    fields: dict[str, Any] = {
        "title": f"Review: {config.display_title()}"[:50],
        "label_config": label_config,
        "maximum_annotations": 1,
        "sampling": "Sequential sampling",
        "show_skip_button": True,
    }
    project = studio.find_project(name)
    if project is None:
        studio.validate_label_config(label_config)
        project = studio.create_project(name, fields)
        existing: dict[str, int] = {}
    else:
        changed = {k: v for k, v in fields.items() if project.get(k) != v}
        if changed:
            studio.update_project(int(project["id"]), name, changed)
        existing = studio.sentence_task_ids(int(project["id"]))
    pid = int(project["id"])

    info = sentences.set_index("sentence_id")
    on_server = _server_ids(config, info)
    by_sentence = selected.groupby("sentence_id", sort=False)
    sids = [str(sid) for sid in by_sentence.groups if on_server(str(sid))[0] not in existing]
    lines = _answer_lines(answers[answers["sentence_id"].isin(sids)], show_names)
    context = _context(sentences)
    tasks: list[dict[str, Any]] = []
    for sid in sids:
        part = by_sentence.get_group(sid)
        row = info.loc[sid] if sid in info.index else None
        before, after = context.get(str(sid), ("", ""))
        reason = "; ".join(f"{f}: {r}" for f, r in zip(part["field"], part["reason"], strict=True))
        server_sid, server_doc = on_server(str(sid))
        data: dict[str, Any] = {
            "text": "" if row is None else str(row["text"]),
            "sentence_id": server_sid,
            "doc_id": server_doc,
            "sentence_index": None if row is None else _int(row["sentence_index"]),
            "sentence_number": None if row is None else _int(row["sentence_index"]) + 1,
            "sentence_count": None if row is None else int((sentences["doc_id"] == row["doc_id"]).sum()),
            "title": "" if row is None or pd.isna(row.get("title")) else str(row["title"]),
            "context_before": before,
            "context_after": after,
            "answers": lines.get(str(sid), ""),
            "reason": f"Sent to review — {reason}",
            "review_fields": list(part["field"]),
            "schema_version": TASK_SCHEMA_VERSION,
            "annotate_version": __version__,
        }
        tasks.append({"data": data})
    imported = len(studio.import_tasks(pid, tasks)) if tasks else 0
    return AdjudicateResult(
        project_id=pid,
        project_url=f"{studio.url}/projects/{pid}/data",
        selected=len(selected),
        sentences=int(selected["sentence_id"].nunique()),
        imported=imported,
        already_present=int(selected["sentence_id"].nunique()) - len(sids),
    )


def _server_ids(config: ProjectConfig, info: pd.DataFrame) -> Callable[[str], tuple[str, str]]:
    """sentence id -> the (sentence id, doc id) its review task carries: keyed pseudonyms for the
    sentences of blinded documents (``annotate.studio.blinding``), so the review project, which
    every member can read too, names no document either."""
    keys = load_keys(config.name)
    fields = [name for name in config.blind if name in info.columns]

    def ids(sid: str) -> tuple[str, str]:
        if sid not in info.index:
            return sid, ""
        row = info.loc[sid]
        doc = str(row["doc_id"])
        blinded = any(isinstance(row[name], str) and row[name] for name in fields)
        if keys is None or not blinded:
            return sid, doc
        return keys.pseudonym("sentence", sid), keys.pseudonym("doc", doc)

    return ids


def _int(value: object) -> int:
    return int(value) if value is not None and not pd.isna(value) else 0  # type: ignore[call-overload]


def _context(sentences: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """sentence_id -> (previous sentence, next sentence) within its document."""
    ordered = sentences.sort_values(["doc_id", "sentence_index"], kind="stable")
    out: dict[str, tuple[str, str]] = {}
    for _, doc in ordered.groupby("doc_id", sort=False):
        texts = [str(t) for t in doc["text"]]
        for i, sid in enumerate(doc["sentence_id"]):
            out[str(sid)] = (texts[i - 1] if i else "", texts[i + 1] if i + 1 < len(texts) else "")
    return out


def tidy_adjudications(tasks: list[dict[str, Any]], users: dict[int, str]) -> pd.DataFrame:
    """Final labels from review-project tasks: ``ADJUDICATION_COLUMNS``; the latest annotation wins."""
    rows = []
    for task in tasks:
        sid = (task.get("data") or {}).get("sentence_id")
        for ann in task.get("annotations") or []:
            if ann.get("was_cancelled"):
                continue
            email = user_email(ann.get("completed_by"), users)
            for item in ann.get("result") or []:
                if item.get("type") != "choices":
                    continue
                for label in (item.get("value") or {}).get("choices") or []:
                    rows.append(
                        (sid, item.get("from_name"), label, email, int(ann["id"]), ann.get("updated_at"))
                    )
    df = pd.DataFrame.from_records(rows, columns=ADJUDICATION_COLUMNS)
    df["updated_at"] = pd.to_datetime(df["updated_at"], utc=True, format="ISO8601")
    df = df.sort_values(["updated_at", "annotation_id"], kind="stable")
    df = df.drop_duplicates(["sentence_id", "field"], keep="last").reset_index(drop=True)
    for col in ("sentence_id", "field", "label", "adjudicator"):
        df[col] = df[col].astype("string")
    return df

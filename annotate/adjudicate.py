"""Adjudication: send contested sentences to a review project, bring the final labels back.

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
from typing import Any, Literal

import numpy as np
import pandas as pd

from annotate import TASK_SCHEMA_VERSION, __version__
from annotate.config import ProjectConfig
from annotate.errors import InputError, ProjectNotFound
from annotate.interface import build_review_config
from annotate.studio import Studio, user_email

Criterion = Literal["contested", "margin", "dawid-skene", "alpha"]
CRITERIA: tuple[str, ...] = ("contested", "margin", "dawid-skene", "alpha")
DEFAULT_THRESHOLDS: dict[str, float] = {"contested": 0.5, "margin": 0.0, "dawid-skene": 0.8, "alpha": 0.01}
ADJUDICATION_COLUMNS = ["sentence_id", "field", "label", "adjudicator", "annotation_id", "updated_at"]
Progress = Callable[[int, int], None]


def review_name(config: ProjectConfig) -> str:
    """Name under which the review project is found."""
    return f"{config.name}-review"


def alpha_gain(answers: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """How much nominal α of one field rises when each sentence is left out.

    ``answers``: one row per sentence × annotator (``sentence_id, label``) of one field.
    Returns ``sentence_id, alpha_gain``. With value totals n_c over pairable
    sentences (m_u ≥ 2 values), n = Σ n_c, and a sentence's disagreement
    D_u = (m_u² − Σ_c n_uc²) / (m_u − 1), α = 1 − (n − 1) ΣD_u / (n² − Σ n_c²);
    leaving sentence u out subtracts its counts from every total.
    """
    codes = pd.Categorical(answers["label"], categories=labels).codes
    table = pd.crosstab(answers["sentence_id"], codes)
    counts = table.to_numpy(dtype=float)
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    units = table.index[pairable]
    if len(units) == 0:
        return pd.DataFrame({"sentence_id": pd.Series(dtype="string"), "alpha_gain": pd.Series(dtype=float)})
    d_u = (m**2 - (counts**2).sum(axis=1)) / (m - 1)
    totals = counts.sum(axis=0)

    def alpha(n_c: np.ndarray, d: np.ndarray) -> np.ndarray:
        n = n_c.sum(axis=-1)
        expected = n**2 - (n_c**2).sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(expected > 0, 1 - (n - 1) * d / expected, np.nan)

    full = float(alpha(totals[None, :], np.array([d_u.sum()]))[0])
    without = alpha(totals[None, :] - counts, d_u.sum() - d_u)
    return pd.DataFrame({"sentence_id": units.astype(str), "alpha_gain": without - full})


def select_for_review(
    labels: pd.DataFrame,
    answers: pd.DataFrame,
    config: ProjectConfig,
    by: str = "contested",
    threshold: float | None = None,
) -> pd.DataFrame:
    """Sentence × field pairs that need an adjudicator: ``sentence_id, field, reason``.

    ``labels`` is ``sentence_labels`` (with ``contested``, ``margin``, ``ds_probability``);
    ``answers`` one row per sentence × field × annotator. Criteria:

    - ``contested``: no label has more than half of the votes;
    - ``margin``: (top votes − runner-up votes) / annotators ≤ threshold (default 0: ties);
    - ``dawid-skene``: the Dawid–Skene posterior of the chosen label < threshold (default 0.8);
    - ``alpha``: leaving the sentence out raises the field's α by more than threshold (default 0.01).
    Sentences with a single annotator are never selected.
    """
    if by not in CRITERIA:
        raise InputError(f"unknown adjudication criterion {by!r}; use one of {', '.join(CRITERIA)}")
    limit = DEFAULT_THRESHOLDS[by] if threshold is None else threshold
    multi = labels[labels["n_annotators"] >= 2]
    if by == "contested":
        picked = multi[multi["contested"]].assign(reason="no label has more than half of the votes")
    elif by == "margin":
        picked = multi[multi["margin"] <= limit]
        picked = picked.assign(reason=[f"majority margin {m:.2f} ≤ {limit:g}" for m in picked["margin"]])
    elif by == "dawid-skene":
        picked = multi[multi["ds_probability"] < limit]
        picked = picked.assign(
            reason=[f"Dawid–Skene probability {p:.2f} < {limit:g}" for p in picked["ds_probability"]]
        )
    else:
        gains = []
        for field, field_labels in config.choice_fields().items():
            part = answers[answers["field"] == field]
            if len(part):
                gains.append(alpha_gain(part, field_labels).assign(field=field))
        gain = pd.concat(gains) if gains else pd.DataFrame(columns=["sentence_id", "alpha_gain", "field"])
        picked = multi.merge(gain, on=["sentence_id", "field"])
        picked = picked[picked["alpha_gain"] > limit]
        picked = picked.assign(reason=[f"α rises by {float(g):.3f} without it" for g in picked["alpha_gain"]])
    return picked[["sentence_id", "field", "reason"]].reset_index(drop=True)


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


def adjudicate(
    config: ProjectConfig,
    studio: Studio,
    labels: pd.DataFrame,
    answers: pd.DataFrame,
    sentences: pd.DataFrame,
    by: str = "contested",
    threshold: float | None = None,
    show_names: bool = False,
) -> AdjudicateResult:
    """Create or update the review project and import the selected sentences it lacks.

    ``sentences`` is the pulled ``sentences`` table; the task data of each review
    task copies the original sentence's text, context and position.
    """
    main = studio.find_project(config.name)
    if main is None:
        raise ProjectNotFound(f"no Label Studio project named '{config.name}' at {studio.url}: push first")
    selected = select_for_review(labels, answers, config, by, threshold)
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

    by_sentence = selected.groupby("sentence_id", sort=False)
    sids = [str(sid) for sid in by_sentence.groups if sid not in existing]
    lines = _answer_lines(answers[answers["sentence_id"].isin(sids)], show_names)
    info = sentences.set_index("sentence_id")
    context = _context(sentences)
    tasks: list[dict[str, Any]] = []
    for sid in sids:
        part = by_sentence.get_group(sid)
        row = info.loc[sid] if sid in info.index else None
        before, after = context.get(str(sid), ("", ""))
        reason = "; ".join(f"{f}: {r}" for f, r in zip(part["field"], part["reason"], strict=True))
        data: dict[str, Any] = {
            "text": "" if row is None else str(row["text"]),
            "sentence_id": str(sid),
            "doc_id": "" if row is None else str(row["doc_id"]),
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

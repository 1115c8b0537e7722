"""Suggestions from the model in Label Studio: one prediction per task that has no final label.

After ``annotate learn`` trains, every task of the project that is not superseded, not gold and
has no final label in any field gets **one** prediction under the model's version: the model's
choice for each trained field (each stance target, fact/opinion) and the cue-rule spans, with
``score`` = the model's mean confidence over its fields (the top-class probability), the number
Label Studio's "Uncertainty sampling" orders by. The task's older predictions (cue rules, an
earlier model) are deleted first, so versions do not pile up, and the project's
``model_version`` is set to the model's, so Label Studio pre-fills the form with it.

Suggestions never come from a model trained on the same task's label: only tasks without a
final label get one, and those were not in the training set. A later ``annotate push`` leaves
the project's model version as it is (new sentences get their suggestions at the next
``annotate learn``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from annotate.config import ProjectConfig
from annotate.errors import ProjectNotFound
from annotate.ingest.cues import Rules, prediction
from annotate.keys import load_keys
from annotate.model.card import ModelCard
from annotate.model.classifier import SentenceClassifier
from annotate.quality.anchoring import SUGGESTION_RECORD_COLUMNS
from annotate.studio.blinding import unseal_tasks
from annotate.studio.client import Studio

__all__ = ["SuggestResult", "push_suggestions"]

BATCH = 1000


@dataclass(frozen=True)
class SuggestResult:
    """What ``push_suggestions`` did: tasks that got a prediction, the version they carry, the
    control tasks (choices kept back) and the record of every suggestion
    (``SUGGESTION_RECORD_COLUMNS``), which ``annotate learn`` keeps beside the model."""

    project_id: int
    model_version: str
    suggested: int
    labelled: int  # tasks left alone: they have a final label (or are gold or superseded)
    control: int = 0
    records: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SUGGESTION_RECORD_COLUMNS))


def is_control(sentence_id: str, share: float, seed: int) -> bool:
    """Whether a sentence is a control task: a seeded, uniform draw from its id (stable across runs)."""
    digest = hashlib.sha256(f"{seed}\x1f{sentence_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _choices(
    models: Mapping[str, SentenceClassifier], texts: list[str]
) -> tuple[dict[str, list[str]], np.ndarray, dict[str, np.ndarray]]:
    """Each field's predicted label per text, the mean top-class probability per text, and each
    field's top-class probability."""
    labels: dict[str, list[str]] = {}
    top: dict[str, np.ndarray] = {}
    for name, model in models.items():
        proba = model.predict_proba(texts)
        classes = [str(c) for c in model.classes_]
        labels[name] = [classes[i] for i in proba.argmax(axis=1)]
        top[name] = proba.max(axis=1)
    confidence = np.mean(list(top.values()), axis=0) if top else np.zeros(len(texts))
    return labels, confidence, top


def push_suggestions(
    config: ProjectConfig,
    studio: Studio,
    models: Mapping[str, SentenceClassifier],
    card: ModelCard,
    final_labels: pd.DataFrame,
    rules: Rules | None = None,
    control: float = 0.0,
    seed: int = 0,
) -> SuggestResult:
    """Give every unlabelled task of the project one prediction of ``card.model_version``.

    ``final_labels`` is the ``sentence_labels`` table the models were trained on (its sentences
    count as labelled); ``rules`` adds the cue spans (None: no spans). A ``control`` share of the
    tasks (``is_control``) gets the cue spans only: the model's choices are recorded, not shown;
    so does every task of the audit sample (``meta.audit_probability``), whose score is 0 so that
    "Uncertainty sampling" serves it first.
    Raises ProjectNotFound when the project does not exist.
    """
    project = studio.find_project(config.name, detail=False)
    if project is None:
        raise ProjectNotFound(f"no Label Studio project named '{config.name}' at {studio.url}: push first")
    pid = int(project["id"])
    labelled_ids = set(final_labels.loc[final_labels["label"].notna(), "sentence_id"].astype(str))
    tasks = [task for page, _ in studio.iter_task_pages(pid, fields="all") for task in page]
    unseal_tasks(tasks, load_keys(config.name))  # sealed ids are matched by their real values
    todo = [
        task
        for task in tasks
        if not (task.get("meta") or {}).get("superseded")
        and not any(a.get("ground_truth") for a in task.get("annotations") or [])
        and str((task.get("data") or {}).get("sentence_id")) not in labelled_ids
    ]
    version = card.model_version
    predictions: list[dict[str, Any]] = []
    records: list[tuple[Any, ...]] = []
    texts = [str((task.get("data") or {}).get("text", "")) for task in todo]
    if todo:
        labels, confidence, top = _choices(models, texts)
        for i, task in enumerate(todo):
            data = task.get("data") or {}
            sid = str(data.get("sentence_id"))
            audit = (task.get("meta") or {}).get("audit_probability") is not None
            # the audit sample is never pre-filled by the model and is served first (lowest score)
            shown = not audit and not is_control(sid, control, seed)
            records.extend(
                (sid, str(data.get("doc_id")), name, labels[name][i], float(top[name][i]), shown, version)
                for name in models
            )
            result: list[dict[str, Any]] = []
            if shown:
                result = [
                    {
                        "from_name": name,
                        "to_name": "sentence",
                        "type": "choices",
                        "origin": "prediction",
                        "value": {"choices": [labels[name][i]]},
                    }
                    for name in models
                ]
            spans = prediction(texts[i], rules) if rules is not None else None
            if spans is not None:
                result.extend(spans["result"])
            predictions.append(
                {
                    "task": int(task["id"]),
                    "model_version": version,
                    "score": 0.0 if audit else round(float(confidence[i]), 4),
                    "result": result,
                }
            )
        ids = [int(task["id"]) for task in todo]
        for start in range(0, len(ids), BATCH):
            studio.delete_predictions(pid, ids[start : start + BATCH])
        for start in range(0, len(predictions), BATCH):
            studio.import_predictions(pid, predictions[start : start + BATCH])
    studio.update_project(
        pid, config.name, {"model_version": version if predictions else project.get("model_version") or ""}
    )
    table = pd.DataFrame.from_records(records, columns=SUGGESTION_RECORD_COLUMNS)
    hidden = int((~table["shown"].astype(bool)).sum() // max(len(models), 1)) if len(table) else 0
    return SuggestResult(pid, version, len(predictions), len(tasks) - len(todo), hidden, table)

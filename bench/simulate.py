"""Seeded simulated annotations for the benchmark.

Each sentence gets a hidden "true" label per choice field (skewed like real
stance data: most sentences do not address most targets); each annotator
answers correctly with their own accuracy and otherwise picks another label
at random, marks a cue span now and then (snapped to word boundaries of the
sentence) and rarely leaves a comment. Two outputs:

- ``with_annotations``: Label Studio task JSON with ``annotations`` attached
  (``completed_by`` = user id), for a bulk import that sets up the pull benchmark;
- ``campaign_tasks``: exported task JSON of a larger campaign (25 annotators, 3–5 per
  sentence), which ``annotate.studio.pull``'s own functions turn into the tables summarize reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from annotate.config import ProjectConfig

_WORD = re.compile(r"\w[\w'-]*")


def _skewed(n_labels: int) -> np.ndarray:
    """Label prior: the last label ("Not addressed") dominates, the others share the rest."""
    p = np.full(n_labels, 0.35 / max(1, n_labels - 1))
    p[-1] = 0.65
    return p / p.sum()


def _truths(rng: np.random.Generator, n: int, fields: dict[str, list[str]]) -> dict[str, np.ndarray]:
    out = {}
    for name, labels in fields.items():
        prior = _skewed(len(labels)) if name.startswith("stance_") else np.full(len(labels), 1 / len(labels))
        out[name] = rng.choice(len(labels), size=n, p=prior)
    return out


def _answers(rng: np.random.Generator, truth: np.ndarray, accuracy: np.ndarray, n_labels: int) -> np.ndarray:
    """Each row's answer: the truth with probability ``accuracy``, else a different label."""
    right = rng.random(truth.shape[0]) < accuracy
    other = (truth + rng.integers(1, n_labels, size=truth.shape[0])) % n_labels
    return np.where(right, truth, other)


def with_annotations(
    tasks: Sequence[dict[str, Any]],
    config: ProjectConfig,
    user_ids: Sequence[int],
    seed: int = 11,
) -> list[dict[str, Any]]:
    """Copies of ``tasks`` with one annotation by each of ``user_ids`` (Label Studio import JSON)."""
    rng = np.random.default_rng(seed)
    fields = config.choice_fields()
    n = len(tasks)
    truths = _truths(rng, n, fields)
    accuracy = rng.uniform(0.7, 0.95, size=len(user_ids))
    out = [{"data": dict(t["data"]), "annotations": []} for t in tasks]
    cues = list(config.cues)
    for a, user in enumerate(user_ids):
        answers = {
            name: _answers(rng, truths[name], np.full(n, accuracy[a]), len(labels))
            for name, labels in fields.items()
        }
        cue_draw = rng.random(n)
        lead = rng.gamma(2.0, 6.0, size=n) + 2.0
        for i, task in enumerate(out):
            result: list[dict[str, Any]] = [
                {
                    "from_name": name,
                    "to_name": "sentence",
                    "type": "choices",
                    "value": {"choices": [labels[int(answers[name][i])]]},
                }
                for name, labels in fields.items()
            ]
            if cues and cue_draw[i] < 0.3:
                text = task["data"]["text"]
                words = list(_WORD.finditer(text))
                if words:
                    w = words[int(cue_draw[i] * 1000) % len(words)]
                    result.append(
                        {
                            "from_name": "cues",
                            "to_name": "sentence",
                            "type": "labels",
                            "value": {
                                "start": w.start(),
                                "end": w.end(),
                                "text": w.group(),
                                "labels": [cues[int(cue_draw[i] * 10_000) % len(cues)]],
                            },
                        }
                    )
            if cue_draw[i] > 0.995:
                result.append(
                    {
                        "from_name": "comment",
                        "to_name": "sentence",
                        "type": "textarea",
                        "value": {"text": ["check the source"]},
                    }
                )
            task["annotations"].append(
                {"result": result, "completed_by": int(user), "lead_time": round(float(lead[i]), 2)}
            )
    return out


def campaign_tasks(
    texts: Sequence[str],
    config: ProjectConfig,
    annotators: int = 25,
    per_sentence: tuple[int, int] = (3, 5),
    cue_rate: float = 0.3,
    skip_rate: float = 0.01,
    doc_size: int = 25,
    seed: int = 5,
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Label Studio task JSON (as the export gives it) for a campaign on ``texts``: each sentence
    labelled by 3–5 of ``annotators`` people with their own accuracy, some cue spans, 1% skips.

    Returns the tasks and the user id -> e-mail map, ready for ``annotate.studio.pull.tidy_annotations``
    and ``tidy_sentences`` (so the tables have exactly the columns and types a pull writes).
    """
    rng = np.random.default_rng(seed)
    fields = config.choice_fields()
    n = len(texts)
    k = rng.integers(per_sentence[0], per_sentence[1] + 1, size=n)
    accuracy = rng.uniform(0.6, 0.95, size=annotators)
    truths = _truths(rng, n, fields)
    users = {i + 1: f"annotator{i + 1:02d}@example.org" for i in range(annotators)}
    cues = list(config.cues)
    start = np.datetime64("2025-01-01T00:00:00")
    tasks: list[dict[str, Any]] = []
    annotation_id = 0
    for i, text in enumerate(texts):
        who = rng.choice(annotators, size=int(k[i]), replace=False)
        draws = rng.random((len(who), 4))
        offsets = rng.integers(0, 90 * 86400, size=len(who))
        annotations = []
        for a, person in enumerate(who):
            annotation_id += 1
            created = str(start + np.timedelta64(int(offsets[a]), "s")) + ".000000Z"
            result: list[dict[str, Any]] = []
            cancelled = bool(draws[a, 0] < skip_rate)
            if not cancelled:
                for name, labels in fields.items():
                    truth = int(truths[name][i])
                    if rng.random() < accuracy[person]:
                        answer = truth
                    else:
                        answer = (truth + int(rng.integers(1, len(labels)))) % len(labels)
                    result.append(
                        {
                            "from_name": name,
                            "to_name": "sentence",
                            "type": "choices",
                            "value": {"choices": [labels[answer]]},
                        }
                    )
                if cues and draws[a, 1] < cue_rate:
                    s, e, word = _word_span(text, int(draws[a, 2] * 1_000_003))
                    result.append(
                        {
                            "from_name": "cues",
                            "to_name": "sentence",
                            "type": "labels",
                            "value": {
                                "start": s,
                                "end": e,
                                "text": word,
                                "labels": [cues[int(draws[a, 3] * len(cues))]],
                            },
                        }
                    )
            annotations.append(
                {
                    "id": annotation_id,
                    "completed_by": int(person) + 1,
                    "result": result,
                    "was_cancelled": cancelled,
                    "ground_truth": False,
                    "created_at": created,
                    "updated_at": created,
                    "lead_time": round(float(2 + 12 * draws[a, 3]), 2),
                }
            )
        tasks.append(
            {
                "id": i + 1,
                "data": {
                    "text": text,
                    "sentence_id": f"s{i:015x}",
                    "doc_id": f"doc-{i // doc_size:06d}",
                    "sentence_index": i % doc_size,
                    "paragraph": (i % doc_size) // 3,
                    "title": f"Article {i // doc_size}",
                    "language": "en",
                },
                "meta": {},
                "updated_at": "2025-04-01T00:00:00.000000Z",
                "annotations": annotations,
            }
        )
    return tasks, users


def _word_span(text: str, r: int) -> tuple[int, int, str]:
    words = list(_WORD.finditer(text))
    if not words:
        return 0, len(text), text
    w = words[r % len(words)]
    return w.start(), w.end(), w.group()


def rows_per_sentence(
    config: ProjectConfig, per_sentence: tuple[int, int] = (3, 5), cue_rate: float = 0.3
) -> float:
    """Expected annotation-table rows per sentence (to size a table of a given row count)."""
    mean_k = (per_sentence[0] + per_sentence[1]) / 2
    return mean_k * (len(config.choice_fields()) + (cue_rate if config.cues else 0.0))

"""Which sentences go to adjudication: the selection criteria and their thresholds.

``annotate.studio.review`` sends the selected sentences to the review project; its labels come
back through ``annotate pull`` and win over the aggregated ones in ``annotate summarize``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from annotate.config import ProjectConfig
from annotate.errors import InputError

__all__ = ["CRITERIA", "DEFAULT_THRESHOLDS", "alpha_gain", "select_for_review"]

Criterion = Literal["contested", "margin", "dawid-skene", "alpha"]
CRITERIA: tuple[str, ...] = ("contested", "margin", "dawid-skene", "alpha")
DEFAULT_THRESHOLDS: dict[str, float] = {"contested": 0.5, "margin": 0.0, "dawid-skene": 0.8, "alpha": 0.01}


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

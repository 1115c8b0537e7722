"""Did the suggestions pull the annotators' choices toward the model? (the anchoring check)

``annotate learn`` pre-fills each unlabelled task with the model's choice, except on a seeded
random control share of them (``suggest_control``), where the model's guess is recorded locally
and not shown. Annotators anchor on pre-annotations — they accept a shown label more often than
they would have chosen it unaided (Tversky & Kahneman 1974; for annotation: Berzak, Huang, Barbu,
Korhonen & Katz 2016, "Anchoring and Agreement in Syntactic Annotations", EMNLP; Fort & Sagot
2010, "Influence of pre-annotation on POS-tagged corpus development", LAW). Because the control
tasks are a random subset of the same tasks, the difference between the two rates estimates the
anchoring effect itself:

    effect = P(answer = model's label | shown) − P(answer = model's label | not shown)

per field, over the annotators' counted answers. Answers of one article are not independent
(same topic, same annotators), so the 95% interval is a percentile bootstrap over articles
(``n_boot`` resamples of the articles with replacement, seeded; Field & Welsh 2007, "Bootstrapping
clustered data", JRSS B).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from annotate.columns import ANCHORING_COLUMNS

__all__ = ["ANCHORING_COLUMNS", "SUGGESTION_RECORD_COLUMNS", "anchoring_table", "verdict"]

#: What ``annotate learn`` records locally for each suggested task and field.
SUGGESTION_RECORD_COLUMNS = [
    "sentence_id",
    "doc_id",
    "field",
    "model_label",
    "model_probability",
    "shown",
    "model_version",
]
N_BOOT = 2000


def _rates(rows: pd.DataFrame) -> tuple[float, float]:
    """Share of answers equal to the model's label where it was shown, and where it was not."""
    shown = rows["shown"].to_numpy(dtype=bool)
    agree = rows["agree"].to_numpy(dtype=float)
    p_shown = agree[shown].mean() if shown.any() else np.nan
    p_control = agree[~shown].mean() if (~shown).any() else np.nan
    return float(p_shown), float(p_control)


def _bootstrap(part: pd.DataFrame, n_boot: int, rng: np.random.Generator, chunk: int = 250) -> np.ndarray:
    """``effect`` over ``n_boot`` resamples of the articles with replacement (the resamples where
    both groups have answers); vectorised over per-article counts."""
    shown = part["shown"].to_numpy(dtype=bool)
    agree = part["agree"].to_numpy(dtype=bool)
    counts = (
        pd.DataFrame(
            {"doc": part["doc_id"].astype(str).to_numpy(), "a_s": agree & shown, "n_s": shown,
             "a_c": agree & ~shown, "n_c": ~shown}
        )
        .groupby("doc", sort=True)
        .sum()
        .to_numpy(dtype=float)
    )  # fmt: skip
    if len(counts) < 2:
        return np.empty(0)
    draws = []
    for start in range(0, n_boot, chunk):
        picks = rng.integers(0, len(counts), size=(min(chunk, n_boot - start), len(counts)))
        totals = counts[picks].sum(axis=1)
        valid = (totals[:, 1] > 0) & (totals[:, 3] > 0)
        totals = totals[valid]
        draws.append(totals[:, 0] / totals[:, 1] - totals[:, 2] / totals[:, 3])
    return np.concatenate(draws)


def anchoring_table(
    answers: pd.DataFrame, suggestions: pd.DataFrame, n_boot: int = N_BOOT, seed: int = 12345
) -> pd.DataFrame:
    """One row per field with ``ANCHORING_COLUMNS``.

    In: ``answers`` (``sentence_id, doc_id, field, annotator, label``: the counted choice answers)
    and ``suggestions`` (``SUGGESTION_RECORD_COLUMNS``, as ``annotate learn`` recorded them).
    ``agree_shown``/``agree_control`` are the shares of answers equal to the model's label on
    tasks where it was shown / kept back; ``effect`` their difference with a 95% cluster
    bootstrap interval over articles (NaN when either group has no answer, or fewer than two
    articles).
    """
    if answers.empty or suggestions.empty:
        return pd.DataFrame(columns=ANCHORING_COLUMNS)
    merged = answers.merge(
        suggestions[["sentence_id", "field", "model_label", "shown"]],
        on=["sentence_id", "field"],
        how="inner",
    )
    rows = []
    rng = np.random.default_rng(seed)
    for field, part in merged.groupby("field", sort=True):
        part = part.assign(agree=(part["label"].astype(str) == part["model_label"].astype(str)))
        p_shown, p_control = _rates(part)
        effect = p_shown - p_control
        low = high = np.nan
        draws = _bootstrap(part, n_boot, rng)
        if len(draws) and not np.isnan(effect):
            low, high = (float(x) for x in np.percentile(draws, [2.5, 97.5]))
        shown = part["shown"].to_numpy(dtype=bool)
        rows.append(
            {
                "field": field,
                "answers_shown": int(shown.sum()),
                "answers_control": int((~shown).sum()),
                "agree_shown": p_shown,
                "agree_control": p_control,
                "effect": effect,
                "effect_ci_low": low,
                "effect_ci_high": high,
                "verdict": verdict(effect, low, high),
            }
        )
    return pd.DataFrame(rows, columns=ANCHORING_COLUMNS)


def verdict(effect: float, low: float, high: float) -> str:
    """The effect in plain words, from its 95% interval."""
    if np.isnan(effect) or np.isnan(low) or np.isnan(high):
        return "not enough answers on both shown and control tasks to tell"
    if low > 0:
        return (
            f"annotators chose the model's label {effect:.0%} more often when they saw it: the "
            "suggestions pull answers toward the model; read these labels with that in mind"
        )
    if high < 0:
        return "annotators chose the model's label less often when they saw it (they distrust it)"
    return (
        f"no clear pull toward the model: the difference is between {low:+.0%} and {high:+.0%}; "
        "the labels look independent of the suggestions"
    )

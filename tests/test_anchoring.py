"""The anchoring check (annotate.quality.anchoring): known effects recovered by seeded simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from annotate.columns import ANCHORING_COLUMNS
from annotate.model.suggest import is_control
from annotate.quality.anchoring import anchoring_table, verdict

LABELS = ["Favor", "Against", "Neutral", "Not addressed"]


def _simulate(
    p_shown: float,
    p_control: float,
    seed: int,
    articles: int = 120,
    per: int = 8,
    control: float = 0.2,
    article_shift: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three annotators per sentence; each picks the model's label with the given probability
    (else another label at random), depending on whether the sentence was a control task."""
    rng = np.random.default_rng(seed)
    answers, records = [], []
    for a in range(articles):
        shift = rng.uniform(-article_shift, article_shift)  # some articles are easier to agree on
        for i in range(per):
            sid = f"d{a}-{i}"
            model = LABELS[rng.integers(4)]
            shown = rng.random() >= control
            records.append((sid, f"d{a}", "stance_china", model, 0.7, shown, "v1"))
            p = min(max((p_shown if shown else p_control) + shift, 0.0), 1.0)
            for who in ("a", "b", "c"):
                other = [lab for lab in LABELS if lab != model]
                label = model if rng.random() < p else other[rng.integers(3)]
                answers.append((sid, f"d{a}", "stance_china", who, label))
    answers_df = pd.DataFrame(answers, columns=["sentence_id", "doc_id", "field", "annotator", "label"])
    cols = ["sentence_id", "doc_id", "field", "model_label", "model_probability", "shown", "model_version"]
    return answers_df, pd.DataFrame(records, columns=cols)


def test_a_known_pull_toward_the_model_is_found() -> None:
    answers, records = _simulate(0.8, 0.5, seed=1)
    table = anchoring_table(answers, records, n_boot=400, seed=2)
    assert list(table.columns) == ANCHORING_COLUMNS
    row = table.iloc[0]
    # the point estimate is the plain difference of shares (computed independently here)
    merged = answers.merge(records, on=["sentence_id", "field"])
    agree = merged["label"] == merged["model_label"]
    expected = agree[merged["shown"]].mean() - agree[~merged["shown"]].mean()
    assert row["effect"] == expected
    assert row["answers_shown"] + row["answers_control"] == len(answers)
    assert abs(row["effect"] - 0.3) < 0.06 and row["effect_ci_low"] > 0.15
    assert "pull answers toward the model" in row["verdict"]


def test_no_effect_gives_an_interval_around_zero() -> None:
    answers, records = _simulate(0.6, 0.6, seed=3)
    row = anchoring_table(answers, records, n_boot=400, seed=4).iloc[0]
    assert row["effect_ci_low"] < 0 < row["effect_ci_high"]
    assert row["verdict"].startswith("no clear pull")


def test_the_interval_accounts_for_articles() -> None:
    """Answers of one article move together: the cluster bootstrap is wider than one that
    treats 3 × 960 answers as independent would be."""
    answers, records = _simulate(0.7, 0.5, seed=5, control=0.5, article_shift=0.3)
    row = anchoring_table(answers, records, n_boot=400, seed=6).iloc[0]
    n_s, n_c = row["answers_shown"], row["answers_control"]
    p_s, p_c = row["agree_shown"], row["agree_control"]
    independent = 2 * 1.96 * np.sqrt(p_s * (1 - p_s) / n_s + p_c * (1 - p_c) / n_c)
    assert row["effect_ci_high"] - row["effect_ci_low"] > independent


def test_nothing_to_compare_is_said_not_guessed() -> None:
    answers, records = _simulate(0.8, 0.5, seed=7, control=0.0)
    row = anchoring_table(answers, records, n_boot=50).iloc[0]
    assert np.isnan(row["effect"]) and "not enough answers" in row["verdict"]
    assert anchoring_table(answers.iloc[:0], records).empty
    assert verdict(float("nan"), 0.0, 0.1).startswith("not enough")


def test_control_tasks_are_a_seeded_uniform_share() -> None:
    ids = [f"s{i:06d}" for i in range(10_000)]
    picked = [is_control(s, 0.1, seed=0) for s in ids]
    assert 0.09 < np.mean(picked) < 0.11
    assert picked == [is_control(s, 0.1, seed=0) for s in ids]  # stable across runs
    assert picked != [is_control(s, 0.1, seed=1) for s in ids]
    assert not any(is_control(s, 0.0, seed=0) for s in ids[:100])

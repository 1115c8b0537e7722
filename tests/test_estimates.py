"""annotate.inference.estimates on a simulated pull with known truth (no server)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from annotate.errors import InputError
from annotate.inference.estimates import (
    corpus_population,
    cross_predictions,
    differences,
    estimate_table,
    holm,
)
from annotate.inference.ppi import MIN_AUDIT
from annotate.model.card import train_fields

FAVOR = ["praised the generous offer", "welcomed the wise partnership", "hailed the fruitful talks"]
AGAINST = ["condemned the reckless plan", "attacked the aggressive policy", "denounced the hostile move"]
NEUTRAL = ["reported the meeting on Monday", "listed the delegates present", "noted the schedule"]
SHARES = {"Xinhua": (0.5, 0.1), "Reuters": (0.2, 0.3), "Fox": (0.1, 0.6)}  # (Favor, Against) per outlet


def _pull(seed: int = 0, articles: int = 24, per: int = 10, audit: float = 0.3):
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for outlet, (favor, against) in SHARES.items():
        for a in range(articles):
            doc = f"{outlet}-{a}"
            tilt = rng.normal(0, 0.05)
            for i in range(per):
                u = rng.random()
                label = (
                    "Favor" if u < favor + tilt else "Against" if u < favor + against + tilt else "Neutral"
                )
                phrase = {"Favor": FAVOR, "Against": AGAINST, "Neutral": NEUTRAL}[label]
                noisy = rng.random() < 0.15  # the text says something else: the model cannot be perfect
                words = phrase if not noisy else [FAVOR, AGAINST, NEUTRAL][rng.integers(3)]
                text = f"The minister {words[rng.integers(3)]} in item {i} of {doc}."
                sid = f"{doc}-{i}"
                in_audit = rng.random() < audit
                rows.append((sid, doc, i, text, outlet, audit if in_audit else np.nan))
                # the audit is labelled, and the first third of each outlet's articles (article order)
                if in_audit or a < articles // 3:
                    labels.append((sid, doc, "stance_china", label))
    sentences = pd.DataFrame(
        rows, columns=["sentence_id", "doc_id", "sentence_index", "text", "outlet", "audit_probability"]
    )
    sentences["country"] = None
    sentences["published"] = None
    truth = pd.DataFrame(labels, columns=["sentence_id", "doc_id", "field", "label"])
    return sentences, truth


@pytest.fixture(scope="module")
def estimated():
    sentences, labels = _pull()
    predictions = cross_predictions(sentences, labels, ["stance_china"], seed=0)
    return sentences, labels, predictions


def test_shares_by_outlet_and_the_model_narrows_them(estimated) -> None:
    sentences, labels, predictions = estimated
    table = estimate_table(sentences, labels, predictions, by="outlet")
    assert set(table["group"]) == set(SHARES) and set(table["method"]) == {"PPI++", "classical"}
    assert (table["ci_low"] <= table["estimate"]).all() and (table["estimate"] <= table["ci_high"]).all()
    wide = table.pivot_table(
        index=["group", "label"], columns="method", values=["ci_low", "ci_high", "effective_n"]
    )
    width = wide["ci_high"] - wide["ci_low"]
    assert (width["PPI++"] <= width["classical"] + 1e-12).all()
    assert width["PPI++"].mean() < 0.9 * width["classical"].mean()
    assert (wide["effective_n"]["PPI++"] >= wide["effective_n"]["classical"]).all()
    # the classical shares of an outlet sum to 1; the PPI++ ones nearly (each label tunes its own λ)
    sums = table.groupby(["method", "group"])["estimate"].sum()
    assert np.allclose(sums["classical"], 1.0, atol=1e-9)
    assert np.allclose(sums["PPI++"], 1.0, atol=0.05)


def test_overall_estimate_is_the_all_group(estimated) -> None:
    sentences, labels, predictions = estimated
    table = estimate_table(sentences, labels, predictions)
    assert set(table["group"]) == {"all"} and set(table["by"]) == {"all"}
    audit = sentences["audit_probability"].notna()
    n = labels["sentence_id"].isin(sentences.loc[audit, "sentence_id"]).sum()
    assert (table["n_human"] == n).all()


def test_differences_and_holm(estimated) -> None:
    sentences, labels, predictions = estimated
    table = differences(estimate_table(sentences, labels, predictions, by="outlet"))
    assert len(table) == 3 * 3 * 2  # 3 pairs × 3 labels × 2 methods
    fox = (
        table[(table["group_a"] == "Fox") & (table["group_b"] == "Reuters")]
        if "Fox" in set(table["group_a"])
        else table[(table["group_a"] == "Reuters") & (table["group_b"] == "Fox")]
    )
    assert (fox["p_holm"] >= fox["p_value"]).all()
    # Xinhua favours far more than Fox (0.5 against 0.1): significant both ways
    pair = table[
        (table["label"] == "Favor")
        & table["group_a"].isin(["Fox", "Xinhua"])
        & table["group_b"].isin(["Fox", "Xinhua"])
    ]
    assert pair["significant"].all()
    assert list(holm([0.01, 0.04, 0.03])) == pytest.approx([0.03, 0.06, 0.06])


def test_no_audit_or_too_few_labels_is_one_clear_line(estimated) -> None:
    sentences, labels, predictions = estimated
    with pytest.raises(InputError, match="no audit sample in the pull"):
        estimate_table(sentences.assign(audit_probability=np.nan), labels, predictions)
    few = sentences.copy()
    fox_audit = few.index[(few["outlet"] == "Fox") & few["audit_probability"].notna()]
    few.loc[fox_audit[MIN_AUDIT - 2 :], "audit_probability"] = np.nan
    with pytest.raises(InputError, match="outlet 'Fox' has .* at least 10 are needed") as info:
        estimate_table(few, labels, predictions, by="outlet")
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="--by must be one of"):
        estimate_table(sentences, labels, predictions, by="topic")


# -- estimate --corpus: the population is annotate predict's file ------------------------------------


def _predictions_file(path, sentences, models, card) -> None:
    model = models["stance_china"]
    proba = model.predict_proba(sentences["text"].tolist())
    table = sentences[["sentence_id", "doc_id", "outlet"]].copy()
    for k, label in enumerate(model.classes_):
        table[f"stance_china:{label}"] = proba[:, k]
    table["model_version"] = card.model_version
    table.to_parquet(path)


def test_corpus_mode_uses_the_predict_file_and_a_held_out_model(tmp_path) -> None:
    pushed, labels = _pull(seed=3)
    more, _ = _pull(seed=4)  # articles that were never pushed
    more = more.assign(sentence_id="more-" + more["sentence_id"], doc_id="more-" + more["doc_id"])
    corpus = pd.concat([pushed, more], ignore_index=True)
    audit = set(pushed.loc[pushed["audit_probability"].notna(), "sentence_id"])
    outside = labels[~labels["sentence_id"].isin(audit)]
    models, card = train_fields(pushed, outside, ["stance_china"], seed=0, held_out_audit=True)
    path = tmp_path / "predictions.parquet"
    _predictions_file(path, corpus, models, card)

    population, predictions, missing = corpus_population(path, pushed, card, ["stance_china"])
    assert missing == 0 and len(population) == len(corpus)
    assert population["audit_probability"].notna().sum() == len(audit)
    table = estimate_table(population, labels, predictions, by="outlet")
    assisted = table[table["method"] == "PPI++"]
    assert (assisted["n_model"] == len(corpus) // 3).all()  # each outlet's sentences of the corpus
    wide = table.pivot_table(index=["group", "label"], columns="method", values=["ci_low", "ci_high"])
    assert (
        (wide["ci_high"] - wide["ci_low"])["PPI++"] <= (wide["ci_high"] - wide["ci_low"])["classical"] + 1e-12
    ).all()

    _, seen = train_fields(pushed, labels, ["stance_china"], seed=0)  # trained on the audit too
    with pytest.raises(InputError, match="holds predictions of .* run annotate predict again"):
        corpus_population(path, pushed, seen, ["stance_china"])
    _predictions_file(path, corpus, models, seen)
    with pytest.raises(
        InputError, match="trained on the audit's labels too: run annotate learn --hold-out-audit"
    ):
        corpus_population(path, pushed, seen, ["stance_china"])
    other, _ = _pull(seed=9)
    _predictions_file(path, other.assign(sentence_id="x" + other["sentence_id"]), models, card)
    with pytest.raises(InputError, match="none of the audit's sentences"):
        corpus_population(path, pushed, card, ["stance_china"])
    (tmp_path / "bad.parquet").write_text("no parquet", encoding="utf-8")
    with pytest.raises(InputError, match="not a predictions file"):
        corpus_population(tmp_path / "bad.parquet", pushed, card, ["stance_china"])

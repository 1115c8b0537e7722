"""annotate.model: the classifier, article-grouped cross-validation, the model card and the model folder.

Oracles: scikit-learn's ``cross_val_predict`` with ``accuracy_score``/``f1_score`` on the same
folds, and ``DummyClassifier`` for the majority baseline; a hand-computed expected calibration
error; a simulated corpus whose labels follow keywords with a known share of noise (so the
best possible accuracy is known). No Label Studio; everything seeded.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.model_selection import cross_val_predict

from annotate.errors import ExportError, InputError
from annotate.model.card import ModelCard, compare, train_fields
from annotate.model.classifier import SentenceClassifier
from annotate.model.evaluate import (
    FieldReport,
    article_folds,
    check_trainable,
    cross_validate_field,
    expected_calibration_error,
)
from annotate.model.store import CARD_FILE, MODEL_FILE, file_sha256, load_model, save_model

STANCE = ["Favor", "Against", "Neutral", "Not addressed"]
CONSONANTS = list("bdfgklmnprstvz")


def corpus(
    seed: int, n_articles: int, per_article: int, noise: float, n_cues: int = 6
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulated articles: (sentences, stance_china labels with a ``truth`` column).

    A sentence's true stance toward China is Not addressed (40 %) or Favor, Against, Neutral
    (20 % each); a stance sentence says "China" and one of ``n_cues`` cue words of its stance,
    amid five filler words and a name of its article. With probability ``noise`` the recorded
    label is another stance, drawn uniformly, so no model can do better than 1 − noise.
    """
    rng = np.random.default_rng(seed)

    def word(prefix: str) -> str:
        return prefix + "".join(rng.choice(CONSONANTS, 3))

    cues = {label: [word(label[:2].lower()) for _ in range(n_cues)] for label in STANCE[:3]}
    filler = [word("q") for _ in range(200)]
    sentences, labels = [], []
    for a in range(n_articles):
        doc = f"doc{a:02d}"
        names = [word("n"), word("n")]
        for s in range(per_article):
            truth = STANCE[rng.choice(4, p=[0.2, 0.2, 0.2, 0.4])]
            tokens = [*rng.choice(filler, 5), rng.choice(names)]
            if truth != "Not addressed":
                tokens += ["China", rng.choice(cues[truth])]
            rng.shuffle(tokens)
            label = truth if rng.random() >= noise else str(rng.choice([x for x in STANCE if x != truth]))
            sentence_id = f"{doc}-{s}"
            sentences.append({"sentence_id": sentence_id, "doc_id": doc, "text": " ".join(tokens) + "."})
            labels.append(
                {
                    "sentence_id": sentence_id,
                    "doc_id": doc,
                    "field": "stance_china",
                    "label": label,
                    "source": "majority",
                    "truth": truth,
                }
            )
    return pd.DataFrame(sentences), pd.DataFrame(labels)


# --- expected calibration error ---------------------------------------------------------------


def test_ece_equals_a_hand_computed_value() -> None:
    classes = ["A", "B"]
    # top-class confidence, right?  0.90 yes, 0.92 no, 0.78 no, 0.70 yes, 0.62 yes, 0.55 no
    proba = np.array([[0.90, 0.10], [0.08, 0.92], [0.78, 0.22], [0.30, 0.70], [0.62, 0.38], [0.45, 0.55]])
    truth = ["A", "A", "B", "B", "A", "A"]
    # 15 bins of width 1/15: 0.90 and 0.92 share (13/15, 14/15]; the others are alone in theirs.
    # (2/6)·|1/2 − 0.91| + (1/6)·(|0 − 0.78| + |1 − 0.70| + |1 − 0.62| + |0 − 0.55|) = 2.83/6
    assert expected_calibration_error(proba, truth, classes) == pytest.approx(2.83 / 6, abs=1e-12)
    # one bin: |accuracy − mean confidence| = |3/6 − 4.47/6|
    assert expected_calibration_error(proba, truth, classes, n_bins=1) == pytest.approx(1.47 / 6, abs=1e-12)
    # perfectly confident and right: 0
    assert expected_calibration_error(np.eye(2), ["A", "B"], classes) == 0.0
    with pytest.raises(ValueError, match="shape"):
        expected_calibration_error(proba[:, :1], truth, classes)


# --- cross-validation on a simulated corpus with known truth -----------------------------------


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, FieldReport, float]:
    """300 sentences in 60 articles, 10 % label noise; the default classifier cross-validated."""
    sentences, labels = corpus(seed=7, n_articles=60, per_article=5, noise=0.10)
    data = labels.merge(sentences[["sentence_id", "text"]], on="sentence_id")
    report = cross_validate_field(data["text"], data["label"], data["doc_id"], seed=0)
    ceiling = float((data["label"] == data["truth"]).mean())
    return data, report, ceiling


def test_cv_figures_equal_sklearn_on_the_same_folds(
    simulated: tuple[pd.DataFrame, FieldReport, float],
) -> None:
    data, report, _ = simulated
    texts, y = data["text"].tolist(), data["label"].to_numpy()
    pred = cross_val_predict(SentenceClassifier(seed=0), texts, y, cv=report.folds)
    assert pred.tolist() == report.oof_predictions.tolist()
    assert report.accuracy == accuracy_score(y, pred)
    assert report.macro_f1 == f1_score(y, pred, average="macro")
    precision = precision_score(y, pred, labels=report.classes, average=None)
    recall = recall_score(y, pred, labels=report.classes, average=None)
    for i, label in enumerate(report.classes):
        assert report.per_label[label]["precision"] == precision[i]
        assert report.per_label[label]["recall"] == recall[i]
        assert report.per_label[label]["support"] == int((y == label).sum())
    baseline = cross_val_predict(DummyClassifier(strategy="most_frequent"), texts, y, cv=report.folds)
    assert report.majority_baseline == accuracy_score(y, baseline)
    assert report.ece == expected_calibration_error(report.oof_proba, y, report.classes)
    np.testing.assert_allclose(report.oof_proba.sum(axis=1), 1.0)


def test_no_article_is_on_both_sides_of_a_fold(simulated: tuple[pd.DataFrame, FieldReport, float]) -> None:
    data, report, _ = simulated
    groups = data["doc_id"].to_numpy()
    assert report.splitter == "StratifiedGroupKFold" and report.n_splits == 5
    for train, test in report.folds:
        assert set(groups[train]).isdisjoint(groups[test])
    tested = np.sort(np.concatenate([test for _, test in report.folds]))
    assert tested.tolist() == list(range(len(data)))  # every sentence predicted exactly once


def test_the_model_learns_the_simulated_truth(simulated: tuple[pd.DataFrame, FieldReport, float]) -> None:
    data, report, ceiling = simulated
    assert ceiling == pytest.approx(0.9, abs=0.02)  # the noise drawn
    assert report.majority_baseline < 0.45
    assert report.accuracy > report.majority_baseline + 0.35
    assert abs(report.accuracy - ceiling) < 0.05
    assert report.macro_f1 > 0.8
    assert report.n_labels == 300 and report.n_articles == 60
    curve = report.learning_curve
    assert [p.fraction for p in curve] == [0.25, 0.5, 0.75, 1.0]
    assert [p.train_articles for p in curve] == [12.0, 24.0, 36.0, 48.0]
    assert curve[-1].accuracy == report.accuracy and curve[-1].macro_f1 == report.macro_f1
    assert curve[0].accuracy + 0.1 < curve[-1].accuracy
    assert curve[0].macro_f1 + 0.1 < curve[-1].macro_f1
    assert all(a.accuracy <= b.accuracy + 0.02 for a, b in zip(curve, curve[1:], strict=False))
    suggestions = report.oof_frame(data["sentence_id"].tolist())
    assert list(suggestions.columns[:3]) == ["sentence_id", "prediction", "confidence"]
    assert suggestions["prediction"].tolist() == report.oof_predictions.tolist()


def test_few_articles_few_folds_and_the_fallback() -> None:
    labels = np.array(["A"] * 6 + ["B"] * 6)
    groups = np.array(["d1", "d1", "d2", "d2", "d3", "d3"] * 2)
    folds, splitter = article_folds(labels, groups, n_splits=5, seed=0)
    assert len(folds) == 3 and splitter == "StratifiedGroupKFold"
    # a label with fewer examples than folds: stratification is impossible
    labels = np.array(["A"] * 10 + ["B"] * 2)
    groups = np.array([f"d{i % 6}" for i in range(12)])
    folds, splitter = article_folds(labels, groups, n_splits=5, seed=0)
    assert splitter == "GroupKFold" and len(folds) == 5
    for train, test in folds:
        assert set(groups[train]).isdisjoint(groups[test])
    with pytest.raises(InputError, match="at least 2"):
        cross_validate_field(["a b", "c d"] * 3, ["A", "B"] * 3, ["d1"] * 6, seed=0)


def test_a_training_fold_with_one_label_predicts_it() -> None:
    texts = ["praise china", "china good", "bad china", "more praise"]
    report = cross_validate_field(texts, ["A", "A", "B", "A"], ["d1", "d1", "d2", "d3"], seed=0, n_splits=3)
    assert report.single_class_fits >= 1
    assert report.oof_proba[2].tolist() == [1.0, 0.0]  # trained on A only: A with certainty


# --- check_trainable ---------------------------------------------------------------------------


def test_check_trainable_reasons() -> None:
    assert check_trainable(["Favor"] * 20 + ["Against"] * 20) is None
    assert check_trainable(["Favor"] * 6 + ["Against"] * 6) == "only 12 labels (at least 30 needed)"
    assert (
        check_trainable(["Favor"] * 3 + ["Against"] * 30)
        == "label 'Favor' has 3 examples (at least 5 needed)"
    )
    assert str(check_trainable(["Neutral"] * 40)).startswith("every one of the 40 labels is 'Neutral'")
    assert "1 article" in str(check_trainable(["A", "B"] * 20, groups=["d1"] * 40))
    assert check_trainable(["A", "B", None, float("nan"), ""] * 10, min_labels=20) is None


# --- training every field, reproducibility, skipping ---------------------------------------------

FIELDS = ["stance_china", "stance_us", "stance_cooperation", "stance_eu"]


def _small() -> tuple[pd.DataFrame, pd.DataFrame]:
    """64 sentences in 16 articles, stance_china learnable; stance_us has 12 labels; stance_cooperation
    has a rare label (Favor, 3 examples); stance_eu has none. Four gold sentences of their own."""
    sentences, labels = corpus(seed=11, n_articles=16, per_article=4, noise=0.0)
    labels = labels.drop(columns="truth")
    us = labels.iloc[:12].assign(field="stance_us", label=["Against", "Neutral"] * 6)
    coop = labels.iloc[:40].assign(
        field="stance_cooperation", label=["Favor"] * 3 + ["Neutral", "Against"] * 18 + ["Neutral"]
    )
    missing = labels.iloc[40:50].assign(field="stance_us", label=None)  # rows without a label are left out
    labels.loc[labels.index[:4], "source"] = "gold"
    return sentences, pd.concat([labels, us, coop, missing], ignore_index=True)


Trained = tuple[pd.DataFrame, pd.DataFrame, dict[str, SentenceClassifier], ModelCard]


@pytest.fixture(scope="module")
def trained() -> Trained:
    sentences, labels = _small()
    models, card = train_fields(sentences, labels, FIELDS, seed=3)
    return sentences, labels, models, card


def test_untrainable_fields_are_skipped_with_a_reason(trained: Trained) -> None:
    _, labels, models, card = trained
    assert set(models) == {"stance_china"}
    china = card.fields["stance_china"]
    assert china.trained and china.reason is None and china.n_labels == 64 and china.n_articles == 16
    assert china.cv is not None and set(china.cv) >= {
        "accuracy",
        "macro_f1",
        "per_label",
        "ece",
        "majority_baseline",
    }
    assert len(china.cv["learning_curve"]) == 4
    assert sum(china.labels.values()) == 64  # gold sentences are training labels
    assert (labels["source"] == "gold").sum() == 4
    us, coop, eu = card.fields["stance_us"], card.fields["stance_cooperation"], card.fields["stance_eu"]
    assert not us.trained and us.reason == "only 12 labels (at least 30 needed)" and us.n_labels == 12
    assert not coop.trained and coop.reason == "label 'Favor' has 3 examples (at least 5 needed)"
    assert coop.labels == {"Against": 18, "Favor": 3, "Neutral": 19}
    assert not eu.trained and eu.reason == "no labels"


def test_rare_labels_can_be_left_out_instead() -> None:
    sentences, labels = _small()
    models, card = train_fields(
        sentences,
        labels,
        ["stance_cooperation"],
        seed=3,
        drop_rare=True,
        estimator=SentenceClassifier(calibrate=False),
    )
    coop = card.fields["stance_cooperation"]
    assert coop.trained and coop.reason is None
    assert coop.dropped_labels == {"Favor": 3} and coop.n_labels == 37 and "never predicted" in str(coop.note)
    assert models["stance_cooperation"].classes_.tolist() == ["Against", "Neutral"]
    assert card.parameters["classifier"]["calibrate"] is False


def test_same_seed_same_model_and_row_order_does_not_matter(trained: Trained) -> None:
    sentences, labels, models, card = trained
    shuffled = labels.sample(frac=1.0, random_state=1)
    models2, card2 = train_fields(sentences.iloc[::-1], shuffled, FIELDS, seed=3)
    assert card2.model_version == card.model_version and card.model_version.startswith("annotate-tfidf-lr-")
    assert len(card.model_version) == len("annotate-tfidf-lr-") + 12
    assert card2.fields == card.fields
    probe = ["China praised the plan.", "中国 欢迎 合作。", sentences["text"].iloc[0]]
    assert np.array_equal(
        models["stance_china"].predict_proba(probe), models2["stance_china"].predict_proba(probe)
    )


def test_a_different_label_changes_the_model_version(trained: Trained) -> None:
    sentences, labels, _, card = trained
    # stance_us is not trainable, so these runs fit nothing: the version is the data's and parameters'
    _, before = train_fields(sentences, labels, ["stance_us"], seed=3)
    changed = labels.copy()
    row = changed.index[changed["field"] == "stance_us"][0]
    changed.loc[row, "label"] = "Favor"
    _, after = train_fields(sentences, changed, ["stance_us"], seed=3)
    _, other_seed = train_fields(sentences, labels, ["stance_us"], seed=4)
    assert len({before.model_version, after.model_version, other_seed.model_version, card.model_version}) == 4
    assert before.data_sha256 != after.data_sha256 and before.data_sha256 == other_seed.data_sha256


def test_table_problems_are_one_line_errors() -> None:
    sentences, labels = _small()
    with pytest.raises(ExportError, match="not in the sentences table"):
        train_fields(sentences.iloc[1:], labels, ["stance_china"], seed=0)
    with pytest.raises(ExportError, match="repeat a sentence and field"):
        train_fields(sentences, pd.concat([labels, labels.iloc[:1]]), ["stance_china"], seed=0)
    with pytest.raises(ExportError, match="missing column"):
        train_fields(sentences.drop(columns="text"), labels, ["stance_china"], seed=0)
    with pytest.raises(InputError, match="seed must be an int"):
        train_fields(sentences, labels, ["stance_us"], seed=-1)
    with pytest.raises(InputError, match="list of field names"):
        train_fields(sentences, labels, "stance_us", seed=0)


# --- the classifier ------------------------------------------------------------------------------


def test_classifier_contract_and_chinese_text() -> None:
    favor = ["中国与美国的合作令人欢迎。", "双方欢迎这项合作。", "专家欢迎新的协议。", "我们欢迎中方的提议。"]
    against = ["中国强烈反对美国的制裁。", "外交部反对这项决定。", "他们反对新的关税。", "北京坚决反对干涉。"]
    model = SentenceClassifier(seed=1).fit(favor + against, ["Favor"] * 4 + ["Against"] * 4)
    assert model.classes_.tolist() == ["Against", "Favor"] and model.calibrated
    proba = model.predict_proba(["各方欢迎这个计划。", "我们反对这个计划。"])
    assert proba.shape == (2, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(["各方欢迎这个计划。", "我们反对这个计划。"]).tolist() == ["Favor", "Against"]
    again = SentenceClassifier(seed=1).fit(favor + against, ["Favor"] * 4 + ["Against"] * 4)
    assert np.array_equal(again.predict_proba(favor), model.predict_proba(favor))
    # a class with fewer than 3 examples: the logistic regression's own probabilities
    small = SentenceClassifier().fit(favor[:2] + against, ["Favor"] * 2 + ["Against"] * 4)
    assert not small.calibrated


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"C": 0}, "C must be a finite number > 0"),
        ({"C": float("inf")}, "C must be a finite number > 0"),
        ({"C": "1"}, "C must be a finite number > 0"),
        ({"seed": -1}, "seed must be in"),
        ({"seed": 1.5}, "seed must be an int"),
        ({"max_iter": 0}, "max_iter must be >= 1"),
        ({"min_df": True}, "min_df must be an int"),
        ({"calibrate": "yes"}, "calibrate must be True or False"),
    ],
)
def test_classifier_parameters_are_checked_in_fit(params: dict[str, object], message: str) -> None:
    model = SentenceClassifier(**params)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        model.fit(["a b", "c d", "e f", "g h"], ["A", "B", "A", "B"])


def test_classifier_input_errors() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        SentenceClassifier().fit(["a", "b"], ["A"])
    with pytest.raises(ValueError, match="two distinct"):
        SentenceClassifier().fit(["a", "b"], ["A", "A"])
    with pytest.raises(ValueError, match="not a string"):
        SentenceClassifier().fit(["a", None], ["A", "B"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="sequence of strings"):
        SentenceClassifier().fit("ab", ["A", "B"])
    with pytest.raises(ValueError, match="no features"):
        SentenceClassifier().fit(["", " "], ["A", "B"])


# --- the model folder ----------------------------------------------------------------------------


def test_save_and_load_round_trip(trained: Trained, tmp_path: Path) -> None:
    sentences, _, models, card = trained
    saved = save_model(tmp_path / "model", models, card)
    assert card.model_sha256 is None and saved.model_sha256 == file_sha256(tmp_path / "model" / MODEL_FILE)
    on_disk = json.loads((tmp_path / "model" / CARD_FILE).read_text(encoding="utf-8"))
    assert on_disk["model_sha256"] == saved.model_sha256 and on_disk["model_version"] == card.model_version
    loaded, loaded_card = load_model(tmp_path / "model")
    assert loaded_card == saved
    texts = sentences["text"].tolist()
    assert np.array_equal(
        loaded["stance_china"].predict_proba(texts), models["stance_china"].predict_proba(texts)
    )
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [MODEL_FILE, CARD_FILE]  # no temp files


def test_a_changed_model_file_is_refused(trained: Trained, tmp_path: Path) -> None:
    _, _, models, card = trained
    folder = tmp_path / "model"
    save_model(folder, models, card)
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ExportError, match="does not match") as err:
        load_model(folder)
    assert "\n" not in str(err.value) and "annotate learn" in str(err.value)


def test_other_refusals(trained: Trained, tmp_path: Path) -> None:
    _, _, models, card = trained
    with pytest.raises(ExportError, match="run 'annotate learn' first"):
        load_model(tmp_path / "nothing")
    folder = tmp_path / "model"
    save_model(folder, models, card)
    data = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    (folder / CARD_FILE).write_text(json.dumps({**data, "sklearn_version": "0.1"}), encoding="utf-8")
    with pytest.raises(ExportError, match="scikit-learn 0.1"):
        load_model(folder)
    (folder / CARD_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(ExportError, match="not a model card"):
        load_model(folder)
    with pytest.raises(ExportError, match="trained fields"):
        save_model(folder, {}, card)


# --- the card ------------------------------------------------------------------------------------


def test_card_json_round_trip(trained: Trained) -> None:
    card = trained[3]
    assert ModelCard.from_json(card.to_json()) == card
    data = json.loads(card.to_json())
    assert set(data["fields"]["stance_china"]) >= {
        "trained",
        "reason",
        "n_labels",
        "n_articles",
        "labels",
        "cv",
    }
    assert data["seed"] == 3 and data["created"].endswith("+00:00")


def test_compare_shows_new_and_previous_figures(trained: Trained) -> None:
    card = trained[3]
    china = card.fields["stance_china"]
    assert china.cv is not None
    old_china = dataclasses.replace(china, n_labels=40, cv={**china.cv, "accuracy": 0.5, "macro_f1": 0.25})
    old_us = dataclasses.replace(china, n_labels=35)
    previous = dataclasses.replace(
        card,
        fields={"stance_china": old_china, "stance_us": old_us, "stance_gone": card.fields["stance_eu"]},
    )
    lines = compare(previous, card)
    assert len(lines) == len(card.fields) + 1
    acc, f1 = china.cv["accuracy"], china.cv["macro_f1"]
    assert lines[0] == (
        f"stance_china: accuracy {acc:.2f} (was 0.50), macro-F1 {f1:.2f} (was 0.25), 64 labels (was 40); "
        f"majority baseline {china.cv['majority_baseline']:.2f}"
    )
    assert lines[1].startswith("stance_us: not trained: only 12 labels") and "(was accuracy" in lines[1]
    assert "35 labels" in lines[1]
    assert lines[-1].startswith("stance_gone: not in this model")
    first = compare(None, card)
    assert first[0].endswith("(no previous model)") and f"accuracy {acc:.2f}" in first[0]
    assert first[1] == "stance_us: not trained: only 12 labels (at least 30 needed)"

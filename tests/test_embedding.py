"""The optional embedding features (``model: tfidf+embedding``, the extra ``annotate[embed]``).

``make test`` installs the extra, so these tests run the real packaged table. They check that it
loads and embeds with every network call refused, that a missing extra is one clear ConfigError,
that a saved model neither carries the 16 MB table nor accepts another one, that the embedding
generalises to words the training sentences never used (what TF-IDF cannot), and that
``train_fields`` and ``annotate learn``'s config key record which embedding a model used.
"""

from __future__ import annotations

import pickle
import socket
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from test_model import FIELDS, _small  # tests/ is on sys.path (pytest rootdir-relative imports)

from annotate.config import MODELS
from annotate.errors import ConfigError
from annotate.model import embedding as embedding_module
from annotate.model.card import train_fields
from annotate.model.classifier import FEATURES, SentenceClassifier
from annotate.model.embedding import EMBEDDING_NAME, EmbeddingFeatures, load_embedding


@pytest.fixture
def fresh_load() -> Iterator[None]:
    """``load_embedding`` forgets its table before and after the test."""
    load_embedding.cache_clear()
    yield
    load_embedding.cache_clear()


def test_loads_and_embeds_with_the_network_refused(monkeypatch: pytest.MonkeyPatch, fresh_load: None) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a) or [])
    table = load_embedding()
    vectors = table.embed(["China pledged openness.", "Beijing promised transparency.", "The cat sat.", ""])
    assert attempts == []
    assert table.name == EMBEDDING_NAME and table.dim == 256 and len(table.sha256) == 64
    assert vectors.shape == (4, 256) and vectors.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, rtol=1e-5)
    assert not vectors[3].any()  # a text without tokens is the zero vector, not NaN
    related, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert related > unrelated + 0.1
    np.testing.assert_array_equal(
        vectors,
        table.embed(["China pledged openness.", "Beijing promised transparency.", "The cat sat.", ""]),
    )


def test_a_missing_extra_is_one_clear_config_error(monkeypatch: pytest.MonkeyPatch, fresh_load: None) -> None:
    monkeypatch.setitem(sys.modules, "wordllama", None)  # import wordllama now raises ImportError
    assert not embedding_module.embedding_available()
    with pytest.raises(ConfigError, match=r"pip install 'annotate\[embed\]'") as info:
        SentenceClassifier(features="tfidf+embedding").fit(["a b", "c d", "e f", "g h"], ["A", "B", "A", "B"])
    assert "\n" not in str(info.value)
    sentences, labels = _small()
    with pytest.raises(ConfigError, match="annotate\\[embed\\]"):
        train_fields(
            sentences, labels, FIELDS, seed=3, estimator=SentenceClassifier(features="tfidf+embedding")
        )


def test_features_are_a_checked_parameter_shared_with_the_config() -> None:
    assert FEATURES == MODELS == ("tfidf", "tfidf+embedding")
    with pytest.raises(ValueError, match="features must be one of tfidf, tfidf\\+embedding, got 'bert'"):
        SentenceClassifier(features="bert").fit(["a b", "c d", "e f", "g h"], ["A", "B", "A", "B"])


POSITIVE = ["excellent", "wonderful", "great", "good", "pleasant", "splendid"]
NEGATIVE = ["terrible", "awful", "horrible", "bad", "nasty", "dreadful"]
UNSEEN_POSITIVE = ["superb", "fantastic", "brilliant", "marvellous", "delightful"]
UNSEEN_NEGATIVE = ["atrocious", "appalling", "abysmal", "disgusting", "miserable"]


def _sentences(words: list[str], label: str) -> tuple[list[str], list[str]]:
    frames = ["The talks were {}.", "Officials called the deal {}.", "It was a {} week for trade."]
    texts = [frame.format(word) for word in words for frame in frames]
    return texts, [label] * len(texts)


def test_the_embedding_generalises_to_words_never_seen_in_training() -> None:
    """Trained on six praise and six blame words, tested on ten others: TF-IDF knows them only
    by shared character n-grams ("-ful", "-ble"; the frames' n-grams are shared by both labels),
    the embedding by meaning. Deterministic: the same figures on every run (0.73 and 0.80)."""
    pos, pos_y = _sentences(POSITIVE, "Favor")
    neg, neg_y = _sentences(NEGATIVE, "Against")
    test_pos, test_pos_y = _sentences(UNSEEN_POSITIVE, "Favor")
    test_neg, test_neg_y = _sentences(UNSEEN_NEGATIVE, "Against")
    texts, labels = pos + neg, pos_y + neg_y
    test, truth = test_pos + test_neg, np.asarray(test_pos_y + test_neg_y, dtype=object)
    scores = {}
    for features in FEATURES:
        model = SentenceClassifier(features=features, seed=0).fit(texts, labels)
        scores[features] = float((model.predict(test) == truth).mean())
    assert scores["tfidf+embedding"] >= 0.8, scores
    assert scores["tfidf+embedding"] >= scores["tfidf"] + 0.05, scores


def test_a_saved_model_holds_the_hash_not_the_table(fresh_load: None) -> None:
    texts, labels = _sentences(POSITIVE + NEGATIVE, "Favor")
    labels = ["Favor"] * 18 + ["Against"] * 18
    model = SentenceClassifier(features="tfidf+embedding").fit(texts, labels)
    blob = pickle.dumps(model)
    assert len(blob) < 1_000_000  # the table is 16 MB
    again = pickle.loads(blob)
    np.testing.assert_array_equal(again.predict_proba(texts), model.predict_proba(texts))
    step = again.model_[0].transformer_list[-1][1]
    assert isinstance(step, EmbeddingFeatures) and step.sha256_ == load_embedding().sha256
    step.sha256_ = "0" * 64  # as if trained with other weights
    with pytest.raises(ConfigError, match="other embedding weights .* run annotate learn again"):
        again.predict(texts[:2])


def test_train_fields_records_the_embedding_in_the_card() -> None:
    sentences, labels = _small()
    _, plain = train_fields(sentences, labels, FIELDS[:1], seed=3)
    models, card = train_fields(
        sentences, labels, FIELDS[:1], seed=3, estimator=SentenceClassifier(features="tfidf+embedding")
    )
    table = load_embedding()
    assert card.parameters["embedding"] == {
        "name": EMBEDDING_NAME,
        "dim": 256,
        "sha256": table.sha256,
        "wordllama": table.version,
    }
    assert card.parameters["classifier"]["features"] == "tfidf+embedding"
    assert "embedding" not in plain.parameters and plain.parameters["classifier"]["features"] == "tfidf"
    assert card.model_version != plain.model_version
    assert models["stance_china"].n_features_ == plain_features(sentences, labels) + 256
    assert card.fields["stance_china"].cv is not None


def plain_features(sentences: pd.DataFrame, labels: pd.DataFrame) -> int:
    models, _ = train_fields(sentences, labels, FIELDS[:1], seed=3)
    return int(models["stance_china"].n_features_)

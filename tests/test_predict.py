"""``annotate predict``: a corpus read and split as push does it, predicted in batches, written
to one Parquet file atomically, bad rows skipped and listed; ``BatchPredictor`` against each
model's own ``predict_proba``; ``push --skip-bad-rows`` and the strict default.

Oracles: scikit-learn's ``predict_proba`` and ``CountVectorizer.transform`` on the same texts,
push's own task builder (``annotate.studio.tasks.article_tasks``) for the sentence ids. A small
model is trained in-process on a synthetic labelled table; no Label Studio.
"""

from __future__ import annotations

import json
import math
import platform
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
import yaml
from sklearn.feature_extraction.text import CountVectorizer
from typer.testing import CliRunner

from annotate.cli import app
from annotate.columns import FILES, PREDICTED_LABEL, PREDICTED_PROBABILITY, PREDICTION_SENTENCE_COLUMNS
from annotate.config import ProjectConfig, load_config
from annotate.errors import InputError
from annotate.ingest.articles import read_articles
from annotate.ingest.bad_rows import beside
from annotate.model import batch as batch_module
from annotate.model.batch import BatchPredictor
from annotate.model.card import train_fields
from annotate.model.classifier import SentenceClassifier
from annotate.model.embedding import embedding_available
from annotate.model.predict import predict
from annotate.model.store import save_model
from annotate.studio.push import prepare
from annotate.studio.server import free_port
from annotate.studio.tasks import article_tasks

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
STANCE = ["Favor", "Against", "Neutral", "Not addressed"]
CUES = {
    "Favor": ["wise leadership", "generous offer", "welcome partnership"],
    "Against": ["reckless policy", "aggressive move", "dangerous threat"],
    "Neutral": ["held talks", "issued a statement", "announced figures"],
}
FILLER = ["markets", "officials", "Tuesday", "the ministry", "analysts", "rare earths", "chip exports"]

# Texts that exercise the n-gram edge cases: empty, blanks, full-width and accented letters, CJK,
# astral characters, one-letter words, long words, repeats, tabs, ligatures, dotted capital I.
ODD_TEXTS = [
    "",
    "   ",
    "\t",
    "a",
    "I",
    "China China China China China.",
    "ＣＨＩＮＡ’s ｗｉｓｅ leadership — ﬁne, İstanbul, naïve café!",
    "中美人工智能合作 China 的 wise leadership 🤝 𝒳 ok",
    "x  y\tz\u00a0w\u2003v",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "?!... --- ***",
    "reckless reckless policy policy; aggressive move.",
    "a lone surrogate \ud800 here",
]


def _config(tmp_path: Path, **changes: object) -> tuple[ProjectConfig, Path]:
    base = load_config(ROOT / "configs" / "stance.yaml").model_dump()
    base.update(name="predict-test", targets=[{"id": "china", "label": "China"}], guidelines=False)
    base.update(suggestions=False, blind=[], **changes)
    path = tmp_path / "stance.yaml"
    path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    return load_config(path), path


def _labelled(
    n_articles: int = 24, per_article: int = 10, seed: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sentences with a China stance (from cue phrases) and a sentence type (digits: Fact)."""
    rng = np.random.default_rng(seed)
    sentences, labels = [], []
    for a in range(n_articles):
        for s in range(per_article):
            stance = STANCE[(a + s) % 4]
            words = list(rng.choice(FILLER, 3))
            if stance != "Not addressed":
                words += ["China", str(rng.choice(CUES[stance]))]
            kind = "Fact" if (a * per_article + s) % 2 == 0 else "Opinion"
            words.append(f"{rng.integers(2, 99)} percent" if kind == "Fact" else "surely")
            rng.shuffle(words)
            sid, doc = f"d{a}-{s}", f"d{a}"
            sentences.append({"sentence_id": sid, "doc_id": doc, "text": " ".join(words).capitalize() + "."})
            labels.append({"sentence_id": sid, "doc_id": doc, "field": "stance_china", "label": stance})
            labels.append({"sentence_id": sid, "doc_id": doc, "field": "sentence_type", "label": kind})
    return pd.DataFrame(sentences), pd.DataFrame(labels)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sentences, labels = _labelled()
    models, card = train_fields(sentences, labels, ["stance_china", "sentence_type"], 0, n_splits=2)
    assert set(models) == {"stance_china", "sentence_type"}
    folder = tmp_path_factory.mktemp("model")
    save_model(folder, models, card)
    return folder


def _articles(n: int, start: int = 0) -> list[dict[str, str]]:
    rng = np.random.default_rng(start)
    rows = []
    for a in range(start, start + n):
        parts = []
        for s in range(int(rng.integers(2, 6))):
            stance = STANCE[(a + s) % 4]
            cue = f" China's {rng.choice(CUES[stance])}" if stance != "Not addressed" else ""
            parts.append(f"{rng.choice(FILLER).capitalize()} said on day {s}{cue}.")
        rows.append(
            {"id": f"art-{a}", "title": f"Title {a}", "text": " ".join(parts), "outlet": "Wire",
             "country": "US", "published": "2025-01-02", "author": f"Writer {a}"}
        )  # fmt: skip
    return rows


def _jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _damaged_csv(path: Path) -> Path:
    """Five rows; row 2 holds a stray U+0080 (valid UTF-8, a C1 control), row 4 a byte that is not UTF-8."""
    lines = ["id,text,outlet\n"]
    for i in range(1, 6):
        text = f"Row {i}: China's wise leadership helped on day {i}."
        if i == 2:
            text = text.replace("wise", "wise\u0080")
        lines.append(f"r{i},{text},Wire\n")
    raw = "".join(lines).encode("utf-8").replace(b"day 4", b"d\xe9y 4")
    path.write_bytes(raw)
    return path


def _read(path: Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()


# --------------------------------------------------------------------------- BatchPredictor


def _fit(texts: list[str], labels: list[str], **params: object) -> SentenceClassifier:
    return SentenceClassifier(**params).fit(texts, labels)  # type: ignore[arg-type]


def _model_sets() -> dict[str, dict[str, SentenceClassifier]]:
    sentences, labels = _labelled()
    texts = sentences["text"].tolist()
    stance = labels[labels["field"] == "stance_china"]["label"].tolist()
    kind = labels[labels["field"] == "sentence_type"]["label"].tolist()
    plain = {"calibrate": False}
    return {
        "calibrated": {"stance": _fit(texts, stance), "type": _fit(texts, kind)},
        "uncalibrated": {"stance": _fit(texts, stance, **plain), "type": _fit(texts, kind, **plain)},
        # learnt from different sentences: own vocabularies and idf, columns taken from the union
        "different sentences": {
            "stance": _fit(texts[:150], stance[:150]),
            "type": _fit(texts[90:], kind[90:]),
        },
        "other regularisation": {"stance": _fit(texts, stance, C=0.1), "type": _fit(texts, kind, min_df=2)},
    }


@pytest.mark.parametrize(
    "kind", ["calibrated", "uncalibrated", "different sentences", "other regularisation"]
)
def test_batch_predictor_gives_predict_proba(kind: str) -> None:
    models = _model_sets()[kind]
    sentences, _ = _labelled(n_articles=6, seed=11)  # unseen sentences
    texts = sentences["text"].tolist() + ODD_TEXTS
    predictor = BatchPredictor(models)
    assert predictor.fast, predictor.reason
    got = predictor.predict_proba(texts)
    assert predictor.fast, predictor.reason  # the first batch's check passed
    for field, model in models.items():
        expected = model.predict_proba(texts)
        assert got[field].shape == expected.shape
        np.testing.assert_allclose(got[field], expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got[field].sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("dense_limit", [None, 0], ids=["dense trie", "sorted-array trie"])
def test_counts_are_the_vectorizers_own(dense_limit: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The word and char_wb count matrices equal CountVectorizer.transform's, entry for entry,
    whether the trie's levels are dense tables or sorted arrays (a large vocabulary's)."""
    if dense_limit is not None:
        monkeypatch.setattr(batch_module, "_DENSE_LIMIT", dense_limit)
    models = _model_sets()["different sentences"]
    plan = BatchPredictor(models)._plan
    assert plan is not None
    texts = _labelled(n_articles=3, seed=5)[0]["text"].tolist() + ODD_TEXTS
    norms = [batch_module.normalise_text(t) for t in texts]
    words, chars = plan.words.counts(norms), plan.trie.counts(norms)
    for group in plan.groups:
        for mine, vectorizer, mapping in (
            (words, group.word, group.word_map),
            (chars, group.char, group.char_map),
        ):
            own = batch_module._columns(mine, mapping)
            expected = CountVectorizer.transform(vectorizer, texts)
            assert own.shape == expected.shape
            assert (own != expected).nnz == 0
            np.testing.assert_array_equal(own.indptr, expected.indptr)
            np.testing.assert_array_equal(own.indices, expected.indices)  # same order in each row


@pytest.mark.parametrize(
    ("n_docs", "n_columns", "n"),
    [(0, 5, 0), (1, 1, 7), (3, 1, 20), (7, 16, 300), (7, 17, 300), (50, 1000, 5000), (2**20, 2**13, 3000)],
)
def test_count_matrix_is_scipys_sum_of_duplicates(n_docs: int, n_columns: int, n: int) -> None:
    """``_count_matrix`` against SciPy's COO → CSR (which sums repeated entries), including keys
    past 32 bits (2**20 rows × 2**13 columns) and column counts on both sides of a power of two."""
    rng = np.random.default_rng(n_docs + n_columns)
    docs = rng.integers(0, max(n_docs, 1), n).astype(np.int32)
    columns = rng.integers(0, n_columns, n).astype(np.int32)
    got = batch_module._count_matrix(docs, columns, n_docs, n_columns)
    expected = sp.coo_matrix((np.ones(n), (docs, columns)), shape=(n_docs, n_columns)).tocsr()
    expected.sum_duplicates()
    assert got.shape == expected.shape and got.dtype == np.float64
    np.testing.assert_array_equal(got.indptr, expected.indptr)
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_array_equal(got.data, expected.data)


@pytest.mark.skipif(not embedding_available(), reason="needs the embed extra (wordllama)")
def test_batch_predictor_with_the_embedding() -> None:
    sentences, labels = _labelled()
    texts = sentences["text"].tolist()
    stance = labels[labels["field"] == "stance_china"]["label"].tolist()
    models = {"stance": _fit(texts, stance, features="tfidf+embedding")}
    odd = [t for t in ODD_TEXTS if "\ud800" not in t]  # WordLlama's tokenizer refuses lone surrogates
    unseen = _labelled(n_articles=4, seed=9)[0]["text"].tolist() + odd
    predictor = BatchPredictor(models)
    got = predictor.predict_proba(unseen)
    assert predictor.fast, predictor.reason
    np.testing.assert_allclose(got["stance"], models["stance"].predict_proba(unseen), rtol=0, atol=1e-12)


def test_a_model_it_does_not_reproduce_is_predicted_the_plain_way() -> None:
    models = _model_sets()["calibrated"]
    odd = SentenceClassifier().fit(["a b", "c d", "a c", "b d"] * 3, ["x", "y"] * 6)
    odd.model_.steps[0][1].transformer_list[1][1].set_params(ngram_range=(1, 3))  # not what fit built
    predictor = BatchPredictor({**models, "odd": odd})
    assert not predictor.fast and "ngram_range" in str(predictor.reason)
    texts = ["China's wise leadership.", "a b c d"]
    got = predictor.predict_proba(texts)
    for field, model in {**models, "odd": odd}.items():
        np.testing.assert_array_equal(got[field], model.predict_proba(texts))


def test_a_difference_on_the_first_batch_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    models = _model_sets()["calibrated"]
    predictor = BatchPredictor(models)
    plan = predictor._plan
    assert plan is not None
    real = plan.predict_proba
    monkeypatch.setattr(plan, "predict_proba", lambda texts: {f: p + 1e-6 for f, p in real(texts).items()})
    texts = ["China's reckless policy.", "Markets were calm."]
    got = predictor.predict_proba(texts)
    assert not predictor.fast and "differs" in str(predictor.reason)
    for field, model in models.items():
        np.testing.assert_array_equal(got[field], model.predict_proba(texts))


# --------------------------------------------------------------------------- predict


def test_predict_writes_push_ids_the_models_probabilities_and_documented_columns(model_dir, tmp_path):
    cfg, cfg_path = _config(tmp_path)
    corpus = _jsonl(tmp_path / "corpus.jsonl", _articles(12))
    text_file = tmp_path / "op-ed.txt"
    text_file.write_text(
        "An op-ed\n\nChina's reckless policy worries analysts. Markets were calm.\n", "utf-8"
    )
    out = tmp_path / "out" / "predictions.parquet"
    seen: list[tuple[int, int]] = []
    result = predict(
        [corpus, text_file], cfg, model_dir=model_dir, out=out, progress=lambda d, t: seen.append((d, t))
    )
    table = _read(out)
    assert result.out == out and result.sentences == len(table) > 0 and result.articles == 13
    assert result.skipped == 0 and result.bad_rows is None and not beside(out).exists()
    assert seen[-1] == (len(table), len(table))

    # the ids, positions and texts push gives the same corpus
    prepared = prepare([corpus, text_file], cfg, cfg_path)
    tasks = [t["data"] for t in article_tasks(prepared.articles, cfg)]
    assert table["sentence_id"].tolist() == [t["sentence_id"] for t in tasks]
    assert table["doc_id"].tolist() == [t["doc_id"] for t in tasks]
    assert table["sentence_index"].tolist() == [t["sentence_index"] for t in tasks]
    assert table["text"].tolist() == [t["text"] for t in tasks]
    assert table["outlet"].iloc[0] == "Wire" and table["author"].iloc[0] == "Writer 0"

    # documented columns: the sentence's, then per field its label and one probability per label
    from annotate.model.store import load_model

    models, card = load_model(model_dir)
    expected = list(PREDICTION_SENTENCE_COLUMNS)
    for field in ("stance_china", "sentence_type"):
        expected.append(PREDICTED_LABEL.format(field=field))
        expected += [
            PREDICTED_PROBABILITY.format(field=field, label=lab) for lab in cfg.choice_fields()[field]
        ]
    expected.append("model_version")
    assert list(table.columns) == expected
    documented = list(FILES["predictions.parquet"].columns)
    assert documented == [*PREDICTION_SENTENCE_COLUMNS, "{field}", "{field}:{label}", "model_version"]
    assert set(table["model_version"]) == {card.model_version}

    # the probabilities are predict_proba's, the label its most probable class
    texts = table["text"].tolist()
    for field, model in models.items():
        proba = model.predict_proba(texts)
        columns = [f"{field}:{label}" for label in model.classes_]
        np.testing.assert_allclose(table[columns].to_numpy(), proba, rtol=0, atol=1e-12)
        assert table[field].tolist() == list(model.predict(texts))
    np.testing.assert_allclose(table[[c for c in table if c.startswith("stance_china:")]].sum(axis=1), 1.0)


def test_a_label_the_model_never_learnt_gets_probability_zero(model_dir, tmp_path):
    cfg, _ = _config(tmp_path, stance_labels=[*STANCE, "Mixed"])
    corpus = _jsonl(tmp_path / "c.jsonl", _articles(2))
    out = tmp_path / "p.parquet"
    predict([corpus], cfg, model_dir=model_dir, out=out)
    table = _read(out)
    assert (table["stance_china:Mixed"] == 0.0).all()
    np.testing.assert_allclose(table[[f"stance_china:{s}" for s in STANCE]].sum(axis=1), 1.0)


def test_bad_rows_are_skipped_and_listed_one_line_each(model_dir, tmp_path):
    cfg, _ = _config(tmp_path)
    damaged = _damaged_csv(tmp_path / "damaged.csv")
    good = _jsonl(tmp_path / "good.jsonl", _articles(2))
    out = tmp_path / "predictions.parquet"
    result = predict([damaged, good], cfg, model_dir=model_dir, out=out)
    listed = (tmp_path / "predictions.bad_rows.txt").read_text(encoding="utf-8").splitlines()
    assert result.skipped == 2 and result.bad_rows == tmp_path / "predictions.bad_rows.txt"
    assert len(listed) == 2
    assert listed[0].startswith(f"{damaged}:row 2 (line 3): control character U+0080")
    assert listed[1].startswith(f"{damaged}:row 4 (line 5): not valid UTF-8 (byte 0xE9")
    table = _read(out)
    assert sorted(set(table["doc_id"])) == sorted(["r1", "r3", "r5", "art-0", "art-1"])

    # a later run without bad rows removes the stale list
    predict([good], cfg, model_dir=model_dir, out=out)
    assert not (tmp_path / "predictions.bad_rows.txt").exists()


def test_the_strict_reader_still_refuses_the_file_in_one_line(tmp_path):
    damaged = _damaged_csv(tmp_path / "damaged.csv")
    with pytest.raises(InputError) as caught:
        read_articles([damaged])
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{damaged}:line ")
    skipped: list[InputError] = []
    kept = read_articles([damaged], on_bad_row=skipped.append)
    assert [a.doc_id for a in kept] == ["r1", "r3", "r5"] and len(skipped) == 2


def test_skipping_keeps_the_rows_numbers_and_ids(tmp_path):
    """Rows after a bad one keep their default ids (<file>-<row>), as if it were fine."""
    path = tmp_path / "t.csv"
    path.write_text("text\nFirst row.\nSecond \u0085 row.\nThird row.\n", encoding="utf-8")
    skipped: list[InputError] = []
    ids = [a.doc_id for a in read_articles([path], on_bad_row=skipped.append)]
    assert ids == ["t-1", "t-3"] and "row 2" in str(skipped[0])


def test_push_skips_bad_rows_only_when_asked(tmp_path):
    cfg, cfg_path = _config(tmp_path)
    damaged = _damaged_csv(tmp_path / "damaged.csv")
    with pytest.raises(InputError, match="line 5: not UTF-8"):  # the strict reader's first problem
        prepare([damaged], cfg, cfg_path)
    stray = tmp_path / "stray.csv"  # one stray U+0080 is enough to refuse the whole file
    stray.write_text("text\nFine.\nAlso fine\u0080.\nFine too.\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3: control character U\\+0080"):
        prepare([stray], cfg, cfg_path)
    listing = tmp_path / "exports" / "push.bad_rows.txt"
    prepared = prepare([damaged], cfg, cfg_path, bad_rows=listing)
    assert [a.doc_id for a in prepared.articles] == ["r1", "r3", "r5"]
    assert prepared.skipped == 2 and prepared.bad_rows_file == listing
    assert len(listing.read_text(encoding="utf-8").splitlines()) == 2
    everything_bad = tmp_path / "bad.jsonl"
    everything_bad.write_text('{"text": ""}\n', encoding="utf-8")
    with pytest.raises(InputError, match="no article left to push"):
        prepare([everything_bad], cfg, cfg_path, bad_rows=listing)


def test_batches_bound_memory_and_become_row_groups(model_dir, tmp_path, monkeypatch):
    cfg, _ = _config(tmp_path)
    corpus = _jsonl(tmp_path / "c.jsonl", _articles(20))
    sizes: list[int] = []
    real = BatchPredictor.predict_proba

    def spy(self: BatchPredictor, texts: list[str]) -> dict[str, np.ndarray]:
        sizes.append(len(texts))
        return real(self, texts)

    monkeypatch.setattr(BatchPredictor, "predict_proba", spy)
    out = tmp_path / "p.parquet"
    result = predict([corpus], cfg, model_dir=model_dir, out=out, batch_size=7)
    assert max(sizes) <= 7 and sum(sizes) == result.sentences
    assert sizes[:-1] == [7] * (len(sizes) - 1)  # every batch full but the last
    parquet = pq.ParquetFile(out)
    assert parquet.num_row_groups == result.row_groups == math.ceil(result.sentences / 7) > 2
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == sizes
    with pytest.raises(InputError, match="batch size"):
        predict([corpus], cfg, model_dir=model_dir, out=out, batch_size=0)


@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_failed_run_leaves_no_output_and_the_previous_one_untouched(
    model_dir, tmp_path, monkeypatch, failure
):
    cfg, _ = _config(tmp_path)
    corpus = _jsonl(tmp_path / "c.jsonl", _articles(20))
    damaged = _damaged_csv(tmp_path / "damaged.csv")
    folder = tmp_path / "exports"
    out = folder / "predictions.parquet"
    predict([damaged], cfg, model_dir=model_dir, out=out)  # a previous run, with its bad-rows list
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    calls = 0
    real = BatchPredictor.predict_proba

    def failing(self: BatchPredictor, texts: list[str]) -> dict[str, np.ndarray]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise failure
        return real(self, texts)

    monkeypatch.setattr(BatchPredictor, "predict_proba", failing)
    with pytest.raises(type(failure)):
        predict([corpus, damaged], cfg, model_dir=model_dir, out=out, batch_size=5)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # no temporary file left
    fresh = tmp_path / "fresh" / "predictions.parquet"
    with pytest.raises(type(failure)):
        calls = 0
        predict([corpus], cfg, model_dir=model_dir, out=fresh, batch_size=5)
    assert list(fresh.parent.iterdir()) == []


def test_no_model_is_one_clear_input_error(tmp_path):
    cfg, _ = _config(tmp_path)
    corpus = _jsonl(tmp_path / "c.jsonl", _articles(1))
    with pytest.raises(InputError, match="^no model: run annotate learn first"):
        predict([corpus], cfg, model_dir=tmp_path / "nowhere", out=tmp_path / "p.parquet")
    assert not (tmp_path / "p.parquet").exists()


def test_a_model_without_the_configs_fields_is_no_model(model_dir, tmp_path):
    cfg, _ = _config(tmp_path, targets=[{"id": "eu", "label": "EU"}], sentence_types=[])
    corpus = _jsonl(tmp_path / "c.jsonl", _articles(1))
    with pytest.raises(InputError, match="^no model: run annotate learn first .*stance_eu"):
        predict([corpus], cfg, model_dir=model_dir, out=tmp_path / "p.parquet")


def test_a_missing_corpus_file_fails_before_any_output(model_dir, tmp_path):
    cfg, _ = _config(tmp_path)
    good = _jsonl(tmp_path / "c.jsonl", _articles(2))
    with pytest.raises(InputError, match="no such file"):
        predict([good, tmp_path / "missing.csv"], cfg, model_dir=model_dir, out=tmp_path / "p.parquet")
    assert not (tmp_path / "p.parquet").exists()


# --------------------------------------------------------------------------- the command line


def _lines(output: str) -> list[str]:
    return [line for line in output.strip().splitlines() if line.strip()]


def test_cli_predict_writes_the_default_file_and_reports_bad_rows(model_dir, tmp_path, monkeypatch):
    cfg, cfg_path = _config(tmp_path)
    corpus = _jsonl(tmp_path / "c.jsonl", _articles(5))
    damaged = _damaged_csv(tmp_path / "damaged.csv")
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "exports" / cfg.name / "model"
    target.mkdir(parents=True)
    for name in ("model.joblib", "model_card.json"):
        (target / name).write_bytes((model_dir / name).read_bytes())
    result = runner.invoke(app, ["predict", str(corpus), str(damaged), "--config", str(cfg_path)])
    assert result.exit_code == 0, result.output
    out = Path("exports") / cfg.name / "predictions.parquet"
    assert out.exists() and len(_read(out)) > 0
    assert "Predicted" in result.output and str(out) in result.output
    assert re.search(
        r"warning: skipped 2 bad row\(s\), listed in .*predictions\.bad_rows\.txt", result.output
    )


def test_cli_predict_without_a_model_is_exit_2_and_one_line(tmp_path):
    _, cfg_path = _config(tmp_path)
    corpus = _jsonl(tmp_path / "c.jsonl", _articles(1))
    args = ["predict", str(corpus), "--config", str(cfg_path), "--model", str(tmp_path / "none")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "p.parquet")])
    assert result.exit_code == 2
    lines = _lines(result.output)
    assert len(lines) == 1 and lines[0].startswith("error: no model: run annotate learn first")


def test_cli_predict_options(model_dir, tmp_path):
    _, cfg_path = _config(tmp_path)
    corpus = _jsonl(tmp_path / "c.jsonl", _articles(6))
    out = tmp_path / "elsewhere.parquet"
    args = ["predict", str(corpus), "-c", str(cfg_path), "--model", str(model_dir), "-o", str(out)]
    result = runner.invoke(app, [*args, "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    assert pq.ParquetFile(out).num_row_groups == math.ceil(len(_read(out)) / 4)
    assert runner.invoke(app, [*args, "--batch-size", "0"]).exit_code == 2


def test_cli_push_is_strict_unless_told_to_skip(tmp_path, monkeypatch):
    _, cfg_path = _config(tmp_path)
    damaged = tmp_path / "damaged.csv"
    damaged.write_text("text\nFine.\nAlso fine\u0080.\nFine too.\nAnd \u0081 again.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "k" * 40)
    strict = runner.invoke(app, ["push", str(damaged), "--config", str(cfg_path)])
    assert strict.exit_code == 2
    lines = _lines(strict.output)
    assert len(lines) == 1 and "U+0080" in lines[0] and lines[0].startswith("error: ")
    skipping = runner.invoke(app, ["push", str(damaged), "--config", str(cfg_path), "--skip-bad-rows"])
    listing = Path("exports") / "predict-test" / "push.bad_rows.txt"
    assert "warning: skipped 2 bad row(s)" in skipping.output and str(listing) in skipping.output
    assert len(listing.read_text(encoding="utf-8").splitlines()) == 2
    assert skipping.exit_code == 3  # read and checked, then no server to push to


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_predict_keeps_freed_memory_on_glibc() -> None:
    """glibc accepts both settings (it refuses an mmap threshold above its 32 MB maximum)."""
    from annotate.memory import keep_freed_memory

    assert keep_freed_memory() is True

"""Alpha per label (one against the rest) and per article, checked against the ``krippendorff`` package.

The answers are built in memory (``ANSWER_COLUMNS``, as ``CountedAnswers.analysis_answers`` holds
them), from seeded simulated annotators; the report part renders the campaign of test_report.py.
"""

from __future__ import annotations

import html
import re

import krippendorff
import numpy as np
import pandas as pd
import pytest
from test_report import ARTICLES, STANCE_YAML, Article, build_campaign

from annotate.columns import ARTICLE_AGREEMENT_COLUMNS, LABEL_AGREEMENT_COLUMNS
from annotate.config import load_config
from annotate.errors import ExportError, InputError
from annotate.outputs.report import render_report
from annotate.outputs.report.scopes import LOWEST_ARTICLES
from annotate.quality.agreement import (
    ANSWER_COLUMNS,
    alpha_from_coincidences,
    bootstrap_coincidences,
    coincidences,
    field_agreement,
    percentile_interval,
    percentile_intervals,
)
from annotate.quality.agreement_scopes import (
    MIN_UNITS,
    NOTE_FEW_UNITS,
    NOTE_LABEL_ABSENT,
    NOTE_LABEL_ONLY,
    NOTE_NO_VARIATION,
    _alpha_of_sums,
    _unit_sums,
    article_agreement,
    label_agreement,
    scoped_agreement,
)
from annotate.quality.answers import CountedAnswers
from annotate.quality.tables import summary_tables

STANCE = ["Favor", "Against", "Neutral", "Not addressed"]
KIND = ["Fact", "Opinion"]
FIELDS = {"stance_china": STANCE, "sentence_type": KIND}


def simulate(
    n_docs: int = 6,
    per_doc: int = 12,
    coders: int = 5,
    seed: int = 1,
    confused: str | None = None,
    accuracy: float = 0.8,
    fields: dict[str, list[str]] = FIELDS,
    skip: float = 0.15,
) -> pd.DataFrame:
    """Answers of ``coders`` annotators, each sentence answered by a random subset of them.

    An annotator gives the sentence's true label with probability ``accuracy``, else another label
    at random; a true ``confused`` label is given right only a third of the time.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(n_docs):
        for s in range(per_doc):
            sid = f"doc{d}-{s:03d}"
            for field, labels in fields.items():
                truth = int(rng.integers(len(labels)))
                for c in range(coders):
                    if rng.random() < skip:
                        continue
                    right = accuracy / 2.4 if labels[truth] == confused else accuracy
                    wrong = int((truth + rng.integers(1, len(labels))) % len(labels))
                    label = truth if rng.random() < right else wrong
                    rows.append((sid, f"doc{d}", field, f"c{c}", d * 10_000 + s * 10 + c, labels[label]))
    return pd.DataFrame(rows, columns=ANSWER_COLUMNS)


def reliability(answers: pd.DataFrame, code: dict[str, float]) -> np.ndarray:
    """Coders × units matrix of ``answers`` (one field), each label mapped through ``code``."""
    wide = answers.pivot(index="annotator", columns="sentence_id", values="label")
    return wide.apply(lambda column: column.map(code)).to_numpy(dtype=float)


def package_alpha(matrix: np.ndarray, level: str = "nominal") -> float:
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))


# -- one label against the rest --------------------------------------------------------------------


def test_label_alpha_is_krippendorffs_alpha_of_the_recoded_answers():
    answers = simulate(seed=3)
    table = label_agreement(answers, FIELDS, n_boot=50)
    assert list(table.columns) == LABEL_AGREEMENT_COLUMNS
    assert list(zip(table["field"], table["label"], strict=True)) == [
        (field, label) for field, labels in FIELDS.items() for label in labels
    ]
    for row in table.itertuples():
        part = answers[answers["field"] == row.field]
        recoded = reliability(part, {label: float(label == row.label) for label in FIELDS[row.field]})
        assert row.krippendorff_alpha == pytest.approx(package_alpha(recoded), abs=1e-12), row.label
        sizes = part.groupby("sentence_id")["label"].transform("size")
        assert row.label_values == (part["label"][sizes >= 2] == row.label).sum()
        assert pd.isna(row.note)


def test_two_labels_against_each_other_are_the_field_row_itself():
    """With two labels, either one against the rest is the field: same alpha, same interval."""
    answers = simulate(seed=4, fields={"sentence_type": KIND})
    annotations = answers.assign(updated_at=pd.Timestamp(0, tz="UTC"), cancelled=False)
    field = field_agreement(annotations, {"sentence_type": KIND}, answers=answers).iloc[0]
    labels = label_agreement(answers, {"sentence_type": KIND})
    for row in labels.itertuples():
        assert row.krippendorff_alpha == pytest.approx(field["krippendorff_alpha"], abs=1e-12)
        assert row.alpha_ci_low == pytest.approx(field["alpha_ci_low"], abs=1e-12)
        assert row.alpha_ci_high == pytest.approx(field["alpha_ci_high"], abs=1e-12)


def test_label_interval_holds_alpha_and_repeats_with_the_seed():
    answers = simulate(seed=5)
    first = label_agreement(answers, FIELDS, seed=7)
    assert first.equals(label_agreement(answers, FIELDS, seed=7))
    other = label_agreement(answers, FIELDS, seed=8)
    assert not np.allclose(first["alpha_ci_low"], other["alpha_ci_low"])
    assert (first["alpha_ci_low"] <= first["krippendorff_alpha"]).all()
    assert (first["krippendorff_alpha"] <= first["alpha_ci_high"]).all()
    assert label_agreement(answers, FIELDS, n_boot=0)["alpha_ci_low"].isna().all()


def test_a_systematically_confused_label_has_the_lowest_alpha():
    for seed in range(3):
        answers = simulate(n_docs=10, per_doc=30, seed=seed, confused="Neutral", accuracy=0.9)
        table = label_agreement(answers, {"stance_china": STANCE}, n_boot=200)
        lowest = table.sort_values("krippendorff_alpha").iloc[0]
        assert lowest["label"] == "Neutral", table
        # and the confusion is clear beyond the resampling noise
        others = table[table["label"] != "Neutral"]
        assert lowest["alpha_ci_high"] < others["krippendorff_alpha"].min()


def test_a_label_nobody_or_everybody_chose_has_no_alpha_and_says_why():
    answers = simulate(seed=6, fields={"stance_china": ["Favor", "Against"]})
    answers["label"] = "Favor"
    table = label_agreement(answers, {"stance_china": ["Favor", "Against", "Neutral"]})
    notes = dict(zip(table["label"], table["note"], strict=True))
    assert table["krippendorff_alpha"].isna().all() and table["alpha_ci_low"].isna().all()
    assert notes == {"Favor": NOTE_LABEL_ONLY, "Against": NOTE_LABEL_ABSENT, "Neutral": NOTE_LABEL_ABSENT}
    one = answers[answers["sentence_id"] == answers["sentence_id"].iloc[0]]
    few = label_agreement(one, {"stance_china": ["Favor", "Against"]})
    assert few["note"].tolist() == [NOTE_FEW_UNITS] * 2


# -- per article -----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_article_alpha_is_krippendorffs_alpha_of_its_sentences(level):
    answers = simulate(seed=9)
    table = article_agreement(answers, FIELDS, levels={"stance_china": level}, n_boot=50)
    assert list(table.columns) == ARTICLE_AGREEMENT_COLUMNS
    assert table["doc_id"].is_monotonic_increasing and len(table) == 6 * len(FIELDS)
    for row in table.itertuples():
        part = answers[(answers["doc_id"] == row.doc_id) & (answers["field"] == row.field)]
        code = {label: float(k) for k, label in enumerate(FIELDS[row.field])}
        want = package_alpha(reliability(part, code), level if row.field == "stance_china" else "nominal")
        assert row.krippendorff_alpha == pytest.approx(want, abs=1e-12), (row.doc_id, row.field)
        assert row.level == (level if row.field == "stance_china" else "nominal")
        assert row.alpha_ci_low <= row.krippendorff_alpha <= row.alpha_ci_high
        sizes = part.groupby("sentence_id").size()
        assert row.units == (sizes >= 2).sum() and row.pairable_values == sizes[sizes >= 2].sum()


def test_article_intervals_repeat_with_the_seed_and_change_with_it():
    answers = simulate(seed=10)
    first = article_agreement(answers, FIELDS, seed=3)
    assert first.equals(article_agreement(answers, FIELDS, seed=3))
    other = article_agreement(answers, FIELDS, seed=4)
    assert not np.allclose(first["alpha_ci_low"], other["alpha_ci_low"])
    assert (first["alpha_ci_high"] - first["alpha_ci_low"] > 0).all()


def test_an_article_without_two_pairable_sentences_has_no_alpha_and_says_why():
    answers = simulate(n_docs=3, seed=11)
    single = answers[answers["doc_id"] == "doc0"]
    single = single[single["sentence_id"] == single["sentence_id"].iloc[0]]  # one sentence
    lonely = answers[answers["doc_id"] == "doc1"].drop_duplicates(["sentence_id", "field"])  # 1 answer
    first_label = {"stance_china": "Favor", "sentence_type": "Fact"}
    same = answers[answers["doc_id"] == "doc2"].assign(label=lambda t: t["field"].map(first_label))
    table = article_agreement(pd.concat([single, lonely, same]), FIELDS, n_boot=100)
    notes = {(r.doc_id, r.field): r.note for r in table.itertuples()}
    assert table["krippendorff_alpha"].isna().all() and table["alpha_ci_low"].isna().all()
    assert notes[("doc0", "stance_china")] == NOTE_FEW_UNITS
    assert notes[("doc1", "sentence_type")] == NOTE_FEW_UNITS
    assert notes[("doc2", "stance_china")] == notes[("doc2", "sentence_type")] == NOTE_NO_VARIATION
    assert table.loc[table["doc_id"] == "doc0", "units"].tolist() == [1, 1] and MIN_UNITS == 2
    assert table.loc[table["doc_id"] == "doc1", "units"].tolist() == [0, 0]


def test_fields_with_the_same_sentences_share_a_draw_and_others_draw_alone():
    """Two fields with identical answers get identical intervals (one draw serves both); an article
    where one field lacks a sentence resamples each field alone, still around its alpha."""
    answers = simulate(seed=12, fields={"stance_china": STANCE}, skip=0)
    twin = answers.assign(field="stance_us")
    fields = {"stance_china": STANCE, "stance_us": STANCE}
    table = article_agreement(pd.concat([answers, twin]), fields)
    china, us = (table[table["field"] == f].reset_index(drop=True) for f in fields)
    pd.testing.assert_series_equal(china["alpha_ci_low"], us["alpha_ci_low"], check_names=False)
    # doc0's first sentence keeps only one answer to stance_us: doc0 is resampled field by field
    first = twin["sentence_id"].eq("doc0-000")
    uneven = pd.concat([answers, twin[~first | ~twin.duplicated("sentence_id")]])
    table = article_agreement(uneven, fields)
    doc0 = table[table["doc_id"] == "doc0"]
    assert doc0["units"].tolist() == [12, 11]
    assert (doc0["alpha_ci_low"] <= doc0["krippendorff_alpha"]).all()
    assert (doc0["krippendorff_alpha"] <= doc0["alpha_ci_high"]).all()
    assert not np.isclose(doc0["alpha_ci_low"].iloc[0], doc0["alpha_ci_low"].iloc[1])


def test_the_sums_resampled_give_alpha_from_coincidences():
    """The V + 1 sums of a fixed metric give the alpha of the matrices they come from."""
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 4, size=(200, 4))
    counts = counts[counts.sum(axis=1) >= 2]
    groups = rng.integers(0, 30, size=len(counts))
    matrices = coincidences(counts, groups, 30)
    for level in ("nominal", "interval", "ratio", "ordinal"):
        sums = np.stack([_unit_sums(counts[groups == g], level).sum(axis=0) for g in range(30)])
        want = alpha_from_coincidences(matrices, level)
        assert np.allclose(_alpha_of_sums(sums, level, 4), want, equal_nan=True), level


# -- the bootstrap within strata -------------------------------------------------------------------


def test_bootstrap_within_strata_draws_each_strata_own_units():
    rng = np.random.default_rng(1)
    values = rng.random((40, 3))
    strata = np.repeat(np.arange(4), [5, 10, 1, 24])
    sums = bootstrap_coincidences(values, 4000, 5, strata=strata, n_strata=5)
    assert sums.shape == (4000, 5, 3)
    for s, size in enumerate([5, 10, 1, 24]):
        own = values[strata == s]
        # a sum of `size` draws with replacement: mean size × mean, variance size × population variance
        assert np.allclose(sums[:, s].mean(axis=0), size * own.mean(axis=0), rtol=0.03)
        if size > 1:
            assert np.allclose(sums[:, s].var(axis=0), size * own.var(axis=0), rtol=0.12)
    assert (sums[:, 4] == 0).all()  # a stratum without units adds nothing
    assert np.array_equal(sums, bootstrap_coincidences(values, 4000, 5, strata=strata, n_strata=5))
    assert bootstrap_coincidences(values, 0, 5, strata=strata, n_strata=5).shape == (0, 5, 3)


def test_percentile_intervals_is_percentile_interval_per_column():
    rng = np.random.default_rng(2)
    replicates = rng.normal(size=(300, 6))
    replicates[::7, 1] = np.nan
    replicates[:, 2] = np.nan
    replicates[5, 3] = np.inf
    bounds = percentile_intervals(replicates)
    for k in range(6):
        assert np.array_equal(bounds[:, k], percentile_interval(replicates[:, k]), equal_nan=True), k
    assert percentile_intervals(np.empty((0, 2))).shape == (2, 2)


def test_bad_input_is_refused_with_what_to_pass():
    answers = simulate(n_docs=1, seed=13)
    with pytest.raises(ExportError, match="choice_answers"):
        label_agreement(answers.drop(columns="doc_id"), FIELDS)
    with pytest.raises(ExportError, match="missing from the config"):
        article_agreement(answers, {"stance_china": STANCE[:2], "sentence_type": KIND})
    with pytest.raises(InputError):
        scoped_agreement(answers, FIELDS, n_boot=-1)
    empty = scoped_agreement(answers.iloc[:0], FIELDS)
    assert list(empty[0]["note"]) == [NOTE_FEW_UNITS] * 6 and empty[1].empty


# -- in the summary and the report ------------------------------------------------------------------


def test_summary_and_report_show_labels_and_lowest_articles():
    config = load_config(STANCE_YAML)
    hostile = Article("x<b>", 'Title <script>alert(1)</script> "q"', "Outlet", "", ARTICLES[0].sentences[:3])
    campaign = build_campaign([*ARTICLES, hostile], config)
    counted = CountedAnswers.of(config, campaign.annotations, campaign.sentences)
    tables = summary_tables(config, counted)
    by_label, by_article = tables["agreement_by_label"], tables["agreement_by_article"]
    assert len(by_label) == sum(len(labels) for labels in config.choice_fields().values())
    assert set(by_article["doc_id"]) == {a.doc_id for a in [*ARTICLES, hostile]}  # gold left out
    page = render_report(config, campaign.manifest, tables, counted)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count('class="scope by-label"') == len(config.choice_fields())
    for field in config.choice_fields():
        block = re.search(rf'<div class="scopes" data-field="{field}">(.*?)</div></div>', page, re.S)
        assert block, field
        links = re.findall(r'<a href="#(article-\d+)">', block.group(1))
        shown = by_article[(by_article["field"] == field) & by_article["krippendorff_alpha"].notna()]
        assert len(links) == min(LOWEST_ARTICLES, len(shown))
        assert all(f'<article class="doc" id="{anchor}"' in page for anchor in links)
        docs = re.findall(r'<tr data-doc="([^"]*)">', block.group(1))
        want = shown.sort_values(["krippendorff_alpha", "alpha_ci_low", "doc_id"])["doc_id"].tolist()
        assert [html.unescape(d) for d in docs] == want[:LOWEST_ARTICLES]
    assert "One label against the rest" in page


def test_the_field_rows_bootstrap_draws_what_it_drew_before_strata():
    """The distinct parts are now found with a lexsort; they, their order and so the draws are
    those of ``np.unique(axis=0)`` that the field rows used, replicate for replicate."""

    def before(parts: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
        flat = parts.reshape(len(parts), -1)
        flat = flat[flat.any(axis=1)]
        distinct, times = np.unique(flat, axis=0, return_counts=True)
        draws = np.random.default_rng(seed).multinomial(int(times.sum()), times / times.sum(), size=n_boot)
        return (draws @ distinct).reshape(n_boot, *parts.shape[1:])

    rng = np.random.default_rng(3)
    for _ in range(20):
        counts = rng.integers(0, 4, size=(int(rng.integers(2, 400)), int(rng.integers(2, 6))))
        parts = coincidences(counts)
        assert np.array_equal(bootstrap_coincidences(parts, 200, 12345), before(parts, 200, 12345))

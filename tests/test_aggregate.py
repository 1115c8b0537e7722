"""Dawid–Skene: crowd-kit as oracle, synthetic crowds with known confusion matrices, edge cases."""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.errors import InputError
from annotate.quality.aggregate import (
    DS_LABEL_COLUMNS,
    DS_RELIABILITY_COLUMNS,
    DawidSkeneResult,
    FieldAggregates,
    dawid_skene,
    dawid_skene_fields,
)
from annotate.quality.agreement import choice_answers
from annotate.quality.majority import majority_labels

STANCE = ["Favor", "Against", "Neutral", "Not addressed"]
TYPES = ["Fact", "Opinion"]


# -- synthetic crowds ---------------------------------------------------------------------------


def random_confusion(rng: np.random.Generator, accuracy: Sequence[float] | np.ndarray, k: int) -> np.ndarray:
    """annotators × true × given: ``accuracy[a]`` on the diagonal, the rest spread at random."""
    confusion = np.empty((len(accuracy), k, k))
    for a, acc in enumerate(accuracy):
        off = rng.dirichlet(np.ones(k - 1), size=k) * (1 - acc)
        for true in range(k):
            confusion[a, true] = np.insert(off[true], true, acc)
    return confusion


def simulate(
    seed: int,
    n_units: int,
    confusion: np.ndarray,
    priors: Sequence[float] | np.ndarray,
    labels: Sequence[str],
    coverage: float = 1.0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Answers drawn from the Dawid–Skene model, vectorised, and the true label codes by unit.

    Each annotator answers each unit with probability ``coverage`` (every unit gets at least
    one answer). Unit ids ``u000123`` sort in unit order, so ``truth[i]`` is the truth of
    ``result.units[i]``.
    """
    rng = np.random.default_rng(seed)
    n_annotators, k, _ = confusion.shape
    truth = rng.choice(k, size=n_units, p=np.asarray(priors))
    answered = rng.random((n_units, n_annotators)) < coverage
    answered[np.arange(n_units), rng.integers(n_annotators, size=n_units)] = True
    unit, annotator = np.nonzero(answered)
    cumulative = confusion[annotator, truth[unit]].cumsum(axis=1)
    given = (rng.random(len(unit))[:, np.newaxis] > cumulative).sum(axis=1).clip(max=k - 1)
    answers = pd.DataFrame(
        {
            "sentence_id": np.char.add("u", np.char.zfill(unit.astype(str), 6)),
            "annotator": np.char.add("w", annotator.astype(str)),
            "label": np.asarray(labels, dtype=object)[given],
        }
    )
    return answers, truth


def majority_accuracy(answers: pd.DataFrame, labels: Sequence[str], truth: np.ndarray) -> float:
    """Accuracy of the majority vote, ties broken uniformly at random (in expectation)."""
    unit = pd.factorize(answers["sentence_id"], sort=True)[0]
    given = pd.Categorical(answers["label"], categories=list(labels)).codes
    k = len(labels)
    counts = np.bincount(unit * k + given, minlength=len(truth) * k).reshape(len(truth), k)
    top = counts == counts.max(axis=1, keepdims=True)
    return float(np.mean(top[np.arange(len(truth)), truth] / top.sum(axis=1)))


def accuracy(result: DawidSkeneResult, truth: np.ndarray) -> float:
    return float(np.mean(result.posteriors.argmax(axis=1) == truth))


# -- crowd-kit as oracle ------------------------------------------------------------------------


def crowdkit_fit(answers: pd.DataFrame, **options: float) -> Any:
    """crowd-kit's DawidSkene fitted on the answers (it names the columns task, worker, label)."""
    crowdkit = importlib.import_module("crowdkit.aggregation")  # the dev extra installs crowd-kit
    model = crowdkit.DawidSkene(**options)
    model.fit(answers.rename(columns={"sentence_id": "task", "annotator": "worker"}))
    return model


def oracle_crowd(
    seed: int, k: int, accuracy: tuple[float, float] = (0.55, 0.85)
) -> tuple[pd.DataFrame, list[str]]:
    """500 units, 5 annotators of accuracy spread over ``accuracy``, 80 % coverage, skewed priors."""
    rng = np.random.default_rng(1000 + seed)
    labels = STANCE[:k]
    confusion = random_confusion(rng, np.linspace(*accuracy, 5), k)
    priors = rng.dirichlet(np.full(k, 5.0))
    answers, _ = simulate(seed, 500, confusion, priors, labels, coverage=0.8)
    return answers, labels


def crowdkit_confusion(model: Any, annotators: list[str], labels: list[str]) -> np.ndarray:
    """crowd-kit's ``errors_.loc[(worker, given), true]`` as annotators × true × given."""
    rows = pd.MultiIndex.from_product([annotators, labels])
    k = len(labels)
    return model.errors_.reindex(rows)[labels].to_numpy().reshape(len(annotators), k, k).transpose(0, 2, 1)


# crowd-kit 1.4.2 is pandas 2 code: under pandas 3 it warns (inplace=, copy=) but computes the same.
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_em_round_matches_crowdkit(seed: int, k: int) -> None:
    """Same start (soft majority vote), same steps: after 30 rounds, run by both whatever the
    convergence, the posteriors agree to 1e-8 (seen: <= 6e-10, crowd-kit clips its returned
    posteriors at 1e-10). crowd-kit does not smooth (it clips cells at 1e-10), so ours runs with
    smoothing=1e-10. crowd-kit's ``errors_``/``priors_`` come from the M-step *after* its last
    E-step, ours from the one before, so they are compared with crowd-kit run one round less.
    """
    answers, labels = oracle_crowd(seed, k)
    rounds = 30
    ours = dawid_skene(answers, labels, max_iter=rounds, tol=0, smoothing=1e-10)
    theirs = crowdkit_fit(answers, n_iter=rounds, tol=-np.inf)
    one_less = crowdkit_fit(answers, n_iter=rounds - 1, tol=-np.inf)

    assert ours.iterations == len(theirs.loss_history_) == rounds
    their_posteriors = theirs.probas_.loc[ours.units, labels].to_numpy()
    assert np.mean(ours.posteriors.argmax(axis=1) == their_posteriors.argmax(axis=1)) >= 0.99
    np.testing.assert_allclose(ours.posteriors, their_posteriors, rtol=0, atol=1e-8)
    their_confusion = crowdkit_confusion(one_less, ours.annotators, labels)
    np.testing.assert_allclose(ours.confusion, their_confusion, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.priors, one_less.priors_[labels].to_numpy(), rtol=0, atol=1e-8)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("k", [3, 4])
def test_same_fixed_point_as_crowdkit(k: int) -> None:
    """Both run to convergence land on the same estimates: all labels equal, posteriors,
    confusion matrices and priors within 1e-6. crowd-kit stops when its evidence lower bound
    gains < ``tol`` per answer; tol=-inf makes it run all ``n_iter`` rounds. These crowds
    (accuracy 0.6–0.9) settle within ~60 rounds, so crowd-kit's pandas loop stays short."""
    answers, labels = oracle_crowd(1, k, accuracy=(0.6, 0.9))
    ours = dawid_skene(answers, labels, max_iter=1000, tol=1e-10, smoothing=1e-10)
    assert ours.converged and ours.iterations < 100
    theirs = crowdkit_fit(answers, n_iter=120, tol=-np.inf)

    their_posteriors = theirs.probas_.loc[ours.units, labels].to_numpy()
    assert (ours.posteriors.argmax(axis=1) == their_posteriors.argmax(axis=1)).all()
    np.testing.assert_allclose(ours.posteriors, their_posteriors, rtol=0, atol=1e-6)
    their_confusion = crowdkit_confusion(theirs, ours.annotators, labels)
    np.testing.assert_allclose(ours.confusion, their_confusion, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.priors, theirs.priors_[labels].to_numpy(), rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("seed", range(4))
def test_close_to_crowdkit_with_defaults(seed: int) -> None:
    """Each with its defaults (ours: smoothing 0.01, posteriors settled to 1e-6 or 100 rounds;
    crowd-kit: no smoothing, stop when the ELBO gains < 1e-5 per answer, here after 14–32
    rounds): the labels agree on >= 99 % of units (seen: 99.8–100 %) and the probabilities
    differ by <= 0.01 on average (seen: 1e-4–2e-3). The rest is crowd-kit stopping before a
    few near-tie units have settled (up to 0.2 on those) and the smoothing, not the model:
    the two tests above show the same steps and the same fixed point."""
    answers, labels = oracle_crowd(seed, 4)
    theirs = crowdkit_fit(answers)
    ours = dawid_skene(answers, labels)
    their_posteriors = theirs.probas_.loc[ours.units, labels].to_numpy()
    assert np.mean(ours.posteriors.argmax(axis=1) == their_posteriors.argmax(axis=1)) >= 0.99
    assert np.abs(ours.posteriors - their_posteriors).mean() <= 0.01


# -- what Dawid–Skene is for --------------------------------------------------------------------


def adversarial_crowd(seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """2,000 units, 4 labels, 5 annotators: three honest (65 % right, errors uniform) and two
    adversaries who answer label k+1 for k (cyclically) 90 % of the time."""
    k = len(STANCE)
    honest = np.full((k, k), 0.35 / (k - 1))
    np.fill_diagonal(honest, 0.65)
    shift = np.roll(np.arange(k), -1)
    adversary = np.full((k, k), 0.1 / (k - 1))
    adversary[np.arange(k), shift] = 0.9
    confusion = np.stack([honest, honest, honest, adversary, adversary])
    answers, truth = simulate(seed, 2000, confusion, [0.3, 0.3, 0.25, 0.15], STANCE)
    return answers, truth, shift


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beats_majority_vote_against_adversaries(seed: int) -> None:
    """Seen: majority vote (ties split evenly) 0.460–0.466, Dawid–Skene 0.969–0.976."""
    answers, truth, shift = adversarial_crowd(seed)
    result = dawid_skene(answers, STANCE)
    majority = majority_accuracy(answers, STANCE, truth)
    ours = accuracy(result, truth)
    assert majority < 0.55
    assert ours > 0.95
    assert ours - majority > 0.4
    # it has learnt the adversaries' permutation, and ranks them last
    for a in (3, 4):
        assert (result.confusion[a].argmax(axis=1) == shift).all()
    reliability = result.reliability()
    assert (reliability.iloc[:3] > 0.6).all() and (reliability.iloc[3:] < 0.1).all()


def test_recovers_known_confusion_matrices() -> None:
    """50,000 units, 4 annotators (accuracy 0.5–0.9) answering 60 % each: every estimated cell
    is within 0.03 of the true one (~4 standard errors for the rarest label's rows) and the
    priors within 0.01 (seen: 0.012 and 0.003). At the default 100 rounds it has not settled
    within 1e-6 yet (posteriors up to 0.018 off, no label differs), hence max_iter=1000."""
    rng = np.random.default_rng(7)
    confusion = random_confusion(rng, [0.5, 0.65, 0.8, 0.9], 4)
    priors = [0.4, 0.25, 0.2, 0.15]
    answers, truth = simulate(7, 50_000, confusion, priors, STANCE, coverage=0.6)
    result = dawid_skene(answers, STANCE, max_iter=1000)
    assert result.converged  # seen: 328 rounds to settle within 1e-6
    assert result.annotators == ["w0", "w1", "w2", "w3"]
    np.testing.assert_allclose(result.confusion, confusion, atol=0.03)
    np.testing.assert_allclose(result.priors, priors, atol=0.01)
    expected_reliability = np.einsum("akk,k->a", confusion, priors)
    np.testing.assert_allclose(result.reliability().to_numpy(), expected_reliability, atol=0.02)
    assert accuracy(result, truth) > majority_accuracy(answers, STANCE, truth)


def test_million_answers_in_seconds() -> None:
    """~1,000,000 answers (300k units × 5 annotators at 70 %, 4 labels). Seen: 1.14M answers,
    68 rounds in ~1.9 s on 2 cores; the bound only catches a fall back to per-answer Python."""
    rng = np.random.default_rng(3)
    confusion = random_confusion(rng, [0.9, 0.8, 0.7, 0.6, 0.75], 4)
    answers, truth = simulate(3, 300_000, confusion, [0.2, 0.2, 0.5, 0.1], STANCE, coverage=0.7)
    assert len(answers) > 1_000_000
    start = time.perf_counter()
    result = dawid_skene(answers, STANCE)
    elapsed = time.perf_counter() - start
    assert elapsed < 20, f"{elapsed:.1f} s for {len(answers)} answers"
    assert result.posteriors.shape == (300_000, 4)
    assert accuracy(result, truth) > 0.9


# -- the result ---------------------------------------------------------------------------------


def small() -> pd.DataFrame:
    given = {"s1": "FFO", "s2": "OOO", "s3": "FFF", "s4": "OOF", "s5": "F-O"}  # by a, b, c
    rows = [
        (s, a, {"F": "Fact", "O": "Opinion"}[x])
        for s, row in given.items()
        for a, x in zip("abc", row, strict=True)
        if x != "-"
    ]
    return pd.DataFrame(rows, columns=["sentence_id", "annotator", "label"])


def test_result_shapes_and_invariants() -> None:
    result = dawid_skene(small(), TYPES)
    assert result.labels == TYPES
    assert result.units == ["s1", "s2", "s3", "s4", "s5"]
    assert result.annotators == ["a", "b", "c"]
    assert result.posteriors.shape == (5, 2) and result.confusion.shape == (3, 2, 2)
    np.testing.assert_allclose(result.posteriors.sum(axis=1), 1)
    np.testing.assert_allclose(result.confusion.sum(axis=2), 1)
    assert result.priors.sum() == pytest.approx(1)
    assert 1 <= result.iterations <= 100 and result.converged

    table = result.table()
    assert list(table.columns) == ["unit", "label", "probability"]
    assert table["label"].tolist() == ["Fact", "Opinion", "Fact", "Opinion", "Fact"]
    np.testing.assert_allclose(table["probability"], result.posteriors.max(axis=1))

    reliability = result.reliability()
    assert reliability.index.tolist() == ["a", "b", "c"] and reliability.index.name == "annotator"
    expected = [sum(result.priors[k] * result.confusion[a, k, k] for k in range(2)) for a in range(3)]
    np.testing.assert_allclose(reliability.to_numpy(), expected)
    assert reliability["c"] < reliability["a"]


def test_result_is_read_only() -> None:
    result = dawid_skene(small(), TYPES)
    with pytest.raises(ValueError, match="read-only"):
        result.posteriors[0, 0] = 1.0
    with pytest.raises(AttributeError):
        result.iterations = 3  # type: ignore[misc]


def test_max_iter_reached_is_reported() -> None:
    answers, _, _ = adversarial_crowd(0)
    result = dawid_skene(answers, STANCE, max_iter=2)
    assert result.iterations == 2 and not result.converged
    np.testing.assert_allclose(result.posteriors.sum(axis=1), 1)


def test_deterministic() -> None:
    answers, _, _ = adversarial_crowd(1)
    first = dawid_skene(answers, STANCE)
    second = dawid_skene(answers, STANCE)
    assert np.array_equal(first.posteriors, second.posteriors)
    assert np.array_equal(first.confusion, second.confusion)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 3), st.integers(0, 2)),
        min_size=1,
        max_size=40,
        unique_by=lambda row: (row[0], row[1]),
    )
)
def test_any_small_crowd(rows: list[tuple[int, int, int]]) -> None:
    """Whatever the answers: finite, normalised, and the row order does not matter."""
    labels = ["x", "y", "z"]
    answers = pd.DataFrame(
        [(f"s{u}", f"a{a}", labels[label]) for u, a, label in rows],
        columns=["sentence_id", "annotator", "label"],
    )
    result = dawid_skene(answers, labels)
    for array in (result.posteriors, result.confusion, result.priors):
        assert np.isfinite(array).all() and (array >= 0).all()
    np.testing.assert_allclose(result.posteriors.sum(axis=1), 1)
    np.testing.assert_allclose(result.confusion.sum(axis=2), 1)
    assert result.priors.sum() == pytest.approx(1)

    shuffled = answers.sample(frac=1, random_state=np.random.RandomState(len(rows)))
    again = dawid_skene(shuffled, labels)
    assert again.units == result.units and again.iterations == result.iterations
    np.testing.assert_allclose(again.posteriors, result.posteriors, atol=1e-9)


# -- edge cases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [pd.DataFrame(columns=["sentence_id", "annotator", "label"]), pd.DataFrame()],
    ids=["no rows", "no columns"],
)
def test_empty_input(answers: pd.DataFrame) -> None:
    result = dawid_skene(answers, STANCE)
    assert result.units == [] and result.annotators == []
    assert result.posteriors.shape == (0, 4) and result.confusion.shape == (0, 4, 4)
    np.testing.assert_allclose(result.priors, 0.25)
    assert result.iterations == 0 and result.converged
    assert list(result.table().columns) == ["unit", "label", "probability"] and result.table().empty
    assert result.reliability().empty


def test_label_nobody_used() -> None:
    labels = ["Fact", "Opinion", "Unclear"]
    result = dawid_skene(small(), labels)
    # 5 units: its prior is the smoothing, 0.01 / 5.03, plus the posteriors' stray mass
    assert 0.01 / 5.03 < result.priors[2] < 0.005
    assert (result.posteriors[:, 2] < 1e-3).all()
    # hardly any evidence on how annotators treat an "Unclear" sentence: rows near uniform
    np.testing.assert_allclose(result.confusion[:, 2, :], 1 / 3, atol=0.05)
    assert result.table()["label"].tolist() == ["Fact", "Opinion", "Fact", "Opinion", "Fact"]


def test_single_label() -> None:
    result = dawid_skene(small().assign(label="Fact"), ["Fact"])
    np.testing.assert_allclose(result.posteriors, 1)
    assert result.converged and result.reliability().tolist() == pytest.approx([1, 1, 1])


def test_units_with_a_single_answer_and_a_rare_annotator() -> None:
    """A rare annotator's rows for true labels they never met stay near uniform; units answered
    once follow that answer when it comes from a reliable annotator."""
    answers, truth, _ = adversarial_crowd(0)
    rare = pd.DataFrame(
        {"sentence_id": ["u000000", "u000001"], "annotator": "zz-rare", "label": ["Favor", "Favor"]}
    )
    lone = pd.DataFrame({"sentence_id": ["v1", "v2"], "annotator": "w0", "label": ["Against", "Neutral"]})
    result = dawid_skene(pd.concat([answers, rare, lone], ignore_index=True), STANCE)
    assert result.annotators[-1] == "zz-rare"
    assert np.isfinite(result.confusion).all()
    np.testing.assert_allclose(result.confusion.sum(axis=2), 1)
    table = result.table().set_index("unit")
    assert table.loc["v1", "label"] == "Against" and table.loc["v2", "label"] == "Neutral"
    assert 0.25 < table["probability"].astype(float)["v1"] < 1


def test_tie_goes_to_the_first_label() -> None:
    """Two annotators, one unit each way: perfectly symmetric, 50/50, so label order decides."""
    answers = pd.DataFrame({"sentence_id": ["s1", "s1"], "annotator": ["a", "b"], "label": TYPES})
    forward = dawid_skene(answers, TYPES)
    backward = dawid_skene(answers, TYPES[::-1])
    np.testing.assert_allclose(forward.posteriors, 0.5)
    assert forward.table()["label"].tolist() == ["Fact"]
    assert backward.table()["label"].tolist() == ["Opinion"]


def test_other_column_names() -> None:
    answers = small().rename(columns={"sentence_id": "task", "annotator": "worker", "label": "answer"})
    result = dawid_skene(answers, TYPES, unit="task", annotator="worker", label="answer")
    assert np.array_equal(result.posteriors, dawid_skene(small(), TYPES).posteriors)


def test_non_text_ids_come_back_as_text() -> None:
    answers = small().assign(sentence_id=lambda t: t["sentence_id"].str[1:].astype(int))
    assert dawid_skene(answers, TYPES).units == ["1", "2", "3", "4", "5"]


# -- input validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "labels", "options", "message"),
    [
        ([("s1", "a", "Fact")], TYPES, {}, "answers must be a pandas DataFrame, got list"),
        (small().drop(columns="annotator"), TYPES, {}, r"no column\(s\) 'annotator'.*annotator="),
        (small(), TYPES, {"unit": "label"}, "unit, annotator and label columns must differ"),
        (small(), "Fact", {}, "labels must be the field's non-empty list"),
        (small(), [], {}, "labels must be the field's non-empty list"),
        (small(), ["Fact", "Fact", "Opinion"], {}, "'Fact' more than once"),
        (small(), ["Fact", 1], {}, "labels must all be text"),
        (small(), ["Fact"], {}, r"label\(s\) 'Opinion' missing from labels \['Fact'\]"),
        (small(), TYPES, {"max_iter": 0}, "max_iter must be a whole number"),
        (small(), TYPES, {"max_iter": 2.5}, "max_iter must be a whole number"),
        (small(), TYPES, {"tol": -1}, "tol must be a number >= 0"),
        (small(), TYPES, {"smoothing": 0}, "smoothing must be a number > 0"),
        (small(), TYPES, {"smoothing": float("nan")}, "smoothing must be a number > 0"),
    ],
)
def test_bad_input(answers: object, labels: object, options: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        dawid_skene(answers, labels, **options)  # type: ignore[arg-type]


def test_missing_values() -> None:
    answers = small()
    answers.loc[2, "annotator"] = None
    with pytest.raises(InputError, match=r"1 row\(s\) without a 'annotator'; drop them first"):
        dawid_skene(answers, TYPES)


def test_an_annotator_answering_twice() -> None:
    answers = pd.concat([small(), small().iloc[[3]]], ignore_index=True)
    with pytest.raises(InputError, match="annotator 'a' answered sentence_id 's2' more than once"):
        dawid_skene(answers, TYPES)


# -- per field, from the annotations table ------------------------------------------------------


def tidy(rows: Sequence[tuple[str, str, str, str]]) -> pd.DataFrame:
    """Annotations table from ``(sentence_id, annotator, field, label)``."""
    ids = {(s, a): i for i, (s, a) in enumerate(dict.fromkeys((s, a) for s, a, _, _ in rows), start=1)}
    return pd.DataFrame(
        {
            "sentence_id": [s for s, _, _, _ in rows],
            "doc_id": "d1",
            "annotation_id": [ids[s, a] for s, a, _, _ in rows],
            "annotator": [a for _, a, _, _ in rows],
            "field": [f for _, _, f, _ in rows],
            "label": [label for _, _, _, label in rows],
            "updated_at": pd.Timestamp("2026-01-01T00:00:00Z"),
            "cancelled": False,
        }
    )


CHOICE_FIELDS = {"stance_china": STANCE, "stance_us": STANCE, "sentence_type": TYPES}


def field_rows() -> list[tuple[str, str, str, str]]:
    rows = [(s, a, "sentence_type", label) for s, a, label in small().itertuples(index=False)]
    stance = {"s1": ["Favor", "Favor", "Against"], "s2": ["Neutral", "Neutral", "Neutral"]}
    rows += [
        (s, a, "stance_china", label)
        for s, labels in stance.items()
        for a, label in zip("abc", labels, strict=True)
    ]
    rows += [("s1", "a", "comment", "free text")]
    return rows


def test_fields_table() -> None:
    answers = choice_answers(tidy(field_rows()), CHOICE_FIELDS)
    result = dawid_skene_fields(answers, CHOICE_FIELDS)
    assert isinstance(result, FieldAggregates)
    labels, reliability = result
    assert list(labels.columns) == DS_LABEL_COLUMNS
    assert list(reliability.columns) == DS_RELIABILITY_COLUMNS
    # stance_us has no answers: no rows; fields in choice_fields order, sentences sorted
    assert labels[["field", "sentence_id"]].values.tolist() == [
        ["stance_china", "s1"],
        ["stance_china", "s2"],
        *[["sentence_type", s] for s in ["s1", "s2", "s3", "s4", "s5"]],
    ]
    types = labels[labels["field"] == "sentence_type"]
    assert types["ds_label"].tolist() == ["Fact", "Opinion", "Fact", "Opinion", "Fact"]
    expected = dawid_skene(small(), TYPES).table()
    np.testing.assert_allclose(types["ds_probability"], expected["probability"])
    assert labels["ds_probability"].dtype == np.float64
    assert reliability[["annotator", "field"]].values.tolist() == [
        [a, f] for f in ["stance_china", "sentence_type"] for a in "abc"
    ]
    assert reliability["ds_reliability"].between(0, 1).all()


def test_fields_sit_beside_majority_labels() -> None:
    """The lead merges on (sentence_id, field): every majority row finds its Dawid–Skene row,
    and where the majority is clear they agree."""
    annotations = tidy(field_rows())
    majority = majority_labels(annotations, CHOICE_FIELDS)
    ds, _ = dawid_skene_fields(choice_answers(annotations, CHOICE_FIELDS), CHOICE_FIELDS)
    merged = majority.merge(ds, on=["sentence_id", "field"], how="left", validate="one_to_one")
    assert merged["ds_label"].notna().all()
    clear = ~merged["contested"] & merged["label"].notna()
    assert (merged.loc[clear, "label"] == merged.loc[clear, "ds_label"]).all()


def test_fields_empty_and_errors() -> None:
    empty = choice_answers(tidy([]).astype({"label": object}), CHOICE_FIELDS)
    labels, reliability = dawid_skene_fields(empty, CHOICE_FIELDS)
    assert labels.empty and list(labels.columns) == DS_LABEL_COLUMNS
    assert reliability.empty and list(reliability.columns) == DS_RELIABILITY_COLUMNS

    with pytest.raises(InputError, match="no 'field' column"):
        dawid_skene_fields(small(), CHOICE_FIELDS)
    with pytest.raises(InputError, match="choice_fields"):
        dawid_skene_fields(small(), ["sentence_type"])  # type: ignore[arg-type]
    twice = pd.concat([small(), small().iloc[[0]]], ignore_index=True).assign(field="sentence_type")
    with pytest.raises(InputError, match="field 'sentence_type': annotator 'a' answered"):
        dawid_skene_fields(twice, CHOICE_FIELDS)


def test_doctests() -> None:
    import doctest

    import annotate.quality.aggregate

    result = doctest.testmod(annotate.quality.aggregate)
    assert result.attempted >= 5 and result.failed == 0

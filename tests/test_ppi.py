"""annotate.inference.ppi against ppi-python and statsmodels, and by seeded simulation with known truth."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from ppi_py import ppi_mean_ci, ppi_mean_pointestimate
from scipy.special import expit

from annotate.errors import InputError
from annotate.inference.ppi import MIN_AUDIT, Estimate, estimate_share


def _disjoint(seed: int, n: int = 400, N: int = 5000, noise: float = 1.0) -> tuple[np.ndarray, ...]:
    """ppi-python's setting: labelled and unlabelled sentences apart, each its own article."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(float)
    f = expit(1.2 * (2 * y - 1) + rng.normal(0, noise, n))
    truth_u = rng.random(N) < 0.35
    f_u = expit(1.2 * (2 * truth_u - 1) + rng.normal(0, noise, N))
    return y, f, f_u


@pytest.mark.parametrize("lam", [0.0, 0.4, 1.0])
def test_one_sentence_per_article_equals_ppi_python(lam: float) -> None:
    y, f, f_u = _disjoint(seed=1)
    mine = estimate_share(
        f_u,
        [f"u{i}" for i in range(len(f_u))],
        f,
        y,
        [f"l{i}" for i in range(len(y))],
        lam=lam,
        small_sample=False,
    )
    low, high = ppi_mean_ci(y, f, f_u, alpha=0.05, lam=lam)
    point = float(np.squeeze(ppi_mean_pointestimate(y, f, f_u, lam=lam)))
    assert mine.assisted == pytest.approx(point, rel=1e-12)
    assert (mine.assisted_low, mine.assisted_high) == pytest.approx((float(low[0]), float(high[0])), rel=1e-9)
    if lam == 0.0:
        assert (mine.classical_low, mine.classical_high) == pytest.approx(
            (mine.assisted_low, mine.assisted_high)
        )


def test_tuned_lambda_is_close_to_ppi_pythons_and_never_widens() -> None:
    """ppi-python plugs in cov / ((1 + n/N) var); ours minimises the same estimated variance
    exactly. With thousands of sentences the two agree closely, and the tuned interval is no
    wider than the classical one nor than ppi-python's."""
    y, f, f_u = _disjoint(seed=2, n=2000, N=20000, noise=2.0)  # a weak model: λ well inside (0, 1)
    ids_u, ids_l = [f"u{i}" for i in range(len(f_u))], [f"l{i}" for i in range(len(y))]
    mine = estimate_share(f_u, ids_u, f, y, ids_l, small_sample=False)
    theirs_low, theirs_high = ppi_mean_ci(y, f, f_u, alpha=0.05)
    cov = np.cov(y, f, bias=True)[0, 1]
    their_lam = cov / ((1 + len(y) / len(f_u)) * np.var(np.concatenate([f, f_u]), ddof=1))
    assert 0.2 < their_lam < 0.9
    assert mine.lam == pytest.approx(their_lam, abs=0.02)
    assert mine.assisted_high - mine.assisted_low <= float(theirs_high[0] - theirs_low[0]) + 1e-12
    assert mine.assisted_se <= mine.classical_se


def test_classical_interval_is_statsmodels_cluster_robust_mean() -> None:
    """λ = 0: the audit mean with the CR0 cluster-robust standard error of OLS on a constant."""
    rng = np.random.default_rng(3)
    articles = np.repeat(np.arange(60), rng.integers(1, 8, 60))
    p = rng.beta(2, 3, 60)[articles]
    y = (rng.random(len(articles)) < p).astype(float)
    f = np.clip(p + rng.normal(0, 0.1, len(p)), 0, 1)
    mine = estimate_share(f, articles, f, y, articles, lam=0.0, small_sample=False, conservative=False)
    fit = sm.OLS(y, np.ones((len(y), 1))).fit(
        cov_type="cluster", cov_kwds={"groups": articles, "use_correction": False}
    )
    assert mine.classical == pytest.approx(float(fit.params[0]))
    assert mine.classical_se == pytest.approx(float(fit.bse[0]), rel=1e-10)
    corrected = estimate_share(f, articles, f, y, articles, lam=0.0, conservative=False)
    G = len(np.unique(articles))
    assert corrected.classical_se == pytest.approx(mine.classical_se * np.sqrt(G / (G - 1)))


def _campaign(rng: np.random.Generator, G: int = 150, n: int = 300, quality: float = 1.5) -> Estimate:
    """One simulated corpus: G articles of 1 + Poisson(19) sentences, each article with its own
    propensity p ~ Beta(2, 5) (true share E[p] = 2/7), answers y ~ Bernoulli(p); a model of
    chosen quality, miscalibrated (f = expit(quality·(2y − 1) + N(0, 1) − 0.5)); a uniform audit
    of n sentences."""
    sizes = rng.poisson(19, G) + 1
    p = rng.beta(2, 5, G)
    articles = np.repeat(np.arange(G), sizes)
    y = (rng.random(len(articles)) < p[articles]).astype(float)
    f = expit(quality * (2 * y - 1) + rng.normal(0, 1, len(articles)) - 0.5)
    audit = rng.choice(len(articles), n, replace=False)
    return estimate_share(f, articles, f[audit], y[audit], articles[audit])


def test_simulated_coverage_and_width() -> None:
    """1,000 seeded corpora (about 3,000 sentences in 150 articles each, a 300-sentence audit):
    both 95% intervals cover the true share 93-97% of the time, the model-assisted one is never
    wider than the classical one, and on average clearly narrower with this model."""
    rng = np.random.default_rng(20261202)
    truth = 2 / 7
    results = [_campaign(rng) for _ in range(1000)]
    classical = np.mean([r.classical_low <= truth <= r.classical_high for r in results])
    assisted = np.mean([r.assisted_low <= truth <= r.assisted_high for r in results])
    assert 0.93 <= classical <= 0.97, classical
    assert 0.93 <= assisted <= 0.97, assisted
    widths = np.array(
        [(r.classical_high - r.classical_low, r.assisted_high - r.assisted_low) for r in results]
    )
    assert (widths[:, 1] <= widths[:, 0] + 1e-12).all()
    assert widths[:, 1].mean() < 0.8 * widths[:, 0].mean()
    assert np.mean([r.effective_n for r in results]) > 1.5 * 300


def test_never_narrower_than_for_independent_sentences() -> None:
    """Four articles whose sentences disagree inside each article (negative correlation): the
    cluster-robust variance comes out far below the independent one; the interval uses the
    larger, for both methods, and the model-assisted one stays no wider."""
    articles = np.repeat(np.arange(4), 10)
    y = np.tile([1.0, 0.0], 20)
    f = np.clip(0.5 + 0.3 * (y - 0.5) + np.linspace(-0.1, 0.1, 40), 0, 1)
    loose = estimate_share(f, articles, f, y, articles, conservative=False)
    safe = estimate_share(f, articles, f, y, articles)
    iid = float(np.std(y) / np.sqrt(len(y)))
    assert loose.classical_se < 0.5 * iid
    assert safe.classical_se == pytest.approx(iid)
    assert safe.assisted_se <= safe.classical_se and safe.assisted_se >= loose.assisted_se


def test_a_useless_model_costs_nothing() -> None:
    """Predictions of pure noise: λ is tuned to about 0 and the interval is the classical one."""
    rng = np.random.default_rng(5)
    articles = np.repeat(np.arange(100), 20)
    y = (rng.random(2000) < 0.3).astype(float)
    f = rng.random(2000)
    audit = rng.choice(2000, 200, replace=False)
    result = estimate_share(f, articles, f[audit], y[audit], articles[audit])
    assert result.lam < 0.2
    assert result.assisted_se <= result.classical_se
    assert result.assisted_se == pytest.approx(result.classical_se, rel=0.05)


def test_weights_are_a_hajek_mean() -> None:
    """Inverse inclusion probabilities: an audit that over-sampled positives (weight 1) against
    negatives (weight 3) estimates the share as if the negatives counted three times."""
    y = np.array([1.0] * 10 + [0.0] * 10)
    w = np.array([1.0] * 10 + [3.0] * 10)
    articles = np.arange(20)
    result = estimate_share(np.full(20, 0.5), articles, np.full(20, 0.5), y, articles, weights=w, lam=0.0)
    assert result.classical == pytest.approx(10 / 40)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n": MIN_AUDIT - 1}, f"at least {MIN_AUDIT} are needed"),
        ({"level": 1.0}, "confidence level must be a number in"),
        ({"level": "95%"}, "confidence level must be a number in"),
        ({"bad_prediction": 1.5}, "must be probabilities or shares in"),
        ({"one_article": True}, "one article"),
        ({"lam": 2.0}, "lam must be in"),
    ],
)
def test_bad_input_is_one_clear_line(change: dict[str, object], message: str) -> None:
    n = int(change.get("n", 20))  # type: ignore[call-overload]
    f = np.linspace(0.1, 0.9, 40)
    if "bad_prediction" in change:
        f[3] = float(change["bad_prediction"])  # type: ignore[arg-type]
    articles = np.zeros(40) if change.get("one_article") else np.arange(40) // 4
    y = (np.arange(n) % 2).astype(float)
    with pytest.raises(InputError, match=message) as info:
        estimate_share(
            f,
            articles,
            f[:n],
            y,
            articles[:n],
            level=change.get("level", 0.95),  # type: ignore[arg-type]
            lam=change.get("lam"),  # type: ignore[arg-type]
        )
    assert "\n" not in str(info.value)

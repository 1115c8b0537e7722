"""A share and its interval from a random sample of human labels, with and without model predictions.

The population is a set of sentences grouped in articles; a model gives every sentence a
prediction ``f`` (the probability of a label); a random audit sample of them also has a human
answer ``y`` (1 when the sentence has the label, else 0). The estimand is the share of the
label, θ = E[y], for sentences like these (articles drawn from the same outlets).

Two estimators, computed from the same numbers:

- *classical* (human labels only): the audit mean ȳ_L;
- *model-assisted* (PPI++, Angelopoulos, Duchi & Zrnic 2023): θ̂_λ = λ · f̄_U + mean_L(y − λ f),
  where f̄_U is the mean prediction over the whole population U (the audit included) and
  mean_L(y − λ f) corrects the model's bias on the audit. λ = 0 gives the classical estimate,
  λ = 1 plain PPI (Angelopoulos et al., Science 2023).

Both are unbiased whatever the model. Their variances come from one influence function,
summed within articles (sentences of one article are not independent: cluster-robust "CR1"
variance, Liang & Zeger 1986, with the small-sample factor G/(G − 1), G the number of
articles; of the audit's articles for the classical estimate):

    ψ_i = λ (f_i − f̄_U) / N · [i ∈ U]  +  w_i (z_i − z̄_L) / Σ_L w · [i ∈ L],   z = y − λ f,
    Var(θ̂) = G/(G − 1) · Σ_articles (Σ_{i in the article} ψ_i)².

The variance used is the larger of this and the same sum taken one sentence at a time (as
if sentences were independent): with few articles the cluster-robust estimate is noisy and can
come out far below the independent one (Cameron & Miller 2015), while stance within an article
is expected to correlate positively, so an interval narrower than the independent one would be
overconfident. This handles the overlap of the audit with the population (a sentence in both contributes both
terms to its article's sum) and reduces, for one sentence per article, disjoint sets, unit
weights and no small-sample factor, to ppi-python's ``ppi_mean_ci`` variance
(var(λf_U)/N + var(y − λf)_L/n). λ is *power-tuned*: the value in [0, 1] minimising this
estimated variance (the larger of two quadratics in λ, so in closed form), so the model-assisted interval is
never wider than the classical one computed from the same data (λ = 0 is a candidate). The
weights ``w`` are the inverse inclusion probabilities of the audit (a Hájek mean); with equal
probabilities, as in a uniform or proportionally stratified audit, they cancel.

The interval is normal: θ̂ ± z_{(1+level)/2} · √Var, clipped to [0, 1] (a share). The effective
sample size of the model-assisted estimate is n · Var_classical / Var_model-assisted: the
number of human labels the classical estimator would need for the same width.

References:
- A. N. Angelopoulos, S. Bates, C. Fannjiang, M. I. Jordan, T. Zrnic (2023), "Prediction-powered
  inference", Science 382(6671), 669–674.
- A. N. Angelopoulos, J. C. Duchi, T. Zrnic (2023), "PPI++: Efficient prediction-powered
  inference", arXiv:2311.01453 (power tuning).
- K.-Y. Liang, S. L. Zeger (1986), "Longitudinal data analysis using generalized linear
  models", Biometrika 73(1), 13–22 (cluster-robust variance).
- A. C. Cameron, D. L. Miller (2015), "A practitioner's guide to cluster-robust inference",
  Journal of Human Resources 50(2), 317–372.
- C.-E. Särndal, B. Swensson, J. Wretman (1992), Model Assisted Survey Sampling, Springer
  (the difference estimator; Hájek weights).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from annotate.errors import InputError

__all__ = ["Estimate", "MIN_AUDIT", "check_level", "estimate_share"]

#: Fewer audit labels than this (in a group) give no estimate: the normal interval would be a guess.
MIN_AUDIT = 10


@dataclass(frozen=True)
class Estimate:
    """One share, both ways. ``*_se`` are standard errors; ``lam`` the power-tuning λ;
    ``n_human`` audit labels, ``n_model`` population sentences with a prediction, ``n_articles``
    the articles of the population, ``effective_n`` the model-assisted estimate's effective
    number of human labels."""

    classical: float
    classical_low: float
    classical_high: float
    classical_se: float
    assisted: float
    assisted_low: float
    assisted_high: float
    assisted_se: float
    lam: float
    n_human: int
    n_model: int
    n_articles: int
    effective_n: float


@dataclass(frozen=True)
class _Quadratic:
    """An estimated variance as a function of λ: factor · Σ (λ a + b)² = p λ² + q λ + r."""

    p: float
    q: float
    r: float

    @classmethod
    def of(cls, a: np.ndarray, b: np.ndarray, factor: float) -> _Quadratic:
        return cls(factor * float(a @ a), 2 * factor * float(a @ b), factor * float(b @ b))

    def at(self, lam: float) -> float:
        return self.p * lam * lam + self.q * lam + self.r

    def vertex(self) -> float:
        return -self.q / (2 * self.p) if self.p > 0 else 0.0


def _tuned(first: _Quadratic, second: _Quadratic) -> float:
    """The λ in [0, 1] minimising max(first, second): among the ends, each one's own minimum and
    the points where they cross (both convex, so their maximum is too)."""
    candidates = [0.0, 1.0, first.vertex(), second.vertex()]
    p, q, r = first.p - second.p, first.q - second.q, first.r - second.r
    if abs(p) > 1e-300:
        disc = q * q - 4 * p * r
        if disc >= 0:
            candidates += [(-q + math.sqrt(disc)) / (2 * p), (-q - math.sqrt(disc)) / (2 * p)]
    elif abs(q) > 1e-300:
        candidates.append(-r / q)
    inside = [min(1.0, max(0.0, c)) for c in candidates if math.isfinite(c)]
    return min(inside, key=lambda lam: (max(first.at(lam), second.at(lam)), lam))


def check_level(level: object) -> float:
    """The confidence level as a float in (0, 1), or an InputError saying what is wrong."""
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.5 <= float(level) < 1:
        raise InputError(f"the confidence level must be a number in [0.5, 1), such as 0.95; got {level!r}")
    return float(level)


def _vector(values: Any, name: str, n: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if n is not None and len(array) != n:
        raise InputError(f"{name} has {len(array)} values, expected {n}")
    if not np.isfinite(array).all():
        raise InputError(f"{name} has missing or infinite values")
    return array


def _interval(estimate: float, se: float, z: float) -> tuple[float, float]:
    return max(0.0, estimate - z * se), min(1.0, estimate + z * se)


def estimate_share(
    predictions: Sequence[float] | np.ndarray,
    articles: Sequence[Any] | np.ndarray,
    audit_predictions: Sequence[float] | np.ndarray,
    audit_answers: Sequence[float] | np.ndarray,
    audit_articles: Sequence[Any] | np.ndarray,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
    level: float = 0.95,
    lam: float | None = None,
    small_sample: bool = True,
    conservative: bool = True,
) -> Estimate:
    """The share of a label in the population, classical and model-assisted (see the module).

    ``predictions`` (one per population sentence, in [0, 1]) and ``articles`` (their article
    ids) describe the population U. The audit is described by its sentences' predictions,
    human answers (0 or 1, or a share in [0, 1] when several annotators are averaged), article
    ids and ``weights`` (inverse inclusion probabilities, default equal). The audit sentences
    are normally part of U as well; shared article ids are what ties the two sets together in
    the variance. ``lam`` fixes λ instead of tuning it; ``small_sample=False`` drops the
    G/(G − 1) factor; ``conservative=False`` uses the cluster-robust variance even where it is
    smaller than the one for independent sentences. At least ``MIN_AUDIT`` audit answers and
    two articles are needed (InputError otherwise).
    """
    level = check_level(level)
    f = _vector(predictions, "predictions")
    N = len(f)
    if N == 0:
        raise InputError("the population is empty: no sentence has a prediction")
    groups = np.asarray(articles, dtype=object).reshape(-1)
    if len(groups) != N:
        raise InputError(f"articles has {len(groups)} values, expected {N} (one per prediction)")
    fa = _vector(audit_predictions, "audit predictions")
    n = len(fa)
    if n < MIN_AUDIT:
        raise InputError(
            f"{n} audit label{'s' if n != 1 else ''}: at least {MIN_AUDIT} are needed for an interval;"
            " label more of the audit sample (annotate status shows how many are left)"
        )
    y = _vector(audit_answers, "audit answers", n)
    audit_groups = np.asarray(audit_articles, dtype=object).reshape(-1)
    if len(audit_groups) != n:
        raise InputError(f"audit articles has {len(audit_groups)} values, expected {n}")
    for name, values in (("predictions", f), ("audit predictions", fa), ("audit answers", y)):
        if ((values < 0) | (values > 1)).any():
            raise InputError(f"{name} must be probabilities or shares in [0, 1]")
    w = np.ones(n) if weights is None else _vector(weights, "weights", n)
    if (w <= 0).any():
        raise InputError("weights must be positive (inverse inclusion probabilities)")
    if lam is not None and not (
        isinstance(lam, numbers.Real) and not isinstance(lam, bool) and 0 <= float(lam) <= 1
    ):
        raise InputError(f"lam must be in [0, 1] or None (tuned), got {lam!r}")

    codes, both = np.unique(np.concatenate([groups, audit_groups]).astype(str), return_inverse=True)
    cluster, audit_cluster = both[:N], both[N:]
    G = len(codes)
    if G < 2:
        raise InputError("the sentences come from one article: an interval needs at least two")
    share = w / w.sum()
    f_bar = float(f.mean())

    # ψ_c = λ·a_c + b_c, summed per article
    a = np.bincount(cluster, weights=(f - f_bar) / N, minlength=G)
    a -= np.bincount(audit_cluster, weights=share * (fa - share @ fa), minlength=G)
    b = np.bincount(audit_cluster, weights=share * (y - share @ y), minlength=G)
    G_audit = len(np.unique(audit_cluster))
    factor = G / (G - 1) if small_sample else 1.0
    factor_audit = G_audit / (G_audit - 1) if small_sample and G_audit > 1 else 1.0
    # the same influence, one sentence at a time (as if sentences were independent)
    a_one = np.concatenate([(f - f_bar) / N, -share * (fa - share @ fa)])
    b_one = np.concatenate([np.zeros(N), share * (y - share @ y)])
    clustered = _Quadratic.of(a, b, factor)
    separate = _Quadratic.of(a_one, b_one, 1.0) if conservative else _Quadratic(0.0, 0.0, 0.0)
    if lam is None:
        lam = _tuned(clustered, separate)
    lam = float(lam)
    var_classical = max(factor_audit * float(b @ b), separate.at(0.0))
    var_assisted = max(clustered.at(lam), separate.at(lam))

    classical = float(share @ y)
    assisted = lam * f_bar + float(share @ (y - lam * fa))
    z = NormalDist().inv_cdf((1 + level) / 2)
    se_c, se_a = math.sqrt(var_classical), math.sqrt(var_assisted)
    effective = float(n * var_classical / var_assisted) if var_assisted > 0 else float(n)
    classical_low, classical_high = _interval(classical, se_c, z)
    assisted_low, assisted_high = _interval(assisted, se_a, z)
    return Estimate(
        classical=classical,
        classical_low=classical_low,
        classical_high=classical_high,
        classical_se=se_c,
        assisted=min(1.0, max(0.0, assisted)),
        assisted_low=assisted_low,
        assisted_high=assisted_high,
        assisted_se=se_a,
        lam=lam,
        n_human=n,
        n_model=N,
        n_articles=G,
        effective_n=effective,
    )

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

This handles the overlap of the audit with the population (a sentence in both contributes both
terms to its article's sum) and reduces, for one sentence per article, disjoint sets, unit
weights and no small-sample factor, to ppi-python's ``ppi_mean_ci`` variance
(var(λf_U)/N + var(y − λf)_L/n). λ is *power-tuned*: the value in [0, 1] minimising this
estimated variance (a quadratic in λ, so in closed form), so the model-assisted interval is
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
) -> Estimate:
    """The share of a label in the population, classical and model-assisted (see the module).

    ``predictions`` (one per population sentence, in [0, 1]) and ``articles`` (their article
    ids) describe the population U. The audit is described by its sentences' predictions,
    human answers (0 or 1, or a share in [0, 1] when several annotators are averaged), article
    ids and ``weights`` (inverse inclusion probabilities, default equal). The audit sentences
    are normally part of U as well; shared article ids are what ties the two sets together in
    the variance. ``lam`` fixes λ instead of tuning it; ``small_sample=False`` drops the
    G/(G − 1) factor. At least ``MIN_AUDIT`` audit answers and two articles are needed
    (InputError otherwise).
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
    if lam is None:
        denominator = float(a @ a)
        lam = 0.0 if denominator <= 0 else float(np.clip(-(a @ b) / denominator, 0.0, 1.0))
    lam = float(lam)
    var_classical = factor_audit * float(b @ b)
    psi = lam * a + b
    var_assisted = factor * float(psi @ psi)

    classical = float(share @ y)
    assisted = lam * f_bar + float(share @ (y - lam * fa))
    z = NormalDist().inv_cdf((1 + level) / 2)
    se_c, se_a = math.sqrt(var_classical), math.sqrt(var_assisted)
    effective = float(n * var_classical / var_assisted) if var_assisted > 0 else float(n)
    return Estimate(
        classical=classical,
        classical_low=_interval(classical, se_c, z)[0],
        classical_high=_interval(classical, se_c, z)[1],
        classical_se=se_c,
        assisted=min(1.0, max(0.0, assisted)),
        assisted_low=_interval(assisted, se_a, z)[0],
        assisted_high=_interval(assisted, se_a, z)[1],
        assisted_se=se_a,
        lam=lam,
        n_human=n,
        n_model=N,
        n_articles=G,
        effective_n=effective,
    )

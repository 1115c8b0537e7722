"""The audit sample: a seeded, uniformly random share of the pushed sentences, for estimates.

Every sentence gets a key u ∈ [0, 1): the first 60 bits of SHA-256 over the project name,
``audit_seed`` and its sentence id, as a fraction. A sentence is in the audit when u < the
config's ``audit`` share: Poisson sampling (Särndal, Swensson & Wretman 1992, §3.5) with
inclusion probability exactly ``audit`` for every sentence, whatever the other sentences are.
So a sentence's membership never depends on which articles were pushed with it or in which
order: pushing more articles later extends the same sample, re-pushing changes nothing, and
any machine that has the config computes the same sample. The sample size is random
(binomial); its share, not its count, is fixed.

The key also orders the audit: push imports the audit sentences of a push before the others,
sorted by key, i.e. in a random order unrelated to their articles (see annotate.studio.push).

Stratified (config ``audit_by: outlet`` or ``country`` with ``audit_min``): a stratum whose
sentences in a push are too few for ``audit_min`` expected audit sentences at the ``audit``
share gets a higher one (``stratum_rates``), so small outlets are not left with a handful of
labels. Membership is still "key < the sentence's rate", so a sentence's inclusion
probability is its stratum's rate, recorded with it; estimates weight each audit sentence by
the inverse (Hájek). Strata are counted within the articles of one push.

Gold sentences are never in the audit (they are not part of the corpus).
"""

from __future__ import annotations

import hashlib
from typing import Any

from annotate.config import ProjectConfig

__all__ = ["audit_first", "audit_key", "audit_probability", "mark_audit", "stratum_rates"]

_BITS = 60


def audit_key(project: str, seed: int, sentence_id: str) -> float:
    """The sentence's uniform key in [0, 1) (see the module)."""
    digest = hashlib.sha256(f"annotate-audit\0{project}\0{seed}\0{sentence_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> (64 - _BITS)) / float(1 << _BITS)


def audit_probability(project: str, seed: int, share: float, sentence_id: str) -> float | None:
    """``share`` (the sentence's inclusion probability) when the sentence is in the audit, else None."""
    if share <= 0:
        return None
    return float(share) if audit_key(project, seed, sentence_id) < share else None


def stratum_rates(share: float, minimum: int, sizes: dict[str, int]) -> dict[str, float]:
    """Each stratum's inclusion probability: ``share``, raised where that would give fewer than
    ``minimum`` expected audit sentences (``minimum / size``, at most 1). ``sizes`` counts the
    sentences of each stratum."""
    if share <= 0:
        return {stratum: 0.0 for stratum in sizes}
    return {stratum: min(1.0, max(share, minimum / size if size else 0.0)) for stratum, size in sizes.items()}


def mark_audit(tasks: list[dict[str, Any]], config: ProjectConfig) -> int:
    """Put ``audit_probability`` in the ``meta`` of the audit's tasks (annotate.ingest.audit: the
    config's share, per ``audit_by`` stratum raised to give ``audit_min`` expected sentences);
    return how many. ``tasks`` are article tasks before sealing (no gold)."""

    def stratum(task: dict[str, Any]) -> str:
        if not config.audit_by:
            return ""
        data, meta = task.get("data") or {}, task.get("meta") or {}
        return str(data.get(config.audit_by) or meta.get(config.audit_by) or "")

    sizes: dict[str, int] = {}
    for task in tasks:
        sizes[stratum(task)] = sizes.get(stratum(task), 0) + 1
    rates = stratum_rates(config.audit, config.audit_min, sizes)
    marked = 0
    for task in tasks:
        rate = rates[stratum(task)]
        probability = audit_probability(
            config.name, config.audit_seed, rate, str(task["data"]["sentence_id"])
        )
        meta = task.setdefault("meta", {})
        meta.pop("audit_probability", None)
        if probability is not None:
            meta["audit_probability"] = probability
            marked += 1
    return marked


def audit_first(tasks: list[dict[str, Any]], config: ProjectConfig) -> list[dict[str, Any]]:
    """The audit tasks first, in the random order of their keys; then the others as they came."""
    audit = [t for t in tasks if (t.get("meta") or {}).get("audit_probability") is not None]
    keyed = sorted(
        audit, key=lambda t: audit_key(config.name, config.audit_seed, str(t["data"]["sentence_id"]))
    )
    return keyed + [t for t in tasks if (t.get("meta") or {}).get("audit_probability") is None]

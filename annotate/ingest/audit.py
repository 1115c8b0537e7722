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

Gold sentences are never in the audit (they are not part of the corpus).
"""

from __future__ import annotations

import hashlib

__all__ = ["audit_key", "audit_probability"]

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

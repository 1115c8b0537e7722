"""``annotate estimate``: the share of every label in the pushed corpus, overall and by group,
human-only and model-assisted, and the differences between groups.

In: the pull (sentences with ``audit_probability``, the final labels ``summarize`` reports) and
the config. Out: ``estimates.csv`` and ``estimate_differences.csv`` (``annotate.columns``).

The population is every pushed sentence that is neither gold nor superseded. The human answers
are the final labels of the audit sample (annotate.ingest.audit): a random sample, whatever
order the rest was labelled in; labels of other sentences, chosen by article order,
uncertainty or adjudication, are never used as if they were random.

The model must not have seen the audit's labels, and its predictions must be alike on the
audit and on the rest (cross-prediction, Zrnic & Candès 2024): for each field a
``SentenceClassifier`` is trained here on the labelled sentences *outside* the audit; those
training sentences get their out-of-fold probability (article-grouped folds,
``annotate.model.evaluate``), every other sentence the probability of the model fitted on all
of them. Each label's share is then ``annotate.inference.ppi.estimate_share`` (classical and
PPI++), per group when ``by`` names one: ``outlet``, ``country``, ``document`` (doc_id) or
``month`` (the first seven characters of ``published``, YYYY-MM).

With ``--corpus`` (``corpus_population``) the population is instead every sentence of
``annotate predict``'s file, with the predictions of a model trained without the audit's
labels (``annotate learn --hold-out-audit``); the audit sentences are found in it by id.

Differences: for every pair of groups and every field, label and method, the difference of
the two shares with a normal interval (the groups are disjoint sets of articles, so their
estimates are independent: variances add), a two-sided p-value, and Holm's step-down
adjustment over the pairs of one field, label and method (Holm 1979).

Each label's λ is tuned on its own, so a field's PPI++ shares need not sum exactly to 1 (they
do in expectation; the classical ones always do).

References: T. Zrnic, E. J. Candès (2024), "Cross-prediction-powered inference", PNAS 121(15);
S. Holm (1979), "A simple sequentially rejective multiple test procedure", Scand. J. Statist.
6(2), 65–70.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from annotate.columns import ESTIMATE_COLUMNS, ESTIMATE_DIFFERENCE_COLUMNS
from annotate.errors import InputError
from annotate.inference.ppi import MIN_AUDIT, Estimate, check_level, estimate_share
from annotate.model.card import ModelCard, train_field, training_table
from annotate.model.classifier import SentenceClassifier

__all__ = [
    "GROUPINGS",
    "METHODS",
    "check_audit",
    "check_grouping",
    "corpus_population",
    "cross_predictions",
    "differences",
    "estimate_table",
    "holm",
]

GROUPINGS = ("outlet", "country", "document", "month")
#: ``method`` values: the model-assisted estimate and the human-only one.
METHODS = ("PPI++", "classical")


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (monotone, capped at 1), in the input's order."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def check_grouping(by: str | None) -> None:
    """InputError unless ``by`` is None or one of ``GROUPINGS``."""
    if by is not None and by not in GROUPINGS:
        raise InputError(f"--by must be one of {', '.join(GROUPINGS)}, got {by!r}")


def check_audit(sentences: pd.DataFrame) -> None:
    """InputError unless some sentence of ``sentences`` is in the audit sample."""
    if "audit_probability" not in sentences or sentences["audit_probability"].isna().all():
        raise InputError(
            "no audit sample in the pull: push with --audit SHARE (or the config's audit:), label the "
            "audit sentences (served first), pull, then estimate"
        )


def _groups(sentences: pd.DataFrame, by: str | None) -> pd.Series:
    check_grouping(by)
    if by is None:
        return pd.Series("all", index=sentences.index, dtype="string")
    if by == "document":
        values = sentences["doc_id"].astype("string")
    elif by == "month":
        values = sentences["published"].astype("string").str.slice(0, 7)
    else:
        values = sentences[by].astype("string")
    values = values.where(values.notna() & (values.str.strip() != ""), None)
    if values.isna().all():
        raise InputError(f"no sentence has a value for {by}: the articles were pushed without it")
    return values.fillna("(none)")


def cross_predictions(
    sentences: pd.DataFrame, labels: pd.DataFrame, fields: Sequence[str], seed: int, model: str = "tfidf"
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Per trainable field: (labels in column order, probabilities of every row of ``sentences``)
    from a model trained on the labelled sentences outside the audit (see the module)."""
    audit = set(sentences.loc[sentences["audit_probability"].notna(), "sentence_id"].astype(str))
    outside = labels[~labels["sentence_id"].astype(str).isin(audit)]
    table = training_table(sentences, outside)
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    texts = sentences["text"].astype(str).tolist()
    for name in fields:
        rows = table[table["field"] == name]
        if rows.empty:
            continue
        fit = train_field(rows, seed, estimator=SentenceClassifier(features=model))
        if fit.model is None or fit.report is None or fit.data is None:
            continue
        classes = [str(c) for c in fit.model.classes_]
        proba = fit.model.predict_proba(texts)
        position = pd.Series(range(len(sentences)), index=sentences["sentence_id"].astype(str))
        at = position.reindex(fit.data["sentence_id"].astype(str)).to_numpy()
        keep = ~np.isnan(at.astype(float))
        oof = fit.report.oof_proba[:, [fit.report.classes.index(c) for c in classes]]
        proba[at[keep].astype(int)] = oof[keep]
        out[name] = (classes, proba)
    return out


def corpus_population(
    predictions_path: Path,
    pulled: pd.DataFrame,
    card: ModelCard,
    fields: Sequence[str],
) -> tuple[pd.DataFrame, dict[str, tuple[list[str], np.ndarray]], int]:
    """The population of ``annotate estimate --corpus``: the rows of ``annotate predict``'s file,
    with the pull's ``audit_probability`` put on the sentences of the audit (matched by
    sentence id), and their probabilities per field. Also how many audit sentences the corpus
    lacks.

    The predictions must come from the model whose ``card`` is given (same ``model_version``),
    trained with ``annotate learn --hold-out-audit``: a model that saw the audit's labels would
    look better on the audit than elsewhere. Its predictions of the audit sentences are then
    out-of-sample, and the same function as on every other sentence. The audit must be a
    random sample of the corpus: the pushed articles a random sample of it (or the corpus
    itself). InputError otherwise, or when the corpus holds none of the audit.
    """
    try:
        schema = pq.read_schema(predictions_path)
    except (OSError, ValueError, pa.ArrowInvalid) as exc:
        raise InputError(f"{predictions_path}: not a predictions file of annotate predict ({exc})") from None
    names = set(schema.names)
    needed = {"sentence_id", "doc_id", "model_version"}
    if not needed <= names:
        raise InputError(
            f"{predictions_path}: not a predictions file of annotate predict (no {sorted(needed - names)})"
        )
    versions = pq.read_table(predictions_path, columns=["model_version"]).column(0).unique().to_pylist()
    if versions != [card.model_version]:
        raise InputError(
            f"{predictions_path} holds predictions of {', '.join(map(str, versions)) or 'no model'}, "
            f"the model folder {card.model_version}: run annotate predict again"
        )
    if not card.parameters.get("held_out_audit"):
        raise InputError(
            f"model {card.model_version} was trained on the audit's labels too: run annotate learn "
            "--hold-out-audit, then annotate predict, then annotate estimate --corpus"
        )
    probability = [c for c in schema.names if ":" in c and c.split(":", 1)[0] in fields]
    meta = [c for c in ("sentence_id", "doc_id", "outlet", "country", "published") if c in names]
    table = pd.read_parquet(predictions_path, columns=meta + probability)
    for column in ("outlet", "country", "published"):
        if column not in table:
            table[column] = None
    marked = pulled.loc[pulled["audit_probability"].notna(), ["sentence_id", "audit_probability"]]
    audit: pd.Series = (
        marked.assign(sentence_id=marked["sentence_id"].astype(str))
        .drop_duplicates("sentence_id")
        .set_index("sentence_id")["audit_probability"]
    )
    table["sentence_id"] = table["sentence_id"].astype(str)
    table["audit_probability"] = table["sentence_id"].map(audit).astype("float64")
    found = int(table["audit_probability"].notna().sum())
    if found == 0:
        raise InputError(
            f"{predictions_path} holds none of the audit's sentences: the audit must be a random sample of "
            "the corpus (push a random sample of its articles, or the corpus itself)"
        )
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for name in fields:
        columns = [c for c in probability if c.split(":", 1)[0] == name]
        if columns:
            out[name] = ([c.split(":", 1)[1] for c in columns], table[columns].to_numpy(dtype=float))
    table = table.drop(columns=probability)
    return table, out, int(len(audit) - found)


def _row(field: str, label: str, by: str, group: str, method: str, e: Estimate, level: float) -> dict:
    assisted = method == "PPI++"
    return {
        "field": field,
        "label": label,
        "by": by,
        "group": group,
        "method": method,
        "estimate": e.assisted if assisted else e.classical,
        "ci_low": e.assisted_low if assisted else e.classical_low,
        "ci_high": e.assisted_high if assisted else e.classical_high,
        "se": e.assisted_se if assisted else e.classical_se,
        "level": level,
        "n_human": e.n_human,
        "n_model": e.n_model if assisted else 0,
        "n_articles": e.n_articles,
        "effective_n": e.effective_n if assisted else float(e.n_human),
        "lam": e.lam if assisted else 0.0,
    }


def estimate_table(
    sentences: pd.DataFrame,
    labels: pd.DataFrame,
    predictions: dict[str, tuple[list[str], np.ndarray]],
    by: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """``estimates.csv``: every field of ``predictions`` × label × group × method (see the module).

    ``sentences`` is the population (rows aligned with the predictions); ``labels`` the final
    labels (``sentence_id, field, label``). InputError when there is no audit, or a group has
    fewer than ``MIN_AUDIT`` labelled audit sentences.
    """
    level = check_level(level)
    check_audit(sentences)
    if not predictions:
        raise InputError("no field could be trained outside the audit sample: label more, pull, try again")
    groups = _groups(sentences, by)
    articles = sentences["doc_id"].astype(str).to_numpy()
    sid = sentences["sentence_id"].astype(str)
    in_audit = sentences["audit_probability"].notna().to_numpy()
    weights_all = 1.0 / sentences["audit_probability"].to_numpy(dtype=float)
    rows = []
    for field, (classes, proba) in predictions.items():
        final = labels[(labels["field"] == field) & labels["label"].notna()]
        answer = sid.map(final.drop_duplicates("sentence_id").set_index("sentence_id")["label"].astype(str))
        answered = in_audit & answer.notna().to_numpy()
        for group in sorted(groups.unique()):
            member = (groups == group).to_numpy()
            audit_rows = member & answered
            if audit_rows.sum() < MIN_AUDIT:
                where = "the corpus" if by is None else f"{by} '{group}'"
                raise InputError(
                    f"{field}: {where} has {int(audit_rows.sum())} labelled audit sentence(s), at least "
                    f"{MIN_AUDIT} are needed; label more of the audit sample"
                    + ("" if by is None else " or group more coarsely")
                )
            for k, label in enumerate(classes):
                y = (answer[audit_rows] == label).to_numpy(dtype=float)
                e = estimate_share(
                    proba[member, k],
                    articles[member],
                    proba[audit_rows, k],
                    y,
                    articles[audit_rows],
                    weights=weights_all[audit_rows],
                    level=level,
                )
                for method in METHODS:
                    rows.append(_row(field, label, by or "all", str(group), method, e, level))
    return pd.DataFrame.from_records(rows, columns=ESTIMATE_COLUMNS)


def differences(estimates: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """``estimate_differences.csv``: every pair of groups per field, label and method (see the module)."""
    z = NormalDist().inv_cdf((1 + check_level(level)) / 2)
    rows = []
    for (field, label, method), part in estimates.groupby(["field", "label", "method"], sort=False):
        pairs = list(itertools.combinations(part.to_dict("records"), 2))
        found = []
        for a, b in pairs:
            diff = a["estimate"] - b["estimate"]
            se = math.hypot(a["se"], b["se"])
            p = 2 * (1 - NormalDist().cdf(abs(diff) / se)) if se > 0 else (0.0 if diff else 1.0)
            found.append(
                {
                    "field": field,
                    "label": label,
                    "method": method,
                    "group_a": a["group"],
                    "group_b": b["group"],
                    "difference": diff,
                    "ci_low": diff - z * se,
                    "ci_high": diff + z * se,
                    "p_value": p,
                }
            )
        adjusted = holm([r["p_value"] for r in found]) if found else np.zeros(0)
        for r, q in zip(found, adjusted, strict=True):
            rows.append({**r, "p_holm": float(q), "significant": bool(q < 1 - level)})
    return pd.DataFrame.from_records(rows, columns=ESTIMATE_DIFFERENCE_COLUMNS)

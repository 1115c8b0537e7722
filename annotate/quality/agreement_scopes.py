"""Krippendorff's alpha per label (one against the rest) and per article, with the field rows' interval.

In: the choice answers that count (``ANSWER_COLUMNS``, one row per sentence × choice field ×
annotator: ``CountedAnswers.analysis_answers`` or ``agreement.choice_answers``), ``choice_fields``
(field -> labels in config order) and, per article, each field's level of measurement.
Out: ``label_agreement`` (``LABEL_AGREEMENT_COLUMNS``, ``agreement_by_label.csv``) and
``article_agreement`` (``ARTICLE_AGREEMENT_COLUMNS``, ``agreement_by_article.csv``), or both from
one pass over the answers with ``scoped_agreement``.

Both use the machinery of ``agreement.field_agreement`` (Krippendorff 2011, "Computing
Krippendorff's Alpha-Reliability", sections B and C): each sentence's answers give its part of
the coincidence matrix (``coincidences``), alpha is ``1 - (n - 1) * sum o_ck delta_ck / sum
n_c n_k delta_ck`` of the summed matrix (``alpha_from_coincidences``), and the 95% interval is
the percentile interval of alpha over ``n_boot`` seeded bootstrap samples of the sentences
(``bootstrap_coincidences``, ``percentile_intervals``). The tests check the point estimates
against the ``krippendorff`` package.

*One label against the rest.* Every answer is recoded as 1 (the label) or 0 (any other label)
and nominal alpha is computed on the two values: do the annotators agree on which sentences
get this label? The label they confuse with others gets the lowest alpha. The recoded matrix
is a sum of entries of the field's (``_one_vs_rest``: ``o'_11 = o_jj``, ``o'_10 = n_j - o_jj``,
``o'_00 = n - 2 n_j + o_jj``), so each label's replicates are those of the field row itself:
the same ``bootstrap_coincidences`` call, the same resampled sentences, recoded. With two values
every level of measurement gives the same alpha.

*Per article.* Alpha over the article's own sentences at the field's level. An article with
fewer than ``MIN_UNITS`` sentences with two or more answers (pairable units) gets no alpha
(NaN), and ``note`` says so; so does one whose pairable answers are all one label (alpha is
0/0). Each replicate resamples every article's pairable sentences on its own, as many as it
has, as the field row resamples the field's (``bootstrap_coincidences`` with ``strata``, all
articles at once, a block of them per random stream). Two shortcuts keep this fast, neither
changing what is drawn: the fields of an article with the same pairable sentences share one
draw of them (``_article_intervals``), and for a fixed metric (nominal, interval, ratio) only
the V + 1 sums alpha reads are resampled, not the V × V matrix (``_unit_sums``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from annotate.columns import ARTICLE_AGREEMENT_COLUMNS, LABEL_AGREEMENT_COLUMNS
from annotate.errors import ExportError
from annotate.quality.agreement import (
    ANSWER_COLUMNS,
    Level,
    _squared_distances,
    alpha_from_coincidences,
    bootstrap_coincidences,
    check_bootstrap,
    check_choice_fields,
    check_levels,
    coincidences,
    percentile_intervals,
)

__all__ = [
    "ARTICLE_AGREEMENT_COLUMNS",
    "LABEL_AGREEMENT_COLUMNS",
    "MIN_UNITS",
    "NOTE_FEW_UNITS",
    "NOTE_LABEL_ABSENT",
    "NOTE_LABEL_ONLY",
    "NOTE_NO_VARIATION",
    "article_agreement",
    "label_agreement",
    "scoped_agreement",
]

#: Pairable units (sentences with two or more answers) an alpha needs here.
MIN_UNITS = 2
NOTE_FEW_UNITS = "fewer than 2 sentences with two or more answers"
NOTE_NO_VARIATION = "no variation: every answer in those sentences is the same label"
NOTE_LABEL_ABSENT = "no variation: no answer in those sentences gives this label"
NOTE_LABEL_ONLY = "no variation: every answer in those sentences gives this label"
# bootstrap sums held at once (replicates × articles × sums): a block of articles at a time
_BLOCK_CELLS = 1 << 20


@dataclass(frozen=True)
class _Units:
    """One field's pairable units: answer counts (units × labels), each unit's sentence (a code
    shared by every field) and article (an index into the sorted ``doc_id`` list of every field),
    and ``present``, the articles with an answer to the field (pairable or not), sorted."""

    counts: np.ndarray
    sentence: np.ndarray
    article: np.ndarray
    present: np.ndarray


def _check_answers(answers: object) -> pd.DataFrame:
    fix = "pass CountedAnswers.analysis_answers or agreement.choice_answers(annotations, choice_fields)"
    if not isinstance(answers, pd.DataFrame):
        raise ExportError(f"answers must be a pandas DataFrame, got {type(answers).__name__}; {fix}")
    missing = [column for column in ANSWER_COLUMNS if column not in answers.columns]
    if missing:
        raise ExportError(f"answers are missing column(s) {', '.join(missing)}; {fix}")
    return answers


def _field_units(
    answers: pd.DataFrame, choice_fields: Mapping[str, Sequence[str]]
) -> tuple[list[str], dict[str, _Units]]:
    """The articles (sorted ``doc_id``) and every field's units; the answers factorised once."""
    unit_all, _ = pd.factorize(answers["sentence_id"])
    doc_codes, doc_names = pd.factorize(answers["doc_id"].astype("string").fillna(""))
    names = [str(name) for name in doc_names]
    order = np.argsort(np.array(names, dtype=str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    doc_all = rank[doc_codes]
    label_all, label_names = pd.factorize(answers["label"].astype("string"))
    field_all = pd.Index(list(choice_fields)).get_indexer(pd.Index(answers["field"]))  # -1: another field
    out = {}
    for index, (field, labels) in enumerate(choice_fields.items()):
        mine = field_all == index
        position = {label: k for k, label in enumerate(labels)}
        label = np.array([position.get(str(name), -1) for name in label_names], dtype=np.int64)[
            label_all[mine]
        ]
        if (label < 0).any():
            raise ExportError(
                f"answers to {field!r} use label(s) missing from the config; derive them with "
                "agreement.choice_answers, which checks the labels"
            )
        units, unit = np.unique(unit_all[mine], return_inverse=True)
        width = len(labels)
        counts = np.bincount(unit * width + label, minlength=len(units) * width).reshape(len(units), width)
        doc = np.zeros(len(units), dtype=np.int64)
        doc[unit] = doc_all[mine]
        pairable = counts.sum(axis=1) >= 2
        out[field] = _Units(counts[pairable], units[pairable], doc[pairable], np.unique(doc))
    return [names[i] for i in order], out


# -- one label against the rest ---------------------------------------------------------------------


def _one_vs_rest(matrices: np.ndarray) -> np.ndarray:
    """... × V × V coincidence matrices -> ... × V × 2 × 2: for each label j, the matrix of the
    values recoded as 1 (j) or 0 (another label)."""
    diagonal = np.diagonal(matrices, axis1=-2, axis2=-1)
    marginal = matrices.sum(axis=-1)
    total = marginal.sum(axis=-1, keepdims=True)
    out = np.empty((*marginal.shape, 2, 2))
    out[..., 1, 1] = diagonal
    out[..., 0, 1] = out[..., 1, 0] = marginal - diagonal
    out[..., 0, 0] = total - 2 * marginal + diagonal
    return out


def _label_rows(
    field: str, labels: Sequence[str], units: _Units, n_boot: int, seed: int
) -> list[dict[str, Any]]:
    counts = units.counts
    parts = coincidences(counts)
    alpha = alpha_from_coincidences(_one_vs_rest(parts.sum(axis=0)))
    given = counts.sum(axis=0)
    bounds = np.full((2, len(labels)), np.nan)
    few = len(counts) < MIN_UNITS
    if not few and n_boot and np.isfinite(alpha).any():
        replicates = bootstrap_coincidences(parts, n_boot, seed)  # the field row's very replicates
        bounds = percentile_intervals(alpha_from_coincidences(_one_vs_rest(replicates)))
    rows = []
    for k, label in enumerate(labels):
        defined = np.isfinite(alpha[k]) and not few
        note = NOTE_FEW_UNITS if few else NOTE_LABEL_ABSENT if given[k] == 0 else NOTE_LABEL_ONLY
        rows.append(
            {
                "field": field,
                "label": label,
                "krippendorff_alpha": alpha[k] if defined else np.nan,
                "alpha_ci_low": bounds[0, k] if defined else np.nan,
                "alpha_ci_high": bounds[1, k] if defined else np.nan,
                "units": len(counts),
                "pairable_values": int(counts.sum()),
                "label_values": int(given[k]),
                "note": None if defined else note,
            }
        )
    return rows


def label_agreement(
    answers: pd.DataFrame,
    choice_fields: Mapping[str, Sequence[str]],
    n_boot: int = 1000,
    seed: int = 12345,
) -> pd.DataFrame:
    """Alpha of every label of every choice field, one label against the rest.

    In: ``answers`` (``ANSWER_COLUMNS``, the answers that count), ``choice_fields`` (field ->
    labels, config order), ``n_boot`` bootstrap replicates (0: no interval) and ``seed``.
    Out: ``LABEL_AGREEMENT_COLUMNS``, one row per field × label in config order:
    ``krippendorff_alpha``, nominal alpha of the answers recoded as this label (1) or another
    (0); ``alpha_ci_low, alpha_ci_high``, its 95% percentile interval over the ``n_boot``
    samples of the field's sentences that ``field_agreement`` draws with the same ``seed``;
    ``units`` sentences with two or more answers, ``pairable_values`` their answers,
    ``label_values`` those giving the label; ``note``, why alpha is NaN when it is
    (``NOTE_FEW_UNITS`` below ``MIN_UNITS`` units, ``NOTE_LABEL_ABSENT``, ``NOTE_LABEL_ONLY``),
    else missing.
    """
    return scoped_agreement(answers, choice_fields, n_boot=n_boot, seed=seed, articles=False)[0]


# -- per article ------------------------------------------------------------------------------------


def _delta(level: Level, width: int) -> np.ndarray:
    """The fixed metric of a nominal, interval or ratio alpha (V × V)."""
    return _squared_distances(level, np.arange(width, dtype=float), np.zeros(width))


def _unit_sums(counts: np.ndarray, level: Level) -> np.ndarray:
    """What a replicate's alpha needs from each unit, units × F: for a fixed metric its answer
    counts (the marginals ``n_c`` of its part) and ``sum o_ck delta_ck`` of its part; ordinal,
    whose metric depends on the replicate's marginals, the part itself. Linear in the part, so
    a replicate's sums are these of its coincidence matrix."""
    parts = coincidences(counts)
    if level == "ordinal":
        return parts.reshape(len(parts), -1)
    observed = (parts * _delta(level, counts.shape[1])).sum(axis=(-2, -1))
    return np.column_stack([counts, observed])


def _alpha_of_sums(sums: np.ndarray, level: Level, width: int) -> np.ndarray:
    """Alpha from ``_unit_sums`` added up (... × F): ``alpha_from_coincidences`` for ordinal; for a
    fixed metric its formula on the marginals and ``sum o_ck delta_ck`` it reads."""
    if level == "ordinal":
        return alpha_from_coincidences(sums.reshape(*sums.shape[:-1], width, width), level)
    marginals, observed = np.ascontiguousarray(sums[..., :width]), sums[..., width]
    n = marginals.sum(axis=-1)
    expected = ((marginals @ _delta(level, width)) * marginals).sum(axis=-1)
    alpha = np.full(np.shape(n), np.nan)
    np.divide((n - 1) * observed, expected, out=alpha, where=expected > 0)
    return np.where(expected > 0, 1 - alpha, np.nan)


@dataclass(frozen=True)
class _Columns:
    """Where one field's sums sit among the resampled columns, and which articles need them."""

    field: str
    level: Level
    width: int
    columns: slice
    defined: np.ndarray


def _resample(
    sums: np.ndarray,
    article: np.ndarray,
    fields: list[_Columns],
    bounds: dict[str, np.ndarray],
    n_boot: int,
    stream: tuple[int, ...],
) -> None:
    """Fill ``bounds[field]`` (2 × articles) with the 95% intervals of the articles of ``article``:
    each replicate resamples every article's units (rows of ``sums``) on its own, a block of
    articles per random stream ``(*stream, block)``."""
    order = np.argsort(article, kind="stable")
    sums, article = sums[order], article[order]
    chosen, local = np.unique(article, return_inverse=True)
    edges = np.searchsorted(local, np.arange(len(chosen) + 1))
    alphas = {f.field: np.full((n_boot, len(chosen)), np.nan) for f in fields}
    block = max(1, _BLOCK_CELLS // (n_boot * max(1, sums.shape[1])))
    for number, first in enumerate(range(0, len(chosen), block)):
        last = min(len(chosen), first + block)
        span = slice(edges[first], edges[last])
        replicates = bootstrap_coincidences(
            sums[span], n_boot, (*stream, number), local[span] - first, last - first
        )
        for f in fields:
            alphas[f.field][:, first:last] = _alpha_of_sums(replicates[..., f.columns], f.level, f.width)
    for f in fields:
        need = f.defined[chosen]
        bounds[f.field][:, chosen[need]] = percentile_intervals(alphas[f.field][:, need])


def _article_intervals(
    units: dict[str, _Units], alphas: dict[str, np.ndarray], levels: dict[str, Level], n_boot: int, seed: int
) -> dict[str, np.ndarray]:
    """Each field's 95% intervals (2 × articles) where its article alpha is defined, else NaN.

    Every field resamples an article's pairable sentences. Where all the fields with an alpha
    in an article have the same pairable sentences (every annotator answered every field), one
    draw of them serves all those fields: each field still gets exactly its own resampling, and
    the draws, the costly part, are made once (stream ``(seed, 0, block)``). Field k resamples
    the other articles alone (stream ``(seed, k + 1, block)``).
    """
    fields = list(units)
    n_articles = len(next(iter(alphas.values()), []))
    bounds = {field: np.full((2, n_articles), np.nan) for field in fields}
    if n_boot == 0 or not fields:
        return bounds
    defined = np.array([np.isfinite(alphas[field]) for field in fields])
    kept = [defined[k][units[field].article] for k, field in enumerate(fields)]
    sentence = np.concatenate([units[field].sentence[kept[k]] for k, field in enumerate(fields)])
    article = np.concatenate([units[field].article[kept[k]] for k, field in enumerate(fields)])
    sums = {field: _unit_sums(units[field].counts, levels[field]) for field in fields}
    # an article is shared when each of its kept sentences is kept in every field defined there
    seen = np.bincount(sentence) if len(sentence) else np.zeros(0, dtype=np.int64)
    odd = seen[sentence] != defined.sum(axis=0)[article]
    shared = defined.any(axis=0) & (np.bincount(article, odd, minlength=n_articles) == 0)
    rows, row_article = np.unique(sentence[shared[article]], return_index=True)
    widths = [sums[field].shape[1] for field in fields]
    joint = np.zeros((len(rows), sum(widths)))
    layout = []
    for k, field in enumerate(fields):
        columns = slice(sum(widths[:k]), sum(widths[: k + 1]))
        width = units[field].counts.shape[1]
        layout.append(_Columns(field, levels[field], width, columns, defined[k] & shared))
        mine = kept[k] & shared[units[field].article]
        joint[np.searchsorted(rows, units[field].sentence[mine]), columns] = sums[field][mine]
    _resample(joint, article[shared[article]][row_article], layout, bounds, n_boot, (seed, 0))
    for k, field in enumerate(fields):
        alone = kept[k] & ~shared[units[field].article]
        if alone.any():
            own = _Columns(field, levels[field], layout[k].width, slice(None), defined[k] & ~shared)
            _resample(sums[field][alone], units[field].article[alone], [own], bounds, n_boot, (seed, k + 1))
    return bounds


def _article_table(
    articles: list[str], units: dict[str, _Units], levels: dict[str, Level], n_boot: int, seed: int
) -> pd.DataFrame:
    """``ARTICLE_AGREEMENT_COLUMNS`` for every article × field with an answer."""
    n_articles = len(articles)
    alphas, figures = {}, {}
    for field, u in units.items():
        values = u.counts.sum(axis=1)
        alpha = alpha_from_coincidences(coincidences(u.counts, u.article, n_articles), levels[field])
        n_units = np.bincount(u.article, minlength=n_articles)
        agreeing = (u.counts * (u.counts - 1)).sum(axis=1) / (values * (values - 1))
        percent = np.full(n_articles, np.nan)
        np.divide(np.bincount(u.article, agreeing, n_articles), n_units, out=percent, where=n_units > 0)
        alpha[n_units < MIN_UNITS] = np.nan
        alphas[field] = alpha
        figures[field] = (n_units, percent, np.bincount(u.article, values, n_articles).astype(np.int64))
    bounds = _article_intervals(units, alphas, levels, n_boot, seed)
    frames = [pd.DataFrame(columns=ARTICLE_AGREEMENT_COLUMNS)]
    for field, u in units.items():
        at = u.present
        n_units, percent, values = (figure[at] for figure in figures[field])
        alpha = alphas[field][at]
        note = pd.Series(np.where(n_units < MIN_UNITS, NOTE_FEW_UNITS, NOTE_NO_VARIATION), dtype="string")
        frames.append(
            pd.DataFrame(
                {
                    "doc_id": [articles[i] for i in at],
                    "field": field,
                    "level": levels[field],
                    "krippendorff_alpha": alpha,
                    "alpha_ci_low": bounds[field][0, at],
                    "alpha_ci_high": bounds[field][1, at],
                    "percent_agreement": percent,
                    "units": n_units,
                    "pairable_values": values,
                    "note": note.where(np.isnan(alpha)),
                },
                columns=ARTICLE_AGREEMENT_COLUMNS,
            )
        )
    # the frames come in field order, which a stable sort by article keeps
    table = pd.concat([f for f in frames if len(f)] or frames, ignore_index=True)
    return table.sort_values("doc_id", kind="stable").reset_index(drop=True)


def article_agreement(
    answers: pd.DataFrame,
    choice_fields: Mapping[str, Sequence[str]],
    levels: Mapping[str, str] | None = None,
    n_boot: int = 1000,
    seed: int = 12345,
) -> pd.DataFrame:
    """Alpha of every choice field within every article.

    In: ``answers`` (``ANSWER_COLUMNS``), ``choice_fields`` (field -> labels, config order),
    ``levels`` (field -> level of alpha, default nominal; ``ProjectConfig.levels()``),
    ``n_boot`` bootstrap replicates (0: no interval) and ``seed``.
    Out: ``ARTICLE_AGREEMENT_COLUMNS``, one row per article × field with an answer, sorted by
    ``doc_id``, then field in config order: ``krippendorff_alpha`` over the article's sentences
    (labels coded as their index, as in ``field_agreement``); ``alpha_ci_low, alpha_ci_high``,
    the 95% percentile interval over ``n_boot`` samples of the article's sentences drawn with
    replacement (the same seed, the same interval); ``percent_agreement`` as in
    ``field_agreement``; ``units`` the article's sentences with two or more answers,
    ``pairable_values`` their answers; ``note``, why alpha is NaN when it is
    (``NOTE_FEW_UNITS`` below ``MIN_UNITS`` units, ``NOTE_NO_VARIATION``), else missing.
    """
    return scoped_agreement(answers, choice_fields, levels, n_boot, seed, labels=False)[1]


def scoped_agreement(
    answers: pd.DataFrame,
    choice_fields: Mapping[str, Sequence[str]],
    levels: Mapping[str, str] | None = None,
    n_boot: int = 1000,
    seed: int = 12345,
    labels: bool = True,
    articles: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(label_agreement, article_agreement)`` from one pass over ``answers`` (arguments as
    there); a table not asked for (``labels`` or ``articles`` False) comes back empty."""
    answers = _check_answers(answers)
    check_choice_fields(choice_fields)
    field_levels = check_levels(levels, list(choice_fields))
    check_bootstrap(n_boot, seed)
    article_ids, units = _field_units(answers, choice_fields)
    rows = [
        row
        for field, field_labels in choice_fields.items()
        for row in (_label_rows(field, field_labels, units[field], n_boot, seed) if labels else [])
    ]
    by_label = pd.DataFrame(rows, columns=LABEL_AGREEMENT_COLUMNS)
    if articles:
        by_article = _article_table(article_ids, units, field_levels, n_boot, seed)
    else:
        by_article = pd.DataFrame(columns=ARTICLE_AGREEMENT_COLUMNS)
    ints = dict.fromkeys(("units", "pairable_values", "label_values"), "int64")
    floats = dict.fromkeys(
        ("krippendorff_alpha", "alpha_ci_low", "alpha_ci_high", "percent_agreement"), "float64"
    )
    types = ints | floats | dict.fromkeys(("doc_id", "field", "label", "level", "note"), "string")
    return (
        by_label.astype({c: t for c, t in types.items() if c in by_label}),
        by_article.astype({c: t for c, t in types.items() if c in by_article}),
    )

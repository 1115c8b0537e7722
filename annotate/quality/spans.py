"""Agreement on bias-cue spans: token-level Krippendorff's alpha and pairwise span F1.

In: the tidy annotations table made by ``annotate.studio.pull`` (``cues`` rows carry a cue label and
``start``/``end``, character offsets into the sentence text, end exclusive), the sentences
table (``sentence_id, text, ...``) and the config's cue labels.
Out: ``tokenize`` (token character spans), ``token_labels`` (every annotator's label of every
token) and ``cue_agreement`` (rows ``cues`` and ``cues:<label>`` for ``agreement.csv``).

Which annotations count is decided as for the choice fields (``agreement.counted_annotations``):
each annotator's latest non-cancelled annotation of a sentence, spans or not, so an annotator
who marked nothing says "none" for every token. Sentences missing from the sentences table
cannot be tokenized and are left out; so are cue rows without offsets, with a negative start or
with ``end <= start``.

Token labels. A span covers a token when it covers at least half of the token's characters
(``2 * overlap >= token length``), so a selection that stops one letter short of a word, or
runs one letter into the next, still means the word it was meant for. When several spans of
one annotator cover a token, the span that starts first gives the label (then the longer
one, then the cue listed first in the config); other tokens are ``"none"``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from annotate.columns import AGREEMENT_COLUMNS, SPAN_F1_COLUMNS
from annotate.errors import ExportError, InputError
from annotate.quality.agreement import (
    agreement_row,
    agreement_table,
    alpha_from_coincidences,
    bootstrap_coincidences,
    check_annotations,
    check_bootstrap,
    coincidences,
    counted_annotations,
)

__all__ = [
    "CUE_COLUMNS",
    "NONE",
    "TOKEN_COLUMNS",
    "cue_agreement",
    "span_f1",
    "token_labels",
    "tokenize",
]

NONE = "none"
TOKEN_COLUMNS = ["sentence_id", "token", "start", "end", "annotator", "label"]
CUE_COLUMNS = [*AGREEMENT_COLUMNS, *SPAN_F1_COLUMNS]
CUES_FIELD = "cues"

# Han ideographs (with extensions and compatibility forms), hiragana and katakana: one token
# per character, as these scripts do not separate words with spaces.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_LETTER = rf"[^\W_{_CJK}][\u0300-\u036f]*"  # a letter or digit, with combining accents
_TOKEN = re.compile(rf"[{_CJK}]|\d+(?:[.,]\d+)+|(?:{_LETTER})+(?:['’](?:{_LETTER})+)*|\S")
_REQUIRED = (
    "sentence_id",
    "doc_id",
    "annotation_id",
    "annotator",
    "field",
    "label",
    "start",
    "end",
    "updated_at",
    "cancelled",
)


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token character spans ``(start, end)`` (end exclusive) of ``text``, in order.

    A token is a CJK ideograph or kana (one character each), a number with decimal or
    thousands separators (``3.5``, ``1,000``), a word (letters and digits, with inner
    apostrophes: ``China's``), or any other single non-space character (punctuation,
    symbols). Spaces belong to no token.

    >>> text = "China’s AI, 3.5% up."
    >>> [text[a:b] for a, b in tokenize(text)]
    ['China’s', 'AI', ',', '3.5', '%', 'up', '.']
    >>> tokenize("中美合作。")
    [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    """
    if not isinstance(text, str):
        raise InputError(f"tokenize needs text, got {type(text).__name__}")
    return [match.span() for match in _TOKEN.finditer(text)]


# -- the token grid ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    """Every counted annotation × token of its sentence, with the annotator's label code.

    Sentences (``S``), tokens (``T``, grouped by sentence, in text order) and raters (``R``:
    counted sentence × annotator, sorted) are numbered from 0; label 0 is ``"none"``, ``i``
    the ``i``-th cue.
    """

    sentence_ids: np.ndarray  # S sentence ids
    token_sentence: np.ndarray  # T sentence of each token
    token_start: np.ndarray  # T
    token_end: np.ndarray  # T
    token_first: np.ndarray  # S + 1: tokens of sentence s are token_first[s] .. token_first[s+1]-1
    annotators: np.ndarray  # annotator names, sorted
    rater_sentence: np.ndarray  # R
    rater_annotator: np.ndarray  # R
    cell_rater: np.ndarray  # cells (rater × token of its sentence)
    cell_token: np.ndarray  # global token of each cell
    cell_label: np.ndarray  # label code of each cell
    spans: pd.DataFrame  # rater, sentence, annotator, label (code), start, end; deduplicated


def _check_inputs(annotations: object, sentences: object, cues: object) -> list[str]:
    check_annotations(annotations, _REQUIRED)
    if not isinstance(sentences, pd.DataFrame):
        raise ExportError(
            f"sentences must be a pandas DataFrame, got {type(sentences).__name__}; "
            "pass the sentences table (sentences.parquet) written by push/pull"
        )
    missing = [c for c in ("sentence_id", "text") if c not in sentences.columns]
    if missing:
        raise ExportError(
            f"sentences table is missing column(s) {', '.join(missing)}; "
            "pass the sentences table (sentences.parquet) written by push/pull"
        )
    if isinstance(cues, str) or not isinstance(cues, Sequence) or not all(isinstance(c, str) for c in cues):
        raise InputError(f"cues must be the config's list of cue labels, got {cues!r}")
    if len(set(cues)) != len(cues):
        raise InputError(f"cues lists a label twice: {list(cues)!r}")
    if any(cue.casefold() == NONE for cue in cues):
        raise InputError(
            f"{NONE!r} is reserved for tokens without a cue; rename that cue label in the config"
        )
    return list(cues)


def _tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sentence token counts and the flat start and end arrays of all tokens."""
    spans = [tokenize(text) for text in texts]
    counts = np.fromiter(map(len, spans), dtype=np.int64, count=len(spans))
    flat = np.fromiter(
        itertools.chain.from_iterable(itertools.chain.from_iterable(spans)),
        dtype=np.int64,
        count=2 * int(counts.sum()),
    ).reshape(-1, 2)
    return counts, flat[:, 0], flat[:, 1]


def _cue_spans(annotations: pd.DataFrame, raters: pd.DataFrame, cues: list[str]) -> pd.DataFrame:
    """The counted annotations' cue spans: columns ``rater, label, start, end``."""
    rows = annotations.loc[
        annotations["annotation_id"].isin(raters["annotation_id"]).to_numpy(dtype=bool)
        & (annotations["field"] == CUES_FIELD).fillna(False).to_numpy(dtype=bool)
        & annotations["label"].notna().to_numpy(dtype=bool),
        ["annotation_id", "label", "start", "end"],
    ]
    unknown = sorted(set(rows["label"]) - set(cues))
    if unknown:
        raise ExportError(
            f"annotations use cue label(s) missing from the config: {', '.join(map(repr, unknown[:5]))}; "
            "add them to the config's cues (or correct the annotations in Label Studio) and summarize again"
        )
    start = pd.to_numeric(rows["start"]).astype("Float64")
    end = pd.to_numeric(rows["end"]).astype("Float64")
    placed = (start.notna() & end.notna() & (start >= 0) & (end > start)).to_numpy(dtype=bool)
    rater_of = pd.Series(np.arange(len(raters)), index=raters["annotation_id"].to_numpy())
    spans = pd.DataFrame(
        {
            "rater": rater_of.reindex(rows["annotation_id"].to_numpy()[placed]).to_numpy(dtype=np.int64),
            "label": pd.Categorical(rows["label"][placed], categories=cues).codes.astype(np.int64) + 1,
            "start": start[placed].to_numpy(dtype=np.int64),
            "end": end[placed].to_numpy(dtype=np.int64),
        }
    )
    return spans.drop_duplicates().sort_values(["rater", "start", "end", "label"]).reset_index(drop=True)


def _label_cells(
    spans: pd.DataFrame,
    rater_sentence: np.ndarray,
    grid_first: np.ndarray,
    token_sentence: np.ndarray,
    token_start: np.ndarray,
    token_end: np.ndarray,
    token_first: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The grid cells that spans cover and the label each gets (rule in the module docstring).

    ``grid_first[r]`` is rater r's first cell; tokens are numbered as in ``_Grid``.
    """
    if spans.empty or len(token_start) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    rater = spans["rater"].to_numpy()
    start, end, label = (spans[c].to_numpy() for c in ("start", "end", "label"))
    sentence = rater_sentence[rater]
    # one sorted key per sentence and offset, so a single searchsorted finds each span's tokens
    base = int(max(token_end.max(), end.max())) + 1
    first = np.searchsorted(token_sentence * base + token_end, sentence * base + start, side="right")
    stop = np.searchsorted(token_sentence * base + token_start, sentence * base + end, side="left")
    hits = np.maximum(stop - first, 0)
    span = np.repeat(np.arange(len(rater)), hits)
    token = first[span] + np.arange(len(span)) - np.repeat(np.cumsum(hits) - hits, hits)
    overlap = np.minimum(end[span], token_end[token]) - np.maximum(start[span], token_start[token])
    covered = 2 * overlap >= token_end[token] - token_start[token]
    span, token = span[covered], token[covered]
    cell = grid_first[rater[span]] + token - token_first[sentence[span]]
    order = np.lexsort((label[span], start[span] - end[span], start[span], cell))
    cell, span = cell[order], span[order]
    keep = np.diff(cell, prepend=-1) != 0
    return cell[keep], label[span[keep]]


def _grid(annotations: pd.DataFrame, sentences: pd.DataFrame, cues: list[str]) -> _Grid:
    raters = counted_annotations(annotations)
    text_of = sentences.drop_duplicates("sentence_id").set_index("sentence_id")["text"]
    raters = raters[raters["sentence_id"].isin(text_of.index)].reset_index(drop=True)
    rater_sentence, sentence_ids = pd.factorize(raters["sentence_id"], sort=True)
    rater_annotator, annotator_names = pd.factorize(raters["annotator"], sort=True)
    texts = text_of.reindex(sentence_ids).astype(object).where(lambda t: t.notna(), "").tolist()
    per_sentence, token_start, token_end = _tokens([str(t) for t in texts])
    token_first = np.r_[0, np.cumsum(per_sentence)].astype(np.int64)
    token_sentence = np.repeat(np.arange(len(sentence_ids)), per_sentence)

    per_rater = per_sentence[rater_sentence]
    grid_first = np.r_[0, np.cumsum(per_rater)].astype(np.int64)
    cell_rater = np.repeat(np.arange(len(raters)), per_rater)
    cell_token = token_first[rater_sentence][cell_rater] + np.arange(len(cell_rater)) - grid_first[cell_rater]
    cell_label = np.zeros(len(cell_rater), dtype=np.int64)

    spans = _cue_spans(annotations, raters, cues)
    cells, labels = _label_cells(
        spans, rater_sentence, grid_first, token_sentence, token_start, token_end, token_first
    )
    cell_label[cells] = labels
    spans = spans.assign(
        sentence=rater_sentence[spans["rater"].to_numpy()],
        annotator=rater_annotator[spans["rater"].to_numpy()],
    )
    return _Grid(
        sentence_ids=np.asarray(sentence_ids, dtype=object),
        token_sentence=token_sentence,
        token_start=token_start,
        token_end=token_end,
        token_first=token_first,
        annotators=np.asarray(annotator_names, dtype=object),
        rater_sentence=rater_sentence,
        rater_annotator=rater_annotator,
        cell_rater=cell_rater,
        cell_token=cell_token,
        cell_label=cell_label,
        spans=spans,
    )


def token_labels(annotations: pd.DataFrame, sentences: pd.DataFrame, cues: Sequence[str]) -> pd.DataFrame:
    """Every counted annotator's cue label of every token.

    In: the tidy annotations table (also needs ``start, end``), the sentences table
    (``sentence_id, text``) and the config's cue labels.
    Out: ``TOKEN_COLUMNS`` = ``sentence_id, token, start, end, annotator, label``: one row per
    sentence × token × annotator whose latest non-cancelled annotation of the sentence counts
    (with spans or without); ``token`` is the token's number in the sentence (from 0),
    ``start``/``end`` its character offsets (``tokenize``), ``label`` the cue covering it or
    ``"none"`` (rules in the module docstring). Sorted by sentence_id, annotator, token.
    """
    labels = _check_inputs(annotations, sentences, cues)
    grid = _grid(annotations, sentences, labels)
    names = np.array([NONE, *labels], dtype=object)
    token = grid.cell_token
    table = pd.DataFrame(
        {
            "sentence_id": grid.sentence_ids[grid.token_sentence[token]],
            "token": token - grid.token_first[grid.token_sentence[token]],
            "start": grid.token_start[token],
            "end": grid.token_end[token],
            "annotator": grid.annotators[grid.rater_annotator[grid.cell_rater]],
            "label": names[grid.cell_label],
        },
        columns=TOKEN_COLUMNS,
    )
    return table.astype({"token": "int64", "start": "int64", "end": "int64"})


# -- span F1 ----------------------------------------------------------------------------------


def span_f1(
    matched_a: npt.ArrayLike, matched_b: npt.ArrayLike, spans_a: npt.ArrayLike, spans_b: npt.ArrayLike
) -> np.ndarray:
    """Symmetric span F1 of annotator pairs, element-wise.

    ``spans_a``/``spans_b``: spans of A and of B; ``matched_a``: A's spans that match one of
    B's, ``matched_b`` the reverse. With precision ``P = matched_a / spans_a`` (B as the
    reference) and recall ``R = matched_b / spans_b``::

        F1 = 2 P R / (P + R) = 2 m_a m_b / (m_a n_b + m_b n_a)

    which is the same with A and B swapped; for exact matches ``m_a = m_b = m`` and it is
    ``2 m / (n_a + n_b)``. 0 when nothing matches, NaN when neither has a span.

    >>> span_f1(np.array([1, 0, 0]), np.array([1, 0, 0]), np.array([2, 1, 0]), np.array([1, 0, 0]))
    array([0.66666667, 0.        ,        nan])
    """
    m_a, m_b, n_a, n_b = (np.asarray(x, dtype=float) for x in (matched_a, matched_b, spans_a, spans_b))
    denominator = m_a * n_b + m_b * n_a
    f1 = np.zeros(np.broadcast(m_a, n_a).shape)
    np.divide(2 * m_a * m_b, denominator, out=f1, where=denominator > 0)
    return np.where(n_a + n_b > 0, f1, np.nan)


def _pair_span_counts(grid: _Grid) -> pd.DataFrame:
    """Per annotator pair (a < b) × cue label, over the sentences both annotated: spans of each
    (``n_a, n_b``), exact matches, and spans of each that overlap a span of the other."""
    keys = ["a", "b", "label"]
    raters = pd.DataFrame({"sentence": grid.rater_sentence, "annotator": grid.rater_annotator})
    pairs = raters.merge(raters, on="sentence", suffixes=("_a", "_b"))
    pairs = pairs.loc[pairs["annotator_a"] < pairs["annotator_b"]].rename(
        columns={"annotator_a": "a", "annotator_b": "b"}
    )
    spans = grid.spans[["sentence", "annotator", "label", "start", "end"]].reset_index(names="span")
    sizes = spans.groupby(["sentence", "annotator", "label"]).size().rename("n").reset_index()
    n_a = pairs.merge(sizes.rename(columns={"annotator": "a"}), on=["sentence", "a"]).groupby(keys)["n"].sum()
    n_b = pairs.merge(sizes.rename(columns={"annotator": "b"}), on=["sentence", "b"]).groupby(keys)["n"].sum()

    same = spans.merge(spans, on=["sentence", "label"], suffixes=("_x", "_y"))
    same = same[same["annotator_x"] != same["annotator_y"]]
    exact = same[(same["start_x"] == same["start_y"]) & (same["end_x"] == same["end_y"])]
    exact = exact[exact["annotator_x"] < exact["annotator_y"]]
    exact_n = exact.groupby(["annotator_x", "annotator_y", "label"]).size()
    crossing = same[(same["start_x"] < same["end_y"]) & (same["start_y"] < same["end_x"])]
    matched = (
        crossing.drop_duplicates(["span_x", "annotator_y"])
        .groupby(["annotator_x", "annotator_y", "label"])
        .size()
    )

    table = pd.concat({"n_a": n_a, "n_b": n_b}, axis=1).fillna(0)
    index = table.index
    table["exact"] = exact_n.reindex(index, fill_value=0).to_numpy()
    table["matched_a"] = matched.reindex(index, fill_value=0).to_numpy()
    swapped = pd.MultiIndex.from_arrays(
        [index.get_level_values("b"), index.get_level_values("a"), index.get_level_values("label")]
    )
    table["matched_b"] = matched.reindex(swapped, fill_value=0).to_numpy()
    return table.reset_index()


def _mean_f1(counts: pd.DataFrame) -> tuple[float, float]:
    """Mean over annotator pairs of exact and overlap span F1 (pairs without spans left out)."""
    exact = span_f1(counts["exact"], counts["exact"], counts["n_a"], counts["n_b"])
    overlap = span_f1(counts["matched_a"], counts["matched_b"], counts["n_a"], counts["n_b"])
    if not np.isfinite(exact).any():
        return float("nan"), float("nan")
    return float(np.nanmean(exact)), float(np.nanmean(overlap))


# -- the rows -------------------------------------------------------------------------------


def _binary(matrices: np.ndarray, label: int) -> np.ndarray:
    """Coincidences (... × V × V) merged to ``label`` (1) vs every other value (0): ... × 2 × 2."""
    hit = matrices[..., label, label]
    cross = matrices[..., label, :].sum(axis=-1) - hit
    rest = matrices.sum(axis=(-2, -1)) - hit - 2 * cross
    return np.stack([np.stack([rest, cross], axis=-1), np.stack([cross, hit], axis=-1)], axis=-2)


def cue_agreement(
    annotations: pd.DataFrame,
    sentences: pd.DataFrame,
    cues: Sequence[str],
    n_boot: int = 1000,
    seed: int = 12345,
) -> pd.DataFrame:
    """Agreement on cue spans, as rows for ``agreement.csv``.

    In: the tidy annotations table (also needs ``start, end``), the sentences table
    (``sentence_id, text``), the config's cue labels, bootstrap replicates and seed.
    Out: ``CUE_COLUMNS`` (``AGREEMENT_COLUMNS`` + ``span_f1_exact, span_f1_overlap``); row
    ``cues`` then ``cues:<label>`` per cue in config order; no rows when ``cues`` is empty.

    Units are tokens (``token_labels``): in ``cues`` the value is the token's cue or
    ``"none"``, in ``cues:<label>`` whether the token carries that cue. ``level`` is nominal;
    ``krippendorff_alpha``, ``percent_agreement``, ``fleiss_kappa`` and ``gwet_ac1`` are the
    coefficients of ``annotate.quality.agreement`` over tokens (``q`` = cues + 1, or 2); ``units`` =
    tokens with two or more annotators, ``pairable_values`` = their labels, ``annotators`` =
    annotators with a counted annotation of a tokenized sentence. The tokens of a sentence
    are not independent, so the alpha interval resamples sentences (all their tokens at
    once) rather than tokens. ``span_f1_exact``/``span_f1_overlap``: for every pair of
    annotators, over the sentences both annotated, the F1 of their spans (``span_f1``),
    where two spans match exactly when label, start and end are equal, and overlap when the
    labels are equal and the character ranges intersect; then the mean over pairs. Pairs
    with no span (of that label) are left out; NaN when no pair has one.
    """
    labels = _check_inputs(annotations, sentences, cues)
    check_bootstrap(n_boot, seed)
    if not labels:
        return agreement_table([], CUE_COLUMNS)
    grid = _grid(annotations, sentences, labels)
    width = len(labels) + 1
    n_tokens = len(grid.token_start)
    counts = np.bincount(grid.cell_token * width + grid.cell_label, minlength=n_tokens * width).reshape(
        n_tokens, width
    )
    parts = coincidences(counts, grid.token_sentence, len(grid.sentence_ids))
    total = parts.sum(axis=0)
    replicates = bootstrap_coincidences(parts, n_boot, seed)
    annotators = len(np.unique(grid.rater_annotator[grid.cell_rater]))
    pair_counts = _pair_span_counts(grid)

    rows: list[dict[str, Any]] = []
    alpha = float(alpha_from_coincidences(total))
    row = agreement_row(CUES_FIELD, "nominal", counts, alpha, alpha_from_coincidences(replicates), annotators)
    exact, overlap = _mean_f1(
        pair_counts.groupby(["a", "b"])[["n_a", "n_b", "exact", "matched_a", "matched_b"]].sum()
    )
    rows.append(row | {"span_f1_exact": exact, "span_f1_overlap": overlap})
    values = counts.sum(axis=1)
    for code, label in enumerate(labels, start=1):
        binary = np.stack([values - counts[:, code], counts[:, code]], axis=1)
        alpha = float(alpha_from_coincidences(_binary(total, code)))
        replicate_alphas = alpha_from_coincidences(_binary(replicates, code))
        row = agreement_row(f"{CUES_FIELD}:{label}", "nominal", binary, alpha, replicate_alphas, annotators)
        exact, overlap = _mean_f1(pair_counts[pair_counts["label"] == code])
        rows.append(row | {"span_f1_exact": exact, "span_f1_overlap": overlap})
    return agreement_table(rows, CUE_COLUMNS)

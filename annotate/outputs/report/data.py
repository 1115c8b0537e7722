"""The data ``report.html`` shows, and the small helpers every part of the page shares.

``_prepare`` turns the inputs of ``render_report`` into one ``_Data``: the live (non-gold,
non-superseded) sentences in document order, the articles, the counted answers and cue spans
of the annotators who are not left out, ``_Stance``, the colour and CSS class of each stance
label, and the model card of ``annotate learn`` when there is one (shown as it is). The
helpers here turn values into escaped text (``_e``), numbers, shares and plurals, and name
fields and Krippendorff's reliability levels. This module imports nothing from the rest of the
report package.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from annotate.config import ProjectConfig
from annotate.model.card import ModelCard
from annotate.quality.answers import CountedAnswers
from annotate.quality.majority import NO_MAJORITY

#: Krippendorff's thresholds: rely on α ≥ 0.800, tentative conclusions from 0.667.
SUBSTANTIAL = 0.800
TENTATIVE = 0.667

# Stance colours by (case-folded) label name: (strong colour for bars, light tint for text).
_NAMED_COLOURS: dict[str, tuple[str, str]] = {
    "favor": ("#2f8f46", "#d7efdc"),
    "favour": ("#2f8f46", "#d7efdc"),
    "support": ("#2f8f46", "#d7efdc"),
    "positive": ("#2f8f46", "#d7efdc"),
    "pro": ("#2f8f46", "#d7efdc"),
    "against": ("#c8423b", "#f8d9d6"),
    "oppose": ("#c8423b", "#f8d9d6"),
    "negative": ("#c8423b", "#f8d9d6"),
    "critical": ("#c8423b", "#f8d9d6"),
    "neutral": ("#6487ab", "#dbe5f0"),
    "mixed": ("#8e6bb0", "#e8def2"),
    "not addressed": ("#c9ced4", "#f2f3f5"),
    "not applicable": ("#c9ced4", "#f2f3f5"),
    "none": ("#c9ced4", "#f2f3f5"),
    "irrelevant": ("#c9ced4", "#f2f3f5"),
}
# For labels without a known name (e.g. a 1-5 scale): distinct, colour-blind-friendly hues.
_PALETTE = [
    ("#4477aa", "#d6e2ef"),
    ("#ee6677", "#fbdde1"),
    ("#228833", "#d3eed8"),
    ("#ccbb44", "#f4efd0"),
    ("#66ccee", "#d9f2fa"),
    ("#aa3377", "#efd5e4"),
    ("#bbbbbb", "#eeeeee"),
]
_NO_MAJORITY_FILL = "url(#hatch)"
_HATCH_CSS = "repeating-linear-gradient(135deg,#5f646c 0 3px,#3b3f45 3px 6px)"
_HATCH_TINT = "repeating-linear-gradient(135deg,#eceef1 0 5px,#d3d7dc 5px 10px)"


# -- small helpers ---------------------------------------------------------------------------------


def _e(value: Any) -> str:
    """Escaped text of ``value`` (quotes too, so it is safe in attributes); missing -> empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _text(value: Any) -> str:
    """A data value as plain text; missing -> empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _num(value: Any, digits: int = 3) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(number) else f"{number:.{digits}f}"


def _int(value: Any) -> int:
    return int(value)


def _float(value: Any) -> float:
    return float(value)


def _pct(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(number) else f"{number:.0%}"


def _tuples(table: pd.DataFrame) -> list[Any]:
    """The rows of ``table`` as named tuples (untyped: the columns are checked where they are made)."""
    return list(table.itertuples(index=False))


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``table`` as dicts keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in table.to_dict("records")]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _text_colour(hex_colour: str) -> str:
    """Black or white, whichever reads better on ``hex_colour``."""
    if not hex_colour.startswith("#") or len(hex_colour) != 7:
        return "#fff"
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#1f2328" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"


def reliability_words(alpha: float) -> str:
    """Krippendorff's reading of α: ≥ .800 substantial, ≥ .667 tentative, else unreliable."""
    if alpha is None or pd.isna(alpha):
        return "not computable"
    if alpha >= SUBSTANTIAL:
        return "substantial"
    if alpha >= TENTATIVE:
        return "tentative"
    return "unreliable"


# -- the data the sections share -------------------------------------------------------------------


@dataclass(frozen=True)
class _Stance:
    """Colours and CSS class of each stance label, ``NO_MAJORITY`` last."""

    labels: list[str]
    fill: dict[str, str]
    tint: dict[str, str]
    css: dict[str, str]

    @classmethod
    def of(cls, stance_labels: Sequence[str]) -> _Stance:
        fill, tint, css = {}, {}, {}
        spare = iter(_PALETTE)
        for i, label in enumerate(stance_labels):
            colours = _NAMED_COLOURS.get(label.casefold()) or next(spare, ("#8c959f", "#eaeef2"))
            fill[label], tint[label], css[label] = colours[0], colours[1], f"s{i}"
        fill[NO_MAJORITY], tint[NO_MAJORITY], css[NO_MAJORITY] = _NO_MAJORITY_FILL, _HATCH_TINT, "snm"
        return cls([*stance_labels, NO_MAJORITY], fill, tint, css)

    def style(self) -> str:
        rules = []
        for label in self.labels:
            strong = _HATCH_CSS if label == NO_MAJORITY else self.fill[label]
            rules.append(f".sw.{self.css[label]},.chip.{self.css[label]}{{background:{strong}}}")
            rules.append(f".chip.{self.css[label]}{{color:{_text_colour(strong)}}}")
            rules.append(f".sent.{self.css[label]}{{background:{self.tint[label]}}}")
        return "\n".join(rules)

    def chip(self, label: Any) -> str:
        text = _text(label)
        if not text:
            return '<span class="muted">–</span>'
        return f'<span class="chip {self.css.get(text, "plain")}">{_e(text)}</span>'


@dataclass(frozen=True)
class _Data:
    config: ProjectConfig
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    sentences: pd.DataFrame  # non-gold, in document order, with "number" (1-based within its document)
    labels: pd.DataFrame  # sentence_labels without gold sentences
    answers: pd.DataFrame  # every counted choice answer (sentence_id, field, annotator, label)
    cues: pd.DataFrame  # counted cue spans: sentence_id, doc_id, annotator, label, start, end
    raters: pd.Series  # sentence_id -> annotators with a counted annotation
    docs: pd.DataFrame  # doc_id, name, title, outlet, country, published, url, language, sentences, anchor
    gold_sentences: int
    excluded: list[str]
    stance: _Stance
    card: ModelCard | None = None  # the model card of annotate learn; None: no model section


def _lang(value: Any) -> str:
    """A ``lang`` attribute for text in ``value``'s language (helps the browser pick CJK fonts)."""
    text = _text(value)
    return f' lang="{_e(text)}"' if text else ""


def _blank_to_na(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip()
    return text.mask(text == "")


_META = ("title", "outlet", "country", "author", "published", "url", "language")


def _gold_ids(labels: pd.DataFrame, counted: CountedAnswers) -> set[str]:
    """Gold sentences: a gold label in the tables or an expected label of the pull."""
    return set(labels.loc[labels["source"] == "gold", "sentence_id"].astype(str)) | set(counted.gold_ids)


def _live_sentences(sentences: pd.DataFrame, gold_ids: set[str]) -> pd.DataFrame:
    """The sentences of the articles as they are now (no gold, no superseded old versions), in
    document order, with blank metadata as NA and ``number`` (1-based within the article)."""
    keep = ~sentences["sentence_id"].isin(gold_ids)
    if "superseded" in sentences:
        keep &= ~sentences["superseded"].astype("boolean").fillna(False).astype(bool)
    sents = sentences[keep].copy()
    for col in _META:
        sents[col] = _blank_to_na(sents[col]) if col in sents else pd.Series(pd.NA, index=sents.index)
    sents = sents.sort_values(["doc_id", "sentence_index"], kind="stable").reset_index(drop=True)
    sents["number"] = sents.groupby("doc_id").cumcount() + 1
    return sents


def _documents(sents: pd.DataFrame) -> pd.DataFrame:
    """One row per article: ``doc_id``, its metadata, ``sentences``, the ``name`` to show and the
    ``anchor`` (the id of its text in the articles section)."""
    docs = sents.groupby("doc_id", sort=False).agg(
        **{col: (col, "first") for col in _META}, sentences=("sentence_id", "size")
    )
    docs = docs.reset_index()
    docs["name"] = docs["title"].fillna(docs["doc_id"]).astype(str)
    docs["anchor"] = [f"article-{k + 1}" for k in range(len(docs))]
    return docs


def _prepare(
    config: ProjectConfig,
    manifest: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    counted: CountedAnswers,
    card: ModelCard | None = None,
) -> _Data:
    """What the page shows: the analysis set of ``counted`` (no gold, no superseded sentence, no
    excluded annotator), the final labels of its sentences, its cue spans, and ``card``."""
    labels = tables["sentence_labels"]
    gold_ids = _gold_ids(labels, counted)
    analysis = counted.analysis
    sents = _live_sentences(counted.sentences, gold_ids)
    raters = counted.latest.groupby("sentence_id")["annotator"].nunique()
    cue_rows = analysis[
        (analysis["field"] == "cues")
        & analysis["annotation_id"].isin(counted.latest["annotation_id"])
        & analysis["label"].notna()
    ]
    cues = cue_rows[["sentence_id", "doc_id", "annotator", "label", "start", "end", "span_text"]]
    return _Data(
        config=config,
        manifest=manifest,
        tables=tables,
        sentences=sents,
        labels=labels[~labels["sentence_id"].isin(gold_ids)].reset_index(drop=True),
        answers=counted.analysis_answers,
        cues=cues.reset_index(drop=True),
        raters=raters,
        docs=_documents(sents),
        gold_sentences=int(counted.sentences["sentence_id"].isin(gold_ids).sum()),
        excluded=list(counted.excluded),
        stance=_Stance.of(list(config.stance_labels)),
        card=card,
    )


def _field_name(config: ProjectConfig, field: str) -> str:
    """A readable name for a field of the exports."""
    targets = config.targets_by_id()
    if field.startswith("stance_") and field[len("stance_") :] in targets:
        return f"Stance toward {targets[field[len('stance_') :]]}"
    if field == "sentence_type":
        return " or ".join(config.sentence_types) if len(config.sentence_types) == 2 else "Sentence type"
    if field == "cues":
        return "Bias cues, all labels together"
    if field.startswith("cues:"):
        return f"Bias cue: {field[len('cues:') :]}"
    return field

"""``report.html``: one self-contained page that explains a campaign's results to an analyst.

The page makes no request to any other host: charts are hand-written inline SVG, the style is
inline, there is no script and no web font, and a strict Content-Security-Policy says so to the
browser. Every text that comes from data (articles, metadata, labels, e-mails, the config) is
escaped with ``html.escape``; cue highlights are cut from character offsets on the raw sentence,
each piece escaped on its own, never by inserting markup into text.

Sections, each a small function below: overview, stance per target (per article, outlet,
country), agreement per field, annotators, most contested sentences, bias cues, and every
article sentence by sentence coloured by its stance toward a target chosen with CSS-only tabs.
Gold sentences are reference items, not part of the analysis, and are left out everywhere.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from annotate.config import ProjectConfig
from annotate.quality.agreement import choice_answers, counted_annotations
from annotate.quality.majority import NO_MAJORITY

#: Krippendorff's thresholds: rely on α ≥ 0.800, tentative conclusions from 0.667.
SUBSTANTIAL = 0.800
TENTATIVE = 0.667
#: The group of articles that do not give an outlet or country.
NOT_GIVEN = "not given"
#: How many sentences "Most contested" shows, and cue examples per cue label.
CONTESTED_SHOWN = 10
CUE_EXAMPLES = 3

SECTIONS = {
    "overview": "Overview",
    "stance": "Stance per target",
    "agreement": "Agreement per field",
    "annotators": "Annotators",
    "contested": "Most contested sentences",
    "cues": "Bias cues",
    "articles": "Articles sentence by sentence",
}

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

_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","PingFang SC",
"Microsoft YaHei",sans-serif;margin:0;color:#1f2328;background:#fff;line-height:1.5;font-size:15px}
main{max-width:72rem;margin:0 auto;padding:1.5rem 1.25rem 4rem}
header.top{background:#f6f8fa;border-bottom:1px solid #d0d7de}
header.top>div{max-width:72rem;margin:0 auto;padding:1.5rem 1.25rem 1rem}
h1{font-size:1.75rem;margin:0 0 .25rem;line-height:1.25}
section:first-child h2{margin-top:.5rem}
h2{font-size:1.35rem;margin:2.75rem 0 .35rem;padding-bottom:.3rem;border-bottom:2px solid #d0d7de}
h3{font-size:1.08rem;margin:1.6rem 0 .3rem}h4{font-size:.95rem;margin:1rem 0 .3rem;color:#424a53}
p{margin:.35rem 0 .6rem}.lead{color:#424a53;font-size:1rem;margin:.25rem 0 .75rem}
.explain{color:#424a53;max-width:52rem}.muted{color:#656d76}.small{font-size:.85rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.82em;background:#eff1f3;
padding:.05rem .3rem;border-radius:4px}
nav.toc{display:flex;flex-wrap:wrap;gap:.35rem .5rem;margin:.75rem 0 0;padding:0;list-style:none}
nav.toc a{display:inline-block;padding:.2rem .65rem;border:1px solid #d0d7de;border-radius:999px;
background:#fff;color:#0969da;text-decoration:none;font-size:.88rem}
nav.toc a:hover{background:#eef4fb}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.75rem;margin:.75rem 0}
.card{border:1px solid #d0d7de;border-radius:8px;padding:.7rem .9rem;background:#fff}
.card .big{font-size:1.6rem;font-weight:650;line-height:1.2}.card .what{color:#656d76;font-size:.85rem}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0;font-size:.92rem}
.facts dt{color:#656d76}.facts dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.88rem;width:100%}
th,td{border-bottom:1px solid #e1e4e8;padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f6f8fa;border-bottom:1px solid #d0d7de;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num{white-space:nowrap}
.scroll{overflow-x:auto}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:.5rem 0 .75rem;font-size:.88rem}
.legend span{display:inline-flex;align-items:center;gap:.35rem}
.sw{display:inline-block;width:.95rem;height:.95rem;border-radius:3px;border:1px solid rgba(0,0,0,.15)}
.bars{margin:.25rem 0 .5rem}
.bar-row{display:grid;grid-template-columns:minmax(7rem,15rem) 1fr 6.5rem;gap:.25rem .75rem;
align-items:center;margin:.3rem 0}
.bar-name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:.9rem}
.bar-total{font-size:.82rem;color:#656d76;font-variant-numeric:tabular-nums;line-height:1.25}
svg.bar{display:block;width:100%;height:26px;overflow:visible}
svg.bar text{font-size:12px;font-weight:600;pointer-events:none}
details{margin:.25rem 0 1rem}summary{cursor:pointer;color:#0969da;font-size:.88rem}
.bars[data-chart=cues] .bar-row{grid-template-columns:minmax(7rem,15rem) 1fr 10.5rem}
table.agreement td:first-child{min-width:10.5rem}
.verdict{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-weight:600;font-size:.82rem;
white-space:nowrap}
.v-substantial{background:#d7efdc;color:#1a5c2c}.v-tentative{background:#fbefc9;color:#6b4e00}
.v-unreliable{background:#f8d9d6;color:#8a1f19}.v-none{background:#eceef1;color:#424a53}
svg.scale{display:block;width:100%;min-width:9rem;height:22px}
svg.axis{display:block;width:100%;min-width:9rem;height:16px;overflow:visible}
svg.axis text{font-size:10.5px;fill:#656d76}
.meter{display:inline-block;width:4.5rem;height:.55rem;background:#eceef1;border-radius:3px;
vertical-align:middle;margin-right:.4rem;overflow:hidden}
.meter>span{display:block;height:100%;background:#6487ab}
.chip.plain{background:#f6f8fa;color:#1f2328}
.chip{display:inline-block;padding:0 .45rem;border-radius:4px;font-size:.84rem;white-space:nowrap;
border:1px solid rgba(0,0,0,.08)}
.case{border:1px solid #d0d7de;border-radius:8px;padding:.75rem 1rem;margin:1rem 0;background:#fff}
.case .where{font-size:.84rem;color:#656d76;margin-bottom:.35rem}
.case .ctx{color:#656d76;font-size:.9rem;margin:.15rem 0}
.case .focus{font-size:1.02rem;font-weight:550;margin:.3rem 0;padding:.3rem .6rem;
border-left:3px solid #c8423b;background:#fbf3f2}
.case table{margin:.5rem 0 0}.case td.hot,.case th.hot{background:#fff6e5}.case td.who{white-space:nowrap}
.case th.group{text-align:left;border-bottom:none;padding-bottom:0;color:#656d76;font-weight:500}
.case tr.final th,.case tr.final td{border-top:2px solid #d0d7de}
table.agreement th.plain{min-width:11rem}table.agreement th.scale{min-width:11rem;width:22%}
mark.cue{background:rgba(230,160,0,.22);border-bottom:2px solid #d08c00;padding:0 .05rem;color:inherit}
mark.cue.k2{background:rgba(230,160,0,.42)}mark.cue.k3{background:rgba(230,160,0,.62)}
.example{margin:.35rem 0;padding:.35rem .6rem;border-left:3px solid #e0b34a;background:#fffcf3}
.heat td.num{min-width:4rem}
.tabs{margin-top:.75rem}.tabs>input{position:absolute;opacity:0;pointer-events:none}
.tabs>label{display:inline-block;padding:.35rem .9rem;margin:0 .2rem -1px 0;border:1px solid #d0d7de;
border-radius:6px 6px 0 0;background:#f6f8fa;cursor:pointer;font-size:.9rem;position:relative}
.tabs>input:checked+label{background:#fff;border-bottom-color:#fff;font-weight:650}
.tabs>input:focus-visible+label{outline:2px solid #0969da}
.tab-panel{display:none;border-top:1px solid #d0d7de;padding-top:.5rem}
article.doc{margin:1.25rem 0 1.75rem}
article.doc h4{font-size:1.05rem;color:#1f2328;margin:0}
.doc .meta{font-size:.84rem;color:#656d76;margin:.1rem 0 .4rem;overflow-wrap:anywhere}
svg.strip{display:block;width:100%;height:18px;margin:.3rem 0 .6rem}
.doc p.para{margin:.2rem 0 .55rem;line-height:1.9}
.sent{padding:.12rem .15rem;border-radius:3px;-webkit-box-decoration-break:clone;box-decoration-break:clone}
.sent sup{font-size:.68em;color:#656d76;margin-right:.15rem;font-variant-numeric:tabular-nums}
.sent.tie-mark{outline:1px dashed #3b3f45;outline-offset:-1px}
.sent.unlabelled{background:#fff;outline:1px dotted #afb8c1;outline-offset:-1px}
footer{margin-top:3rem;color:#656d76;font-size:.82rem;border-top:1px solid #d0d7de;padding-top:.75rem}
@media (max-width:42rem){.bar-row,.bars[data-chart=cues] .bar-row{grid-template-columns:1fr 5.5rem}
.bar-row .bar-name{grid-column:1/-1}svg.bar tspan.share{display:none}}
@media print{.tab-panel{display:block!important}.tabs>label{display:none}nav.toc{display:none}}
"""


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
    docs: pd.DataFrame  # doc_id, name, title, outlet, country, published, url, language, sentences
    gold_sentences: int
    excluded: list[str]
    stance: _Stance


def _lang(value: Any) -> str:
    """A ``lang`` attribute for text in ``value``'s language (helps the browser pick CJK fonts)."""
    text = _text(value)
    return f' lang="{_e(text)}"' if text else ""


def _blank_to_na(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip()
    return text.mask(text == "")


_META = ("title", "outlet", "country", "author", "published", "url", "language")


def _gold_ids(labels: pd.DataFrame, annotations: pd.DataFrame) -> set[str]:
    """Gold sentences: a gold label in the tables or a ground-truth annotation."""
    ids = set(labels.loc[labels["source"] == "gold", "sentence_id"].astype(str))
    if "ground_truth" in annotations:
        ids |= set(
            annotations.loc[annotations["ground_truth"].astype(bool), "sentence_id"].dropna().astype(str)
        )
    return ids


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
    """One row per article: ``doc_id``, its metadata, ``sentences`` and the ``name`` to show."""
    docs = sents.groupby("doc_id", sort=False).agg(
        **{col: (col, "first") for col in _META}, sentences=("sentence_id", "size")
    )
    docs = docs.reset_index()
    docs["name"] = docs["title"].fillna(docs["doc_id"]).astype(str)
    return docs


def _prepare(
    config: ProjectConfig,
    manifest: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    sentences: pd.DataFrame,
    annotations: pd.DataFrame,
    excluded: Sequence[str],
) -> _Data:
    labels = tables["sentence_labels"]
    gold_ids = _gold_ids(labels, annotations)
    human = annotations
    if "ground_truth" in annotations:
        human = annotations[~annotations["ground_truth"].astype(bool)]
    human = human[~human["annotator"].isin(list(excluded)) & ~human["sentence_id"].isin(gold_ids)]

    sents = _live_sentences(sentences, gold_ids)
    counted = counted_annotations(human) if len(human) else pd.DataFrame(columns=["sentence_id", "annotator"])
    raters = counted.groupby("sentence_id")["annotator"].nunique()
    answers = choice_answers(human, config.choice_fields()) if len(human) else pd.DataFrame()
    if answers.empty:
        answers = pd.DataFrame(
            columns=["sentence_id", "doc_id", "field", "annotator", "annotation_id", "label"]
        )
    cue_rows = human[
        (human["field"] == "cues")
        & human["annotation_id"].isin(counted.get("annotation_id", pd.Series(dtype="int64")))
        & human["label"].notna()
    ]
    cues = cue_rows[["sentence_id", "doc_id", "annotator", "label", "start", "end", "span_text"]]
    return _Data(
        config=config,
        manifest=manifest,
        tables=tables,
        sentences=sents,
        labels=labels[~labels["sentence_id"].isin(gold_ids)].reset_index(drop=True),
        answers=answers,
        cues=cues.reset_index(drop=True),
        raters=raters,
        docs=_documents(sents),
        gold_sentences=int(sentences["sentence_id"].isin(gold_ids).sum()),
        excluded=list(excluded),
        stance=_Stance.of(list(config.stance_labels)),
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


# -- page parts ------------------------------------------------------------------------------------


def _swatches(items: Iterable[tuple[str, str]], classes: Iterable[tuple[str, str]] = ()) -> str:
    """A colour legend from ``(css style, text)`` and ``(css class, text)`` pairs."""
    spans = [f'<span><i class="sw {_e(cls)}"></i>{_e(text)}</span>' for cls, text in classes]
    spans += [f'<span><i class="sw" style="{_e(style)}"></i>{_e(text)}</span>' for style, text in items]
    return f'<div class="legend" aria-label="Colour legend">{"".join(spans)}</div>'


def _legend(stance: _Stance, extra: Iterable[tuple[str, str]] = ()) -> str:
    """The stance colours (and ``extra`` swatches)."""
    names = {NO_MAJORITY: "No majority (a tie that could not be broken)"}
    return _swatches(extra, [(stance.css[label], names.get(label, label)) for label in stance.labels])


def _head(title: str, css: str) -> str:
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(title)} · annotation report</title>\n"
        f"<style>{_STYLE}\n{css}</style>\n</head>\n<body>\n"
        # the hatch pattern every chart's "No majority" segments refer to
        '<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false"><defs>'
        '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#5f646c"/>'
        '<rect width="3" height="6" fill="#3b3f45"/></pattern></defs></svg>\n'
    )


def _pulled_at(value: Any) -> str:
    text = _text(value)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text or "unknown"
    zone = when.tzname() or ""
    return f"{when.day} {when:%B %Y, %H:%M} {'UTC' if zone in ('UTC', 'UTC+00:00') else zone}".strip()


def _lead(config: ProjectConfig) -> str:
    """One sentence on what was asked about each sentence, from the config."""
    asked = ["the stance it takes toward " + ("each target" if len(config.targets) > 1 else "the target")]
    if config.sentence_types:
        asked.append(
            "whether it states a fact or an opinion"
            if [t.casefold() for t in config.sentence_types] == ["fact", "opinion"]
            else "its type (" + ", ".join(config.sentence_types) + ")"
        )
    if config.cues:
        asked.append("the words that carry bias")
    listed = (
        asked[0]
        if len(asked) == 1
        else ", ".join(asked[:-1]) + ("," if len(asked) > 2 else "") + " and " + asked[-1]
    )
    return f"What the annotators said about each sentence of these articles: {listed}."


def _header(d: _Data) -> str:
    title = d.config.display_title()
    toc = "".join(f'<a href="#{key}">{_e(name)}</a>' for key, name in SECTIONS.items())
    return (
        f'<header class="top"><div><h1>{_e(title)}</h1>'
        f'<p class="lead">{_e(_lead(d.config))} Each section starts with a short note on how to read it.</p>'
        f'<p class="muted small">Data pulled {_e(_pulled_at(d.manifest.get("pulled_at")))} from the '
        f"Label Studio project <code>{_e(d.manifest.get('project_name') or d.config.name)}</code>.</p>"
        f'<nav class="toc" aria-label="Sections">{toc}</nav></div></header>\n<main>\n'
    )


def _section(key: str, intro: str, body: str) -> str:
    heading = f'<h2>{_e(SECTIONS[key])}</h2>\n<p class="explain">{intro}</p>'
    return f'<section id="{key}">\n{heading}\n{body}\n</section>\n'


def _progress_bar(done: int, partial: int, total: int) -> str:
    if not total:
        return ""
    parts = [
        (done, "#2f8f46", "complete"),
        (partial, "#e0b34a", "begun"),
        (total - done - partial, "#d5d9de", "not begun"),
    ]
    x = 0.0
    rects = []
    for count, colour, what in parts:
        if count:
            width = 100 * count / total
            rects.append(
                f'<rect x="{x:.3f}%" y="0" width="{width:.3f}%" height="14" fill="{colour}">'
                f"<title>{count} of {total} sentences {what} ({count / total:.0%})</title></rect>"
            )
            x += width
    return f'<svg class="bar" style="height:14px" role="img" aria-label="progress">{"".join(rects)}</svg>'


def _project_facts(d: _Data) -> str:
    m = d.manifest
    rows = m.get("rows") or {}
    studio = (
        f"project {_text(m.get('project_id')) or '?'} at {_text(m.get('label_studio_url')) or '?'}"
        f" (Label Studio {_text(m.get('label_studio_version')) or '?'})"
    )
    facts = [
        ("Project", f"{d.config.display_title()} — {_text(m.get('project_name')) or d.config.name}"),
        ("Pulled from", studio),
        ("Pulled at", _pulled_at(m.get("pulled_at"))),
        ("Targets", "; ".join(t.label for t in d.config.targets)),
        ("Stance labels", ", ".join(d.config.stance_labels)),
        ("Cue labels", ", ".join(d.config.cues) or "none"),
        (
            "Rows pulled",
            f"{rows.get('annotations', '?')} annotation rows, {rows.get('sentences', '?')} tasks",
        ),
    ]
    if d.excluded:
        facts.append(("Left out", "flagged annotators (gold accuracy too low): " + ", ".join(d.excluded)))
    return '<dl class="facts">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts) + "</dl>"


def _overview(d: _Data) -> str:
    overlap = d.config.overlap
    n_sent = len(d.sentences)
    per_sentence = d.raters.reindex(d.sentences["sentence_id"]).fillna(0)
    done = int((per_sentence >= overlap).sum())
    partial = int(((per_sentence > 0) & (per_sentence < overlap)).sum())
    people = d.tables["annotators"]
    submitted = int(people["annotations"].sum()) if len(people) else 0
    skipped = int(people["skipped"].sum()) if len(people) else 0
    cards = [
        (f"{len(d.docs):,}", "articles"),
        (f"{n_sent:,}", "sentences to label" + (f" (+ {d.gold_sentences} gold)" if d.gold_sentences else "")),
        (f"{len(people):,}", "annotators"),
        (f"{submitted:,}", f"annotations submitted ({skipped:,} skipped)"),
        (
            f"{done / n_sent:.0%}" if n_sent else "–",
            f"done: {done} of {n_sent} sentences have {overlap} answers",
        ),
    ]
    card_html = "".join(
        f'<div class="card"><div class="big">{_e(big)}</div><div class="what">{_e(what)}</div></div>'
        for big, what in cards
    )
    gold = (
        f" Gold sentences ({d.gold_sentences}, with known answers, used to check annotators) are left out "
        "of every chart."
        if d.gold_sentences
        else ""
    )
    progress = (
        f"<h3>Progress</h3><p class='explain'>Each sentence is to be labelled by {overlap} annotators (the "
        f"<code>overlap</code> of the config). Green: {done} sentences have all {overlap} answers; yellow: "
        f"{partial} have some; grey: {n_sent - done - partial} have none yet.{_e(gold)}</p>"
        f"{_progress_bar(done, partial, n_sent)}"
    )
    intro = (
        "What was annotated, by how many people, and how far the annotation has got. Throughout the page, a "
        "sentence's label is the answer most of its annotators gave; on a tie, a statistical model "
        "(Dawid–Skene) that weighs each annotator by how consistent they are picks the label."
    )
    return _section("overview", intro, f'<div class="cards">{card_html}</div>{_project_facts(d)}{progress}')


# -- stance bars -----------------------------------------------------------------------------------


def _stance_bar(stance: _Stance, name: str, counts: dict[str, int]) -> str:
    """One stacked bar: a ``g.seg`` per label with at least one sentence, labels inside when they fit."""
    total = sum(counts.values())
    x = 0.0
    segments = []
    for label in stance.labels:
        count = counts.get(label, 0)
        if not count:
            continue
        share = count / total
        width = 100 * share
        fill = stance.fill[label]
        tip = f"{name} — {label}: {count} of {total} sentences ({share:.0%})"
        inside = str(count) if share >= 0.045 else ""
        if share >= 0.14:  # the share too, where there is room (hidden on narrow screens)
            inside += f'<tspan class="share"> · {share:.0%}</tspan>'
        ink = "#fff" if label == NO_MAJORITY else _text_colour(fill)
        text = (
            f'<text x="{x + width / 2:.3f}%" y="17.5" text-anchor="middle" fill="{ink}">{inside}</text>'
            if inside
            else ""
        )
        segments.append(
            f'<g class="seg" data-label="{_e(label)}" data-count="{count}"><title>{_e(tip)}</title>'
            f'<rect x="{x:.3f}%" y="0" width="{width:.3f}%" height="26" fill="{fill}" stroke="#fff" '
            f'stroke-width="1"/>{text}</g>'
        )
        x += width
    return f'<svg class="bar" role="img" aria-label="{_e(name)}: {total} sentences">{"".join(segments)}</svg>'


def _stance_chart(
    stance: _Stance, kind: str, target: str, groups: list[tuple[str, str, dict[str, int]]]
) -> str:
    """Bars for ``groups`` of ``(key, shown name, counts per label)``, and a table of the same numbers."""
    rows = []
    for key, name, counts in groups:
        total = sum(counts.values())
        rows.append(
            f'<div class="bar-row" data-key="{_e(key)}"><div class="bar-name" title="{_e(name)}">'
            f"{_e(name)}</div>{_stance_bar(stance, name, counts)}"
            f'<div class="bar-total">{_plural(total, "sentence")}</div></div>'
        )
    head = "".join(f'<th class="num">{_e(label)}</th>' for label in stance.labels)
    body = []
    for _, name, counts in groups:
        total = sum(counts.values()) or 1
        cells = "".join(
            f'<td class="num">{counts.get(label, 0)} <span class="muted">({counts.get(label, 0) / total:.0%})'
            "</span></td>"
            for label in stance.labels
        )
        body.append(f"<tr><td>{_e(name)}</td>{cells}<td class='num'>{sum(counts.values())}</td></tr>")
    table = (
        f'<details><summary>The numbers behind these bars</summary><div class="scroll"><table><thead><tr>'
        f'<th>{_e(kind.capitalize())}</th>{head}<th class="num">sentences</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></details>"
    )
    return (
        f'<div class="bars" data-chart="{_e(kind)}" data-target="{_e(target)}">{"".join(rows)}</div>{table}'
    )


def _stance_groups(d: _Data, target: str, by: str) -> list[tuple[str, str, dict[str, int]]]:
    """Sentences per final stance label toward ``target``, grouped by ``by`` (``doc_id`` or a metadata
    column of the articles; missing values are grouped as "not given")."""
    field = f"stance_{target}"
    if by == "doc_id":
        table = d.tables["document_stance"]
        part = table[(table["target"] == target) & table["doc_id"].isin(d.docs["doc_id"])]
        names = d.docs.set_index("doc_id")["name"]
        groups = []
        for doc, rows in part.groupby("doc_id", sort=False):
            counts = {str(r.label): int(r.sentences) for r in _tuples(rows) if int(r.sentences)}
            groups.append((str(doc), str(names.get(doc, doc)), counts))
        return groups
    labels = d.labels[d.labels["field"] == field]
    meta = d.docs.set_index("doc_id")[by]
    group = labels["doc_id"].map(meta).astype("string").fillna(NOT_GIVEN)
    label = labels["label"].astype("string").fillna(NO_MAJORITY)
    counted = pd.DataFrame({"group": group, "label": label}).groupby(["group", "label"], sort=True).size()
    result: dict[str, dict[str, int]] = {}
    for (key, lab), n in zip(counted.index, counted.to_numpy(), strict=True):
        result.setdefault(str(key), {})[str(lab)] = int(n)
    order = sorted(result, key=lambda key: (key == NOT_GIVEN, key.casefold()))
    return [(key, key, result[key]) for key in order]


def _has(d: _Data, column: str) -> bool:
    return bool(d.docs[column].notna().any())


def _stance_section(d: _Data) -> str:
    parts = [_legend(d.stance)]
    kinds = [("doc_id", "article", "By article")]
    kinds += [(c, c, f"By {c}") for c in ("outlet", "country") if _has(d, c)]
    for target in d.config.targets:
        parts.append(f"<h3>Stance toward {_e(target.label)}</h3>")
        for by, kind, heading in kinds:
            groups = _stance_groups(d, target.id, by)
            if not groups:
                parts.append(f"<p class='muted'>{_e(heading)}: no answers yet.</p>")
                continue
            parts.append(f"<h4>{_e(heading)}</h4>")
            parts.append(_stance_chart(d.stance, kind, target.id, groups))
    missing = [c for c in ("outlet", "country") if not _has(d, c)]
    note = (
        f" The articles carry no {' or '.join(missing)}, so there is no chart by {' or '.join(missing)}."
        if missing
        else ""
    )
    labels = {label.casefold(): label for label in d.config.stance_labels}
    reading = ""
    if "favor" in labels and "against" in labels:
        reading = (
            f" A mostly green bar (<em>{_e(labels['favor'])}</em>) means most sentences favour the target, "
            f"a mostly red one (<em>{_e(labels['against'])}</em>) that they speak against it."
        )
    if "not addressed" in labels:
        reading += f" Sentences that do not mention the target are <em>{_e(labels['not addressed'])}</em>."
    intro = (
        "For each target, one bar per article (and per outlet and country, where the articles say so), "
        "split by the stance label its sentences got; the colours are in the legend."
        + reading
        + " Each piece "
        "shows the number of sentences and their share; hover over it for details, or open the numbers under "
        f"the chart.{_e(note)}"
    )
    return _section("stance", intro, "\n".join(parts))


# -- agreement -------------------------------------------------------------------------------------


def _x(value: float) -> float:
    """Position of an α value on the 0..1 scale, in percent (values below 0 sit at the left edge)."""
    return 100 * min(1.0, max(0.0, value))


def _two(value: float) -> str:
    """Two decimals, without a minus sign on a value that rounds to zero."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def _alpha_scale(alpha: float, low: float, high: float) -> str:
    """α as a dot and its interval as a whisker over the unreliable / tentative / substantial zones."""
    t, s = _x(TENTATIVE), _x(SUBSTANTIAL)
    zones = (
        f'<rect x="0" y="4" width="{t:.2f}%" height="14" fill="#f8e1de"/>'
        f'<rect x="{t:.2f}%" y="4" width="{s - t:.2f}%" height="14" fill="#fbf0d0"/>'
        f'<rect x="{s:.2f}%" y="4" width="{100 - s:.2f}%" height="14" fill="#dcf0e0"/>'
    )
    if math.isnan(alpha):
        tip = "α cannot be computed"
        return f'<svg class="scale" role="img" aria-label="{tip}"><title>{tip}</title>{zones}</svg>'
    marks = ""
    tip = f"α = {alpha:.3f}"
    if not (math.isnan(low) or math.isnan(high)):
        tip += f", 95% interval {low:.3f} to {high:.3f}"
        ink = 'stroke="#1f2328" stroke-width="2"'
        marks += (
            f'<line x1="{_x(low):.2f}%" x2="{_x(high):.2f}%" y1="11" y2="11" {ink}/>'
            f'<line x1="{_x(low):.2f}%" x2="{_x(low):.2f}%" y1="6" y2="16" {ink}/>'
            f'<line x1="{_x(high):.2f}%" x2="{_x(high):.2f}%" y1="6" y2="16" {ink}/>'
        )
    marks += f'<circle cx="{_x(alpha):.2f}%" cy="11" r="5" fill="#1f2328" stroke="#fff" stroke-width="1.5"/>'
    return (
        f'<svg class="scale" role="img" aria-label="{_e(tip)}"><title>{_e(tip)}</title>{zones}{marks}</svg>'
    )


def _axis() -> str:
    """Tick labels over the α column: 0, the two thresholds (pushed apart), 1."""
    ticks = [
        (0.0, "0", "start"),
        (TENTATIVE, ".667 ", "end"),
        (SUBSTANTIAL, " .8", "start"),
        (1.0, "1", "end"),
    ]
    texts = "".join(
        f'<text x="{_x(v):.2f}%" y="12" text-anchor="{anchor}" xml:space="preserve">{label}</text>'
        for v, label, anchor in ticks
    )
    return f'<svg class="axis" aria-hidden="true">{texts}</svg>'


def _plain_reading(alpha: float, low: float, high: float) -> str:
    """What to do with a field's labels, in one or two short sentences."""
    word = reliability_words(alpha)
    if word == "not computable":
        return "α needs some variety in the answers: here (nearly) everyone gave the same label."
    text = {
        "substantial": "The labels can be relied on.",
        "tentative": "Draw only tentative conclusions.",
        "unreliable": "Do not rely on these labels without review.",
    }[word]
    if not (math.isnan(low) or math.isnan(high)) and reliability_words(low) != word:
        text += f" Uncertain: the interval reaches down to {_two(low)} ({reliability_words(low)})."
    return text


def _agreement_row(config: ProjectConfig, r: dict[str, Any], has_cues: bool) -> str:
    field = str(r["field"])
    alpha = float(r["krippendorff_alpha"])
    low, high = float(r.get("alpha_ci_low", math.nan)), float(r.get("alpha_ci_high", math.nan))
    word = reliability_words(alpha)
    cls = "v-none" if word == "not computable" else f"v-{word}"
    unit = "tokens" if field.startswith("cues") else "sentences"
    interval = "" if math.isnan(low) or math.isnan(high) else f"<br>95%: {_two(low)} to {_two(high)}"
    level = (
        "" if r.get("level") in (None, "nominal") else f" <span class='muted'>({_e(r.get('level'))})</span>"
    )
    f1 = ""
    if has_cues:
        exact, overlap = _pct(r.get("span_f1_exact")), _pct(r.get("span_f1_overlap"))
        f1 = f'<td class="num">{"" if exact == "–" else f"{exact} / {overlap}"}</td>'
    return (
        f'<tr data-field="{_e(field)}"><td><strong>{_e(_field_name(config, field))}</strong><br>'
        f'<code>{_e(field)}</code></td><td><span class="verdict {cls}">{_e(word)}</span><br>'
        f'<span class="small">{_e(_plain_reading(alpha, low, high))}</span></td>'
        f"<td>{_alpha_scale(alpha, low, high)}</td>"
        f'<td class="num"><strong>{_num(alpha)}</strong>{level}<span class="small muted">{interval}<br>'
        f"{int(r['units']):,} {unit}</span></td>"
        f'<td class="num">{_pct(r["percent_agreement"])}</td><td class="num">{_num(r.get("gwet_ac1"))}</td>'
        f'<td class="num">{_num(r.get("fleiss_kappa"))}</td>{f1}</tr>'
    )


def _agreement_section(d: _Data) -> str:
    table = d.tables["agreement"]
    if table.empty:
        return _section("agreement", "No field has two answers for the same sentence yet.", "")
    has_cues = "span_f1_exact" in table and bool(table["span_f1_exact"].notna().any())
    rows = "".join(_agreement_row(d.config, r, has_cues) for r in _records(table))
    f1_head = (
        '<th class="num">span F1<br><span class="small muted">exact / overlap</span></th>' if has_cues else ""
    )
    head = (
        "<thead><tr><th>Field</th><th class='plain'>In plain words</th>"
        f"<th class='scale'>α and its 95% interval{_axis()}</th><th class='num'>α</th>"
        "<th class='num'>% agree</th><th class='num'>Gwet's AC1</th><th class='num'>Fleiss' κ</th>"
        f"{f1_head}</tr></thead>"
    )
    choice = table[~table["field"].astype(str).str.startswith("cues")]
    words = [reliability_words(a) for a in choice["krippendorff_alpha"]]
    tally = ", ".join(
        f"{words.count(w)} {w}" for w in ("substantial", "tentative", "unreliable") if words.count(w)
    )
    intro = (
        "How far the annotators agree, question by question, measured with Krippendorff's α: 1 is perfect "
        "agreement, 0 is no better than chance. Following Krippendorff, α of at least 0.800 is "
        "<em>substantial</em>, 0.667 to 0.800 <em>tentative</em> and below 0.667 <em>unreliable</em> "
        "(the red, yellow and green zones of the chart). The dot is α, the whisker its 95% interval "
        "(from resampling the sentences): judge by the whisker's left end."
        + (f" Of the {len(words)} questions asked per sentence: {_e(tally)}." if tally else "")
    )
    notes = (
        "<ul class='explain small'><li><em>% agree</em>: how often two annotators of a sentence gave the "
        "same answer. It ignores chance, so it looks good whenever one answer dominates.</li>"
        "<li><em>Gwet's AC1</em> and <em>Fleiss' κ</em> correct for chance like α. When α and κ are low but "
        "AC1 and % agree are high, the disagreement is concentrated in the rare labels: read those sentences."
        "</li><li><em>Bias cues</em> are compared word by word (tokens); <em>span F1</em> says how often two "
        "annotators marked the same stretch of text, exactly or at least overlapping.</li>"
        "<li>Few sentences (or tokens) make any figure shaky: see the count under α.</li></ul>"
    )
    body = f'<div class="scroll"><table class="agreement">{head}<tbody>{rows}</tbody></table></div>{notes}'
    return _section("agreement", intro, body)


# -- annotators ------------------------------------------------------------------------------------


def _meter(value: Any) -> str:
    try:
        share = float(value)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(share):
        return "–"
    return f'<span class="meter"><span style="width:{100 * share:.0f}%"></span></span>{share:.0%}'


def _annotators_section(d: _Data) -> str:
    people = d.tables["annotators"]
    if people.empty:
        return _section("annotators", "Nobody has annotated yet.", "")
    gold = "gold_items" in people and int(people["gold_items"].sum()) > 0
    rows = []
    for r in _records(people):
        median = float(r.get("median_lead_time", math.nan))
        flagged = bool(r.get("flagged"))
        left_out = " <em>(left out)</em>" if r["annotator"] in d.excluded else ""
        gold_cells = ""
        if gold:
            items = int(r.get("gold_items") or 0)
            accuracy = (
                f'{_pct(r.get("gold_accuracy"))} <span class="muted">of {items}</span>' if items else "–"
            )
            gold_cells = f'<td class="num">{accuracy}</td><td>{"⚑ flagged" if flagged else ""}</td>'
        rows.append(
            f"<tr><td>{_e(r['annotator'])}{left_out}</td>"
            f'<td class="num">{int(r["annotations"]):,}</td><td class="num">{int(r["skipped"]):,}</td>'
            f'<td class="num">{"–" if math.isnan(median) else f"{median:.0f} s"}</td>'
            f"<td>{_meter(r.get('agreement_with_majority'))}</td><td>{_meter(r.get('ds_reliability'))}</td>"
            f"{gold_cells}</tr>"
        )
    gold_head = "<th class='num'>gold accuracy</th><th></th>" if gold else ""
    head = (
        "<thead><tr><th>Annotator</th><th class='num'>sentences done</th><th class='num'>skipped</th>"
        "<th class='num'>median time</th><th>agrees with the others</th><th>estimated reliability</th>"
        f"{gold_head}</tr></thead>"
    )
    intro = (
        "Who did how much, and how their answers compare. <em>Agrees with the others</em>: how often an "
        "annotator gave the label most of the <em>other</em> annotators of the same sentence gave. "
        "<em>Estimated reliability</em>: how often the Dawid–Skene model thinks they give the right label. "
        "Someone far below the rest may read the guidelines differently."
        + (" Gold accuracy: correct answers on the gold sentences with known labels." if gold else "")
    )
    return _section(
        "annotators", intro, f'<div class="scroll"><table>{head}<tbody>{"".join(rows)}</tbody></table></div>'
    )


# -- most contested --------------------------------------------------------------------------------


def contested_ranking(labels: pd.DataFrame, limit: int = CONTESTED_SHOWN) -> list[str]:
    """Sentence ids with any disagreement, most contested first: lowest agreement of any field, then
    lowest margin, then most fields in disagreement, then lowest Dawid–Skene probability."""
    split = labels[labels["agreement"] < 1]
    if split.empty:
        return []
    per = split.groupby("sentence_id").agg(
        agreement=("agreement", "min"),
        margin=("margin", "min"),
        fields=("field", "size"),
        ds=("ds_probability", "min"),
    )
    per = per.assign(fields=-per["fields"]).sort_values(
        ["agreement", "margin", "fields", "ds"], na_position="last", kind="stable"
    )
    return [str(s) for s in per.index[:limit]]


def _sure(probability: Any) -> str:
    """A posterior probability as a share that never claims certainty: 0.99996 -> ">99%"."""
    p = _float(probability) if probability is not None and not pd.isna(probability) else math.nan
    return "–" if math.isnan(p) else (">99%" if p > 0.99 else f"{p:.0%}")


def _final_note(row: dict[str, Any]) -> str:
    source = _text(row.get("source"))
    votes, n = int(row["votes"]), int(row["n_annotators"])
    if source == "adjudicated":
        return "decided by an adjudicator"
    if source == "dawid_skene":
        return f"tie; Dawid–Skene picks it ({_sure(row.get('ds_probability'))} sure)"
    return f"{votes} of {n}"


def _answer_table(d: _Data, sid: str) -> str:
    """Annotators × questions for one sentence, the final labels last; differing columns tinted."""
    fields = list(d.config.choice_fields())
    targets = d.config.targets_by_id()
    labels = d.labels[d.labels["sentence_id"] == sid].set_index("field")
    answers = d.answers[d.answers["sentence_id"] == sid]
    people = sorted(answers["annotator"].astype(str).unique())
    given = {(str(a.annotator), str(a.field)): a.label for a in _tuples(answers)}
    hot = {
        f: ' class="hot"' if f in labels.index and _float(labels.loc[f, "agreement"]) < 1 else ""
        for f in fields
    }
    stance_fields = [f for f in fields if f.startswith("stance_")]
    group = (
        f'<tr><th></th><th colspan="{len(stance_fields)}" class="group">Stance toward</th>'
        f"{'<th></th>' * (len(fields) - len(stance_fields))}</tr>"
    )
    head = "".join(
        f"<th{hot[f]}>{_e(targets[f[7:]] if f in stance_fields else _field_name(d.config, f))}</th>"
        for f in fields
    )
    body = []
    for person in people:
        cells = "".join(f"<td{hot[f]}>{d.stance.chip(given.get((person, f)))}</td>" for f in fields)
        body.append(f'<tr><td class="who">{_e(person)}</td>{cells}</tr>')
    finals = []
    for f in fields:
        if f in labels.index:
            final = {str(k): v for k, v in labels.loc[f].to_dict().items()}
            finals.append(
                f"<td{hot[f]}>{d.stance.chip(final.get('label'))}<br>"
                f'<span class="small muted">{_e(_final_note(final))}</span></td>'
            )
        else:
            finals.append(f"<td{hot[f]}></td>")
    body.append(f'<tr class="final"><th>Label used</th>{"".join(finals)}</tr>')
    return (
        f'<div class="scroll"><table><thead>{group}<tr><th>Annotator</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _contested_case(d: _Data, sid: str) -> str:
    """One contested sentence between its neighbours, and every annotator's answers."""
    sents = d.sentences
    here = sents.index[sents["sentence_id"] == sid]
    if not len(here):
        return ""
    i = int(here[0])
    row = sents.loc[i]
    doc = str(row["doc_id"])
    name = d.docs.set_index("doc_id")["name"].get(doc, doc)

    def context(j: int) -> str:
        if 0 <= j < len(sents) and sents.loc[j, "doc_id"] == doc:
            return f'<p class="ctx"{_lang(sents.loc[j, "language"])}>{_e(sents.loc[j, "text"])}</p>'
        return ""

    where = f"{name} · sentence {_int(row['number'])} of {int((sents['doc_id'] == doc).sum())}"
    return (
        f'<div class="case" data-sentence="{_e(sid)}"><div class="where">{_e(where)}</div>{context(i - 1)}'
        f'<p class="focus"{_lang(row["language"])}>{_e(row["text"])}</p>{context(i + 1)}'
        f"{_answer_table(d, sid)}</div>"
    )


def _contested_section(d: _Data) -> str:
    live = d.labels[d.labels["sentence_id"].isin(d.sentences["sentence_id"])]
    ranked = contested_ranking(live)
    intro = (
        f"The sentences annotators disagreed on most (up to {CONTESTED_SHOWN}), with the sentence before and "
        "after for context, and every annotator's answer. Columns with a tinted background are where the "
        "answers differ. Ranked by the smallest share of annotators agreeing on any question, then by how "
        "narrowly the winning label won, then by how unsure the Dawid–Skene model is. Disagreement often "
        "points to an unclear guideline; <code>annotate adjudicate</code> sends such sentences to a "
        "reviewer for a final decision."
    )
    if not ranked:
        return _section(
            "contested", intro, "<p>The annotators agree on every answer: nothing is contested.</p>"
        )
    total = int((live.groupby("sentence_id")["agreement"].min() < 1).sum())
    lead = (
        f"<p class='muted small'>{total} sentences have at least one disagreement; the top {len(ranked)}:</p>"
    )
    return _section("contested", intro, lead + "".join(_contested_case(d, sid) for sid in ranked))


# -- bias cues -------------------------------------------------------------------------------------


def _char_offsets(text: str, start: int, end: int, span_text: str) -> tuple[int, int] | None:
    """``(start, end)`` as Python string indices: Label Studio may count UTF-16 code units."""
    if 0 <= start < end <= len(text) and (not span_text or text[start:end] == span_text):
        return start, end
    units = 0
    index_of = {}
    for i, char in enumerate(text):
        index_of[units] = i
        units += 2 if ord(char) > 0xFFFF else 1
    index_of[units] = len(text)
    if start in index_of and end in index_of and index_of[start] < index_of[end]:
        return index_of[start], index_of[end]
    if 0 <= start < end <= len(text):
        return start, end
    return None


def highlight(text: str, spans: Iterable[tuple[int, int, str]], total: int, label: str) -> str:
    """``text`` escaped, with ``<mark>`` around characters covered by any of ``spans``.

    ``spans`` are ``(start, end, span_text)`` offsets into the raw ``text`` (one per annotator's
    span); a mark's shade grows with the number of annotators who covered the characters.
    The text is cut at the offsets and every piece escaped on its own.
    """
    cover = [0] * len(text)
    for start, end, span_text in spans:
        found = _char_offsets(text, start, end, span_text)
        if found:
            for i in range(*found):
                cover[i] += 1
    out = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and cover[j] == cover[i]:
            j += 1
        piece = _e(text[i:j])
        if cover[i]:
            tip = f"{label}: marked by {cover[i]} of {total} annotators"
            out.append(f'<mark class="cue k{min(cover[i], 3)}" title="{_e(tip)}">{piece}</mark>')
        else:
            out.append(piece)
        i = j
    return "".join(out)


def _cue_summary(d: _Data) -> pd.DataFrame:
    """Per sentence × cue label: annotators who marked it, spans, and the sentence's annotators."""
    if d.cues.empty:
        return pd.DataFrame(columns=["sentence_id", "doc_id", "label", "annotators", "spans", "raters"])
    per = (
        d.cues.groupby(["sentence_id", "doc_id", "label"])
        .agg(annotators=("annotator", "nunique"), spans=("annotator", "size"))
        .reset_index()
    )
    per["raters"] = per["sentence_id"].map(d.raters).fillna(per["annotators"]).astype(int)
    return per


_CUE_STRONG, _CUE_LIGHT = "#c98a00", "#f0d089"


def _cue_bar(cue: str, marked: int, majority: int, most: int) -> str:
    """Sentences where ``cue`` was marked: by most of their annotators (dark), by fewer (light)."""
    pieces = [
        (majority, _CUE_STRONG, "#fff", f"{cue}: {majority} sentences marked by most of their annotators"),
        (marked - majority, _CUE_LIGHT, "#1f2328", f"{cue}: {marked - majority} sentences marked by fewer"),
    ]
    x, groups = 0.0, []
    for count, fill, ink, tip in pieces:
        if not count:
            continue
        width = 100 * count / most
        text = f'<text x="{x + width / 2:.3f}%" y="17.5" text-anchor="middle" fill="{ink}">{count}</text>'
        groups.append(
            f'<g class="cue-seg"><title>{_e(tip)}</title><rect x="{x:.3f}%" width="{width:.3f}%" height="26" '
            f'fill="{fill}" stroke="#fff" stroke-width="1"/>{text}</g>'
        )
        x += width
    return f'<svg class="bar" role="img" aria-label="{_e(cue)}: {marked} sentences">{"".join(groups)}</svg>'


def _cue_bars(d: _Data, per: pd.DataFrame) -> str:
    most = max([int((per["label"] == c).sum()) for c in d.config.cues] + [1])
    rows = []
    for cue in d.config.cues:
        part = per[per["label"] == cue]
        marked = len(part)
        majority = int((2 * part["annotators"] > part["raters"]).sum())
        spans = int(part["spans"].sum())
        rows.append(
            f'<div class="bar-row" data-cue="{_e(cue)}"><div class="bar-name" title="{_e(cue)}">{_e(cue)}'
            f'</div>{_cue_bar(cue, marked, majority, most)}<div class="bar-total">'
            f"{_plural(marked, 'sentence')} · {_plural(spans, 'span')}</div></div>"
        )
    legend = _swatches(
        [
            (f"background:{_CUE_STRONG}", "sentences where most of their annotators marked the cue"),
            (f"background:{_CUE_LIGHT}", "sentences where fewer did"),
        ]
    )
    bars = f'<div class="bars" data-chart="cues">{"".join(rows)}</div>'
    return f"<h3>How often each cue was marked</h3>{legend}{bars}"


def _cue_per_document(d: _Data, per: pd.DataFrame) -> str:
    cues = list(d.config.cues)
    counts = per.groupby(["doc_id", "label"]).size()
    peak = max(int(counts.max()) if len(counts) else 0, 1)
    head = "".join(f'<th class="num">{_e(c)}</th>' for c in cues)
    body = []
    for doc in _tuples(d.docs):
        cells = []
        for cue in cues:
            n = int(counts.get((doc.doc_id, cue), 0))
            shade = f"background:rgba(201,138,0,{0.08 + 0.5 * n / peak:.2f})" if n else ""
            cells.append(f'<td class="num" style="{shade}">{n}</td>')
        body.append(
            f"<tr><td>{_e(doc.name)}</td>{''.join(cells)}<td class='num'>{int(doc.sentences)}</td></tr>"
        )
    return (
        "<h3>Per article</h3><p class='explain small'>Sentences of each article where at least one annotator "
        "marked the cue; the darker the cell, the more.</p>"
        f'<div class="scroll"><table class="heat"><thead><tr><th>Article</th>{head}'
        f'<th class="num">sentences</th></tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def _cue_example(d: _Data, sentence: pd.Series, cue: str, annotators: int, raters: int) -> str:
    spans = d.cues[(d.cues["sentence_id"] == sentence.name) & (d.cues["label"] == cue)]
    offsets = [
        (int(s.start), int(s.end), _text(s.span_text))
        for s in _tuples(spans)
        if not (pd.isna(s.start) or pd.isna(s.end))
    ]
    name = d.docs.set_index("doc_id")["name"].get(sentence["doc_id"], sentence["doc_id"])
    where = f"{name} · sentence {int(sentence['number'])} · marked by {annotators} of {raters} annotators"
    return (
        f'<div class="example"><span{_lang(sentence["language"])}>'
        f"{highlight(str(sentence['text']), offsets, raters, cue)}</span>"
        f'<div class="muted small">{_e(where)}</div></div>'
    )


def _cue_examples(d: _Data, per: pd.DataFrame) -> str:
    texts = d.sentences.set_index("sentence_id")
    parts = [
        "<h3>Examples</h3><p class='explain small'>For each cue, the sentences where the most annotators "
        "marked it. The highlighted words are what they marked; the darker, the more annotators chose "
        "them (hover for the count).</p>"
    ]
    for cue in d.config.cues:
        part = per[per["label"] == cue].sort_values(["annotators", "spans"], ascending=False, kind="stable")
        part = part[part["sentence_id"].isin(texts.index)].head(CUE_EXAMPLES)
        parts.append(f"<h4>{_e(cue)}</h4>")
        if part.empty:
            parts.append("<p class='muted small'>Not marked anywhere yet.</p>")
        for ex in _tuples(part):
            parts.append(_cue_example(d, texts.loc[ex.sentence_id], cue, int(ex.annotators), int(ex.raters)))
    return "".join(parts)


def _cues_section(d: _Data) -> str:
    if not d.config.cues:
        return _section(
            "cues", "This project asks for no bias cues (<code>cues</code> is empty in the config).", ""
        )
    per = _cue_summary(d)
    intro = (
        "Bias cues are words annotators marked as carrying bias: "
        + ", ".join(f"<em>{_e(c)}</em>" for c in d.config.cues)
        + ". First how often each cue was marked (counting sentences, so one sentence marked by three people "
        "counts once), then per article, then examples with the marked words highlighted. Agreement on cues "
        "is in the agreement table above."
    )
    return _section("cues", intro, _cue_bars(d, per) + _cue_per_document(d, per) + _cue_examples(d, per))


# -- articles sentence by sentence -----------------------------------------------------------------


def _sentence_view(
    d: _Data, s: Any, k: int, n: int, label_row: dict[str, Any] | None, given: list[str]
) -> tuple[str, str]:
    """One sentence of the article view: its square in the strip and its tinted text."""
    if label_row is None:
        label, tip, cls, tie = "", f"Sentence {s.number}: no answers yet", "unlabelled", ""
    else:
        label = _text(label_row.get("label")) or NO_MAJORITY
        tip = f"Sentence {s.number}: {label} ({_final_note(label_row)}); answers: {', '.join(given)}"
        cls = d.stance.css.get(label, "unlabelled")
        tie = " tie-mark" if bool(label_row.get("contested")) else ""
    fill = d.stance.fill.get(label)
    paint = f'fill="{fill}" stroke="#fff"' if fill else 'fill="#fff" stroke="#afb8c1" stroke-dasharray="2 2"'
    square = (
        f'<rect x="{100 * k / n:.3f}%" y="0.5" width="{100 / n:.3f}%" height="17" {paint} stroke-width="1">'
        f"<title>{_e(tip)}</title></rect>"
    )
    text = (
        f'<span class="sent {cls}{tie}" title="{_e(tip)}"{_lang(s.language)}>'
        f"<sup>{s.number}</sup>{_e(s.text)}</span>"
    )
    return square, text


def _doc_meta(doc: Any) -> str:
    """The line under an article's title: id, sentences, outlet, country, author, date, language, link."""
    items = [f"<code>{_e(doc.doc_id)}</code>", _plural(int(doc.sentences), "sentence")]
    items += [_e(value) for value in (_text(getattr(doc, c)) for c in _META[1:-2]) if value]
    items += [_e(_text(doc.language))] if _text(doc.language) else []
    url = _text(doc.url)
    if url.startswith(("https://", "http://")):
        items.append(f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(url)}</a>')
    elif url:
        items.append(_e(url))
    return " · ".join(items)


def _article(d: _Data, doc: Any, target_id: str, answers: dict[tuple[str, str], list[str]]) -> str:
    field = f"stance_{target_id}"
    part = d.labels[(d.labels["field"] == field) & (d.labels["doc_id"] == doc.doc_id)]
    labels = {str(r["sentence_id"]): r for r in _records(part)}
    sents = d.sentences[d.sentences["doc_id"] == doc.doc_id]
    strip: list[str] = []
    paragraphs: list[str] = []
    current: list[str] = []
    last: Any = object()
    for k, s in enumerate(_tuples(sents)):
        sid = str(s.sentence_id)
        square, text = _sentence_view(d, s, k, len(sents), labels.get(sid), answers.get((sid, field), []))
        strip.append(square)
        if current and (pd.isna(s.paragraph) or s.paragraph != last):
            paragraphs.append(f'<p class="para">{" ".join(current)}</p>')
            current = []
        last = s.paragraph
        current.append(text)
    if current:
        paragraphs.append(f'<p class="para">{" ".join(current)}</p>')
    return (
        f'<article class="doc" data-doc="{_e(doc.doc_id)}"><h4{_lang(doc.language)}>{_e(doc.name)}</h4>'
        f'<div class="meta">{_doc_meta(doc)}</div>'
        f'<svg class="strip" role="img" aria-label="stance of each sentence, in order">{"".join(strip)}</svg>'
        f"{''.join(paragraphs)}</article>"
    )


def _tab_rules(n: int) -> str:
    """CSS that shows the article panel of the checked target tab (no script needed)."""
    return "\n" + "".join(f"#art-t{i}:checked~.panel-t{i}{{display:block}}" for i in range(n))


def _articles_section(d: _Data) -> str:
    answers: dict[tuple[str, str], list[str]] = {}
    for a in _tuples(d.answers):
        answers.setdefault((str(a.sentence_id), str(a.field)), []).append(str(a.label))
    targets = list(d.config.targets)
    tabs, panels = [], []
    for i, target in enumerate(targets):
        checked = " checked" if i == 0 else ""
        tabs.append(
            f'<input type="radio" name="article-target" id="art-t{i}"{checked}>'
            f'<label for="art-t{i}">{_e(target.label)}</label>'
        )
        docs = "".join(_article(d, doc, target.id, answers) for doc in _tuples(d.docs))
        panels.append(
            f'<div class="tab-panel panel-t{i}" data-target="{_e(target.id)}">'
            f"<p class='small muted'>Coloured by stance toward <strong>{_e(target.label)}</strong>.</p>"
            f"{docs or '<p>No articles.</p>'}</div>"
        )
    legend = _legend(
        d.stance,
        [("outline:1px dotted #afb8c1;background:#fff", "no answers yet")],
    )
    intro = (
        "Each article as it was annotated, sentence by sentence, each sentence tinted by the stance label it "
        "got toward the target chosen in the tabs below; the strip above each article shows the same colours "
        "in sentence order, so you can see at a glance where an article turns for or against. A dashed "
        "outline marks a sentence without a clear majority. Hover over a sentence to see every answer."
    )
    body = f'{legend}<div class="tabs">{"".join(tabs)}{"".join(panels)}</div>'
    return _section("articles", intro, body)


def _footer(d: _Data) -> str:
    version = _text(d.manifest.get("annotate_version"))
    return (
        "<footer>Made by <code>annotate summarize</code>"
        + (f" {_e(version)}" if version else "")
        + ". The tables behind this page are the CSV files next to it: sentence_labels.csv, "
        "document_stance.csv, agreement.csv, annotators.csv. This page loads nothing from the network."
        "</footer>\n</main>\n</body>\n</html>\n"
    )


def render_report(
    config: ProjectConfig,
    manifest: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    sentences: pd.DataFrame,
    annotations: pd.DataFrame,
    excluded: Sequence[str] = (),
) -> str:
    """The report page as one self-contained HTML string.

    In: the project ``config``; the pull's ``manifest`` (``manifest.json``: pulled_at, project_name,
    project_id, label_studio_url/version, rows); ``tables`` as returned by
    ``annotate.analysis.compute_tables`` (``sentence_labels``, ``document_stance``, ``agreement``,
    ``annotators``); the pulled ``sentences`` and ``annotations`` tables (for the text, the article
    metadata, each annotator's answers and the cue spans); ``excluded``, annotators left out of the
    analysis (their answers are not shown). Gold sentences are left out of every chart.
    """
    d = _prepare(config, manifest, tables, sentences, annotations, excluded)
    return "".join(
        [
            _head(config.display_title(), d.stance.style() + _tab_rules(len(config.targets))),
            _header(d),
            _overview(d),
            _stance_section(d),
            _agreement_section(d),
            _annotators_section(d),
            _contested_section(d),
            _cues_section(d),
            _articles_section(d),
            _footer(d),
        ]
    )

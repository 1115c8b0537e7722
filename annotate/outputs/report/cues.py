"""The "Bias cues" section of ``report.html``.

How often each cue label was marked (a bar per cue), a heat table per article, and example
sentences with the marked words highlighted by ``highlight``, which cuts the raw text at the
span offsets and escapes every piece on its own.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from annotate.outputs.report.charts import _CUE_LIGHT, _CUE_STRONG, _cue_bar, _swatches
from annotate.outputs.report.data import _Data, _e, _lang, _plural, _text, _tuples
from annotate.outputs.report.sections import _section

#: Cue examples shown per cue label.
CUE_EXAMPLES = 3


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

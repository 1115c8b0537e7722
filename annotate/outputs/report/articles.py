"""The "Articles sentence by sentence" section of ``report.html``.

Every article as it was annotated, each sentence tinted by its final stance label toward the
target chosen with CSS-only tabs (``_tab_rules``), under a strip of the same colours in order.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from annotate.outputs.report.charts import _legend
from annotate.outputs.report.data import _META, _Data, _e, _lang, _plural, _records, _text, _tuples
from annotate.outputs.report.sections import _final_note, _section
from annotate.quality.majority import NO_MAJORITY


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


def _article(
    d: _Data, doc: Any, target_id: str, answers: dict[tuple[str, str], list[str]], anchored: bool = False
) -> str:
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
    anchor = f' id="{_e(doc.anchor)}"' if anchored else ""  # once: in the first target's panel
    return (
        f'<article class="doc"{anchor} data-doc="{_e(doc.doc_id)}">'
        f"<h4{_lang(doc.language)}>{_e(doc.name)}</h4>"
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
        docs = "".join(_article(d, doc, target.id, answers, anchored=i == 0) for doc in _tuples(d.docs))
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

"""The agreement section's close-up in ``report.html``: alpha per label and the articles with the lowest.

For each choice field, two compact tables side by side: alpha of each label against the rest with
its 95% interval (``agreement_by_label.csv``) and the ``LOWEST_ARTICLES`` articles with the lowest
alpha (``agreement_by_article.csv``), each title linked to the article in the articles section.
Nothing is shown when the tables are not given (a page made from older tables). Every text from
the data is escaped with ``_e``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from annotate.outputs.report.data import _Data, _e, _field_name, _num, _plural, _records, reliability_words

#: Articles listed per field, lowest alpha first.
LOWEST_ARTICLES = 10


def _alpha_cells(row: dict[str, Any]) -> str:
    """Alpha as a coloured pill (titled with why it is missing) and its interval, two cells."""
    alpha = float(row["krippendorff_alpha"])
    low, high = float(row["alpha_ci_low"]), float(row["alpha_ci_high"])
    if math.isnan(alpha):
        why = _e(row.get("note")) or "not computable"
        return f'<td class="num"><span class="verdict v-none">–</span></td><td class="small">{why}</td>'
    word = reliability_words(alpha)
    interval = "–" if math.isnan(low) or math.isnan(high) else f"{_num(low, 2)} to {_num(high, 2)}"
    return (
        f'<td class="num"><span class="verdict v-{word}" title="{_e(word)}">{_num(alpha)}</span></td>'
        f'<td class="num">{interval}</td>'
    )


def _label_table(rows: pd.DataFrame) -> str:
    body = "".join(
        f'<tr data-label="{_e(r["label"])}"><td>{_e(r["label"])}</td>{_alpha_cells(r)}<td class="num">'
        f'{int(r["label_values"]):,} <span class="muted">of {int(r["pairable_values"]):,}</span></td></tr>'
        for r in _records(rows)
    )
    head = (
        "<thead><tr><th>Label, against the rest</th><th class='num'>α</th><th class='num'>95% interval</th>"
        "<th class='num'>answers</th></tr></thead>"
    )
    return f'<div class="scroll"><table class="scope by-label">{head}<tbody>{body}</tbody></table></div>'


def _article_table(d: _Data, rows: pd.DataFrame) -> str:
    defined = rows[rows["krippendorff_alpha"].notna()]
    lowest = defined.sort_values(["krippendorff_alpha", "alpha_ci_low", "doc_id"], kind="stable")
    docs = d.docs.set_index("doc_id")
    body = []
    for r in _records(lowest.head(LOWEST_ARTICLES)):
        doc = str(r["doc_id"])
        name = _e(docs["name"].get(doc, doc))
        anchor = docs["anchor"].get(doc) if "anchor" in docs else None
        title = f'<a href="#{_e(anchor)}">{name}</a>' if anchor else name
        body.append(
            f'<tr data-doc="{_e(doc)}"><td>{title}<br><code>{_e(doc)}</code></td>{_alpha_cells(r)}'
            f'<td class="num">{int(r["units"]):,}</td></tr>'
        )
    without = len(rows) - len(defined)
    why = " (too few sentences with two answers, or one label only)"
    note = f"{_plural(len(defined), 'article')} with an α" + (
        f"; {_plural(without, 'article')} without{why}" if without else ""
    )
    note = f'<p class="small muted">{note}.</p>'
    if not body:
        return f"<div>{note}</div>"
    head = (
        "<thead><tr><th>Articles with the lowest α</th><th class='num'>α</th>"
        "<th class='num'>95% interval</th><th class='num'>sentences</th></tr></thead>"
    )
    table = f'<table class="scope by-article">{head}<tbody>{"".join(body)}</tbody></table>'
    return f'<div class="scroll">{table}{note}</div>'


def _scopes(d: _Data) -> str:
    """The per-label and per-article tables of every choice field, or nothing without them."""
    by_label, by_article = d.tables.get("agreement_by_label"), d.tables.get("agreement_by_article")
    if by_label is None or by_article is None or (by_label.empty and by_article.empty):
        return ""
    parts = [
        "<h3>Per label and per article</h3>",
        "<p class='explain'>One label against the rest: every answer is recoded as that label or another "
        "one, so α says how well the annotators agree on which sentences get the label; the label with the "
        "lowest α is the one they confuse with the others. Per article: α over that article's sentences "
        "alone, with the interval from resampling them; an article has few sentences, so judge it by the "
        f"interval's left end. The {LOWEST_ARTICLES} articles with the lowest α are listed, each linked to "
        "its text below.</p>",
    ]
    for field in d.config.choice_fields():
        labels = by_label[by_label["field"] == field]
        articles = by_article[by_article["field"] == field]
        if labels.empty and articles.empty:
            continue
        parts.append(f"<h4>{_e(_field_name(d.config, field))} <code>{_e(field)}</code></h4>")
        tables = _label_table(labels) + _article_table(d, articles)
        parts.append(f'<div class="scopes" data-field="{_e(field)}">{tables}</div>')
    return "".join(parts)

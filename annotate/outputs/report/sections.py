"""The frame of ``report.html`` and its first sections.

The ``<head>`` (with the stylesheet ``report.css``), the header with the table of contents,
``_section`` that every section is wrapped in, and the sections overview, stance per target,
agreement per field and annotators, then the footer. ``page_sections`` says which sections a
page has: ``SECTIONS`` always, the model section (``model``) only when a model card is given.
``_final_note`` (how a sentence's final label came about) is shared with the contested and
article sections.
"""

from __future__ import annotations

import functools
import importlib.resources
import math
from datetime import datetime
from typing import Any

import pandas as pd

from annotate.config import ProjectConfig
from annotate.outputs.report.charts import _alpha_scale, _axis, _legend, _meter, _progress_bar, _stance_chart
from annotate.outputs.report.data import (
    _Data,
    _e,
    _field_name,
    _float,
    _num,
    _pct,
    _records,
    _text,
    _tuples,
    reliability_words,
)
from annotate.outputs.report.scopes import _scopes
from annotate.quality.majority import NO_MAJORITY

SECTIONS = {
    "overview": "Overview",
    "stance": "Stance per target",
    "agreement": "Agreement per field",
    "annotators": "Annotators",
    "contested": "Most contested sentences",
    "cues": "Bias cues",
    "articles": "Articles sentence by sentence",
}
#: The section of the model card (``model.py``): on the page only with a card, before the articles.
MODEL_SECTION = "model"
ESTIMATES_SECTION = "estimates"
_HEADINGS = {**SECTIONS, MODEL_SECTION: "Model trained on the labels", ESTIMATES_SECTION: "Corpus estimates"}
#: The group of articles that do not give an outlet or country.
NOT_GIVEN = "not given"


# -- the page around the sections ------------------------------------------------------------------


def page_sections(with_model: bool = False, with_estimates: bool = False) -> dict[str, str]:
    """The sections of a page in order, key -> heading: ``SECTIONS``, and with ``with_model`` (a
    model card exists) the model section just before the articles, with ``with_estimates``
    (``annotate estimate`` ran) the corpus estimates after it. Without them, exactly ``SECTIONS``."""
    keys = list(SECTIONS)
    at = keys.index("articles")
    extra = [MODEL_SECTION] * with_model + [ESTIMATES_SECTION] * with_estimates
    keys[at:at] = extra
    return {key: _HEADINGS[key] for key in keys}


@functools.cache
def _stylesheet() -> str:
    """The page's style: ``report.css`` in this package, read once."""
    return (importlib.resources.files("annotate.outputs.report") / "report.css").read_text(encoding="utf-8")


def _head(title: str, css: str) -> str:
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(title)} · annotation report</title>\n"
        f"<style>\n{_stylesheet()}\n{css}</style>\n</head>\n<body>\n"
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
    shown = page_sections(d.card is not None, "estimates" in d.tables)
    toc = "".join(f'<a href="#{key}">{_e(name)}</a>' for key, name in shown.items())
    return (
        f'<header class="top"><div><h1>{_e(title)}</h1>'
        f'<p class="lead">{_e(_lead(d.config))} Each section starts with a short note on how to read it.</p>'
        f'<p class="muted small">Data pulled {_e(_pulled_at(d.manifest.get("pulled_at")))} from the '
        f"Label Studio project <code>{_e(d.manifest.get('project_name') or d.config.name)}</code>.</p>"
        f'<nav class="toc" aria-label="Sections">{toc}</nav></div></header>\n<main>\n'
    )


def _section(key: str, intro: str, body: str) -> str:
    heading = f'<h2>{_e(_HEADINGS[key])}</h2>\n<p class="explain">{intro}</p>'
    return f'<section id="{key}">\n{heading}\n{body}\n</section>\n'


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


# -- overview --------------------------------------------------------------------------------------


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


def _two(value: float) -> str:
    """Two decimals, without a minus sign on a value that rounds to zero."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


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
    body += _scopes(d)  # alpha per label and the articles with the lowest
    return _section("agreement", intro, body)


# -- annotators ------------------------------------------------------------------------------------


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


# -- footer ----------------------------------------------------------------------------------------


def _footer(d: _Data) -> str:
    version = _text(d.manifest.get("annotate_version"))
    return (
        "<footer>Made by <code>annotate summarize</code>"
        + (f" {_e(version)}" if version else "")
        + ". The tables behind this page are the CSV files next to it: sentence_labels.csv, "
        "document_stance.csv, agreement.csv, annotators.csv. This page loads nothing from the network."
        "</footer>\n</main>\n</body>\n</html>\n"
    )

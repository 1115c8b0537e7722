"""The "Most contested sentences" section of ``report.html``.

``contested_ranking`` orders the sentences with any disagreement; each shown sentence comes
with its neighbours for context and a table of every annotator's answers and the final labels.
"""

from __future__ import annotations

import pandas as pd

from annotate.outputs.report.data import _Data, _e, _field_name, _float, _int, _lang, _tuples
from annotate.outputs.report.sections import _final_note, _section

#: How many sentences "Most contested" shows.
CONTESTED_SHOWN = 10


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

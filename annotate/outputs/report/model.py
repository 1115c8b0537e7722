"""The model section of ``report.html``: what ``annotate learn`` trained, and how well, from its card.

In: ``_Data.card``, the ``ModelCard`` of ``exports/<name>/model/model_card.json``
(``annotate.model.card``; ``annotate.model.learn.previous_card`` reads it). Without a card there
is no section: ``_model_section`` returns "" and ``page_sections`` leaves it out of the table of
contents, so such a page is byte for byte what it was before this section existed.
Out: one section: a plain-words note on how to read it, the model version and when it was
trained, one row per field of the card — trained: the cross-validated accuracy as a bar with a
mark at the majority baseline, macro-F1, calibration error, labels and articles, the learning
curve; not trained: the reason — and precision and recall per label.

Every figure is the card's own (``cv`` is ``FieldReport.summary()`` of ``annotate.model.evaluate``),
shown with ``_pct`` and ``_num`` like the rest of the page; nothing is recomputed. The card is a
file: a missing or malformed value shows as "–" (and is left out of a chart), never as an error;
every text from it is escaped.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from annotate.model.card import FieldCard, ModelCard
from annotate.outputs.report.charts import _curve, _score_bar
from annotate.outputs.report.data import _Data, _e, _field_name, _num, _pct, _text
from annotate.outputs.report.sections import MODEL_SECTION, _pulled_at, _section


def _share(value: Any) -> float | None:
    """``value`` as a number in [0, 1] to draw, None when it is not one (missing, text, NaN, out of range)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0.0 <= number <= 1.0 else None


def _count(value: Any, word: str) -> str:
    """``12 articles``; "–" when ``value`` is not a whole number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"– {word}s"
    if value != int(value):
        return f"– {word}s"
    n = int(value)
    return f"{n:,} {word if n == 1 else word + 's'}"


def _cv(entry: FieldCard) -> dict[str, Any]:
    return entry.cv if entry.trained and isinstance(entry.cv, dict) else {}


def _dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _labels_line(entry: FieldCard) -> str:
    """The labels the field learnt from (or has), with their examples, and the card's note."""
    labels = " · ".join(f"{_e(label)} {_e(n)}" for label, n in _dict(entry.labels).items())
    line = f'<br><span class="small muted">{labels or "no labels"}</span>'
    if entry.note:
        line += f'<br><span class="small muted">{_e(entry.note)}</span>'
    return line


def _learning_curve(cv: dict[str, Any]) -> str:
    """The card's learning curve as a tiny chart and, under it, accuracy per share of the articles."""
    raw = [p for p in cv.get("learning_curve") or [] if isinstance(p, dict)]
    if not raw:
        return '<span class="muted">–</span>'
    points, words = [], []
    for p in raw:
        share, accuracy = _pct(p.get("fraction")), _pct(p.get("accuracy"))
        text = (
            f"{share} of each fold's training articles ({_num(p.get('train_articles'), 1)} on average): "
            f"accuracy {accuracy}, macro-F1 {_num(p.get('macro_f1'))}"
        )
        fraction, value = _share(p.get("fraction")), _share(p.get("accuracy"))
        if fraction is not None and value is not None:
            points.append((fraction, value, text))
        words.append(f"{share}: {accuracy}")
    tip = "Accuracy with " + ", ".join(words) + " of the training articles"
    chart = _curve(points, _share(cv.get("majority_baseline")), tip)
    return f'{chart}<br><span class="small muted">{_e(" · ".join(words))}</span>'


def _field_row(d: _Data, name: str, entry: FieldCard) -> str:
    head = (
        f"<td><strong>{_e(_field_name(d.config, name))}</strong><br><code>{_e(name)}</code>"
        f"{_labels_line(entry)}</td>"
    )
    sentences, articles = _count(entry.n_labels, "sentence"), _count(entry.n_articles, "article")
    amount = f'<td class="num">{sentences}<br>{articles}</td>'
    if not entry.trained:
        reason = _text(entry.reason) or "no reason given"
        return (
            f'<tr data-field="{_e(name)}" data-trained="no">{head}<td colspan="5">'
            f'<span class="verdict v-none">not trained</span> <span class="small">{_e(reason)}</span></td>'
            f"{amount}<td></td></tr>"
        )
    cv = _cv(entry)
    accuracy, baseline = cv.get("accuracy"), cv.get("majority_baseline")
    tip = f"accuracy {_pct(accuracy)}; always the commonest label: {_pct(baseline)}"
    calibration = '<br><span class="small muted">not calibrated</span>' if entry.calibrated is False else ""
    return (
        f'<tr data-field="{_e(name)}" data-trained="yes">{head}'
        f"<td>{_score_bar(_share(accuracy), _share(baseline), tip)}</td>"
        f'<td class="num" data-figure="accuracy"><strong>{_pct(accuracy)}</strong></td>'
        f'<td class="num" data-figure="baseline">{_pct(baseline)}</td>'
        f'<td class="num" data-figure="macro_f1">{_num(cv.get("macro_f1"))}</td>'
        f'<td class="num" data-figure="ece">{_num(cv.get("ece"))}{calibration}</td>'
        f"{amount}<td>{_learning_curve(cv)}</td></tr>"
    )


def _per_label(d: _Data, card: ModelCard) -> str:
    """Precision, recall, F1 and examples of each label of each trained field, as in the card."""
    rows = []
    for name, entry in card.fields.items():
        figures = {label: _dict(f) for label, f in _dict(_cv(entry).get("per_label")).items()}
        for i, (label, f) in enumerate(figures.items()):
            field_cell = (
                f'<td rowspan="{len(figures)}"><strong>{_e(_field_name(d.config, name))}</strong></td>'
                if i == 0
                else ""
            )
            support = f.get("support")
            rows.append(
                f'<tr data-field="{_e(name)}" data-label="{_e(label)}">{field_cell}<td>{_e(label)}</td>'
                f'<td class="num">{_pct(f.get("precision"))}</td><td class="num">{_pct(f.get("recall"))}</td>'
                f'<td class="num">{_num(f.get("f1"))}</td>'
                f'<td class="num">{_e(support) if isinstance(support, int) else "–"}</td></tr>'
            )
    if not rows:
        return ""
    head = (
        "<thead><tr><th>Field</th><th>Label</th><th class='num'>precision</th><th class='num'>recall</th>"
        "<th class='num'>F1</th><th class='num'>sentences</th></tr></thead>"
    )
    explain = (
        "<p class='explain'><em>Precision</em>: of the sentences the model gave this label, the share "
        "whose final label it is. <em>Recall</em>: of the sentences with this final label, the share the "
        "model found. A label with low recall is one the model's suggestions would rarely offer.</p>"
    )
    return (
        f"<h3>Precision and recall per label</h3>{explain}"
        f'<div class="scroll"><table class="per-label">{head}<tbody>{"".join(rows)}</tbody></table></div>'
    )


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(_text(value))
    except ValueError:
        return None


def _facts(d: _Data, card: ModelCard) -> str:
    """The model version, when it was trained, and a warning when it predates the pull on the page."""
    trained = sum(1 for entry in card.fields.values() if entry.trained)
    text = (
        f"<p>Model <code>{_e(card.model_version)}</code>, trained {_e(_pulled_at(card.created))} "
        f"(seed {_e(card.seed)}, scikit-learn {_e(card.sklearn_version)}): {trained} of "
        f"{len(card.fields)} questions have a model. The figures are those of "
        "<code>model/model_card.json</code> next to this page.</p>"
    )
    created, pulled = _when(card.created), _when(d.manifest.get("pulled_at"))
    try:
        older = created is not None and pulled is not None and created < pulled
    except TypeError:  # one has a time zone and the other not
        older = False
    if older:
        text += (
            "<p class='explain'><strong>This model was trained before the data on this page were "
            "pulled</strong>: its figures describe the labels of that time. Run <code>annotate learn</code> "
            "again to bring them up to date.</p>"
        )
    return text


_INTRO = (
    "What <code>annotate learn</code> learnt from the final labels on this page (majority, Dawid–Skene, "
    "adjudicated and gold alike): for each question with enough labels, a text classifier that can "
    "suggest labels for sentences nobody has labelled yet. Its figures are cross-validated with folds "
    "grouped by article: every sentence was predicted by a model trained on other articles only, so no "
    "article is in both training and test. Compare <em>accuracy</em> with the <em>baseline</em> (the "
    "dashed mark), which always answers the commonest label: only a clear gap shows that the model learnt "
    "something. The <em>calibration error</em> says how far the model's confidence is from how often it "
    "is right: 0 is perfect, 0.05 means about 5 percentage points off on average."
)
_NOTES = (
    "<ul class='explain small'><li><em>Macro-F1</em> averages the F1 of the labels, so a rare label counts "
    "as much as a common one: a model that ignores a rare label has a high accuracy but a low macro-F1.</li>"
    "<li><em>Learning curve</em>: accuracy when each fold trains on 25, 50, 75 and 100% of its articles "
    "(the dashed line is the baseline). If it still climbs at 100%, more labelled articles would help.</li>"
    "<li><em>Learnt from</em>: the labelled sentences and their articles; under each question, its labels "
    "and how many sentences have each. <em>Not calibrated</em>: the final model's confidence is its "
    "raw estimate (calibrating needs at least three examples of every label).</li></ul>"
)


def _model_section(d: _Data) -> str:
    """The model section from ``d.card``; "" when there is no card."""
    card = d.card
    if card is None:
        return ""
    head = (
        "<thead><tr><th>Field</th><th class='scale'>accuracy and baseline</th><th class='num'>accuracy</th>"
        "<th class='num'>baseline</th><th class='num'>macro-F1</th><th class='num'>calibration error</th>"
        "<th class='num'>learnt from</th><th>learning curve</th></tr></thead>"
    )
    rows = "".join(_field_row(d, name, entry) for name, entry in card.fields.items())
    table = f'<div class="scroll"><table class="model">{head}<tbody>{rows}</tbody></table></div>{_NOTES}'
    return _section(MODEL_SECTION, _INTRO, _facts(d, card) + table + _per_label(d, card) + _anchoring(d))


def _anchoring(d: _Data) -> str:
    """The anchoring check (``anchoring.csv``), when ``annotate learn`` has suggested: "" otherwise."""
    table = d.tables.get("anchoring")
    if table is None or table.empty:
        return ""
    rows = "".join(
        f"<tr><td>{_e(_field_name(d.config, str(r['field'])))}</td>"
        f"<td class='num'>{_pct(r['agree_shown'])} of {int(r['answers_shown'])}</td>"
        f"<td class='num'>{_pct(r['agree_control'])} of {int(r['answers_control'])}</td>"
        f"<td class='num'>{_num(r['effect'], 2)} "
        f"[{_num(r['effect_ci_low'], 2)}, {_num(r['effect_ci_high'], 2)}]</td>"
        f"<td>{_e(r['verdict'])}</td></tr>"
        for r in table.to_dict("records")
    )
    return (
        "<h3>Did the suggestions pull the answers toward the model?</h3>"
        "<p class='explain'>On a random tenth of the tasks it suggested on (<code>suggest_control</code>), "
        "the model's choice was recorded but not shown. If annotators chose the model's label more often "
        "where they saw it than where they did not, the suggestions anchor them (Berzak et al. 2016; "
        "Fort &amp; Sagot 2010). The interval is a 95% bootstrap over articles.</p>"
        "<div class='scroll'><table><thead><tr><th>Field</th>"
        "<th class='num'>chose the model's label, shown</th>"
        "<th class='num'>not shown</th><th class='num'>difference [95% CI]</th><th>in plain words</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></div>"
    )

"""The hand-written inline SVG and colour keys of ``report.html``.

Legends and swatches, the progress bar, the stacked stance bars (with the table of their
numbers), the α scale and its axis, the share meters of the annotators table, the cue bars, and
the model's accuracy bar (with its baseline mark) and learning curve.
Each function returns a piece of markup; the data comes in as arguments, never from ``_Data``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from annotate.outputs.report.data import SUBSTANTIAL, TENTATIVE, _e, _plural, _Stance, _text_colour
from annotate.quality.majority import NO_MAJORITY

# -- legends ---------------------------------------------------------------------------------------


def _swatches(items: Iterable[tuple[str, str]], classes: Iterable[tuple[str, str]] = ()) -> str:
    """A colour legend from ``(css style, text)`` and ``(css class, text)`` pairs."""
    spans = [f'<span><i class="sw {_e(cls)}"></i>{_e(text)}</span>' for cls, text in classes]
    spans += [f'<span><i class="sw" style="{_e(style)}"></i>{_e(text)}</span>' for style, text in items]
    return f'<div class="legend" aria-label="Colour legend">{"".join(spans)}</div>'


def _legend(stance: _Stance, extra: Iterable[tuple[str, str]] = ()) -> str:
    """The stance colours (and ``extra`` swatches)."""
    names = {NO_MAJORITY: "No majority (a tie that could not be broken)"}
    return _swatches(extra, [(stance.css[label], names.get(label, label)) for label in stance.labels])


# -- progress --------------------------------------------------------------------------------------


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


# -- agreement -------------------------------------------------------------------------------------


def _x(value: float) -> float:
    """Position of an α value on the 0..1 scale, in percent (values below 0 sit at the left edge)."""
    return 100 * min(1.0, max(0.0, value))


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


# -- annotators ------------------------------------------------------------------------------------


def _meter(value: Any) -> str:
    try:
        share = float(value)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(share):
        return "–"
    return f'<span class="meter"><span style="width:{100 * share:.0f}%"></span></span>{share:.0%}'


# -- bias cues -------------------------------------------------------------------------------------


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


# -- model -----------------------------------------------------------------------------------------

_MODEL_INK, _BASELINE_INK = "#6487ab", "#1f2328"


def _score_bar(accuracy: float | None, baseline: float | None, tip: str) -> str:
    """``accuracy`` as a bar on a 0..1 scale with a dashed mark at ``baseline`` (either None: not
    drawn); ``tip`` says the same in words."""
    parts = ['<rect x="0" y="4" width="100%" height="14" fill="#eceef1"/>']
    if accuracy is not None:
        parts.append(f'<rect x="0" y="4" width="{_x(accuracy):.2f}%" height="14" fill="{_MODEL_INK}"/>')
    if baseline is not None:
        x = _x(baseline)
        parts.append(
            f'<line x1="{x:.2f}%" x2="{x:.2f}%" y1="0" y2="22" stroke="{_BASELINE_INK}" stroke-width="2" '
            'stroke-dasharray="3 2"/>'
        )
    return (
        f'<svg class="scale" role="img" aria-label="{_e(tip)}"><title>{_e(tip)}</title>{"".join(parts)}</svg>'
    )


def _curve(points: list[tuple[float, float, str]], baseline: float | None, tip: str) -> str:
    """A tiny learning curve: ``(fraction of the training articles, accuracy, its text)`` points, both
    in [0, 1], joined by a line; ``baseline`` a dashed level (None: not drawn); ``tip`` the whole."""
    width, height, pad = 120, 36, 4

    def at(fraction: float, accuracy: float) -> tuple[float, float]:
        return pad + fraction * (width - 2 * pad), height - pad - accuracy * (height - 2 * pad)

    parts = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f6f8fa"/>']
    if baseline is not None:
        _, y = at(0.0, baseline)
        parts.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y:.1f}" y2="{y:.1f}" stroke="{_BASELINE_INK}" '
            'stroke-width="1" stroke-dasharray="3 2"/>'
        )
    xy = [at(fraction, accuracy) for fraction, accuracy, _ in points]
    if len(xy) > 1:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{_MODEL_INK}" stroke-width="1.5"/>')
    for (x, y), (_, _, text) in zip(xy, points, strict=True):
        dot = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{_MODEL_INK}">'
        parts.append(f"{dot}<title>{_e(text)}</title></circle>")
    return (
        f'<svg class="curve" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(tip)}"><title>{_e(tip)}</title>{"".join(parts)}</svg>'
    )

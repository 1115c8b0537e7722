"""The corpus-estimates section of ``report.html``: what ``annotate estimate`` found.

In: ``_Data.tables["estimates"]`` (``estimates.csv``) and ``_Data.tables["estimate_differences"]``
(``estimate_differences.csv``), read by ``annotate summarize`` when ``annotate estimate`` has
written them; without them there is no section (``_estimates_section`` returns "" and
``page_sections`` leaves it out of the table of contents).
Out: a plain-words note on the method and how many human labels the model saved (the
effective sample size), then per field a forest plot (inline SVG: each group's share of each
label, the PPI++ interval drawn over the wider human-only one) with the figures in a table,
and the differences between groups that stay significant after Holm's adjustment.

Every figure is the file's own; nothing is recomputed. Every text from the files is escaped.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from annotate.outputs.report.data import _Data, _e, _field_name, _num, _pct
from annotate.outputs.report.sections import ESTIMATES_SECTION, _section

#: Plot geometry (px): the label column, the 0–1 axis, one row per group × label.
_LEFT, _AXIS, _ROW = 210, 420, 20


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _x(share: float) -> float:
    return _LEFT + max(0.0, min(1.0, share)) * _AXIS


def _forest(rows: list[dict[Any, Any]], title: str) -> str:
    """Rows of (group, label, PPI++ estimate/low/high, classical estimate/low/high) as a forest plot."""
    height = _ROW * len(rows) + 30
    parts = [
        f'<line x1="{_x(t):.1f}" y1="4" x2="{_x(t):.1f}" y2="{height - 22}" class="grid"/>'
        f'<text x="{_x(t):.1f}" y="{height - 8}" text-anchor="middle" class="tick">{t:.0%}</text>'
        for t in (0, 0.25, 0.5, 0.75, 1)
    ]
    for i, row in enumerate(rows):
        y = 14 + i * _ROW
        name = f"{row['group']} · {row['label']}"
        parts.append(f'<text x="{_LEFT - 8}" y="{y + 4}" text-anchor="end" class="name">{_e(name)}</text>')
        c_low, c_high = _float(row.get("classical_low")), _float(row.get("classical_high"))
        if c_low is not None and c_high is not None:
            parts.append(
                f'<line x1="{_x(c_low):.1f}" y1="{y}" x2="{_x(c_high):.1f}" y2="{y}" class="human">'
                f"<title>human labels only: {_pct(row.get('classical'))} ({_pct(c_low)}–{_pct(c_high)})"
                "</title></line>"
            )
        a_low, a_high, a = _float(row.get("ppi_low")), _float(row.get("ppi_high")), _float(row.get("ppi"))
        if a_low is not None and a_high is not None and a is not None:
            tip = f"with the model (PPI++): {_pct(a)} ({_pct(a_low)}–{_pct(a_high)})"
            parts.append(
                f'<line x1="{_x(a_low):.1f}" y1="{y}" x2="{_x(a_high):.1f}" y2="{y}" class="assisted">'
                f"<title>{_e(tip)}</title></line>"
                f'<circle cx="{_x(a):.1f}" cy="{y}" r="3.5" class="assisted">'
                f"<title>{_e(tip)}</title></circle>"
            )
    width = _LEFT + _AXIS + 20
    return (
        f'<svg class="forest" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(title)}"><title>{_e(title)}</title>{"".join(parts)}</svg>'
    )


def _wide(estimates: pd.DataFrame) -> pd.DataFrame:
    """One row per field × group × label with both methods side by side."""
    keys = ["field", "group", "label"]
    assisted = estimates[estimates["method"] == "PPI++"].set_index(keys)
    human = estimates[estimates["method"] == "classical"].set_index(keys)
    out = pd.DataFrame(
        {
            "ppi": assisted["estimate"],
            "ppi_low": assisted["ci_low"],
            "ppi_high": assisted["ci_high"],
            "effective_n": assisted["effective_n"],
            "n_human": assisted["n_human"],
            "n_model": assisted["n_model"],
        }
    )
    out = out.join(
        human[["estimate", "ci_low", "ci_high"]].rename(
            columns={"estimate": "classical", "ci_low": "classical_low", "ci_high": "classical_high"}
        ),
        how="outer",
    )
    return out.reset_index()


def _summary(wide: pd.DataFrame) -> str:
    human = pd.to_numeric(wide["n_human"], errors="coerce")
    effective = pd.to_numeric(wide["effective_n"], errors="coerce")
    ratio = (effective / human).replace([math.inf, -math.inf], math.nan).dropna()
    if ratio.empty:
        return ""
    median = float(ratio.median())
    saved = float((effective - human).clip(lower=0).median())
    return (
        f"<p>Across the {len(ratio)} shares below, the model's predictions made each estimate as "
        f"precise as <strong>{median:.1f}×</strong> as many human labels (median), about "
        f"<strong>{saved:,.0f}</strong> labels saved per share. Where the model helps little, the "
        "interval is simply the human-only one.</p>"
    )


def _table(rows: list[dict[Any, Any]]) -> str:
    head = (
        "<tr><th>group · label</th><th>with the model (PPI++)</th><th>human labels only</th>"
        "<th>audit labels</th><th>effective labels</th></tr>"
    )
    body = "".join(
        f"<tr><td>{_e(r['group'])} · {_e(r['label'])}</td>"
        f"<td>{_pct(r.get('ppi'))} ({_pct(r.get('ppi_low'))}–{_pct(r.get('ppi_high'))})</td>"
        f"<td>{_pct(r.get('classical'))} "
        f"({_pct(r.get('classical_low'))}–{_pct(r.get('classical_high'))})</td>"
        f"<td>{_num(r.get('n_human'), 0)}</td><td>{_num(r.get('effective_n'), 0)}</td></tr>"
        for r in rows
    )
    return f'<table class="data">{head}{body}</table>'


def _differences(differences: pd.DataFrame | None, d: _Data) -> str:
    if differences is None or differences.empty:
        return ""
    shown = differences[(differences["method"] == "PPI++") & differences["significant"].astype(bool)]
    if shown.empty:
        return (
            "<h3>Differences between groups</h3><p>No difference between groups stays significant "
            "after Holm's adjustment.</p>"
        )
    head = (
        "<tr><th>field</th><th>label</th><th>groups</th><th>difference</th><th>interval</th>"
        "<th>Holm p</th></tr>"
    )
    body = "".join(
        f"<tr><td>{_e(_field_name(d.config, r['field']))}</td><td>{_e(r['label'])}</td>"
        f"<td>{_e(r['group_a'])} − {_e(r['group_b'])}</td><td>{_num(r['difference'])}</td>"
        f"<td>{_num(r['ci_low'])} to {_num(r['ci_high'])}</td><td>{_num(r['p_holm'], 3)}</td></tr>"
        for r in shown.sort_values("p_holm").to_dict("records")
    )
    return (
        "<h3>Differences between groups</h3><p>Pairs whose shares differ after Holm's adjustment "
        f'over all pairs of groups (model-assisted estimates).</p><table class="data">{head}{body}</table>'
    )


def _estimates_section(d: _Data) -> str:
    estimates = d.tables.get("estimates")
    if estimates is None or estimates.empty:
        return ""
    wide = _wide(estimates)
    intro = (
        "Shares of each label in the whole pushed corpus, estimated from the <em>audit sample</em> "
        "(a random share of the sentences, labelled first). Two estimates from the same human "
        "labels: the grey line uses them alone, the coloured one adds the model's predictions on "
        "every sentence, corrected by the model's errors on the audit (prediction-powered "
        "inference with power tuning, PPI++). Both are unbiased; the coloured interval is never "
        "wider. 95% intervals unless the file says otherwise, cluster-robust over articles."
    )
    blocks = [_summary(wide)]
    for field, part in wide.groupby("field", sort=False):
        rows = part.sort_values(["group", "label"]).to_dict("records")
        name = _field_name(d.config, str(field))
        blocks.append(f"<h3>{_e(name)}</h3>" + _forest(rows, f"{name}: shares by group") + _table(rows))
    blocks.append(_differences(d.tables.get("estimate_differences"), d))
    return _section(ESTIMATES_SECTION, intro, "".join(blocks))

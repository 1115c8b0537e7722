"""A self-contained HTML report of the summary tables (no scripts, no external requests)."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:70rem;
color:#1f2328;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.meta{color:#59636e;font-size:.9rem}table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.88rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
p.note{color:#59636e;font-size:.85rem}
"""


def _table(df: pd.DataFrame, floats: str = "{:.3f}") -> str:
    """An HTML table with every cell escaped; numbers right-aligned."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, float):
                text = "" if pd.isna(value) else floats.format(value)
                cells.append(f'<td class="num">{text}</td>')
            elif isinstance(value, int | bool):
                cells.append(f'<td class="num">{html.escape(str(value))}</td>')
            else:
                cells.append(f"<td>{'' if value is None or value is pd.NA else html.escape(str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def reliability_words(alpha: float) -> str:
    """Krippendorff's reading of α: ≥ .800 reliable, ≥ .667 tentative, else unreliable."""
    if pd.isna(alpha):
        return "not computable"
    if alpha >= 0.800:
        return "reliable"
    if alpha >= 0.667:
        return "tentative"
    return "unreliable"


def render_report(
    title: str,
    manifest: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    sentences: pd.DataFrame,
) -> str:
    """The report page as a string. ``tables`` as returned by ``summary.summarize_tables``."""
    agreement = tables["agreement"].copy()
    agreement["reading"] = [reliability_words(a) for a in agreement["krippendorff_alpha"]]
    labels = tables["sentence_labels"]
    contested = labels[labels["contested"]].merge(
        sentences[["sentence_id", "text"]], on="sentence_id", how="left"
    )[["doc_id", "sentence_id", "field", "votes", "n_annotators", "text"]]
    rows = manifest.get("rows", {})
    overview = pd.DataFrame(
        [
            (
                "project",
                f"{manifest.get('project_name')} (Label Studio project {manifest.get('project_id')})",
            ),
            ("pulled at", manifest.get("pulled_at", "")),
            ("Label Studio", manifest.get("label_studio_version", "")),
            ("articles", int(sentences["doc_id"].nunique()) if len(sentences) else 0),
            ("sentences", rows.get("sentences", len(sentences))),
            ("annotations", rows.get("distinct_annotations", "")),
            ("annotators", len(tables["annotators"])),
        ],
        columns=["", "value"],
    )
    pulled_at = str(manifest.get("pulled_at", ""))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>Sentence-level stance annotation · pulled {html.escape(pulled_at)}</p>",
        "<h2>Overview</h2>",
        _table(overview),
        "<h2>Agreement per field</h2>",
        "<p class='note'>Krippendorff's α (nominal): ≥ 0.800 reliable, ≥ 0.667 tentative, below unreliable. "
        "Percent agreement: share of agreeing annotator pairs per sentence, averaged over sentences.</p>",
        _table(agreement),
        "<h2>Stance per document</h2>",
        _table(tables["document_stance"]),
        "<h2>Annotators</h2>",
        _table(tables["annotators"]),
        f"<h2>Contested sentences ({len(contested)})</h2>",
        "<p class='note'>No label has more than half of the votes.</p>",
        _table(contested),
        "</body></html>",
    ]
    return "\n".join(parts)

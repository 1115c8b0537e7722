"""Summarize pulled annotations: read ``exports/<name>/``, compute the tables, write them and the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from annotate.config import ProjectConfig
from annotate.exports import DEFAULT_OUT, project_dir, read_json, read_table, write_csv, write_text
from annotate.report import render_report
from annotate.summary import summarize_tables

TABLE_FILES = {
    "sentence_labels": "sentence_labels.csv",
    "document_stance": "document_stance.csv",
    "agreement": "agreement.csv",
    "annotators": "annotators.csv",
}


@dataclass(frozen=True)
class SummaryResult:
    """Where the summary went and its tables (``agreement`` etc. as DataFrames)."""

    out_dir: Path
    tables: dict[str, pd.DataFrame]
    report: Path


def summarize(config: ProjectConfig, out_dir: Path | str = DEFAULT_OUT) -> SummaryResult:
    """Compute majority labels, document stance, agreement and annotator figures from the last pull.

    Reads ``annotations.parquet`` and ``sentences.parquet`` in ``<out_dir>/<name>/``
    and writes the CSVs of ``TABLE_FILES`` plus ``report.html`` there.
    """
    folder = project_dir(out_dir, config.name)
    annotations = read_table(folder / "annotations.parquet")
    sentences = read_table(folder / "sentences.parquet")
    manifest = read_json(folder / "manifest.json") or {}
    tables = summarize_tables(
        annotations,
        sentences,
        config.choice_fields(),
        config.targets_by_id(),
        list(config.stance_labels),
    )
    for key, filename in TABLE_FILES.items():
        write_csv(tables[key], folder / filename)
    report = write_text(
        render_report(config.display_title(), manifest, tables, sentences), folder / "report.html"
    )
    return SummaryResult(out_dir=folder, tables=tables, report=report)

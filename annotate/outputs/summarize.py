"""``annotate summarize``: read the last pull, compute every table, write the CSVs, report and workbook.

When ``annotate learn`` has left a model card in ``model/`` next to the pull, the report shows it
(its model section); a missing or unreadable card just means no such section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from annotate.columns import (
    ANCHORING_FILE,
    ESTIMATE_COLUMNS,
    ESTIMATE_DIFFERENCE_COLUMNS,
    ESTIMATE_DIFFERENCES_FILE,
    ESTIMATES_FILE,
    TABLE_FILES,
)
from annotate.config import ProjectConfig
from annotate.files import DEFAULT_OUT, read_json, read_table, write_csv, write_text
from annotate.ingest.cues import suggestion_rules
from annotate.keys import name_annotators
from annotate.model.learn import MODEL_DIR, SUGGESTIONS_FILE, previous_card
from annotate.outputs.report import render_report
from annotate.outputs.workbook import WORKBOOK_FILE, write_workbook
from annotate.quality.anchoring import anchoring_table
from annotate.quality.answers import CountedAnswers
from annotate.quality.tables import COMPUTE_STEPS, SUMMARY_ANNOTATION_COLUMNS, summary_tables
from annotate.studio.pull import load_pulled

__all__ = ["SUMMARIZE_STEPS", "SummaryResult", "summarize"]

#: Steps ``summarize`` reports: reading, the ``COMPUTE_STEPS`` of ``compute_tables``, three writing steps.
SUMMARIZE_STEPS = COMPUTE_STEPS + 4


@dataclass(frozen=True)
class SummaryResult:
    """Where the summary went and its tables (DataFrames keyed as ``TABLE_FILES``)."""

    out_dir: Path
    tables: dict[str, pd.DataFrame]
    report: Path
    excluded: list[str] = field(default_factory=list)


def _estimates(folder: Path) -> dict[str, pd.DataFrame]:
    """``annotate estimate``'s tables, when it ran and its files are readable (else none: the report
    then has no estimates section, as with an unreadable model card)."""
    found: dict[str, pd.DataFrame] = {}
    for key, name, columns in (
        ("estimates", ESTIMATES_FILE, ESTIMATE_COLUMNS),
        ("estimate_differences", ESTIMATE_DIFFERENCES_FILE, ESTIMATE_DIFFERENCE_COLUMNS),
    ):
        try:
            table = pd.read_csv(folder / name, encoding="utf-8-sig")
        except (OSError, ValueError, pd.errors.ParserError):
            continue
        if list(table.columns) == columns:
            found[key] = table
    return found if "estimates" in found else {}


def summarize(
    config: ProjectConfig,
    out_dir: Path | str = DEFAULT_OUT,
    exclude_flagged: bool = False,
    config_path: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    show_names: bool = False,
) -> SummaryResult:
    """Compute every table from the last pull and write the CSVs of ``TABLE_FILES``, ``report.html``
    and ``summary.xlsx``. ``config_path`` resolves the config's relative ``suggestions`` path;
    ``progress(done, SUMMARIZE_STEPS)`` follows the steps. Annotators appear under their
    pseudonyms (``annotate.keys``), under their e-mail addresses with ``show_names``. The model
    card in ``model/`` (``annotate learn``), if there is a readable one, goes into the report."""

    def done(step: int) -> None:
        if progress:
            progress(step, SUMMARIZE_STEPS)

    folder, annotations, sentences, adjudications = load_pulled(config, out_dir, SUMMARY_ANNOTATION_COLUMNS)
    named = [(annotations, "annotator")] + (
        [(adjudications, "adjudicator")] if adjudications is not None else []
    )
    name_annotators(config.name, named, show_names)
    manifest = read_json(folder / "manifest.json") or {}
    rules = suggestion_rules(config, config_path)
    done(1)
    counted = CountedAnswers.of(config, annotations, sentences, exclude_flagged)
    tables = summary_tables(config, counted, adjudications, rules, progress=lambda step, _: done(1 + step))
    for key, filename in TABLE_FILES.items():
        write_csv(tables[key], folder / filename)
    records = folder / MODEL_DIR / SUGGESTIONS_FILE
    if records.exists():  # annotate learn suggested: did the suggestions pull the answers?
        anchoring = anchoring_table(counted.analysis_answers, read_table(records))
        tables["anchoring"] = anchoring
        write_csv(anchoring, folder / ANCHORING_FILE)
    tables.update(_estimates(folder))
    done(COMPUTE_STEPS + 2)
    report = write_text(
        render_report(config, manifest, tables, counted, card=previous_card(folder / MODEL_DIR)),
        folder / "report.html",
    )
    done(COMPUTE_STEPS + 3)
    write_workbook(tables, sentences, folder / WORKBOOK_FILE, manifest)
    done(SUMMARIZE_STEPS)
    return SummaryResult(out_dir=folder, tables=tables, report=report, excluded=counted.excluded)

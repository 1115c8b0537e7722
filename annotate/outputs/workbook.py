"""``summary.xlsx``: the summary tables as one Excel workbook, with a README sheet.

Sheets: ``README`` (provenance, how to read the figures, every column of every sheet with
its unit, from ``annotate.columns``), then ``sentence_labels`` (with the sentence text
joined in), ``document_stance``, ``agreement``, ``annotators``, ``annotator_pairs`` and
``sentences``. Data sheets have a bold, frozen header row, a filter, column widths fitted
to their content, numbers and true/false as Excel numbers and booleans (never text),
missing values as empty cells and times as Excel date-times in UTC. Cell values are the
CSV values exactly (floats are written with ``repr``, the shortest text that reads back as
the same double, as pandas writes them to CSV); ``0.000`` is only a display format.

Text is written as text, always: a value starting with ``=`` is not turned into a formula.
Two things Excel cannot hold are changed, and only in the workbook: control characters
other than tab and line breaks are dropped (XML forbids them), and a text longer than
32,767 characters is cut there. A table longer than Excel's 1,048,575 data rows is cut too,
and the README sheet says so; the CSV and Parquet files always hold everything.

Written with openpyxl's write-only mode (streamed, so a large ``sentences`` sheet does not
need the whole workbook in memory) and atomically (``exports.atomic_path``).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from annotate.columns import CSV_ENCODING_NOTE, FILES, READING_NOTES, SHEETS, sheet_columns
from annotate.files import atomic_path

__all__ = ["EXCEL_MAX_ROWS", "EXCEL_MAX_TEXT", "WORKBOOK_FILE", "sheet_tables", "write_workbook"]

WORKBOOK_FILE = "summary.xlsx"
#: Data rows a sheet can hold below its header row.
EXCEL_MAX_ROWS = 1_048_575
#: Characters a cell can hold.
EXCEL_MAX_TEXT = 32_767
FLOAT_FORMAT = "0.000"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: Column widths (in characters): at least, at most, and for long text.
MIN_WIDTH, MAX_WIDTH, TEXT_WIDTH = 8, 50, 80
WIDTH_SAMPLE = 500
_TEXT_COLUMNS = {"text", "span_text"}

_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def sheet_tables(tables: Mapping[str, pd.DataFrame], sentences: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The data sheets' tables in ``SHEETS`` order: the summary tables, ``sentence_labels``
    with the sentence ``text`` appended, and ``sentences``."""
    out: dict[str, pd.DataFrame] = {}
    for sheet, doc in SHEETS.items():
        if sheet == "sentences":
            out[sheet] = sentences
            continue
        table = tables[FILES[doc.file].table or sheet]
        if "text" in doc.extra:
            texts = sentences[["sentence_id", "text"]].drop_duplicates("sentence_id")
            table = table.merge(texts, on="sentence_id", how="left", validate="many_to_one")
        out[sheet] = table
    return out


def write_workbook(
    tables: Mapping[str, pd.DataFrame],
    sentences: pd.DataFrame,
    path: Path,
    manifest: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``summary.xlsx`` to ``path`` atomically and return ``path``.

    In: ``tables`` as returned by ``analysis.compute_tables`` (keys ``sentence_labels,
    document_stance, agreement, annotators, annotator_pairs``), the sentences table of the
    pull and, for the README sheet's provenance, the pull's ``manifest.json``.
    """
    sheets = sheet_tables(tables, sentences)
    cut = {name: len(table) for name, table in sheets.items() if len(table) > EXCEL_MAX_ROWS}
    book = Workbook(write_only=True)
    _readme_sheet(book.create_sheet("README"), sheets, manifest or {}, cut)
    for name, table in sheets.items():
        _data_sheet(book.create_sheet(name), table.iloc[:EXCEL_MAX_ROWS])
    with atomic_path(path) as tmp:
        book.save(tmp)
    return path


# -- cells ---------------------------------------------------------------------------------------


def excel_text(value: str) -> str:
    """``value`` as Excel can hold it: XML-illegal control characters dropped, cut at 32,767."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    return text[:EXCEL_MAX_TEXT]


def _plain(value: Any) -> Any:
    """A pandas/numpy value as the Python value openpyxl writes: None for every kind of missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime):  # pd.Timestamp too
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
    if isinstance(value, str):
        return excel_text(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    return excel_text(str(value))


def _kind(series: pd.Series) -> str:
    """``float``, ``time`` or ``other``: which display format a column's cells get."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
        return "other"
    if pd.api.types.is_float_dtype(series.dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "time"
    return "other"


def _display_width(text: str) -> int:
    """Characters on screen: East Asian wide and full-width characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _widths(table: pd.DataFrame) -> list[float]:
    sample = table.head(WIDTH_SAMPLE)
    widths = []
    for column in table.columns:
        if column in _TEXT_COLUMNS:
            widths.append(float(TEXT_WIDTH))
            continue
        values = sample[column]
        if _kind(values) == "time":
            longest = 19
        elif _kind(values) == "float":
            longest = 8
        else:
            longest = max((_display_width(str(v)) for v in values if not _missing(v)), default=0)
        longest = max(longest, _display_width(str(column)))
        widths.append(float(min(max(longest + 2, MIN_WIDTH), MAX_WIDTH)))
    return widths


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _header(sheet: WriteOnlyWorksheet, names: Iterable[str]) -> list[WriteOnlyCell]:
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, excel_text(str(name)))
        cell.font = _BOLD
        cells.append(cell)
    return cells


def _data_sheet(sheet: WriteOnlyWorksheet, table: pd.DataFrame) -> None:
    """A table: bold frozen header with a filter, fitted widths, typed cells."""
    sheet.freeze_panes = "A2"
    for index, width in enumerate(_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    if len(table.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table) + 1}"
    sheet.append(_header(sheet, table.columns))
    kinds = [_kind(table[c]) for c in table.columns]
    columns = [table[c].astype(object).tolist() for c in table.columns]
    for row in zip(*columns, strict=True):
        sheet.append([_cell(sheet, value, kind) for value, kind in zip(row, kinds, strict=True)])


def _cell(sheet: WriteOnlyWorksheet, value: Any, kind: str) -> Any:
    """A plain value, or a cell when it needs a display format or must be kept as text."""
    plain = _plain(value)
    if plain is None:
        return None
    if isinstance(plain, str):
        if plain.startswith("="):  # text, never a formula
            cell = WriteOnlyCell(sheet, plain)
            cell.data_type = "s"
            return cell
        return plain
    if isinstance(plain, float):
        # openpyxl writes floats with 16 significant digits, which can change the last bit;
        # repr() is the shortest text that reads back as the very same double (as in the CSV).
        cell = WriteOnlyCell(sheet, repr(plain))
        cell.data_type = "n"
        if kind == "float":
            cell.number_format = FLOAT_FORMAT
        return cell
    if isinstance(plain, datetime):
        cell = WriteOnlyCell(sheet, plain)
        cell.number_format = TIME_FORMAT
        return cell
    return plain


# -- README sheet ----------------------------------------------------------------------------------


def _readme_sheet(
    sheet: WriteOnlyWorksheet,
    sheets: Mapping[str, pd.DataFrame],
    manifest: Mapping[str, Any],
    cut: Mapping[str, int],
) -> None:
    for letter, width in zip("ABCD", (18, 26, 16, 100), strict=True):
        sheet.column_dimensions[letter].width = width

    def text(value: str, bold: bool = False, wrap: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, excel_text(value))
        cell.data_type = "s"
        if bold:
            cell.font = _BOLD
        if wrap:
            cell.alignment = _WRAP
        return cell

    title = manifest.get("project_title") or manifest.get("project_name") or "annotate"
    sheet.append([text(f"Summary of {title}", bold=True)])
    rows = manifest.get("rows") or {}
    provenance = [
        (
            "project",
            f"{manifest.get('project_name', '')} (Label Studio project {manifest.get('project_id', '')})",
        ),
        ("pulled at (UTC)", str(manifest.get("pulled_at", ""))),
        (
            "Label Studio",
            f"{manifest.get('label_studio_version', '')} at {manifest.get('label_studio_url', '')}",
        ),
        ("config sha256", str(manifest.get("config_sha256", ""))),
        ("sentences", str(rows.get("sentences", ""))),
        ("annotations", str(rows.get("distinct_annotations", ""))),
        ("workbook written", datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    for key, value in provenance:
        sheet.append([text(key, bold=True), text(value)])
    sheet.append([])
    sheet.append([text("Files", bold=True), text(CSV_ENCODING_NOTE, wrap=True)])
    for name, total in cut.items():
        sheet.append(
            [
                text("cut", bold=True),
                text(
                    f"sheet {name} holds the first {EXCEL_MAX_ROWS:,} of {total:,} rows (Excel's limit); "
                    f"{SHEETS[name].file} holds them all",
                    wrap=True,
                ),
            ]
        )
    sheet.append([])
    sheet.append([text("How to read", bold=True)])
    for note in READING_NOTES:
        sheet.append([None, text(note, wrap=True)])
    sheet.append([])
    sheet.append(_header(sheet, ["sheet", "column", "unit", "description"]))
    for name, table in sheets.items():
        doc = FILES[SHEETS[name].file]
        sheet.append(
            [text(name, bold=True), None, None, text(f"One row per {doc.row}. {doc.description}", wrap=True)]
        )
        for column, info in sheet_columns(name, list(table.columns)).items():
            sheet.append([text(name), text(column), text(info.unit), text(info.description, wrap=True)])

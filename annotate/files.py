"""Writing export files atomically, and where they go.

Every file is written to a temporary name in the same folder and renamed into
place, so a reader (or a crash) never sees a truncated table.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from annotate.errors import ExportError

DEFAULT_OUT = Path("exports")


def project_dir(out_dir: Path | str, name: str) -> Path:
    """``<out_dir>/<name>``; ``name`` is reduced to a safe folder name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "project"
    return Path(out_dir) / safe


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write(path: Path, writer: Callable[[Path], None]) -> Path:
    with atomic_path(path) as tmp:
        writer(tmp)
    return path


def write_parquet(df: pd.DataFrame, path: Path, row_group_size: int = 100_000) -> Path:
    """Parquet (pyarrow, row groups of ``row_group_size`` rows), atomically."""
    return _write(path, lambda tmp: df.to_parquet(tmp, index=False, row_group_size=row_group_size))


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """CSV in UTF-8 with a byte-order mark, so spreadsheet programs read CJK text correctly.

    Written by pyarrow (about 4× faster than pandas on a pulled table) in pandas' format:
    timestamps as ``2026-11-27 09:30:00.123456+00:00``, booleans as ``True``/``False``,
    missing values empty; text is always quoted. Tables pyarrow cannot type (columns of
    mixed Python objects) are written by pandas.
    """
    try:
        with warnings.catch_warnings():
            # pyarrow reads tz-aware columns through Series.values, which pandas 3.1 deprecates
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            table = _csv_ready(pa.Table.from_pandas(df, preserve_index=False))
    except pa.ArrowException:  # a column pyarrow cannot type
        return _write(path, lambda tmp: df.to_csv(tmp, index=False, encoding="utf-8-sig"))

    def writer(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            header = io.StringIO()
            csv.writer(header, lineterminator="\n").writerow([str(c) for c in df.columns])
            fh.write(("\ufeff" + header.getvalue()).encode("utf-8"))
            pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="needed"))

    return _write(path, writer)


class TableWriter:
    """A table written in parts to Parquet (and CSV, when ``csv_path`` is given), the files
    ``write_parquet`` and ``write_csv`` would write from the parts' concatenation: the same
    columns, dtypes and row groups of ``row_group_size`` rows, the same CSV bytes. Memory holds
    at most one row group. ``with TableWriter(...) as out: out.write(df) ...``: the first table
    (which may be empty) sets the columns; both files replace the old ones, atomically, when the
    block ends without an error, and are not touched when it raises.
    """

    def __init__(self, parquet: Path, csv_path: Path | None = None, row_group_size: int = 100_000) -> None:
        self.parquet, self.csv_path, self.row_group_size = parquet, csv_path, row_group_size
        self.rows = 0
        self._stack = contextlib.ExitStack()
        self._schema: pa.Schema | None = None
        self._pending: list[pa.Table] = []
        self._waiting = 0
        self._writer: pq.ParquetWriter | None = None
        self._csv: Any = None

    def __enter__(self) -> TableWriter:
        with contextlib.ExitStack() as stack:
            self._parquet_tmp = stack.enter_context(atomic_path(self.parquet))
            if self.csv_path is not None:
                csv_tmp = stack.enter_context(atomic_path(self.csv_path))
                self._csv = stack.enter_context(open(csv_tmp, "wb"))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        stack, self._stack = self._stack, contextlib.ExitStack()
        if kind is not None:
            self._close()
            stack.__exit__(kind, error, trace)  # atomic_path renames nothing after an error
            return
        with stack:  # an error while finishing leaves the old files too
            try:
                if self._schema is None:
                    raise ValueError("TableWriter: nothing was written, not even an empty table")
                self._flush(final=True)
            finally:
                self._close()

    def write(self, df: pd.DataFrame) -> None:
        """Append ``df`` (the columns and dtypes of the first table written)."""
        with warnings.catch_warnings():
            # pyarrow reads tz-aware columns through Series.values, which pandas 3.1 deprecates
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            if self._schema is None:
                self._schema = pa.Schema.from_pandas(df, preserve_index=False)
                self._writer = pq.ParquetWriter(self._parquet_tmp, self._schema)
                if self._csv is not None:
                    header = io.StringIO()
                    csv.writer(header, lineterminator="\n").writerow([str(c) for c in df.columns])
                    self._csv.write(("\ufeff" + header.getvalue()).encode("utf-8"))
            table = pa.Table.from_pandas(df, schema=self._schema, preserve_index=False)
        if self._csv is not None and len(table):
            options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
            pacsv.write_csv(_csv_ready(table), self._csv, options)
        if len(table):
            self._pending.append(table)
            self._waiting += len(table)
            self.rows += len(table)
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        """Write the full row groups waiting and, when ``final``, the rest."""
        if not self._waiting or (self._waiting < self.row_group_size and not final):
            return
        assert self._writer is not None
        table = pa.concat_tables(self._pending)
        size = self.row_group_size
        whole = len(table) if final else len(table) // size * size
        self._writer.write_table(table.slice(0, whole), row_group_size=size)
        rest = table.slice(whole)
        self._pending, self._waiting = ([rest] if len(rest) else []), len(rest)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _csv_ready(table: pa.Table) -> pa.Table:
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            # %S carries the fraction at the column's resolution
            utc = pc.cast(column, pa.timestamp("us", "UTC"))
            column = pc.call_function("strftime", [utc], pc.StrftimeOptions("%Y-%m-%d %H:%M:%S+00:00"))
        elif pa.types.is_boolean(kind):
            column = pc.call_function("if_else", [column, "True", "False"])
        elif pa.types.is_dictionary(kind):
            column = pc.cast(column, kind.value_type)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_json(data: Any, path: Path) -> Path:
    def writer(tmp: Path) -> None:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")

    return _write(path, writer)


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """JSON readable by the owner only (0600), written atomically (credentials, state)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_text(text: str, path: Path) -> Path:
    def writer(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return _write(path, writer)


def read_table(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read an exported Parquet table (only those of ``columns`` it has, when given);
    ExportError saying to pull first when it is missing."""
    if not path.exists():
        raise ExportError(f"{path} does not exist: run 'annotate pull' first")
    try:
        if columns is not None:
            present = set(pq.read_schema(path).names)
            columns = [c for c in columns if c in present]
        return pd.read_parquet(path, columns=columns)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise ExportError(
            f"{path} is not a readable Parquet file ({type(exc).__name__}); run 'annotate pull --full'"
        ) from None


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

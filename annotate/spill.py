"""Rows spilled to a temporary Parquet file in parts and read back by ranges of an integer key.

An external sort for tables too large to hold whole: ``SpillFile.add`` writes each part as it
comes (one row group each, in a temporary file), and ``SpillFile.ranges`` reads them back as
tables whose key ranges are disjoint and increasing, each holding every row of its keys, in the
order they were added. Sorting each such table (stably, by the key first) then gives the rows
in the order a stable sort of the whole would give, holding one range at a time.

When the parts themselves cover disjoint key ranges (a Label Studio export lists tasks by id,
2,000 at a time), each range is one part, read once. Otherwise the key column is read (8 bytes a
row), cut into ranges of about ``range_rows`` rows at key boundaries, and each range gathered
from the row groups whose statistics overlap it (a pass over the file per range).
"""

from __future__ import annotations

import itertools
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["SpillFile"]


class SpillFile:
    """``with SpillFile("task_id") as spill: spill.add(df) ...; for part in spill.ranges(): ...``

    Every added table has the same columns and dtypes as the first (its Arrow schema is the
    file's); ``key`` is an integer column without missing values. The temporary folder (in
    ``folder``, else the system's) is removed when the block ends.
    """

    def __init__(self, key: str, range_rows: int = 200_000, folder: Path | None = None) -> None:
        if range_rows < 1:
            raise ValueError(f"range_rows must be >= 1, got {range_rows}")
        self.key, self.range_rows, self.folder = key, range_rows, folder
        self.rows = 0
        self._bounds: list[tuple[int, int]] = []  # (min, max) of the key, per row group
        self._schema: pa.Schema | None = None
        self._writer: pq.ParquetWriter | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._path: Path | None = None

    def __enter__(self) -> Self:
        self._dir = tempfile.TemporaryDirectory(prefix="annotate-spill-", dir=self.folder)
        self._path = Path(self._dir.name) / "rows.parquet"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def add(self, df: pd.DataFrame) -> None:
        """Write ``df`` as one row group (nothing for an empty table, beyond its schema)."""
        assert self._path is not None, "use SpillFile in a with block"
        with warnings.catch_warnings():
            # pyarrow reads tz-aware columns through Series.values, which pandas 3.1 deprecates
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            if self._schema is None:
                self._schema = pa.Schema.from_pandas(df, preserve_index=False)
            if df.empty:
                return
            table = pa.Table.from_pandas(df, schema=self._schema, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._path, self._schema)
        self._writer.write_table(table, row_group_size=len(table))
        keys = df[self.key].to_numpy()
        self._bounds.append((int(keys.min()), int(keys.max())))
        self.rows += len(df)

    def ranges(self) -> Iterator[pd.DataFrame]:
        """The rows in tables of disjoint, increasing key ranges (see the module docstring)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if not self._bounds:
            return
        assert self._path is not None
        file = pq.ParquetFile(self._path)
        order = sorted(range(len(self._bounds)), key=lambda g: self._bounds[g])
        if all(self._bounds[a][1] < self._bounds[b][0] for a, b in itertools.pairwise(order)):
            for group in order:
                yield file.read_row_group(group).to_pandas()
            return
        for low, high in self._cuts(file):
            pieces = []
            for group, (first, last) in enumerate(self._bounds):
                if last < low or first >= high:
                    continue
                table = file.read_row_group(group)
                keys = table.column(self.key).to_numpy()
                pieces.append(table.filter(pa.array((keys >= low) & (keys < high))))
            yield pa.concat_tables(pieces).to_pandas()

    def _cuts(self, file: pq.ParquetFile) -> list[tuple[int, int]]:
        """Key ranges ``[low, high)`` of about ``range_rows`` rows each, covering every key."""
        keys = np.sort(file.read(columns=[self.key]).column(0).to_numpy())
        cuts, start = [], 0
        while start < len(keys):
            stop = min(start + self.range_rows, len(keys))
            if stop < len(keys):
                # the whole run of the last key goes into this range
                stop = int(np.searchsorted(keys, keys[stop - 1], side="right"))
            high = int(keys[stop]) if stop < len(keys) else int(keys[-1]) + 1
            cuts.append((int(keys[start]), high))
            start = stop
        return cuts

"""SpillFile (ranges of a key read back from a spilled table) and TableWriter (a table written in
parts, as write_parquet and write_csv write the whole)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.files import TableWriter, write_csv, write_parquet
from annotate.spill import SpillFile


def _table(keys: list[int], start: int = 0) -> pd.DataFrame:
    n = len(keys)
    return pd.DataFrame(
        {
            "task_id": np.asarray(keys, dtype="int64"),
            "row": np.arange(start, start + n, dtype="int64"),  # the order rows were added
            "label": pd.Series([f"label {k % 3}" if k % 5 else None for k in keys], dtype="string"),
            "start": pd.Series([k if k % 2 else None for k in keys], dtype="Int64"),
            "when": pd.to_datetime([1_700_000_000 + k for k in keys], unit="s", utc=True).astype(
                "datetime64[us, UTC]"
            ),
        }
    )


def _parts(keys: list[int], sizes: list[int]) -> list[pd.DataFrame]:
    parts, at = [], 0
    for size in sizes:
        if at >= len(keys):
            break
        parts.append(_table(keys[at : at + size], start=at))
        at += size
    if at < len(keys):
        parts.append(_table(keys[at:], start=at))
    return parts


def _stable(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("task_id", kind="stable").reset_index(drop=True)


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.integers(0, 40), max_size=120),
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=10),
    range_rows=st.integers(1, 50),
)
def test_ranges_give_a_stable_sort_of_the_whole(keys: list[int], sizes: list[int], range_rows: int) -> None:
    """Any order of keys: the ranges, each sorted stably, are the whole table sorted stably; the
    ranges are disjoint and increasing and each holds every row of its keys."""
    parts = _parts(keys, sizes)
    with SpillFile("task_id", range_rows=range_rows) as spill:
        spill.add(_table([]))
        for part in parts:
            spill.add(part)
        ranges = [_stable(r) for r in spill.ranges()]
    assert spill.rows == len(keys)
    if not keys:
        assert ranges == []
        return
    got = pd.concat(ranges, ignore_index=True)
    pd.testing.assert_frame_equal(got, _stable(pd.concat(parts, ignore_index=True)))
    for before, after in zip(ranges, ranges[1:], strict=False):
        assert before["task_id"].max() < after["task_id"].min()


def test_ordered_chunks_are_read_one_at_a_time() -> None:
    """Chunks of disjoint key ranges (the export's order, or shuffled) come back one per range."""
    chunks = [_table(list(range(k * 10, k * 10 + 10)), start=k * 10) for k in range(6)]
    for order in ([0, 1, 2, 3, 4, 5], [3, 0, 5, 1, 4, 2]):
        with SpillFile("task_id", range_rows=1) as spill:
            for k in order:
                spill.add(chunks[k])
            got = list(spill.ranges())
        assert [len(r) for r in got] == [10] * 6
        pd.testing.assert_frame_equal(pd.concat(got, ignore_index=True), pd.concat(chunks, ignore_index=True))


def test_overlapping_chunks_are_cut_into_ranges_of_about_range_rows() -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 500, 3000).tolist()
    with SpillFile("task_id", range_rows=400) as spill:
        for part in _parts(keys, [250] * 12):
            spill.add(part)
        sizes = [len(r) for r in spill.ranges()]
    assert sum(sizes) == 3000
    assert max(sizes) <= 400 + max(np.bincount(keys))  # a range ends after its last key's run
    assert len(sizes) >= 3000 // (400 + max(np.bincount(keys)))


def test_spill_files_are_removed(tmp_path) -> None:
    with SpillFile("task_id", folder=tmp_path) as spill:
        spill.add(_table([1, 2]))
        assert any(tmp_path.iterdir())
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("sizes", [[1000], [1, 2, 3, 500], [99, 100, 101, 250], [7] * 80])
def test_table_writer_writes_what_write_parquet_and_write_csv_write(tmp_path, sizes) -> None:
    """Parts → the same Parquet table (dtypes, row groups) and the same CSV bytes as the whole."""
    keys = list(range(sum(sizes)))
    parts = [_table([])] + _parts(keys, sizes)
    whole = pd.concat(parts[1:], ignore_index=True)
    write_parquet(whole, tmp_path / "whole.parquet", row_group_size=100)
    write_csv(whole, tmp_path / "whole.csv")
    with TableWriter(tmp_path / "parts.parquet", tmp_path / "parts.csv", row_group_size=100) as out:
        for part in parts:
            out.write(part)
    assert out.rows == len(whole)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "parts.parquet"), pd.read_parquet(tmp_path / "whole.parquet")
    )
    groups = [pq.ParquetFile(tmp_path / f"{n}.parquet").metadata.num_row_groups for n in ("parts", "whole")]
    assert groups[0] == groups[1]
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_table_writer_of_an_empty_table_and_after_an_error(tmp_path) -> None:
    empty = _table([])
    with TableWriter(tmp_path / "a.parquet", tmp_path / "a.csv") as out:
        out.write(empty)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"), empty)
    assert (tmp_path / "a.csv").read_text(encoding="utf-8-sig") == "task_id,row,label,start,when\n"
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(RuntimeError), TableWriter(tmp_path / "a.parquet", tmp_path / "a.csv") as out:
        out.write(_table([1, 2, 3]))
        raise RuntimeError("stopped half-way")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # old files, no temporaries
    with pytest.raises(ValueError, match="nothing was written"), TableWriter(tmp_path / "a.parquet") as out:
        pass
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before

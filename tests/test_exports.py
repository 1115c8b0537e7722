"""Atomic export files: a failed write leaves the previous file intact and no temporary behind."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from annotate.errors import ExportError
from annotate.files import atomic_path, project_dir, read_table, write_csv, write_parquet


def test_failed_write_keeps_previous_file(tmp_path):
    target = tmp_path / "t.parquet"
    write_parquet(pd.DataFrame({"a": [1, 2]}), target)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("killed mid-write")
    assert read_table(target)["a"].tolist() == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_csv_has_bom_and_keeps_chinese(tmp_path):
    target = write_csv(pd.DataFrame({"text": ["中美合作。"]}), tmp_path / "t.csv")
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(target, encoding="utf-8-sig")["text"].tolist() == ["中美合作。"]


def test_missing_table_says_pull_first(tmp_path):
    with pytest.raises(ExportError, match="annotate pull"):
        read_table(tmp_path / "annotations.parquet")


def test_project_dir_stays_inside_out_dir(tmp_path):
    assert project_dir(tmp_path, "../../etc/x").parent == tmp_path


def _awkward_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sentence_id": pd.array(["s-1", "s-2", None], dtype="string"),
            "label": pd.array(['Loaded, "quoted"', "中美\n合作", ""], dtype="string"),
            "start": pd.array([0, None, 12], dtype="Int64"),
            "lead_time": [3.25, float("nan"), 1 / 3],
            "cancelled": [True, False, False],
            "created_at": pd.to_datetime(
                ["2026-11-27T09:30:00.123456Z", "2026-11-27T09:30:01Z", None], utc=True, format="ISO8601"
            ),
        }
    )


def test_csv_reads_back_like_pandas_own_csv(tmp_path):
    df = _awkward_table()
    ours = pd.read_csv(write_csv(df, tmp_path / "t.csv"), encoding="utf-8-sig", keep_default_na=False)
    theirs = pd.read_csv(io.StringIO(df.to_csv(index=False)), keep_default_na=False)
    pd.testing.assert_frame_equal(ours, theirs)
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "sentence_id,label,start,lead_time,cancelled,created_at"
    assert lines[1].endswith(',"True","2026-11-27 09:30:00.123456+00:00"')


def test_csv_of_mixed_python_objects_falls_back_to_pandas(tmp_path):
    df = pd.DataFrame({"value": [1, "two", {"three": 3}]})
    text = write_csv(df, tmp_path / "t.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines() == ["value", "1", "two", "{'three': 3}"]


def test_read_table_reads_only_the_columns_asked_for_that_exist(tmp_path):
    target = write_parquet(pd.DataFrame({"a": [1], "b": ["x"], "c": [2.5]}), tmp_path / "t.parquet")
    assert list(read_table(target, columns=["c", "a"]).columns) == ["c", "a"]
    # an export written before a column existed still reads
    assert list(read_table(target, columns=["a", "ground_truth"]).columns) == ["a"]

"""Atomic export files: a failed write leaves the previous file intact and no temporary behind."""

from __future__ import annotations

import pandas as pd
import pytest

from annotate.errors import ExportError
from annotate.exports import atomic_path, project_dir, read_table, write_csv, write_parquet


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

"""The audit sample: drawn at push (seeded, uniform), imported and served first, exported by pull,
counted by status. The sampling itself is checked without a server; the rest on a real one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from annotate.cli import app
from annotate.ingest.audit import audit_key, audit_probability
from annotate.studio.client import Connection, Studio
from annotate.studio.status import status
from annotate.workflows import pull

runner = CliRunner()


def test_keys_are_uniform_and_membership_depends_on_the_sentence_alone() -> None:
    keys = np.array([audit_key("proj", 0, f"s{i}") for i in range(20000)])
    assert keys.min() >= 0 and keys.max() < 1
    # uniform: each tenth of [0, 1) holds about a tenth of the keys (binomial sd about 0.2 points)
    shares = np.histogram(keys, bins=10, range=(0, 1))[0] / len(keys)
    assert np.abs(shares - 0.1).max() < 0.01
    drawn = [audit_probability("proj", 0, 0.2, f"s{i}") for i in range(20000)]
    assert {p for p in drawn if p is not None} == {0.2}
    assert abs(sum(p is not None for p in drawn) / 20000 - 0.2) < 0.01
    # another seed or project: another, independent sample of the same share
    other = [audit_probability("proj", 1, 0.2, f"s{i}") is not None for i in range(20000)]
    both = sum(a is not None and b for a, b in zip(drawn, other, strict=True)) / 20000
    assert abs(both - 0.04) < 0.006
    assert audit_probability("proj", 0, 0.0, "s1") is None


def _articles(folder: Path, n: int = 6, per: int = 8) -> list[Path]:
    paths = []
    for a in range(n):
        text = " ".join(f"Article {a} reports fact number {i} about the talks." for i in range(per))
        path = folder / f"art{a}.txt"
        path.write_text(f"Talks {a}\n\n{text}\n", encoding="utf-8")
        paths.append(path)
    return paths


def test_audit_is_imported_served_exported_and_counted(
    tmp_path, make_project, server_env, studio: Studio, annotator_keys
) -> None:
    config, cfg_path = make_project(overlap=1, order="article")
    files = _articles(tmp_path)
    result = runner.invoke(app, ["push", *map(str, files), "--config", str(cfg_path), "--audit", "0.25"])
    assert result.exit_code == 0, result.output
    pid = studio.find_project(config.name)["id"]
    tasks = [t for page, _ in studio.iter_task_pages(pid, fields="all") for t in page]
    sids = {int(t["id"]): str(t["data"]["sentence_id"]) for t in tasks}
    expected = {s for s in sids.values() if audit_probability(config.name, 0, 0.25, s) is not None}
    audit_ids = sorted(int(t["id"]) for t in tasks if (t.get("meta") or {}).get("audit_probability") == 0.25)
    assert {sids[i] for i in audit_ids} == expected and 0 < len(expected) < len(tasks)
    assert f"{len(expected)} new sentence(s) in the audit sample" in result.output
    # imported first (the lowest ids), in the random order of their keys, not the articles' order
    assert max(audit_ids) < min(set(sids) - set(audit_ids))
    keys = [audit_key(config.name, 0, sids[i]) for i in audit_ids]
    assert keys == sorted(keys)

    # Sequential sampling serves them first
    (_, key), *_ = annotator_keys(1)
    with Studio(Connection(server_env.url, key, "test")) as me:
        first = me.get_json(f"api/projects/{pid}/next")
        assert first["id"] == audit_ids[0]
        me.create_annotation(
            first["id"],
            [
                {
                    "from_name": "sentence_type",
                    "to_name": "sentence",
                    "type": "choices",
                    "value": {"choices": ["Fact"]},
                }
            ],
            lead_time=2.0,
        )
        assert me.get_json(f"api/projects/{pid}/next")["id"] == audit_ids[1]

    counts = status(config, studio, use_cache=False)
    assert (counts.audit, counts.audit_unlabelled, counts.audit_complete) == (
        len(expected),
        len(expected) - 1,
        1,
    )

    pulled = pull(config, studio, tmp_path / "exports")
    sentences = pd.read_parquet(pulled.out_dir / "sentences.parquet")
    marked = sentences.loc[sentences["audit_probability"].notna()]
    assert set(marked["sentence_id"]) == expected and (marked["audit_probability"] == 0.25).all()
    assert sentences["audit_probability"].dtype == "float64"

    # re-pushing without --audit takes the mark off (config audit: 0), with it puts it back
    again = runner.invoke(app, ["push", *map(str, files), "--config", str(cfg_path), "--audit", "0.25"])
    assert again.exit_code == 0 and "Nothing new to import" in again.output

"""The audit sample: drawn at push (seeded, uniform), imported and served first, exported by pull,
counted by status. The sampling itself is checked without a server; the rest on a real one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from annotate.cli import app
from annotate.ingest.audit import audit_key, audit_probability, mark_audit, stratum_rates
from annotate.keys import load_keys
from annotate.studio.blinding import unseal_tasks
from annotate.studio.client import Connection, Studio
from annotate.studio.push import prepare
from annotate.studio.status import status
from annotate.studio.tasks import article_tasks
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


def test_a_small_stratum_gets_a_higher_share_recorded_per_sentence(tmp_path, make_project) -> None:
    config, _ = make_project(audit=0.1, audit_by="outlet", audit_min=20)
    rows = ["id,title,outlet,country,text"]
    for outlet, stories in (("Big", 40), ("Small", 4)):
        for a in range(stories):
            text = " ".join(f"Story {a} of {outlet} says thing {i} happened." for i in range(10))
            rows.append(f'{outlet}-{a},T,{outlet},X,"{text}"')
    path = tmp_path / "strata.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    tasks = article_tasks(prepare([path], config).articles, config)
    assert stratum_rates(0.1, 20, {"Big": 400, "Small": 40}) == {"Big": 0.1, "Small": 0.5}
    marked = mark_audit(tasks, config)
    outlet = {t["data"]["sentence_id"]: t["meta"].get("outlet") or t["data"].get("outlet") for t in tasks}
    drawn = [
        (outlet[t["data"]["sentence_id"]], t["meta"]["audit_probability"])
        for t in tasks
        if "audit_probability" in t["meta"]
    ]
    assert (
        marked == len(drawn)
        and {p for o, p in drawn if o == "Big"} == {0.1}
        and {p for o, p in drawn if o == "Small"} == {0.5}
    )
    small = sum(o == "Small" for o, _ in drawn)
    assert 10 <= small <= 30  # binomial(40, 0.5): about 20, where 0.1 would give about 4
    # the same draw again: membership depends on the sentence and its stratum's rate only
    assert mark_audit(tasks, config) == marked


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


# -- annotate estimate on a real server ------------------------------------------------------------

PHRASES = {
    "Favor": ["praised the generous offer from China", "welcomed China's wise partnership"],
    "Against": ["condemned China's reckless plan", "attacked China's aggressive policy"],
    "Not addressed": ["reported the weather on Monday", "listed the delegates present"],
}
OUTLETS = {"Xinhua": (0.6, 0.1), "Reuters": (0.3, 0.3), "Fox": (0.1, 0.6)}  # (Favor, Against)


def _stance_corpus(folder: Path, seed: int = 4) -> tuple[Path, dict[str, str], dict[str, str]]:
    """A CSV of 3 outlets × 10 articles × 8 sentences; each sentence's stance toward China is set
    by its phrase (the truth a careful annotator gives). Returns the file, the truth by sentence
    text, and each text's outlet."""
    rng = np.random.default_rng(seed)
    lines, truth, outlet_of = ["id,title,outlet,country,text"], {}, {}
    for outlet, (favor, against) in OUTLETS.items():
        for a in range(10):
            sentences = []
            for i in range(8):
                u = rng.random()
                label = "Favor" if u < favor else "Against" if u < favor + against else "Not addressed"
                text = f"In item {i} of {outlet} story {a} the minister {PHRASES[label][rng.integers(2)]}."
                truth[text], outlet_of[text] = label, outlet
                sentences.append(text)
            lines.append(f'{outlet}-{a},Talks {a},{outlet},X,"{" ".join(sentences)}"')
    path = folder / "stories.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, truth, outlet_of


def test_estimate_by_outlet_covers_the_corpus_shares(
    tmp_path, make_project, server_env, studio: Studio, annotator_keys
) -> None:
    # a fixed name: the audit (keyed by project name and sentence) is the same on every run
    config, cfg_path = make_project(name="estimate-by-outlet", overlap=1, order="article")
    corpus, truth, outlet_of = _stance_corpus(tmp_path)
    pushed = runner.invoke(app, ["push", str(corpus), "--config", str(cfg_path), "--audit", "0.35"])
    assert pushed.exit_code == 0, pushed.output
    pid = studio.find_project(config.name)["id"]
    tasks = [t for page, _ in studio.iter_task_pages(pid, fields="all") for t in page]
    assert unseal_tasks(tasks, load_keys(config.name)) == 0  # outlets are blinded: meta is sealed
    audit = [t for t in tasks if (t.get("meta") or {}).get("audit_probability") is not None]
    assert len(audit) > 60
    # the audit, and outside it the first four stories of each outlet (article order)
    # (doc ids are pseudonyms here: outlets are blinded, so the story number is read from the text)
    rest = [t for t in tasks if t not in audit and int(t["data"]["text"].split(" story ")[1].split()[0]) < 4]
    out = tmp_path / "exports"
    early = runner.invoke(app, ["estimate", "--config", str(cfg_path), "--out", str(out)])
    assert early.exit_code != 0  # nothing pulled yet: one clear line
    (_, key), *_ = annotator_keys(1)
    with Studio(Connection(server_env.url, key, "test")) as me:
        for task in audit + rest:
            stance = truth[task["data"]["text"]]
            result = [
                {
                    "from_name": "stance_china",
                    "to_name": "sentence",
                    "type": "choices",
                    "value": {"choices": [stance]},
                }
            ]
            me.create_annotation(task["id"], result, lead_time=1.0)
    pull(config, studio, out)

    done = runner.invoke(app, ["estimate", "--config", str(cfg_path), "--out", str(out), "--by", "outlet"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(out / config.name / "estimates.csv", encoding="utf-8-sig")
    table = table[table["field"] == "stance_china"]
    assert set(table["group"]) == set(OUTLETS)
    covered = []
    for row in table.to_dict("records"):
        share = np.mean([truth[t] == row["label"] for t, o in outlet_of.items() if o == row["group"]])
        covered.append(row["ci_low"] - 1e-9 <= share <= row["ci_high"] + 1e-9)
    # 18 intervals of one draw (coverage rates are the simulation's job, in test_ppi.py)
    assert sum(covered) >= 16, table
    wide = table.pivot_table(index=["group", "label"], columns="method", values=["ci_low", "ci_high"])
    width = wide["ci_high"] - wide["ci_low"]
    assert (width["PPI++"] <= width["classical"] + 1e-12).all()
    diffs = pd.read_csv(out / config.name / "estimate_differences.csv", encoding="utf-8-sig")
    favor = diffs[(diffs["label"] == "Favor") & (diffs["method"] == "PPI++")]
    assert len(favor) == 3 and set(favor["group_a"]) | set(favor["group_b"]) == set(OUTLETS)

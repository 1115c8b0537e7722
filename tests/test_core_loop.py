"""The whole loop on a real Label Studio: push → annotations by real users → pull → summarize.

Every figure checked here is worked out by hand in the comments.
"""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.studio.client import Connection, Studio

runner = CliRunner()

ARTICLE_ALPHA = (
    "Beijing Pledges Openness\n\n"
    "China said it will share its AI research with partners. "
    "Officials praised the new dialogue with Washington. "
    "Critics called the plan a publicity stunt.\n"
)
ARTICLE_BETA = (
    "Chip Rules Tighten\n\n"
    "The Commerce Department published new export rules on Tuesday. "
    "Some in the US argue the rules protect national security. "
    "Analysts disagree about what the rules will achieve.\n"
)

F, A, N, X = "Favor", "Against", "Neutral", "Not addressed"
FACT, OPIN = "Fact", "Opinion"
# Per sentence (in document order: alpha 1-3, beta 1-3), the answers of annotators 1, 2, 3.
CHINA = [(F, F, F), (F, F, A), (A, A, A), (N, N, X), (X, X, X), (F, A, N)]
TYPE = [(FACT,) * 3, (OPIN,) * 3, (OPIN, OPIN, FACT), (FACT,) * 3, (FACT,) * 3, (FACT,) * 3]


def _result(china: str, sentence_type: str, comment: str | None = None) -> list[dict[str, object]]:
    res: list[dict[str, object]] = [
        {
            "from_name": "stance_china",
            "to_name": "sentence",
            "type": "choices",
            "value": {"choices": [china]},
        },
        {"from_name": "stance_us", "to_name": "sentence", "type": "choices", "value": {"choices": [X]}},
        {
            "from_name": "stance_cooperation",
            "to_name": "sentence",
            "type": "choices",
            "value": {"choices": [X]},
        },
        {
            "from_name": "sentence_type",
            "to_name": "sentence",
            "type": "choices",
            "value": {"choices": [sentence_type]},
        },
    ]
    if comment:
        res.append(
            {"from_name": "comment", "to_name": "sentence", "type": "textarea", "value": {"text": [comment]}}
        )
    return res


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def pushed(tmp_path: Path, make_project, server_env, studio: Studio):
    """Two articles pushed to a fresh project; returns (config, config path, tasks in document order)."""
    config, cfg_path = make_project()
    (tmp_path / "alpha.txt").write_text(ARTICLE_ALPHA, encoding="utf-8")
    (tmp_path / "beta.txt").write_text(ARTICLE_BETA, encoding="utf-8")
    output = _invoke(
        "push", str(tmp_path / "alpha.txt"), str(tmp_path / "beta.txt"), "--config", str(cfg_path)
    )
    assert "Imported 6 new sentences from 2 article(s)" in output
    project = studio.find_project(config.name)
    assert project is not None
    tasks = [t for page, _ in studio.iter_task_pages(int(project["id"]), fields="task_only") for t in page]
    tasks.sort(key=lambda t: (t["data"]["doc_id"], t["data"]["sentence_index"]))
    return config, cfg_path, tasks


def _annotate_all(tasks, keys, url) -> dict[tuple[int, int], int]:
    """Annotators 1-3 answer every sentence as in CHINA/TYPE; returns (annotator, sentence) -> id."""
    ids = {}
    for a, (_, key) in enumerate(keys):
        with Studio(Connection(url, key, "test")) as as_user:
            for s, task in enumerate(tasks):
                comment = "source?" if (a, s) == (0, 3) else None
                ann = as_user.create_annotation(
                    task["id"], _result(CHINA[s][a], TYPE[s][a], comment), lead_time=10.0 * (a + 1) + s + 1
                )
                ids[(a, s)] = int(ann["id"])
    return ids


def test_push_pull_summarize_numbers_match_hand_computation(tmp_path, pushed, annotator_keys, admin_login):
    config, cfg_path, tasks = pushed
    assert [t["data"]["doc_id"] for t in tasks] == ["alpha"] * 3 + ["beta"] * 3
    assert tasks[1]["data"]["context_before"] == "China said it will share its AI research with partners."
    assert tasks[0]["data"]["title"] == "Beijing Pledges Openness"
    keys = annotator_keys(3)
    _annotate_all(tasks, keys, admin_login.url)

    out = tmp_path / "exports"
    _invoke("pull", "--config", str(cfg_path), "--out", str(out), "--show-names")
    folder = out / config.name
    ann = pd.read_parquet(folder / "annotations.parquet")
    # 18 annotations × 4 choice fields, plus one comment row
    assert len(ann) == 18 * 4 + 1
    assert set(ann["annotator"]) == {email for email, _ in keys}
    assert ann.loc[ann["field"] == "comment", "label"].tolist() == ["source?"]
    sentences = pd.read_parquet(folder / "sentences.parquet")
    assert sentences["text"].tolist()[3] == "The Commerce Department published new export rules on Tuesday."

    _invoke("summarize", "--config", str(cfg_path), "--out", str(out), "--show-names")
    labels = pd.read_csv(folder / "sentence_labels.csv", encoding="utf-8-sig")
    china = labels[labels["field"] == "stance_china"].reset_index(drop=True)
    # majority per sentence: F(3/3) F(2/3) A(3/3) N(2/3) X(3/3) and a three-way tie
    assert china["majority_label"].fillna("<tie>").tolist() == [F, F, A, N, X, "<tie>"]
    assert china["votes"].tolist() == [3, 2, 3, 2, 3, 1]
    assert china["n_annotators"].tolist() == [3] * 6
    assert china["agreement"].round(4).tolist() == [1.0, 0.6667, 1.0, 0.6667, 1.0, 0.3333]
    assert china["margin"].round(4).tolist() == [1.0, 0.3333, 1.0, 0.3333, 1.0, 0.0]
    assert china["contested"].tolist() == [False, False, False, False, False, True]
    # the tie falls back to Dawid–Skene; everything else keeps the majority
    assert china["source"].tolist() == ["majority"] * 5 + ["dawid_skene"]
    tie_label = china.loc[5, "ds_label"]
    assert tie_label in (F, A, N) and china.loc[5, "label"] == tie_label
    assert china["label"].tolist()[:5] == [F, F, A, N, X]

    stance = pd.read_csv(folder / "document_stance.csv", encoding="utf-8-sig")
    got = stance[(stance["target"] == "china") & (stance["sentences"] > 0)]
    got = {(r.doc_id, r.label): (r.sentences, round(r.share, 4)) for r in got.itertuples()}
    # alpha: F F A -> 2/3 Favor, 1/3 Against; beta: N, X and the tie's Dawid–Skene label
    beta: dict[tuple[str, str], tuple[int, float]] = {("beta", N): (1, 0.3333), ("beta", X): (1, 0.3333)}
    count = beta.get(("beta", tie_label), (0, 0.0))[0] + 1
    beta[("beta", tie_label)] = (count, round(count / 3, 4))
    assert got == {("alpha", F): (2, 0.6667), ("alpha", A): (1, 0.3333), **beta}

    agreement = pd.read_csv(folder / "agreement.csv", encoding="utf-8-sig").set_index("field")
    # stance_china, nominal α by hand: value counts F=6 A=5 N=3 X=4 (n=18).
    # Disagreeing pairable values per unit, each unit's pairs weighted 1/(m-1)=1/2:
    # s2 (F,F,A) 4 ordered pairs -> 2; s4 (N,N,X) -> 2; s6 (F,A,N) 6 -> 3: sum 7.
    # Expected: n² - Σn_c² = 324 - 86 = 238. α = 1 - (n-1)·7/238 = 1 - 119/238 = 0.5
    assert agreement.loc["stance_china", "krippendorff_alpha"] == pytest.approx(0.5)
    # percent agreement: agreeing pairs per sentence 1, 1/3, 1, 1/3, 1, 0 -> mean 11/18
    assert agreement.loc["stance_china", "percent_agreement"] == pytest.approx(11 / 18)
    # sentence_type: Fact=13 Opinion=5; only s3 disagrees (4 ordered pairs -> 2).
    # α = 1 - 17·2/(324 - 169 - 25) = 1 - 34/130
    assert agreement.loc["sentence_type", "krippendorff_alpha"] == pytest.approx(1 - 34 / 130)
    assert agreement.loc["sentence_type", "percent_agreement"] == pytest.approx((5 + 1 / 3) / 6)
    # everyone said "Not addressed" for the US: α undefined, agreement perfect
    assert math.isnan(agreement.loc["stance_us", "krippendorff_alpha"])
    assert agreement.loc["stance_us", "percent_agreement"] == pytest.approx(1.0)
    choice = agreement.loc[["stance_china", "stance_us", "stance_cooperation", "sentence_type"]]
    assert choice["units"].tolist() == [6, 6, 6, 6]
    assert choice["annotators"].tolist() == [3, 3, 3, 3]
    assert choice["pairable_values"].tolist() == [18, 18, 18, 18]
    # the interval is a bootstrap over sentences: it holds the estimate
    low, high = agreement.loc["stance_china", ["alpha_ci_low", "alpha_ci_high"]]
    assert low <= 0.5 <= high

    # α equals the krippendorff package on the pulled data
    choice = ann[ann["field"] == "stance_china"]
    matrix = choice.pivot(index="annotator", columns="sentence_id", values="label")
    codes = matrix.apply(lambda col: col.map({F: 0, A: 1, N: 2, X: 3})).to_numpy(dtype=float)
    assert agreement.loc["stance_china", "krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=codes, level_of_measurement="nominal")
    )

    people = pd.read_csv(folder / "annotators.csv", encoding="utf-8-sig").set_index("annotator")
    first, second, third = (email for email, _ in keys)
    assert people["annotations"].tolist() == [6, 6, 6]
    # lead times 10a + s for s = 1..6: medians 13.5, 23.5, 33.5 seconds
    assert people.loc[first, "median_lead_time"] == pytest.approx(13.5)
    assert people.loc[third, "median_lead_time"] == pytest.approx(33.5)
    # leave-one-out: annotators 1 and 2 match the others' majority wherever it exists (20 of 20);
    # annotator 3 misses china s2 and s4 and sentence_type s3: 20 of 23
    assert people.loc[first, "agreement_with_majority"] == pytest.approx(1.0)
    assert people.loc[second, "agreement_with_majority"] == pytest.approx(1.0)
    assert people.loc[third, "agreement_with_majority"] == pytest.approx(20 / 23)

    manifest = (folder / "manifest.json").read_text(encoding="utf-8")
    assert '"label_studio_version": "1.' in manifest
    assert admin_login.token not in manifest
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "Agreement per field" in report and "stance_china" in report


def test_repush_imports_nothing(tmp_path, pushed, studio):
    config, cfg_path, tasks = pushed
    output = _invoke(
        "push", str(tmp_path / "alpha.txt"), str(tmp_path / "beta.txt"), "--config", str(cfg_path)
    )
    assert "Nothing new to import: all 6 sentences are already in the project." in output
    project = studio.find_project(config.name)
    assert studio.task_count(int(project["id"])) == 6
    assert project["maximum_annotations"] == config.overlap == 3


def test_incremental_pull_fetches_only_changed_tasks(tmp_path, pushed, annotator_keys, admin_login, studio):
    config, cfg_path, tasks = pushed
    keys = annotator_keys(3)
    ids = _annotate_all(tasks, keys, admin_login.url)
    out = tmp_path / "exports"
    folder = out / config.name

    from annotate.studio.client import WATERMARK_MARGIN
    from annotate.workflows import pull

    def settled_pull(**kwargs):
        # A pull refetches tasks changed within WATERMARK_MARGIN before the previous pull began;
        # waiting past it makes "fetched exactly the changed tasks" a fair check.
        time.sleep(WATERMARK_MARGIN.total_seconds() + 1.5)
        return pull(config, studio, out, show_names=True, **kwargs)

    first = settled_pull()
    assert first.full and first.tasks_fetched == 6 and first.annotations == 18

    # an edit: annotator 1 changes sentence 1's stance toward China
    with Studio(Connection(admin_login.url, keys[0][1], "test")) as as_user:
        as_user.update_annotation(ids[(0, 0)], _result(A, FACT))
    second = settled_pull()
    assert not second.full and second.tasks_fetched == 1
    ann = pd.read_parquet(folder / "annotations.parquet")
    row = ann[(ann["annotation_id"] == ids[(0, 0)]) & (ann["field"] == "stance_china")]
    assert row["label"].tolist() == [A]
    assert ann["annotation_id"].nunique() == 18

    # a new annotation (a skip, counted but kept out of labels) on sentence 5 by a fourth user
    fourth = annotator_keys(4)[3]
    with Studio(Connection(admin_login.url, fourth[1], "test")) as as_user:
        as_user.create_annotation(tasks[4]["id"], [], was_cancelled=True)
    third = settled_pull()
    assert third.tasks_fetched == 1 and third.annotations == 19
    ann = pd.read_parquet(folder / "annotations.parquet")
    assert ann.loc[ann["annotator"] == fourth[0], "cancelled"].tolist() == [True]

    # a deletion disappears
    studio.delete_annotation(ids[(2, 5)])
    fourth_pull = settled_pull()
    assert fourth_pull.tasks_fetched == 1 and fourth_pull.annotations == 18
    ann = pd.read_parquet(folder / "annotations.parquet")
    assert ids[(2, 5)] not in set(ann["annotation_id"])

    # --full refetches everything and agrees with the incremental result
    full = pull(config, studio, out, full=True, show_names=True)
    assert full.full and full.tasks_fetched == 6
    refetched = pd.read_parquet(folder / "annotations.parquet")
    pd.testing.assert_frame_equal(
        ann.sort_values(["annotation_id", "field"]).reset_index(drop=True),
        refetched.sort_values(["annotation_id", "field"]).reset_index(drop=True),
    )
    _invoke("summarize", "--config", str(cfg_path), "--out", str(out), "--show-names")
    people = pd.read_csv(folder / "annotators.csv", encoding="utf-8-sig").set_index("annotator")
    assert people.loc[fourth[0], "skipped"] == 1
    assert people.loc[fourth[0], "annotations"] == 0


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", reliability data with
# 4 observers × 12 units, values 1-5 and missing ("*" -> None). Published: nominal α = 0.743.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_published_alpha_after_round_trip(tmp_path, make_project, server_env, annotator_keys, admin_login):
    config, cfg_path = make_project(
        targets=[{"id": "china", "label": "China"}],
        stance_labels=["1", "2", "3", "4", "5"],
        sentence_types=[],
        cues=[],
        overlap=4,
    )
    article = tmp_path / "units.txt"
    article.write_text("\n".join(f"Unit number {i} is here." for i in range(1, 13)) + "\n", encoding="utf-8")
    _invoke("push", str(article), "--config", str(cfg_path))
    with Studio(Connection(admin_login.url, admin_login.token, "test")) as admin:
        project = admin.find_project(config.name)
        tasks = [t for page, _ in admin.iter_task_pages(int(project["id"]), fields="task_only") for t in page]
    tasks.sort(key=lambda t: t["data"]["sentence_index"])
    assert len(tasks) == 12
    for (_, key), values in zip(annotator_keys(4), KRIPPENDORFF_2011, strict=True):
        with Studio(Connection(admin_login.url, key, "test")) as as_user:
            for task, value in zip(tasks, values, strict=True):
                if value is not None:
                    choice = {"choices": [str(value)]}
                    as_user.create_annotation(
                        task["id"],
                        [
                            {
                                "from_name": "stance_china",
                                "to_name": "sentence",
                                "type": "choices",
                                "value": choice,
                            }
                        ],
                    )
    out = tmp_path / "exports"
    _invoke("pull", "--config", str(cfg_path), "--out", str(out), "--show-names")
    output = _invoke("summarize", "--config", str(cfg_path), "--out", str(out), "--show-names")
    assert "0.743" in output
    agreement = pd.read_csv(out / config.name / "agreement.csv", encoding="utf-8-sig")
    assert round(float(agreement.loc[0, "krippendorff_alpha"]), 3) == 0.743
    # units with two or more values: all but unit 12, which has a single value
    assert int(agreement.loc[0, "units"]) == 11
    data = np.array([[np.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011], dtype=float)
    assert float(agreement.loc[0, "krippendorff_alpha"]) == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    )
    # the same pulled data read as an ordered scale and as an interval scale: 0.815 and 0.849
    from annotate.quality.tables import compute_tables

    pulled = pd.read_parquet(out / config.name / "annotations.parquet")
    sentences = pd.read_parquet(out / config.name / "sentences.parquet")
    for level, published in (("ordinal", 0.815), ("interval", 0.849)):
        scaled = config.model_copy(update={"stance_level": level})
        tables, _ = compute_tables(scaled, pulled, sentences)
        row = tables["agreement"].iloc[0]
        assert (row["level"], round(float(row["krippendorff_alpha"]), 3)) == (level, published)
        assert row["alpha_ci_low"] <= row["krippendorff_alpha"] <= row["alpha_ci_high"]


def test_escaped_target_label_is_accepted_by_the_server(tmp_path, make_project, server_env, studio):
    config, cfg_path = make_project(targets=[{"id": "ab", "label": 'A & B <C> "quoted"'}])
    article = tmp_path / "a.txt"
    article.write_text("A sentence about A and B.\n", encoding="utf-8")
    _invoke("push", str(article), "--config", str(cfg_path))
    project = studio.find_project(config.name)
    assert project is not None
    assert "&amp;" in project["label_config"] and "&lt;C&gt;" in project["label_config"]
    headers = [h.get("value") for h in ET.fromstring(project["label_config"]).iter("Header")]
    assert 'A & B <C> "quoted"' in headers


def test_full_pull_leaves_no_export_behind(
    tmp_path, pushed, annotator_keys, admin_login, studio, label_studio
):
    """The full pull goes through an export snapshot and deletes it: the server keeps no copy."""
    config, _, tasks = pushed
    _annotate_all(tasks, annotator_keys(3), admin_login.url)
    pid = int(studio.find_project(config.name)["id"])
    export_dir = Path(label_studio.data_dir) / "export"
    before = set(export_dir.glob("*")) if export_dir.exists() else set()

    from annotate.workflows import pull

    result = pull(config, studio, tmp_path / "exports", full=True)
    assert result.full and result.annotations == 18
    assert studio.get_json(f"api/projects/{pid}/exports/") == []
    after = set(export_dir.glob("*")) if export_dir.exists() else set()
    assert after == before

    # the same annotations as Label Studio's one-request export
    def annotation_ids(exported: list[dict]) -> set[int]:
        return {int(a["id"]) for task in exported for a in task["annotations"]}

    snapshot, direct = studio.export_tasks(pid), studio._export_in_one_request(pid)
    assert len(annotation_ids(snapshot)) == 18
    assert annotation_ids(snapshot) == annotation_ids(direct)
    assert {t["id"]: t["meta"] for t in snapshot} == {t["id"]: t["meta"] for t in direct}
    # (while the one-request export leaves its copy on the server's disk)
    assert set(export_dir.glob("*")) - before


def test_snapshot_left_by_a_killed_pull_is_deleted_later(pushed, studio):
    """A pull killed between creating its snapshot and deleting it leaves the snapshot on the
    server; a later pull deletes ours once they are old, and never anybody else's."""
    from datetime import timedelta

    from annotate.studio.client import SNAPSHOT_TITLE

    config, _, _ = pushed
    pid = int(studio.find_project(config.name)["id"])
    ours = studio.request("POST", f"api/projects/{pid}/exports/", json_body={"title": SNAPSHOT_TITLE}).json()
    theirs = studio.request(
        "POST", f"api/projects/{pid}/exports/", json_body={"title": "a colleague's"}
    ).json()

    def titles() -> list[str]:
        return sorted(s["title"] for s in studio.get_json(f"api/projects/{pid}/exports/"))

    assert studio._delete_stale_snapshots(pid) == 0  # young: maybe another pull still downloading
    assert titles() == sorted([SNAPSHOT_TITLE, "a colleague's"])
    assert studio._delete_stale_snapshots(pid, older_than=timedelta(0)) == 1
    assert titles() == ["a colleague's"]
    assert ours["id"] != theirs["id"]

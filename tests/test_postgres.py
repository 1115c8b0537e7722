"""The core loop on a Label Studio backed by PostgreSQL (``start_server(database="postgresql")``).

A second embedded Label Studio is started for this module, on a private PostgreSQL cluster
created with initdb and started with pg_ctl (as the system user ``annotate-pg`` when the tests
run as root, as in CI). It takes about a minute: the cluster, then Label Studio's migrations.
Not skipped when PostgreSQL is missing: ``make test`` installs it.

The figures checked are those of ``test_core_loop`` (worked out by hand there): the same answers
give the same α whichever database Label Studio keeps them in.
"""

from __future__ import annotations

import math
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import krippendorff
import pandas as pd
import pytest

from annotate.errors import ServerError
from annotate.outputs.summarize import summarize
from annotate.studio import postgres, server
from annotate.studio.client import WATERMARK_MARGIN, Connection, Studio
from annotate.studio.push import push
from annotate.workflows import pull

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
# per sentence (alpha 1-3, beta 1-3), the answers of annotators 1, 2, 3
CHINA = [(F, F, F), (F, F, A), (A, A, A), (N, N, X), (X, X, X), (F, A, N)]
TYPE = [(FACT,) * 3, (OPIN,) * 3, (OPIN, OPIN, FACT), (FACT,) * 3, (FACT,) * 3, (FACT,) * 3]


def _result(china: str, sentence_type: str) -> list[dict[str, object]]:
    def choice(name: str, value: str) -> dict[str, object]:
        return {"from_name": name, "to_name": "sentence", "type": "choices", "value": {"choices": [value]}}

    return [
        choice("stance_china", china),
        choice("stance_us", X),
        choice("stance_cooperation", X),
        choice("sentence_type", sentence_type),
    ]


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.ServerInfo]:
    """Label Studio on a private PostgreSQL cluster; both stopped and the cluster removed at the end."""
    data_dir = tmp_path_factory.mktemp("label-studio-pg")
    try:
        postgres.bin_dir()
    except Exception as exc:  # fail, not skip: CI must run this
        pytest.fail(f"PostgreSQL is needed for this test: {exc}")
    info = server.start_server(data_dir, port=server.free_port(), timeout=400, database="postgresql")
    try:
        yield info
    finally:
        server.stop_server(data_dir)
        postgres.remove_local(data_dir)


@pytest.fixture(scope="module")
def pg_admin(pg_server: server.ServerInfo) -> Iterator[Studio]:
    login = server.read_login(pg_server.data_dir)
    assert login is not None
    with Studio(Connection(login.url, login.token, str(login.path))) as studio:
        yield studio


def _query(db: postgres.Database, sql: str, *params: object) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(
        host=db.host, port=db.port, user=db.user, password=db.password, dbname=db.name
    ) as conn:
        return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


def test_label_studio_runs_on_the_private_cluster(pg_server: server.ServerInfo) -> None:
    assert pg_server.database == "postgresql"
    again = server.running(pg_server.data_dir)
    assert again is not None and again.database == "postgresql"
    db = postgres.read_state(pg_server.data_dir)
    assert db is not None and db.cluster is not None
    assert postgres.cluster_running(db)
    # the connection file is private; the password is random and not in any process's arguments
    state = pg_server.data_dir / postgres.STATE_FILE
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert len(db.password) >= 24
    for pid in (pg_server.pid, *_cluster_pids(db)):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        assert db.password not in cmdline
    # Label Studio keeps its data there, not in SQLite
    assert not (pg_server.data_dir / "label_studio.sqlite3").exists()
    assert _query(db, "SELECT email FROM htx_user WHERE email = %s", server.ADMIN_EMAIL)
    # the cluster listens on the loopback address only and wants the password
    conf = (db.cluster / "data" / "postgresql.conf").read_text(encoding="utf-8")
    assert "listen_addresses = '127.0.0.1'" in conf
    hba = (db.cluster / "data" / "pg_hba.conf").read_text(encoding="utf-8")
    assert "trust" not in [line.split()[-1] for line in hba.splitlines() if line and not line.startswith("#")]
    if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as an unprivileged system user
        assert db.os_user and db.os_user != "root"
        for pid in _cluster_pids(db):
            status = Path(f"/proc/{pid}/status").read_text()
            uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
            groups = next(line for line in status.splitlines() if line.startswith("Groups:")).split()[1:]
            assert "0" not in uids and "0" not in groups


def _cluster_pids(db: postgres.Database) -> list[int]:
    assert db.cluster is not None
    pid_file = db.cluster / "data" / "postmaster.pid"
    return [int(pid_file.read_text().splitlines()[0])] if pid_file.exists() else []


def test_core_loop_on_postgresql(tmp_path: Path, pg_server, pg_admin: Studio, make_project) -> None:
    config, _ = make_project()
    (tmp_path / "alpha.txt").write_text(ARTICLE_ALPHA, encoding="utf-8")
    (tmp_path / "beta.txt").write_text(ARTICLE_BETA, encoding="utf-8")
    articles = [tmp_path / "alpha.txt", tmp_path / "beta.txt"]

    pushed = push(articles, config, pg_admin)
    assert pushed.created and pushed.imported == 6
    again = push(articles, config, pg_admin)
    assert again.imported == 0 and again.already_present == 6
    db = postgres.read_state(pg_server.data_dir)
    assert db is not None
    assert _query(db, "SELECT count(*) FROM task WHERE project_id = %s", pushed.project_id) == [(6,)]

    tasks = [t for page, _ in pg_admin.iter_task_pages(pushed.project_id, fields="task_only") for t in page]
    tasks.sort(key=lambda t: (t["data"]["doc_id"], t["data"]["sentence_index"]))
    assert [t["data"]["doc_id"] for t in tasks] == ["alpha"] * 3 + ["beta"] * 3

    # three real users, created through the invite link, answer as themselves
    keys = [
        (email, pg_admin.create_annotator(email, "Test-Password-123"))
        for email in (f"pg-annotator{i}@example.org" for i in (1, 2, 3))
    ]
    ids: dict[tuple[int, int], int] = {}
    for a, (_, key) in enumerate(keys):
        with Studio(Connection(pg_server.url, key, "test")) as as_user:
            for s, task in enumerate(tasks):
                ann = as_user.create_annotation(
                    task["id"], _result(CHINA[s][a], TYPE[s][a]), lead_time=10.0 * (a + 1) + s + 1
                )
                ids[(a, s)] = int(ann["id"])
    assert _query(db, "SELECT count(*) FROM task_completion WHERE project_id = %s", pushed.project_id) == [
        (18,)
    ]

    out = tmp_path / "exports"
    # a pull refetches what changed within WATERMARK_MARGIN before the previous one began: settle first
    time.sleep(WATERMARK_MARGIN.total_seconds() + 1.5)
    first = pull(config, pg_admin, out, show_names=True)
    assert first.full and first.tasks_fetched == 6 and first.annotations == 18
    folder = out / config.name
    ann = pd.read_parquet(folder / "annotations.parquet")
    assert len(ann) == 18 * 4
    assert set(ann["annotator"]) == {email for email, _ in keys}

    result = summarize(config, out, show_names=True)
    labels = result.tables["sentence_labels"]
    china = labels[labels["field"] == "stance_china"].reset_index(drop=True)
    assert china["majority_label"].fillna("<tie>").tolist() == [F, F, A, N, X, "<tie>"]
    assert china["votes"].tolist() == [3, 2, 3, 2, 3, 1]
    agreement = result.tables["agreement"].set_index("field")
    # the hand computation of test_core_loop: α(stance_china) = 0.5, α(sentence_type) = 1 - 34/130
    assert agreement.loc["stance_china", "krippendorff_alpha"] == pytest.approx(0.5)
    assert agreement.loc["sentence_type", "krippendorff_alpha"] == pytest.approx(1 - 34 / 130)
    assert agreement.loc["stance_china", "percent_agreement"] == pytest.approx(11 / 18)
    assert math.isnan(agreement.loc["stance_us", "krippendorff_alpha"])
    matrix = ann[ann["field"] == "stance_china"].pivot(
        index="annotator", columns="sentence_id", values="label"
    )
    codes = matrix.apply(lambda col: col.map({F: 0, A: 1, N: 2, X: 3})).to_numpy(dtype=float)
    assert agreement.loc["stance_china", "krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=codes, level_of_measurement="nominal")
    )

    # incremental pull: the Data Manager's updated_at filter works on PostgreSQL too
    with Studio(Connection(pg_server.url, keys[0][1], "test")) as as_user:
        as_user.update_annotation(ids[(0, 0)], _result(A, FACT))
    time.sleep(WATERMARK_MARGIN.total_seconds() + 1.5)
    second = pull(config, pg_admin, out, show_names=True)
    assert not second.full and second.tasks_fetched == 1 and second.annotations == 18
    ann = pd.read_parquet(folder / "annotations.parquet")
    row = ann[(ann["annotation_id"] == ids[(0, 0)]) & (ann["field"] == "stance_china")]
    assert row["label"].tolist() == [A]


def test_external_server_from_postgre_variables() -> None:
    """POSTGRE_* name a server that is used as given (nothing started); a wrong one is reported."""
    env = {
        "POSTGRE_HOST": "127.0.0.1",
        "POSTGRE_PORT": "1",
        "POSTGRE_USER": "u",
        "POSTGRE_PASSWORD": "pw-secret",
    }
    db = postgres.from_environment(env)
    assert db is not None and not db.managed
    assert db.label_studio_env()["DJANGO_DB"] == "default"
    assert db.name == "postgres"  # Label Studio's default
    assert "pw-secret" not in repr(db)
    assert postgres.from_environment({}) is None
    with pytest.raises(ServerError, match="cannot connect to PostgreSQL u@127.0.0.1:1/postgres"):
        postgres.check_connection(db, timeout=2)
    with pytest.raises(ServerError, match="POSTGRE_PORT"):
        postgres.from_environment({"POSTGRE_HOST": "db", "POSTGRE_PORT": "x"})


def test_restart_keeps_the_data_and_stop_stops_both(pg_server: server.ServerInfo) -> None:
    """Stop (the cluster too), then a plain start: the data directory keeps PostgreSQL and its data.

    Runs last in this module: it restarts the module's server on another port.
    """
    data_dir = pg_server.data_dir
    login = server.read_login(data_dir)
    assert login is not None
    with Studio(Connection(pg_server.url, login.token, "test")) as studio:
        project = studio.create_project("restart-check", {"title": "restart check"})
    db = postgres.read_state(data_dir)
    assert db is not None and postgres.cluster_running(db)

    assert server.stop_server(data_dir)
    assert not postgres.cluster_running(db)
    assert server.running(data_dir) is None

    # no database named: the data directory keeps the one it last ran on
    again = server.start_server(data_dir, port=server.free_port(), timeout=400)
    assert again.database == "postgresql" and postgres.cluster_running(db)
    with Studio(Connection(again.url, login.token, "test")) as studio:
        found = studio.find_project("restart-check")
        assert found is not None and found["id"] == project["id"]
    with pytest.raises(ServerError, match="running on postgresql"):
        server.start_server(data_dir, port=server.free_port(), database="sqlite")

"""``annotate serve --workers 2``: Label Studio served by two uWSGI worker processes on PostgreSQL.

One server for the module, started with the real command (``python -m annotate serve``) on a
private PostgreSQL cluster, as ``tests/test_postgres.py`` does (about 40 s: the cluster, Label
Studio's migrations, then two workers loading Label Studio). Not skipped when PostgreSQL is
missing: ``make test`` installs it. The last test stops it with ``annotate serve --stop`` and
checks that no process of it is left.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from test_privacy import PageRefs, _foreign, _web_login, log_problems  # tests/ is on sys.path
from test_server import _listen_addresses

from annotate.errors import ServerError, UsageError
from annotate.studio import postgres, server, workers
from annotate.studio.client import Connection, Studio
from annotate.studio.push import prepare, push
from annotate.studio.status import status
from annotate.workflows import pull

WORKERS = 2


def _annotate(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    """The ``annotate`` command, run as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "annotate", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def workers_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.ServerInfo]:
    """``annotate serve --workers 2 --database postgresql`` in a fresh data folder; stopped and the
    cluster removed at the end."""
    data_dir = tmp_path_factory.mktemp("ls-workers")
    try:
        postgres.bin_dir()
    except Exception as exc:  # fail, not skip: CI must run this
        pytest.fail(f"PostgreSQL is needed for this test: {exc}")
    port = server.free_port()
    started = time.monotonic()
    done = _annotate(
        "serve",
        "--workers",
        str(WORKERS),
        "--database",
        "postgresql",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
    )
    print(f"\nannotate serve --workers {WORKERS}: {time.monotonic() - started:.1f} s")
    try:
        assert done.returncode == 0, done.stderr + _tail(data_dir / server.LOG_FILE)
        assert f"(postgresql, {WORKERS} web workers)" in done.stdout
        info = server.running(data_dir)
        assert info is not None
        yield info
    finally:
        server.stop_server(data_dir)
        postgres.remove_local(data_dir)


def _tail(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-3000:] if path.exists() else ""


def _stats(info: server.ServerInfo) -> dict[int, int]:
    """Worker pid -> requests it has served, from uWSGI's stats."""
    path = workers.stats_path(info.data_dir)
    assert path is not None
    stats = workers.read_stats(path)
    assert stats is not None, "uWSGI's stats server does not answer"
    return {int(w["pid"]): int(w["requests"]) for w in stats["workers"]}


def _parent(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])


def _group(pgid: int) -> list[int]:
    """The processes of process group ``pgid``: the server's master, router and workers."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _gone(pid: int) -> bool:
    """Not running: no such process, or only its exit status left (a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "Z" in state.split()[1]


def test_two_workers_serve_requests_with_the_admin_token(workers_server: server.ServerInfo) -> None:
    info = workers_server
    assert info.database == "postgresql" and info.workers == WORKERS
    login = server.read_login(info.data_dir)
    assert login is not None and login.url == info.url
    # the master and its workers, each its own process, listening on the loopback address only
    pids = _stats(info)
    assert len(pids) == WORKERS and info.pid not in pids
    assert all(_parent(pid) == info.pid for pid in pids)
    group = _group(info.pid)
    assert set(pids) | {info.pid} <= set(group) and len(group) == WORKERS + 2  # + uWSGI's HTTP router
    port = int(info.url.rsplit(":", 1)[1])
    assert _listen_addresses(port) == {"0100007F"}
    # the router reaches the workers through a Unix socket in the private data folder, no TCP port
    assert (info.data_dir / workers.WORKER_SOCKET).is_socket()
    for pid in group:  # credentials go through the environment, never argv
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        assert login.password not in cmdline and login.token not in cmdline

    auth = {"Authorization": f"Token {login.token}"}
    with httpx.Client(base_url=info.url, timeout=60) as web:
        assert web.get("/api/current-user/whoami", headers=auth).json()["email"] == server.ADMIN_EMAIL
        wrong = {"Authorization": f"Token {secrets.token_hex(20)}"}
        assert web.get("/api/current-user/whoami", headers=wrong).status_code == 401
        project = web.post("/api/projects", headers=auth, json={"title": "workers-check"}).json()
    assert isinstance(project.get("id"), int)

    # concurrent requests: each worker serves some of them
    def fetch(_: int) -> int:
        with httpx.Client(base_url=info.url, timeout=60) as web:
            return web.get("/api/projects", headers=auth, params={"page_size": 100}).status_code

    before = _stats(info)
    served: dict[int, int] = {}
    for _ in range(5):
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(fetch, range(16))) == {200}
        after = _stats(info)
        served = {pid: after[pid] - before.get(pid, 0) for pid in after}
        if all(n > 0 for n in served.values()):
            break
    print(f"\nrequests served per worker: {served}")
    assert len(served) == WORKERS and all(n > 0 for n in served.values()), served


def test_push_pull_and_status_through_the_workers(
    workers_server: server.ServerInfo, make_project, tmp_path
) -> None:
    """The whole loop against several workers: push, a full and an incremental pull and status,
    which read the server's clock from the HTTP Date header (uWSGI sends none of its own:
    annotate.studio.wsgi adds it)."""
    login = server.read_login(workers_server.data_dir)
    assert login is not None
    config, cfg_path = make_project()
    article = tmp_path / "talks.txt"
    article.write_text("Officials met in Geneva on Monday. The talks went on for hours.", encoding="utf-8")
    with Studio(Connection(login.url, login.token, str(login.path))) as studio:
        assert studio.request("GET", "health").headers.get("date")
        pushed = push(prepare([article], config, cfg_path), config, studio)
        assert pushed.imported == 2
        full = pull(config, studio, tmp_path / "exports", full=True)
        again = pull(config, studio, tmp_path / "exports")
        progress = status(config, studio, cache_dir=tmp_path / "status")
    assert (full.sentences, full.full, again.full, again.sentences) == (2, True, False, 2)
    assert progress.sentences == 2 and progress.coverage[0] == 2


def test_running_server_is_found_and_a_different_count_refused(workers_server: server.ServerInfo) -> None:
    again = server.start_server(workers_server.data_dir)  # no count: whatever runs
    assert again.pid == workers_server.pid and again.workers == WORKERS and not again.started
    with pytest.raises(ServerError, match=f"running with {WORKERS} web worker"):
        server.start_server(workers_server.data_dir, workers=1)


def test_ui_pages_and_static_files_come_from_the_server(workers_server: server.ServerInfo) -> None:
    """The login page and the app's pages render, their scripts and stylesheets load from this
    server and nothing else, and a session made by one worker is honoured by the others."""
    login = server.read_login(workers_server.data_dir)
    assert login is not None
    origin = workers_server.url

    def assets(web: httpx.Client, html: str, suffix: str, kind: str) -> None:
        refs = PageRefs()
        refs.feed(html)
        assert [url for _, url in refs.fetched if _foreign(url, origin)] == []
        found = [url for _, url in refs.fetched if url.split("?")[0].endswith(suffix)]
        assert found, refs.fetched
        for url in found:
            asset = web.get(url)
            assert asset.status_code == 200 and kind in asset.headers["content-type"], url
            assert len(asset.content) > 100, url

    with httpx.Client(base_url=origin, timeout=60, follow_redirects=False) as web:
        page = web.get("/user/login/")
        assert page.status_code == 200 and "sentry" not in page.text.lower()
        assets(web, page.text, ".css", "text/css")
        _web_login(web, login.email, login.password)
        for _ in range(2 * WORKERS):  # several requests, so more than one worker answers
            app = web.get("/projects/")
            assert app.status_code == 200 and "APP_SETTINGS" in app.text
        assets(web, app.text, ".js", "javascript")


def test_server_log_has_warnings_only_each_once(workers_server: server.ServerInfo) -> None:
    marker = f"annotate-workers-log-{secrets.token_hex(4)}"
    with httpx.Client(base_url=workers_server.url, timeout=30) as web:
        assert web.get(f"/{marker}").status_code == 404  # a WARNING: there, once
    deadline = time.monotonic() + 20
    text = ""
    while time.monotonic() < deadline:
        text = workers_server.log_file.read_text(encoding="utf-8", errors="replace")
        if marker in text:
            break
        time.sleep(0.2)
    mine = [line for line in text.splitlines() if marker in line]
    assert len(mine) == 1 and "[WARNING]" in mine[0], mine
    assert log_problems(text) == []
    assert "Starting uWSGI" not in text and "spawned uWSGI worker" not in text  # uWSGI's notices


def test_stop_stops_the_master_and_every_worker(workers_server: server.ServerInfo) -> None:
    """Runs last in this module: stops the module's server."""
    info = workers_server
    pids = _group(info.pid)
    assert len(pids) == WORKERS + 2
    db = postgres.read_state(info.data_dir)
    assert db is not None and postgres.cluster_running(db)
    done = _annotate("serve", "--stop", "--data-dir", str(info.data_dir), timeout=120)
    assert done.returncode == 0 and "Label Studio stopped." in done.stdout, done.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(_gone(pid) for pid in pids):
        time.sleep(0.2)
    assert [pid for pid in pids if not _gone(pid)] == []
    assert server.running(info.data_dir) is None
    assert not (info.data_dir / server.STATE_FILE).exists()
    assert not any(path.exists() for path in workers.sockets(info.data_dir))
    assert not postgres.cluster_running(db)


def test_workers_on_sqlite_is_exit_2_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(server.DATABASE_ENV, raising=False)
    data_dir = tmp_path / "ls"
    done = _annotate(
        "serve", "--workers", "2", "--database", "sqlite", "--data-dir", str(data_dir), timeout=120
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert re.match(r"error: --workers 2 needs PostgreSQL .* add --database postgresql$", lines[0])
    assert not data_dir.exists()  # nothing was started or written
    # the data folder's database is SQLite unless named: the same refusal from the library
    with pytest.raises(UsageError, match="needs PostgreSQL"):
        server.start_server(data_dir, port=server.free_port(), workers=2)
    with pytest.raises(UsageError, match="1 or more"):
        server.start_server(data_dir, port=server.free_port(), workers=0, database="postgresql")
    assert not data_dir.exists()

"""Server faults and concurrent annotators against the real Label Studio of the session.

Faults are made by killing the server process the fixture started (SIGKILL, then a
restart on the same port and data) or by a loopback proxy that drops connections or
answers 502. Every loop is bounded in time and count; only 127.0.0.1 is used.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from faultproxy import FaultProxy

from annotate.errors import ServerError
from annotate.studio import server
from annotate.studio.client import Connection, Studio
from annotate.studio.ports import port_free
from annotate.studio.push import prepare, push
from annotate.workflows import pull


def _kill(data_dir: Path) -> None:
    """SIGKILL the embedded server of ``data_dir`` (a crash, not a clean stop)."""
    state = server._read_state(data_dir)
    assert state is not None
    os.killpg(state["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and server.healthy(f"http://127.0.0.1:{state['port']}", timeout=0.5):
        time.sleep(0.2)


def _restart(label_studio: server.ServerInfo) -> None:
    port = int(label_studio.url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 30
    while not port_free(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    server.start_server(label_studio.data_dir, port=port, timeout=240)


def _article(tmp_path: Path, n: int, name: str = "long.txt") -> Path:
    path = tmp_path / name
    path.write_text(
        "\n".join(f"Report number {i} says output rose by {i} percent." for i in range(n)) + "\n",
        encoding="utf-8",
    )
    return path


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


@pytest.fixture
def admin(admin_login):
    with Studio(Connection(admin_login.url, admin_login.token, "test")) as s:
        yield s


def test_5xx_is_retried_with_backoff_then_reported(admin_login):
    port = int(admin_login.url.rsplit(":", 1)[1])
    proxy = FaultProxy(port)
    conn = Connection(proxy.url, admin_login.token, "test")
    try:  # the proxy acts per connection, so each phase uses a fresh client (no kept-alive socket)
        proxy.bad_gateway_next = 2
        with Studio(conn) as studio:
            assert studio.version().startswith("1.")  # two 502s, then the real answer
        proxy.bad_gateway_next = 1000
        began = time.monotonic()
        with Studio(conn) as studio, pytest.raises(ServerError, match="HTTP 502"):
            studio.version()
        assert time.monotonic() - began < 15
    finally:
        proxy.close()


def test_dropped_connections_are_retried_then_reported(admin_login):
    port = int(admin_login.url.rsplit(":", 1)[1])
    proxy = FaultProxy(port)
    conn = Connection(proxy.url, admin_login.token, "test")
    try:
        proxy.drop_next = 2
        with Studio(conn) as studio:
            assert studio.version().startswith("1.")
        assert proxy.dropped == 2
        proxy.always_drop = True
        began = time.monotonic()
        with Studio(conn) as studio, pytest.raises(ServerError, match=proxy.url):
            studio.version()
        assert time.monotonic() - began < 15
    finally:
        proxy.close()


def test_push_killed_midway_then_rerun_imports_each_sentence_once(
    tmp_path, make_project, label_studio, admin_login
):
    config, cfg_path = make_project()
    prepared = prepare([_article(tmp_path, 3000)], config, cfg_path)
    conn = Connection(admin_login.url, admin_login.token, "test")

    def crash_soon() -> None:
        time.sleep(1.0)
        _kill(label_studio.data_dir)

    killer = threading.Thread(target=crash_soon)
    killer.start()
    try:
        with Studio(conn) as studio, pytest.raises(ServerError):
            push(prepared, config, studio, batch_size=100)
            # the crash may come after a fast push: make sure a request still hits it
            killer.join()
            push(prepared, config, studio, batch_size=100)
    finally:
        killer.join()
        _restart(label_studio)

    with Studio(conn) as studio:
        again = push(prepared, config, studio, batch_size=100)
        project = studio.find_project(config.name)
        ids = studio.sentence_task_ids(int(project["id"]))
        assert studio.task_count(int(project["id"])) == 3000
        assert len(ids) == 3000
        assert again.already_present + again.imported == 3000


def test_pull_killed_midway_keeps_previous_exports(tmp_path, make_project, label_studio, admin_login):
    config, cfg_path = make_project()
    conn = Connection(admin_login.url, admin_login.token, "test")
    out = tmp_path / "exports"
    with Studio(conn) as studio:
        push(prepare([_article(tmp_path, 20)], config, cfg_path), config, studio)
        first = pull(config, studio, out)
    folder = first.out_dir
    before = _digest(folder)

    class CrashingStudio(Studio):
        def export_task_chunks(self, project_id: int, *args, **kwargs):  # type: ignore[override]
            _kill(label_studio.data_dir)
            return super().export_task_chunks(project_id, *args, **kwargs)

    try:
        with CrashingStudio(conn) as studio, pytest.raises(ServerError):
            pull(config, studio, out, full=True)
        assert _digest(folder) == before
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    finally:
        _restart(label_studio)
    with Studio(conn) as studio:
        again = pull(config, studio, out, full=True)
    assert again.sentences == 20


def test_concurrent_annotators_and_pulls_lose_nothing(tmp_path, make_project, server_env, annotator_keys):
    config, cfg_path = make_project(overlap=5)
    url, token = server_env.url, server_env.token
    with Studio(Connection(url, token, "test")) as admin:
        push(prepare([_article(tmp_path, 24)], config, cfg_path), config, admin)
        project = admin.find_project(config.name)
        pid = int(project["id"])
        tasks = [t["id"] for page, _ in admin.iter_task_pages(pid, fields="task_only") for t in page]
    keys = annotator_keys(5)
    out = tmp_path / "exports"
    errors: list[BaseException] = []
    done = threading.Event()

    def annotate(key: str, offset: int) -> None:
        try:
            with Studio(Connection(url, key, "test")) as me:
                for i in range(len(tasks)):
                    task = tasks[(i + offset) % len(tasks)]
                    result = [
                        {
                            "from_name": "stance_china",
                            "to_name": "sentence",
                            "type": "choices",
                            "value": {"choices": ["Favor" if i % 2 else "Against"]},
                        }
                    ]
                    ann = me.create_annotation(task, result)
                    if i % 5 == 0:  # some edits while pulls run
                        me.update_annotation(int(ann["id"]), result[:0] + [result[0]])
                    time.sleep(0.05)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    workers = [threading.Thread(target=annotate, args=(key, 5 * n)) for n, (_, key) in enumerate(keys)]
    for w in workers:
        w.start()
    pulls = 0
    with Studio(Connection(url, token, "test")) as admin:
        deadline = time.monotonic() + 120
        while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
            pull(config, admin, out)
            pulls += 1
            time.sleep(1.0)
        for w in workers:
            w.join(timeout=60)
        done.set()
        assert not errors, errors
        final = pull(config, admin, out)
        server_ids = {
            int(a["id"]) for t in admin.export_tasks(pid) for a in t["annotations"] if not a["ground_truth"]
        }
    assert pulls >= 2
    exported = pd.read_parquet(final.out_dir / "annotations.parquet")
    assert set(exported["annotation_id"]) == server_ids
    assert len(server_ids) == 5 * 24
    assert not exported.duplicated(["annotation_id", "field", "label", "start"]).any()

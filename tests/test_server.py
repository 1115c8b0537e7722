"""The embedded server as started by the session fixture: loopback only, no open sign-up, secrets kept."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from pathlib import Path

import httpx
import pytest

from annotate.errors import ServerError
from annotate.studio import server
from annotate.studio.client import Connection, Studio, resolve_connection
from annotate.studio.push import prepare, push


def _listen_addresses(port: int) -> set[str]:
    """Local addresses listening on ``port`` according to /proc/net/tcp{,6}."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(name):
            continue
        for line in Path(name).read_text().splitlines()[1:]:
            parts = line.split()
            local, state = parts[1], parts[3]
            addr, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


def test_listens_on_loopback_only(label_studio):
    port = int(label_studio.url.rsplit(":", 1)[1])
    assert _listen_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex


def test_login_file_is_private_and_complete(label_studio, admin_login):
    mode = stat.S_IMODE(os.stat(label_studio.login_file).st_mode)
    assert mode == 0o600
    assert admin_login.url == label_studio.url
    assert len(admin_login.password) >= 20 and len(admin_login.token) == 40
    assert admin_login.token not in repr(admin_login) and admin_login.password not in repr(admin_login)


def test_secrets_not_in_process_arguments(label_studio, admin_login):
    current = server.running(label_studio.data_dir)  # fault tests may have restarted it
    assert current is not None
    cmdline = Path(f"/proc/{current.pid}/cmdline").read_bytes().decode(errors="replace")
    assert "label-studio" in cmdline or "label_studio" in cmdline
    assert admin_login.password not in cmdline and admin_login.token not in cmdline


def test_open_signup_is_disabled(label_studio):
    with httpx.Client(base_url=label_studio.url, follow_redirects=False) as web:
        web.get("/user/signup/")
        resp = web.post(
            "/user/signup/",
            data={
                "email": "stranger@example.org",
                "password": "Stranger-Password-1",
                "csrfmiddlewaretoken": web.cookies.get("csrftoken") or "",
            },
            headers={"Referer": label_studio.url + "/user/signup/"},
        )
    assert resp.status_code == 403


def test_admin_token_works_and_wrong_token_is_refused(admin_login):
    with Studio(Connection(admin_login.url, admin_login.token, "test")) as studio:
        assert studio.version().startswith("1.")
    with (
        Studio(Connection(admin_login.url, "0" * 40, "test")) as bad,
        pytest.raises(ServerError, match="refused"),
    ):
        bad.version()


def test_start_again_finds_the_running_server(label_studio):
    current = server.running(label_studio.data_dir)
    again = server.start_server(label_studio.data_dir)
    assert current is not None
    assert again.started is False and again.pid == current.pid and again.url == label_studio.url


def test_busy_port_is_a_clear_error(label_studio, tmp_path):
    port = int(label_studio.url.rsplit(":", 1)[1])
    with pytest.raises(ServerError, match=f"port {port} on 127.0.0.1 is in use"):
        server.start_server(tmp_path / "other", port=port)


def test_connection_prefers_environment(monkeypatch, label_studio, admin_login):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "abc")
    conn = resolve_connection(label_studio.data_dir)
    assert (conn.url, conn.api_key, conn.source) == ("http://127.0.0.1:1", "abc", "environment")
    assert "abc" not in repr(conn)
    monkeypatch.delenv("LABEL_STUDIO_URL")
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    conn = resolve_connection(label_studio.data_dir)
    assert conn.url == label_studio.url and conn.api_key == admin_login.token


def test_no_server_configured_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    with pytest.raises(ServerError, match="annotate serve"):
        resolve_connection(tmp_path)


def test_annotations_are_saved_while_a_long_read_holds_the_database(
    label_studio, studio, make_project, tmp_path
):
    """The embedded server's SQLite database is in WAL mode, so a long read does not block
    writers: an export snapshot (what ``annotate pull`` asks for) reads inside one transaction
    for its whole length. With a read transaction held open on the database file, an
    annotation is still saved; in SQLite's default rollback-journal mode Label Studio answers
    500 "database is locked" after its 5 s busy timeout."""
    path = server.sqlite_path({}, label_studio.data_dir)
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    config, cfg_path = make_project()
    article = tmp_path / "talks.txt"
    article.write_text("Officials met in Geneva on Monday. The talks went on for hours.", encoding="utf-8")
    pid = push(prepare([article], config, cfg_path), config, studio).project_id
    task_id = min(studio.sentence_task_ids(pid).values())
    choice = {
        "from_name": "sentence_type",
        "to_name": "sentence",
        "type": "choices",
        "value": {"choices": ["Fact"]},
    }
    with contextlib.closing(sqlite3.connect(path, isolation_level=None, timeout=0)) as reader:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM task WHERE project_id = ?", (pid,)).fetchone()[0] == 2
        saved = studio.create_annotation(task_id, [choice])
        reader.execute("ROLLBACK")
    assert studio.get_json(f"api/annotations/{saved['id']}/")["task"] == task_id

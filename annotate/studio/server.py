"""The embedded Label Studio: a local server on 127.0.0.1 with SQLite (or PostgreSQL), started for you.

Everything lives in one data directory (default: the user's data directory,
``.../annotate/label-studio``):

- ``login.json`` (mode 0600): URL, admin e-mail, random password and API token;
- ``server.json``: pid, port and database (and number of web workers) of the running server;
- ``server.log``: the server's output;
- Label Studio's own database, media and Django secret key.

``database="postgresql"`` (``annotate serve --database postgresql``, or ``ANNOTATE_DATABASE=postgresql``)
runs Label Studio on PostgreSQL instead of SQLite: the server named by the ``POSTGRE_*`` variables,
or else a private local cluster started with it and stopped with it (see ``annotate.studio.postgres``).
On PostgreSQL, ``workers=N`` (``annotate serve --workers N``) serves Label Studio with N uWSGI
worker processes instead of ``label-studio start``'s one (see ``annotate.studio.workers``).

Open sign-up is disabled: annotators join through the organisation's invite
link or are created by the admin.

Nothing about annotators leaves the machine. Label Studio, as installed, reports errors to
Heartex's Sentry project from the server and from every page (its settings default ``SENTRY_DSN``
and ``FRONTEND_SENTRY_DSN`` to it; a page with the latter set loads Sentry's script from
``browser.sentry-cdn.com`` and the app sends to ``ingest.sentry.io``; the server's reports carry
users' e-mail and IP addresses, ``send_default_pii=True``), can send usage analytics
(``tele.labelstud.io``; Google Analytics and a ``labelstud.io`` tracking frame on the login page)
and asks PyPI for the latest version. The embedded server is started with all of these off
(``label_studio_env``), so an annotator's browser talks to this server only. Two things cannot be
turned off from the environment: Label Studio's tips box (on the home page annotators land on
after logging in, and on the project and organisation pages, the browser asks this server's
``/heidi-tips``, and the server then fetches the tips from ``raw.githubusercontent.com``: a
request from the server's address, with nothing about the user in it, that fails quietly offline)
and the API reference pages (``/docs/api/...`` load their scripts from ``cdn.jsdelivr.net``).

``server.log`` holds warnings and errors, each once: Label Studio runs with every record below
WARNING turned off and without the second copy of each of Django's records that its logging
setup wrote (see ``_LAUNCH``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import requests

from annotate.errors import ServerError, UsageError
from annotate.files import write_private_json
from annotate.studio import postgres
from annotate.studio import workers as web_workers
from annotate.studio.ports import free_port, port_free

ADMIN_EMAIL = "admin@annotate.localhost"
HOST = "127.0.0.1"
DEFAULT_PORT = 8080
LOGIN_FILE = "login.json"
STATE_FILE = "server.json"
LOG_FILE = "server.log"
DATA_DIR_ENV = "ANNOTATE_DATA_DIR"
DATABASE_ENV = "ANNOTATE_DATABASE"
DATABASES = ("sqlite", "postgresql")
#: Remembers the database a data directory runs on, so a plain ``annotate serve`` keeps using it.
SETTINGS_FILE = "settings.json"
#: What ``server.log`` records: warnings and errors.
LOG_LEVEL = "WARNING"
#: Label Studio settings fixed for the embedded server, whatever the caller's environment says
#: (names as Label Studio's settings read them with ``get_env``/``get_bool_env``).
FIXED_SETTINGS = {
    # error reports to Heartex's Sentry: from the server (core/utils/sentry.py) and from each page
    # (templates/base.html loads browser.sentry-cdn.com and the app reports to ingest.sentry.io)
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    # usage analytics: tele.labelstud.io (core/utils/contextlog.py), Google Analytics and the
    # labelstud.io tracking frame (users/templates/users/*user_base.html), /__lsa/ beacons
    "COLLECT_ANALYTICS": "false",
    # the PyPI version check when Label Studio starts (core/utils/common.py)
    "LATEST_VERSION_CHECK": "false",
    # LaunchDarkly stays offline even without Label Studio's feature_flags.json
    "FEATURE_FLAGS_OFFLINE": "true",
    # Django's logger is on INFO whatever the root's level; see _LAUNCH
    "LOG_LEVEL": LOG_LEVEL,
}
#: Settings whose default is the server's own address; set elsewhere, pages would load from there.
UNSET_SETTINGS = ("HOST", "FRONTEND_HOSTNAME", "FRONTEND_HMR")
#: Label Studio's ``get_env(NAME)`` takes the first of these set (to anything, "" included).
_SETTING_PREFIXES = ("LABEL_STUDIO_", "HEARTEX_", "")
#: Runs Label Studio's ``label-studio`` command (``label_studio.server.main``) with its logging
#: mended, which its settings do not allow through the environment:
#: - its ``LOGGING`` gives the ``django`` logger the root's console handler and lets it propagate
#:   to the root, so every record of Django's loggers (requests, 404s, errors) was written twice;
#:   after Django sets up logging, a logger that writes to one of the root's handlers itself stops
#:   passing its records on to the root;
#: - the log level (``--log-level``, ``LOG_LEVEL``) sets only the root's level; Django's own
#:   ``django`` logger stays on INFO (one line per request), and the settings module (imported
#:   twice under two names) logs its INFO lines before any level is set; records below
#:   ``LOG_LEVEL`` are turned off for the whole process instead (``logging.disable``).
#: The working directory (the data directory) is taken off the import path that ``-c`` puts it on.
#: The web workers (``annotate.studio.workers``) start from the same ``_PRELUDE``.
_PRELUDE = """\
import logging, os, sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
logging.disable(logging.getLevelName(os.environ["LOG_LEVEL"]) - 1)
import django
_django_setup = django.setup
def _setup(*args, **kwargs):
    _django_setup(*args, **kwargs)
    shared = set(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and shared.intersection(logger.handlers):
            logger.propagate = False
django.setup = _setup
"""
_LAUNCH = (
    _PRELUDE
    + """\
from label_studio.server import main
sys.argv[0] = "label-studio"
sys.exit(main())
"""
)


@dataclass(frozen=True)
class Login:
    """Credentials of the embedded server's admin, as stored in ``login.json``."""

    url: str
    email: str
    password: str
    token: str
    path: Path

    def __repr__(self) -> str:  # never show the secrets
        return f"Login(url={self.url!r}, email={self.email!r}, path={str(self.path)!r})"


@dataclass(frozen=True)
class ServerInfo:
    """A running embedded server."""

    url: str
    pid: int
    data_dir: Path
    login_file: Path
    log_file: Path
    started: bool  # False when it was already running
    database: str = "sqlite"  # "sqlite" or "postgresql"
    workers: int = 1  # web worker processes: 1 is label-studio start, more are uWSGI's


def default_data_dir() -> Path:
    """``$ANNOTATE_DATA_DIR`` or the platform's user data directory for annotate."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("annotate")) / "label-studio"


def read_login(data_dir: Path | None = None) -> Login | None:
    """The stored admin login of the embedded server, or None when there is none."""
    path = (data_dir or default_data_dir()) / LOGIN_FILE
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Login(
            url=str(raw["url"]),
            email=str(raw["email"]),
            password=str(raw["password"]),
            token=str(raw["token"]),
            path=path,
        )
    except (ValueError, KeyError) as exc:
        raise ServerError(
            f"{path}: unreadable login file ({type(exc).__name__}); delete it and run 'annotate serve' again"
        ) from None


def _read_state(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / STATE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            "pid": int(raw["pid"]),
            "port": int(raw["port"]),
            "database": str(raw.get("database") or "sqlite"),
            "postgres": str(raw.get("postgres") or ""),
            "workers": int(raw.get("workers") or 1),
        }
    except (OSError, ValueError, KeyError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0); reap it if it is ours
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def healthy(url: str, timeout: float = 2.0) -> bool:
    """True when Label Studio at ``url`` answers its health check."""
    try:
        resp = requests.get(url.rstrip("/") + "/health", timeout=timeout)
    except requests.RequestException:
        return False
    return resp.status_code == 200


def _label_studio_command() -> list[str]:
    """Label Studio's ``label-studio`` command, run through ``_LAUNCH`` by the Python it is installed in."""
    script = Path(sys.executable).parent / "label-studio"
    if script.exists():
        return [sys.executable, "-c", _LAUNCH]
    found = shutil.which("label-studio")
    if found:
        python = _script_python(Path(found))
        return [python, "-c", _LAUNCH] if python else [found]
    raise ServerError(
        "Label Studio is not installed: run `pip install 'annotate[server]'` "
        "(or `make demo`), or set LABEL_STUDIO_URL to a running server"
    )


def _script_python(script: Path) -> str | None:
    """The Python named by the ``#!`` line of a console script, when it is an absolute path."""
    try:
        with open(script, "rb") as f:
            first = f.readline(1024)
    except OSError:
        return None
    parts = first[2:].decode(errors="replace").split() if first.startswith(b"#!") else []
    if parts and os.path.isabs(parts[0]) and os.access(parts[0], os.X_OK) and "python" in Path(parts[0]).name:
        return parts[0]
    return None


def label_studio_env(login: Login, data_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the embedded Label Studio runs in: ``base`` (default: ``os.environ``) with the
    admin's login, the data directory and ``FIXED_SETTINGS``, and without ``UNSET_SETTINGS``, the
    SDK's connection variables and any Django secret key. Starts nothing and writes nothing.

    A fixed setting is given under its plain name with its ``LABEL_STUDIO_``/``HEARTEX_`` spellings
    removed, since Label Studio's ``get_env`` prefers those (``core/utils/params.py``).
    The database's variables are added by ``start_server``.
    """
    env = dict(os.environ if base is None else base)
    # Credentials go through the environment, never argv (argv shows in `ps`).
    env.update(
        {
            "LABEL_STUDIO_USERNAME": login.email,
            "LABEL_STUDIO_PASSWORD": login.password,
            "LABEL_STUDIO_USER_TOKEN": login.token,
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    # the Django secret key is the one Label Studio generates and keeps in <data_dir>/.env (0600)
    for key in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "SECRET_KEY", "DJANGO_SECRET_KEY"):
        env.pop(key, None)
    for name in (*FIXED_SETTINGS, *UNSET_SETTINGS):
        for prefix in _SETTING_PREFIXES:
            env.pop(prefix + name, None)
    env.update(FIXED_SETTINGS)
    return env


def _spawn(cmd: list[str], env: Mapping[str, str], data_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """Start a Label Studio process in its own session, its output appended to ``log_path``."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=data_dir,
            start_new_session=True,
        )


def sqlite_path(env: Mapping[str, str], data_dir: Path) -> Path:
    """The SQLite file Label Studio uses in ``env``: its ``DATABASE_NAME`` setting, else
    ``<data dir>/label_studio.sqlite3`` (Label Studio's default)."""
    for prefix in _SETTING_PREFIXES:
        if prefix + "DATABASE_NAME" in env:
            return Path(env[prefix + "DATABASE_NAME"])
    return data_dir / "label_studio.sqlite3"


def use_wal(path: Path) -> None:
    """Put Label Studio's SQLite database in write-ahead-log mode (creating the empty file on
    the first start; the mode is stored in the file).

    Label Studio leaves SQLite in its default rollback-journal mode, where a reader blocks
    every writer: an export snapshot (``annotate pull``) reads inside one transaction for its
    whole length, and an annotator who submits meanwhile waits, then gets "database is
    locked" after five seconds (seen with a 10,000-task pull). In WAL mode readers and the one
    writer do not wait for each other (https://www.sqlite.org/wal.html)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as db:
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise ServerError(f"{path}: cannot switch the SQLite database to WAL mode (it stays {mode})")


def running(data_dir: Path | None = None) -> ServerInfo | None:
    """The embedded server of ``data_dir`` if its process is alive and healthy."""
    data_dir = data_dir or default_data_dir()
    state = _read_state(data_dir)
    if state is None or not _alive(state["pid"]):
        return None
    url = f"http://{HOST}:{state['port']}"
    if not healthy(url):
        return None
    return ServerInfo(
        url,
        state["pid"],
        data_dir,
        data_dir / LOGIN_FILE,
        data_dir / LOG_FILE,
        False,
        state["database"],
        state["workers"],
    )


def resolve_database(database: str | None = None, data_dir: Path | None = None) -> str:
    """``database``, else ``$ANNOTATE_DATABASE``, else the one ``data_dir`` last ran on, else ``sqlite``.

    Raises ServerError for an unknown name.
    """
    name = (database or os.environ.get(DATABASE_ENV, "")).strip().lower()
    if not name and data_dir is not None:
        name = _last_database(data_dir)
    aliases = {"postgres": "postgresql", "pg": "postgresql", "sqlite3": "sqlite"}
    name = aliases.get(name, name) or "sqlite"
    if name not in DATABASES:
        raise ServerError(f"unknown database {name!r}: choose one of {', '.join(DATABASES)}")
    return name


def _last_database(data_dir: Path) -> str:
    try:
        return str(json.loads((data_dir / SETTINGS_FILE).read_text(encoding="utf-8"))["database"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def start_server(
    data_dir: Path | None = None,
    port: int = DEFAULT_PORT,
    timeout: float = 240.0,
    database: str | None = None,
    workers: int | None = None,
) -> ServerInfo:
    """Start the embedded Label Studio in the background (or find it running).

    The first start creates the admin with a random password and API token,
    stored in ``login.json`` (0600). Waits until the server is healthy and the
    token is accepted, at most ``timeout`` seconds. Raises ServerError with the
    end of the server log when it does not come up.

    ``database`` is ``"sqlite"`` (the default, or ``$ANNOTATE_DATABASE``) or ``"postgresql"``:
    the server named by the ``POSTGRE_*`` variables when ``POSTGRE_HOST`` is set, else a local
    cluster in the data directory, created on first use and started before Label Studio.
    Without either, the data directory keeps the database it last ran on.

    ``workers`` is the number of web worker processes: 1 (the default) runs ``label-studio start``
    (one process); more runs ``label-studio init`` (migrations, the admin) and then serves Label
    Studio with that many uWSGI workers (``annotate.studio.workers``), on PostgreSQL only
    (UsageError otherwise). None finds a running server whatever its number of workers; a number
    that differs from the running server's is a ServerError.

    Either way Label Studio runs with error reports, analytics and its version check off
    (``label_studio_env``) and logs warnings and errors, each once (``_LAUNCH``).
    """
    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    explicit = bool(database or os.environ.get(DATABASE_ENV, "").strip())
    database = resolve_database(database, data_dir)
    count = 1 if workers is None else workers
    if count < 1:
        raise UsageError(f"--workers {count}: give 1 or more web worker processes")
    if count > 1 and database != "postgresql":
        raise UsageError(
            f"--workers {count} needs PostgreSQL (several processes writing to one SQLite file lock each "
            "other out): add --database postgresql"
        )
    already = running(data_dir)
    if already is not None:
        if explicit and already.database != database:
            raise ServerError(
                f"the embedded Label Studio in {data_dir} is running on {already.database}; "
                f"stop it first ('annotate serve --stop') to switch to {database}"
            )
        if workers is not None and already.workers != workers:
            raise ServerError(
                f"the embedded Label Studio in {data_dir} is running with {already.workers} web "
                f"worker(s); stop it first ('annotate serve --stop') to start it with {workers}"
            )
        return already
    if not port_free(port):
        raise ServerError(
            f"port {port} on {HOST} is in use; choose another with --port (e.g. --port {free_port()})"
        )
    python = _workers_python() if count > 1 else ""
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    url = f"http://{HOST}:{port}"
    login = read_login(data_dir)
    if login is None:
        login = Login(
            url=url,
            email=ADMIN_EMAIL,
            password=secrets.token_urlsafe(18),
            token=secrets.token_hex(20),
            path=data_dir / LOGIN_FILE,
        )
    write_private_json(
        login.path,
        {"url": url, "email": login.email, "password": login.password, "token": login.token},
    )

    env = label_studio_env(login, data_dir)
    pg_started = False
    postgres_kind = ""
    if database == "postgresql":
        db = postgres.from_environment(env)
        if db is None:
            db, pg_started = postgres.start_local(data_dir, timeout=min(timeout, 120.0))
            postgres_kind = "local"
        else:
            postgres.check_connection(db)
            postgres_kind = "external"
        env.update(db.label_studio_env())
    else:
        env["DJANGO_DB"] = "sqlite"
        use_wal(sqlite_path(env, data_dir))
    log_path = data_dir / LOG_FILE
    deadline = time.monotonic() + timeout
    proc: subprocess.Popen[bytes] | None = None
    stats: Path | None = None  # uWSGI's stats: each of several workers has loaded Label Studio
    try:
        if count == 1:
            cmd = _label_studio_command() + [
                "start",
                "--no-browser",
                "--internal-host",
                HOST,
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                "--enable-legacy-api-token",
                "--log-level",
                LOG_LEVEL,
            ]
        else:
            # Label Studio sets itself up as `label-studio start` would (migrations, the admin
            # user and token), then uWSGI's workers serve it
            _init_label_studio(python, data_dir, env, log_path, deadline)
            for left in web_workers.sockets(data_dir):  # by a server that was killed
                left.unlink(missing_ok=True)
            stats = web_workers.stats_path(data_dir)
            cmd = [
                python,
                "-c",
                _PRELUDE + web_workers.SERVE,
                *web_workers.uwsgi_options(HOST, port, count, data_dir),
            ]
        proc = _spawn(cmd, env, data_dir, log_path)
        state = {"pid": proc.pid, "port": port, "database": database, "postgres": postgres_kind}
        if count > 1:
            state["workers"] = count
        write_private_json(data_dir / STATE_FILE, state)

        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServerError(
                    f"Label Studio exited with code {proc.returncode} while starting; "
                    f"see {log_path}: {_log_tail(log_path)}"
                )
            all_loaded = stats is None or web_workers.ready(stats, count)
            if healthy(url) and _token_ok(url, login.token) and all_loaded:
                write_private_json(data_dir / SETTINGS_FILE, {"database": database})
                return ServerInfo(url, proc.pid, data_dir, login.path, log_path, True, database, count)
            time.sleep(1.0)
        _terminate(proc.pid)
        raise ServerError(
            f"Label Studio did not become healthy at {url} within {timeout:.0f} s; see {log_path}"
        )
    except BaseException:
        # a failed start leaves nothing running: not Label Studio, not the cluster started for it
        if proc is not None and proc.poll() is None:
            _terminate(proc.pid)
        (data_dir / STATE_FILE).unlink(missing_ok=True)
        if pg_started:
            with contextlib.suppress(ServerError):
                postgres.stop_local(data_dir)
        raise


def _workers_python() -> str:
    """The Python that Label Studio is installed in, when it can also run uWSGI (``pyuwsgi``)."""
    cmd = _label_studio_command()
    if len(cmd) < 3:
        raise ServerError(
            f"--workers needs the Python that Label Studio is installed in, and {cmd[0]} does not name it: "
            "install annotate and Label Studio into one environment (pip install 'annotate[server,workers]')"
        )
    if not web_workers.available(cmd[0]):
        raise ServerError(
            f"--workers needs uWSGI in the Python that runs Label Studio ({cmd[0]}): "
            "pip install 'annotate[workers]' (or pip install pyuwsgi)"
        )
    return cmd[0]


def _init_label_studio(
    python: str, data_dir: Path, env: Mapping[str, str], log_path: Path, deadline: float
) -> None:
    """``label-studio init``: the migrations, then the admin user with its token and organisation,
    as ``label-studio start`` makes them before it serves (``_create_user``, from the environment)."""
    cmd = [
        python,
        "-c",
        _LAUNCH,
        "init",
        "--data-dir",
        str(data_dir),
        "--enable-legacy-api-token",
        "--log-level",
        LOG_LEVEL,
    ]
    proc = _spawn(cmd, env, data_dir, log_path)
    try:
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1.0))
    except subprocess.TimeoutExpired:
        _terminate(proc.pid)
        raise ServerError(
            f"Label Studio's set-up (label-studio init) did not finish in time; see {log_path}"
        ) from None
    except BaseException:
        _terminate(proc.pid)
        raise
    if code != 0:
        raise ServerError(
            f"Label Studio's set-up (label-studio init) exited with code {code}; "
            f"see {log_path}: {_log_tail(log_path)}"
        )


def _token_ok(url: str, token: str) -> bool:
    try:
        resp = requests.get(
            url + "/api/current-user/whoami",
            headers={"Authorization": f"Token {token}"},
            timeout=5,
        )
    except requests.RequestException:
        return False
    return resp.status_code == 200


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


def _terminate(pid: int, timeout: float = 20.0) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def stop_server(data_dir: Path | None = None) -> bool:
    """Stop the embedded server of ``data_dir`` (and the local PostgreSQL cluster started with it);
    False when no Label Studio was running."""
    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    state = _read_state(data_dir)
    was_running = state is not None and _alive(state["pid"])
    if state is not None and was_running:
        _terminate(state["pid"])
    (data_dir / STATE_FILE).unlink(missing_ok=True)
    for left in web_workers.sockets(data_dir):  # uWSGI's, when it does not remove them itself
        left.unlink(missing_ok=True)
    if state is None or state["postgres"] == "local":
        # also a cluster left running by a Label Studio that died
        postgres.stop_local(data_dir)
    return was_running

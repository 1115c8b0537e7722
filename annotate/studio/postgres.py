"""PostgreSQL for the embedded Label Studio: a local cluster it starts itself, or a server you name.

Two ways, chosen by the environment:

- ``POSTGRE_HOST`` is set: Label Studio uses that server with Label Studio's own variables
  ``POSTGRE_NAME``, ``POSTGRE_USER``, ``POSTGRE_PASSWORD``, ``POSTGRE_HOST``, ``POSTGRE_PORT``
  (the database must exist). Nothing is started or stopped here.
- otherwise a private cluster is created with ``initdb`` on first use and started with
  ``pg_ctl`` on a free port: it listens on 127.0.0.1 only (no Unix socket), requires a password
  (scram-sha-256) and has one database, ``label_studio``. The random password is stored with the
  connection in ``postgres.json`` (mode 0600) in the data directory.

Where the cluster lives: ``<data dir>/postgres`` when annotate runs as an ordinary user. PostgreSQL
refuses to run as root, so under root the cluster runs as the system user ``annotate-pg``
(created with ``useradd`` if missing; else Debian's ``postgres`` or ``nobody``) and lives in
``/var/lib/annotate/postgres/<id>`` (``$ANNOTATE_PG_ROOT`` to change), because root's data
directory (mode 0700) is not reachable for that user. ``postgres.json`` records the path.

The binaries are found on ``PATH``, in ``$ANNOTATE_PG_BIN`` or under ``/usr/lib/postgresql/*/bin``
(Debian/Ubuntu: ``apt-get install -y postgresql``).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotate.errors import ServerError
from annotate.files import write_private_json
from annotate.studio.ports import free_port, port_free

STATE_FILE = "postgres.json"
CLUSTER_DIR = "postgres"
DATABASE = "label_studio"
ROLE = "annotate"
SERVICE_USER = "annotate-pg"
BIN_ENV = "ANNOTATE_PG_BIN"
ROOT_ENV = "ANNOTATE_PG_ROOT"
ROOT_DEFAULT = Path("/var/lib/annotate/postgres")
#: Label Studio's own names for the connection (core/settings/base.py).
ENV_KEYS = ("POSTGRE_NAME", "POSTGRE_USER", "POSTGRE_PASSWORD", "POSTGRE_HOST", "POSTGRE_PORT")
HOST = "127.0.0.1"
INSTALL_HINT = "install PostgreSQL (Debian/Ubuntu: apt-get install -y postgresql) or set ANNOTATE_PG_BIN"


@dataclass(frozen=True)
class Database:
    """Where Label Studio's PostgreSQL is. ``cluster`` is None for a server given by ``POSTGRE_*``."""

    name: str
    user: str
    password: str = field(repr=False)
    host: str
    port: int
    cluster: Path | None = None
    os_user: str | None = None  # the system user the local cluster runs as, when not ourselves

    @property
    def managed(self) -> bool:
        return self.cluster is not None

    @property
    def log_file(self) -> Path | None:
        return self.cluster / "postgres.log" if self.cluster else None

    def label_studio_env(self) -> dict[str, str]:
        """The variables that make Label Studio use this database."""
        return {
            "DJANGO_DB": "default",
            "POSTGRE_NAME": self.name,
            "POSTGRE_USER": self.user,
            "POSTGRE_PASSWORD": self.password,
            "POSTGRE_HOST": self.host,
            "POSTGRE_PORT": str(self.port),
        }


def from_environment(environ: dict[str, str] | None = None) -> Database | None:
    """The server named by ``POSTGRE_HOST`` and friends (Label Studio's defaults for the rest), or None."""
    env = os.environ if environ is None else environ
    host = env.get("POSTGRE_HOST", "").strip()
    if not host:
        return None
    port = env.get("POSTGRE_PORT", "5432").strip() or "5432"
    if not port.isdigit():
        raise ServerError(f"POSTGRE_PORT must be a port number, not {port!r}")
    return Database(
        name=env.get("POSTGRE_NAME", "postgres"),
        user=env.get("POSTGRE_USER", "postgres"),
        password=env.get("POSTGRE_PASSWORD", "postgres"),
        host=host,
        port=int(port),
    )


# --------------------------------------------------------------------------- binaries and users


def bin_dir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``; ServerError saying how to install them."""
    given = os.environ.get(BIN_ENV, "").strip()
    if given:
        path = Path(given).expanduser()
        if not (path / "initdb").exists():
            raise ServerError(f"{BIN_ENV}={given} has no initdb; {INSTALL_HINT}")
        return path
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb") + glob.glob("/usr/local/pgsql/bin/initdb"),
        key=_version_key,
    )
    if candidates:
        return Path(candidates[-1]).parent
    raise ServerError(f"PostgreSQL's initdb was not found; {INSTALL_HINT}")


def _version_key(path: str) -> tuple[int, ...]:
    parts = [p for p in Path(path).parts if p.replace(".", "").isdigit()]
    return tuple(int(x) for x in parts[0].split(".")) if parts else (0,)


def _service_user() -> str | None:
    """The system user the cluster runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    with contextlib.suppress(KeyError):
        pwd.getpwnam(SERVICE_USER)
        return SERVICE_USER
    useradd = shutil.which("useradd")
    if useradd:
        done = subprocess.run(
            [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent"]
            + ["--shell", "/usr/sbin/nologin", SERVICE_USER],
            capture_output=True,
            text=True,
        )
        if done.returncode in (0, 9):  # 9: the user exists already (a concurrent start)
            return SERVICE_USER
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise ServerError("running as root, and no unprivileged user could be found or created to run PostgreSQL")


def _cluster_root(data_dir: Path, os_user: str | None) -> Path:
    if os_user is None:
        return data_dir / CLUSTER_DIR
    base = Path(os.environ.get(ROOT_ENV, "").strip() or ROOT_DEFAULT).expanduser()
    return base / hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]


def _run(
    args: list[str], os_user: str | None, cwd: Path, timeout: float = 120.0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program (as ``os_user`` when given); ServerError with its output on failure."""
    run_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(cwd),
        **(env or {}),
    }
    # as another user: that user's group only, none of ours
    drop: dict[str, Any] = {}
    if os_user is not None:
        drop = {"user": os_user, "group": pwd.getpwnam(os_user).pw_gid, "extra_groups": []}
    try:
        done = subprocess.run(
            args,
            cwd=cwd,
            env=run_env,
            **drop,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        raise ServerError(f"{Path(args[0]).name} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise ServerError(f"{Path(args[0]).name} failed (exit {done.returncode}): {tail}")
    return done


# --------------------------------------------------------------------------- state


def read_state(data_dir: Path) -> Database | None:
    """The local cluster recorded in ``<data_dir>/postgres.json``, or None."""
    path = data_dir / STATE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Database(
            name=str(raw["name"]),
            user=str(raw["user"]),
            password=str(raw["password"]),
            host=str(raw["host"]),
            port=int(raw["port"]),
            cluster=Path(raw["cluster"]),
            os_user=raw.get("os_user"),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        raise ServerError(
            f"{path}: unreadable PostgreSQL state; delete it (and the cluster) to start over"
        ) from None


def _save_state(data_dir: Path, db: Database) -> None:
    write_private_json(
        data_dir / STATE_FILE,
        {
            "name": db.name,
            "user": db.user,
            "password": db.password,
            "host": db.host,
            "port": db.port,
            "cluster": str(db.cluster),
            "os_user": db.os_user,
        },
    )


# --------------------------------------------------------------------------- the local cluster


def _init_cluster(data_dir: Path) -> Database:
    os_user = _service_user()
    root = _cluster_root(data_dir, os_user)
    if (root / "data" / "PG_VERSION").exists():
        raise ServerError(
            f"{root} holds a PostgreSQL cluster but {data_dir / STATE_FILE} is missing; "
            f"remove {root} to start a new one"
        )
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    if os_user is not None:
        info = pwd.getpwnam(os_user)
        os.chown(root, info.pw_uid, info.pw_gid)
    db = Database(
        name=DATABASE,
        user=ROLE,
        password=secrets.token_urlsafe(24),
        host=HOST,
        port=free_port(),
        cluster=root,
        os_user=os_user,
    )
    pwfile = root / ".pwfile"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(db.password + "\n")
    if os_user is not None:
        os.chown(pwfile, info.pw_uid, info.pw_gid)
    try:
        _run(
            [
                str(bin_dir() / "initdb"),
                "-D",
                str(root / "data"),
                "-U",
                ROLE,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--no-locale",
            ],
            os_user,
            root,
            timeout=300,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    with open(root / "data" / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(
            "\n# annotate: loopback TCP only, password required (see pg_hba.conf)\n"
            f"listen_addresses = '{HOST}'\n"
            "unix_socket_directories = ''\n"
        )
    _save_state(data_dir, db)
    return db


def _pg_ctl(db: Database, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    assert db.cluster is not None
    return _run(
        [str(bin_dir() / "pg_ctl"), "-D", str(db.cluster / "data"), *args],
        db.os_user,
        db.cluster,
        timeout=timeout,
    )


def cluster_running(db: Database) -> bool:
    """Is the local cluster's postmaster running? (``pg_ctl status``)"""
    if db.cluster is None or not (db.cluster / "data" / "PG_VERSION").exists():
        return False
    try:
        _pg_ctl(db, "status", timeout=30)
    except ServerError:
        return False
    return True


def start_local(data_dir: Path, timeout: float = 120.0) -> tuple[Database, bool]:
    """Create (first time) and start the local cluster of ``data_dir``; ``(database, started)``.

    ``started`` is False when it was running already.
    """
    db = read_state(data_dir) or _init_cluster(data_dir)
    assert db.cluster is not None
    if cluster_running(db):
        return db, False
    if not port_free(db.port):
        db = Database(db.name, db.user, db.password, db.host, free_port(), db.cluster, db.os_user)
        _save_state(data_dir, db)
    _pg_ctl(
        db,
        "-l",
        str(db.log_file),
        "-w",
        "-t",
        str(int(timeout)),
        "-o",
        f"-p {db.port}",
        "start",
        timeout=timeout + 10,
    )
    _ensure_database(db)
    return db, True


def _ensure_database(db: Database) -> None:
    """Create the database on first start (initdb makes only ``postgres``)."""
    import psycopg  # Label Studio's own PostgreSQL driver

    try:
        with _connect(db, "postgres") as conn:
            conn.autocommit = True
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db.name,)).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE \"{db.name}\" ENCODING 'UTF8' TEMPLATE template0")
    except psycopg.Error as exc:
        raise ServerError(
            f"PostgreSQL at {db.host}:{db.port} refused the connection ({type(exc).__name__}); "
            f"see {db.log_file}"
        ) from None


def _connect(db: Database, dbname: str, timeout: float = 10.0) -> Any:
    """A psycopg connection to ``dbname`` on ``db``'s server, as ``db``'s user."""
    import psycopg  # Label Studio's own PostgreSQL driver

    return psycopg.connect(
        host=db.host,
        port=db.port,
        user=db.user,
        password=db.password,
        dbname=dbname,
        connect_timeout=int(timeout),
    )


def check_connection(db: Database, timeout: float = 10.0) -> None:
    """Connect once; ServerError saying what failed (a wrong password, no database, nothing listening)."""
    import psycopg

    try:
        with _connect(db, db.name, timeout):
            pass
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServerError(
            f"cannot connect to PostgreSQL {db.user}@{db.host}:{db.port}/{db.name}: {first} "
            "(check the POSTGRE_* variables)"
        ) from None


def stop_local(data_dir: Path, timeout: float = 60.0) -> bool:
    """Stop the local cluster of ``data_dir``; False when there is none or it was not running."""
    db = read_state(data_dir)
    if db is None or not cluster_running(db):
        return False
    _pg_ctl(db, "-m", "fast", "-w", "-t", str(int(timeout)), "stop", timeout=timeout + 10)
    return True


def remove_local(data_dir: Path) -> None:
    """Stop the local cluster and delete it with its state file (for tests and benchmarks)."""
    db = read_state(data_dir)
    if db is None:
        return
    with contextlib.suppress(ServerError):
        stop_local(data_dir)
    if db.cluster is not None:
        shutil.rmtree(db.cluster, ignore_errors=True)
    (data_dir / STATE_FILE).unlink(missing_ok=True)

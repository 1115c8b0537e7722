"""Several Label Studio web workers: uWSGI (``pyuwsgi``), as in Label Studio's own deployment.

``annotate serve --workers N`` (N > 1) serves Label Studio's WSGI application
(``label_studio.core.wsgi:application``, with the ``Date`` header of ``annotate.studio.wsgi``)
with N uWSGI worker processes under one master, the way
Label Studio's Docker image does (its ``deploy/uwsgi.ini``), instead of the one process of
``label-studio start`` (Django's ``runserver``). Only on PostgreSQL: several processes writing to
one SQLite file lock each other out.

What is taken from Label Studio's ``deploy/uwsgi.ini``, and what differs:

- the same: a master; uWSGI's HTTP router in front of the workers (``http``); ``lazy-apps``
  (each worker loads the application itself, after the fork, so no database connection or file
  is shared between workers); ``single-interpreter``; threads enabled; ``thunder-lock``; the
  buffer sizes; aborted connections not logged as errors; no access log but server errors (5xx)
  logged; a worker recycled after 5,000 requests or 2 GB of memory; ``APP_WEBSERVER=uwsgi``;
- different: no nginx in front, and the router listens on 127.0.0.1 only, with keep-alive; the
  router reaches the workers, and the stats server answers, on Unix sockets in the data folder
  (mode 0700), not on TCP ports; no request time limit (``harakiri``), as with ``label-studio
  start``; uWSGI's notices on starting and stopping are left out of ``server.log`` (``QUIET``);
  the master ends on SIGTERM (``die-on-term``), so ``annotate serve --stop`` stops it, the router
  and the workers, and workers whose master died end too (``no-orphans``).

Label Studio sets itself up first (``label-studio init``: migrations, the admin and its token,
as ``label-studio start`` does before it serves); see ``annotate.studio.server.start_server``.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path
from typing import Any

from annotate.studio.ports import free_port

#: The WSGI application uWSGI loads in each worker: Label Studio's ``core/wsgi.py`` with a ``Date``
#: header on every response (``annotate.studio.wsgi``).
APPLICATION = "annotate.studio.wsgi:application"
#: The socket between uWSGI's HTTP router and its workers, in the data folder.
WORKER_SOCKET = "uwsgi.sock"
#: uWSGI's stats server (JSON: the workers, their pids and request counts), in the data folder.
STATS_SOCKET = "uwsgi-stats.sock"
#: A Unix socket's path holds at most 107 bytes on Linux.
_MAX_SOCKET_PATH = 107
#: Starts the uWSGI master (``pyuwsgi``) with the options given in argv. Label Studio's directory
#: goes on the import path and its settings module is named, as ``label-studio start`` does (its
#: ``_setup_env``, in ``label_studio/server.py``); ``APP_WEBSERVER`` as ``deploy/uwsgi.ini`` sets it.
#: Appended to the logging fix of ``annotate.studio.server._PRELUDE``, which the workers inherit
#: from the master when they are forked.
SERVE = """\
import label_studio
sys.path.insert(0, os.path.dirname(os.path.abspath(label_studio.__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "label_studio.core.settings.label_studio")
os.environ["APP_WEBSERVER"] = "uwsgi"
import pyuwsgi
sys.argv[0] = "uwsgi"
sys.exit(pyuwsgi.run())
"""


#: uWSGI's own notices on starting and stopping, kept out of ``server.log`` (``--log-drain``) so that
#: it holds Label Studio's warnings and errors as with one process; uWSGI's warnings and errors
#: (a worker that died, an application that did not load) stay.
QUIET = (
    "^("
    + "|".join(
        [
            r"\*\*\* Starting uWSGI",
            "compiled with ",
            "os: ",
            "nodename: ",
            "machine: ",
            "clock source: ",
            "pcre jit ",
            "detected ",
            "current working directory: ",
            "uWSGI running as root",
            r"\*\*\* WARNING: you are running uWSGI as root",
            "your ",
            "lock engine: ",
            "thunder lock: ",
            r"uwsgi socket \d+ bound",
            "uWSGI http bound on ",
            "Python version: ",
            "--- Python VM already initialized",
            "Python main interpreter initialized",
            "python threads support enabled",
            r"mapped \d+ bytes",
            r"\*\*\* Operational MODE",
            "spawned uWSGI ",
            r"\*\*\* Stats server enabled",
            r"WSGI app \d+ \(mountpoint=",
            "SIGINT/SIGTERM received",
            r"worker \d+ buried after",
            "goodbye to uWSGI",
            r"gateway \"uWSGI http \d+\" has been buried",
            "VACUUM: ",
        ]
    )
    + ")"
)


def stats_path(data_dir: Path) -> Path | None:
    """Where the stats socket of ``data_dir``'s server lives; None when the path is too long for one."""
    return _socket_path(data_dir / STATS_SOCKET)


def _socket_path(path: Path) -> Path | None:
    return path if len(str(path).encode()) <= _MAX_SOCKET_PATH else None


def sockets(data_dir: Path) -> list[Path]:
    """The Unix sockets a server of ``data_dir`` makes (removed when it stops; one killed leaves them)."""
    return [p for p in (_socket_path(data_dir / WORKER_SOCKET), stats_path(data_dir)) if p is not None]


def uwsgi_options(host: str, port: int, workers: int, data_dir: Path) -> list[str]:
    """uWSGI's command-line options for ``workers`` processes serving Label Studio on ``host:port``.

    uWSGI's HTTP router takes the connections on ``host:port`` (keep-alive included, so an idle
    browser connection holds no worker) and hands each request to a free worker over a Unix
    socket in the data folder (a loopback port when the folder's path is too long for one).
    """
    inner = _socket_path(data_dir / WORKER_SOCKET)
    options = [
        "--master",
        "--http",
        f"{host}:{port}",
        "--http-keepalive",
        "--socket",
        str(inner) if inner is not None else f"{host}:{free_port()}",
        "--processes",
        str(workers),
        "--module",
        APPLICATION,
        "--need-app",
        "--lazy-apps",
        "--single-interpreter",
        "--enable-threads",
        "--thunder-lock",
        "--die-on-term",
        "--no-orphans",
        "--vacuum",
        "--buffer-size",
        "65535",
        "--post-buffering",
        "4096",
        "--ignore-sigpipe",
        "--ignore-write-errors",
        "--disable-write-exception",
        "--disable-logging",
        "--log-5xx",
        "--log-master",
        "--log-drain",
        QUIET,
        "--max-requests",
        "5000",
        "--reload-on-rss",
        "2048",
    ]
    stats = stats_path(data_dir)
    if stats is not None:
        options += ["--stats", str(stats)]
    return options


def available(python: str) -> bool:
    """True when ``python`` can import ``pyuwsgi`` (``pip install 'annotate[workers]'``)."""
    try:
        done = subprocess.run(
            [python, "-c", "import pyuwsgi"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def read_stats(path: Path, timeout: float = 5.0) -> dict[str, Any] | None:
    """uWSGI's stats (``workers``: each with ``pid``, ``requests``, ``status``…), or None when the
    server does not answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return None
    try:
        stats = json.loads(b"".join(chunks).decode("utf-8", errors="replace"))
    except ValueError:
        return None
    return stats if isinstance(stats, dict) else None


def ready(path: Path, workers: int) -> bool:
    """True when the stats show ``workers`` workers, each with Label Studio loaded."""
    stats = read_stats(path)
    found = [] if stats is None else stats.get("workers", [])
    return len(found) == workers and all(w.get("apps") for w in found)


def worker_pids(path: Path) -> list[int]:
    """The pids of the server's worker processes, from its stats; [] when it does not answer."""
    stats = read_stats(path)
    if stats is None:
        return []
    return [int(w["pid"]) for w in stats.get("workers", []) if int(w.get("pid") or 0) > 0]

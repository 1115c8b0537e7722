"""Run in a fresh process by ``bench.run``: one push or one full pull, and the peak memory it took.

    python -m bench.rss_child push CONFIG_YAML NAME ARTICLES_FILE
    python -m bench.rss_child pull CONFIG_YAML NAME OUT_DIR

``push`` is ``annotate.studio.push.push`` of the articles into the project ``NAME`` (what
``annotate push`` calls); ``pull`` is ``annotate.workflows.pull(full=True)`` of the project
``NAME`` into ``OUT_DIR`` (what ``annotate pull --full`` calls). The server is the one in
``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``, as for the CLI. Run it from the repository root
(the config's relative paths resolve as in ``bench.run``).

Prints one JSON line: seconds of the push or pull, the peak resident memory of this process
once Python and annotate are imported (``baseline_maxrss_bytes``, before any work), the peak of
the whole run (``maxrss_bytes``: what the push or pull itself held, plus that floor), and the
peak of its largest child process (``children_maxrss_bytes``, ``getrusage(RUSAGE_CHILDREN)``:
push's split worker, forked from this process; 0 when there is none), and what was pushed or
pulled.

This process's peak is ``VmHWM`` of ``/proc/self/status`` (the high-water mark of the memory
it has had since it started), not ``getrusage(RUSAGE_SELF).ru_maxrss``: on Linux a process
started with fork/vfork + exec inherits in ``ru_maxrss`` the peak of the process that started
it (the kernel carries the old address space's high-water mark across exec), so ``ru_maxrss``
here would report the benchmark process's own peak whenever that is the larger.
``ru_maxrss`` is the fallback where there is no ``/proc``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _maxrss(who: int) -> int:
    return resource.getrusage(who).ru_maxrss * 1024  # KiB on Linux


def _peak() -> int:
    """This process's own peak resident memory in bytes (see the module docstring)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return _maxrss(resource.RUSAGE_SELF)


def main(argv: list[str]) -> int:
    what, config_path, name, target = argv[0], Path(argv[1]), argv[2], Path(argv[3])
    if what not in ("push", "pull"):
        raise SystemExit(f"unknown measurement {what!r}: push or pull")
    began = time.perf_counter()
    from annotate.config import load_config
    from annotate.studio.client import Studio, resolve_connection

    if what == "push":  # only what the command needs, so the floor is the command's own
        from annotate.studio.push import push
    else:
        from annotate.workflows import pull

    config = load_config(config_path).model_copy(update={"name": name})
    imported = time.perf_counter()
    baseline = _peak()
    report: dict[str, object] = {"what": what, "import_seconds": imported - began}
    with Studio(resolve_connection(), timeout=3600) as studio:
        started = time.perf_counter()
        if what == "push":
            pushed = push([target], config, studio)
            report["imported"] = pushed.imported
        else:
            pulled = pull(config, studio, target, full=True)
            report["annotations"] = pulled.annotations
            report["rows"] = pulled.rows
        report["seconds"] = time.perf_counter() - started
    report["baseline_maxrss_bytes"] = baseline
    report["maxrss_bytes"] = _peak()
    report["children_maxrss_bytes"] = _maxrss(resource.RUSAGE_CHILDREN)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Run in a fresh process by ``bench.run``: load a pull's tables, compute every summary table, report.

Prints one JSON line: rows, seconds to load the Parquet files, seconds of ``compute_tables``,
optionally seconds of the whole ``summarize`` (tables + CSV/HTML/XLSX writing), and the peak
resident memory of this process (``VmHWM``, as ``bench.rss_child`` reads it: interpreter,
libraries, the loaded tables and everything computed from them; not ``ru_maxrss``, which a
process started by fork + exec inherits from its parent when the parent's peak is higher).

    python -m bench.summarize_child OUT_DIR CONFIG_YAML NAME [--write]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench.rss_child import _peak


def main(argv: list[str]) -> int:
    out_dir, config_path, name = Path(argv[0]), Path(argv[1]), argv[2]
    write = "--write" in argv[3:]
    began = time.perf_counter()
    from annotate.config import load_config
    from annotate.outputs.summarize import load_pulled, summarize
    from annotate.quality.tables import compute_tables

    config = load_config(config_path).model_copy(update={"name": name})
    imported = time.perf_counter()
    _, annotations, sentences, adjudications = load_pulled(config, out_dir)
    loaded = time.perf_counter()
    tables, _ = compute_tables(config, annotations, sentences, adjudications)
    computed = time.perf_counter()
    report: dict[str, object] = {
        "rows": len(annotations),
        "sentences": len(sentences),
        "import_seconds": imported - began,
        "load_seconds": loaded - imported,
        "compute_seconds": computed - loaded,
        "table_rows": {key: len(df) for key, df in tables.items()},
    }
    del tables
    if write:
        summarize(config, out_dir)
        report["summarize_seconds"] = time.perf_counter() - computed
    report["maxrss_bytes"] = _peak()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

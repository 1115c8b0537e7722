"""The canonical text of an exports folder, for showing that two runs wrote the same files.

Used to check a re-layout of the code: record the demo's exports before, run the demo again
after, and compare. Times (ISO 8601 stamps, the report's "pulled at" line, Excel date cells)
and the server's port are masked, since they differ from run to run; everything else —
every row, column, label, figure and byte of text — must be equal.

    python -m bench.golden DIR            # one line per file: name and SHA-256 of its canonical text
    python -m bench.golden OLD NEW        # exit 1 and a unified diff of the first differing file
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import sys
from datetime import date, datetime
from pathlib import Path

import pandas as pd

_STAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?"
    r"|\d{8}T\d{6}Z"
    r"|\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2} UTC"
)
_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
_SECONDS = re.compile(r"\b\d+\.\d+ s\b")


def _mask(text: str) -> str:
    return _SECONDS.sub("<s>", _PORT.sub(r"\1:<port>", _STAMP.sub("<time>", text)))


def _parquet(path: Path) -> str:
    table = pd.read_parquet(path)
    for column in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[column]):
            table[column] = "<time>"
    return _mask(table.to_csv(index=False))


def _xlsx(path: Path) -> str:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    lines = []
    for sheet in book.worksheets:
        lines.append(f"## {sheet.title}")
        for row in sheet.iter_rows(values_only=True):
            cells = ["<time>" if isinstance(v, datetime | date) else "" if v is None else str(v) for v in row]
            lines.append("\t".join(cells))
    return _mask("\n".join(lines))


def canonical(path: Path) -> str:
    """The file's content with run-specific values masked."""
    if path.suffix == ".parquet":
        return _parquet(path)
    if path.suffix == ".xlsx":
        return _xlsx(path)
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".json":
        text = json.dumps(json.loads(text), indent=1, sort_keys=True)
    return _mask(text)


def files(folder: Path) -> dict[str, str]:
    """Relative path -> canonical text, for every file below ``folder``."""
    return {str(p.relative_to(folder)): canonical(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def main(argv: list[str]) -> int:
    if len(argv) == 1:
        for name, text in files(Path(argv[0])).items():
            print(hashlib.sha256(text.encode()).hexdigest(), name)
        return 0
    old, new = files(Path(argv[0])), files(Path(argv[1]))
    if old.keys() != new.keys():
        only_old, only_new = sorted(old.keys() - new.keys()), sorted(new.keys() - old.keys())
        print(f"files differ: only in old {only_old}, only in new {only_new}")
        return 1
    for name in old:
        if old[name] != new[name]:
            lines = old[name].splitlines(), new[name].splitlines()
            diff = difflib.unified_diff(*lines, name, name, lineterm="", n=1)
            print("\n".join(list(diff)[:60]))
            return 1
    print(f"identical: {len(old)} files ({', '.join(old)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The README and docs/architecture.md say what the code does: checked against the code itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import annotate
from annotate.columns import FILES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _export_table() -> dict[str, list[str]]:
    """File name -> columns, from the README's table under '## Exports'."""
    section = README.split("\n## Exports\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        name = cells[0].split("`")[1]
        columns = [re.sub(r"\s*\(.*?\)", "", c).strip() for c in cells[2].split(",")]
        rows[name] = columns
    return rows


@pytest.mark.parametrize("name", [name for name, doc in FILES.items() if doc.columns])
def test_readme_export_table_lists_the_schema_columns(name: str) -> None:
    """Every exported table's columns, in order, exactly as annotate.columns defines them."""
    table = _export_table()
    assert name in table, f"README's Exports table has no row for {name}"
    assert table[name] == list(FILES[name].columns)


def test_readme_export_table_names_only_real_files() -> None:
    documented = {name.rstrip("/") for name in FILES} | {"snapshots/<UTC time>"}
    assert {name.rstrip("/") for name in _export_table()} - documented == set()


def test_nothing_refers_to_files_outside_the_repository() -> None:
    """The original design notes are not in the repository: code and docs must not point to them."""
    places = [*ROOT.glob("annotate/**/*.py"), *ROOT.glob("docs/*.md"), ROOT / "README.md"]
    places.append(ROOT / "BENCHMARKS.md")
    offenders = [str(p.relative_to(ROOT)) for p in places if "DESIGN.md" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_architecture_names_every_module_and_only_real_ones() -> None:
    """docs/architecture.md lists each module of the package by its path, and no other."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    package = Path(annotate.__file__).parent
    modules = {
        str(p.relative_to(package.parent)).removesuffix("/__init__.py").removesuffix(".py")
        for p in package.rglob("*.py")
        if p.name != "__main__.py"
    }
    named = set(re.findall(r"`(annotate(?:/[a-z_]+)*)(?:\.py|/)?`", text))
    missing = sorted(m for m in modules if m not in named and m != "annotate")
    assert missing == [], f"docs/architecture.md does not name {missing}"
    unknown = sorted(n for n in named if n not in modules)
    assert unknown == [], f"docs/architecture.md names modules that do not exist: {unknown}"

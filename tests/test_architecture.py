"""The house rules of the package, checked on its source: one-way imports, no cycles, small modules.

The stage layers themselves are import-linter contracts in pyproject.toml (``lint-imports``,
run by ``make test``); these tests add what a contract does not say.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

import annotate

PACKAGE = Path(annotate.__file__).resolve().parent
ROOT = PACKAGE.parent
MAX_LINES = 800
#: Function-level imports of annotate modules are allowed only in the CLI, which imports each
#: command's stage when that command runs (``annotate --help`` starts in well under a second).
LAZY_IMPORTS_ALLOWED = {"annotate/cli.py"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm, iterative)."""
    low: dict[str, int] = {}
    num: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = [0]

    def visit(start: str) -> None:
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                num[node] = low[node] = counter[0]
                counter[0] += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in num:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], num[nxt])
                continue
            if low[node] == num[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])

    for node in sorted(edges):
        if node not in num:
            visit(node)
    return sorted(cycles)


def test_cycle_finder_finds_cycles() -> None:
    edges = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["e2"], "e2": ["e"], "f": ["a"]}
    assert _cycles(edges) == [["a", "b", "c"], ["e", "e2"]]
    assert _cycles({"a": ["b"], "b": [], "c": ["a"]}) == []


def test_no_import_cycles_between_modules() -> None:
    """Strongly connected components of the module import graph all have one module."""
    graph = grimp.build_graph("annotate")
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert len(edges) > 40
    assert _cycles(edges) == []


def test_no_function_level_imports_of_the_package() -> None:
    """An import of annotate inside a function hides a dependency (and often a cycle)."""
    found = []
    for path in _modules():
        rel = str(path.relative_to(ROOT))
        if rel in LAZY_IMPORTS_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("annotate"):
                    found.append(f"{rel}:{node.lineno}")
                if isinstance(node, ast.Import) and any(a.name.startswith("annotate") for a in node.names):
                    found.append(f"{rel}:{node.lineno}")
    assert found == []


def test_no_module_is_over_the_limit() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_import_contracts_are_kept() -> None:
    """lint-imports (the stage layers of pyproject.toml) passes on the package as it is."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "0 broken" in done.stdout


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    """Explicit package discovery: a new subpackage must be added to pyproject.toml."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found - listed == set()

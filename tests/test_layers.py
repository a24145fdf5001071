"""qa/ and api/ reach storage only through index.backend values: no sqlite3, no catalog, no store internals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("sqlite3", "index.catalog", "index.segments", "index.store")


def imports(path: Path) -> set[str]:
    """Every module a file imports (``from a import b`` counts as ``a`` and ``a.b``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "qa").rglob("*.py")) + sorted((ROOT / "api").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_upper_layers_import_no_storage_internals(path):
    bad = {m for m in imports(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_check_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("import sqlite3\nfrom index import catalog\n", encoding="utf-8")
    assert {"sqlite3", "index.catalog"} <= imports(sample)


LAYERS = ("corpus", "index", "qa", "api")  # data flows left to right


def _module_of(name: str) -> str | None:
    """The project module (file) an imported name resolves to, None outside the project."""
    parts = name.split(".")
    if parts[0] not in LAYERS:
        return None
    while parts:
        base = ROOT.joinpath(*parts)
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return ".".join(parts)
        parts = parts[:-1]
    return None


def _imported_modules(path: Path) -> set[str]:
    """The project modules a file imports; ``from package import module`` names the module alone."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(filter(None, (_module_of(a.name) for a in node.names)))
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                target = _module_of(f"{node.module}.{a.name}")
                if target is not None and target != _module_of(node.module):
                    out.add(target)
                elif (module := _module_of(node.module)) is not None:
                    out.add(module)
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
            graph[name] = _imported_modules(path) - {name}
    return graph


def test_no_layer_imports_a_layer_to_its_right():
    bad = [(a, b) for a, deps in _graph().items() for b in deps
           if LAYERS.index(b.split(".")[0]) > LAYERS.index(a.split(".")[0])]
    assert not bad, bad


def test_no_two_modules_import_each_other_even_lazily():
    """An import inside a function counts too: a cycle hidden that way is still a cycle of the design."""
    graph = _graph()
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            pytest.fail(" -> ".join(cycle))

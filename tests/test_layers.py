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

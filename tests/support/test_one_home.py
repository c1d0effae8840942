"""What ``vein2vein.support`` holds exists once: a new copy outside it fails here.

The copies this catches are the ones that drifted before: hand-written CSV readers,
Jinja environments of their own, figures written to PNG with their own resolution and
metadata, and number formatters.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import vein2vein

ROOT = Path(vein2vein.__file__).parent


def _outside_support() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(ROOT.rglob("*.py")):
        if path.parent.name == "support":
            continue
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            yield where, node


def _calls(attribute: str, owner: str | None = None) -> list[str]:
    found = []
    for where, node in _outside_support():
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        func = node.func
        if func.attr != attribute:
            continue
        if owner is not None and not (isinstance(func.value, ast.Name) and func.value.id == owner):
            continue
        found.append(f"{where}:{node.lineno}")
    return found


def test_no_jinja_environment_outside_support() -> None:
    assert _calls("Environment", "jinja2") == []
    imports = [
        f"{where}:{node.lineno}"
        for where, node in _outside_support()
        if isinstance(node, ast.ImportFrom) and node.module == "jinja2"
    ]
    assert imports == []


def test_no_savefig_outside_support() -> None:
    assert _calls("savefig") == []


def test_no_csv_reader_outside_support() -> None:
    assert _calls("reader", "csv") == []
    assert _calls("DictReader", "csv") == []


def test_no_number_formatter_outside_support() -> None:
    defined = [
        f"{where}:{node.lineno}"
        for where, node in _outside_support()
        if isinstance(node, ast.FunctionDef) and node.name in ("format_number", "round_sig", "_png")
    ]
    assert defined == []

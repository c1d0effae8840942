"""What each concept subpackage of clinical, process and singlecell may import.

The docstring of every subpackage names what it may import; this holds the code to it. A
module may always import its own subpackage, ``errors`` and ``logging``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import vein2vein

ROOT = Path(vein2vein.__file__).parent

ALLOWED: dict[str, tuple[str, ...]] = {
    "clinical.grading": ("clinical._observation", "support"),
    "clinical.response": ("clinical._observation",),
    "clinical.kinetics": (),
    "clinical.outcomes": (
        "clinical._observation",
        "clinical.kinetics",
        "records",
        "comparability",
        "support",
    ),
    "clinical.followup": ("clinical.grading", "clinical.response", "records", "support"),
    "process.charts": ("process.rules", "process._spc_results"),
    "process.mspc": (),
    "process.monitoring": ("process.rules", "process.plot", "records", "specs", "support"),
    "singlecell.io": ("support",),
    "singlecell.pp": ("singlecell.tl", "singlecell.profile._scale"),
    "singlecell.tl": ("singlecell.io", "singlecell.pl", "support"),
    "singlecell.pl": ("singlecell.tl",),
    "singlecell.profile": (
        "singlecell.io",
        "singlecell.pp",
        "singlecell.tl",
        "singlecell.pl",
        "records",
        "release",
        "specs",
        "support",
    ),
}
EVERYWHERE = ("errors", "logging")


def _imports(path: Path, package: str) -> set[str]:
    """The vein2vein modules a file imports, without the ``vein2vein.`` prefix."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "vein2vein" or (node.level and not node.module):
                found |= {f"{target}.{alias.name}" for alias in node.names}
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {t.removeprefix("vein2vein.") for t in found if t.startswith("vein2vein.")}


def _within(target: str, allowed: tuple[str, ...]) -> bool:
    return any(target == a or target.startswith(a + ".") for a in allowed)


def test_every_concept_subpackage_has_its_rule() -> None:
    found = {
        f"{p.parent.parent.name}.{p.parent.name}"
        for top in ("clinical", "process", "singlecell")
        for p in (ROOT / top).glob("*/__init__.py")
        if p.parent.name != "data"
    }
    assert found == set(ALLOWED)


@pytest.mark.parametrize("subpackage", sorted(ALLOWED))
def test_subpackage_imports_only_what_its_docstring_allows(subpackage: str) -> None:
    folder = ROOT.joinpath(*subpackage.split("."))
    allowed = (subpackage, *EVERYWHERE, *ALLOWED[subpackage])
    for path in sorted(folder.rglob("*.py")):
        module = "vein2vein." + ".".join(path.relative_to(ROOT).with_suffix("").parts)
        package = module.removesuffix(".__init__")
        package = package if path.name == "__init__.py" else package.rsplit(".", 1)[0]
        wrong = sorted(t for t in _imports(path, package) if not _within(t, allowed))
        assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}"

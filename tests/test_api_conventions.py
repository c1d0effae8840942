"""The public surface: curated ``__all__``, documented, keyword-only options."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import vein2vein

PUBLIC_PACKAGES = [
    "vein2vein.errors",
    "vein2vein.identity",
    "vein2vein.records",
    "vein2vein.specs",
    "vein2vein.simulate",
    "vein2vein.intake",
    "vein2vein.release",
    "vein2vein.process",
    "vein2vein.process.charts",
    "vein2vein.process.mspc",
    "vein2vein.process.monitoring",
    "vein2vein.process.ingest",
    "vein2vein.process.monitor",
    "vein2vein.process.rules",
    "vein2vein.process.capability",
    "vein2vein.process.plot",
    "vein2vein.comparability",
    "vein2vein.clinical",
    "vein2vein.clinical.grading",
    "vein2vein.clinical.response",
    "vein2vein.clinical.kinetics",
    "vein2vein.clinical.outcomes",
    "vein2vein.clinical.followup",
    "vein2vein.invivo",
    "vein2vein.singlecell",
    "vein2vein.singlecell.io",
    "vein2vein.singlecell.pp",
    "vein2vein.singlecell.tl",
    "vein2vein.singlecell.pl",
    "vein2vein.singlecell.profile",
    "vein2vein.testing",
    "vein2vein.support",
]


def _public_objects() -> list[tuple[str, object]]:
    out = []
    for name in PUBLIC_PACKAGES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            out.append((f"{name}.{attr}", getattr(module, attr)))
    return out


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_every_public_package_curates_all(package: str) -> None:
    module = importlib.import_module(package)
    assert isinstance(module.__all__, list)
    assert sorted(module.__all__) == sorted(set(module.__all__)), "duplicates in __all__"
    for attr in module.__all__:
        assert hasattr(module, attr), f"{package}.__all__ names missing {attr}"
        assert not attr.startswith("_") or attr == "__version__"


@pytest.mark.parametrize(("qualname", "obj"), _public_objects(), ids=lambda x: str(x)[:60])
def test_public_callables_are_documented_and_take_few_positionals(
    qualname: str, obj: object
) -> None:
    if inspect.ismodule(obj) or not callable(obj):
        return
    assert inspect.getdoc(obj), f"{qualname} has no docstring"
    if inspect.isfunction(obj):
        positional = [
            p
            for p in inspect.signature(obj).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        assert len(positional) <= 3, (
            f"{qualname}: options after the first three must be keyword-only"
        )
        for p in positional:
            assert not isinstance(p.default, bool), f"{qualname}: positional boolean {p.name}"


def test_subpackages_do_not_import_shells() -> None:
    """Arrows point inward: no domain module imports the CLI (or, later, the API)."""
    root = vein2vein.__path__
    for info in pkgutil.walk_packages(root, prefix="vein2vein."):
        if info.name.startswith(("vein2vein.cli", "vein2vein.records.migrations")):
            continue
        module = importlib.import_module(info.name)
        if getattr(module, "__file__", None) is None:  # a folder of shipped data files
            continue
        source = inspect.getsource(module)
        assert not re.search(r"vein2vein\.cli\b|from \.\.cli\b", source), info.name


def test_support_is_a_leaf() -> None:
    """``support`` imports nothing of vein2vein but ``errors``, so every package may use it."""
    import ast

    folder = vein2vein.__path__[0] + "/support"
    for info in pkgutil.iter_modules([folder]):
        module = importlib.import_module(f"vein2vein.support.{info.name}")
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                assert node.module == "errors", (info.name, node.module)
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                assert not node.module.startswith("vein2vein"), (info.name, node.module)
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("vein2vein") for a in node.names), info.name

"""The public surface of vein2vein.comparability follows the house conventions."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import vein2vein.comparability as comparability


def test_all_is_curated() -> None:
    names = comparability.__all__
    assert names == sorted(names) and len(set(names)) == len(names)
    for name in names:
        assert hasattr(comparability, name) and not name.startswith("_")


@pytest.mark.parametrize("name", comparability.__all__)
def test_documented_few_positionals_no_positional_bools(name: str) -> None:
    obj = getattr(comparability, name)
    assert inspect.getdoc(obj), f"{name} has no docstring"
    if inspect.isfunction(obj):
        positional = [
            p
            for p in inspect.signature(obj).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        assert len(positional) <= 3
        assert not any(isinstance(p.default, bool) for p in positional)
        readers = ("read_comparability_csv", "lots_from_records", "render_report_html")
        if name not in (*readers, "write_report"):
            assert "References" in inspect.getdoc(obj), f"{name} cites no reference"


@pytest.mark.parametrize(
    "name", [n for n in comparability.__all__ if n.endswith("Result") and n[0].isupper()]
)
def test_results_are_frozen_dataclasses(name: str) -> None:
    cls = getattr(comparability, name)
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen


def test_domain_does_not_import_matplotlib_pyplot() -> None:
    import vein2vein.comparability._report as report

    source = inspect.getsource(report)
    assert "import matplotlib.pyplot" not in source and "import pyplot" not in source

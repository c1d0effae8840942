"""Units: the pint registry with cell-therapy counting units, scales and conversions."""

from __future__ import annotations

import pytest

from vein2vein.specs._units import (
    UnitProblem,
    convert,
    format_number,
    parse_unit,
    pretty_unit,
)


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1.5, "cells/uL", "cells/mL", 1500.0),
        (1500.0, "cells/mL", "cells/uL", 1.5),
        (2.0, "cells/uL", "cells/L", 2.0e6),
        (2.0, "cells/µL", "cells/mL", 2000.0),  # micro sign
        (2.0, "cells/μL", "cells/mL", 2000.0),  # Greek mu
        (0.72, None, "%", 72.0),
        (72.0, "%", None, 0.72),
        (72.0, "percent", "%", 72.0),
        (3.0, "copies/cell", "copies/cell", 3.0),
        (2.1e8, "cells", "10^6 cells", 210.0),
        (2.1, "x10^6 cells/kg", "cells/kg", 2.1e6),
        (2.1, "× 10⁶ cells/kg", "10^6 cells/kg", 2.1),
        (2.1e6, "cells/kg", "1e6 cells/kg", 2.1),
        (5.0e8, "TU/mL", "TU/uL", 5.0e5),
        (0.5, "EU/mL", "EU/L", 500.0),
        (1.2, "ng/mL", "pg/mL", 1200.0),
        (0.1, "um", "nm", 100.0),
        (1.0e9, "vg/mL", "vg/uL", 1.0e6),
    ],
)
def test_conversions(value: float, source: str | None, target: str | None, expected: float) -> None:
    assert convert(value, source, target) == pytest.approx(expected, rel=1e-12)


def test_fraction_to_percent_is_exact_at_the_boundary() -> None:
    assert convert(0.8, None, "%") == 80.0  # not 80.00000000000001


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("EU/mL", "EU/kg"),
        ("cells/uL", "copies/uL"),
        ("%", "cells"),
        ("TU/mL", "vg/mL"),
        ("cells", "cells/kg"),
        ("EU/mL", "IU/mL"),
    ],
)
def test_incompatible_units_are_refused(source: str, target: str) -> None:
    with pytest.raises(UnitProblem, match="cannot be expressed"):
        convert(1.0, source, target)


@pytest.mark.parametrize("text", ["furlongs/fortnight-ish", "cells/", "((", "bananas", "1/0"])
def test_unknown_units_are_refused_naming_the_text(text: str) -> None:
    with pytest.raises(UnitProblem, match="unknown unit"):
        parse_unit(text)


def test_counting_units_are_distinct_dimensions() -> None:
    dims = {parse_unit(u).dimensionality for u in ["cells", "copies", "EU", "TU", "vg", "IU"]}
    assert len(dims) == 6


def test_pretty_unit_and_numbers() -> None:
    assert pretty_unit("10^9 cells") == "× 10⁹ cells"
    assert pretty_unit("x10^6 cells/kg") == "× 10⁶ cells/kg"
    assert pretty_unit("EU/kg") == "EU/kg"
    assert format_number(5.0) == "5"
    assert format_number(1.0e8) == "1 × 10⁸"
    assert format_number(99999.5) == "99999.5"
    assert format_number(0.0) == "0"

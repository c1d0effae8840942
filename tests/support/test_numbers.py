"""The one number formatter: the plain style of specifications, the report style."""

from __future__ import annotations

import math

import pytest

from vein2vein.support import format_number, round_sig


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5.0, "5"),
        (80.0, "80"),
        (0.25, "0.25"),
        (99999.5, "99999.5"),
        (1.0e8, "1 × 10⁸"),
        (1.2e6, "1.2 × 10⁶"),
        (-3e-5, "-3 × 10⁻⁵"),
        (123456789.0, "1.235 × 10⁸"),
        (1.23456789, "1.23457"),
        (0.0, "0"),
        (math.inf, "inf"),
    ],
)
def test_plain_style(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("value", "scale", "text"),
    [
        (4.123, None, "4.1"),
        (-1.24, 4.1, "−1.2"),
        (0.81, 4.1, "0.8"),
        (0.0345, 0.12, "0.03"),
        (2.5e8, 5e7, "2.50e+08"),
        (1.0, math.nan, "1.0"),
        (float("nan"), None, "n/a"),
        (None, 2.0, "n/a"),
        (0.0, None, "0"),
    ],
)
def test_report_style(value: float | None, scale: float | None, text: str) -> None:
    assert format_number(value, scale, style="report") == text


def test_the_plain_style_takes_no_scale_and_no_missing_value() -> None:
    with pytest.raises(TypeError):
        format_number(1.0, 2.0)
    with pytest.raises(TypeError):
        format_number(None)


def test_round_sig() -> None:
    assert round_sig(1234.5678, 3) == 1230.0
    assert round_sig(-0.000123456, 2) == -0.00012
    assert math.isnan(round_sig(math.nan, 3))

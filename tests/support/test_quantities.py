"""The declared quantities: every value is finite and possible, or refused naming its field."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vein2vein.errors import InvalidInputError
from vein2vein.support import QUANTITIES, Quantity, check_finite, check_quantity

NAMES = sorted(QUANTITIES)


def test_the_table_holds_the_quantities_the_inputs_need() -> None:
    assert {
        "temperature",
        "body_temperature",
        "percent",
        "ph",
        "body_weight",
        "volume",
        "cell_dose",
        "amount",
        "age",
        "study_day",
        "probability",
    } <= set(QUANTITIES)
    for name, quantity in QUANTITIES.items():
        assert quantity.name == name and quantity.why
        if quantity.low is not None and quantity.high is not None:
            assert quantity.low < quantity.high


@pytest.mark.parametrize(
    ("quantity", "value", "possible"),
    [
        ("temperature", -273.15, True),  # absolute zero itself
        ("temperature", -273.16, False),
        ("temperature", -500.0, False),
        ("temperature", -1_000_000.0, False),
        ("temperature", -196.0, True),  # liquid nitrogen
        ("temperature", 151.0, False),
        ("percent", 0.0, True),
        ("percent", 100.0, True),
        ("percent", 150.0, False),
        ("percent", -0.1, False),
        ("ph", -7.0, False),
        ("ph", 7.2, True),
        ("ph", 14.5, False),
        ("body_weight", 0.0, False),  # open below
        ("body_weight", 0.4, True),  # a premature newborn
        ("body_weight", 701.0, False),
        ("volume", 0.0, False),
        ("amount", 0.0, True),
        ("amount", -1e-9, False),
        ("study_day", 36525.0, True),
        ("study_day", 1e20, False),
        ("probability", 1.0, True),
        ("probability", 1.01, False),
    ],
)
def test_the_possible_range_of_each_quantity(quantity: str, value: float, possible: bool) -> None:
    assert QUANTITIES[quantity].contains(value) is possible
    if possible:
        assert check_quantity(quantity, value, field="x") == value
    else:
        with pytest.raises(InvalidInputError) as info:
            check_quantity(quantity, value, field="x", file="f.csv", line=7)
        assert (info.value.file, info.value.field) == ("f.csv", "x")
        assert "line 7: " in info.value.reason
        assert f"not a possible {quantity.replace('_', ' ')}" in info.value.reason


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "nan", "inf", "1e400", 10**400])
@pytest.mark.parametrize("quantity", NAMES)
def test_no_quantity_takes_a_value_that_is_not_finite(quantity: str, value: object) -> None:
    with pytest.raises(InvalidInputError, match="not a finite number") as info:
        check_quantity(quantity, value, field="value", line=3)
    assert info.value.field == "value"


@pytest.mark.parametrize("value", [True, b"1", "one", None, [1.0]])
def test_what_is_not_a_number_is_refused(value: object) -> None:
    with pytest.raises(InvalidInputError, match="is not a number"):
        check_finite(value, field="value")


@given(name=st.sampled_from(NAMES), value=st.floats(allow_nan=True, allow_infinity=True))
def test_check_agrees_with_the_declared_range(name: str, value: float) -> None:
    quantity: Quantity = QUANTITIES[name]
    inside = math.isfinite(value) and quantity.contains(value)
    if inside:
        assert check_quantity(name, value, field="v") == value
    else:
        with pytest.raises(InvalidInputError):
            check_quantity(name, value, field="v")
    if math.isfinite(value) and quantity.low is not None and value < quantity.low:
        assert not inside
    if math.isfinite(value) and quantity.high is not None and value > quantity.high:
        assert not inside


@given(text=st.from_regex(r"\A[+-]?\d{1,6}(\.\d{1,4})?\Z"))
def test_text_of_a_number_is_read_as_the_number(text: str) -> None:
    assert check_finite(text, field="v") == float(text)

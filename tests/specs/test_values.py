"""Reading result values: numbers, scientific forms, censored, LOQ, qualitative, pending."""

from __future__ import annotations

import pytest

from vein2vein.specs import Result
from vein2vein.specs._values import UnreadableValue, parse_value


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("72", 72.0),
        (" 72.5 ", 72.5),
        (".5", 0.5),
        ("1.2e6", 1.2e6),
        ("1.2E+06", 1.2e6),
        ("1.2 x 10^6", 1.2e6),
        ("1.2x10^6", 1.2e6),
        ("1.2×10^6", 1.2e6),
        ("1.2 × 10⁶", 1.2e6),
        ("1.2*10**6", 1.2e6),
        ("10^9", 1e9),
        (72, 72.0),
        (0.25, 0.25),
    ],
)
def test_numbers(text: str | float, number: float) -> None:
    parsed = parse_value(text)
    assert parsed.kind == "number"
    assert parsed.number == pytest.approx(number)


def test_a_unit_may_follow_the_number() -> None:
    parsed = parse_value("1.2×10⁶ cells/kg")
    assert (parsed.number, parsed.unit) == (pytest.approx(1.2e6), "cells/kg")
    assert parse_value("72%").unit == "%"


@pytest.mark.parametrize(
    ("text", "qualifier", "number"),
    [
        ("<0.5", "<", 0.5),
        ("< 0.5", "<", 0.5),
        ("<=0.5", "<=", 0.5),
        ("≤0.5", "<=", 0.5),
        (">1e6", ">", 1e6),
        (">=1e6", ">=", 1e6),
        ("≥ 2", ">=", 2.0),
    ],
)
def test_censored(text: str, qualifier: str, number: float) -> None:
    parsed = parse_value(text)
    assert (parsed.kind, parsed.qualifier, parsed.number) == ("censored", qualifier, number)


@pytest.mark.parametrize("text", ["below LOQ", "<LOQ", "< LOQ", "BLQ", "<LLOQ", "Below LLOQ"])
def test_below_loq(text: str) -> None:
    assert parse_value(text).kind == "below_loq"


@pytest.mark.parametrize("text", ["above ULOQ", ">ULOQ", "> uloq"])
def test_above_uloq(text: str) -> None:
    assert parse_value(text).kind == "above_uloq"


@pytest.mark.parametrize(
    ("text", "quality"),
    [
        ("negative", "negative"),
        ("Not Detected", "negative"),
        ("not_detected", "negative"),
        ("no growth", "negative"),
        ("non-reactive", "negative"),
        ("absent", "negative"),
        ("positive", "positive"),
        ("detected", "positive"),
        ("growth", "positive"),
        ("Reactive", "positive"),
        ("conforms", "conforms"),
        ("complies", "conforms"),
        ("does not conform", "not_conforms"),
        ("Does not comply.", "not_conforms"),
    ],
)
def test_qualitative_synonyms(text: str, quality: str) -> None:
    parsed = parse_value(text)
    assert (parsed.kind, parsed.quality) == ("qualitative", quality)


@pytest.mark.parametrize("text", ["", "  ", "pending", "Pending", "in progress"])
def test_pending(text: str) -> None:
    assert parse_value(text).kind == "pending"


@pytest.mark.parametrize("text", ["abc", "1,2", "ND", "n/a", "<", "1.2.3", "twelve"])
def test_unreadable_text_is_named(text: str) -> None:
    with pytest.raises(UnreadableValue) as info:
        parse_value(text)
    assert repr(text) in str(info.value) or "not a finite" in str(info.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True])
def test_non_finite_numbers_and_booleans_are_unreadable(value: float) -> None:
    with pytest.raises(UnreadableValue):
        parse_value(value)


def test_result_text_shows_value_and_unit() -> None:
    assert Result("endotoxin", "<0.5", "EU/mL").text == "<0.5 EU/mL"
    assert Result("viability", 85.0).text == "85"

"""Evaluation: every criterion both sides of its limit, units, censoring, overall outcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vein2vein.errors import InvalidInputError, SpecError
from vein2vein.specs import (
    Decision,
    ItemDecision,
    Outcome,
    Result,
    Specification,
    evaluate,
    load_spec_text,
)

from .conftest import SpecFactory, spec_text

OneItem = Callable[..., Specification]
P, F, W, INV = Outcome.passed, Outcome.failed, Outcome.pending, Outcome.invalid


def decide(
    spec: Specification, value: str | float, unit: str | None = None, **kw: object
) -> ItemDecision:
    decision = evaluate(spec, [Result("x", value, unit)], **kw)  # type: ignore[arg-type]
    (item,) = decision.items
    return item


@pytest.mark.parametrize(
    ("criterion", "unit", "value", "expected"),
    [
        ('{kind: ">=", value: 80}', "%", "80", P),
        ('{kind: ">=", value: 80}', "%", "80.01", P),
        ('{kind: ">=", value: 80}', "%", "79.99", F),
        ('{kind: "<=", value: 5}', "copies/cell", "5", P),
        ('{kind: "<=", value: 5}', "copies/cell", "5.01", F),
        ('{kind: ">", value: 0}', "pg/mL", "0.001", P),
        ('{kind: ">", value: 0}', "pg/mL", "0", F),
        ('{kind: "<", value: 10}', "EU/mL", "9.99", P),
        ('{kind: "<", value: 10}', "EU/mL", "10", F),
        ("{kind: range, low: 0.2, high: 5.0}", "10^6 cells/kg", "0.2", P),
        ("{kind: range, low: 0.2, high: 5.0}", "10^6 cells/kg", "5.0", P),
        ("{kind: range, low: 0.2, high: 5.0}", "10^6 cells/kg", "0.19", F),
        ("{kind: range, low: 0.2, high: 5.0}", "10^6 cells/kg", "5.01", F),
        ("{kind: equals, value: 7}", None, "7", P),
        ("{kind: equals, value: 7}", None, "7.5", F),
        ('{kind: equals, value: "A+"}', None, " a+ ", P),
        ('{kind: equals, value: "A+"}', None, "B", F),
        ("{kind: negative}", None, "negative", P),
        ("{kind: negative}", None, "positive", F),
        ("{kind: not_detected}", None, "not detected", P),
        ("{kind: not_detected}", None, "detected", F),
        ("{kind: conforms}", None, "conforms", P),
        ("{kind: conforms}", None, "does not conform", F),
        ("{kind: report}", "%", "12", P),
        ("{kind: report}", None, "free text is fine", P),
    ],
)
def test_every_criterion_both_sides(
    one_item: OneItem, criterion: str, unit: str | None, value: str, expected: Outcome
) -> None:
    assert decide(one_item(criterion, unit), value).outcome is expected


def test_reasons_in_words(make_spec: SpecFactory) -> None:
    spec = make_spec(
        """\
        - analyte: viability
          name: viability
          unit: "%"
          criterion: {kind: ">=", value: 80}
        - analyte: sterility_14d
          name: sterility (14-day)
          criterion: {kind: negative}
          conditional: true
        - analyte: dose
          name: dose
          unit: "10^6 cells/kg"
          criterion: {kind: range, low: 0.2, high: 5.0}
        - analyte: mycoplasma
          name: mycoplasma
          criterion: {kind: not_detected}
        """
    )
    results = {"viability": "72", "sterility_14d": "pending", "dose": "6", "mycoplasma": "detected"}
    reasons = {i.analyte: i.reason for i in evaluate(spec, results).items}
    assert reasons == {
        "viability": "viability 72 % < 80 %",
        "sterility_14d": "sterility (14-day) pending",
        "dose": "dose 6 × 10⁶ cells/kg outside 0.2–5 × 10⁶ cells/kg",
        "mycoplasma": "mycoplasma detected; required: not detected",
    }
    passing = {"viability": "85", "sterility_14d": "no growth", "dose": "2", "mycoplasma": "ND "}
    reasons = {i.analyte: i.reason for i in evaluate(spec, passing).items}
    assert reasons["viability"] == "viability 85 % ≥ 80 %"
    assert reasons["sterility_14d"] == "sterility (14-day) no growth (required: negative)"
    assert reasons["dose"] == "dose 2 × 10⁶ cells/kg within 0.2–5 × 10⁶ cells/kg"
    assert reasons["mycoplasma"] == "mycoplasma: cannot read 'ND ' as a result"


# ---------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("criterion", "item_unit", "value", "unit", "expected", "converted"),
    [
        ('{kind: ">=", value: 150}', "cells/uL", "150000", "cells/mL", P, 150.0),
        ('{kind: ">=", value: 150}', "cells/uL", "149000", "cells/mL", F, 149.0),
        ('{kind: ">=", value: 150}', "cells/uL", "0.15", "10^9 cells/L", P, 150.0),
        ('{kind: ">=", value: 80}', "%", "0.8", "1", P, 80.0),
        ('{kind: ">=", value: 80}', "%", "0.79", "1", F, 79.0),
        ('{kind: "<=", value: 5}', "copies/cell", "4.9", "copies/cell", P, 4.9),
        ('{kind: ">=", value: 1.0e+8}', "TU/mL", "1.2e5", "TU/uL", P, 1.2e8),
        ('{kind: ">=", value: 1.0e+8}', "TU/mL", "9e4", "TU/uL", F, 9e7),
        ('{kind: ">=", value: 500}', "pg/mL", "1.2", "ng/mL", P, 1200.0),
        ('{kind: "<=", value: 5}', "EU/kg", "0.1", "EU/g", F, 100.0),
    ],
)
def test_results_are_converted_to_the_item_unit(
    one_item: OneItem,
    criterion: str,
    item_unit: str,
    value: str,
    unit: str,
    expected: Outcome,
    converted: float,
) -> None:
    item = decide(one_item(criterion, item_unit), value, unit)
    assert item.outcome is expected
    assert item.value == pytest.approx(converted)
    assert item.unit == item_unit


def test_a_unit_written_in_the_value_is_used(one_item: OneItem) -> None:
    item = decide(one_item('{kind: ">=", value: 150}', "cells/uL"), "1.5 x 10^5 cells/mL")
    assert (item.outcome, item.value) == (P, 150.0)
    item = decide(one_item('{kind: ">=", value: 150}', "cells/uL"), "150 cells/mL", "cells/uL")
    assert item.outcome is INV
    assert "carries a unit" in item.reason


@pytest.mark.parametrize(
    ("item_unit", "value", "unit", "message"),
    [
        ("copies/cell", "3", "copies/uL", "cannot be expressed"),
        ("%", "3", "cells", "cannot be expressed"),
        ("EU/mL", "3", "bananas", "unknown unit 'bananas'"),
        ("TU/mL", "3", "vg/mL", "cannot be expressed"),
    ],
)
def test_incompatible_units_make_the_item_invalid(
    one_item: OneItem, item_unit: str, value: str, unit: str, message: str
) -> None:
    item = decide(one_item('{kind: "<=", value: 5}', item_unit), value, unit)
    assert item.outcome is INV
    assert message in item.reason
    assert item.reason.startswith("x: ")


@pytest.fixture
def endotoxin(one_item: OneItem) -> Specification:
    return one_item('{kind: "<=", value: 5}', "EU/kg", per="kg", loq=0.05)


def test_endotoxin_per_ml_against_a_per_kg_limit(endotoxin: Specification) -> None:
    context = {"dose_volume_ml": 68, "patient_weight_kg": 20}
    item = decide(endotoxin, "<0.5", "EU/mL", context=context)
    assert item.outcome is P
    assert item.reason == "x <0.5 EU/mL (× 68 mL ÷ 20 kg = <1.7 EU/kg) ≤ 5 EU/kg"
    assert (item.value, item.qualifier) == (pytest.approx(1.7), "<")
    assert decide(endotoxin, "1.47", "EU/mL", context=context).outcome is P  # 4.998 EU/kg
    assert decide(endotoxin, "1.48", "EU/mL", context=context).outcome is F  # 5.032 EU/kg
    assert decide(endotoxin, "2", "EU/kg").outcome is P  # already per kg: no context needed


@pytest.mark.parametrize(
    ("context", "missing"),
    [
        ({}, "dose_volume_ml and patient_weight_kg"),
        ({"patient_weight_kg": 20}, "dose_volume_ml"),
        ({"dose_volume_ml": 68}, "patient_weight_kg"),
    ],
)
def test_missing_context_names_what_is_missing(
    endotoxin: Specification, context: dict[str, float], missing: str
) -> None:
    item = decide(endotoxin, "0.5", "EU/mL", context=context)
    assert item.outcome is INV
    assert item.reason == f"x: expressing EU/mL as EU/kg needs {missing} in the context"


def test_total_cells_per_kg_needs_only_the_weight(one_item: OneItem) -> None:
    spec = one_item("{kind: range, low: 0.2, high: 5.0}", "10^6 cells/kg", per="kg")
    item = decide(spec, "1.2e8", "cells", context={"patient_weight_kg": 40})
    assert (item.outcome, item.value) == (P, 3.0)
    assert decide(spec, "1.2e8", "cells").outcome is INV
    assert decide(spec, "2.1", "x10^6 cells/kg").outcome is P
    assert decide(spec, "3", "copies").outcome is INV


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({"weight": 20}, "context.weight"),
        ({"patient_weight_kg": 0}, "context.patient_weight_kg"),
        ({"patient_weight_kg": -3}, "context.patient_weight_kg"),
        ({"dose_volume_ml": float("nan")}, "context.dose_volume_ml"),
        ({"dose_volume_ml": "68"}, "context.dose_volume_ml"),
    ],
)
def test_bad_context_is_bad_input(
    endotoxin: Specification, context: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        evaluate(endotoxin, {"x": "1"}, context=context)  # type: ignore[arg-type]
    assert info.value.field == field


# ---------------------------------------------------------------- censored values


@pytest.mark.parametrize(
    ("criterion", "value", "expected"),
    [
        ('{kind: "<=", value: 0.5}', "<0.5", P),  # bound settles it
        ('{kind: "<=", value: 1}', "<0.5", P),
        ('{kind: ">=", value: 1}', "<0.5", F),
        ('{kind: ">=", value: 0.5}', "<0.5", F),  # [0, 0.5) never reaches 0.5
        ('{kind: "<=", value: 0.3}', "<0.5", INV),  # could be 0.2 or 0.4
        ('{kind: "<", value: 0.5}', "<0.5", P),
        ('{kind: "<", value: 0.5}', "<=0.5", INV),  # could be exactly 0.5
        ('{kind: "<=", value: 0.5}', "<=0.5", P),
        ('{kind: ">=", value: 1.0e+6}', ">1e6", P),
        ('{kind: ">", value: 1.0e+6}', ">=1e6", INV),
        ('{kind: "<=", value: 1.0e+6}', ">1e6", F),
        ('{kind: "<=", value: 1.0e+6}', ">=1e6", INV),
        ("{kind: range, low: 0.2, high: 5}", "<0.2", F),
        ("{kind: range, low: 0.2, high: 5}", "<1", INV),
        ("{kind: range, low: 0.2, high: 5}", ">5", F),
        ("{kind: equals, value: 7}", "<7", F),
        ("{kind: equals, value: 7}", "<=7", INV),
    ],
)
def test_censored_values_are_decided_only_when_the_bound_settles_it(
    one_item: OneItem, criterion: str, value: str, expected: Outcome
) -> None:
    item = decide(one_item(criterion, "EU/mL"), value)
    assert item.outcome is expected
    if expected is INV:
        assert "cannot be judged against" in item.reason
        assert "censored result" in item.reason


def test_below_and_above_the_quantitation_range(one_item: OneItem) -> None:
    spec = one_item('{kind: "<=", value: 5}', "EU/mL", loq=0.05, uloq=50)
    item = decide(spec, "below LOQ")
    assert (item.outcome, item.value, item.qualifier) == (P, 0.05, "<")
    assert item.reason == "x below LOQ (< 0.05 EU/mL) ≤ 5 EU/mL"
    assert decide(spec, "<LOQ").outcome is P
    assert decide(spec, "above ULOQ").outcome is F
    strict = one_item('{kind: ">=", value: 0.01}', "EU/mL", loq=0.05)
    assert decide(strict, "BLQ").outcome is INV  # [0, 0.05) straddles 0.01
    high = one_item('{kind: ">=", value: 0.1}', "EU/mL", loq=0.05)
    assert decide(high, "below LOQ").outcome is F
    no_loq = one_item('{kind: "<=", value: 5}', "EU/mL")
    item = decide(no_loq, "below LOQ")
    assert item.outcome is INV
    assert "gives no LOQ" in item.reason


# ---------------------------------------------------------------- qualitative, pending, missing


@pytest.mark.parametrize(
    "text", ["negative", "Not detected", "no growth", "non-reactive", "absent"]
)
def test_negative_synonyms_pass(one_item: OneItem, text: str) -> None:
    assert decide(one_item("{kind: negative}"), text).outcome is P
    assert decide(one_item("{kind: not_detected}"), text).outcome is P


@pytest.mark.parametrize("text", ["positive", "detected", "growth", "reactive", "present"])
def test_positive_synonyms_fail(one_item: OneItem, text: str) -> None:
    assert decide(one_item("{kind: negative}"), text).outcome is F


def test_wrong_kind_of_result_is_invalid(one_item: OneItem) -> None:
    numeric = decide(one_item('{kind: ">=", value: 80}', "%"), "negative")
    assert numeric.outcome is INV
    assert "is qualitative" in numeric.reason
    assert decide(one_item("{kind: negative}"), "0.1").outcome is INV
    assert decide(one_item("{kind: conforms}"), "negative").outcome is INV
    assert decide(one_item("{kind: negative}"), "conforms").outcome is INV
    unreadable = decide(one_item('{kind: ">=", value: 80}', "%"), "eighty")
    assert (unreadable.outcome, unreadable.reason) == (INV, "x: cannot read 'eighty' as a result")


def test_pending_and_missing(make_spec: SpecFactory) -> None:
    spec = make_spec(
        """\
        - {analyte: a, name: a, criterion: {kind: negative}}
        - {analyte: b, name: b, criterion: {kind: negative}, required: false}
        - {analyte: c, name: c, criterion: {kind: report}, unit: "%"}
        - {analyte: d, name: d, criterion: {kind: negative}}
        """
    )
    decision = evaluate(spec, [Result("d", "")])
    items = {i.analyte: (i.outcome, i.reason) for i in decision.items}
    assert items == {
        "a": (W, "a: no result"),
        "b": (P, "b not tested (optional)"),
        "c": (P, "c not reported (report only)"),
        "d": (W, "d pending"),
    }
    assert decision.outcome is W
    assert decision.reasons[1:] == ("a: no result", "d pending")


# ---------------------------------------------------------------- overall outcome


@pytest.fixture
def three(make_spec: SpecFactory) -> Specification:
    return make_spec(
        """\
        - {analyte: a, name: a, criterion: {kind: negative}}
        - {analyte: b, name: b, criterion: {kind: negative}}
        - {analyte: opt, name: opt, criterion: {kind: negative}, required: false}
        """
    )


@pytest.mark.parametrize(
    ("a", "b", "opt", "expected"),
    [
        ("negative", "negative", "negative", P),
        ("negative", "negative", None, P),
        ("negative", "negative", "positive", P),  # an optional failure does not fail
        ("negative", "pending", "negative", W),
        ("positive", "pending", "negative", F),  # fail beats pending
        ("positive", "??", "negative", INV),  # invalid beats fail
        ("negative", "negative", "??", INV),  # an invalid optional item is still invalid
    ],
)
def test_overall_precedence(
    three: Specification, a: str, b: str, opt: str | None, expected: Outcome
) -> None:
    results = {"a": a, "b": b} | ({"opt": opt} if opt is not None else {})
    decision = evaluate(three, results)
    assert decision.outcome is expected
    assert decision.ok is (expected is P)


def test_overall_reasons_list_the_problems_worst_first(three: Specification) -> None:
    decision = evaluate(three, {"a": "pending", "b": "positive", "opt": "positive", "zzz": "1"})
    assert decision.reasons == (
        "Test spec v1.0: fail (0 pass, 2 fail, 1 pending, 0 invalid)",
        "b positive; required: negative",
        "opt positive; required: negative (optional item)",
        "a pending",
        "result for 'zzz' ignored: not an item of test-spec",
    )


def test_decision_carries_the_spec_identity_and_serialises(three: Specification) -> None:
    decision = evaluate(three, {"a": "negative", "b": "negative"})
    assert (decision.spec_id, decision.spec_version) == ("test-spec", "1.0")
    assert decision.spec_sha256 == three.sha256
    data = json.loads(json.dumps(decision.to_dict()))
    assert data["outcome"] == "pass"
    assert data["spec_sha256"] == three.sha256
    assert [i["analyte"] for i in data["items"]] == ["a", "b", "opt"]
    assert data["items"][0] == {
        "analyte": "a",
        "name": "a",
        "outcome": "pass",
        "reason": "a negative (required: negative)",
        "result_text": "negative",
        "criterion_text": "negative",
        "value": None,
        "qualifier": None,
        "unit": None,
        "required": True,
        "conditional": False,
        "basis": None,
    }


def test_only_conditional_pending_marks_a_release_at_risk(make_spec: SpecFactory) -> None:
    spec = make_spec(
        """\
        - {analyte: rapid, name: rapid, criterion: {kind: negative}}
        - {analyte: usp71, name: usp71, criterion: {kind: negative}, conditional: true}
        """
    )
    assert evaluate(spec, {"rapid": "negative", "usp71": "pending"}).only_conditional_pending
    assert not evaluate(spec, {"usp71": "pending"}).only_conditional_pending
    assert not evaluate(spec, {"rapid": "negative", "usp71": "negative"}).only_conditional_pending


# ---------------------------------------------------------------- inputs


def test_two_results_for_one_analyte_is_an_error(three: Specification) -> None:
    with pytest.raises(SpecError, match="two results for 'a'") as info:
        evaluate(three, [Result("a", "negative"), Result("A ", "positive")])
    assert info.value.field == "a"


def test_results_are_matched_case_insensitively_and_mappings_work(three: Specification) -> None:
    decision = evaluate(three, {"A": Result("a", "negative"), "b": "negative"})
    assert decision.outcome is P
    with pytest.raises(InvalidInputError, match="is for analyte 'b'"):
        evaluate(three, {"a": Result("b", "negative")})
    with pytest.raises(InvalidInputError, match="expected a Result"):
        evaluate(three, ["a"])  # type: ignore[list-item]


def test_stage_restricts_the_items(write_yaml: Callable[[str], object]) -> None:
    text = spec_text(
        """\
        - {analyte: ip, name: ip, stage: in_process, criterion: {kind: ">=", value: 1}}
        - {analyte: fp, name: fp, criterion: {kind: ">=", value: 1}}
        """
    )
    spec = load_spec_text(text)
    decision = evaluate(spec, {"ip": "2", "fp": "0"}, stage="in_process")
    assert [i.analyte for i in decision.items] == ["ip"]
    assert decision.outcome is P
    assert "result for 'fp' ignored: the item is tested at final_product" in decision.reasons
    wrong_stage = evaluate(spec, [Result("ip", "2", stage="final_product"), Result("fp", "2")])
    assert wrong_stage.outcome is W
    assert any("taken at final_product" in r for r in wrong_stage.reasons)
    with pytest.raises(InvalidInputError, match="no items for stage 'release'") as info:
        evaluate(spec, {}, stage="release")
    assert info.value.field == "stage"


def test_the_old_decision_api_still_works() -> None:
    assert Decision.allow().ok
    assert Decision.refuse("no").reasons == ("no",)
    with pytest.raises(ValueError, match="needs a reason"):
        Decision.refuse()
    combined = Decision.combine(Decision.allow("a"), Decision(Outcome.pending, ("b",)))
    assert (combined.outcome, combined.reasons) == (W, ("a", "b"))
    assert Decision.combine(Decision.refuse("x"), Decision(Outcome.invalid, ())).outcome is INV
    assert Decision.combine().outcome is P


# ---------------------------------------------------------------- properties


@cache
def _spec(criterion: str, unit: str = "%") -> Specification:
    return load_spec_text(
        spec_text(f'- {{analyte: x, name: x, unit: "{unit}", criterion: {criterion}}}')
    )


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_property_at_least(value: float) -> None:
    item = evaluate(_spec('{kind: ">=", value: 80}'), {"x": value}).items[0]
    assert item.outcome is (P if value >= 80 else F)


@given(
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.floats(min_value=0, max_value=100, allow_nan=False),
)
def test_property_range(low: float, value: float) -> None:
    high = low + 10
    spec = _spec(f"{{kind: range, low: {low!r}, high: {high!r}}}")
    item = evaluate(spec, {"x": value}).items[0]
    assert item.outcome is (P if low <= value <= high else F)


@given(st.floats(min_value=1e-6, max_value=100, allow_nan=False))
def test_property_left_censored_against_an_upper_limit(bound: float) -> None:
    item = evaluate(_spec('{kind: "<=", value: 5}', "EU/mL"), {"x": f"<{bound!r}"}).items[0]
    assert item.outcome is (P if bound <= 5 else INV)

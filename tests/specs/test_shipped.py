"""The shipped specifications: they load, a complete passing set passes, each failure fails."""

from __future__ import annotations

import hashlib
from importlib.resources import files

import pytest

from vein2vein.specs import Outcome, Result, evaluate, shipped_spec, shipped_specs

SHIPPED = ["anti-cd19-cart-release", "apheresis-intake", "invivo-vector-lot-release"]
CONTEXT = {"patient_weight_kg": 20.0, "dose_volume_ml": 68.0}

PASSING: dict[str, list[Result]] = {
    "apheresis-intake": [
        Result("tnc", "3.2 x 10^9", "cells"),
        Result("cd3_count", "1.5", "10^9 cells"),
        Result("cd3_percent", "45", "%"),
        Result("viability", "95", "%"),
        Result("cd4_cd8_ratio", "1.4"),
        Result("hematocrit", "3", "%"),
        Result("granulocytes", "5", "%"),
        Result("monocytes", "25", "%"),
        Result("hiv_1_2", "non-reactive"),
        Result("hbv", "negative"),
        Result("hcv", "non-reactive"),
        Result("htlv_1_2", "negative"),
        Result("syphilis", "non-reactive"),
    ],
    "anti-cd19-cart-release": [
        Result("appearance", "conforms"),
        Result("car_expression", "25", "%"),
        Result("viability", "92", "%"),
        Result("car_t_dose", "2.0", "10^6 cells/kg"),
        Result("vcn", "1.8", "copies/cell"),
        Result("ifng_release", "2400", "pg/mL"),
        Result("endotoxin", "<0.5", "EU/mL"),
        Result("sterility_rapid", "no growth"),
        Result("sterility_14d", "no growth"),
        Result("mycoplasma", "not detected"),
        Result("rcl", "not detected"),
    ],
    "invivo-vector-lot-release": [
        Result("functional_titer", "2.5e8", "TU/mL"),
        Result("infectious_physical_ratio", "0.004", "TU/vg"),
        Result("potency", "35", "%"),
        Result("particle_size", "110", "nm"),
        Result("endotoxin", "<0.5", "EU/mL"),
        Result("sterility", "no growth"),
        Result("mycoplasma", "not detected"),
        Result("rcl", "not detected"),
    ],
}


def test_the_shipped_list() -> None:
    assert shipped_specs() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_each_loads_with_its_file_hash_and_cites_its_sources(name: str) -> None:
    spec = shipped_spec(name)
    data = files("vein2vein.specs.data").joinpath(f"{name}.yaml").read_bytes()
    assert spec.sha256 == hashlib.sha256(data).hexdigest()
    assert spec.id == name
    assert shipped_spec(f"{name}.yaml").sha256 == spec.sha256
    assert spec.source
    for item in spec.items:
        assert item.note, f"{name}: {item.analyte} cites no source"
        assert item.method, f"{name}: {item.analyte} names no method"
    assert len({item.stage for item in spec.items}) == 1


@pytest.mark.parametrize("name", SHIPPED)
def test_a_complete_passing_set_passes(name: str) -> None:
    spec = shipped_spec(name)
    decision = evaluate(spec, PASSING[name], context=CONTEXT)
    assert decision.outcome is Outcome.passed, decision.reasons
    assert decision.spec_sha256 == spec.sha256
    assert len(decision.items) == len(spec.items)


def _with(name: str, result: Result) -> list[Result]:
    return [r for r in PASSING[name] if r.analyte != result.analyte] + [result]


@pytest.mark.parametrize(
    ("name", "result", "outcome", "reason"),
    [
        (
            "apheresis-intake",
            Result("cd3_count", "0.45", "10^9 cells"),
            Outcome.failed,
            "CD3+ T cells (count) 0.45 × 10⁹ cells < 0.6 × 10⁹ cells",
        ),
        (
            "apheresis-intake",
            Result("tnc", "8e8", "cells"),
            Outcome.failed,
            "total nucleated cells 8e8 cells (= 0.8 × 10⁹ cells) < 1 × 10⁹ cells",
        ),
        (
            "apheresis-intake",
            Result("viability", "72", "%"),
            Outcome.failed,
            "viability 72 % < 80 %",
        ),
        (
            "apheresis-intake",
            Result("hematocrit", "12", "%"),
            Outcome.failed,
            "hematocrit 12 % > 10 %",
        ),
        (
            "apheresis-intake",
            Result("hcv", "reactive"),
            Outcome.failed,
            "hepatitis C (anti-HCV, HCV NAT) reactive; required: negative",
        ),
        (
            "apheresis-intake",
            Result("syphilis", "pending"),
            Outcome.pending,
            "syphilis (Treponema pallidum) pending",
        ),
        (
            "anti-cd19-cart-release",
            Result("viability", "72", "%"),
            Outcome.failed,
            "viability 72 % < 80 %",
        ),
        (
            "anti-cd19-cart-release",
            Result("car_t_dose", "1.2e8", "cells"),
            Outcome.failed,
            "CAR+ viable T-cell dose 1.2e8 cells (÷ 20 kg = 6 × 10⁶ cells/kg) "
            "outside 0.2–5 × 10⁶ cells/kg",
        ),
        (
            "anti-cd19-cart-release",
            Result("vcn", "6.2", "copies/cell"),
            Outcome.failed,
            "vector copy number (per transduced cell) 6.2 copies/cell > 5 copies/cell",
        ),
        (
            "anti-cd19-cart-release",
            Result("endotoxin", "2", "EU/mL"),
            Outcome.failed,
            "endotoxin 2 EU/mL (× 68 mL ÷ 20 kg = 6.8 EU/kg) > 5 EU/kg",
        ),
        (
            "anti-cd19-cart-release",
            Result("ifng_release", "0.3", "ng/mL"),
            Outcome.failed,
            "potency (IFN-gamma release, CD19+ target co-culture) 0.3 ng/mL (= 300 pg/mL) "
            "< 500 pg/mL",
        ),
        (
            "anti-cd19-cart-release",
            Result("rcl", "detected"),
            Outcome.failed,
            "replication-competent lentivirus detected; required: not detected",
        ),
        (
            "anti-cd19-cart-release",
            Result("appearance", "does not conform"),
            Outcome.failed,
            "appearance does not conform; required: conforms",
        ),
        (
            "invivo-vector-lot-release",
            Result("particle_size", "250", "nm"),
            Outcome.failed,
            "particle size (Z-average) 250 nm outside 50–200 nm",
        ),
        (
            "invivo-vector-lot-release",
            Result("endotoxin", "10", "EU/mL"),
            Outcome.failed,
            "endotoxin 10 EU/mL ≥ 10 EU/mL",
        ),
        (
            "invivo-vector-lot-release",
            Result("functional_titer", "5e4", "TU/uL"),
            Outcome.failed,
            "functional titer 5e4 TU/uL (= 5 × 10⁷ TU/mL) < 1 × 10⁸ TU/mL",
        ),
    ],
)
def test_single_failures(name: str, result: Result, outcome: Outcome, reason: str) -> None:
    decision = evaluate(shipped_spec(name), _with(name, result), context=CONTEXT)
    assert decision.outcome is outcome
    (item,) = [i for i in decision.items if i.analyte == result.analyte]
    assert item.reason == reason
    assert reason in decision.reasons


def test_release_at_risk_on_14_day_sterility() -> None:
    name = "anti-cd19-cart-release"
    decision = evaluate(
        shipped_spec(name), _with(name, Result("sterility_14d", "pending")), context=CONTEXT
    )
    assert decision.outcome is Outcome.pending
    assert decision.only_conditional_pending
    assert "sterility (14-day) pending" in decision.reasons


def test_release_without_patient_context_is_invalid() -> None:
    name = "anti-cd19-cart-release"
    decision = evaluate(shipped_spec(name), PASSING[name])
    assert decision.outcome is Outcome.invalid
    assert (
        "endotoxin: expressing EU/mL as EU/kg needs dose_volume_ml and patient_weight_kg "
        "in the context"
    ) in decision.reasons


def test_an_optional_failure_is_reported_but_does_not_fail_the_lot() -> None:
    name = "invivo-vector-lot-release"
    result = Result("encapsulation_efficiency", "70", "%")
    decision = evaluate(shipped_spec(name), _with(name, result))
    assert decision.outcome is Outcome.passed
    assert "encapsulation efficiency 70 % < 80 % (optional item)" in decision.reasons

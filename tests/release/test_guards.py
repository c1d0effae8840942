"""Disposition guards: pure functions, each refusal with its reason in words."""

from __future__ import annotations

import dataclasses

import pytest

from vein2vein.release import (
    EvaluatedItem,
    ReleaseFacts,
    guard_reject,
    guard_release,
    guard_release_at_risk,
    guard_segregation,
)

PASS = EvaluatedItem("viability", "pass", conditional=False, reason="viability 92 % ≥ 80 %")
STERILITY_PENDING = EvaluatedItem(
    "sterility_14d", "pending", conditional=True, reason="sterility (14-day) pending"
)
MYCO_PENDING = EvaluatedItem("mycoplasma", "pending", conditional=False, reason="no result")
VCN_FAIL = EvaluatedItem("vcn", "fail", conditional=False, reason="VCN 6.1 copies/cell > 5")

QA, QC, OPERATOR = 30, 20, 10


def facts(**overrides: object) -> ReleaseFacts:
    base = ReleaseFacts(
        batch_status="quarantine",
        evaluation_outcome="pass",
        items=[PASS],
        results_current=True,
        actor_id=QA,
        entered_by={OPERATOR},
        reviewed_by={QC},
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def test_release_when_reviewed_current_passing_and_segregated() -> None:
    assert guard_release(facts()).ok


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"evaluation_outcome": None}, "have not been reviewed"),
        ({"results_current": False}, "review them again"),
        ({"batch_status": "rejected"}, "the batch is rejected"),
        (
            {"evaluation_outcome": "fail", "items": [PASS, VCN_FAIL]},
            "VCN 6.1 copies/cell > 5",
        ),
        ({"actor_id": OPERATOR}, "you entered results"),
        ({"actor_id": QC}, "you reviewed the results"),
    ],
)
def test_release_refusals_say_why(overrides: dict[str, object], reason: str) -> None:
    decision = guard_release(facts(**overrides))
    assert not decision.ok
    assert any(reason in r for r in decision.reasons), decision.reasons


def test_segregation_lists_both_roles_of_one_person() -> None:
    decision = guard_segregation(facts(actor_id=QC, entered_by={QC}))
    assert len(decision.reasons) == 2


def test_release_at_risk_with_only_the_conditional_test_pending() -> None:
    f = facts(evaluation_outcome="pending", items=[PASS, STERILITY_PENDING])
    decision = guard_release_at_risk(f, justification="patient progressing; no bridging option")
    assert decision.ok
    assert "sterility_14d" in decision.reasons[0]


@pytest.mark.parametrize(
    ("items", "justification", "reason"),
    [
        ([PASS, STERILITY_PENDING], None, "documented justification"),
        ([PASS, STERILITY_PENDING], "  ", "documented justification"),
        ([PASS, STERILITY_PENDING, MYCO_PENDING], "urgent", "pending: mycoplasma"),
        ([PASS, STERILITY_PENDING, VCN_FAIL], "urgent", "VCN 6.1"),
        ([PASS], "urgent", "release the lot normally"),
    ],
)
def test_release_at_risk_refusals(
    items: list[EvaluatedItem], justification: str | None, reason: str
) -> None:
    outcome = "pass" if items == [PASS] else "pending"
    decision = guard_release_at_risk(
        facts(evaluation_outcome=outcome, items=items), justification=justification
    )
    assert not decision.ok
    assert any(reason in r for r in decision.reasons), decision.reasons


def test_reject_needs_a_reason_and_a_second_person() -> None:
    assert guard_reject(facts(evaluation_outcome="fail"), justification="VCN OOS").ok
    assert not guard_reject(facts(), justification="").ok
    assert not guard_reject(facts(actor_id=OPERATOR), justification="VCN OOS").ok
    assert guard_reject(facts(evaluation_outcome=None), justification="process failure").ok

"""Disposition guards: pure functions, each refusal with its reason in words."""

from __future__ import annotations

import dataclasses

import pytest

from vein2vein.release import (
    EvaluatedItem,
    LotProblem,
    ReleaseFacts,
    guard_open_problems,
    guard_reject,
    guard_release,
    guard_release_at_risk,
    guard_review,
    guard_segregation,
    problem_blocks,
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


# ---------------------------------------------------------------- open problems


def problem(**overrides: object) -> LotProblem:
    base = LotProblem(
        kind="deviation",
        code="DEV-000002",
        severity="critical",
        category="chain_of_identity",
        description="wrong bag scanned",
        status="open",
        via="batch",
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


OOS = {"kind": "investigation", "code": "OOS-000001", "severity": "OOS", "category": "vcn"}


@pytest.mark.parametrize(
    ("overrides", "blocks"),
    [
        ({}, "deviation DEV-000002 (critical, chain_of_identity) is open: wrong bag scanned"),
        ({"status": "acknowledged"}, "is acknowledged"),
        ({"via": "room"}, "(critical, chain_of_identity), through its room, is open"),
        ({"status": "closed"}, None),
        ({"assessment": "no_impact"}, None),
        ({"assessment": "no_impact", "assessment_current": False}, "assess it again"),
        ({"assessment": "impact", "assessment_reason": "bag mix-up"}, "as affecting this lot"),
        ({"status": "closed", "assessment": "impact"}, "as affecting this lot"),
        ({**OOS}, "OOS investigation OOS-000001 (vcn) is open"),
        ({**OOS, "own_result": True, "assessment": "no_impact"}, "close the investigation"),
        ({**OOS, "own_result": True, "status": "closed", "outcome": "confirmed"}, "confirmed"),
        ({**OOS, "own_result": True, "status": "closed", "outcome": "invalidated"}, None),
        ({**OOS, "status": "closed", "outcome": "confirmed"}, None),  # another lot's result
        ({**OOS, "assessment": "no_impact"}, None),
    ],
)
def test_when_a_problem_blocks_release(overrides: dict[str, object], blocks: str | None) -> None:
    reason = problem_blocks(problem(**overrides))
    if blocks is None:
        assert reason is None
    else:
        assert reason is not None and blocks in reason


def test_release_and_release_at_risk_refuse_an_open_problem_rejection_does_not() -> None:
    open_one = facts(problems=[problem(), problem(code="DEV-000003", status="closed")])
    decision = guard_release(open_one)
    assert not decision.ok
    assert decision.reasons == (problem_blocks(problem()),)
    at_risk = dataclasses.replace(
        open_one, evaluation_outcome="pending", items=[PASS, STERILITY_PENDING]
    )
    assert (
        problem_blocks(problem())
        in guard_release_at_risk(at_risk, justification="clinical need").reasons
    )
    assert guard_reject(open_one, justification="wrong bag").ok
    assert guard_open_problems([]).reasons == ("no deviation or investigation against the lot",)
    assert guard_open_problems([problem(status="closed")]).ok


def test_a_reviewer_did_not_enter_the_results() -> None:
    assert guard_review(actor_id=QC, entered_by={OPERATOR}).ok
    refused = guard_review(actor_id=QC, entered_by={OPERATOR, QC})
    assert refused.reasons == (
        "you entered results of this batch; another person must review them",
    )

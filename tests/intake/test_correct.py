"""Correcting an intake decision made on a mistyped value: audited, re-evaluated, once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from vein2vein.errors import (
    InvalidInputError,
    PermissionDeniedError,
    RecordConflictError,
)
from vein2vein.identity import start_batch
from vein2vein.intake import (
    Characterization,
    IntakeOutcome,
    correct_intake,
    decide_intake,
)
from vein2vein.records import (
    AuditEntry,
    Donation,
    DonationStatus,
    Evaluation,
    audit,
    sign,
    signatures_of,
)
from vein2vein.specs import Result, Specification, shipped_spec
from vein2vein.testing import PASSING_INTAKE, PASSWORD, Network, make_donation

SPEC = shipped_spec("apheresis-intake")
STARTED = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
REASON = "CD3 count typed one decimal place off; 1.5 x 10^9 on the flow report FC-0042"
TYPO = Result("cd3_count", "0.15", "10^9 cells")
FIXED = Result("cd3_count", "1.5", "10^9 cells")


def decide(net: Network, din: str, **changes: Result) -> IntakeOutcome:
    results = [changes.get(a, Result(a, v, u)) for a, (v, u) in PASSING_INTAKE.items()]
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        return decide_intake(uow, Characterization(din, tuple(results), None, 2), SPEC)


def correct(
    net: Network,
    din: str,
    *corrections: Result,
    reason: str = REASON,
    role: str = "qc_analyst",
    spec: Specification = SPEC,
) -> IntakeOutcome:
    with net.db.unit_of_work(net.actor(role)) as uow:
        return correct_intake(uow, din=din, corrections=corrections, reason=reason, spec=spec)


def status(net: Network, din: str) -> DonationStatus:
    with net.db.read() as session:
        return session.scalars(select(Donation.status).where(Donation.din == din)).one()


def n_rows(net: Network) -> tuple[int, int]:
    with net.db.read() as session:
        return (
            session.execute(select(func.count()).select_from(Evaluation)).scalar_one(),
            session.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        )


def test_a_mistyped_value_is_refused_once_decided_and_corrected_with_a_reason(
    network: Network,
) -> None:
    din = make_donation(network).din
    first = decide(network, din, cd3_count=TYPO)
    assert first.status is DonationStatus.rejected
    # The QC review signature on the donation record, as the demo makes it.
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        sign(uow, uow.get(Donation, din), password=PASSWORD, meaning="reviewed")

    # Deciding again is refused: a decision is not overwritten by a second import.
    with pytest.raises(RecordConflictError, match="already decided"):
        decide(network, din)

    fixed = correct(network, din, FIXED)

    assert fixed.status is DonationStatus.accepted
    assert status(network, din) is DonationStatus.accepted
    with network.db.read() as session:
        donation = session.scalars(select(Donation).where(Donation.din == din)).one()
        evaluations = session.scalars(
            select(Evaluation)
            .where(Evaluation.subject_table == "donations", Evaluation.subject_id == donation.id)
            .order_by(Evaluation.id)
        ).all()
        # The earlier decision stays; the new one is made on the corrected value.
        assert [e.outcome for e in evaluations] == ["fail", "pass"]
        cd3 = {i["analyte"]: i for i in evaluations[1].items}["cd3_count"]
        assert cd3["value"] == 1.5
        # Every other value is judged as before.
        before = {i["analyte"]: i["outcome"] for i in evaluations[0].items}
        after = {i["analyte"]: i["outcome"] for i in evaluations[1].items}
        assert {a: o for a, o in after.items() if a != "cd3_count"} == {
            a: o for a, o in before.items() if a != "cd3_count"
        }
        history = audit.history(session, "donations", donation.id)
        change = history[-1]
        assert change.changes["status"] == ["rejected", "accepted"]
        assert change.username == "qc-analyst"
        assert REASON in (change.reason or "")
        assert "cd3_count 0.15 10^9 cells -> 1.5 10^9 cells" in (change.reason or "")
        created = audit.history(session, "evaluations", evaluations[1].id)
        assert REASON in (created[0].reason or "")
        # The signature made on the earlier status no longer holds.
        [signature] = signatures_of(session, donation)
        assert not signature.valid
        assert audit.verify(session).ok
    # The corrected donation starts its batch.
    with network.db.unit_of_work(network.actor("operator")) as uow:
        start_batch(uow, din=din, site="HUB-A", product="anti-CD19 CAR-T", started_at=STARTED)


def test_a_correction_can_reject_too(network: Network) -> None:
    din = make_donation(network).din
    assert decide(network, din).status is DonationStatus.accepted
    low = Result("viability", "72", "%")
    outcome = correct(network, din, low, reason="viability transcribed from the wrong tube")
    assert outcome.status is DonationStatus.rejected
    assert any("viability 72 % < 80 %" in r for r in outcome.decision.reasons)


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"reason": "  "}, "reason", "needs its reason"),
        ({"corrections": (Result("cd3_cnt", "1.5"),)}, "analyte", "'cd3_cnt' is not a test"),
        ({"corrections": ()}, "analyte", "at least one"),
    ],
    ids=["blank reason", "unknown analyte", "nothing corrected"],
)
def test_bad_corrections_name_the_field_and_write_nothing(
    network: Network, kwargs: dict, field: str, fragment: str
) -> None:
    din = make_donation(network).din
    decide(network, din, cd3_count=TYPO)
    before = n_rows(network)
    args = {"din": din, "corrections": (FIXED,), "reason": REASON, "spec": SPEC, **kwargs}
    with (
        pytest.raises(InvalidInputError, match=fragment) as caught,
        network.db.unit_of_work(network.actor("qc_analyst")) as uow,
    ):
        correct_intake(uow, **args)
    assert caught.value.field == field
    assert n_rows(network) == before
    assert status(network, din) is DonationStatus.rejected


def test_another_spec_version_is_refused(network: Network) -> None:
    din = make_donation(network).din
    decide(network, din, cd3_count=TYPO)
    other = SPEC.model_copy(update={"version": "9.9"})
    with pytest.raises(InvalidInputError, match="same specification") as caught:
        correct(network, din, FIXED, spec=other)
    assert caught.value.field == "spec"


def test_no_correction_once_manufacture_started_or_before_any_decision(
    network: Network,
) -> None:
    undecided = make_donation(network).din
    with pytest.raises(RecordConflictError, match="no intake decision to correct"):
        correct(network, undecided, FIXED)
    din = make_donation(network).din
    decide(network, din)
    with network.db.unit_of_work(network.actor("operator")) as uow:
        start_batch(uow, din=din, site="HUB-A", product="anti-CD19 CAR-T", started_at=STARTED)
    before = n_rows(network)
    with pytest.raises(RecordConflictError, match="already started batch"):
        correct(network, din, TYPO)
    assert n_rows(network) == before
    assert status(network, din) is DonationStatus.accepted


def test_only_qc_or_qa_corrects(network: Network) -> None:
    din = make_donation(network).din
    decide(network, din, cd3_count=TYPO)
    with pytest.raises(PermissionDeniedError, match=r"intake\.decide"):
        correct(network, din, FIXED, role="operator")
    assert status(network, din) is DonationStatus.rejected

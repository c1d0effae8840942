"""No lot is released past an open problem: deviations, OOS investigations, links, assessments.

Each test reproduces a failure of the GMP integrity issue on a real database (SQLite and
PostgreSQL): a lot with an open critical deviation (a wrong-bag custody scan), open
major deviations (a pH chart red for days), or an open OOS investigation (a VCN of 9.0
re-imported as 1.8) was released and got a CoA that said "Released".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from vein2vein.errors import (
    InvalidInputError,
    PermissionDeniedError,
    RecordConflictError,
    SignatureError,
    TransitionRefusedError,
)
from vein2vein.identity import Handoff, log_custody, start_batch
from vein2vein.intake import Characterization, decide_intake
from vein2vein.records import (
    AssayResult,
    AuditEntry,
    Batch,
    BatchStatus,
    Deviation,
    Disposition,
    ImpactAssessment,
    Investigation,
    ProblemLink,
    Signature,
    assess_impact,
    close_deviation,
    close_investigation,
    get_record,
    link_problem,
    open_deviation,
)
from vein2vein.release import (
    ResultRow,
    certificate,
    decide,
    enter_results,
    lot_problems,
    render_coa_html,
    review,
)
from vein2vein.specs import Result, shipped_spec
from vein2vein.testing import (
    PASSING_INTAKE,
    PASSING_RELEASE,
    PASSWORD,
    Network,
    make_batch,
    make_donation,
)

SPEC = shipped_spec("anti-cd19-cart-release")
PASSING = PASSING_RELEASE
NO_IMPACT = "probe drift only: offline pH of the culture 7.18-7.22 on every day; no effect"
AT = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------- helpers


def enter(net: Network, code: str, values: dict[str, tuple[str, str | None]]) -> Any:
    rows = [ResultRow(code, a, v, u) for a, (v, u) in values.items()]
    with net.db.unit_of_work(net.actor("operator")) as uow:
        return enter_results(uow, rows, spec=SPEC)


def review_as(net: Network, code: str, role: str = "qc_analyst") -> None:
    with net.db.unit_of_work(net.actor(role)) as uow:
        review(uow, batch=code, spec=SPEC, password=PASSWORD)


def reviewed_lot(net: Network, code: str | None = None, **changes: tuple[str, str | None]) -> str:
    """A batch whose results were entered (operator), dosed and reviewed (QC)."""
    code = code or make_batch(net).batch_code
    enter(net, code, {**PASSING, **changes})
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        uow.change(uow.get(Batch, code), patient_weight_kg=20.0, dose_volume_ml=68.0)
    review_as(net, code)
    return code


def decide_as(net: Network, code: str, disposition: str, justification: str | None = None) -> None:
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        decide(
            uow,
            batch=code,
            disposition=disposition,
            password=PASSWORD,
            justification=justification,
        )


def counts(net: Network) -> dict[str, int]:
    models = (Disposition, Signature, ImpactAssessment, ProblemLink, AuditEntry)
    with net.db.read() as s:
        return {
            m.__name__: s.execute(select(func.count()).select_from(m)).scalar_one() for m in models
        }


def status(net: Network, code: str) -> BatchStatus:
    with net.db.read() as s:
        return s.scalars(select(Batch.status).where(Batch.batch_code == code)).one()


def refused(net: Network, code: str, disposition: str, **kwargs: Any) -> str:
    """Decide, expect a refusal that writes nothing, and return its message."""
    before = counts(net), status(net, code)
    with pytest.raises(TransitionRefusedError) as info:
        decide_as(net, code, disposition, **kwargs)
    assert (counts(net), status(net, code)) == before
    return str(info.value)


def wrong_bag(net: Network, code: str) -> str:
    """The receiving hub scans the neighbouring bag: refused, a critical deviation."""
    other = make_donation(net).din
    with net.db.unit_of_work(net.actor("operator")) as uow:
        row = uow.get(Batch, code)
        record = log_custody(
            uow,
            batch=code,
            handoff=Handoff(
                from_party=row.custodian or "HUB-A",
                to_party="courier",
                occurred_at=AT,
                scanned_din=other,
                scanned_patient=row.patient.patient_code,
                temperature_c=5.0,
                condition="refrigerated",
            ),
        )
        assert record.deviation is not None
        return record.deviation.code


def process_signal(net: Network, code: str, description: str) -> str:
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        return open_deviation(
            uow,
            category="process_signal",
            severity="major",
            description=description,
            batch=uow.get(Batch, code),
            source="spc:ph:N1",
        ).code


def assess(net: Network, problem: str, code: str, conclusion: str, reason: str = NO_IMPACT) -> None:
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        assess_impact(
            uow,
            problem=problem,
            batch=code,
            conclusion=conclusion,
            reason=reason,
            password=PASSWORD,
        )


def close_dev(net: Network, code: str, resolution: str = "root cause found; CAPA-0007") -> None:
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        close_deviation(uow, code, password=PASSWORD, resolution=resolution)


def close_oos(net: Network, code: str, outcome: str, conclusion: str) -> None:
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        close_investigation(uow, code, outcome=outcome, conclusion=conclusion, password=PASSWORD)


def coa_html(net: Network, code: str) -> str:
    with net.db.read() as s:
        return render_coa_html(certificate(s, get_record(s, Batch, code)))


# ---------------------------------------------------------------- the three lots


def test_an_open_critical_deviation_keeps_the_lot_from_release(network: Network) -> None:
    code = make_batch(network).batch_code
    dev = wrong_bag(network, code)
    reviewed_lot(network, code)

    blocked = f"deviation {dev} (critical, chain_of_identity) is open"
    message = refused(network, code, "released")
    assert blocked in message
    assert "close it or record a QA impact assessment for this lot" in message
    assert blocked in refused(network, code, "released_at_risk", justification="clinical need")
    html = coa_html(network, code)
    assert dev in html and "Quarantine (not released)" in html

    close_dev(network, dev, "right bag re-scanned and verified; bench segregation CAPA-0012")
    decide_as(network, code, "released")

    assert status(network, code) is BatchStatus.released
    html = coa_html(network, code)
    assert dev in html and "Closed" in html
    assert "bench segregation CAPA-0012" in html
    assert "Closed by Quinn Reviewer (qa-reviewer)" in html


def test_open_major_deviations_need_closure_or_a_signed_no_impact_assessment(
    network: Network,
) -> None:
    code = make_batch(network).batch_code
    first = process_signal(network, code, "pH below the lower control limit (day 4)")
    second = process_signal(network, code, "pH: 8 points below the centre line (days 4-7)")
    reviewed_lot(network, code)

    message = refused(network, code, "released")
    assert f"deviation {first} (major, process_signal) is open" in message
    assert f"deviation {second} (major, process_signal) is open" in message

    assess(network, first, code, "no_impact")
    message = refused(network, code, "released")
    assert first not in message and second in message

    # An impact on this lot keeps it back, and closing the deviation does not undo that.
    assess(network, second, code, "impact", reason="culture pH 6.9 for 30 h: potency at risk")
    close_dev(network, second)
    message = refused(network, code, "released")
    assert f"QA assessed deviation {second} (major, process_signal) as affecting this lot" in (
        message
    )
    assert "potency at risk" in message

    # A later assessment supersedes (the earlier one stays on the record).
    assess(network, second, code, "no_impact", reason="potency retest 98 % of reference")
    decide_as(network, code, "released")
    assert status(network, code) is BatchStatus.released
    with network.db.read() as s:
        problems = {p.code: p for p in lot_problems(s, get_record(s, Batch, code))}
        assert (problems[first].status, problems[first].assessment) == ("open", "no_impact")
        assert s.execute(select(func.count()).select_from(ImpactAssessment)).scalar_one() == 3
        signed = s.scalars(
            select(Signature.meaning).where(Signature.record_table == "impact_assessments")
        ).all()
        assert signed == ["approved"] * 3
    html = coa_html(network, code)
    assert "No impact on this lot" in html and NO_IMPACT in html
    assert "Quinn Reviewer (qa-reviewer)" in html


def test_an_open_oos_investigation_outlives_a_passing_retest(network: Network) -> None:
    code = make_batch(network).batch_code
    (oos,) = enter(network, code, {"vcn": ("9.0", "copies/cell")}).investigations
    reviewed_lot(network, code)  # the full set again: VCN re-imported as 1.8, so the review passes

    message = refused(network, code, "released")
    assert f"OOS investigation {oos.code} (vcn) is open" in message
    assert "close the investigation" in message
    # An OOS of the lot's own result is not waved through by an impact assessment.
    before = counts(network)
    with pytest.raises(InvalidInputError, match="closing the investigation") as caught:
        assess(network, oos.code, code, "no_impact")
    assert caught.value.field == "conclusion"
    assert counts(network) == before

    close_oos(network, oos.code, "confirmed", "no laboratory error; ddPCR re-run agrees")
    message = refused(network, code, "released")
    assert f"OOS investigation {oos.code} (vcn) confirmed the out-of-specification" in message
    # Rejection stays possible with problems against the lot.
    decide_as(network, code, "rejected", justification="VCN OOS confirmed")
    assert status(network, code) is BatchStatus.rejected
    html = coa_html(network, code)
    assert oos.code in html and "confirmed: no laboratory error" in html


def test_an_invalidated_oos_result_no_longer_counts(network: Network) -> None:
    code = make_batch(network).batch_code
    (oos,) = enter(network, code, {**PASSING, "vcn": ("9.0", "copies/cell")}).investigations
    close_oos(network, oos.code, "invalidated", "pipetting error: standard curve out of range")
    with network.db.read() as s:
        result = s.get(AssayResult, oos.assay_result_id)
        assert result is not None and result.status == "invalidated"
        investigation = s.get(Investigation, oos.id)
        assert investigation is not None
        assert (investigation.status, investigation.outcome) == ("closed", "invalidated")
        assert investigation.closed_at is not None
    reviewed_lot(network, code, vcn=("1.8", "copies/cell"))  # the retest
    decide_as(network, code, "released")
    assert status(network, code) is BatchStatus.released
    with pytest.raises(RecordConflictError, match="already closed"):
        close_oos(network, oos.code, "confirmed", "again")


def test_a_deviation_on_the_donation_reaches_its_batch(network: Network) -> None:
    donation = make_donation(network)
    results = [Result(a, v, u) for a, (v, u) in PASSING_INTAKE.items() if a != "cd3_count"]
    results.append(Result("cd3_count", "0.45", "10^9 cells"))
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        outcome = decide_intake(
            uow,
            Characterization(donation.din, tuple(results), "physician request", 2),
            shipped_spec("apheresis-intake"),
        )
    assert outcome.deviation is not None
    with network.db.unit_of_work(network.actor("operator")) as uow:
        code = start_batch(
            uow, din=donation.din, site="HUB-A", product="anti-CD19 CAR-T", started_at=AT
        ).batch_code
    reviewed_lot(network, code)
    expected = f"deviation {outcome.deviation} (major, starting_material), through its donation"
    assert expected in refused(network, code, "released")
    assess(network, outcome.deviation, code, "no_impact", "lot meets every release criterion")
    decide_as(network, code, "released")
    assert status(network, code) is BatchStatus.released


# ---------------------------------------------------------------- links and assessments


def test_a_problem_linked_through_the_room_reaches_the_batch(network: Network) -> None:
    source = make_batch(network).batch_code
    code = reviewed_lot(network)
    bystander = make_batch(network).batch_code
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        dev = open_deviation(
            uow,
            category="environmental",
            severity="major",
            description="grade B settle plate 7 CFU in CR-2",
            batch=uow.get(Batch, source),
        ).code
    with pytest.raises(InvalidInputError) as caught:
        assess(network, dev, code, "no_impact")  # not linked yet: not this lot's problem
    assert caught.value.field == "batch"

    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        link = link_problem(uow, problem=dev, batch=code, via="room", detail="CR-2")
        again = link_problem(uow, problem=dev, batch=code, via="room", detail="CR-2")
        assert again.id == link.id  # linking every batch in a room twice is harmless
    with (
        pytest.raises(InvalidInputError, match="via 'corridor'") as caught,
        network.db.unit_of_work(network.actor("qc_analyst")) as uow,
    ):
        link_problem(uow, problem=dev, batch=code, via="corridor")
    assert caught.value.field == "via"

    assert f"deviation {dev} (major, environmental), through its room, is open" in refused(
        network, code, "released"
    )
    with network.db.read() as s:
        assert lot_problems(s, get_record(s, Batch, bystander)) == []
        [linked] = lot_problems(s, get_record(s, Batch, code))
        assert (linked.code, linked.via) == (dev, "room")
    assess(network, dev, code, "no_impact", "lot filled in CR-1; CR-2 not used after day 2")
    decide_as(network, code, "released")
    assert "through its room" in coa_html(network, code)


def test_only_qa_assesses_and_only_after_re_authentication(network: Network) -> None:
    code = make_batch(network).batch_code
    dev = process_signal(network, code, "temperature step +0.9 °C")
    before = counts(network)
    with (
        pytest.raises(PermissionDeniedError, match=r"problem\.assess"),
        network.db.unit_of_work(network.actor("qc_analyst")) as uow,
    ):
        assess_impact(
            uow, problem=dev, batch=code, conclusion="no_impact", reason="x", password=PASSWORD
        )
    with (
        pytest.raises(SignatureError),
        network.db.unit_of_work(network.actor("qa_reviewer")) as uow,
    ):
        assess_impact(
            uow, problem=dev, batch=code, conclusion="no_impact", reason="x", password="wrong!!"
        )
    for conclusion, reason, field in (("maybe", "x", "conclusion"), ("impact", " ", "reason")):
        with pytest.raises(InvalidInputError) as caught:
            assess(network, dev, code, conclusion, reason)
        assert caught.value.field == field
    assert counts(network) == before


def test_investigation_closure_names_its_fields(network: Network) -> None:
    code = make_batch(network).batch_code
    (oos,) = enter(network, code, {"vcn": ("9.0", "copies/cell")}).investigations
    for outcome, conclusion, field in (("maybe", "x", "outcome"), ("confirmed", " ", "conclusion")):
        with pytest.raises(InvalidInputError) as caught:
            close_oos(network, oos.code, outcome, conclusion)
        assert caught.value.field == field
    with (
        pytest.raises(PermissionDeniedError, match=r"investigation\.close"),
        network.db.unit_of_work(network.actor("qc_analyst")) as uow,
    ):
        close_investigation(uow, oos.code, outcome="confirmed", conclusion="x", password=PASSWORD)
    with network.db.read() as s:
        assert s.scalars(select(Investigation.status)).all() == ["open"]


# ---------------------------------------------------------------- second-person review


def test_a_qc_analyst_cannot_review_results_they_entered(network: Network) -> None:
    code = make_batch(network).batch_code
    rows = [ResultRow(code, a, v, u) for a, (v, u) in PASSING.items()]
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        enter_results(uow, rows, spec=SPEC)
    before = counts(network), status(network, code)
    with pytest.raises(TransitionRefusedError) as caught:
        review_as(network, code)
    assert caught.value.reasons == (
        "you entered results of this batch; another person must review them",
    )
    assert (counts(network), status(network, code)) == before
    with network.db.read() as s:
        assert s.scalars(select(AssayResult.reviewed_by_id).distinct()).all() == [None]
    review_as(network, code, role="qa_reviewer")  # a second person reviews
    assert status(network, code) is BatchStatus.quarantine


def test_an_excursion_that_grows_after_the_assessment_is_assessed_again(
    network: Network,
) -> None:
    code = make_batch(network).batch_code
    dev = process_signal(network, code, "DO below the lower limit")
    reviewed_lot(network, code)
    assess(network, dev, code, "no_impact", "DO dip of 2 h within the validated range")
    # Monitoring widens the still-open excursion's window (as process.monitor does).
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        row = uow.session.scalars(select(Deviation).where(Deviation.code == dev)).one()
        uow.change(row, window_end=AT, reason="excursion continues")
    assert f"deviation {dev} (major, process_signal) changed after QA assessed it" in refused(
        network, code, "released"
    )
    assess(network, dev, code, "no_impact", "DO dip of 9 h: potency and viability in spec")
    decide_as(network, code, "released")


def test_deviation_rows_stay_as_opened(network: Network) -> None:
    """Assessing and linking write rows of their own; the deviation itself is untouched."""
    code = make_batch(network).batch_code
    dev = process_signal(network, code, "DO excursion to 22 %")
    with network.db.read() as s:
        before = s.scalars(select(Deviation).where(Deviation.code == dev)).one().status
    assess(network, dev, code, "no_impact")
    with network.db.read() as s:
        after = s.scalars(select(Deviation).where(Deviation.code == dev)).one().status
    assert before == after == "open"

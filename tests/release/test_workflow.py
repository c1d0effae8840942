"""The lot-release workflow on a real database: results, OOS, review, disposition, escalation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from vein2vein.errors import (
    InvalidInputError,
    PermissionDeniedError,
    RecordConflictError,
    RecordNotFoundError,
    SignatureError,
    TransitionRefusedError,
)
from vein2vein.identity import start_batch
from vein2vein.records import (
    AssayResult,
    AuditEntry,
    Batch,
    BatchStatus,
    Deviation,
    Disposition,
    Evaluation,
    Investigation,
    Notification,
    Role,
    Signature,
    Site,
    User,
)
from vein2vein.release import (
    EntryOutcome,
    ResultRow,
    current_results,
    decide,
    enter_results,
    read_release_csv,
    results_sha256,
    review,
)
from vein2vein.specs import Outcome, shipped_spec
from vein2vein.testing import (
    PASSING_RELEASE,
    PASSWORD,
    Network,
    accept_donations,
    make_batch,
    make_donation,
)

SPEC = shipped_spec("anti-cd19-cart-release")

PASSING = PASSING_RELEASE
VCN_OOS = "vector copy number (per transduced cell) 6.2 copies/cell > 5 copies/cell"
JUSTIFICATION = "rapidly progressing disease; rapid sterility negative; physician informed"


# ---------------------------------------------------------------- fixtures and helpers


def enter(
    net: Network,
    batch: str,
    changes: dict[str, tuple[str, str | None]] | None = None,
    *,
    only: dict[str, tuple[str, str | None]] | None = None,
    role: str = "operator",
) -> EntryOutcome:
    """Enter the passing set with ``changes`` (or exactly ``only``) for ``batch``."""
    values = only if only is not None else {**PASSING, **(changes or {})}
    rows = [ResultRow(batch, analyte, value, unit) for analyte, (value, unit) in values.items()]
    with net.db.unit_of_work(net.actor(role)) as uow:
        return enter_results(uow, rows, spec=SPEC)


def set_dose(net: Network, batch: str, weight_kg: float = 20.0, volume_ml: float = 68.0) -> None:
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        uow.change(uow.get(Batch, batch), patient_weight_kg=weight_kg, dose_volume_ml=volume_ml)


def review_as(
    net: Network, batch: str, *, role: str = "qc_analyst", password: str = PASSWORD
) -> tuple[Evaluation, Any]:
    with net.db.unit_of_work(net.actor(role)) as uow:
        return review(uow, batch=batch, spec=SPEC, password=password)


def decide_as(
    net: Network,
    batch: str,
    disposition: str,
    *,
    justification: str | None = None,
    role: str = "qa_reviewer",
    password: str = PASSWORD,
) -> Disposition:
    with net.db.unit_of_work(net.actor(role)) as uow:
        return decide(
            uow,
            batch=batch,
            disposition=disposition,
            password=password,
            justification=justification,
        )


def refused(net: Network, batch: str, disposition: str, **kwargs: Any) -> str:
    """Decide, expect a refusal that changes nothing, and return its message."""
    before = counts(net), status(net, batch)
    with pytest.raises(TransitionRefusedError) as info:
        decide_as(net, batch, disposition, **kwargs)
    assert (counts(net), status(net, batch)) == before
    return str(info.value)


def ready(net: Network, **changes: tuple[str, str | None]) -> str:
    """A batch with every result entered (by the operator) and its dose recorded."""
    code = make_batch(net).batch_code
    enter(net, code, changes)
    set_dose(net, code)
    return code


def status(net: Network, batch: str) -> BatchStatus:
    with net.db.read() as s:
        return s.scalars(select(Batch.status).where(Batch.batch_code == batch)).one()


def counts(net: Network) -> dict[str, int]:
    models = (AssayResult, Evaluation, Signature, Disposition, Investigation, AuditEntry)
    with net.db.read() as s:
        return {
            m.__name__: s.execute(select(func.count()).select_from(m)).scalar_one() for m in models
        }


def user_id(net: Network, role: str) -> int:
    uid = net.actor(role).user_id
    assert uid is not None
    return uid


# ---------------------------------------------------------------- results and OOS


def test_a_failing_result_opens_an_oos_investigation(network: Network) -> None:
    code = make_batch(network).batch_code
    first = enter(network, code, {"vcn": ("6.2", "copies/cell")})

    assert len(first.results) == len(PASSING)
    (oos,) = first.investigations
    vcn = next(r for r in first.results if r.analyte == "vcn")
    assert (oos.code, oos.analyte, oos.assay_result_id, oos.status) == (
        "OOS-000001",
        "vcn",
        vcn.id,
        "open",
    )
    assert oos.description == f"out of specification on {code}: {VCN_OOS}"
    assert first.deviations == [] and first.notifications == []

    second = enter(network, code, only={"viability": ("72", "%")})
    assert [i.code for i in second.investigations] == ["OOS-000002"]
    assert enter(network, code, only={"viability": ("91", "%")}).investigations == []

    with network.db.read() as s:
        stored = s.scalars(select(Investigation).order_by(Investigation.id)).all()
        assert [(i.code, i.analyte) for i in stored] == [
            ("OOS-000001", "vcn"),
            ("OOS-000002", "viability"),
        ]
        batch = s.scalars(select(Batch).where(Batch.batch_code == code)).one()
        assert {i.batch_id for i in stored} == {batch.id}
        assert s.get(AssayResult, stored[0].assay_result_id).value_text == "6.2"  # type: ignore[union-attr]


def test_an_unknown_analyte_is_refused_with_the_valid_ones(network: Network) -> None:
    code = make_batch(network).batch_code
    before = counts(network)
    with pytest.raises(InvalidInputError) as info:
        enter(network, code, only={"viability": ("92", "%"), "viabilty": ("92", "%")})
    assert info.value.field == "analyte"
    assert (
        "'viabilty' is not a test of specification anti-cd19-cart-release; one of: "
        + ", ".join(PASSING)
    ) in str(info.value)
    assert counts(network) == before


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "message"),
    [
        ("viability", "nan", "%", "'nan' is not a finite number"),
        ("viability", "inf", "%", "'inf' is not a finite number"),
        ("ifng_release", "1e400", "pg/mL", "'1e400' is not a finite number"),
        ("ifng_release", "1.2 x 10^400", "pg/mL", "is not a finite number"),
        ("viability", "150", "%", "150 % is not a possible percent"),
        ("viability", "150", None, "150 % is not a possible percent"),  # the item's unit
        ("car_expression", ">101", "%", "101 % is not a possible percent"),
        ("vcn", "-2", "copies/cell", "-2 is not a possible amount"),
    ],
)
def test_an_impossible_result_is_refused_and_nothing_stored(
    network: Network, analyte: str, value: str, unit: str | None, message: str
) -> None:
    code = make_batch(network).batch_code
    before = counts(network)

    with pytest.raises(InvalidInputError) as info:
        enter(network, code, {analyte: (value, unit)})

    assert info.value.field == "value"
    assert analyte in str(info.value) and message in str(info.value)
    assert counts(network) == before


def test_an_impossible_value_in_an_export_names_file_and_line(
    network: Network, tmp_path: Path
) -> None:
    code = make_batch(network).batch_code
    path = tmp_path / "export.csv"
    path.write_text(
        f"batch,analyte,value,unit\n{code},viability,91,%\n{code},vcn,NaN,copies/cell\n",
        encoding="utf-8",
    )
    before = counts(network)

    with (
        pytest.raises(InvalidInputError) as info,
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        enter_results(uow, read_release_csv(path), spec=SPEC, source=str(path))

    assert (info.value.file, info.value.field) == (str(path), "value")
    assert "line 3: vcn: 'NaN' is not a finite number" in str(info.value)
    assert counts(network) == before


def test_results_go_only_to_a_batch_that_exists_and_is_open(network: Network) -> None:
    with pytest.raises(RecordNotFoundError, match="no batch 'HUB-A-NOSUCHBATCH'"):
        enter(network, "HUB-A-NOSUCHBATCH", only={"viability": ("92", "%")})
    with pytest.raises(InvalidInputError, match="blank"):
        enter(network, make_batch(network).batch_code, only={"viability": (" ", "%")})
    with pytest.raises(PermissionDeniedError, match=r"result\.enter"):
        enter(
            network,
            make_batch(network).batch_code,
            only={"viability": ("92", "%")},
            role="qa_reviewer",
        )


RELEASE_HEADER = "batch,analyte,value,unit,method\n"


def test_an_instrument_export_is_imported_all_or_nothing(network: Network, tmp_path: Path) -> None:
    code = make_batch(network).batch_code
    good = "".join(f"{code},{a},{v},{u or ''},\n" for a, (v, u) in PASSING.items())
    before = counts(network)

    # Well formed, but line 4 names an analyte the specification does not have.
    path = tmp_path / "export.csv"
    path.write_text(RELEASE_HEADER + f"{code},viability,92,%,\n\n{code},cd19,1,%,\n" + good)
    rows = read_release_csv(path)
    with (
        pytest.raises(InvalidInputError) as info,
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        enter_results(uow, rows, spec=SPEC, source=str(path))
    assert (info.value.file, info.value.field) == (str(path), "analyte")
    assert "line 4: 'cd19' is not a test of specification anti-cd19-cart-release" in str(info.value)

    # Line 3 is for a batch that does not exist: found only while storing, after line 2.
    path.write_text(RELEASE_HEADER + f"{code},viability,92,%,\nHUB-A-NOPE,vcn,1,copies/cell,\n")
    with (
        pytest.raises(RecordNotFoundError) as missing,
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        enter_results(uow, read_release_csv(path), spec=SPEC, source=str(path))
    assert f"file {path}, line 3" in missing.value.__notes__
    assert counts(network) == before

    path.write_text(RELEASE_HEADER + good.replace("vcn,1.8", "vcn,6.2"))
    with network.db.unit_of_work(network.actor("operator")) as uow:
        outcome = enter_results(uow, read_release_csv(path), spec=SPEC, source=str(path))
    assert len(outcome.results) == len(PASSING)
    assert [i.analyte for i in outcome.investigations] == ["vcn"]


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("batch,analyte\nB,viability\n", "value", "line 1: the header lacks column(s) value"),
        (
            "batch,analyte,value,units\nB,viability,92,%\n",
            "units",
            "line 1: unknown column(s) 'units'",
        ),
        (
            "batch,analyte,value\nB,viability,92\n\nB,vcn,\n",
            "value",
            "line 4, column 'value': empty",
        ),
        ("batch,analyte,value\nB,viability,92\n,vcn,1\n", "batch", "line 3, column 'batch': empty"),
        ("batch,analyte,value,unit\nB,car_t_dose,1,000,cells\n", None, "line 2: 5 fields"),
        ("batch,analyte,value\n", None, "no result rows"),
    ],
)
def test_a_malformed_export_names_file_line_and_column(
    tmp_path: Path, text: str, field: str | None, message: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        read_release_csv(path)
    assert (info.value.file, info.value.field) == (str(path), field)
    assert message in str(info.value)


def test_export_columns_are_matched_without_regard_to_case(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "Batch,Analyte,Value,Unit,Sample,Stage\r\nB-1,endotoxin,<0.5,EU/mL,S-1,final_product\r\n"
    )
    (row,) = read_release_csv(path)
    assert row == ResultRow(
        "B-1", "endotoxin", "<0.5", "EU/mL", sample="S-1", stage="final_product", line=2
    )


# ---------------------------------------------------------------- review


def test_a_review_is_stored_signed_and_quarantines_the_batch(network: Network) -> None:
    code = ready(network)
    evaluation, decision = review_as(network, code)

    assert decision.outcome is Outcome.passed
    with network.db.read() as s:
        batch = s.scalars(select(Batch).where(Batch.batch_code == code)).one()
        assert batch.status is BatchStatus.quarantine
        ev = s.get(Evaluation, evaluation.id)
        assert ev is not None
        results = current_results(s, batch)
        assert ev.results_sha256 == results_sha256(
            results, {"patient_weight_kg": 20.0, "dose_volume_ml": 68.0}
        )
        assert (ev.subject_table, ev.subject_id, ev.purpose, ev.outcome) == (
            "batches",
            batch.id,
            "lot_release",
            "pass",
        )
        assert (ev.spec_id, ev.spec_sha256) == (SPEC.id, SPEC.sha256)
        assert {r.status for r in results} == {"reviewed"}
        assert {r.reviewed_by_id for r in results} == {user_id(network, "qc_analyst")}
        (sig,) = s.scalars(
            select(Signature).where(
                Signature.record_table == "evaluations", Signature.record_id == ev.id
            )
        ).all()
        assert (sig.user_id, sig.printed_name, sig.meaning) == (
            user_id(network, "qc_analyst"),
            "Quincy Analyst",
            "reviewed",
        )
        moved = s.scalars(
            select(AuditEntry).where(
                AuditEntry.record_table == "batches",
                AuditEntry.record_id == batch.id,
                AuditEntry.action == "state_change",
            )
        ).one()
        assert moved.changes["status"] == ["in_process", "quarantine"]
        assert moved.reason == "results reviewed"


def test_a_review_with_a_wrong_password_stores_nothing(network: Network) -> None:
    code = ready(network)
    before = counts(network)
    with pytest.raises(SignatureError, match="re-authentication failed"):
        review_as(network, code, password="not the password")
    assert counts(network) == before
    assert status(network, code) is BatchStatus.in_process
    with pytest.raises(PermissionDeniedError, match=r"result\.review"):
        review_as(network, code, role="operator")
    with pytest.raises(TransitionRefusedError, match="no results to review"):
        review_as(network, make_batch(network).batch_code)


def test_dose_context_makes_per_kg_limits_decidable(network: Network) -> None:
    code = make_batch(network).batch_code
    enter(
        network,
        code,
        {"car_t_dose": ("4.0e7", "cells"), "endotoxin": ("0.5", "EU/mL")},
    )

    _, blind = review_as(network, code)
    items = {i.analyte: i for i in blind.items}
    assert blind.outcome is Outcome.invalid
    assert items["car_t_dose"].outcome is Outcome.invalid
    assert items["car_t_dose"].reason == (
        "CAR+ viable T-cell dose: expressing cells as 10^6 cells/kg needs patient_weight_kg "
        "in the context"
    )
    assert items["endotoxin"].outcome is Outcome.invalid
    assert "needs dose_volume_ml and patient_weight_kg" in items["endotoxin"].reason
    refusal = refused(network, code, "released")
    assert "the specification is not met (invalid)" in refusal

    set_dose(network, code, weight_kg=20.0, volume_ml=68.0)
    assert "review them again" in refused(network, code, "released")  # the dose changed
    _, judged = review_as(network, code)
    items = {i.analyte: i for i in judged.items}
    assert judged.outcome is Outcome.passed
    assert items["car_t_dose"].reason == (
        "CAR+ viable T-cell dose 4.0e7 cells (÷ 20 kg = 2 × 10⁶ cells/kg) "
        "within 0.2–5 × 10⁶ cells/kg"
    )
    assert (
        items["endotoxin"].reason == "endotoxin 0.5 EU/mL (× 68 mL ÷ 20 kg = 1.7 EU/kg) ≤ 5 EU/kg"
    )
    assert items["endotoxin"].basis == "0.5 EU/mL × 68 mL ÷ 20 kg = 1.7 EU/kg"
    assert items["viability"].basis is None  # reported in the criterion's unit

    # A heavier dose per kg after the review: the review no longer stands.
    set_dose(network, code, weight_kg=5.0, volume_ml=68.0)
    assert "results were entered after the review; review them again" in refused(
        network, code, "released"
    )
    _, heavy = review_as(network, code)
    assert heavy.outcome is Outcome.failed
    assert (
        "CAR+ viable T-cell dose 4.0e7 cells (÷ 5 kg = 8 × 10⁶ cells/kg) outside"
        in heavy.reasons[1]
    )


# ---------------------------------------------------------------- disposition


def test_release_is_signed_by_qa_after_re_authentication(network: Network) -> None:
    code = ready(network)
    review_as(network, code)

    before = counts(network)
    with pytest.raises(SignatureError, match="re-authentication failed for 'qa-reviewer'"):
        decide_as(network, code, "released", password="qa-guess-123")
    assert counts(network) == before
    assert status(network, code) is BatchStatus.quarantine

    for role in ("qc_analyst", "operator"):
        with pytest.raises(PermissionDeniedError, match=r"lot\.disposition"):
            decide_as(network, code, "released", role=role)
    with pytest.raises(InvalidInputError, match="unknown disposition 'approved'"):
        decide_as(network, code, "approved")
    assert counts(network) == before

    record = decide_as(network, code, "released")
    assert status(network, code) is BatchStatus.released
    with network.db.read() as s:
        stored = s.get(Disposition, record.id)
        assert stored is not None
        assert (stored.disposition, stored.decided_by_id, stored.justification) == (
            "released",
            user_id(network, "qa_reviewer"),
            None,
        )
        (sig,) = s.scalars(
            select(Signature).where(
                Signature.record_table == "dispositions", Signature.record_id == record.id
            )
        ).all()
        assert (sig.printed_name, sig.meaning) == ("Quinn Reviewer", "released")
        last = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.record_table == "batches", AuditEntry.action == "state_change")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert last is not None
        assert last.changes["status"] == ["quarantine", "released"]
        assert last.reason == "released: specification met"
        assert last.username == "qa-reviewer"
    assert "the batch is released" in refused(network, code, "released")


def test_who_entered_or_reviewed_results_cannot_decide(network: Network) -> None:
    code = make_batch(network).batch_code
    enter(network, code, role="qc_analyst")  # Quincy enters...
    set_dose(network, code)
    review_as(network, code, role="qa_reviewer")  # ...Quinn reviews...
    with network.db.unit_of_work(network.actor("admin")) as uow:  # ...Quincy moves to QA.
        quincy = uow.get(User, "qc-analyst")
        uow.change(quincy, role=Role.qa_reviewer, reason="moved to quality assurance")

    message = refused(network, code, "released")  # Quinn
    assert "you reviewed the results of this batch; another person must decide the lot" in message
    assert "segregation" not in message  # only what refuses it is listed
    with (
        pytest.raises(TransitionRefusedError) as info,
        network.db.unit_of_work(network.db.actor("qc-analyst")) as uow,
    ):
        decide(uow, batch=code, disposition="released", password=PASSWORD)
    assert info.value.reasons == (
        "you entered results of this batch; another person must decide the lot",
    )
    with pytest.raises(TransitionRefusedError, match="you reviewed the results"):
        decide_as(network, code, "rejected", justification="no second QA available")
    assert status(network, code) is BatchStatus.quarantine


def test_release_needs_a_passing_current_review(network: Network) -> None:
    code = ready(network)
    assert "have not been reviewed" in refused(network, code, "released")

    review_as(network, code)
    enter(network, code, only={"viability": ("90", "%")})  # a retest after the review
    assert "results were entered after the review; review them again" in refused(
        network, code, "released"
    )
    review_as(network, code)
    decide_as(network, code, "released")
    assert status(network, code) is BatchStatus.released


def test_a_failing_lot_is_not_released_and_is_rejected_with_a_reason(network: Network) -> None:
    code = ready(network, vcn=("6.2", "copies/cell"))
    review_as(network, code)
    message = refused(network, code, "released")
    assert f"the specification is not met (fail): {VCN_OOS}" in message
    assert VCN_OOS in refused(network, code, "released_at_risk", justification=JUSTIFICATION)
    assert "a rejection needs a reason" in refused(network, code, "rejected", justification=" ")

    record = decide_as(network, code, "rejected", justification="VCN OOS confirmed")
    assert status(network, code) is BatchStatus.rejected
    with network.db.read() as s:
        assert (
            s.scalars(
                select(Signature.meaning).where(
                    Signature.record_table == "dispositions", Signature.record_id == record.id
                )
            ).one()
            == "approved"
        )
    with pytest.raises(RecordConflictError, match="no more results can be entered"):
        enter(network, code, only={"vcn": ("4.0", "copies/cell")})


def test_release_at_risk_only_on_the_conditional_test_and_with_a_justification(
    network: Network,
) -> None:
    code = ready(network, sterility_14d=("pending", None))
    _, decision = review_as(network, code)
    assert decision.outcome is Outcome.pending and decision.only_conditional_pending

    assert "the specification is not met (pending): sterility (14-day) pending" in refused(
        network, code, "released"
    )
    assert "a release at risk needs a documented justification" in refused(
        network, code, "released_at_risk"
    )
    record = decide_as(network, code, "released_at_risk", justification=JUSTIFICATION)
    assert status(network, code) is BatchStatus.released_at_risk
    assert record.justification == JUSTIFICATION

    other = ready(network, sterility_14d=("pending", None), mycoplasma=("pending", None))
    review_as(network, other)
    assert (
        "only conditional tests may be pending at release at risk; pending: mycoplasma"
        in refused(network, other, "released_at_risk", justification=JUSTIFICATION)
    )
    complete = ready(network)
    review_as(network, complete)
    assert "every result is in; release the lot normally" in refused(
        network, complete, "released_at_risk", justification=JUSTIFICATION
    )


# ---------------------------------------------------------------- escalation


def _released_at_risk_elsewhere(net: Network) -> tuple[str, int]:
    """A lot made at HUB-B for a patient treated at HUB-A, released at risk."""
    donation = make_donation(net, site="HUB-A")
    accept_donations(net, donation.din)
    with net.db.unit_of_work(net.actor("operator")) as uow:
        code = start_batch(
            uow,
            din=donation.din,
            site="HUB-B",
            product="anti-CD19 CAR-T",
            started_at=datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
        ).batch_code
        hub_a = uow.get(Site, "HUB-A").id
    enter(net, code, {"sterility_14d": ("pending", None)})
    set_dose(net, code)
    review_as(net, code)
    decide_as(net, code, "released_at_risk", justification=JUSTIFICATION)
    return code, hub_a


@pytest.mark.parametrize("value", ["positive", "growth"])
def test_a_positive_final_sterility_after_release_at_risk_escalates(
    network: Network, value: str
) -> None:
    code, treating_site = _released_at_risk_elsewhere(network)

    outcome = enter(network, code, only={"sterility_14d": (value, None)})

    reason = f"sterility (14-day) {value}; required: negative"
    (oos,) = outcome.investigations
    assert (oos.code, oos.analyte) == ("OOS-000001", "sterility_14d")
    (deviation,) = outcome.deviations
    assert (deviation.category, deviation.severity, deviation.status) == (
        "post_release_oos",
        "critical",
        "open",
    )
    assert deviation.description == (
        f"{code} was released at risk and its final result fails: {reason}"
    )
    (notice,) = outcome.notifications
    assert notice.site_id == treating_site
    assert notice.subject == f"URGENT: {code} released at risk fails its final test"
    assert reason in notice.body
    with network.db.read() as s:
        batch = s.scalars(select(Batch).where(Batch.batch_code == code)).one()
        assert batch.site_id != treating_site  # made at HUB-B, the notice goes to HUB-A
        assert s.scalars(select(Deviation.batch_id)).all() == [batch.id]
        assert s.scalars(select(Notification.site_id)).all() == [treating_site]
        assert s.get(Investigation, oos.id).assay_result_id == outcome.results[0].id  # type: ignore[union-attr]

    review_as(network, code)
    assert "sterility (14-day) " + value in refused(network, code, "released")
    assert status(network, code) is BatchStatus.released_at_risk


def test_a_negative_final_sterility_lets_qa_confirm_the_release(network: Network) -> None:
    code, _ = _released_at_risk_elsewhere(network)

    outcome = enter(network, code, only={"sterility_14d": ("negative", None)})
    assert (outcome.investigations, outcome.deviations, outcome.notifications) == ([], [], [])
    assert "review them again" in refused(network, code, "released")

    _, decision = review_as(network, code)
    assert decision.outcome is Outcome.passed
    decide_as(network, code, "released")
    assert status(network, code) is BatchStatus.released
    with network.db.read() as s:
        assert s.scalars(select(Disposition.disposition).order_by(Disposition.id)).all() == [
            "released_at_risk",
            "released",
        ]
        assert s.execute(select(func.count()).select_from(Deviation)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Notification)).scalar_one() == 0

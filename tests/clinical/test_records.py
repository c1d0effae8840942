"""Clinical follow-up records: infusion, toxicity, response, kinetics, the patient table."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select

from vein2vein.clinical import (
    CRSObservation,
    ICANSObservation,
    MRDResult,
    grade_crs,
    nca,
    patient_table,
    record_infusion,
    record_kinetics,
    record_response,
    record_toxicity,
)
from vein2vein.errors import InvalidInputError, PermissionDeniedError, RecordConflictError
from vein2vein.records import (
    CLOCK_SKEW,
    AssayResult,
    AuditEntry,
    Batch,
    BatchStatus,
    Disposition,
    Infusion,
    KineticsSample,
    ResponseAssessment,
    Sample,
    ToxicityAssessment,
    audit,
)
from vein2vein.testing import Network, make_batch

INFUSED_AT = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
RELEASED_AT = datetime(2026, 2, 9, 16, 0, tzinfo=UTC)
FEVER = CRSObservation(temperature_c=38.6, hypotension=False, oxygen="none", fever_treated=False)
_CALM = {
    "consciousness": "awake",
    "seizure": "none",
    "motor_weakness": "none",
    "cerebral_edema": "none",
}
HYPOTENSION = CRSObservation(
    temperature_c=39.0, hypotension=True, oxygen="none", fever_treated=False
)


def _lot(
    net: Network,
    *,
    status: BatchStatus = BatchStatus.released,
    weight: float | None = None,
    cqas: dict[str, float] | None = None,
) -> tuple[str, str]:
    """A batch put in ``status`` by QA (with release results ``cqas``): (batch, patient)."""
    batch = make_batch(net)
    with net.db.unit_of_work(net.actor("operator")) as uow:
        sample = uow.add(
            Sample(
                sample_code=f"{batch.batch_code}-FP",
                batch_id=batch.id,
                stage="final_product",
                collected_at=batch.started_at + timedelta(days=9),
            )
        )
        for analyte, value in (cqas or {}).items():
            uow.add(
                AssayResult(
                    sample_id=sample.id,
                    analyte=analyte,
                    value_text=str(value),
                    value=value,
                    unit="%",
                    entered_by_id=net.actor("operator").user_id,
                )
            )
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        lot = uow.get(Batch, batch.batch_code)
        uow.change(lot, status=status, patient_weight_kg=weight, reason="test: disposition")
        if status in (BatchStatus.released, BatchStatus.released_at_risk):
            uow.add(
                Disposition(
                    batch_id=lot.id,
                    disposition=status.value,
                    decided_by_id=net.actor("qa_reviewer").user_id,
                    decided_at=RELEASED_AT,
                )
            )
        return lot.batch_code, lot.patient.patient_code


def _infuse(
    net: Network,
    batch: str,
    *,
    indication: str = "LBCL",
    patient: str | None = None,
    at: datetime = INFUSED_AT,
) -> Infusion:
    with net.db.unit_of_work(net.actor("clinician")) as uow:
        return record_infusion(
            uow,
            batch=batch,
            patient=patient or uow.get(Batch, batch).patient.patient_code,
            infused_at=at,
            dose_cells=1.4e8,
            indication=indication,
        )


def _count(net: Network, model: type) -> int:
    with net.db.read() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_each_record_is_audited_and_the_batch_becomes_infused(network: Network) -> None:
    batch, patient = _lot(network, weight=70.0)
    infusion = _infuse(network, batch)
    assert infusion.dose_per_kg == pytest.approx(2e6)
    assert infusion.infused_at == INFUSED_AT
    with network.db.unit_of_work(network.actor("clinician")) as uow:
        tox = record_toxicity(uow, patient=patient, kind="crs", day=1, observation=FEVER)
        resp = record_response(
            uow, patient=patient, day=28, criteria="lugano", response="CR", reason="CMR"
        )
        n = record_kinetics(
            uow, patient=patient, days=[0, 7], values=[0.0, 900.0], unit="copies/ug", method="qpcr"
        )
    assert n == 2
    assert resp.assessed_on == INFUSED_AT + timedelta(days=28)
    with network.db.read() as session:
        lot = session.scalars(select(Batch).where(Batch.batch_code == batch)).one()
        assert lot.status is BatchStatus.infused
        assert infusion.din == lot.donation.din
        entries = session.scalars(select(AuditEntry)).all()
        tables = {(e.record_table, e.action) for e in entries}
        for table in ("infusions", "toxicity_assessments", "response_assessments"):
            assert (table, "create") in tables
        assert sum(e.record_table == "kinetics_samples" for e in entries) == 2
        change = [e for e in entries if e.record_table == "batches" and "status" in e.changes]
        assert change[-1].changes["status"] == ["released", "infused"]
        assert "infused into patient" in (change[-1].reason or "")
        assert tox.id and audit.verify(session).ok


def test_a_batch_in_quarantine_is_not_infused_and_nothing_is_stored(network: Network) -> None:
    batch, _ = _lot(network, status=BatchStatus.quarantine)
    n_audit = _count(network, AuditEntry)
    with pytest.raises(RecordConflictError, match="quarantine"):
        _infuse(network, batch)
    assert _count(network, Infusion) == 0
    assert _count(network, AuditEntry) == n_audit
    with network.db.read() as session:
        lot = session.scalars(select(Batch).where(Batch.batch_code == batch)).one()
        assert lot.status is BatchStatus.quarantine


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"patient": "PT-9999"}, "patient", "was made for patient PT-0001, not 'PT-9999'"),
        ({"at": RELEASED_AT - timedelta(hours=1)}, "infused_at", "before batch"),
        (
            {"at": datetime.now(UTC) + CLOCK_SKEW + timedelta(hours=1)},
            "infused_at",
            "in the future",
        ),
    ],
    ids=["another patient", "before the release", "in the future"],
)
def test_an_infusion_is_of_its_patient_after_the_release_and_not_ahead(
    network: Network, kwargs: dict, field: str, fragment: str
) -> None:
    batch, patient = _lot(network)
    assert patient == "PT-0001"
    n_audit = _count(network, AuditEntry)
    with pytest.raises(InvalidInputError, match=fragment) as caught:
        _infuse(network, batch, **kwargs)
    assert caught.value.field == field
    assert (_count(network, Infusion), _count(network, AuditEntry)) == (0, n_audit)
    _infuse(network, batch, at=RELEASED_AT)  # at the moment of release is allowed


def test_a_lot_released_without_a_signed_disposition_is_not_infused(network: Network) -> None:
    batch = make_batch(network)
    with network.db.unit_of_work(network.actor("qa_reviewer")) as uow:
        uow.change(uow.get(Batch, batch.batch_code), status=BatchStatus.released, reason="x")
    with pytest.raises(RecordConflictError, match="no signed release disposition"):
        _infuse(network, batch.batch_code)
    assert _count(network, Infusion) == 0


def test_an_infused_batch_is_not_infused_twice_and_only_clinicians_record(
    network: Network,
) -> None:
    batch, patient = _lot(network)
    _infuse(network, batch)
    with pytest.raises(RecordConflictError, match="infused"):
        _infuse(network, batch)
    with (
        network.db.unit_of_work(network.actor("operator")) as uow,
        pytest.raises(PermissionDeniedError),
    ):
        record_toxicity(uow, patient=patient, kind="crs", day=2, observation=FEVER)


def test_grades_are_computed_and_stored_with_the_observation(network: Network) -> None:
    batch, patient = _lot(network)
    _infuse(network, batch)
    icans = ICANSObservation(age_years=54, ice_score=5, **_CALM)
    with network.db.unit_of_work(network.actor("clinician")) as uow:
        record_toxicity(uow, patient=patient, kind="crs", day=1, observation=FEVER)
        record_toxicity(
            uow, patient=patient, kind="crs", day=2, observation=HYPOTENSION, tocilizumab=True
        )
        record_toxicity(uow, patient=patient, kind="icans", day=4, observation=icans, steroids=True)
    with network.db.read() as session:
        rows = session.scalars(select(ToxicityAssessment).order_by(ToxicityAssessment.id)).all()
    assert [(r.kind, r.day, r.grade) for r in rows] == [
        ("crs", 1, 1),
        ("crs", 2, grade_crs(HYPOTENSION)),
        ("icans", 4, 2),
    ]
    assert rows[1].grade == 2 and rows[1].tocilizumab and rows[2].steroids
    assert CRSObservation(**rows[1].observation) == HYPOTENSION


def test_toxicity_is_refused_without_infusion_or_with_a_wrong_observation(
    network: Network,
) -> None:
    batch, patient = _lot(network)
    with network.db.unit_of_work(network.actor("clinician")) as uow:
        with pytest.raises(InvalidInputError, match="no recorded infusion") as exc:
            record_toxicity(uow, patient=patient, kind="crs", day=1, observation=FEVER)
        assert exc.value.field == "patient"
    _infuse(network, batch)
    with network.db.unit_of_work(network.actor("clinician")) as uow:
        with pytest.raises(InvalidInputError) as exc:
            record_toxicity(uow, patient=patient, kind="icans", day=1, observation=FEVER)
        assert exc.value.field == "observation"
        record_toxicity(uow, patient=patient, kind="crs", day=1, observation=FEVER)
    with (
        pytest.raises(RecordConflictError),
        network.db.unit_of_work(network.actor("clinician")) as uow,
    ):
        record_toxicity(uow, patient=patient, kind="crs", day=1, observation=FEVER)
    assert _count(network, ToxicityAssessment) == 1


def test_mrd_is_stored_with_its_sensitivity_and_refused_without(network: Network) -> None:
    batch, patient = _lot(network)
    _infuse(network, batch, indication="MM")
    mrd = MRDResult(tested_on=date(2026, 5, 11), method="ngs", result="negative", sensitivity=1e-5)
    with network.db.unit_of_work(network.actor("clinician")) as uow:
        stored = record_response(
            uow, patient=patient, day=90, criteria="imwg", response="sCR", mrd=mrd
        )
    assert (stored.mrd_result, stored.mrd_sensitivity, stored.mrd_method) == (
        "negative",
        1e-5,
        "ngs",
    )
    with pytest.raises(InvalidInputError):
        MRDResult(tested_on=date(2026, 5, 11), method="ngs", result="negative")  # type: ignore[call-arg]
    unsized = MRDResult.model_construct(
        tested_on=date(2026, 5, 11), method="ngf", result="negative"
    )
    with network.db.unit_of_work(network.actor("clinician")) as uow:
        with pytest.raises(InvalidInputError, match="sensitivity") as exc:
            record_response(
                uow, patient=patient, day=120, criteria="imwg", response="CR", mrd=unsized
            )
        assert exc.value.field == "mrd"
        with pytest.raises(InvalidInputError) as exc:
            record_response(uow, patient=patient, day=120, criteria="lugano", response="VGPR")
        assert exc.value.field == "response"
    assert _count(network, ResponseAssessment) == 1


def _responses(net: Network, patient: str, calls: list[tuple[int, str]]) -> None:
    with net.db.unit_of_work(net.actor("clinician")) as uow:
        for day, call in calls:
            record_response(uow, patient=patient, day=day, criteria="lugano", response=call)


def test_patient_table_on_three_patients(network: Network) -> None:
    b1, p1 = _lot(network, weight=70.0, cqas={"viability": 92.0, "car_expression": 41.0})
    b2, p2 = _lot(network, cqas={"viability": 85.0, "car_expression": 22.0})
    b3, p3 = _lot(network)
    for b in (b1, b2, b3):
        _infuse(network, b)
    with network.db.unit_of_work(network.actor("clinician")) as uow:
        record_toxicity(uow, patient=p1, kind="crs", day=1, observation=FEVER)
        record_toxicity(uow, patient=p1, kind="crs", day=2, observation=HYPOTENSION)
        record_toxicity(
            uow,
            patient=p1,
            kind="icans",
            day=3,
            observation=ICANSObservation(age_years=60, ice_score=10, **_CALM),
        )
        record_toxicity(uow, patient=p2, kind="crs", day=1, observation=FEVER)
        record_kinetics(
            uow,
            patient=p1,
            days=[0, 7, 14, 28],
            values=[10.0, 1000.0, 500.0, 100.0],
            unit="copies/ug",
            method="qpcr",
            lloq=50.0,
        )
        record_kinetics(
            uow, patient=p2, days=[0, 7], values=[0.0, 300.0], unit="copies/ug", method="qpcr"
        )
        record_kinetics(uow, patient=p3, days=[7], values=[55.0], unit="cells/uL", method="flow")
    _responses(network, p1, [(28, "PR"), (90, "CR"), (180, "CR")])
    _responses(network, p2, [(28, "SD"), (60, "PD")])
    _responses(network, p3, [(28, "PR"), (90, "PD"), (120, "CR")])  # CR after PD ignored

    with network.db.read() as session:
        table = patient_table(session)
    assert list(table.columns) == [
        "patient_id",
        "batch",
        "site",
        "indication",
        "dose_per_kg",
        "car_expression",
        "viability",
        "max_crs",
        "max_icans",
        "cmax",
        "auc0_28",
        "best_response",
        "responder",
        "pfs_time",
        "pfs_event",
        "dor_time",
        "dor_event",
    ]
    t = table.set_index("patient_id")
    assert list(t.index) == sorted([p1, p2, p3])
    assert t.loc[p1, "batch"] == b1 and t.loc[p1, "site"] == "HUB-A"
    assert t.loc[p1, "dose_per_kg"] == pytest.approx(1.4e8 / 70)
    assert math.isnan(t.loc[p2, "dose_per_kg"])
    assert t.loc[p1, "viability"] == 92.0 and t.loc[p2, "car_expression"] == 22.0
    assert math.isnan(t.loc[p3, "viability"])
    assert (t.loc[p1, "max_crs"], t.loc[p1, "max_icans"]) == (2, 0)
    assert t.loc[p2, "max_crs"] == 1 and math.isnan(t.loc[p2, "max_icans"])
    assert math.isnan(t.loc[p3, "max_crs"])
    # p1: the day-0 sample is below the LLOQ (10 < 50) and enters as BLQ.
    expected = nca([0, 7, 14, 28], [0.0, 1000.0, 500.0, 100.0], unit="copies/ug")
    assert t.loc[p1, "cmax"] == 1000.0
    assert t.loc[p1, "auc0_28"] == pytest.approx(expected.auc_lin_log)
    assert t.loc[p2, "cmax"] == 300.0 and math.isnan(t.loc[p2, "auc0_28"])  # stops at day 7
    assert math.isnan(t.loc[p3, "cmax"])  # flow only
    outcomes = t[["best_response", "responder", "pfs_time", "pfs_event", "dor_time", "dor_event"]]
    expected_outcomes = pd.DataFrame(
        {
            "best_response": ["CR", "SD", "PR"],
            "responder": [1.0, 0.0, 1.0],
            "pfs_time": [180.0, 60.0, 90.0],
            "pfs_event": [0.0, 1.0, 1.0],
            "dor_time": [152.0, math.nan, 62.0],
            "dor_event": [0.0, math.nan, 1.0],
        },
        index=pd.Index([p1, p2, p3], name="patient_id"),
    )
    pd.testing.assert_frame_equal(
        outcomes.sort_index().astype({"best_response": object}),
        expected_outcomes.sort_index(),
        check_dtype=False,
    )


def test_patient_table_of_an_empty_record_has_the_columns(network: Network) -> None:
    with network.db.read() as session:
        table = patient_table(session)
    assert table.empty
    assert {"patient_id", "max_crs", "pfs_time", "dor_event"} <= set(table.columns)


def test_kinetics_flags_values_below_the_lloq(network: Network) -> None:
    batch, patient = _lot(network)
    _infuse(network, batch)
    with network.db.unit_of_work(network.actor("clinician")) as uow:
        with pytest.raises(InvalidInputError) as exc:
            record_kinetics(
                uow, patient=patient, days=[0, 0], values=[1, 2], unit="copies/ug", method="qpcr"
            )
        assert exc.value.field == "days"
        record_kinetics(
            uow,
            patient=patient,
            days=[0, 7, 14],
            values=[0.0, 40.0, 60.0],
            unit="copies/ug",
            method="qpcr",
            lloq=50,
        )
    with network.db.read() as session:
        flags = session.scalars(select(KineticsSample.below_lloq).order_by(KineticsSample.day))
        assert list(flags) == [True, True, False]

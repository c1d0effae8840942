"""In vivo lots and dosings: release through the spec engine, dosing, clinical follow-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from vein2vein import identity
from vein2vein.clinical import (
    CRSObservation,
    record_kinetics,
    record_response,
    record_toxicity,
)
from vein2vein.errors import InvalidInputError, PermissionDeniedError, RecordConflictError
from vein2vein.invivo import (
    dosing_table,
    record_dosing,
    register_invivo_lot,
    release_invivo_lot,
)
from vein2vein.records import (
    AuditEntry,
    Evaluation,
    InvivoDosing,
    InvivoLot,
    ResponseAssessment,
    audit,
    signatures_of,
)
from vein2vein.testing import PASSWORD, Network

MADE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DOSED = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
PASSING = {
    "functional_titer": "2.1e8",
    "infectious_physical_ratio": "0.01",
    "potency": "24",
    "particle_size": "120",
    "endotoxin": "<0.5",
    "sterility": "negative",
    "mycoplasma": "not detected",
    "rcl": "not detected",
}


def _lot(net: Network, code: str = "LV-001", results: dict[str, str] | None = None) -> str:
    with net.db.unit_of_work(net.actor("operator")) as uow:
        register_invivo_lot(
            uow,
            lot_code=code,
            product="anti-CD19 CAR lentiviral vector",
            platform="lentiviral",
            titre=2.1e8,
            titre_unit="TU/mL",
            site="HUB-A",
            manufactured_at=MADE,
        )
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        release_invivo_lot(uow, lot=code, results=results or PASSING, password=PASSWORD)
    return code


def _patient(net: Network, code: str = "IV-001") -> str:
    with net.db.unit_of_work(net.actor("clinician")) as uow:
        identity.register_patient(uow, patient_code=code, treating_site="HUB-A")
    return code


def _dose(net: Network, patient: str, lot: str, **kw: object) -> InvivoDosing:
    args: dict[str, object] = {
        "dosed_at": DOSED,
        "dose": 1e7,
        "dose_unit": "TU/kg",
        "lymphodepletion": False,
        "indication": "LBCL",
        "dose_level": 2,
        "baseline_cd3": 850.0,
        "anti_vector_titre": 20.0,
    } | kw
    with net.db.unit_of_work(net.actor("clinician")) as uow:
        return record_dosing(uow, patient=patient, lot=lot, **args)  # type: ignore[arg-type]


def test_lot_is_released_through_the_spec_engine_and_signed(network: Network) -> None:
    code = _lot(network)
    with network.db.read() as session:
        lot = session.scalars(select(InvivoLot).where(InvivoLot.lot_code == code)).one()
        assert lot.status == "released"
        evaluation = session.scalars(
            select(Evaluation).where(
                Evaluation.subject_table == "invivo_lots", Evaluation.subject_id == lot.id
            )
        ).one()
        assert evaluation.spec_id == "invivo-vector-lot-release"
        assert evaluation.outcome == "pass"
        signed = signatures_of(session, evaluation)
        assert [s.meaning for s in signed] == ["released"]
        assert all(s.valid for s in signed)
        assert audit.verify(session).ok


def test_failing_lot_is_rejected_and_cannot_dose(network: Network) -> None:
    code = _lot(network, "LV-BAD", PASSING | {"rcl": "detected"})
    patient = _patient(network)
    with network.db.read() as session:
        lot = session.scalars(select(InvivoLot).where(InvivoLot.lot_code == code)).one()
        assert lot.status == "rejected"
    with pytest.raises(RecordConflictError, match="only a released lot may dose"):
        _dose(network, patient, code)


def test_dosing_is_recorded_audited_and_tabulated(network: Network) -> None:
    lot, patient = _lot(network), _patient(network)
    dosing = _dose(network, patient, lot, lymphodepletion=True, weight_kg=70.0)
    with network.db.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.record_table == "invivo_dosings", AuditEntry.record_id == dosing.id
            )
        ).all()
        assert [e.action for e in entries] == ["create"]
        assert entries[0].username == "clinician"
        table = dosing_table(session)
    assert table.loc[0, "patient_id"] == patient
    assert table.loc[0, "lot"] == lot
    assert table.loc[0, "platform"] == "lentiviral"
    assert table.loc[0, "dose"] == 1e7
    assert bool(table.loc[0, "lymphodepletion"]) is True
    assert table.loc[0, "anti_vector_titre"] == 20.0


def test_clinical_follow_up_counts_from_the_in_vivo_dose(network: Network) -> None:
    lot, patient = _lot(network), _patient(network)
    _dose(network, patient, lot)
    fever = CRSObservation(
        temperature_c=38.6, hypotension=False, oxygen="none", fever_treated=False
    )
    with network.db.unit_of_work(network.actor("clinician")) as uow:
        assert (
            record_toxicity(uow, patient=patient, kind="crs", day=3, observation=fever).grade == 1
        )
        record_kinetics(
            uow, patient=patient, days=[7, 14], values=[5.0, 40.0], unit="cells/uL", method="flow"
        )
        record_response(uow, patient=patient, day=28, criteria="lugano", response="CR")
    with network.db.read() as session:
        response = session.scalars(select(ResponseAssessment)).one()
        assert response.assessed_on == DOSED + timedelta(days=28)


def test_permissions_and_bad_input(network: Network) -> None:
    with (
        network.db.unit_of_work(network.actor("clinician")) as uow,
        pytest.raises(PermissionDeniedError),
    ):
        register_invivo_lot(
            uow,
            lot_code="X",
            product="p",
            platform="lentiviral",
            titre=1.0,
            titre_unit="TU/mL",
            site="HUB-A",
            manufactured_at=MADE,
        )
    with (
        network.db.unit_of_work(network.actor("operator")) as uow,
        pytest.raises(InvalidInputError, match="platform"),
    ):
        register_invivo_lot(
            uow,
            lot_code="X",
            product="p",
            platform="aav",
            titre=1.0,
            titre_unit="TU/mL",
            site="HUB-A",
            manufactured_at=MADE,
        )
    lot, patient = _lot(network), _patient(network)
    with pytest.raises(InvalidInputError, match="dose unit"):
        _dose(network, patient, lot, dose_unit="cells")
    with pytest.raises(InvalidInputError, match="dose"):
        _dose(network, patient, lot, dose=-1.0)
    with (
        network.db.unit_of_work(network.actor("operator")) as uow,
        pytest.raises(PermissionDeniedError),
    ):
        release_invivo_lot(uow, lot=lot, results=PASSING, password=PASSWORD)
    with network.db.read() as session:
        assert session.scalars(select(InvivoDosing)).all() == []  # nothing half-written

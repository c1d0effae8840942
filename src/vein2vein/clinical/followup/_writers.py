"""Clinical follow-up in the system of record: infusion, toxicity, response, kinetics.

Writers take a :class:`~vein2vein.records.UnitOfWork` whose actor is a clinician
(permission ``clinical.record``); every record is audited.
:func:`~vein2vein.clinical.patient_table` reads them back.

Days are counted from the infusion (day 0). A patient's follow-up hangs on the
patient's first infusion.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InvalidInputError, RecordConflictError
from ...records import (
    CLOCK_SKEW,
    Batch,
    BatchStatus,
    Disposition,
    Infusion,
    InvivoDosing,
    KineticsSample,
    Patient,
    ResponseAssessment,
    ToxicityAssessment,
    UnitOfWork,
    require,
)
from ...records._types import utcnow
from ...support import check_quantity
from ..grading._crs import CRSObservation, grade_crs
from ..grading._icans import ICANSObservation, grade_icans
from ..response._imwg import MRDResult

__all__ = [
    "RESPONSE_CATEGORIES",
    "record_infusion",
    "record_kinetics",
    "record_response",
    "record_toxicity",
]

#: The response categories each criteria set may record.
RESPONSE_CATEGORIES: Final[dict[str, tuple[str, ...]]] = {
    "lugano": ("CR", "PR", "SD", "PD"),
    "imwg": ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD"),
    "iwcll": ("CR", "PR", "SD", "PD"),
}

_INFUSIBLE: Final = (BatchStatus.released, BatchStatus.released_at_risk)


def _first_infusion(session: Session, patient: Patient) -> Infusion | None:
    return session.scalars(
        select(Infusion)
        .where(Infusion.patient_id == patient.id)
        .order_by(Infusion.infused_at, Infusion.id)
    ).first()


def _infused_patient(uow: UnitOfWork, code: str) -> tuple[Patient, datetime]:
    """The patient and day 0: the first infusion, else the first in vivo dosing."""
    patient = uow.get(Patient, code)
    infusion = _first_infusion(uow.session, patient)
    if infusion is not None:
        return patient, infusion.infused_at
    dosing = uow.session.scalars(
        select(InvivoDosing)
        .where(InvivoDosing.patient_id == patient.id)
        .order_by(InvivoDosing.dosed_at, InvivoDosing.id)
    ).first()
    if dosing is None:
        msg = f"patient {code!r} has no recorded infusion or in vivo dosing; record it first"
        raise InvalidInputError(msg, field="patient")
    return patient, dosing.dosed_at


def _finite(value: float, field: str, *, positive: bool = False, quantity: str = "amount") -> float:
    number = check_quantity(quantity, value, field=field)
    if number < 0 or (positive and number == 0):
        kind = "a positive" if positive else "a non-negative"
        msg = f"{field} must be {kind} finite number, not {value!r}"
        raise InvalidInputError(msg, field=field)
    return number


def _day(day: int, field: str = "day") -> int:
    if isinstance(day, bool) or not isinstance(day, int | np.integer) or day < 0:
        msg = f"{field} must be a whole number of days since infusion (>= 0), not {day!r}"
        raise InvalidInputError(msg, field=field)
    return int(day)


def _released_at(session: Session, lot: Batch) -> datetime | None:
    """When the lot was first released (at risk or not), from its signed disposition."""
    return session.scalars(
        select(Disposition.decided_at)
        .where(
            Disposition.batch_id == lot.id,
            Disposition.disposition.in_(("released", "released_at_risk")),
        )
        .order_by(Disposition.decided_at, Disposition.id)
        .limit(1)
    ).first()


def _check_bedside(uow: UnitOfWork, lot: Batch, patient: str, infused_at: datetime) -> None:
    """The infusion's cross-record checks: the right patient, after release, not ahead."""
    if patient.strip() != lot.patient.patient_code:
        msg = (
            f"batch {lot.batch_code} was made for patient {lot.patient.patient_code}, not "
            f"{patient.strip()!r}; the product is never infused into another patient"
        )
        raise InvalidInputError(msg, field="patient")
    released_at = _released_at(uow.session, lot)
    if released_at is None:
        msg = f"batch {lot.batch_code} has no signed release disposition"
        raise RecordConflictError(msg)
    if infused_at < released_at:
        msg = (
            f"infused_at {infused_at.isoformat()} is before batch {lot.batch_code} was "
            f"released ({released_at.isoformat()})"
        )
        raise InvalidInputError(msg, field="infused_at")
    if infused_at > utcnow() + CLOCK_SKEW:
        msg = f"infused_at {infused_at.isoformat()} is in the future"
        raise InvalidInputError(msg, field="infused_at")


def record_infusion(
    uow: UnitOfWork,
    *,
    batch: str,
    patient: str,
    infused_at: datetime,
    dose_cells: float,
    indication: str,
) -> Infusion:
    """Record the infusion of a released batch into its patient.

    At the bedside the patient's identity is checked against the product label: the
    batch must have been made for ``patient`` (FACT-JACIE Standards, chain of identity
    at administration; 21 CFR 1271.290 tracking). The infusion cannot precede the lot's
    release (its first signed ``released`` or ``released_at_risk`` disposition) and
    cannot lie in the future (beyond :data:`~vein2vein.records.CLOCK_SKEW`).

    Parameters
    ----------
    uow
        The unit of work; its actor must be a clinician.
    batch
        Batch code. Only a ``released`` or ``released_at_risk`` batch may be infused;
        its status becomes ``infused`` (audited with a reason).
    patient
        The patient code as identified at the bedside; it must be the batch's patient.
    infused_at
        When the infusion started (timezone-aware); day 0 of the follow-up.
    dose_cells
        Total dose infused, CAR-T cells (> 0).
    indication
        The disease treated, e.g. ``"ALL"``, ``"LBCL"``, ``"MM"``, ``"CLL"``.

    Returns
    -------
    Infusion
        The stored record. ``dose_per_kg`` is ``dose_cells`` divided by the batch's
        ``patient_weight_kg`` when that is known (else None); ``din`` is the DIN of
        the batch's donation.

    Raises
    ------
    RecordConflictError
        The batch is not released (or is already infused), or has no signed release
        disposition.
    InvalidInputError
        Another patient (field ``patient``), a time before the release or in the
        future or naive (field ``infused_at``), a dose that is not a positive number or
        an empty indication.
    """
    require(uow.actor, "clinical.record")
    lot = uow.get(Batch, batch)
    if lot.status not in _INFUSIBLE:
        msg = (
            f"batch {lot.batch_code} is {lot.status.value}; only a released or "
            "released-at-risk batch may be infused"
        )
        raise RecordConflictError(msg)
    if infused_at.tzinfo is None:
        msg = "infused_at must be timezone-aware"
        raise InvalidInputError(msg, field="infused_at")
    _check_bedside(uow, lot, patient, infused_at)
    dose = _finite(dose_cells, "dose_cells", positive=True, quantity="cell_dose")
    indication = indication.strip()
    if not indication:
        msg = "the indication is required (e.g. ALL, LBCL, MM, CLL)"
        raise InvalidInputError(msg, field="indication")
    weight = lot.patient_weight_kg
    infusion = uow.add(
        Infusion(
            patient_id=lot.patient_id,
            batch_id=lot.id,
            din=lot.donation.din,
            infused_at=infused_at,
            dose_cells=dose,
            dose_per_kg=dose / weight if weight else None,
            indication=indication,
        )
    )
    uow.change(
        lot,
        status=BatchStatus.infused,
        reason=f"infused into patient {lot.patient.patient_code} ({infusion.__record_kind__}:"
        f"{infusion.id})",
    )
    return infusion


def record_toxicity(
    uow: UnitOfWork,
    *,
    patient: str,
    kind: str,
    day: int,
    observation: CRSObservation | ICANSObservation,
    tocilizumab: bool = False,
    steroids: bool = False,
) -> ToxicityAssessment:
    """Record one daily CRS or ICANS assessment with its ASTCT grade.

    Parameters
    ----------
    uow
        The unit of work; its actor must be a clinician.
    patient
        Patient code; the patient must have an infusion.
    kind
        ``"crs"`` (with a :class:`CRSObservation`) or ``"icans"`` (with an
        :class:`ICANSObservation`).
    day
        Days since infusion (>= 0); one assessment per patient, kind and day.
    observation
        The observation; it is stored as JSON next to the grade computed from it by
        :func:`grade_crs` or :func:`grade_icans`.
    tocilizumab, steroids
        Whether tocilizumab or corticosteroids were given that day.

    Returns
    -------
    ToxicityAssessment
        The stored assessment (``grade`` 0-5).
    """
    require(uow.actor, "clinical.record")
    if kind == "crs" and isinstance(observation, CRSObservation):
        grade = grade_crs(observation)
    elif kind == "icans" and isinstance(observation, ICANSObservation):
        grade = grade_icans(observation)
    elif kind in ("crs", "icans"):
        expected = "CRSObservation" if kind == "crs" else "ICANSObservation"
        msg = f"a {kind} assessment needs a {expected}, not {type(observation).__name__}"
        raise InvalidInputError(msg, field="observation")
    else:
        msg = f"unknown toxicity kind {kind!r}; one of: crs, icans"
        raise InvalidInputError(msg, field="kind")
    day = _day(day)
    pt, _ = _infused_patient(uow, patient)
    return uow.add(
        ToxicityAssessment(
            patient_id=pt.id,
            kind=kind,
            day=day,
            grade=grade,
            observation=observation.model_dump(mode="json"),
            tocilizumab=bool(tocilizumab),
            steroids=bool(steroids),
        )
    )


def record_response(
    uow: UnitOfWork,
    *,
    patient: str,
    day: int,
    criteria: str,
    response: str,
    reason: str = "",
    mrd: MRDResult | None = None,
) -> ResponseAssessment:
    """Record one disease response assessment, with an MRD result if one was done.

    Parameters
    ----------
    uow
        The unit of work; its actor must be a clinician.
    patient
        Patient code; the patient must have an infusion.
    day
        Days since infusion (>= 0); ``assessed_on`` is the infusion time plus ``day``.
    criteria
        ``"lugano"``, ``"imwg"`` or ``"iwcll"``.
    response
        A category of that criteria set (:data:`RESPONSE_CATEGORIES`), e.g. the
        result of :func:`assess_lugano`; its ``reason`` is used when ``reason`` is
        empty.
    reason
        The basis of the call, in words.
    mrd
        A marrow MRD result; stored with its method and assay sensitivity, which is
        required.

    Returns
    -------
    ResponseAssessment
        The stored assessment.
    """
    require(uow.actor, "clinical.record")
    if criteria not in RESPONSE_CATEGORIES:
        msg = f"unknown response criteria {criteria!r}; one of: {', '.join(RESPONSE_CATEGORIES)}"
        raise InvalidInputError(msg, field="criteria")
    allowed = RESPONSE_CATEGORIES[criteria]
    if str(response) not in allowed:
        msg = f"{response!r} is not a {criteria} response; one of: {', '.join(allowed)}"
        raise InvalidInputError(msg, field="response")
    mrd_values: dict[str, Any] = {}
    if mrd is not None:
        sensitivity = getattr(mrd, "sensitivity", None)
        if sensitivity is None:
            msg = "an MRD result must state the sensitivity of the assay (10^-4, -5 or -6)"
            raise InvalidInputError(msg, field="mrd")
        mrd_values = {
            "mrd_result": mrd.result,
            "mrd_sensitivity": float(sensitivity),
            "mrd_method": mrd.method,
        }
    day = _day(day)
    pt, day_zero = _infused_patient(uow, patient)
    return uow.add(
        ResponseAssessment(
            patient_id=pt.id,
            assessed_on=day_zero + timedelta(days=day),
            day=day,
            criteria=criteria,
            response=str(response),
            reason=reason or getattr(response, "reason", ""),
            **mrd_values,
        )
    )


def record_kinetics(
    uow: UnitOfWork,
    *,
    patient: str,
    days: Sequence[float],
    values: Sequence[float],
    unit: str,
    method: str,
    lloq: float | None = None,
    below_lloq: Sequence[bool] | None = None,
) -> int:
    """Record a patient's CAR transgene levels (one sample per day and method).

    Parameters
    ----------
    uow
        The unit of work; its actor must be a clinician.
    patient
        Patient code; the patient must have an infusion.
    days
        Days since infusion (>= 0), one per value, each at most once.
    values
        Levels (>= 0) in ``unit``.
    unit
        Unit of the levels, e.g. ``"copies/ug"`` (qPCR) or ``"cells/uL"`` (flow).
    method
        Assay, e.g. ``"qpcr"`` or ``"flow"``; :func:`patient_table` uses ``qpcr``.
    lloq
        Lower limit of quantification in ``unit``; a value below it is stored with
        ``below_lloq`` set. None: only values ``<= 0`` are below it.
    below_lloq
        The laboratory's own below-LLOQ flag per value (one per value); a flagged
        value is stored ``below_lloq`` whatever ``lloq`` says.

    Returns
    -------
    int
        The number of samples stored.
    """
    require(uow.actor, "clinical.record")
    if len(days) != len(values):
        msg = f"{len(days)} days but {len(values)} values"
        raise InvalidInputError(msg, field="values")
    flags = [False] * len(days) if below_lloq is None else [bool(b) for b in below_lloq]
    if len(flags) != len(days):
        msg = f"{len(days)} days but {len(flags)} below_lloq flags"
        raise InvalidInputError(msg, field="below_lloq")
    if not days:
        msg = "no samples given"
        raise InvalidInputError(msg, field="days")
    if len({float(d) for d in days}) != len(days):
        msg = "a day appears more than once; average replicates first"
        raise InvalidInputError(msg, field="days")
    if not unit.strip() or not method.strip():
        field = "unit" if not unit.strip() else "method"
        msg = f"the {field} is required"
        raise InvalidInputError(msg, field=field)
    limit = None if lloq is None else _finite(lloq, "lloq", positive=True)
    samples = []
    pt, _ = _infused_patient(uow, patient)
    for d, v, flagged in zip(days, values, flags, strict=True):
        day = _finite(d, "days", quantity="study_day")
        value = _finite(v, "values")
        below = flagged or value <= 0 or (limit is not None and value < limit)
        samples.append(
            KineticsSample(
                patient_id=pt.id,
                day=day,
                value=value,
                unit=unit.strip(),
                method=method.strip(),
                below_lloq=below,
            )
        )
    return len(uow.add_all(samples))

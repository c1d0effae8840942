"""In vivo lots and patient dosings in the system of record.

A vector or LNP lot is registered (operator or QC analyst), released by QA against the
shipped ``invivo-vector-lot-release`` specification through the one spec engine
(:func:`~vein2vein.specs.evaluate`, the decision stored with
:func:`~vein2vein.specs.store_decision` and e-signed), and only a released lot may dose
a patient (clinician). The dosing is day 0 of the follow-up, which is recorded with
:func:`~vein2vein.clinical.record_toxicity`, :func:`~vein2vein.clinical.record_kinetics`
and :func:`~vein2vein.clinical.record_response` as for an infused patient. Every write
goes through the unit of work and is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidInputError, RecordConflictError
from ..records import (
    DOSE_UNITS,
    INVIVO_PLATFORMS,
    Evaluation,
    InvivoDosing,
    InvivoLot,
    Patient,
    Reauthentication,
    Site,
    UnitOfWork,
    require,
    sign,
)
from ..specs import Decision, Outcome, Result, Specification, evaluate, shipped_spec, store_decision
from ..support import check_quantity

__all__ = [
    "DOSE_UNITS",
    "INVIVO_PLATFORMS",
    "LOT_SPEC",
    "dosing_table",
    "record_dosing",
    "register_invivo_lot",
    "release_invivo_lot",
]

LOT_SPEC: Final = "invivo-vector-lot-release"
"""The shipped specification an in vivo lot is released against."""

_PURPOSE: Final = "invivo_lot_release"


def _number(
    value: float | None, field: str, *, positive: bool = False, quantity: str = "amount"
) -> float | None:
    if value is None:
        return None
    number = check_quantity(quantity, value, field=field)
    if number < 0 or (positive and number == 0):
        msg = f"{field} must be a {'positive' if positive else 'non-negative'} finite number"
        raise InvalidInputError(msg, field=field)
    return number


def register_invivo_lot(
    uow: UnitOfWork,
    *,
    lot_code: str,
    product: str,
    platform: str,
    titre: float,
    titre_unit: str,
    site: str,
    manufactured_at: datetime,
) -> InvivoLot:
    """Register a vector or LNP lot (status ``quarantine``) awaiting release.

    Parameters
    ----------
    uow
        The unit of work; its actor must be an operator or QC analyst.
    lot_code
        The lot's code, unique.
    product
        Product name.
    platform
        ``"lentiviral"``, ``"lnp_mrna"`` or ``"other"``.
    titre
        Functional titre (> 0), e.g. TU/mL for a vector or mg/mL RNA for an LNP.
    titre_unit
        Unit of the titre.
    site
        Code of the manufacturing site.
    manufactured_at
        When the lot was made (timezone-aware).

    Returns
    -------
    InvivoLot
        The stored lot.
    """
    require(uow.actor, "invivo.lot.register")
    if platform not in INVIVO_PLATFORMS:
        msg = f"unknown platform {platform!r}; one of: {', '.join(INVIVO_PLATFORMS)}"
        raise InvalidInputError(msg, field="platform")
    if not lot_code.strip() or not titre_unit.strip() or not product.strip():
        msg = "lot_code, product and titre_unit are required"
        raise InvalidInputError(msg, field="lot_code")
    if manufactured_at.tzinfo is None:
        msg = "manufactured_at must be timezone-aware"
        raise InvalidInputError(msg, field="manufactured_at")
    clash = uow.session.scalars(select(InvivoLot).where(InvivoLot.lot_code == lot_code))
    if clash.first() is not None:
        msg = f"in vivo lot {lot_code!r} already exists"
        raise RecordConflictError(msg)
    return uow.add(
        InvivoLot(
            lot_code=lot_code.strip(),
            product=product.strip(),
            platform=platform,
            titre=_number(titre, "titre", positive=True),
            titre_unit=titre_unit.strip(),
            site_id=uow.get(Site, site).id,
            manufactured_at=manufactured_at,
            status="quarantine",
        )
    )


def release_invivo_lot(
    uow: UnitOfWork,
    *,
    lot: str,
    results: Iterable[Result] | Mapping[str, Result | str | float],
    password: str | Reauthentication,
    spec: Specification | None = None,
) -> tuple[Evaluation, Decision]:
    """Decide a lot against its release specification, as QA, e-signed.

    Parameters
    ----------
    uow
        The unit of work; its actor must be a QA reviewer (``lot.disposition``).
    lot
        Lot code; the lot must be in quarantine.
    results
        The lot's release results (as for :func:`~vein2vein.specs.evaluate`).
    password
        The reviewer's password or a fresh :class:`~vein2vein.records.Reauthentication`.
    spec
        The specification; default the shipped ``invivo-vector-lot-release``.

    Returns
    -------
    tuple of Evaluation and Decision
        The stored, signed evaluation and the decision. A passing decision releases
        the lot (signature meaning ``released``), a failing one rejects it; pending or
        invalid leaves it in quarantine (meaning ``reviewed``).
    """
    require(uow.actor, "lot.disposition")
    row = uow.get(InvivoLot, lot)
    if row.status != "quarantine":
        msg = f"in vivo lot {row.lot_code} is {row.status}; only a lot in quarantine is decided"
        raise RecordConflictError(msg)
    decision = evaluate(spec or shipped_spec(LOT_SPEC), results)
    evaluation = store_decision(uow, row, decision, purpose=_PURPOSE)
    released = decision.outcome is Outcome.passed
    sign(uow, evaluation, password=password, meaning="released" if released else "reviewed")
    if released or decision.outcome is Outcome.failed:
        status = "released" if released else "rejected"
        uow.change(row, status=status, reason="; ".join(decision.reasons) or status)
    return evaluation, decision


def record_dosing(
    uow: UnitOfWork,
    *,
    patient: str,
    lot: str,
    dosed_at: datetime,
    dose: float,
    dose_unit: str,
    lymphodepletion: bool,
    indication: str,
    dose_level: int | None = None,
    weight_kg: float | None = None,
    baseline_alc: float | None = None,
    baseline_cd3: float | None = None,
    baseline_cd8: float | None = None,
    tumour_burden: float | None = None,
    anti_vector_titre: float | None = None,
) -> InvivoDosing:
    """Record that a patient was dosed from a released in vivo lot (day 0 of follow-up).

    Parameters
    ----------
    uow
        The unit of work; its actor must be a clinician.
    patient
        Patient code (registered beforehand).
    lot
        Lot code; only a ``released`` lot may dose.
    dosed_at
        When the dose was given (timezone-aware).
    dose
        The dose (> 0) in ``dose_unit``: ``TU/kg``, ``TU``, ``vg``, ``vg/kg`` or ``mg/kg``.
    dose_unit
        Unit of the dose.
    lymphodepletion
        Whether lymphodepleting chemotherapy preceded the dose.
    indication
        The disease treated.
    dose_level
        The trial's dose level (1-based), when dosed in a dose-finding trial.
    weight_kg
        Body weight, kg.
    baseline_alc, baseline_cd3, baseline_cd8
        Baseline absolute lymphocyte, CD3+ and CD8+ counts, cells/uL.
    tumour_burden
        Baseline tumour burden (e.g. SPD in cm^2 or marrow blasts %), as the program
        defines it.
    anti_vector_titre
        Pre-existing neutralizing anti-vector antibody titre (reciprocal dilution).

    Returns
    -------
    InvivoDosing
        The stored dosing.
    """
    require(uow.actor, "clinical.record")
    if dose_unit not in DOSE_UNITS:
        msg = f"unknown dose unit {dose_unit!r}; one of: {', '.join(DOSE_UNITS)}"
        raise InvalidInputError(msg, field="dose_unit")
    if dosed_at.tzinfo is None:
        msg = "dosed_at must be timezone-aware"
        raise InvalidInputError(msg, field="dosed_at")
    if not indication.strip():
        msg = "the indication is required"
        raise InvalidInputError(msg, field="indication")
    if dose_level is not None and (isinstance(dose_level, bool) or int(dose_level) < 1):
        msg = f"dose_level must be a whole number >= 1, not {dose_level!r}"
        raise InvalidInputError(msg, field="dose_level")
    # Every value is checked before any record is looked up, so the error names it.
    numbers = {
        "dose": _number(dose, "dose", positive=True),
        "weight_kg": _number(weight_kg, "weight_kg", quantity="body_weight"),
        "baseline_alc": _number(baseline_alc, "baseline_alc"),
        "baseline_cd3": _number(baseline_cd3, "baseline_cd3"),
        "baseline_cd8": _number(baseline_cd8, "baseline_cd8"),
        "tumour_burden": _number(tumour_burden, "tumour_burden"),
        "anti_vector_titre": _number(anti_vector_titre, "anti_vector_titre"),
    }
    row = uow.get(InvivoLot, lot)
    if row.status != "released":
        msg = f"in vivo lot {row.lot_code} is {row.status}; only a released lot may dose"
        raise RecordConflictError(msg)
    pt = uow.get(Patient, patient)
    return uow.add(
        InvivoDosing(
            patient_id=pt.id,
            lot_id=row.id,
            dosed_at=dosed_at,
            dose_unit=dose_unit,
            dose_level=None if dose_level is None else int(dose_level),
            indication=indication.strip(),
            lymphodepletion=bool(lymphodepletion),
            **numbers,
        )
    )


_DOSING_COLUMNS: Final = [
    "patient_id",
    "lot",
    "platform",
    "dosed_at",
    "dose",
    "dose_unit",
    "dose_level",
    "indication",
    "lymphodepletion",
    "weight_kg",
    "baseline_alc",
    "baseline_cd3",
    "baseline_cd8",
    "tumour_burden",
    "anti_vector_titre",
]


def dosing_table(session: Session) -> pd.DataFrame:
    """One row per in vivo dosing (first dosing per patient), sorted by patient code.

    Parameters
    ----------
    session
        A reading session.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, lot, platform, dosed_at, dose, dose_unit, dose_level, indication,
        lymphodepletion, weight_kg`` and the baseline columns (NaN where not recorded).
    """
    rows = session.execute(
        select(InvivoDosing, Patient.patient_code, InvivoLot.lot_code, InvivoLot.platform)
        .join(Patient, Patient.id == InvivoDosing.patient_id)
        .join(InvivoLot, InvivoLot.id == InvivoDosing.lot_id)
        .order_by(Patient.patient_code, InvivoDosing.dosed_at, InvivoDosing.id)
    ).all()
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for dosing, code, lot_code, platform in rows:
        if code in seen:
            continue
        seen.add(code)
        record = {c: getattr(dosing, c, None) for c in _DOSING_COLUMNS}
        out.append(record | {"patient_id": code, "lot": lot_code, "platform": platform})
    return pd.DataFrame(out, columns=_DOSING_COLUMNS)

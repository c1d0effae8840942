"""Registration of the identities a product carries: site, patient, donation, batch.

Chain of identity starts here: a donation is registered under its ISBT 128 DIN for
one patient at one collection site, and a batch is started from exactly one donation.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import IdentityError, InvalidInputError, RecordConflictError
from ..records import (
    Batch,
    Donation,
    DonationStatus,
    Patient,
    ProcessStep,
    Site,
    UnitOfWork,
    record_image,
    require,
)
from ..support import check_quantity
from ._din import DIN, check_facility, parse_din

__all__ = [
    "list_sites",
    "register_donation",
    "register_patient",
    "register_site",
    "start_batch",
]

_ACCEPTED = (DonationStatus.accepted, DonationStatus.accepted_with_deviation)
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _check_code(value: str, field: str) -> str:
    if not _CODE.fullmatch(value):
        msg = f"{value!r} must be 1-64 letters, digits, '.', '_' or '-'"
        raise InvalidInputError(msg, field=field)
    return value


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        msg = f"{value.isoformat()} has no time zone; give UTC (e.g. 2026-01-31T08:00:00Z)"
        raise InvalidInputError(msg, field=field)
    return value


def register_site(uow: UnitOfWork, *, code: str, name: str, facility_id: str) -> Site:
    """Register a site with its ISBT 128 facility identification number (FIN).

    The FIN is the five characters, issued by ICCBBA, that open every DIN the
    site assigns (e.g. ``W0000``).
    """
    require(uow.actor, "site.add")
    _check_code(code, "code")
    facility_id = check_facility(facility_id.strip().upper(), field="facility_id")
    if not name.strip():
        msg = "a site needs a name"
        raise InvalidInputError(msg, field="name")
    for column, value in (("code", code), ("facility_id", facility_id)):
        clash = uow.session.scalars(select(Site).where(getattr(Site, column) == value)).first()
        if clash is not None:
            msg = f"a site with {column} {value!r} already exists ({clash.code})"
            raise RecordConflictError(msg)
    return uow.add(Site(code=code, name=name.strip(), facility_id=facility_id))


def register_patient(uow: UnitOfWork, *, patient_code: str, treating_site: str) -> Patient:
    """Register a patient by pseudonymous code at a treating site."""
    require(uow.actor, "patient.register")
    _check_code(patient_code, "patient")
    site = uow.get(Site, treating_site)
    clash = uow.session.scalars(select(Patient).where(Patient.patient_code == patient_code))
    if clash.first() is not None:
        msg = f"patient {patient_code!r} already exists"
        raise RecordConflictError(msg)
    return uow.add(Patient(patient_code=patient_code, treating_site_id=site.id))


def register_donation(
    uow: UnitOfWork,
    *,
    din: str | DIN,
    patient: str,
    collection_site: str,
    collected_at: datetime,
    volume_ml: float | None = None,
) -> Donation:
    """Register an apheresis donation under its DIN for a patient.

    The DIN must validate (check character included, when given) and its facility
    identification number must be the collection site's: a DIN is assigned by the
    facility that collects. A DIN is registered once.
    """
    require(uow.actor, "donation.register")
    parsed = din if isinstance(din, DIN) else parse_din(din)
    site = uow.get(Site, collection_site)
    if parsed.facility != site.facility_id:
        msg = (
            f"DIN {parsed.din13} was assigned by facility {parsed.facility}, but the "
            f"collection site {site.code} is facility {site.facility_id}"
        )
        raise IdentityError(msg, field="din")
    if volume_ml is not None:
        volume_ml = check_quantity("volume", volume_ml, field="volume_ml")
    patient_row = uow.get(Patient, patient)
    clash = uow.session.scalars(select(Donation).where(Donation.din == parsed.din13)).first()
    if clash is not None:
        msg = f"DIN {parsed.din13} is already registered"
        raise RecordConflictError(msg)
    return uow.add(
        Donation(
            din=parsed.din13,
            flags=parsed.flags,
            patient_id=patient_row.id,
            collection_site_id=site.id,
            collected_at=_aware(collected_at, "collected_at"),
            volume_ml=volume_ml,
        )
    )


def start_batch(
    uow: UnitOfWork,
    *,
    din: str | DIN,
    site: str,
    product: str,
    started_at: datetime,
    batch_code: str | None = None,
) -> Batch:
    """Start manufacturing a patient's batch at a site from a registered donation.

    The batch takes the donation's patient (chain of identity), opens its first
    process step (starting-material receipt), and the manufacturing site becomes its
    custodian. Only a donation that intake accepted (``accepted`` or
    ``accepted_with_deviation``) starts a batch: a rejected donation, or one not yet
    decided, is refused (21 CFR 1271.265(a) and 211.84(a): starting material is held
    in quarantine until it is accepted). A donation starts one batch.

    Raises
    ------
    InvalidInputError
        The donation has no accepting intake decision (field ``din``), or a field of
        the batch is malformed.
    RecordConflictError
        The donation already started a batch.
    """
    require(uow.actor, "batch.start")
    parsed = din if isinstance(din, DIN) else parse_din(din)
    donation = uow.get(Donation, parsed.din13)
    if donation.status is DonationStatus.rejected:
        msg = f"donation {donation.din} was rejected at intake and cannot start a batch"
        raise InvalidInputError(msg, field="din")
    if donation.status not in _ACCEPTED:
        msg = (
            f"donation {donation.din} has no accepting intake decision (it is "
            f"{donation.status}); decide its intake first (vein2vein intake import)"
        )
        raise InvalidInputError(msg, field="din")
    existing = uow.session.scalars(select(Batch).where(Batch.donation_id == donation.id)).first()
    if existing is not None:
        msg = f"donation {donation.din} already started batch {existing.batch_code}"
        raise RecordConflictError(msg)
    site_row = uow.get(Site, site)
    code = _check_code(batch_code or f"{site_row.code}-{donation.din}", "batch_code")
    if not product.strip():
        msg = "name the product being made"
        raise InvalidInputError(msg, field="product")
    batch = uow.add(
        Batch(
            batch_code=code,
            product=product.strip(),
            donation_id=donation.id,
            patient_id=donation.patient_id,
            site_id=site_row.id,
            custodian=site_row.code,
            started_at=_aware(started_at, "started_at"),
        )
    )
    uow.add(
        ProcessStep(
            batch_id=batch.id,
            sequence=1,
            name="starting material receipt",
            started_at=batch.started_at,
            operator_id=uow.actor.user_id,
        )
    )
    return batch


def list_sites(session: Session) -> list[dict[str, Any]]:
    """Every registered site, by code, as plain data."""
    return [record_image(s) for s in session.scalars(select(Site).order_by(Site.code))]

"""Deviations: unplanned departures from procedure, opened in the batch record."""

from __future__ import annotations

from typing import Final

from sqlalchemy import func, select

from ..errors import InvalidInputError
from ._database import UnitOfWork
from ._schema import Batch, Deviation, Donation

__all__ = ["SEVERITIES", "open_deviation"]

SEVERITIES: Final = ("minor", "major", "critical")


def open_deviation(
    uow: UnitOfWork,
    *,
    category: str,
    severity: str,
    description: str,
    batch: Batch | None = None,
    donation: Donation | None = None,
) -> Deviation:
    """Open a deviation against a batch and/or donation, audited as the unit's actor.

    Codes run ``DEV-000001``, ``DEV-000002``... across the whole system of record.
    """
    if severity not in SEVERITIES:
        msg = f"severity {severity!r} is not one of {', '.join(SEVERITIES)}"
        raise InvalidInputError(msg, field="severity")
    if not description.strip():
        msg = "a deviation needs a description"
        raise InvalidInputError(msg, field="description")
    n = uow.session.execute(select(func.count()).select_from(Deviation)).scalar_one()
    return uow.add(
        Deviation(
            code=f"DEV-{n + 1:06d}",
            batch_id=batch.id if batch else None,
            donation_id=donation.id if donation else (batch.donation_id if batch else None),
            category=category,
            severity=severity,
            description=description.strip(),
            opened_by_id=uow.actor.user_id,
        )
    )

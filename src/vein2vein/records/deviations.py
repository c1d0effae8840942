"""Deviations: unplanned departures from procedure, opened in the batch record."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import InvalidInputError, RecordConflictError
from . import audit
from ._canonical import record_image
from ._database import UnitOfWork
from ._schema import Batch, Deviation, DeviationStatus, Donation
from .signatures import Reauthentication, sign
from .users import require

__all__ = [
    "SEVERITIES",
    "acknowledge_deviation",
    "close_deviation",
    "list_deviations",
    "open_deviation",
]

SEVERITIES: Final = ("minor", "major", "critical")


def open_deviation(
    uow: UnitOfWork,
    *,
    category: str,
    severity: str,
    description: str,
    batch: Batch | None = None,
    donation: Donation | None = None,
    source: str | None = None,
    parameter_id: int | None = None,
    window: tuple[datetime, datetime] | None = None,
    details: dict[str, Any] | None = None,
) -> Deviation:
    """Open a deviation against a batch and/or donation, audited as the unit's actor.

    Codes run ``DEV-000001``, ``DEV-000002``... across the whole system of record.
    A monitoring signal also records its ``source`` (e.g. ``spc:ph:N1``), the
    parameter, the data ``window`` (first, last reading time) and ``details`` (rule,
    points, values, limits).
    """
    if severity not in SEVERITIES:
        msg = f"severity {severity!r} is not one of {', '.join(SEVERITIES)}"
        raise InvalidInputError(msg, field="severity")
    if not description.strip():
        msg = "a deviation needs a description"
        raise InvalidInputError(msg, field="description")
    audit.serialize_writers(uow.session)  # so two writers never take the same number
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
            source=source,
            parameter_id=parameter_id,
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            details=details,
        )
    )


def acknowledge_deviation(
    uow: UnitOfWork, code: str, *, password: str | Reauthentication, comment: str
) -> Deviation:
    """Acknowledge an open deviation: the reviewer's e-signature (meaning *reviewed*)."""
    require(uow.actor, "deviation.open")
    deviation = uow.get(Deviation, code)
    if deviation.status is not DeviationStatus.open:
        msg = f"{code} is {deviation.status}; only an open deviation is acknowledged"
        raise RecordConflictError(msg)
    if not comment.strip():
        msg = "say what was seen and done (the acknowledgement comment)"
        raise InvalidInputError(msg, field="comment")
    uow.change(deviation, status=DeviationStatus.acknowledged, reason=comment.strip())
    sign(uow, deviation, password=password, meaning="reviewed")
    return deviation


def close_deviation(
    uow: UnitOfWork, code: str, *, password: str | Reauthentication, resolution: str
) -> Deviation:
    """Close a deviation with its resolution: QA's e-signature (meaning *approved*)."""
    require(uow.actor, "deviation.close")
    deviation = uow.get(Deviation, code)
    if deviation.status is DeviationStatus.closed:
        msg = f"{code} is already closed"
        raise RecordConflictError(msg)
    if not resolution.strip():
        msg = "a deviation is closed with its resolution (root cause, CAPA)"
        raise InvalidInputError(msg, field="resolution")
    uow.change(deviation, status=DeviationStatus.closed, reason=resolution.strip())
    sign(uow, deviation, password=password, meaning="approved")
    return deviation


def list_deviations(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    """Every deviation (with ``status``, only those), oldest first, as plain data.

    Raises
    ------
    InvalidInputError
        ``status`` is not open, acknowledged or closed (field ``status``).
    """
    stmt = select(Deviation).order_by(Deviation.id)
    if status is not None:
        try:
            stmt = stmt.where(Deviation.status == DeviationStatus(status))
        except ValueError:
            msg = f"unknown status {status!r}; open, acknowledged or closed"
            raise InvalidInputError(msg, field="status") from None
    return [record_image(d) for d in session.scalars(stmt)]

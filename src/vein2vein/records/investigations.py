"""OOS investigations: opened by a failing result, closed by QA with an e-signed conclusion.

An investigation is closed with one of two outcomes (FDA OOS guidance, 2006):

``confirmed``
    No assignable laboratory cause was found: the result stands and the lot it was
    measured on fails that test. Retesting cannot overrule it (section VI.B).
``invalidated``
    An assignable laboratory cause was found (section IV.C): the original result is
    invalidated, with the conclusion as the reason, and no longer counts; the lot needs
    a valid result for that test (a retest) before it can be reviewed again.

References
----------
FDA, "Guidance for Industry: Investigating Out-of-Specification (OOS) Test Results for
Pharmaceutical Production" (2006, rev. 2022); 21 CFR 211.192 (production record review;
the written record of an investigation includes its conclusions and follow-up).
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidInputError, RecordConflictError
from ._canonical import record_image
from ._database import UnitOfWork, get_record
from ._schema import AssayResult, Investigation
from ._types import utcnow
from .signatures import Reauthentication, sign
from .users import require

__all__ = ["INVESTIGATION_OUTCOMES", "close_investigation", "list_investigations"]

#: How an OOS investigation ends.
INVESTIGATION_OUTCOMES: Final = ("confirmed", "invalidated")


def close_investigation(
    uow: UnitOfWork,
    code: str,
    *,
    outcome: str,
    conclusion: str,
    password: str | Reauthentication,
) -> Investigation:
    """Close an OOS investigation with its outcome and conclusion: QA's e-signature (*approved*).

    Parameters
    ----------
    uow
        The unit of work; its actor must be a QA reviewer.
    code
        The investigation, e.g. ``OOS-000001``.
    outcome
        ``confirmed`` (the result stands) or ``invalidated`` (an assignable laboratory
        cause; the result is invalidated).
    conclusion
        The root cause and conclusion, in words (required).
    password
        The reviewer's password, or a fresh :class:`~vein2vein.records.Reauthentication`.

    Raises
    ------
    RecordConflictError
        The investigation is already closed.
    InvalidInputError
        An unknown ``outcome`` or a blank ``conclusion`` (naming the field).
    """
    require(uow.actor, "investigation.close")
    investigation = uow.get(Investigation, code)
    if investigation.status == "closed":
        msg = f"{investigation.code} is already closed ({investigation.outcome})"
        raise RecordConflictError(msg)
    if outcome not in INVESTIGATION_OUTCOMES:
        msg = f"outcome {outcome!r} is not one of {', '.join(INVESTIGATION_OUTCOMES)}"
        raise InvalidInputError(msg, field="outcome")
    if not conclusion.strip():
        msg = "an investigation is closed with its conclusion (root cause, follow-up)"
        raise InvalidInputError(msg, field="conclusion")
    text = conclusion.strip()
    uow.change(
        investigation,
        status="closed",
        outcome=outcome,
        conclusion=text,
        closed_at=utcnow(),
        reason=f"{outcome}: {text}",
    )
    if outcome == "invalidated" and investigation.assay_result_id is not None:
        result = get_record(uow.session, AssayResult, investigation.assay_result_id)
        uow.change(
            result,
            status="invalidated",
            reason=f"invalidated by {investigation.code}: {text}",
        )
    sign(uow, investigation, password=password, meaning="approved")
    return investigation


def list_investigations(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    """Every OOS investigation (with ``status``, only those), oldest first, as plain data.

    Raises
    ------
    InvalidInputError
        ``status`` is not open or closed (field ``status``).
    """
    if status is not None and status not in ("open", "closed"):
        msg = f"unknown status {status!r}; open or closed"
        raise InvalidInputError(msg, field="status")
    stmt = select(Investigation).order_by(Investigation.id)
    if status is not None:
        stmt = stmt.where(Investigation.status == status)
    return [record_image(i) for i in session.scalars(stmt)]

"""Chain of custody: every hand-off is scanned, checked against the batch, and recorded.

A hand-off whose scanned DIN or patient does not match the batch, or that does not
come from the batch's current custodian, is *refused*: it is recorded as a refused
custody event with a deviation, and the custodian stays unchanged. A hand-off at a
temperature outside its shipping condition is accepted (the material has moved) and
opens a temperature-excursion deviation.

References
----------
FACT-JACIE International Standards for Hematopoietic Cellular Therapy, 8th ed.,
section D9 (distribution and transportation) and the FDA guidance "Chain of Identity"
expectations for autologous products: identity is verified at every transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ..errors import IdentityError, InvalidInputError
from ..records import Batch, CustodyEvent, Deviation, UnitOfWork, open_deviation, require
from ..specs import Decision
from ..support import check_quantity
from ._din import parse_din

__all__ = ["CONDITIONS", "CustodyRecord", "Handoff", "check_handoff", "log_custody"]

#: Shipping conditions and their acceptable temperature range in °C (None: unbounded).
#: Refrigerated 2-8 °C and controlled room temperature 15-25 °C per common apheresis
#: shipping practice; cryopreserved products travel in LN2 vapour at or below -150 °C.
CONDITIONS: Final[dict[str, tuple[float | None, float | None]]] = {
    "refrigerated": (2.0, 8.0),
    "room_temperature": (15.0, 25.0),
    "cryopreserved": (None, -150.0),
}


@dataclass(frozen=True, slots=True)
class Handoff:
    """One hand-off as scanned at the bench: who gives, who takes, when, what was read."""

    from_party: str
    to_party: str
    occurred_at: datetime
    scanned_din: str
    scanned_patient: str | None = None
    temperature_c: float | None = None
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class CustodyRecord:
    """What :func:`log_custody` stored: the event, its decision, and any deviation."""

    event: CustodyEvent
    decision: Decision
    deviation: Deviation | None

    @property
    def accepted(self) -> bool:
        """True when custody passed to the receiver."""
        return self.event.accepted


def check_handoff(
    handoff: Handoff, *, din13: str, patient_code: str, custodian: str | None
) -> Decision:
    """Check a hand-off's identity against its batch; pure, no database.

    Parameters
    ----------
    handoff
        The hand-off as scanned.
    din13
        The batch's donation DIN (13 characters).
    patient_code
        The batch's patient.
    custodian
        Who holds the batch now; the hand-off must come from them.
    """
    reasons: list[str] = []
    try:
        scanned = parse_din(handoff.scanned_din)
    except IdentityError as exc:
        reasons.append(f"scanned label {handoff.scanned_din!r} is not a valid DIN: {exc.reason}")
    else:
        if scanned.din13 != din13:
            reasons.append(f"scanned DIN {scanned.din13} does not match the batch DIN {din13}")
    if handoff.scanned_patient is not None and handoff.scanned_patient != patient_code:
        reasons.append(
            f"scanned patient {handoff.scanned_patient!r} does not match the batch patient "
            f"{patient_code!r}"
        )
    if custodian is not None and handoff.from_party != custodian:
        reasons.append(
            f"hand-off from {handoff.from_party!r} but the batch is held by {custodian!r}"
        )
    if handoff.from_party == handoff.to_party:
        reasons.append(f"hand-off from {handoff.from_party!r} to itself")
    return Decision.refuse(*reasons) if reasons else Decision.allow("identity verified")


def check_temperature(handoff: Handoff) -> Decision:
    """Check the recorded temperature against the hand-off's shipping condition."""
    if handoff.condition is None:
        return Decision.allow()
    if handoff.condition not in CONDITIONS:
        known = ", ".join(CONDITIONS)
        msg = f"unknown shipping condition {handoff.condition!r}; one of: {known}"
        raise InvalidInputError(msg, field="condition")
    if handoff.temperature_c is None:
        msg = f"a {handoff.condition} hand-off needs its temperature"
        raise InvalidInputError(msg, field="temperature_c")
    low, high = CONDITIONS[handoff.condition]
    t = handoff.temperature_c
    if (low is not None and t < low) or (high is not None and t > high):
        span = f"{'' if low is None else low} to {'' if high is None else high}".strip()
        return Decision.refuse(
            f"temperature {t:g} °C is outside the {handoff.condition} range ({span} °C)"
        )
    return Decision.allow()


def log_custody(uow: UnitOfWork, *, batch: str, handoff: Handoff) -> CustodyRecord:
    """Record a hand-off of ``batch``; refuse it (with a deviation) if identity fails.

    A refused hand-off is still stored, together with its deviation, so the attempt
    stays in the batch record; the caller decides how to report it. A temperature
    that is not finite or not possible (below absolute zero) is bad input, and
    nothing is stored.
    """
    require(uow.actor, "custody.log")
    if handoff.temperature_c is not None:
        check_quantity("temperature", handoff.temperature_c, field="temperature_c")
    if handoff.occurred_at.tzinfo is None:
        msg = "the hand-off time has no time zone; give UTC"
        raise InvalidInputError(msg, field="occurred_at")
    row = uow.get(Batch, batch)
    identity = check_handoff(
        handoff,
        din13=row.donation.din,
        patient_code=row.patient.patient_code,
        custodian=row.custodian,
    )
    temperature = check_temperature(handoff)
    deviation: Deviation | None = None
    if not identity.ok:
        deviation = open_deviation(
            uow,
            category="chain_of_identity",
            severity="critical",
            description=f"custody hand-off of {row.batch_code} refused: "
            + "; ".join(identity.reasons),
            batch=row,
        )
    elif not temperature.ok:
        deviation = open_deviation(
            uow,
            category="temperature_excursion",
            severity="major",
            description=f"hand-off of {row.batch_code}: " + "; ".join(temperature.reasons),
            batch=row,
        )
    event = uow.add(
        CustodyEvent(
            batch_id=row.id,
            from_party=handoff.from_party,
            to_party=handoff.to_party,
            occurred_at=handoff.occurred_at,
            temperature_c=handoff.temperature_c,
            condition=handoff.condition,
            scanned_din=handoff.scanned_din,
            scanned_patient=handoff.scanned_patient,
            accepted=identity.ok,
            refusal_reason=None if identity.ok else "; ".join(identity.reasons),
            deviation_id=deviation.id if deviation else None,
        )
    )
    if identity.ok:
        uow.change(row, custodian=handoff.to_party, reason=f"custody to {handoff.to_party}")
    return CustodyRecord(
        event=event, decision=Decision.combine(identity, temperature), deviation=deviation
    )

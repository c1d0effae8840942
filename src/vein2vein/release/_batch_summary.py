"""What a reviewer sees of one batch, as plain data (``batch show``, the API's batch view)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..records import Batch, CustodyEvent, Deviation, record_image, signatures_of
from ._problems import problem_report

__all__ = ["batch_summary"]


def batch_summary(session: Session, batch: Batch) -> dict[str, Any]:
    """Everything a reviewer sees for a batch, as plain data.

    ``deviations`` are those opened on the batch itself; ``problems`` every deviation
    and OOS investigation that reaches it (through its donation and links too), each
    with its status, QA's impact assessment and whether it blocks release.
    """
    events = session.scalars(
        select(CustodyEvent).where(CustodyEvent.batch_id == batch.id).order_by(CustodyEvent.id)
    ).all()
    deviations = session.scalars(
        select(Deviation).where(Deviation.batch_id == batch.id).order_by(Deviation.id)
    ).all()
    return {
        **record_image(batch),
        "din": batch.donation.din,
        "patient": batch.patient.patient_code,
        "site": batch.site.code,
        "custody": [record_image(e) for e in events],
        "deviations": [record_image(d) for d in deviations],
        "problems": [r.to_dict() for r in problem_report(session, batch)],
        "signatures": [
            {"manifestation": s.manifestation, "valid": s.valid, "meaning": s.meaning}
            for s in signatures_of(session, batch)
        ],
    }

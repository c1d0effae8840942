"""Storing a decision in the system of record, with the identity of its specification."""

from __future__ import annotations

from ..records import Audited, Evaluation, UnitOfWork
from ._decision import Decision

__all__ = ["store_decision"]


def store_decision(
    uow: UnitOfWork,
    subject: Audited,
    decision: Decision,
    *,
    purpose: str,
    results_sha256: str = "",
) -> Evaluation:
    """Record ``decision`` on ``subject`` (a donation, a batch): outcome, reasons, items, spec.

    The specification's id, version and SHA-256 are stored with the decision, so it
    can always be traced to the exact document it was made against.
    """
    if decision.spec_id is None or decision.spec_version is None or decision.spec_sha256 is None:
        msg = "only a decision made against a specification can be stored"
        raise ValueError(msg)
    return uow.add(
        Evaluation(
            subject_table=type(subject).__table__.name,  # type: ignore[attr-defined]
            subject_id=subject.id,
            purpose=purpose,
            spec_id=decision.spec_id,
            spec_version=decision.spec_version,
            spec_sha256=decision.spec_sha256,
            outcome=decision.outcome.value,
            reasons=list(decision.reasons),
            items=[i.to_dict() for i in decision.items],
            results_sha256=results_sha256,
            evaluated_by_id=uow.actor.user_id,
        )
    )

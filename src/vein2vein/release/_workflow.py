"""The lot-release workflow: results in, review against the spec, disposition, escalation.

::

    in_process ──review──► quarantine ──decide──► released
                                       ├──────► released_at_risk ──final results──► released
                                       │                          └─positive──► deviation + notice
                                       └──────► rejected

Every step is audited; review and disposition are e-signed with re-authentication.
A failing result opens an OOS investigation the moment it is entered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import InvalidInputError, TransitionRefusedError, Vein2veinError
from ..records import (
    AssayResult,
    Batch,
    BatchStatus,
    Deviation,
    Disposition,
    Evaluation,
    Investigation,
    Notification,
    Patient,
    Reauthentication,
    Signature,
    UnitOfWork,
    audit,
    get_record,
    open_deviation,
    require,
    sign,
    user_id_of,
)
from ..specs import Decision, Outcome, Specification, evaluate, store_decision
from ._assay_results import (
    ResultRow,
    as_spec_results,
    batch_context,
    check_row_values,
    current_results,
    results_sha256,
    store_result,
)
from ._problems import lot_problems
from .guards import (
    EvaluatedItem,
    ReleaseFacts,
    guard_reject,
    guard_release,
    guard_release_at_risk,
    guard_review,
)

__all__ = [
    "DISPOSITIONS",
    "EntryOutcome",
    "decide",
    "enter_results",
    "latest_evaluation",
    "release_facts",
    "review",
]

PURPOSE: Final = "lot_release"
#: Disposition name -> (resulting batch status, signature meaning).
DISPOSITIONS: Final[dict[str, tuple[BatchStatus, str]]] = {
    "released": (BatchStatus.released, "released"),
    "released_at_risk": (BatchStatus.released_at_risk, "released"),
    "rejected": (BatchStatus.rejected, "approved"),
}


@dataclass
class EntryOutcome:
    """What entering results set off: OOS investigations, deviations, notifications."""

    results: list[AssayResult] = field(default_factory=list)
    investigations: list[Investigation] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


def _where(row: ResultRow) -> str:
    return "" if row.line is None else f"line {row.line}: "


def _spec_item(spec: Specification, row: ResultRow, *, source: str | None) -> None:
    if row.analyte not in {i.analyte for i in spec.items}:
        known = ", ".join(i.analyte for i in spec.items)
        msg = (
            f"{_where(row)}{row.analyte!r} is not a test of specification {spec.id}; "
            f"one of: {known}"
        )
        raise InvalidInputError(msg, file=source, field="analyte")


def _next_code(session: Session, model: type[Investigation], prefix: str) -> str:
    audit.serialize_writers(session)  # so two writers never take the same number
    n = session.execute(select(func.count()).select_from(model)).scalar_one()
    return f"{prefix}-{n + 1:06d}"


def enter_results(
    uow: UnitOfWork, rows: list[ResultRow], *, spec: Specification, source: str | None = None
) -> EntryOutcome:
    """Enter results (all or nothing) and act on any that fail the specification.

    A failing result opens an OOS investigation. A failing conditional result (the
    14-day sterility) on a batch already *released at risk* also opens a critical
    deviation and notifies the patient's treating site.
    """
    for row in rows:
        _spec_item(spec, row, source=source)
    check_row_values(spec, rows, source=source)
    outcome = EntryOutcome()
    for row in rows:
        try:
            batch, result = store_result(uow, row)
        except Vein2veinError as exc:
            if row.line is not None:  # say which row of the file it was
                exc.add_note(f"file {source or 'input'}, line {row.line}")
            raise
        outcome.results.append(result)
        decision = evaluate(
            spec,
            [*as_spec_results([result])],
            context=batch_context(batch),
        )
        item = next(i for i in decision.items if i.analyte == result.analyte)
        if item.outcome is not Outcome.failed:
            continue
        investigation = uow.add(
            Investigation(
                code=_next_code(uow.session, Investigation, "OOS"),
                batch_id=batch.id,
                assay_result_id=result.id,
                analyte=result.analyte,
                description=f"out of specification on {batch.batch_code}: {item.reason}",
            )
        )
        outcome.investigations.append(investigation)
        if batch.status is BatchStatus.released_at_risk and item.conditional:
            _escalate(uow, batch, item.reason, outcome)
    return outcome


def _escalate(uow: UnitOfWork, batch: Batch, reason: str, outcome: EntryOutcome) -> None:
    outcome.deviations.append(
        open_deviation(
            uow,
            category="post_release_oos",
            severity="critical",
            description=f"{batch.batch_code} was released at risk and its final result "
            f"fails: {reason}",
            batch=batch,
        )
    )
    patient = get_record(uow.session, Patient, batch.patient_id)
    outcome.notifications.append(
        uow.add(
            Notification(
                site_id=patient.treating_site_id,
                batch_id=batch.id,
                subject=f"URGENT: {batch.batch_code} released at risk fails its final test",
                body=f"Batch {batch.batch_code} for patient {patient.patient_code} was "
                f"released at risk. Its final result fails: {reason}. Contact the "
                "manufacturing site's QA; assess the patient.",
            )
        )
    )


def latest_evaluation(session: Session, batch: Batch) -> Evaluation | None:
    """The batch's most recent lot-release evaluation."""
    return session.scalars(
        select(Evaluation)
        .where(
            Evaluation.subject_table == "batches",
            Evaluation.subject_id == batch.id,
            Evaluation.purpose == PURPOSE,
        )
        .order_by(Evaluation.id.desc())
        .limit(1)
    ).first()


def review(
    uow: UnitOfWork, *, batch: str, spec: Specification, password: str | Reauthentication
) -> tuple[Evaluation, Decision]:
    """Evaluate the batch's current results against ``spec``, record and e-sign the review.

    The batch moves to quarantine (awaiting disposition) if it was in process. The
    reviewer must not have entered any of the results (second-person review,
    :func:`~vein2vein.release.guards.guard_review`).
    """
    require(uow.actor, "result.review")
    reviewer = user_id_of(uow.actor)
    row = uow.get(Batch, batch)
    results = current_results(uow.session, row)
    if not results:
        msg = f"batch {row.batch_code} has no results to review"
        raise TransitionRefusedError(msg)
    second_person = guard_review(actor_id=reviewer, entered_by={r.entered_by_id for r in results})
    if not second_person.ok:
        msg = f"{uow.actor.username} cannot review the results of {row.batch_code}"
        raise TransitionRefusedError(msg, reasons=second_person.reasons)
    decision = evaluate(spec, as_spec_results(results), context=batch_context(row))
    # Mark the results reviewed first: the fingerprint covers each result's status,
    # so taking it before this change would make the review stale at once.
    for r in results:
        if r.reviewed_by_id is None:
            r.reviewed_by_id = reviewer
            r.status = "reviewed"
    uow.flush()  # one flush (and one audit batch) for all of them
    fingerprint = results_sha256(results, batch_context(row))
    evaluation = store_decision(uow, row, decision, purpose=PURPOSE, results_sha256=fingerprint)
    sign(uow, evaluation, password=password, meaning="reviewed")
    if row.status is BatchStatus.in_process:
        uow.change(row, status=BatchStatus.quarantine, reason="results reviewed")
    return evaluation, decision


def release_facts(session: Session, batch: Batch, *, actor_id: int) -> ReleaseFacts:
    """Gather what the disposition guards need."""
    evaluation = latest_evaluation(session, batch)
    results = current_results(session, batch)
    reviewers: set[int] = set()
    if evaluation is not None:
        reviewers = set(
            session.scalars(
                select(Signature.user_id).where(
                    Signature.record_table == "evaluations", Signature.record_id == evaluation.id
                )
            )
        )
    reviewers |= {r.reviewed_by_id for r in results if r.reviewed_by_id is not None}
    return ReleaseFacts(
        batch_status=str(batch.status),
        evaluation_outcome=evaluation.outcome if evaluation else None,
        items=[
            EvaluatedItem(
                analyte=i["analyte"],
                outcome=i["outcome"],
                conditional=bool(i.get("conditional")),
                reason=i["reason"],
            )
            for i in (evaluation.items if evaluation else [])
        ],
        results_current=evaluation is not None
        and evaluation.results_sha256 == results_sha256(results, batch_context(batch)),
        actor_id=actor_id,
        entered_by={r.entered_by_id for r in results},
        reviewed_by=reviewers,
        problems=lot_problems(session, batch),
    )


def decide(
    uow: UnitOfWork,
    *,
    batch: str,
    disposition: str,
    password: str | Reauthentication,
    justification: str | None = None,
) -> Disposition:
    """Decide the lot as a QA reviewer, after the guards agree; e-signed (re-authentication).

    ``released`` needs a passing, current review; ``released_at_risk`` allows only
    conditional tests to be pending and needs a justification; ``rejected`` needs a
    reason. The person who entered or reviewed results cannot decide. Neither release
    passes an open deviation or investigation of the lot
    (:func:`~vein2vein.release.guards.guard_open_problems`); a rejection does.
    """
    require(uow.actor, "lot.disposition")
    decider = user_id_of(uow.actor)
    if disposition not in DISPOSITIONS:
        msg = f"unknown disposition {disposition!r}; one of: {', '.join(DISPOSITIONS)}"
        raise InvalidInputError(msg, field="disposition")
    row = uow.get(Batch, batch)
    facts = release_facts(uow.session, row, actor_id=decider)
    if disposition == "released":
        if row.status is BatchStatus.released_at_risk:
            facts = _confirming(facts)
        verdict = guard_release(facts)
    elif disposition == "released_at_risk":
        verdict = guard_release_at_risk(facts, justification=justification)
    else:
        verdict = guard_reject(facts, justification=justification)
    if not verdict.ok:
        msg = f"{row.batch_code} cannot be {disposition.replace('_', ' ')}"
        raise TransitionRefusedError(msg, reasons=verdict.reasons)
    evaluation = latest_evaluation(uow.session, row)  # None: rejected before any review
    status, meaning = DISPOSITIONS[disposition]
    record = uow.add(
        Disposition(
            batch_id=row.id,
            evaluation_id=evaluation.id if evaluation else None,
            disposition=disposition,
            justification=justification,
            decided_by_id=decider,
        )
    )
    sign(uow, record, password=password, meaning=meaning)
    uow.change(row, status=status, reason=f"{disposition}: {justification or 'specification met'}")
    return record


def _confirming(facts: ReleaseFacts) -> ReleaseFacts:
    # Confirming a lot released at risk once its final results are in and reviewed.
    return ReleaseFacts(
        batch_status="quarantine",
        evaluation_outcome=facts.evaluation_outcome,
        items=facts.items,
        results_current=facts.results_current,
        actor_id=facts.actor_id,
        entered_by=facts.entered_by,
        reviewed_by=facts.reviewed_by,
        problems=facts.problems,
    )

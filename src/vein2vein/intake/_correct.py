"""Correct an intake decision made on a wrong value: audited, with a reason, re-evaluated.

A donation is decided once (:func:`~vein2vein.intake.decide_intake` refuses a decided
one). When a characterization value turns out to have been mistyped (a CD3 count of
-1.5 for 1.5), the correction goes through the audited change path, as for any other
record: the corrected value and the reason are recorded, the specification the
donation was decided against is evaluated again on the corrected results, and the
donation's status follows the new decision. The earlier evaluation and status stay in
the trail; a signature on the donation shows invalid once its status changes.

A donation that already started a batch is not re-decided: the starting material is
in manufacture, and a value found wrong then is a deviation of that batch.

References
----------
21 CFR 11.10(e) and 211.194(b) (changes to records: the original kept, the change
recorded with who, when and why); EU GMP Chapter 4.9 and Annex 11 section 9
("for change or deletion of GMP-relevant data the reason should be documented").
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from ..errors import InvalidInputError, RecordConflictError
from ..records import Batch, Donation, Evaluation, UnitOfWork, audit, require
from ..specs import Result, Specification
from ._import import IntakeOutcome, record_intake_decision

__all__ = ["correct_intake", "latest_intake_evaluation"]


def latest_intake_evaluation(uow: UnitOfWork, donation: Donation) -> Evaluation | None:
    """The donation's most recent intake evaluation, or ``None`` if it was never decided."""
    return uow.session.scalars(
        select(Evaluation)
        .where(
            Evaluation.subject_table == "donations",
            Evaluation.subject_id == donation.id,
            Evaluation.purpose == "intake",
        )
        .order_by(Evaluation.id.desc())
        .limit(1)
    ).first()


def _as_results(evaluation: Evaluation) -> dict[str, Result]:
    """The results an evaluation was made on, as the engine takes them again."""
    results: dict[str, Result] = {}
    for item in evaluation.items:
        if item.get("result_text") is None:
            continue  # not reported
        value = item.get("value")
        if value is None:  # qualitative, or a value the engine could not read
            results[item["analyte"]] = Result(item["analyte"], item["result_text"])
        else:  # the number in the item's unit, with its censoring qualifier
            text = f"{item.get('qualifier') or ''}{float(value)!r}"
            results[item["analyte"]] = Result(item["analyte"], text, item.get("unit"))
    return results


def correct_intake(
    uow: UnitOfWork,
    *,
    din: str,
    corrections: Sequence[Result],
    reason: str,
    spec: Specification,
    accept_with_deviation: str | None = None,
) -> IntakeOutcome:
    """Correct characterization values of a decided donation and decide it again.

    Parameters
    ----------
    uow
        The unit of work; its actor may decide intake (QC analyst or QA reviewer).
    din
        The donation's DIN.
    corrections
        The corrected results; each replaces the earlier result of its analyte.
    reason
        Why the earlier value was wrong and where the right one comes from (required);
        recorded with the new evaluation and the status change.
    spec
        The intake specification the donation was decided against (same id and
        version).
    accept_with_deviation
        A documented justification to accept the donation should it still fail.

    Returns
    -------
    IntakeOutcome
        The new decision.

    Raises
    ------
    InvalidInputError
        A blank reason (field ``reason``), no corrections or an analyte not in the
        specification (field ``analyte``), or another specification than the one the
        donation was decided against (field ``spec``).
    RecordConflictError
        The donation was never decided, or it already started a batch.
    """
    require(uow.actor, "intake.decide")
    if not reason.strip():
        msg = "a correction needs its reason (what was wrong, where the right value is from)"
        raise InvalidInputError(msg, field="reason")
    if not corrections:
        msg = "name at least one corrected value"
        raise InvalidInputError(msg, field="analyte")
    analytes = {i.analyte for i in spec.items}
    for c in corrections:
        if c.analyte not in analytes:
            msg = f"{c.analyte!r} is not a test of {spec.id}; one of: {', '.join(sorted(analytes))}"
            raise InvalidInputError(msg, field="analyte")
    donation = uow.get(Donation, din)
    batch = uow.session.scalars(select(Batch).where(Batch.donation_id == donation.id)).first()
    if batch is not None:
        msg = (
            f"donation {donation.din} already started batch {batch.batch_code}; its intake "
            "is not re-decided once manufacture started (open a deviation on the batch)"
        )
        raise RecordConflictError(msg)
    earlier = latest_intake_evaluation(uow, donation)
    if earlier is None:
        msg = f"donation {donation.din} has no intake decision to correct; import it first"
        raise RecordConflictError(msg)
    if (earlier.spec_id, earlier.spec_version) != (spec.id, spec.version):
        msg = (
            f"donation {donation.din} was decided against {earlier.spec_id} "
            f"v{earlier.spec_version}; correct it against the same specification"
        )
        raise InvalidInputError(msg, field="spec")
    results = _as_results(earlier)
    changed = []
    for c in corrections:
        before = results[c.analyte].text if c.analyte in results else "not reported"
        changed.append(f"{c.analyte} {before} -> {c.text}")
        results[c.analyte] = c
    why = f"correction ({'; '.join(changed)}): {reason.strip()}"
    previous = uow.session.info.get("vein2vein.reason")
    audit.set_reason(uow.session, why)  # the new evaluation carries the reason too
    try:
        return record_intake_decision(
            uow,
            donation,
            list(results.values()),
            spec=spec,
            accept_with_deviation=accept_with_deviation,
            label=f"intake {why}",
        )
    finally:
        audit.set_reason(uow.session, previous)

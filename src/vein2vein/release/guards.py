"""Guards of the lot-disposition workflow: plain functions that return a Decision.

Each guard says whether a transition may happen and, if not, why, in words a QA
reviewer can act on. No database: the workflow gathers the facts and asks.

References
----------
21 CFR 211.22 (quality control unit), 211.192 (review of production records) and
211.165 (testing and release for distribution); 21 CFR 1271.265(c) (release of HCT/Ps);
FDA, "Guidance for Industry: Investigating Out-of-Specification (OOS) Test Results
for Pharmaceutical Production" (2006); EU GMP Annex 16 (certification and batch
release) and the EU GMP Guidelines for ATMPs (2017) section 11.4 on batch release
before all test results are available.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ..specs import Decision, Outcome

__all__ = [
    "EvaluatedItem",
    "ReleaseFacts",
    "guard_reject",
    "guard_release",
    "guard_release_at_risk",
    "guard_segregation",
]


@dataclass(frozen=True, slots=True)
class EvaluatedItem:
    """What a guard needs of one evaluated spec item."""

    analyte: str
    outcome: str
    conditional: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ReleaseFacts:
    """The facts a disposition rests on.

    Attributes
    ----------
    batch_status
        The batch's status now.
    evaluation_outcome
        Overall outcome of the reviewed evaluation (``pass``, ``fail``, ``pending``,
        ``invalid``), or ``None`` if results were never reviewed.
    items
        The evaluated items.
    results_current
        False when results were entered after the review (the review is stale).
    actor_id
        The QA reviewer deciding.
    entered_by
        Who entered any of the batch's results.
    reviewed_by
        Who reviewed (signed) the results.
    """

    batch_status: str
    evaluation_outcome: str | None
    items: Sequence[EvaluatedItem]
    results_current: bool
    actor_id: int
    entered_by: Collection[int]
    reviewed_by: Collection[int]


_DECIDABLE = ("in_process", "quarantine")


def guard_segregation(facts: ReleaseFacts) -> Decision:
    """The person who entered or reviewed the results cannot decide the lot."""
    reasons = []
    if facts.actor_id in facts.entered_by:
        reasons.append("you entered results of this batch; another person must decide the lot")
    if facts.actor_id in facts.reviewed_by:
        reasons.append("you reviewed the results of this batch; another person must decide the lot")
    return Decision.refuse(*reasons) if reasons else Decision.allow("segregation of duties kept")


def _segregated(decision: Decision, facts: ReleaseFacts) -> Decision:
    # Decision.combine joins every reason; a refusal lists only what refuses it.
    segregation = guard_segregation(facts)
    if decision.ok and segregation.ok:
        return Decision.combine(decision, segregation)
    return Decision.refuse(*(r for d in (decision, segregation) if not d.ok for r in d.reasons))


def _reviewed(facts: ReleaseFacts) -> list[str]:
    reasons = []
    if facts.batch_status not in _DECIDABLE:
        reasons.append(f"the batch is {facts.batch_status}; only a batch in quarantine is decided")
    if facts.evaluation_outcome is None:
        reasons.append("the results have not been reviewed against the specification")
    elif not facts.results_current:
        reasons.append("results were entered after the review; review them again")
    return reasons


def guard_release(facts: ReleaseFacts) -> Decision:
    """Release needs reviewed, current results that meet every required criterion."""
    reasons = _reviewed(facts)
    if facts.evaluation_outcome is not None and facts.evaluation_outcome != Outcome.passed:
        not_met = [i.reason for i in facts.items if i.outcome != Outcome.passed]
        reasons.append(
            f"the specification is not met ({facts.evaluation_outcome}): " + "; ".join(not_met)
        )
    decision = Decision.refuse(*reasons) if reasons else Decision.allow("specification met")
    return _segregated(decision, facts)


def guard_release_at_risk(facts: ReleaseFacts, *, justification: str | None) -> Decision:
    """Release at risk: only conditional tests (14-day sterility) may still be pending.

    Every other item must pass, nothing may fail, and a documented justification
    (the clinical need) is required.
    """
    reasons = _reviewed(facts)
    if not (justification and justification.strip()):
        reasons.append("a release at risk needs a documented justification")
    failing = [i for i in facts.items if i.outcome in (Outcome.failed, Outcome.invalid)]
    if failing:
        reasons.append(
            "a result does not meet its criterion: " + "; ".join(i.reason for i in failing)
        )
    pending = [i for i in facts.items if i.outcome == Outcome.pending]
    unconditional = [i for i in pending if not i.conditional]
    if unconditional:
        reasons.append(
            "only conditional tests may be pending at release at risk; pending: "
            + ", ".join(i.analyte for i in unconditional)
        )
    if not pending and not failing and facts.evaluation_outcome == Outcome.passed:
        reasons.append("every result is in; release the lot normally")
    if reasons:
        decision = Decision.refuse(*reasons)
    else:
        decision = Decision.allow(
            "released at risk while pending: " + ", ".join(i.analyte for i in pending)
        )
    return _segregated(decision, facts)


def guard_reject(facts: ReleaseFacts, *, justification: str | None) -> Decision:
    """Reject a lot in quarantine, or recall one released at risk; a reason is required.

    Recall covers a lot released at risk whose final sterility then grows. As every
    disposition, it is made by someone who neither entered nor reviewed the results.
    """
    reasons = []
    if facts.batch_status not in (*_DECIDABLE, "released_at_risk"):
        reasons.append(
            f"the batch is {facts.batch_status}; only a batch in quarantine or released "
            "at risk can be rejected"
        )
    if not (justification and justification.strip()):
        reasons.append("a rejection needs a reason")
    decision = Decision.refuse(*reasons) if reasons else Decision.allow("rejected")
    return _segregated(decision, facts)

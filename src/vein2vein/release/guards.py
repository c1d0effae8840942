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
    "LotProblem",
    "ReleaseFacts",
    "guard_open_problems",
    "guard_reject",
    "guard_release",
    "guard_release_at_risk",
    "guard_review",
    "guard_segregation",
    "problem_blocks",
]


@dataclass(frozen=True, slots=True)
class EvaluatedItem:
    """What a guard needs of one evaluated spec item."""

    analyte: str
    outcome: str
    conditional: bool
    reason: str


@dataclass(frozen=True, slots=True)
class LotProblem:
    """What a guard needs of one deviation or OOS investigation that reaches the lot.

    Attributes
    ----------
    kind
        ``deviation`` or ``investigation``.
    code
        ``DEV-000002``, ``OOS-000001``.
    severity
        The deviation's severity (``minor``, ``major``, ``critical``); ``OOS`` for an
        investigation.
    category
        The deviation's category; the analyte of an investigation.
    description
        What it is, in words.
    status
        ``open``, ``acknowledged`` (still open) or ``closed``.
    via
        How it reaches the lot: ``batch``, ``donation``, ``material``, ``room``,
        ``process``.
    own_result
        An OOS investigation of a result of this very lot.
    outcome
        How a closed investigation ended: ``confirmed`` or ``invalidated``.
    assessment
        QA's latest impact assessment for this lot: ``no_impact``, ``impact`` or
        ``None``.
    assessment_reason
        The reason QA gave.
    assessment_current
        False when the problem changed after QA assessed it (the assessment then no
        longer lets it pass).
    """

    kind: str
    code: str
    severity: str
    category: str
    description: str
    status: str
    via: str
    own_result: bool = False
    outcome: str | None = None
    assessment: str | None = None
    assessment_reason: str | None = None
    assessment_current: bool = True

    @property
    def label(self) -> str:
        """``deviation DEV-000002 (critical, chain_of_identity)`` or ``OOS investigation ...``."""
        if self.kind == "investigation":
            return f"OOS investigation {self.code} ({self.category})"
        return f"deviation {self.code} ({self.severity}, {self.category})"


def problem_blocks(problem: LotProblem) -> str | None:
    """Why ``problem`` keeps its lot from release, or ``None`` when it does not.

    A problem passes when it is closed, or while open when QA assessed it as having no
    impact on this lot and it has not changed since. It blocks when QA assessed an
    impact on this lot (closed or not: closing a deviation does not undo its effect on
    a lot), and an OOS investigation of the lot's own result blocks until it is
    closed, and for good when it confirms the result (a confirmed OOS result fails the
    lot; retesting cannot overrule it, FDA OOS guidance 2006, VI.B).
    """
    where = "" if problem.via == "batch" else f", through its {problem.via},"
    if problem.assessment == "impact":
        return (
            f"QA assessed {problem.label}{where} as affecting this lot: "
            f"{problem.assessment_reason or 'no reason recorded'}"
        )
    if problem.own_result and problem.status == "closed" and problem.outcome == "confirmed":
        return f"{problem.label} confirmed the out-of-specification result of this lot"
    if problem.status == "closed":
        return None
    if problem.own_result:
        return (
            f"{problem.label} is open: {problem.description}; close the investigation "
            "(confirmed or invalidated) before the lot is released"
        )
    if problem.assessment == "no_impact" and problem.assessment_current:
        return None
    if problem.assessment == "no_impact":
        return (
            f"{problem.label}{where} changed after QA assessed it as having no impact on "
            "this lot; assess it again"
        )
    return (
        f"{problem.label}{where} is {problem.status}: {problem.description}; close it or "
        "record a QA impact assessment for this lot"
    )


def guard_open_problems(problems: Sequence[LotProblem]) -> Decision:
    """No lot is released past an open problem.

    Every deviation and OOS investigation that reaches the lot (opened on it, on its
    donation, or linked through a material, room or process) must be closed, or
    assessed by QA as having no impact on this lot (e-signed, with the reason). See
    :func:`problem_blocks` for each rule. Cites 21 CFR 211.192 (unexplained
    discrepancies investigated before release, the investigation extended to other
    batches that may be associated) and 211.22(a); EU GMP Chapter 1, 1.4(xiv), and
    Annex 16 section 1.7 (deviations investigated and assessed before certification).
    """
    reasons = [r for r in map(problem_blocks, problems) if r is not None]
    if reasons:
        return Decision.refuse(*reasons)
    if not problems:
        return Decision.allow("no deviation or investigation against the lot")
    return Decision.allow("every deviation and investigation is closed or assessed")


def guard_review(*, actor_id: int, entered_by: Collection[int]) -> Decision:
    """A reviewer cannot review results they entered themselves (second-person review).

    Cites 21 CFR 211.194(a)(8) (the signature of a second person showing the original
    records were reviewed) and EU GMP Chapter 6.17(vii) (the initials of the persons
    who verified the testing).
    """
    if actor_id in entered_by:
        return Decision.refuse("you entered results of this batch; another person must review them")
    return Decision.allow("second-person review")


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
    problems
        Every deviation and investigation that reaches the lot.
    """

    batch_status: str
    evaluation_outcome: str | None
    items: Sequence[EvaluatedItem]
    results_current: bool
    actor_id: int
    entered_by: Collection[int]
    reviewed_by: Collection[int]
    problems: Sequence[LotProblem] = ()


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


def _problems(facts: ReleaseFacts) -> list[str]:
    verdict = guard_open_problems(facts.problems)
    return [] if verdict.ok else list(verdict.reasons)


def guard_release(facts: ReleaseFacts) -> Decision:
    """Release needs reviewed, current results that meet every required criterion.

    And no open problem: see :func:`guard_open_problems`.
    """
    reasons = _reviewed(facts)
    if facts.evaluation_outcome is not None and facts.evaluation_outcome != Outcome.passed:
        not_met = [i.reason for i in facts.items if i.outcome != Outcome.passed]
        reasons.append(
            f"the specification is not met ({facts.evaluation_outcome}): " + "; ".join(not_met)
        )
    reasons += _problems(facts)
    decision = Decision.refuse(*reasons) if reasons else Decision.allow("specification met")
    return _segregated(decision, facts)


def guard_release_at_risk(facts: ReleaseFacts, *, justification: str | None) -> Decision:
    """Release at risk: only conditional tests (14-day sterility) may still be pending.

    Every other item must pass, nothing may fail, a documented justification (the
    clinical need) is required, and no problem may be open
    (:func:`guard_open_problems`): only a pending test is a risk taken knowingly.
    """
    reasons = _reviewed(facts)
    if not (justification and justification.strip()):
        reasons.append("a release at risk needs a documented justification")
    reasons += _problems(facts)
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
    Open problems do not stand in the way of a rejection.
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

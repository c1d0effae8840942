"""The problems of a lot: every deviation and OOS investigation that reaches it, and QA's view.

:func:`lot_problems` gathers the facts :func:`~vein2vein.release.guards.guard_open_problems`
decides on; :func:`problem_report` adds what a reviewer reads (the resolution or
conclusion, who assessed or closed, and whether those signatures still hold) for
``batch show``, ``release problems`` and the certificate of analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..records import (
    Batch,
    Deviation,
    ImpactAssessment,
    Investigation,
    Problem,
    ProblemRoute,
    SignatureStatus,
    audit,
    batch_problems,
    latest_assessment,
    problem_fingerprint,
    signatures_of,
)
from .guards import LotProblem, problem_blocks

__all__ = ["ProblemReport", "lot_problems", "problem_report"]


@dataclass(frozen=True, slots=True)
class ProblemReport:
    """One problem of a lot as a reviewer reads it.

    Attributes
    ----------
    fact
        What the release guard decides on.
    blocks
        Why it keeps the lot from release, or ``None``.
    detail
        What links it to the lot (a material lot, a room), for linked problems.
    resolution
        How it was closed: a deviation's resolution, an investigation's conclusion.
    closed_by
        The closing signature, or ``None``.
    assessed_by
        The signature on QA's latest impact assessment for this lot, or ``None``.
    assessed_at
        When that assessment was made.
    """

    fact: LotProblem
    blocks: str | None
    detail: str | None
    resolution: str | None
    closed_by: SignatureStatus | None
    assessed_by: SignatureStatus | None
    assessed_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON output."""
        f = self.fact
        return {
            "kind": f.kind,
            "code": f.code,
            "severity": f.severity,
            "category": f.category,
            "description": f.description,
            "status": f.status,
            "via": f.via,
            "detail": self.detail,
            "outcome": f.outcome,
            "resolution": self.resolution,
            "closed_by": self.closed_by.manifestation if self.closed_by else None,
            "assessment": None
            if f.assessment is None
            else {
                "conclusion": f.assessment,
                "reason": f.assessment_reason,
                "signature": self.assessed_by.manifestation if self.assessed_by else None,
                "valid": bool(self.assessed_by and self.assessed_by.valid),
                "current": f.assessment_current,
                "assessed_at": self.assessed_at,
            },
            "blocks_release": self.blocks,
        }


def _fact(route: ProblemRoute, batch: Batch, assessment: ImpactAssessment | None) -> LotProblem:
    p = route.problem
    conclusion = assessment.conclusion if assessment else None
    reason = assessment.reason if assessment else None
    current = assessment is None or assessment.problem_sha256 == problem_fingerprint(p)
    if isinstance(p, Deviation):
        return LotProblem(
            kind="deviation",
            code=p.code,
            severity=p.severity,
            category=p.category,
            description=p.description,
            status=str(p.status),
            via=route.via,
            assessment=conclusion,
            assessment_reason=reason,
            assessment_current=current,
        )
    return LotProblem(
        kind="investigation",
        code=p.code,
        severity="OOS",
        category=p.analyte,
        description=p.description,
        status=p.status,
        via=route.via,
        own_result=p.batch_id == batch.id,
        outcome=p.outcome,
        assessment=conclusion,
        assessment_reason=reason,
        assessment_current=current,
    )


def lot_problems(session: Session, batch: Batch) -> list[LotProblem]:
    """Every deviation and investigation reaching ``batch``, with QA's latest assessment."""
    return [
        _fact(route, batch, latest_assessment(session, route.problem, batch))
        for route in batch_problems(session, batch)
    ]


def _resolution(session: Session, problem: Problem) -> str | None:
    if isinstance(problem, Investigation):
        return problem.conclusion
    if problem.status != "closed":
        return None
    # A deviation's resolution is the reason recorded with its closing change.
    for entry in reversed(audit.history(session, "deviations", problem.id)):
        if entry.changes.get("status", [None, None])[1] == "closed":
            return entry.reason
    return None


def _closing_signature(session: Session, problem: Problem) -> SignatureStatus | None:
    if problem.status != "closed":
        return None
    approved = [s for s in signatures_of(session, problem) if s.meaning == "approved"]
    return approved[-1] if approved else None


def problem_report(session: Session, batch: Batch) -> list[ProblemReport]:
    """What ``batch show``, ``release problems`` and the CoA print for each problem."""
    reports = []
    for route in batch_problems(session, batch):
        assessment = latest_assessment(session, route.problem, batch)
        fact = _fact(route, batch, assessment)
        signed = signatures_of(session, assessment) if assessment else []
        reports.append(
            ProblemReport(
                fact=fact,
                blocks=problem_blocks(fact),
                detail=route.detail,
                resolution=_resolution(session, route.problem),
                closed_by=_closing_signature(session, route.problem),
                assessed_by=signed[-1] if signed else None,
                assessed_at=assessment.assessed_at if assessment else None,
            )
        )
    return reports

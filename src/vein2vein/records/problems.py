"""Problems against lots: which deviations and investigations reach a batch, and QA's view.

A *problem* is a :class:`~vein2vein.records.Deviation` or an OOS
:class:`~vein2vein.records.Investigation`. It reaches a batch directly (opened on the
batch), through the batch's donation (opened on the starting material), or through an
explicit :class:`~vein2vein.records.ProblemLink` made with :func:`link_problem` (a
shared material lot, the room, the process). Later features that find the batches an
event could have touched (an environmental excursion in a room, a recalled material
lot) only call :func:`link_problem` for each; release then weighs the problem for every
linked lot.

QA records, per problem and per lot, whether it affects that lot
(:func:`assess_impact`, e-signed with re-authentication, meaning *approved*).

References
----------
21 CFR 211.192 (any unexplained discrepancy "shall be thoroughly investigated ... The
investigation shall extend to other batches of the same drug product and other drug
products that may have been associated with the specific failure or discrepancy");
EU GMP Chapter 1, 1.4(xiv) (deviations reported, investigated and recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..errors import InvalidInputError, RecordNotFoundError
from . import audit
from ._canonical import canonical_json, record_image, sha256_hex
from ._database import UnitOfWork, get_record
from ._schema import Batch, Deviation, Investigation
from ._schema_problems import IMPACT_CONCLUSIONS, LINK_ROUTES, ImpactAssessment, ProblemLink
from .signatures import Reauthentication, sign
from .users import require, user_id_of

__all__ = [
    "IMPACT_CONCLUSIONS",
    "LINK_ROUTES",
    "Problem",
    "ProblemRoute",
    "assess_impact",
    "batch_problems",
    "conclusion_words",
    "get_problem",
    "latest_assessment",
    "link_problem",
    "problem_fingerprint",
]

#: A deviation or an OOS investigation.
Problem = Deviation | Investigation

_WORDS: Final = {"no_impact": "no impact on this lot", "impact": "affects this lot"}
# Where a problem stands in its life cycle, not what it says.
_LIFECYCLE: Final = frozenset({"status", "outcome", "conclusion", "closed_at"})


@dataclass(frozen=True, slots=True)
class ProblemRoute:
    """A problem that reaches a batch, and how (``batch``, ``donation``, ``material``...)."""

    problem: Problem
    via: str
    detail: str | None = None


def get_problem(session: Session, code: str) -> Problem:
    """A deviation (``DEV-000001``) or an investigation (``OOS-000001``) by its code."""
    found: Problem | None = session.scalars(
        select(Deviation).where(Deviation.code == code)
    ).one_or_none()
    if found is None:
        found = session.scalars(
            select(Investigation).where(Investigation.code == code)
        ).one_or_none()
    if found is not None:
        return found
    msg = f"no deviation or investigation {code!r}"
    raise RecordNotFoundError(msg)


def _problem(session: Session, problem: str | Problem) -> Problem:
    return get_problem(session, problem) if isinstance(problem, str) else problem


def _batch(session: Session, batch: str | Batch) -> Batch:
    return get_record(session, Batch, batch) if isinstance(batch, str) else batch


def _columns(problem: Problem) -> dict[str, int | None]:
    if isinstance(problem, Deviation):
        return {"deviation_id": problem.id, "investigation_id": None}
    return {"deviation_id": None, "investigation_id": problem.id}


def batch_problems(session: Session, batch: Batch) -> list[ProblemRoute]:
    """Every deviation and investigation that reaches ``batch``: deviations first, by code.

    Directly (opened on the batch), through its donation, then through explicit links;
    a problem that reaches the batch by several routes is listed once, by the first.
    """
    routes: dict[tuple[str, int], ProblemRoute] = {}
    direct: list[Problem] = [
        *session.scalars(
            select(Deviation)
            .where(or_(Deviation.batch_id == batch.id, Deviation.donation_id == batch.donation_id))
            .order_by(Deviation.id)
        ),
        *session.scalars(
            select(Investigation)
            .where(
                or_(
                    Investigation.batch_id == batch.id,
                    Investigation.donation_id == batch.donation_id,
                )
            )
            .order_by(Investigation.id)
        ),
    ]
    for row in direct:
        via = "batch" if row.batch_id == batch.id else "donation"
        routes[(row.__tablename__, row.id)] = ProblemRoute(row, via)
    links = session.scalars(
        select(ProblemLink).where(ProblemLink.batch_id == batch.id).order_by(ProblemLink.id)
    )
    for link in links:
        linked: Problem
        if link.deviation_id is not None:
            key = ("deviations", link.deviation_id)
            linked = get_record(session, Deviation, link.deviation_id)
        elif link.investigation_id is not None:
            key = ("investigations", link.investigation_id)
            linked = get_record(session, Investigation, link.investigation_id)
        else:  # the table's check constraint makes every link name one problem
            msg = f"problem link {link.id} names neither a deviation nor an investigation"
            raise RecordNotFoundError(msg)
        routes.setdefault(key, ProblemRoute(linked, link.via, link.detail))
    return sorted(
        routes.values(), key=lambda r: (isinstance(r.problem, Investigation), r.problem.id)
    )


def latest_assessment(session: Session, problem: Problem, batch: Batch) -> ImpactAssessment | None:
    """QA's most recent impact assessment of ``problem`` for ``batch`` (it supersedes others)."""
    columns = _columns(problem)
    return session.scalars(
        select(ImpactAssessment)
        .where(
            ImpactAssessment.batch_id == batch.id,
            ImpactAssessment.deviation_id.is_(None)
            if columns["deviation_id"] is None
            else ImpactAssessment.deviation_id == columns["deviation_id"],
            ImpactAssessment.investigation_id.is_(None)
            if columns["investigation_id"] is None
            else ImpactAssessment.investigation_id == columns["investigation_id"],
        )
        .order_by(ImpactAssessment.id.desc())
        .limit(1)
    ).first()


def problem_fingerprint(problem: Problem) -> str:
    """SHA-256 of what a problem says (its life-cycle fields aside).

    An impact assessment stores it: when the problem changes afterwards (a monitoring
    excursion that goes on and widens its window), the assessment no longer matches and
    QA assesses again. Acknowledging, closing or concluding it does not count as a change.
    """
    image = {
        k: v for k, v in record_image(problem).items() if k not in _LIFECYCLE and v is not None
    }
    return sha256_hex(canonical_json(image))


def link_problem(
    uow: UnitOfWork,
    *,
    problem: str | Problem,
    batch: str | Batch,
    via: str,
    detail: str | None = None,
) -> ProblemLink:
    """Link a deviation or investigation to a batch it may affect, audited.

    Parameters
    ----------
    uow
        The unit of work; its actor may open deviations or review results.
    problem
        The deviation or investigation, or its code (``DEV-000007``, ``OOS-000002``).
    batch
        The batch, or its code.
    via
        How the problem reaches the batch: one of :data:`LINK_ROUTES` (``batch``,
        ``donation``, ``material``, ``room``, ``process``).
    detail
        What links them: a material lot, a room code, a step, in words.

    Returns
    -------
    ProblemLink
        The link. Linking the same problem to the same batch again returns the
        existing link, so callers may link every batch in a room without checking.

    Raises
    ------
    InvalidInputError
        ``via`` is not a known route (field ``via``).
    """
    require(uow.actor, "problem.link")
    if via not in LINK_ROUTES:
        msg = f"via {via!r} is not one of {', '.join(LINK_ROUTES)}"
        raise InvalidInputError(msg, field="via")
    audit.serialize_writers(uow.session)  # so two writers never link the same pair twice
    row = _problem(uow.session, problem)
    lot = _batch(uow.session, batch)
    columns = _columns(row)
    existing = uow.session.scalars(
        select(ProblemLink).where(
            ProblemLink.batch_id == lot.id,
            ProblemLink.deviation_id == columns["deviation_id"]
            if columns["deviation_id"] is not None
            else ProblemLink.investigation_id == columns["investigation_id"],
        )
    ).first()
    if existing is not None:
        return existing
    text = detail.strip() if detail and detail.strip() else None
    return uow.add(
        ProblemLink(
            **columns, batch_id=lot.id, via=via, detail=text, linked_by_id=uow.actor.user_id
        )
    )


def assess_impact(
    uow: UnitOfWork,
    *,
    problem: str | Problem,
    batch: str | Batch,
    conclusion: str,
    reason: str,
    password: str | Reauthentication,
) -> ImpactAssessment:
    """Record QA's conclusion whether a problem affects one lot; e-signed (*approved*).

    A ``no_impact`` assessment lets the lot's release pass that problem while it is
    still open; an ``impact`` assessment keeps the lot from release whatever becomes of
    the problem, until a later assessment supersedes it. The earlier assessments stay
    on the record.

    Parameters
    ----------
    uow
        The unit of work; its actor must be a QA reviewer.
    problem
        The deviation or investigation, or its code.
    batch
        The lot assessed, or its code. The problem must reach it (opened on it or its
        donation, or linked with :func:`link_problem`).
    conclusion
        ``no_impact`` or ``impact``.
    reason
        Why, in words (required): the evidence the conclusion rests on.
    password
        The assessor's password, or a fresh :class:`~vein2vein.records.Reauthentication`.

    Raises
    ------
    InvalidInputError
        An unknown ``conclusion``, a blank ``reason``, a problem that does not reach the
        batch (field ``batch``), or ``no_impact`` on an OOS investigation of the lot's own
        result (field ``conclusion``): that is concluded by closing the investigation.
    PermissionDeniedError
        The actor is not a QA reviewer.
    SignatureError
        Re-authentication failed.
    """
    require(uow.actor, "problem.assess")
    assessor = user_id_of(uow.actor)
    if conclusion not in IMPACT_CONCLUSIONS:
        msg = f"conclusion {conclusion!r} is not one of {', '.join(IMPACT_CONCLUSIONS)}"
        raise InvalidInputError(msg, field="conclusion")
    if not reason.strip():
        msg = "an impact assessment needs its reason (the evidence it rests on)"
        raise InvalidInputError(msg, field="reason")
    row = _problem(uow.session, problem)
    lot = _batch(uow.session, batch)
    if all(r.problem is not row for r in batch_problems(uow.session, lot)):
        msg = (
            f"{row.code} does not reach batch {lot.batch_code}; link it first "
            "(vein2vein release link) if it may affect this lot"
        )
        raise InvalidInputError(msg, field="batch")
    if isinstance(row, Investigation) and row.batch_id == lot.id and conclusion == "no_impact":
        msg = (
            f"{row.code} investigates an out-of-specification result of {lot.batch_code} "
            "itself; it is concluded by closing the investigation, not by a no-impact "
            "assessment"
        )
        raise InvalidInputError(msg, field="conclusion")
    assessment = uow.add(
        ImpactAssessment(
            **_columns(row),
            batch_id=lot.id,
            conclusion=conclusion,
            reason=reason.strip(),
            problem_sha256=problem_fingerprint(row),
            assessed_by_id=assessor,
        )
    )
    sign(uow, assessment, password=password, meaning="approved")
    return assessment


def conclusion_words(conclusion: str) -> str:
    """An assessment's conclusion as people read it."""
    return _WORDS.get(conclusion, conclusion)

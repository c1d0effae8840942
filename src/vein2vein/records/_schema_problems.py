"""Problems and the lots they may affect: links and QA impact assessments.

A *problem* is a :class:`~vein2vein.records.Deviation` or an OOS
:class:`~vein2vein.records.Investigation`. Besides the batch (and donation) a problem
was opened against, it can be linked to every other batch it may have touched (a
shared material lot, the same room, the same process step); each link says how.
Per problem and per batch, QA records an impact assessment, e-signed: whether the
problem affects that lot. Kept apart from :mod:`vein2vein.records._schema` (which
imports these models at its end).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ._schema import Audited, Base
from ._types import utcnow

__all__ = ["IMPACT_CONCLUSIONS", "LINK_ROUTES", "ImpactAssessment", "ProblemLink"]

#: How a problem reaches a batch.
LINK_ROUTES: Final = ("batch", "donation", "material", "room", "process")
#: What QA concluded about a problem for one lot.
IMPACT_CONCLUSIONS: Final = ("no_impact", "impact")

_ONE_PROBLEM = "(deviation_id IS NULL) <> (investigation_id IS NULL)"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ProblemLink(Audited, Base):
    """A deviation or investigation linked to a batch it may affect, and how."""

    __tablename__ = "problem_links"
    __record_kind__ = "problem_link"
    __table_args__ = (
        CheckConstraint(_ONE_PROBLEM, name="one_problem"),
        CheckConstraint(_in("via", LINK_ROUTES), name="via"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviations.id"), default=None)
    investigation_id: Mapped[int | None] = mapped_column(
        ForeignKey("investigations.id"), default=None
    )
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    via: Mapped[str] = mapped_column(String(16))
    # What links them, in words or by identifier (a material lot, a room code).
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImpactAssessment(Audited, Base):
    """QA's e-signed conclusion whether a problem affects one lot, with the reason.

    Assessments are never changed: a later one for the same problem and lot
    supersedes the earlier, which stays on the record.
    """

    __tablename__ = "impact_assessments"
    __record_kind__ = "impact_assessment"
    __table_args__ = (
        CheckConstraint(_ONE_PROBLEM, name="one_problem"),
        CheckConstraint(_in("conclusion", IMPACT_CONCLUSIONS), name="conclusion"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviations.id"), default=None)
    investigation_id: Mapped[int | None] = mapped_column(
        ForeignKey("investigations.id"), default=None
    )
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    conclusion: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    # What the problem said when it was assessed (SHA-256 of its content, lifecycle
    # fields aside): an excursion that grows afterwards needs a new assessment.
    problem_sha256: Mapped[str] = mapped_column(String(64))
    assessed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Clinical follow-up records: infusion, toxicity, response and cellular kinetics.

Kept apart from :mod:`vein2vein.records._schema` (which imports these models at its
end) so the product records and the patient follow-up read separately. Every model
is :class:`~vein2vein.records._schema.Audited`; days are counted from the infusion
(day 0).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ._schema import Audited, Base
from ._types import utcnow

__all__ = ["Infusion", "KineticsSample", "ResponseAssessment", "ToxicityAssessment"]


class Infusion(Audited, Base):
    """The infusion of a released batch into its patient (day 0 of the follow-up)."""

    __tablename__ = "infusions"
    __record_kind__ = "infusion"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)
    din: Mapped[str] = mapped_column(String(13))
    infused_at: Mapped[datetime]
    dose_cells: Mapped[float] = mapped_column(Float)
    dose_per_kg: Mapped[float | None] = mapped_column(Float, default=None)
    indication: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ToxicityAssessment(Audited, Base):
    """One daily CRS or ICANS assessment: the observation, its ASTCT grade, treatment."""

    __tablename__ = "toxicity_assessments"
    __record_kind__ = "toxicity_assessment"
    __table_args__ = (
        UniqueConstraint("patient_id", "kind", "day"),
        CheckConstraint("kind IN ('crs', 'icans')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(8))
    day: Mapped[int] = mapped_column(Integer)
    grade: Mapped[int] = mapped_column(Integer)
    observation: Mapped[dict[str, Any]] = mapped_column(JSON)
    tocilizumab: Mapped[bool] = mapped_column(Boolean, default=False)
    steroids: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResponseAssessment(Audited, Base):
    """One disease response assessment (Lugano, IMWG or iwCLL), with any MRD result."""

    __tablename__ = "response_assessments"
    __record_kind__ = "response_assessment"
    __table_args__ = (
        CheckConstraint("criteria IN ('lugano', 'imwg', 'iwcll')", name="criteria"),
        CheckConstraint(
            "mrd_result IS NULL OR mrd_sensitivity IS NOT NULL", name="mrd_sensitivity"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    assessed_on: Mapped[datetime]
    day: Mapped[int] = mapped_column(Integer)
    criteria: Mapped[str] = mapped_column(String(16))
    response: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    mrd_result: Mapped[str | None] = mapped_column(String(16), default=None)
    mrd_sensitivity: Mapped[float | None] = mapped_column(Float, default=None)
    mrd_method: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KineticsSample(Audited, Base):
    """One CAR transgene level in the patient's blood (qPCR or flow), by day."""

    __tablename__ = "kinetics_samples"
    __record_kind__ = "kinetics_sample"
    __table_args__ = (UniqueConstraint("patient_id", "day", "method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    day: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(32))
    below_lloq: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

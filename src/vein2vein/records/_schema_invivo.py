"""In vivo CAR-T records: vector or LNP lots (not patient-specific) and patient dosings.

Kept apart from :mod:`vein2vein.records._schema` (which imports these models at its
end). A lot is released against the ``invivo-vector-lot-release`` specification
(the decision is an :class:`~vein2vein.records.Evaluation` on the lot); a patient is
dosed from a released lot, and the dosing is day 0 of the patient's follow-up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ._schema import Audited, Base, Patient, Site
from ._types import utcnow

__all__ = ["DOSE_UNITS", "INVIVO_PLATFORMS", "InvivoDosing", "InvivoLot"]

INVIVO_PLATFORMS = ("lentiviral", "lnp_mrna", "other")
"""Delivery platforms of an in vivo lot."""

DOSE_UNITS = ("TU/kg", "TU", "vg", "vg/kg", "mg/kg")
"""Units an in vivo dose may be recorded in."""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class InvivoLot(Audited, Base):
    """A vector or LNP lot for in vivo CAR-T generation: one lot doses many patients."""

    __tablename__ = "invivo_lots"
    __record_kind__ = "invivo_lot"
    __natural_key__ = "lot_code"
    __locked_statuses__ = frozenset({"released", "rejected"})
    __table_args__ = (
        CheckConstraint(_in("platform", INVIVO_PLATFORMS), name="platform"),
        CheckConstraint("status IN ('quarantine', 'released', 'rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_code: Mapped[str] = mapped_column(String(64), unique=True)
    product: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(16))
    titre: Mapped[float] = mapped_column(Float)
    titre_unit: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    manufactured_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="quarantine")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship()


class InvivoDosing(Audited, Base):
    """A patient dosed from an in vivo lot, with the baseline facts the dose acts on."""

    __tablename__ = "invivo_dosings"
    __record_kind__ = "invivo_dosing"
    __table_args__ = (CheckConstraint(_in("dose_unit", DOSE_UNITS), name="dose_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("invivo_lots.id"), index=True)
    dosed_at: Mapped[datetime]
    dose: Mapped[float] = mapped_column(Float)
    dose_unit: Mapped[str] = mapped_column(String(8))
    dose_level: Mapped[int | None] = mapped_column(Integer, default=None)
    indication: Mapped[str] = mapped_column(String(32))
    lymphodepletion: Mapped[bool] = mapped_column(Boolean)
    weight_kg: Mapped[float | None] = mapped_column(Float, default=None)
    baseline_alc: Mapped[float | None] = mapped_column(Float, default=None)
    baseline_cd3: Mapped[float | None] = mapped_column(Float, default=None)
    baseline_cd8: Mapped[float | None] = mapped_column(Float, default=None)
    tumour_burden: Mapped[float | None] = mapped_column(Float, default=None)
    anti_vector_titre: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship()
    lot: Mapped[InvivoLot] = relationship()

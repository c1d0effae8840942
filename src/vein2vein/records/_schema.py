"""The schema of the system of record (SQLAlchemy 2 declarative models).

Every model but :class:`AuditEntry` is *audited*: each insert and update writes an
audit entry in the same transaction (see :mod:`vein2vein.records.audit`). Records
are never deleted; a mistaken record is voided by a state change with a reason.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ._types import UTCDateTime, utcnow

__all__ = [
    "AccessEvent",
    "AccessEventKind",
    "ApiToken",
    "AssayResult",
    "AuditCheckpoint",
    "AuditEntry",
    "Audited",
    "Base",
    "Batch",
    "BatchStatus",
    "ControlLimitSet",
    "CustodyEvent",
    "Deviation",
    "DeviationStatus",
    "Disposition",
    "Donation",
    "DonationStatus",
    "Evaluation",
    "ImpactAssessment",
    "Infusion",
    "Ingest",
    "Investigation",
    "InvivoDosing",
    "InvivoLot",
    "KineticsSample",
    "Notification",
    "Patient",
    "ProblemLink",
    "ProcessParameter",
    "ProcessStep",
    "Reading",
    "ResponseAssessment",
    "Role",
    "Sample",
    "Signature",
    "SignatureMeaning",
    "SigningKey",
    "Site",
    "ToxicityAssessment",
    "User",
    "UserSession",
]

# Stable constraint names so Alembic migrations are the same on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Role(enum.StrEnum):
    """What a user is allowed to do; see :mod:`vein2vein.records.users`."""

    operator = "operator"
    qc_analyst = "qc_analyst"
    qa_reviewer = "qa_reviewer"
    clinician = "clinician"
    admin = "admin"


class DonationStatus(enum.StrEnum):
    """Starting-material disposition of a donation."""

    registered = "registered"
    accepted = "accepted"
    accepted_with_deviation = "accepted_with_deviation"
    rejected = "rejected"


class BatchStatus(enum.StrEnum):
    """Where a patient batch stands, from manufacture to infusion."""

    in_process = "in_process"
    quarantine = "quarantine"
    released = "released"
    released_at_risk = "released_at_risk"
    rejected = "rejected"
    infused = "infused"


class DeviationStatus(enum.StrEnum):
    """Life cycle of a deviation."""

    open = "open"
    acknowledged = "acknowledged"
    closed = "closed"


class SignatureMeaning(enum.StrEnum):
    """The meaning of an electronic signature (21 CFR 11.50(a)(3))."""

    authored = "authored"
    reviewed = "reviewed"
    approved = "approved"
    released = "released"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK, identical on SQLite and PostgreSQL.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=32)


class Base(DeclarativeBase):
    """Declarative base with a naming convention for constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Audited:
    """Mixin marking a model whose writes are audited.

    ``__record_kind__`` names the record in audit output (``batch:12``) and
    ``__natural_key__`` the column users know it by (``batch_code``).
    """

    __record_kind__: ClassVar[str]
    __natural_key__: ClassVar[str | None] = None
    # Statuses in which a change needs a reason even without a signature.
    __locked_statuses__: ClassVar[frozenset[str]] = frozenset()

    if TYPE_CHECKING:
        id: Mapped[int]


class Site(Audited, Base):
    """A manufacturing site or point-of-care hub, or a treating/collection centre."""

    __tablename__ = "sites"
    __record_kind__ = "site"
    __natural_key__ = "code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    facility_id: Mapped[str] = mapped_column(String(5), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Audited, Base):
    """A person who acts in the system; the printed name is used on signatures."""

    __tablename__ = "users"
    __record_kind__ = "user"
    __natural_key__ = "username"
    __redacted__: ClassVar[frozenset[str]] = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Account controls (see records.authentication). NULL in rows older than them, so
    # their audited images still match; NULL reads as 0 / never / not required.
    failed_attempts: Mapped[int | None] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    password_change_required: Mapped[bool | None] = mapped_column(Boolean, default=False)


class Patient(Audited, Base):
    """A patient, known by a pseudonymous code; no direct identifiers are stored."""

    __tablename__ = "patients"
    __record_kind__ = "patient"
    __natural_key__ = "patient_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_code: Mapped[str] = mapped_column(String(64), unique=True)
    treating_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Donation(Audited, Base):
    """An apheresis collection, identified by its ISBT 128 DIN."""

    __tablename__ = "donations"
    __record_kind__ = "donation"
    __natural_key__ = "din"

    id: Mapped[int] = mapped_column(primary_key=True)
    din: Mapped[str] = mapped_column(String(13), unique=True)
    flags: Mapped[str] = mapped_column(String(2), default="00")
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    collection_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    collected_at: Mapped[datetime]
    volume_ml: Mapped[float | None] = mapped_column(Float, default=None)
    status: Mapped[DonationStatus] = mapped_column(
        _enum(DonationStatus, "donation_status"), default=DonationStatus.registered
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship()
    collection_site: Mapped[Site] = relationship()


class Batch(Audited, Base):
    """One patient's product lot, manufactured at a site from one donation."""

    __tablename__ = "batches"
    __record_kind__ = "batch"
    __natural_key__ = "batch_code"
    __locked_statuses__ = frozenset(
        {BatchStatus.released, BatchStatus.released_at_risk, BatchStatus.infused}
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_code: Mapped[str] = mapped_column(String(64), unique=True)
    product: Mapped[str] = mapped_column(String(200))
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[BatchStatus] = mapped_column(
        _enum(BatchStatus, "batch_status"), default=BatchStatus.in_process
    )
    custodian: Mapped[str | None] = mapped_column(String(200), default=None)
    started_at: Mapped[datetime]
    patient_weight_kg: Mapped[float | None] = mapped_column(Float, default=None)
    dose_volume_ml: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    donation: Mapped[Donation] = relationship()
    patient: Mapped[Patient] = relationship()
    site: Mapped[Site] = relationship()


class ProcessStep(Audited, Base):
    """A manufacturing step of a batch (receipt, activation, transduction, ...)."""

    __tablename__ = "process_steps"
    __record_kind__ = "process_step"
    __table_args__ = (UniqueConstraint("batch_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class CustodyEvent(Audited, Base):
    """A hand-off of material from one custodian to the next, with the scan made."""

    __tablename__ = "custody_events"
    __record_kind__ = "custody_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    from_party: Mapped[str] = mapped_column(String(200))
    to_party: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime]
    temperature_c: Mapped[float | None] = mapped_column(Float, default=None)
    condition: Mapped[str | None] = mapped_column(String(32), default=None)
    scanned_din: Mapped[str] = mapped_column(String(64))
    scanned_patient: Mapped[str | None] = mapped_column(String(64), default=None)
    accepted: Mapped[bool] = mapped_column(Boolean)
    refusal_reason: Mapped[str | None] = mapped_column(Text, default=None)
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviations.id"), default=None)


class Sample(Audited, Base):
    """A sample drawn from a batch (or a patient after infusion) for testing."""

    __tablename__ = "samples"
    __record_kind__ = "sample"
    __natural_key__ = "sample_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_code: Mapped[str] = mapped_column(String(64), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    collected_at: Mapped[datetime]


class AssayResult(Audited, Base):
    """One reported result of an assay on a sample, as entered or imported."""

    __tablename__ = "assay_results"
    __record_kind__ = "assay_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id"), index=True)
    analyte: Mapped[str] = mapped_column(String(100))
    method: Mapped[str | None] = mapped_column(String(100), default=None)
    value_text: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float, default=None)
    unit: Mapped[str | None] = mapped_column(String(32), default=None)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(32), default="entered")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class Deviation(Audited, Base):
    """An unplanned departure from procedure or specification, in the batch record."""

    __tablename__ = "deviations"
    __record_kind__ = "deviation"
    __natural_key__ = "code"
    __locked_statuses__ = frozenset({DeviationStatus.closed})
    # Acknowledging and closing are signed steps of their own; the acknowledgement
    # signature stays valid when the deviation is closed (its content did not change).
    __unsigned__: ClassVar[frozenset[str]] = frozenset({"status"})
    __table_args__ = (
        CheckConstraint("severity IN ('minor', 'major', 'critical')", name="severity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), default=None)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), default=None)
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[DeviationStatus] = mapped_column(
        _enum(DeviationStatus, "deviation_status"), default=DeviationStatus.open
    )
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Where a monitoring signal came from: the rule, the parameter, the data window.
    source: Mapped[str | None] = mapped_column(String(100), default=None)
    parameter_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_parameters.id"), default=None
    )
    window_start: Mapped[datetime | None] = mapped_column(default=None)
    window_end: Mapped[datetime | None] = mapped_column(default=None)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class Evaluation(Audited, Base):
    """A specification evaluated against a subject's results: the decision and its basis.

    The spec's id, version and SHA-256 are stored with every decision, and the
    per-item outcomes with their reasons in words.
    """

    __tablename__ = "evaluations"
    __record_kind__ = "evaluation"
    __table_args__ = (Index("ix_evaluations_subject", "subject_table", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_table: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(32))
    spec_id: Mapped[str] = mapped_column(String(100))
    spec_version: Mapped[str] = mapped_column(String(32))
    spec_sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    results_sha256: Mapped[str] = mapped_column(String(64))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class Disposition(Audited, Base):
    """The disposition of a batch (released, released at risk, rejected), QA-signed."""

    __tablename__ = "dispositions"
    __record_kind__ = "disposition"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"), default=None)
    disposition: Mapped[str] = mapped_column(String(32))
    justification: Mapped[str | None] = mapped_column(Text, default=None)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class Investigation(Audited, Base):
    """An out-of-specification (OOS) investigation opened by a failing result."""

    __tablename__ = "investigations"
    __record_kind__ = "investigation"
    __natural_key__ = "code"
    __locked_statuses__ = frozenset({"closed"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), default=None)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), default=None)
    assay_result_id: Mapped[int | None] = mapped_column(
        ForeignKey("assay_results.id"), default=None
    )
    analyte: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when QA closes it (e-signed): ``confirmed`` (the result stands) or
    # ``invalidated`` (an assignable laboratory cause), and the conclusion in words.
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    conclusion: Mapped[str | None] = mapped_column(Text, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class Notification(Audited, Base):
    """A message to a site that it must act on (e.g. a positive sterility after release)."""

    __tablename__ = "notifications"
    __record_kind__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), default=None)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)


class ProcessParameter(Audited, Base):
    """A monitored process parameter, with its unit and the process step it belongs to."""

    __tablename__ = "process_parameters"
    __record_kind__ = "process_parameter"
    __natural_key__ = "name"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    unit: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ingest(Audited, Base):
    """One ingested file of readings: its provenance is audited, its rows are append-only."""

    __tablename__ = "ingests"
    __record_kind__ = "ingest"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    n_readings: Mapped[int] = mapped_column(Integer)
    n_batches: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    ingested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    # SHA-256 over the stored readings in canonical form (records.readings_sha256).
    readings_sha256: Mapped[str | None] = mapped_column(String(64), default=None)


class Reading(Base):
    """One sensor or in-process reading.

    Append-only (database triggers) and not audited row by row: its :class:`Ingest`
    carries the provenance, the file's SHA-256 and the SHA-256 of the readings as
    stored, which ``audit verify`` recomputes.
    """

    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint("batch_id", "parameter_id", "measured_at"),
        Index("ix_readings_parameter_time", "parameter_id", "measured_at"),
    )

    # BIGINT on PostgreSQL (millions of readings); SQLite needs INTEGER for its rowid.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    parameter_id: Mapped[int] = mapped_column(ForeignKey("process_parameters.id"))
    measured_at: Mapped[datetime]
    value: Mapped[float] = mapped_column(Float)
    ingest_id: Mapped[int] = mapped_column(ForeignKey("ingests.id"))


class ControlLimitSet(Audited, Base):
    """Phase I control limits of a parameter, versioned, with who set them from what."""

    __tablename__ = "control_limit_sets"
    __record_kind__ = "control_limits"
    __table_args__ = (UniqueConstraint("parameter_id", "site_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parameter_id: Mapped[int] = mapped_column(ForeignKey("process_parameters.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), default=None)
    version: Mapped[int] = mapped_column(Integer)
    chart: Mapped[str] = mapped_column(String(16))
    center: Mapped[float] = mapped_column(Float)
    lcl: Mapped[float] = mapped_column(Float)
    ucl: Mapped[float] = mapped_column(Float)
    sigma: Mapped[float] = mapped_column(Float)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    baseline_batches: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class Signature(Audited, Base):
    """An electronic signature: who, when, what it means, and the hash of what was signed.

    ``key_signature`` is the service key's Ed25519 signature of all of that
    (:func:`~vein2vein.records.signatures.signature_statement`), made with the key
    ``key_id``, so a signature row written behind the application's back is found.
    """

    __tablename__ = "signatures"
    __record_kind__ = "signature"
    __table_args__ = (Index("ix_signatures_record", "record_table", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_table: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    printed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[SignatureMeaning] = mapped_column(_enum(SignatureMeaning, "meaning"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(16), default=None)
    key_signature: Mapped[str | None] = mapped_column(String(128), default=None)


class AuditEntry(Base):
    """One append-only, hash-chained audit-trail entry.

    ``hash = SHA-256(prev_hash + canonical JSON of the entry)``; database triggers
    refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    user_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    record_table: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    after_image: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_entries_record", "record_table", "record_id"),)


# Clinical follow-up models live in their own module; imported here so the metadata and
# the audit hook know them.
from ._schema_access import AccessEvent, AccessEventKind, ApiToken, UserSession  # noqa: E402
from ._schema_clinical import (  # noqa: E402
    Infusion,
    KineticsSample,
    ResponseAssessment,
    ToxicityAssessment,
)
from ._schema_invivo import InvivoDosing, InvivoLot  # noqa: E402
from ._schema_keys import AuditCheckpoint, SigningKey  # noqa: E402
from ._schema_problems import ImpactAssessment, ProblemLink  # noqa: E402

AUDITED_MODELS: tuple[type[Audited], ...] = (
    Site,
    User,
    Patient,
    Donation,
    Batch,
    ProcessStep,
    CustodyEvent,
    Sample,
    AssayResult,
    Deviation,
    Evaluation,
    Disposition,
    Investigation,
    Notification,
    ProcessParameter,
    Ingest,
    ControlLimitSet,
    Signature,
    Infusion,
    ToxicityAssessment,
    ResponseAssessment,
    KineticsSample,
    InvivoLot,
    InvivoDosing,
    ProblemLink,
    ImpactAssessment,
    AccessEvent,
    ApiToken,
    SigningKey,
)

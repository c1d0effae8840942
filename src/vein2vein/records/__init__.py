"""The system of record: schema, unit of work, audit trail, users and signatures.

This is the only package that talks to the database. Everything else receives a
:class:`UnitOfWork` (to write) or a :class:`~sqlalchemy.orm.Session` from
:meth:`Database.read` (to read).
"""

from __future__ import annotations

from . import audit, keys
from ._actor import SYSTEM, Actor
from ._canonical import canonical_json, content_hash, record_image
from ._database import Database, UnitOfWork, get_record
from ._keyfile import Signer
from ._readings import readings_sha256
from ._roles import grant_application_role
from ._schema import (
    AUDITED_MODELS,
    AssayResult,
    AuditCheckpoint,
    Audited,
    AuditEntry,
    Base,
    Batch,
    BatchStatus,
    ControlLimitSet,
    CustodyEvent,
    Deviation,
    DeviationStatus,
    Disposition,
    Donation,
    DonationStatus,
    Evaluation,
    Infusion,
    Ingest,
    Investigation,
    InvivoDosing,
    InvivoLot,
    KineticsSample,
    Notification,
    Patient,
    ProcessParameter,
    ProcessStep,
    Reading,
    ResponseAssessment,
    Role,
    Sample,
    Signature,
    SignatureMeaning,
    SigningKey,
    Site,
    ToxicityAssessment,
    User,
)
from .deviations import acknowledge_deviation, close_deviation, open_deviation
from .signatures import Reauthentication, SignatureStatus, reauthenticate, sign, signatures_of
from .users import add_user, check_password, require

__all__ = [
    "AUDITED_MODELS",
    "SYSTEM",
    "Actor",
    "AssayResult",
    "AuditCheckpoint",
    "AuditEntry",
    "Audited",
    "Base",
    "Batch",
    "BatchStatus",
    "ControlLimitSet",
    "CustodyEvent",
    "Database",
    "Deviation",
    "DeviationStatus",
    "Disposition",
    "Donation",
    "DonationStatus",
    "Evaluation",
    "Infusion",
    "Ingest",
    "Investigation",
    "InvivoDosing",
    "InvivoLot",
    "KineticsSample",
    "Notification",
    "Patient",
    "ProcessParameter",
    "ProcessStep",
    "Reading",
    "Reauthentication",
    "ResponseAssessment",
    "Role",
    "Sample",
    "Signature",
    "SignatureMeaning",
    "SignatureStatus",
    "Signer",
    "SigningKey",
    "Site",
    "ToxicityAssessment",
    "UnitOfWork",
    "User",
    "acknowledge_deviation",
    "add_user",
    "audit",
    "canonical_json",
    "check_password",
    "close_deviation",
    "content_hash",
    "get_record",
    "grant_application_role",
    "keys",
    "open_deviation",
    "readings_sha256",
    "reauthenticate",
    "record_image",
    "require",
    "sign",
    "signatures_of",
]

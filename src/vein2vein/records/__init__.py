"""The system of record: schema, unit of work, audit trail, users and signatures.

This is the only package that talks to the database. Everything else receives a
:class:`UnitOfWork` (to write) or a :class:`~sqlalchemy.orm.Session` from
:meth:`Database.read` (to read).
"""

from __future__ import annotations

from . import audit
from ._actor import SYSTEM, Actor
from ._canonical import canonical_json, content_hash, record_image
from ._database import Database, UnitOfWork, get_record
from ._schema import (
    AUDITED_MODELS,
    AssayResult,
    Audited,
    AuditEntry,
    Base,
    Batch,
    BatchStatus,
    CustodyEvent,
    Deviation,
    DeviationStatus,
    Disposition,
    Donation,
    DonationStatus,
    Evaluation,
    Investigation,
    Notification,
    Patient,
    ProcessStep,
    Role,
    Sample,
    Signature,
    SignatureMeaning,
    Site,
    User,
)
from .deviations import open_deviation
from .signatures import SignatureStatus, sign, signatures_of
from .users import add_user, check_password, require

__all__ = [
    "AUDITED_MODELS",
    "SYSTEM",
    "Actor",
    "AssayResult",
    "AuditEntry",
    "Audited",
    "Base",
    "Batch",
    "BatchStatus",
    "CustodyEvent",
    "Database",
    "Deviation",
    "DeviationStatus",
    "Disposition",
    "Donation",
    "DonationStatus",
    "Evaluation",
    "Investigation",
    "Notification",
    "Patient",
    "ProcessStep",
    "Role",
    "Sample",
    "Signature",
    "SignatureMeaning",
    "SignatureStatus",
    "Site",
    "UnitOfWork",
    "User",
    "add_user",
    "audit",
    "canonical_json",
    "check_password",
    "content_hash",
    "get_record",
    "open_deviation",
    "record_image",
    "require",
    "sign",
    "signatures_of",
]

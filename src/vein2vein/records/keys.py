"""The service's signing keys: registering the first, adopting a trail, rotating.

The private key is a PEM file in the service's configuration (``signing_key``
setting, ``VEIN2VEIN_SIGNING_KEY``); only its public half is recorded in the
database, as an audited :class:`~vein2vein.records.SigningKey`. What the key signs
is listed in :mod:`vein2vein.records._statements`: the chain checkpoints, the
electronic signatures, and each key's successor.

Key life cycle:

- :func:`create_default_key` and :func:`create_configured_key` (run by ``vein2vein
  init``) make the key file: at the default path when none is configured, or at the
  configured path for a database that has no key yet.
- :func:`adopt` (run by ``Database.upgrade()``, so by ``vein2vein init``) registers
  the configured key in a database that has none. A trail written before tamper
  evidence existed is verified first, then sealed as it stands: one checkpoint from
  entry 1, its signatures bound and its ingests' readings hashed, by the system
  actor with a reason. What was forged before adoption cannot be told apart.
- :func:`rotate_key` makes a new key, records it endorsed by the current one, retires
  the current one, and replaces the key file. The old private key is destroyed; its
  public key stays in the record, so what it signed still verifies.

References
----------
21 CFR 11.10(c) (protection of records), 11.10(e) (audit trails), 11.70
(signature/record linking), 11.300(b) (periodic revision of identification codes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from .._settings import configured_signing_key, default_signing_key_path, get_settings
from ..errors import AuditIntegrityError, PermissionDeniedError, SigningKeyError
from . import audit
from ._actor import SYSTEM, Actor
from ._database import Database
from ._keyfile import Signer
from ._schema import Ingest, Reading, Role, Signature
from ._schema_keys import SigningKey
from ._statements import key_statement, reading_line, signature_statement
from ._types import utcnow

__all__ = [
    "Signer",
    "active_key",
    "adopt",
    "create_configured_key",
    "create_default_key",
    "list_keys",
    "rotate_key",
    "stored_readings_sha256",
]

# Findings that a trail written before tamper evidence has by nature.
_LEGACY_KINDS = frozenset({"unsealed", "unbound", "unhashed"})


def create_default_key() -> Signer | None:
    """Make the service key at :func:`default_signing_key_path` when none is configured.

    Returns the new key, or ``None`` when a key is configured (``signing_key``
    setting) or already at the default path. The file gets mode 0600, a new folder
    0700.
    """
    if configured_signing_key() is not None:
        return None
    return Signer.generate(default_signing_key_path())


def create_configured_key(db: Database) -> Signer | None:
    """Make the configured key file of a new database when it does not exist yet.

    ``VEIN2VEIN_SIGNING_KEY`` (the ``signing_key`` setting) may name a file that is
    still to be made, as for a first ``vein2vein init``. It is made (mode 0600, a new
    folder 0700) only while ``db`` has no key registered: a database that has one needs
    that key back, not a new one, so reading the missing file then fails, naming it.

    Returns the new key, or ``None`` when no key is configured, the file exists, or the
    database already has a key.
    """
    configured = get_settings().signing_key
    if configured is None or configured.exists() or _has_keys(db):
        return None
    return Signer.generate(configured)


def _has_keys(db: Database) -> bool:
    """Whether ``db`` has a signing key registered (a database without schema has none)."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table(SigningKey.__tablename__):
            return False
        return bool(conn.scalar(select(func.count()).select_from(SigningKey)))


def list_keys(session: Session) -> list[SigningKey]:
    """Every signing key of the database, oldest first."""
    return list(session.scalars(select(SigningKey).order_by(SigningKey.id)))


def active_key(session: Session) -> SigningKey | None:
    """The key that seals new writes, or ``None`` before one is registered."""
    stmt = select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.id)
    return session.scalars(stmt).first()


def stored_readings_sha256(session: Session, ingest_id: int) -> str:
    """The readings hash of an ingest recomputed from its readings as stored."""
    stmt = (
        select(Reading.batch_id, Reading.parameter_id, Reading.measured_at, Reading.value)
        .where(Reading.ingest_id == ingest_id)
        .order_by(Reading.batch_id, Reading.parameter_id, Reading.measured_at)
        .execution_options(yield_per=20_000)
    )
    digest = hashlib.sha256()
    for row in session.execute(stmt):
        digest.update(reading_line(*row).encode("utf-8"))
    return digest.hexdigest()


def _new_key_record(signer: Signer, endorser: Signer | None) -> SigningKey:
    now = utcnow()
    endorsed_by = endorser.key_id if endorser is not None else None
    statement = key_statement(
        key_id=signer.key_id,
        public_key=signer.public_key,
        activated_at=now,
        endorsed_by=endorsed_by,
    )
    return SigningKey(
        key_id=signer.key_id,
        public_key=signer.public_key,
        activated_at=now,
        endorsed_by=endorsed_by,
        endorsement=(endorser or signer).sign(statement),
    )


def adopt(db: Database) -> SigningKey | None:
    """Register the configured key in a database that has none, sealing its trail.

    Returns the new key record, or ``None`` when the database already has keys.

    Raises
    ------
    AuditIntegrityError
        The existing trail does not verify (other than being unsealed): it is not
        sealed as it stands; investigate first.
    SigningKeyError
        No key is configured, or it cannot be read.
    """
    signer = db.seal.signer()
    with db.read() as session:
        if session.scalar(select(func.count()).select_from(SigningKey)):
            return None
        report = audit.verify(session)
    # An empty database starts a new chain, whatever the witness saw at this address.
    blocking = [f for f in report.findings if f.kind not in _LEGACY_KINDS and report.n_entries]
    if blocking:
        shown = "; ".join(f"{f.record or f.seq}: {f.message}" for f in blocking[:5])
        msg = (
            f"the trail does not verify, so it is not sealed as it stands "
            f"({len(blocking)} finding(s)): {shown}"
        )
        raise AuditIntegrityError(msg)
    reason = (
        f"tamper evidence adopted: key {signer.key_id} registered; the trail, signatures "
        "and readings stored before it are sealed as they stand"
    )
    with db.unit_of_work(SYSTEM, reason=reason) as uow:
        audit.serialize_writers(uow.session)
        if uow.session.scalar(select(func.count()).select_from(SigningKey)):
            return None  # another process adopted it meanwhile
        audit.seal_from_start(uow.session)
        record = uow.add(_new_key_record(signer, None))
        unbound = select(Signature).where(Signature.key_signature.is_(None))
        for sig in uow.session.scalars(unbound).all():
            statement = signature_statement(
                record_table=sig.record_table,
                record_id=sig.record_id,
                user_id=sig.user_id,
                printed_name=sig.printed_name,
                meaning=sig.meaning,
                signed_at=sig.signed_at,
                content_hash=sig.content_hash,
                key_id=signer.key_id,
            )
            uow.change(sig, key_id=signer.key_id, key_signature=signer.sign(statement))
        unhashed = select(Ingest).where(Ingest.readings_sha256.is_(None))
        for ingest in uow.session.scalars(unhashed).all():
            digest = stored_readings_sha256(uow.session, ingest.id)
            uow.change(ingest, readings_sha256=digest)
    return record


def rotate_key(db: Database, actor: Actor, *, reason: str | None = None) -> SigningKey:
    """Replace the service key: a new key, endorsed by the current one, which retires.

    The new private key replaces the key file (``<file>.new`` while the change
    commits); the old one is destroyed. Only an administrator may rotate.

    Raises
    ------
    PermissionDeniedError
        ``actor`` is not an administrator.
    SigningKeyError
        No key file is configured, or it is not the database's active key.
    """
    if actor.role != Role.admin.value:
        msg = f"{actor.username} ({actor.role}) may not rotate the signing key; an admin may"
        raise PermissionDeniedError(msg)
    old = db.seal.signer()
    if old.path is None:
        msg = "the signing key is not kept in a file here; rotate where the key file is"
        raise SigningKeyError(msg)
    staged = old.path.with_name(old.path.name + ".new")
    staged.unlink(missing_ok=True)  # left by a rotation that did not commit
    new = Signer.generate(staged)
    try:
        with db.unit_of_work(actor, reason=reason or "signing key rotated") as uow:
            audit.serialize_writers(uow.session)  # retire it only once no one signs with it
            current = active_key(uow.session)
            if current is None or current.key_id != old.key_id:
                active = current.key_id if current else "none"
                msg = f"the configured key {old.key_id} is not the active key ({active})"
                raise SigningKeyError(msg)
            record = _new_key_record(new, old)
            uow.change(current, retired_at=record.activated_at)
            uow.add(record)
            audit.sign_commit_with(uow.session, new)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    staged.replace(old.path)
    db.seal.use(Signer.from_private_key(new.private_key, Path(old.path)))
    return record

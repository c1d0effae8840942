"""Electronic signatures linked to the content they sign (21 CFR 11.50, 11.70, 11.200).

A signature records the signer's user id, printed name, the UTC time, and its
meaning (authored, reviewed, approved, released), together with the SHA-256 of the
signed record's canonical content. Signing requires the signer to re-enter their
password. A signature is *valid* only while the record still hashes to the value
that was signed: any later change shows the signature as invalid wherever it is
displayed (:func:`signature_status`).

Each signature is also bound by the service's signing key: ``key_signature`` is the
key's Ed25519 signature of :func:`signature_statement` (record, signer, printed
name, meaning, time, content hash, key id). The database does not hold the key, so
a signature row inserted or altered in the database is found by ``audit verify``.
No key configured, no signature: :func:`sign` refuses rather than store an unbound
one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import (
    AccountDisabledError,
    AuthenticationError,
    InvalidInputError,
    PasswordExpiredError,
    PermissionDeniedError,
    SignatureError,
)
from ._actor import Actor
from ._canonical import content_hash
from ._database import Database, UnitOfWork
from ._schema import Audited, Signature, SignatureMeaning, User
from ._statements import signature_statement
from ._types import utcnow
from .audit import current_signer
from .authentication import authenticate_password, check_account
from .passwords import AccessPolicy, check_password
from .users import require

__all__ = [
    "REAUTHENTICATION_VALID_FOR",
    "Reauthentication",
    "SignatureStatus",
    "reauthenticate",
    "sign",
    "signature_statement",
    "signature_status",
    "signatures_of",
]


@dataclass(frozen=True, slots=True)
class SignatureStatus:
    """A signature as displayed: its manifestation and whether it still holds."""

    signature_id: int
    printed_name: str
    username: str
    meaning: str
    signed_at: datetime
    valid: bool

    @property
    def manifestation(self) -> str:
        """Printed name, UTC date and time, and meaning (21 CFR 11.50(a))."""
        stamp = self.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        state = "" if self.valid else " [INVALID: record changed after signing]"
        return f"{self.printed_name} ({self.username}), {stamp}, {self.meaning}{state}"


#: How long a re-authentication stays good for signing (one continuous session of
#: signings, 21 CFR 11.200(a)(1)(i)).
REAUTHENTICATION_VALID_FOR = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Reauthentication:
    """Proof that a user has just re-entered their password; made by :func:`reauthenticate`.

    Checking an Argon2 hash takes ~0.1 s on purpose. Doing it before the unit of work
    opens keeps that time out of the write lock, so signers at many sites do not queue
    behind each other's password checks.
    """

    user_id: int
    username: str
    at: datetime


def reauthenticate(
    db: Database, actor: Actor, password: str, *, policy: AccessPolicy | None = None
) -> Reauthentication:
    """Verify ``actor``'s password outside any write transaction.

    A wrong password counts towards the lockout like any other failed attempt
    (:func:`~vein2vein.records.authentication.authenticate_password`); a session or
    API token never replaces it.

    Raises
    ------
    SignatureError
        The password does not match.
    AccountDisabledError, AccountLockedError
        The user is deactivated or locked (or this attempt locked them).
    PasswordExpiredError
        The password has expired; it only serves to change it.
    """
    if actor.user_id is None:
        msg = "the system account cannot sign; sign as a person"
        raise PermissionDeniedError(msg)
    try:
        authenticate_password(db, actor.username, password, context="signature", policy=policy)
    except (PasswordExpiredError, AccountDisabledError):
        raise
    except AuthenticationError:
        msg = f"re-authentication failed for {actor.username!r}: the password does not match"
        raise SignatureError(msg) from None
    return Reauthentication(user_id=actor.user_id, username=actor.username, at=utcnow())


def _reauthenticated(uow: UnitOfWork, user: User, password: str | Reauthentication) -> None:
    if isinstance(password, Reauthentication):
        if password.user_id != user.id:
            msg = f"that re-authentication is {password.username!r}'s, not {user.username!r}'s"
            raise SignatureError(msg)
        if utcnow() - password.at > REAUTHENTICATION_VALID_FOR:
            msg = "the re-authentication has expired; enter the password again"
            raise SignatureError(msg)
        return
    # In-process callers (the demo, tests) may pass the password itself; a failure
    # here cannot be counted (it rolls back with the unit of work), so shells call
    # reauthenticate() first, which counts it.
    if not check_password(user, password):
        msg = f"re-authentication failed for {uow.actor.username!r}: the password does not match"
        raise SignatureError(msg)


def sign(
    uow: UnitOfWork,
    record: Audited,
    *,
    password: str | Reauthentication,
    meaning: SignatureMeaning | str,
) -> Signature:
    """Sign ``record`` as the unit of work's actor, after re-authentication.

    ``password`` is the signer's password, or a fresh :class:`Reauthentication`
    from :func:`reauthenticate` (preferred: it keeps the slow hash check outside the
    transaction).

    Raises
    ------
    SignatureError
        The password does not match, or the user cannot sign.
    PermissionDeniedError
        The actor's role may not sign (or the user is deactivated or locked).
    SigningKeyError
        No signing key is configured (or it cannot be read): a signature is never
        stored unbound.
    """
    actor = uow.actor
    if actor.user_id is None:
        msg = "the system account cannot sign; sign as a person"
        raise PermissionDeniedError(msg)
    require(actor, "record.sign")
    try:
        meaning = SignatureMeaning(meaning)
    except ValueError:
        meanings = ", ".join(m.value for m in SignatureMeaning)
        msg = f"unknown signature meaning {meaning!r}; one of: {meanings}"
        raise InvalidInputError(msg, field="meaning") from None
    signer = current_signer(uow.session)
    user = uow.session.get(User, actor.user_id)
    if user is None:
        msg = f"user {actor.username!r} does not exist"
        raise SignatureError(msg)
    check_account(user)
    _reauthenticated(uow, user, password)
    uow.flush()  # the hash must cover the record as stored
    signature = Signature(
        record_table=type(record).__table__.name,  # type: ignore[attr-defined]
        record_id=record.id,
        user_id=user.id,
        printed_name=user.full_name,
        meaning=meaning,
        signed_at=utcnow(),
        content_hash=content_hash(record),
        key_id=signer.key_id,
    )
    signature.key_signature = signer.sign(
        signature_statement(
            record_table=signature.record_table,
            record_id=signature.record_id,
            user_id=signature.user_id,
            printed_name=signature.printed_name,
            meaning=signature.meaning,
            signed_at=signature.signed_at,
            content_hash=signature.content_hash,
            key_id=signer.key_id,
        )
    )
    return uow.add(signature)


def signatures_of(session: Session, record: Audited) -> list[SignatureStatus]:
    """Every signature on ``record``, oldest first, each checked against its content now."""
    current = content_hash(record)
    rows = session.execute(
        select(Signature, User.username)
        .join(User, User.id == Signature.user_id)
        .where(
            Signature.record_table == type(record).__table__.name,  # type: ignore[attr-defined]
            Signature.record_id == record.id,
        )
        .order_by(Signature.id)
    ).all()
    return [signature_status(sig, username, current_hash=current) for sig, username in rows]


def signature_status(sig: Signature, username: str, *, current_hash: str) -> SignatureStatus:
    """Display form of one signature given the signed record's current content hash."""
    return SignatureStatus(
        signature_id=sig.id,
        printed_name=sig.printed_name,
        username=username,
        meaning=str(sig.meaning),
        signed_at=sig.signed_at,
        valid=sig.content_hash == current_hash,
    )

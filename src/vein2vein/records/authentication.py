"""Who is acting, proven by a password, with lockout (21 CFR 11.10(d), 11.300).

Every shell (the CLI now, the API later) turns a credential into an
:class:`~vein2vein.records.Actor` before it opens a unit of work: a password
(:func:`authenticate_password`), a login session (:mod:`vein2vein.records.sessions`)
or an API token (:mod:`vein2vein.records.tokens`).

Failed attempts and lockout
---------------------------
A wrong password for a known user with a password adds one to the user's
``failed_attempts``; the attempt that reaches ``lockout_attempts`` (settings, 5 by
default) sets ``locked_at``. Each failed attempt and the lockout are audited
(an :class:`~vein2vein.records.AccessEvent` and the user's change), written in a
unit of work of their own, so they stay recorded although the command fails. The
counter is read after the write lock is taken (``BEGIN IMMEDIATE`` on SQLite, the
chain-head advisory lock on PostgreSQL), so parallel attempts never lose a count. A
correct password resets the counter. Attempts on unknown names, password-less users,
and deactivated or locked accounts are recorded as access events but counted on no
one (a machine account without a password cannot be locked out by guessing).

The Argon2 check itself (~0.1 s on purpose) runs before that unit of work, outside
the write lock; an unknown name costs the same check, so timing does not tell which
names exist.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import (
    AccountDisabledError,
    AccountLockedError,
    AuthenticationError,
    PasswordExpiredError,
)
from . import audit
from ._actor import SYSTEM, Actor
from ._database import Database, UnitOfWork, get_record
from ._schema import AccessEvent, AccessEventKind, User
from ._types import utcnow
from .passwords import AccessPolicy, check_password, equalize_timing, password_expired

__all__ = [
    "actor_of",
    "authenticate_password",
    "check_account",
    "record_access_event",
]


def actor_of(user: User, *, scopes: frozenset[str] | None = None) -> Actor:
    """The :class:`Actor` of a user, with the role held now."""
    return Actor(user_id=user.id, username=user.username, role=str(user.role), scopes=scopes)


def check_account(user: User) -> None:
    """Raise unless the account may act: not deactivated, not locked."""
    if not user.active:
        msg = f"user {user.username!r} is deactivated"
        raise AccountDisabledError(msg)
    if user.locked_at is not None:
        stamp = user.locked_at.strftime("%Y-%m-%d %H:%M UTC")
        msg = (
            f"user {user.username!r} is locked since {stamp} after repeated failed password "
            "attempts; an administrator unlocks it (vein2vein user unlock)"
        )
        raise AccountLockedError(msg)


def _user_named(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def record_access_event(
    uow: UnitOfWork,
    kind: AccessEventKind,
    *,
    username: str,
    user_id: int | None,
    context: str,
    session_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Add an :class:`~vein2vein.records.AccessEvent` (audited) to the unit of work."""
    uow.add(
        AccessEvent(
            kind=kind.value,
            username=username[:64],
            user_id=user_id,
            context=context,
            session_id=session_id,
            detail=detail,
        )
    )


def _record_failure(
    db: Database, username: str, *, context: str, policy: AccessPolicy
) -> tuple[int, bool]:
    """Record one failed attempt in its own unit of work.

    Returns the count it reached (0 when not counted) and whether the account is
    locked now (by this attempt or a parallel one).
    """
    with db.unit_of_work(SYSTEM) as uow:
        # Take the write lock before reading the counter, so parallel attempts queue.
        audit.serialize_writers(uow.session)
        user = _user_named(uow.session, username)

        def event(kind: AccessEventKind, detail: str) -> None:
            uid = None if user is None else user.id
            record_access_event(
                uow, kind, username=username, user_id=uid, context=context, detail=detail
            )

        if user is None or user.password_hash is None:
            event(AccessEventKind.failed_attempt, "unknown user" if user is None else "no password")
            return 0, False
        if not user.active or user.locked_at is not None:
            why = "account deactivated" if not user.active else "account locked"
            event(AccessEventKind.failed_attempt, why)
            return 0, user.locked_at is not None
        count = (user.failed_attempts or 0) + 1
        uow.change(user, failed_attempts=count, reason=f"failed password attempt ({context})")
        detail = f"wrong password, {count} of {policy.lockout_attempts} consecutive"
        event(AccessEventKind.failed_attempt, detail)
        if count >= policy.lockout_attempts:
            uow.change(
                user,
                locked_at=utcnow(),
                reason=f"locked after {count} consecutive failed password attempts",
            )
            event(AccessEventKind.lockout, detail)
        return count, count >= policy.lockout_attempts


def _record_refusal(db: Database, user: User, *, context: str, detail: str) -> None:
    with db.unit_of_work(SYSTEM) as uow:
        record_access_event(
            uow,
            AccessEventKind.failed_attempt,
            username=user.username,
            user_id=user.id,
            context=context,
            detail=detail,
        )


def authenticate_password(
    db: Database,
    username: str,
    password: str,
    *,
    context: str,
    policy: AccessPolicy | None = None,
    allow_expired: bool = False,
) -> Actor:
    """The actor ``username``, if ``password`` is theirs; failures counted and audited.

    Parameters
    ----------
    db
        The system of record.
    username, password
        The credential as given.
    context
        What the password is for, recorded with a failure: ``login``, ``command``,
        ``signature`` or ``password change``.
    policy
        The limits; the settings' when omitted.
    allow_expired
        Accept an expired password (only to change it).

    Raises
    ------
    AuthenticationError
        Unknown user, no password, or the wrong one (the message does not say which).
    AccountLockedError
        The account is locked, or this attempt locked it.
    AccountDisabledError
        The account is deactivated.
    PasswordExpiredError
        The password is right but expired, and ``allow_expired`` is false.
    """
    policy = policy or AccessPolicy.from_settings()
    with db.read() as session:
        user = _user_named(session, username)
    refused = f"authentication failed for {username!r}: unknown user or wrong password"
    if user is None or user.password_hash is None:
        equalize_timing(password)
        _record_failure(db, username, context=context, policy=policy)
        raise AuthenticationError(refused)
    try:
        check_account(user)
    except AccountDisabledError as exc:
        why = "account locked" if isinstance(exc, AccountLockedError) else "account deactivated"
        _record_refusal(db, user, context=context, detail=why)
        raise
    if not check_password(user, password):
        count, locked = _record_failure(db, username, context=context, policy=policy)
        if locked:
            why = (
                f"now locked after {count} consecutive failed attempts"
                if count >= policy.lockout_attempts
                else "locked after repeated failed attempts"
            )
            msg = f"{refused}; {username!r} is {why} (an administrator unlocks it)"
            raise AccountLockedError(msg)
        raise AuthenticationError(refused)
    actor = actor_of(user)
    # Locked or deactivated while the hash was checked? A read says so without the write
    # lock; only a count to reset takes it (and checks again under it).
    with db.read() as session:
        now_user = get_record(session, User, user.id)
        check_account(now_user)
    if now_user.failed_attempts:
        with db.unit_of_work(actor) as uow:
            now_user = uow.get(User, user.id)
            check_account(now_user)
            if now_user.failed_attempts:
                uow.change(now_user, failed_attempts=0, reason=f"password verified ({context})")
    if not allow_expired and password_expired(now_user, policy, utcnow()):
        msg = (
            f"the password of {username!r} has expired or was set by an administrator; "
            "it only serves to change it (vein2vein password change)"
        )
        raise PasswordExpiredError(msg)
    return actor

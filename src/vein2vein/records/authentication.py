"""Who is acting, proven: passwords with lockout, and login sessions (21 CFR 11.10(d), 11.300).

Every shell (the CLI now, the API later) turns a credential into an
:class:`~vein2vein.records.Actor` with these functions before it opens a unit of
work: a password (:func:`authenticate_password`), a login session
(:func:`login`, :func:`resume_session`, :func:`end_session`) or an API token
(:mod:`vein2vein.records.tokens`).

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
the write lock.

Sessions
--------
A session token is 32 random bytes shown to the client once; the server keeps its
SHA-256 in :class:`~vein2vein.records.UserSession` with its creation, last use and
absolute end. A session is refused once ended (logout, deactivation, password change),
past its lifetime, idle longer than the time-out, or when its user is deactivated,
locked or has an expired password. A session does not sign: signing re-enters the
password (21 CFR 11.200(a)).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import (
    AccountDisabledError,
    AccountLockedError,
    AuthenticationError,
    PasswordExpiredError,
)
from . import audit
from ._actor import SYSTEM, Actor
from ._canonical import sha256_hex
from ._database import Database, UnitOfWork
from ._schema import AccessEvent, AccessEventKind, User, UserSession
from ._types import utcnow
from .passwords import AccessPolicy, check_password, password_expired

__all__ = [
    "ActiveSession",
    "SessionGrant",
    "actor_of",
    "authenticate_password",
    "check_account",
    "end_session",
    "end_sessions",
    "login",
    "resume_session",
    "start_session",
    "token_digest",
]

SESSION_TOKEN_PREFIX = "v2vs_"


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """A session just opened: the token (give it to the client, never store it) and its end."""

    token: str
    session_id: int
    actor: Actor
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A session that was just used: whose it is and until when it can last."""

    session_id: int
    actor: Actor
    created_at: datetime
    expires_at: datetime
    idle_expires_at: datetime


def token_digest(token: str) -> str:
    """SHA-256 of a session or API token: what the server stores (the token has 256 bits)."""
    return sha256_hex(token)


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


def _event(
    uow: UnitOfWork,
    kind: AccessEventKind,
    *,
    username: str,
    user_id: int | None,
    context: str,
    session_id: int | None = None,
    detail: str | None = None,
) -> None:
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
            _event(uow, kind, username=username, user_id=uid, context=context, detail=detail)

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
        _event(
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
    with db.unit_of_work(actor) as uow:
        audit.serialize_writers(uow.session)
        now_user = uow.get(User, user.id)
        check_account(now_user)  # locked or deactivated while the hash was checked
        if now_user.failed_attempts:
            uow.change(now_user, failed_attempts=0, reason=f"password verified ({context})")
    if not allow_expired and password_expired(now_user, policy, utcnow()):
        msg = (
            f"the password of {username!r} has expired or was set by an administrator; "
            "it only serves to change it (vein2vein password change)"
        )
        raise PasswordExpiredError(msg)
    return actor


def start_session(
    db: Database, actor: Actor, *, policy: AccessPolicy | None = None
) -> SessionGrant:
    """Open a login session for an actor whose identity the caller has just proven.

    :func:`login` calls it after the password check; test helpers call it directly.
    The login is audited as an :class:`~vein2vein.records.AccessEvent`.
    """
    if actor.user_id is None:
        msg = "the system account does not log in"
        raise AuthenticationError(msg)
    policy = policy or AccessPolicy.from_settings()
    token = SESSION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with db.unit_of_work(actor) as uow:
        check_account(uow.get(User, actor.user_id))
        row = UserSession(
            user_id=actor.user_id,
            token_hash=token_digest(token),
            created_at=now,
            last_used_at=now,
            expires_at=now + policy.session_lifetime,
        )
        uow.session.add(row)
        uow.flush()
        _event(
            uow,
            AccessEventKind.login,
            username=actor.username,
            user_id=actor.user_id,
            context="login",
            session_id=row.id,
        )
    return SessionGrant(token=token, session_id=row.id, actor=actor, expires_at=row.expires_at)


def login(
    db: Database, username: str, password: str, *, policy: AccessPolicy | None = None
) -> SessionGrant:
    """Check the password (counted, see :func:`authenticate_password`) and open a session."""
    policy = policy or AccessPolicy.from_settings()
    actor = authenticate_password(db, username, password, context="login", policy=policy)
    return start_session(db, actor, policy=policy)


def resume_session(
    db: Database, token: str, *, policy: AccessPolicy | None = None
) -> ActiveSession:
    """The session of ``token``, if it may still act; its last use becomes now.

    Raises
    ------
    AuthenticationError
        Unknown (forged) token, session ended, past its lifetime or idle time-out.
    AccountDisabledError, AccountLockedError
        Its user was deactivated or locked.
    PasswordExpiredError
        Its user's password expired.
    """
    policy = policy or AccessPolicy.from_settings()
    now = utcnow()
    with db.unit_of_work(SYSTEM) as uow:
        row = uow.session.scalars(
            select(UserSession).where(UserSession.token_hash == token_digest(token))
        ).one_or_none()
        if row is None:
            msg = "the session token is not valid (unknown or altered); log in again"
            raise AuthenticationError(msg)
        if row.ended_at is not None:
            msg = f"the session has ended ({row.end_reason}); log in again"
            raise AuthenticationError(msg)
        if now >= row.expires_at:
            hours = policy.session_lifetime.total_seconds() / 3600
            msg = f"the session reached its lifetime ({hours:g} h after login); log in again"
            raise AuthenticationError(msg)
        idle_until = row.last_used_at + policy.session_idle_timeout
        if now >= idle_until:
            minutes = policy.session_idle_timeout.total_seconds() / 60
            msg = f"the session timed out after {minutes:g} minutes without use; log in again"
            raise AuthenticationError(msg)
        user = uow.get(User, row.user_id)
        check_account(user)
        if password_expired(user, policy, now):
            msg = (
                f"the password of {user.username!r} has expired; change it "
                "(vein2vein password change), then log in again"
            )
            raise PasswordExpiredError(msg)
        # The session store is not audited: its last use moves on every command.
        row.last_used_at = now
        uow.flush()
        return ActiveSession(
            session_id=row.id,
            actor=actor_of(user),
            created_at=row.created_at,
            expires_at=row.expires_at,
            idle_expires_at=now + policy.session_idle_timeout,
        )


def end_session(db: Database, token: str, *, reason: str = "logout") -> bool:
    """End the session of ``token`` (audited as a logout); False if it had already ended."""
    with db.read() as session:
        row = session.scalars(
            select(UserSession).where(UserSession.token_hash == token_digest(token))
        ).one_or_none()
        if row is None or row.ended_at is not None:
            return False
        user = session.get(User, row.user_id)
        assert user is not None
    with db.unit_of_work(actor_of(user)) as uow:
        audit.serialize_writers(uow.session)
        current = uow.session.get(UserSession, row.id)
        assert current is not None
        if current.ended_at is not None:
            return False
        current.ended_at = utcnow()
        current.end_reason = reason[:64]
        uow.flush()
        _event(
            uow,
            AccessEventKind.logout,
            username=user.username,
            user_id=user.id,
            context="login",
            session_id=row.id,
            detail=reason,
        )
    return True


def end_sessions(uow: UnitOfWork, user_id: int, *, reason: str) -> int:
    """End every open session of a user (deactivation, password change); how many ended."""
    result = uow.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason[:64])
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

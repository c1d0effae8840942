"""Login sessions: server-side rows, tokens held by the client (21 CFR 11.10(d), 11.300).

A session token is 32 random bytes shown to the client once; the server keeps its
SHA-256 in :class:`~vein2vein.records.UserSession` with its creation, last use and
absolute end. A session is refused once ended (logout, deactivation, password change),
past its lifetime (``session_lifetime_hours``), idle longer than the time-out
(``session_idle_minutes``), or when its user is deactivated, locked or has an expired
password. Logins and logouts are audited as access events. A session does not sign:
signing re-enters the password (21 CFR 11.200(a)).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from ..errors import AuthenticationError, PasswordExpiredError, RecordNotFoundError
from . import audit
from ._actor import SYSTEM, Actor
from ._canonical import sha256_hex
from ._database import Database, UnitOfWork, get_record
from ._schema import AccessEventKind, User, UserSession
from ._types import utcnow
from .authentication import actor_of, authenticate_password, check_account, record_access_event
from .passwords import AccessPolicy, password_expired

__all__ = [
    "ActiveSession",
    "SessionGrant",
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
        record_access_event(
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
        user = get_record(session, User, row.user_id)
    with db.unit_of_work(actor_of(user)) as uow:
        audit.serialize_writers(uow.session)
        current = uow.session.get(UserSession, row.id)
        if current is None:
            msg = f"login session {row.id} is no longer stored"
            raise RecordNotFoundError(msg)
        if current.ended_at is not None:
            return False
        current.ended_at = utcnow()
        current.end_reason = reason[:64]
        uow.flush()
        record_access_event(
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

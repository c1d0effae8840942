"""Access records: login sessions, API tokens and the access events of the audit trail.

Kept apart from :mod:`vein2vein.records._schema` (which imports these models at its
end). :class:`AccessEvent` and :class:`ApiToken` are audited, so every login, logout,
failed password attempt, lockout and token grant or revocation is an audit entry.
:class:`UserSession` is the server-side session store: operational state whose
beginning and end are access events; its ``last_used_at`` moves on every
authenticated command and is deliberately kept out of the trail.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ._schema import Audited, Base
from ._types import utcnow

__all__ = ["AccessEvent", "AccessEventKind", "ApiToken", "UserSession"]


class AccessEventKind(enum.StrEnum):
    """What happened at the door (21 CFR 11.300(d): attempts at unauthorized use)."""

    login = "login"
    logout = "logout"
    failed_attempt = "failed_attempt"
    lockout = "lockout"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class AccessEvent(Audited, Base):
    """One login, logout, failed password attempt or lockout.

    ``username`` is the name as it was given, so attempts on unknown names are kept
    too (``user_id`` is then empty). ``context`` says what the password was for:
    ``login``, ``command``, ``signature`` or ``password change``.
    """

    __tablename__ = "access_events"
    __record_kind__ = "access_event"
    __table_args__ = (CheckConstraint(_in("kind", AccessEventKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    context: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("user_sessions.id"))
    detail: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSession(Base):
    """A server-side login session; the client holds the token, the server its SHA-256.

    A session ends at logout, at the idle time-out, at its absolute lifetime, or
    when its user is deactivated or changes password (``ended_at``, ``end_reason``).
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    end_reason: Mapped[str | None] = mapped_column(String(64), default=None)


class ApiToken(Audited, Base):
    """An API token for a machine client, acting as ``user_id`` within ``scopes``.

    The token is shown once at creation; only its SHA-256 is stored (and only the
    digest of that enters the trail). ``prefix`` names it in listings.
    """

    __tablename__ = "api_tokens"
    __record_kind__ = "api_token"
    __redacted__: ClassVar[frozenset[str]] = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

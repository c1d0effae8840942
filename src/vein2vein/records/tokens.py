"""API tokens for machine clients: instrument exports, hubs, scripts (21 CFR 11.10(d)).

An administrator creates a token for a user with a set of scopes (actions of
:data:`~vein2vein.records.users.PERMISSIONS`); the token acts as that user, and
only for actions that both the user's role and the token's scopes allow. The token
is shown once; the server stores its SHA-256 (tokens carry 256 random bits, so a
fast hash suffices). A token ends at its expiry, when an administrator revokes it,
or when its user is deactivated; a locked user's tokens are refused while the lock
holds. Tokens cannot administer identities: ``user.*`` and ``token.*`` are not
grantable.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import AuthenticationError, InvalidInputError, RecordConflictError
from ._actor import Actor
from ._database import Database, UnitOfWork, get_record
from ._schema import ApiToken, Role, User
from ._types import utcnow
from .authentication import actor_of, check_account
from .passwords import AccessPolicy
from .sessions import token_digest
from .users import PERMISSIONS, require, user_id_of

__all__ = [
    "TOKEN_SCOPES",
    "IssuedToken",
    "authenticate_token",
    "create_token",
    "revoke_token",
    "token_row",
    "token_rows",
    "tokens_of",
]

API_TOKEN_PREFIX = "v2vt_"
_NOT_GRANTABLE = frozenset({"user.add", "user.manage", "token.manage"})

#: The actions a token may be given.
TOKEN_SCOPES: frozenset[str] = frozenset(PERMISSIONS) - _NOT_GRANTABLE


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created: ``token`` is shown to the admin once and stored nowhere."""

    token: str
    record: ApiToken


def create_token(
    uow: UnitOfWork,
    *,
    username: str,
    scopes: Iterable[str],
    label: str,
    valid_for: timedelta | None = None,
    policy: AccessPolicy | None = None,
) -> IssuedToken:
    """Create an API token for ``username`` (admin only).

    Parameters
    ----------
    uow
        The unit of work of the administrator.
    username
        The user the token acts as (often a machine account without a password).
    scopes
        The actions it may perform; each must be allowed to the user's role.
    label
        What the token is for ("flow cytometer export, HUB-A").
    valid_for
        How long it is valid; at most (and by default) the policy's token maximum age.
    policy
        The limits; the settings' when omitted.

    Raises
    ------
    InvalidInputError
        An unknown or ungrantable scope, one the role lacks, a blank label, or a
        validity out of range; the field is named.
    """
    require(uow.actor, "token.manage")
    policy = policy or AccessPolicy.from_settings()
    if not label.strip():
        msg = "say what the token is for"
        raise InvalidInputError(msg, field="label")
    user = uow.get(User, username)
    if not user.active:
        msg = f"user {username!r} is deactivated"
        raise InvalidInputError(msg, field="user")
    wanted = sorted(set(scopes))
    if not wanted:
        msg = "a token needs at least one scope"
        raise InvalidInputError(msg, field="scope")
    for scope in wanted:
        if scope not in TOKEN_SCOPES:
            why = "cannot be given to a token" if scope in PERMISSIONS else "is not an action"
            msg = f"{scope!r} {why}; one of: {', '.join(sorted(TOKEN_SCOPES))}"
            raise InvalidInputError(msg, field="scope")
        if Role(user.role) not in PERMISSIONS[scope]:
            msg = f"{username} ({user.role}) may not {scope}, so no token of theirs may"
            raise InvalidInputError(msg, field="scope")
    valid_for = valid_for if valid_for is not None else policy.token_max_age
    if not timedelta(0) < valid_for <= policy.token_max_age:
        msg = f"a token is valid for 1 to {policy.token_max_age.days} days"
        raise InvalidInputError(msg, field="expires")
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    creator = user_id_of(uow.actor)
    record = uow.add(
        ApiToken(
            user_id=user.id,
            label=label.strip(),
            prefix=token[:12],
            token_hash=token_digest(token),
            scopes=wanted,
            created_by_id=creator,
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    return IssuedToken(token=token, record=record)


def revoke_token(uow: UnitOfWork, token_id: int, *, reason: str) -> ApiToken:
    """Revoke a token now (admin only); the reason goes into the trail."""
    require(uow.actor, "token.manage")
    if not reason or not reason.strip():
        msg = "say why the token is revoked"
        raise InvalidInputError(msg, field="reason")
    token = uow.get(ApiToken, token_id)
    if token.revoked_at is not None:
        msg = f"api_token:{token_id} was already revoked"
        raise RecordConflictError(msg)
    return uow.change(token, revoked_at=utcnow(), reason=reason.strip())


def authenticate_token(db: Database, token: str) -> Actor:
    """The actor of an API token, carrying its scopes.

    Raises
    ------
    AuthenticationError
        An unknown (forged), revoked or expired token.
    AccountDisabledError, AccountLockedError
        Its user is deactivated or locked.
    """
    with db.read() as session:
        row = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == token_digest(token))
        ).one_or_none()
        if row is None:
            msg = "the API token is not valid (unknown or altered)"
            raise AuthenticationError(msg)
        if row.revoked_at is not None:
            msg = f"the API token {row.prefix}... (api_token:{row.id}) was revoked"
            raise AuthenticationError(msg)
        if utcnow() >= row.expires_at:
            stamp = row.expires_at.strftime("%Y-%m-%d %H:%M UTC")
            msg = f"the API token {row.prefix}... (api_token:{row.id}) expired at {stamp}"
            raise AuthenticationError(msg)
        user = get_record(session, User, row.user_id)
        check_account(user)
        return actor_of(user, scopes=frozenset(row.scopes))


def tokens_of(session: Session, *, username: str | None = None) -> list[ApiToken]:
    """Every token (of one user, if named), oldest first; their hashes are not secrets."""
    stmt = select(ApiToken).order_by(ApiToken.id)
    if username is not None:
        stmt = stmt.join(User, User.id == ApiToken.user_id).where(User.username == username)
    return list(session.scalars(stmt))


def token_row(token: ApiToken, username: str) -> dict[str, Any]:
    """What is shown of a token: never the token itself, nor its hash."""
    return {
        "id": token.id,
        "user": username,
        "label": token.label,
        "prefix": token.prefix,
        "scopes": list(token.scopes),
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


def token_rows(session: Session, *, username: str | None = None) -> list[dict[str, Any]]:
    """:func:`token_row` of every token (of one user, if named), oldest first."""
    names = dict(session.execute(select(User.id, User.username)).all())
    return [token_row(t, names[t.user_id]) for t in tokens_of(session, username=username)]

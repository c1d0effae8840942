"""Users, roles and what each role may do; account controls by administrators.

An administrator registers users, deactivates and reactivates them, unlocks them
after a lockout and resets their passwords; each is an audited change of the user
with its reason (21 CFR 11.10(d), 11.300(b)). A user changes their own password with
:func:`change_password`. Passwords are hashed with Argon2id and must pass the policy
of :mod:`vein2vein.records.passwords`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import InvalidInputError, PermissionDeniedError, RecordConflictError
from ._actor import SYSTEM, Actor
from ._database import Database, UnitOfWork
from ._schema import ApiToken, Role, Site, User
from ._types import utcnow
from .authentication import authenticate_password
from .passwords import AccessPolicy, check_password_policy, hash_password, password_expired
from .sessions import end_sessions

__all__ = [
    "PERMISSIONS",
    "add_user",
    "change_password",
    "deactivate_user",
    "list_users",
    "reactivate_user",
    "require",
    "reset_password",
    "unlock_user",
    "user_id_of",
]

#: Which roles may perform each action. Admins administer; they do not make product.
PERMISSIONS: Final[dict[str, frozenset[Role]]] = {
    "site.add": frozenset({Role.admin}),
    "user.add": frozenset({Role.admin}),
    "user.manage": frozenset({Role.admin}),
    "token.manage": frozenset({Role.admin}),
    "patient.register": frozenset({Role.operator, Role.qc_analyst, Role.clinician}),
    "donation.register": frozenset({Role.operator, Role.qc_analyst}),
    "batch.start": frozenset({Role.operator}),
    "batch.step": frozenset({Role.operator}),
    "custody.log": frozenset({Role.operator, Role.qc_analyst, Role.clinician}),
    "deviation.open": frozenset({Role.operator, Role.qc_analyst, Role.qa_reviewer, Role.clinician}),
    "intake.decide": frozenset({Role.qc_analyst, Role.qa_reviewer}),
    "result.enter": frozenset({Role.operator, Role.qc_analyst}),
    "result.review": frozenset({Role.qc_analyst, Role.qa_reviewer}),
    "lot.disposition": frozenset({Role.qa_reviewer}),
    "process.configure": frozenset({Role.admin, Role.qa_reviewer}),
    "process.ingest": frozenset({Role.operator, Role.qc_analyst}),
    "process.limits": frozenset({Role.qa_reviewer}),
    "process.monitor": frozenset({Role.operator, Role.qc_analyst, Role.qa_reviewer}),
    "deviation.close": frozenset({Role.qa_reviewer}),
    "investigation.close": frozenset({Role.qa_reviewer}),
    "problem.link": frozenset({Role.operator, Role.qc_analyst, Role.qa_reviewer}),
    "problem.assess": frozenset({Role.qa_reviewer}),
    "clinical.record": frozenset({Role.clinician}),
    "invivo.lot.register": frozenset({Role.operator, Role.qc_analyst}),
    "record.sign": frozenset(
        {Role.operator, Role.qc_analyst, Role.qa_reviewer, Role.clinician, Role.admin}
    ),
}


def require(actor: Actor, action: str) -> None:
    """Raise :class:`PermissionDeniedError` unless ``actor`` may perform ``action``.

    The role must allow it; an actor authenticated by an API token also needs the
    action among the token's scopes.
    """
    allowed = PERMISSIONS[action]
    if actor.role not in {r.value for r in allowed}:
        roles = ", ".join(sorted(r.value for r in allowed))
        msg = f"{actor.username} ({actor.role}) may not {action}; it needs one of: {roles}"
        raise PermissionDeniedError(msg)
    if actor.scopes is not None and action not in actor.scopes:
        scopes = ", ".join(sorted(actor.scopes)) or "none"
        msg = (
            f"the API token {actor.username} acts with does not allow {action} "
            f"(its scopes: {scopes})"
        )
        raise PermissionDeniedError(msg)


def user_id_of(actor: Actor) -> int:
    """The user id of an actor that is a user account.

    Raises
    ------
    PermissionDeniedError
        ``actor`` is the system account, which has no user row to sign or own records.
    """
    if actor.user_id is None:
        msg = f"{actor.username} is not a user account and may not act as one"
        raise PermissionDeniedError(msg)
    return actor.user_id


def add_user(
    uow: UnitOfWork,
    *,
    username: str,
    full_name: str,
    role: Role | str,
    password: str | None,
    site: Site | None = None,
    must_change_password: bool = False,
    policy: AccessPolicy | None = None,
) -> User:
    """Register a user. Only an admin may, except for the first admin of an empty system.

    Parameters
    ----------
    uow
        The unit of work; its actor is the admin adding the user.
    username
        Unique login name (letters, digits, ``.``, ``_`` and ``-``).
    full_name
        The printed name shown on every signature the user makes.
    role
        One of :class:`Role`.
    password
        The user's password (it must pass the password policy); ``None`` leaves the
        user unable to log in with a password or sign (a machine account with tokens).
    site
        The user's home site, if any.
    must_change_password
        The password only serves to set a new one at first use.
    policy
        The password policy; the settings' when omitted.
    """
    try:
        role = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        msg = f"unknown role {role!r}; one of: {roles}"
        raise InvalidInputError(msg, field="role") from None
    if uow.actor == SYSTEM:
        n_users = uow.session.execute(select(func.count()).select_from(User)).scalar_one()
        if n_users:
            msg = "only the first administrator is registered by the system; act as an admin"
            raise PermissionDeniedError(msg)
        if role is not Role.admin:
            msg = "the first user of an empty system must be an admin"
            raise InvalidInputError(msg, field="role")
    else:
        require(uow.actor, "user.add")
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        msg = f"username {username!r} must be 1-64 letters, digits, '.', '_' or '-'"
        raise InvalidInputError(msg, field="username")
    if not full_name.strip():
        msg = "the printed name is required (it appears on signatures)"
        raise InvalidInputError(msg, field="full_name")
    if password is not None:
        check_password_policy(password, username=username, policy=policy)
    exists = uow.session.scalars(select(User).where(User.username == username)).first()
    if exists is not None:
        msg = f"user {username!r} already exists"
        raise RecordConflictError(msg)
    return uow.add(
        User(
            username=username,
            full_name=full_name.strip(),
            role=role,
            password_hash=hash_password(password) if password is not None else None,
            password_changed_at=utcnow() if password is not None else None,
            password_change_required=must_change_password and password is not None,
            site_id=site.id if site else None,
        )
    )


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        msg = "say why (it goes into the audit trail)"
        raise InvalidInputError(msg, field="reason")
    return reason.strip()


def _managed(uow: UnitOfWork, username: str) -> User:
    require(uow.actor, "user.manage")
    return uow.get(User, username)


def deactivate_user(uow: UnitOfWork, username: str, *, reason: str) -> User:
    """Deactivate a user: their sessions end and their API tokens are revoked (admin).

    Their records, signatures and audit entries stay as they are; the user can be
    reactivated, but needs new sessions and tokens.
    """
    reason = _reason(reason)
    user = _managed(uow, username)
    if user.id == uow.actor.user_id:
        msg = "an administrator cannot deactivate their own account; another admin must"
        raise PermissionDeniedError(msg)
    if not user.active:
        msg = f"user {username!r} is already deactivated"
        raise RecordConflictError(msg)
    uow.change(user, active=False, reason=reason)
    end_sessions(uow, user.id, reason="user deactivated")
    now = utcnow()
    for token in uow.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all():
        uow.change(token, revoked_at=now, reason=f"user deactivated: {reason}")
    return user


def reactivate_user(uow: UnitOfWork, username: str, *, reason: str) -> User:
    """Reactivate a deactivated user (admin); a lock, if any, stays until unlocked."""
    reason = _reason(reason)
    user = _managed(uow, username)
    if user.active:
        msg = f"user {username!r} is active"
        raise RecordConflictError(msg)
    return uow.change(user, active=True, reason=reason)


def unlock_user(uow: UnitOfWork, username: str, *, reason: str) -> User:
    """Unlock a user locked after failed password attempts, and reset the count (admin)."""
    reason = _reason(reason)
    user = _managed(uow, username)
    if user.locked_at is None and not user.failed_attempts:
        msg = f"user {username!r} is not locked"
        raise RecordConflictError(msg)
    return uow.change(user, locked_at=None, failed_attempts=0, reason=reason)


def reset_password(
    uow: UnitOfWork,
    username: str,
    *,
    password: str,
    reason: str,
    policy: AccessPolicy | None = None,
) -> User:
    """Set a user's password as an admin; it serves only to choose a new one at first use.

    The user's sessions end. A lock is not lifted (:func:`unlock_user` does that).
    """
    reason = _reason(reason)
    user = _managed(uow, username)
    check_password_policy(password, username=username, policy=policy)
    uow.change(
        user,
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
        password_change_required=True,
        reason=reason,
    )
    end_sessions(uow, user.id, reason="password reset by an administrator")
    return user


def change_password(
    db: Database,
    username: str,
    *,
    current: str,
    new: str,
    policy: AccessPolicy | None = None,
) -> Actor:
    """A user changes their own password, proving it with the current one.

    The current password may have expired (that is what it is still good for); a
    wrong one counts as a failed attempt. The user's sessions end, so they log in
    again with the new password. Returns the user's actor.

    Raises
    ------
    InvalidInputError
        The new password fails the policy (field ``password``); nothing is written.
    AuthenticationError
        The current password is wrong.
    """
    policy = policy or AccessPolicy.from_settings()
    check_password_policy(new, username=username, policy=policy, current=current)
    actor = authenticate_password(
        db, username, current, context="password change", policy=policy, allow_expired=True
    )
    new_hash = hash_password(new)  # slow on purpose: outside the write lock
    with db.unit_of_work(actor) as uow:
        user = uow.get(User, username)
        uow.change(
            user,
            password_hash=new_hash,
            password_changed_at=utcnow(),
            password_change_required=False,
            reason="password changed by its user",
        )
        end_sessions(uow, user.id, reason="password changed")
    return actor


def list_users(
    session: Session, *, policy: AccessPolicy, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every user with their account state, by username, as plain data.

    ``password_expired`` is judged by ``policy`` at ``now`` (default: the current time).
    """
    now = now or utcnow()
    return [
        {
            "username": u.username,
            "name": u.full_name,
            "role": str(u.role),
            "active": u.active,
            "locked": u.locked_at is not None,
            "failed_attempts": u.failed_attempts or 0,
            "password_expired": bool(u.password_hash) and password_expired(u, policy, now),
        }
        for u in session.scalars(select(User).order_by(User.username))
    ]

"""Users, roles and what each role may do; passwords hashed with Argon2id."""

from __future__ import annotations

from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from ..errors import InvalidInputError, PermissionDeniedError, RecordConflictError
from ._actor import SYSTEM, Actor
from ._database import UnitOfWork
from ._schema import Role, Site, User

__all__ = [
    "PERMISSIONS",
    "add_user",
    "check_password",
    "hash_password",
    "require",
]

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH: Final = 8

#: Which roles may perform each action. Admins administer; they do not make product.
PERMISSIONS: Final[dict[str, frozenset[Role]]] = {
    "site.add": frozenset({Role.admin}),
    "user.add": frozenset({Role.admin}),
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
    """Raise :class:`PermissionDeniedError` unless ``actor``'s role allows ``action``."""
    allowed = PERMISSIONS[action]
    if actor.role not in {r.value for r in allowed}:
        roles = ", ".join(sorted(r.value for r in allowed))
        msg = f"{actor.username} ({actor.role}) may not {action}; it needs one of: {roles}"
        raise PermissionDeniedError(msg)


def hash_password(password: str) -> str:
    """Argon2id hash of a password (RFC 9106 parameters of argon2-cffi)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        raise InvalidInputError(msg, field="password")
    return _HASHER.hash(password)


def check_password(user: User, password: str) -> bool:
    """True when ``password`` matches the user's stored hash."""
    if not user.password_hash:
        return False
    try:
        return _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(
    uow: UnitOfWork,
    *,
    username: str,
    full_name: str,
    role: Role | str,
    password: str | None,
    site: Site | None = None,
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
        The password for re-authentication when signing; ``None`` leaves the user
        unable to sign.
    site
        The user's home site, if any.
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
    if not username or not all(c.isalnum() or c in "._-" for c in username):
        msg = f"username {username!r} must be letters, digits, '.', '_' or '-'"
        raise InvalidInputError(msg, field="username")
    if not full_name.strip():
        msg = "the printed name is required (it appears on signatures)"
        raise InvalidInputError(msg, field="full_name")
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
            site_id=site.id if site else None,
        )
    )

"""Password hashing, the password policy and the limits of sessions and tokens.

The policy follows NIST SP 800-63B §5.1.1.2 (memorized secrets) as 21 CFR 11.300(b)
asks for "periodically checked, recalled, or revised" passwords:

- at least ``password_min_length`` characters (12 by default; settings may not go
  below 8), at most :data:`MAX_PASSWORD_LENGTH`;
- not one of the commonly used passwords shipped in
  ``vein2vein/records/data/common_passwords.txt`` (8,461 entries of 8+ characters from
  Django's list of the 20,000 most common passwords; compared case-insensitively);
- not containing the username (case-insensitively, for usernames of 3 or more
  characters: a one- or two-letter name is no word an attacker gains from) nor the
  name of the system;
- not the same as the current password (on change);
- valid for ``password_max_age_days`` (90 by default, 0 = no expiry); a password set
  by an admin may be marked for change at first use. An expired password
  authenticates only to change it.

Passwords are hashed with Argon2id (RFC 9106 parameters of argon2-cffi).
"""

from __future__ import annotations

import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib.resources import files
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .._settings import Settings, get_settings
from ..errors import InvalidInputError
from ._schema import User

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "AccessPolicy",
    "check_password",
    "check_password_policy",
    "equalize_timing",
    "hash_password",
    "password_expired",
]

_HASHER = PasswordHasher()
MAX_PASSWORD_LENGTH: Final = 256
#: Settings may not set a shorter minimum than NIST SP 800-63B's eight characters.
FLOOR_PASSWORD_LENGTH: Final = 8
_SYSTEM_WORDS: Final = ("vein2vein",)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The limits of authentication; :meth:`from_settings` reads them from the settings.

    Attributes
    ----------
    lockout_attempts
        Consecutive failed password attempts that lock the account.
    password_min_length
        Fewest characters of a new password.
    password_max_age
        How long a password stays valid; ``None`` for no expiry.
    session_idle_timeout
        A login session ends after this long unused.
    session_lifetime
        A login session ends this long after login.
    token_max_age
        Longest (and default) validity of an API token.
    """

    lockout_attempts: int = 5
    password_min_length: int = 12
    password_max_age: timedelta | None = timedelta(days=90)
    session_idle_timeout: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    token_max_age: timedelta = timedelta(days=365)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> AccessPolicy:
        """The policy of the settings (``VEIN2VEIN_*`` or ``vein2vein.toml``).

        Raises
        ------
        InvalidInputError
            A limit out of range, named by its setting.
        """
        s = settings if settings is not None else get_settings()
        _at_least(s.lockout_attempts, 1, "lockout_attempts")
        _at_least(s.password_min_length, FLOOR_PASSWORD_LENGTH, "password_min_length")
        _at_least(s.password_max_age_days, 0, "password_max_age_days")
        _at_least(s.session_idle_minutes, 1, "session_idle_minutes")
        _at_least(s.session_lifetime_hours, 1, "session_lifetime_hours")
        _at_least(s.token_max_age_days, 1, "token_max_age_days")
        return cls(
            lockout_attempts=s.lockout_attempts,
            password_min_length=s.password_min_length,
            password_max_age=(
                timedelta(days=s.password_max_age_days) if s.password_max_age_days else None
            ),
            session_idle_timeout=timedelta(minutes=s.session_idle_minutes),
            session_lifetime=timedelta(hours=s.session_lifetime_hours),
            token_max_age=timedelta(days=s.token_max_age_days),
        )


def _at_least(value: int, floor: int, field: str) -> None:
    if value < floor:
        msg = f"setting {field} is {value}; it must be at least {floor}"
        raise InvalidInputError(msg, field=field)


@cache
def _common_passwords() -> frozenset[str]:
    text = (files("vein2vein.records") / "data" / "common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("# ")
    )


def check_password_policy(
    password: str,
    *,
    username: str,
    policy: AccessPolicy | None = None,
    current: str | None = None,
) -> None:
    """Raise :class:`InvalidInputError` (field ``password``) unless the policy allows it.

    Parameters
    ----------
    password
        The proposed new password.
    username
        Whose password it is; the password may not contain it.
    policy
        The limits; the settings' when omitted.
    current
        The current password, already verified, when the user changes their own.
    """
    policy = policy or AccessPolicy.from_settings()
    if len(password) < policy.password_min_length:
        msg = f"a password needs at least {policy.password_min_length} characters"
        raise InvalidInputError(msg, field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        msg = f"a password may have at most {MAX_PASSWORD_LENGTH} characters"
        raise InvalidInputError(msg, field="password")
    folded = password.casefold()
    if folded in _common_passwords():
        msg = "that password is on the list of commonly used passwords; choose another"
        raise InvalidInputError(msg, field="password")
    if len(username) >= 3 and username.casefold() in folded:
        msg = "a password may not contain the username"
        raise InvalidInputError(msg, field="password")
    if any(word in folded for word in _SYSTEM_WORDS):
        msg = "a password may not contain the name of the system"
        raise InvalidInputError(msg, field="password")
    if current is not None and password == current:
        msg = "the new password is the same as the current one"
        raise InvalidInputError(msg, field="password")


def hash_password(password: str) -> str:
    """Argon2id hash of a password (RFC 9106 parameters of argon2-cffi); no policy check."""
    return _HASHER.hash(password)


def check_password(user: User, password: str) -> bool:
    """True when ``password`` matches the user's stored hash (no counting; see authentication)."""
    if not user.password_hash:
        return False
    try:
        return _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def equalize_timing(password: str) -> None:
    """Spend what a password check costs, for names that have no password to check.

    So the time a refusal takes does not tell whether the username exists.
    """
    with suppress(VerificationError, InvalidHashError):
        _HASHER.verify(_dummy_hash(), password)


def password_expired(user: User, policy: AccessPolicy, now: datetime) -> bool:
    """True when the user's password may only be used to change it.

    That is when an admin set it and marked it for change, or when it is older than
    the policy's maximum age (counted from the user's creation for passwords set
    before their age was recorded).
    """
    if user.password_change_required:
        return True
    if policy.password_max_age is None:
        return False
    changed = user.password_changed_at or user.created_at
    return now - changed > policy.password_max_age

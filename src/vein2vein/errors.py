"""The one error tree of vein2vein.

Every failure a user can cause raises a subclass of :class:`Vein2veinError`.
The shells map the classes centrally: the CLI turns :class:`InvalidInputError`
into exit code 2, the API into HTTP 422.

::

    Vein2veinError
    ├── InvalidInputError        bad input: names the file, the field and the reason
    │   ├── IdentityError        a DIN or other identifier that does not validate
    │   ├── SpecError            a specification that does not load
    │   └── TableInputError      a CSV file that does not meet its declared columns (and line)
    ├── RecordNotFoundError      a record that does not exist
    ├── RecordConflictError      a write that collides with what is stored
    ├── ReasonRequiredError      a change to a signed or released record without a reason
    ├── PermissionDeniedError    the acting user's role does not allow the action
    │   ├── AuthenticationError  who is acting is not proven: no valid session, token or password
    │   │   └── PasswordExpiredError  the password must be changed before anything else
    │   └── AccountDisabledError the account is deactivated
    │       └── AccountLockedError   locked after repeated failed password attempts
    ├── SignatureError           re-authentication failed or a signature cannot be made
    ├── TransitionRefusedError   a guard said no (release without a passing review...)
    ├── AuditIntegrityError      the audit trail does not verify
    ├── DatabaseBusyError        another writer held the database's lock too long
    └── SigningKeyError          no usable signing key: none configured, unreadable, or
                                 not the database's active key

    Vein2veinWarning             something the user should know that does not stop the work;
    └── MissingGenesWarning      logged (``vein2vein.logging.warning``), never ``warnings.warn``:
                                 genes a signature or state rule names are not in the matrix

Readers attach the offending line or row with :meth:`BaseException.add_note`.
"""

from __future__ import annotations

__all__ = [
    "AccountDisabledError",
    "AccountLockedError",
    "AuditIntegrityError",
    "AuthenticationError",
    "DatabaseBusyError",
    "IdentityError",
    "InvalidInputError",
    "MissingGenesWarning",
    "PasswordExpiredError",
    "PermissionDeniedError",
    "ReasonRequiredError",
    "RecordConflictError",
    "RecordNotFoundError",
    "SignatureError",
    "SigningKeyError",
    "SpecError",
    "TableInputError",
    "TransitionRefusedError",
    "Vein2veinError",
    "Vein2veinWarning",
]


class Vein2veinError(Exception):
    """Base class of every error vein2vein raises on purpose."""


class InvalidInputError(Vein2veinError, ValueError):
    """Input that cannot be accepted.

    Parameters
    ----------
    reason
        What is wrong, in words a user understands.
    file
        The file the input came from, if any.
    field
        The field (column, key, option) that holds the bad value, if known.
    """

    def __init__(self, reason: str, *, file: str | None = None, field: str | None = None) -> None:
        self.reason = reason
        self.file = file
        self.field = field
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file!s}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class IdentityError(InvalidInputError):
    """An identifier (ISBT 128 DIN, patient id) that does not validate."""


class SpecError(InvalidInputError):
    """A specification document that does not load or validate."""


class TableInputError(InvalidInputError):
    """A table file (CSV) that does not meet its declared columns.

    The reason starts with the line (``"line 4, column 'value': ..."``); :attr:`line`
    holds it as a number (``None`` for a problem of the whole file); further problems
    found in the same pass are attached as notes.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.line = line
        super().__init__(reason, file=file, field=field)


class RecordNotFoundError(Vein2veinError, LookupError):
    """A record that the caller named does not exist."""


class RecordConflictError(Vein2veinError):
    """A write that collides with a stored record (duplicate key, stale state)."""


class ReasonRequiredError(Vein2veinError):
    """A change to a signed or released record was attempted without a reason."""


class PermissionDeniedError(Vein2veinError):
    """The acting user's role does not permit the action."""


class AuthenticationError(PermissionDeniedError):
    """The acting user's identity is not proven (21 CFR 11.10(d), 11.300).

    No session, token or password was given, or the one given is unknown, forged,
    expired, revoked or wrong.
    """


class PasswordExpiredError(AuthenticationError):
    """The password is past its maximum age or was set by an admin; it only serves to change it."""


class AccountDisabledError(PermissionDeniedError):
    """The account is deactivated: its sessions and tokens no longer work."""


class AccountLockedError(AccountDisabledError):
    """The account is locked after repeated failed password attempts; an admin unlocks it."""


class SignatureError(Vein2veinError):
    """An electronic signature could not be made (wrong password, inactive user)."""


class TransitionRefusedError(Vein2veinError):
    """A workflow guard refused a transition; ``reasons`` says why, in words."""

    def __init__(self, message: str, *, reasons: tuple[str, ...] = ()) -> None:
        self.reasons = reasons
        super().__init__(message + (": " + "; ".join(reasons) if reasons else ""))


class AuditIntegrityError(Vein2veinError):
    """The audit trail failed verification."""


class DatabaseBusyError(Vein2veinError):
    """Another writer held the database's write lock longer than the lock time-out.

    Nothing was written; the operation can be tried again.
    """


class SigningKeyError(Vein2veinError):
    """The service's signing key is missing, unreadable, or not the database's active key.

    Audited writes are sealed with the key (signed checkpoints) and electronic
    signatures are bound to it, so nothing is written without it.
    """


class Vein2veinWarning(UserWarning):
    """Base class of the domain warnings; logged with their class, not raised.

    :func:`vein2vein.logging.warning` puts the class on the log record
    (``record.category``), so that a caller can filter or escalate by kind.
    """


class MissingGenesWarning(Vein2veinWarning):
    """Genes that a signature or a cell-state rule names are absent from the matrix."""

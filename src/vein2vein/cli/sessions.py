"""The client side of login sessions: one token file per database and user.

``vein2vein login`` stores the session token in
``<session dir>/<database key>-<username>.session``, a JSON file only its owner can
read or write (mode 0600, in a folder of mode 0700). The session dir is
``VEIN2VEIN_SESSION_DIR``, else ``$XDG_STATE_HOME/vein2vein/sessions``, else
``~/.local/state/vein2vein/sessions``. The database key is the SHA-256 of the
database URL without its password (a SQLite path made absolute), so sessions on
different databases never mix. A file that others can read is refused, as ssh refuses
a private key that others can read.

Tests log users in with :func:`open_cli_sessions` (or the ``cli_sessions`` fixture of
``tests/cli/conftest.py``), without typing their passwords.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import URL

from .._settings import get_settings
from ..errors import AuthenticationError, InvalidInputError
from ..records import AccessPolicy, Database, SessionGrant, list_users, start_session

__all__ = [
    "CliSessions",
    "SessionFile",
    "database_key",
    "find_session",
    "open_cli_sessions",
    "remove_session",
    "save_session",
    "session_dir",
]

_SUFFIX = ".session"


@dataclass(frozen=True, slots=True)
class SessionFile:
    """A stored session: which database and user, its token, and where it lies."""

    path: Path
    database: str
    username: str
    token: str
    expires_at: str


def session_dir() -> Path:
    """Where the session files live (see the module docstring)."""
    configured = get_settings().session_dir
    if configured is not None:
        return Path(configured).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "vein2vein" / "sessions"


def _display_url(url: URL) -> str:
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=True)


def database_key(db: Database) -> str:
    """16 hex digits naming the database in session file names."""
    return hashlib.sha256(_display_url(db.url).encode()).hexdigest()[:16]


def _file_name(db: Database, username: str) -> str:
    # Usernames are letters, digits, '.', '_' and '-'; anything else never names a file.
    if not username or username[0] == "." or not all(c.isalnum() or c in "._-" for c in username):
        msg = f"{username!r} is not a username"
        raise InvalidInputError(msg, field="user")
    return f"{database_key(db)}-{username}{_SUFFIX}"


def save_session(db: Database, grant: SessionGrant, *, folder: Path | None = None) -> Path:
    """Store a new session's token for ``db`` and its user, readable by its owner only."""
    folder = folder or session_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / _file_name(db, grant.actor.username)
    payload = {
        "database": _display_url(db.url),
        "username": grant.actor.username,
        "token": grant.token,
        "expires_at": grant.expires_at.isoformat(),
    }
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    partial.replace(path)
    return path


def _load(path: Path) -> SessionFile:
    if os.name == "posix":
        info = path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid():
            msg = (
                f"the session file {path} can be read by others (or is not yours); it is "
                "not used: delete it and log in again"
            )
            raise AuthenticationError(msg)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SessionFile(
            path=path,
            database=str(data["database"]),
            username=str(data["username"]),
            token=str(data["token"]),
            expires_at=str(data["expires_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        msg = f"the session file {path} is unreadable; log in again"
        raise AuthenticationError(msg) from None


def find_session(
    db: Database, username: str | None, *, folder: Path | None = None
) -> SessionFile | None:
    """The stored session of ``username`` on ``db``, or the sole one when no user is named.

    Raises
    ------
    InvalidInputError
        No user named and several users have sessions on this database (field ``user``).
    AuthenticationError
        The session file can be read by others or does not parse.
    """
    folder = folder or session_dir()
    key = database_key(db)
    if username is not None:
        path = folder / _file_name(db, username)
        return _load(path) if path.is_file() else None
    found = sorted(folder.glob(f"{key}-*{_SUFFIX}")) if folder.is_dir() else []
    if len(found) > 1:
        names = ", ".join(p.name[len(key) + 1 : -len(_SUFFIX)] for p in found)
        msg = f"several users are logged in on this database ({names}); say who with --user"
        raise InvalidInputError(msg, field="user")
    return _load(found[0]) if found else None


def remove_session(stored: SessionFile) -> None:
    """Delete a session file (after logout, or when the server has ended the session)."""
    stored.path.unlink(missing_ok=True)


class CliSessions(Protocol):
    """``login(database, *usernames)``: what the ``cli_sessions`` test fixture gives."""

    def __call__(self, database: Database | str, *usernames: str) -> list[str]:
        """Log users in (everyone when none are named); returns who."""
        ...


def open_cli_sessions(database: Database | str, *usernames: str, folder: Path) -> list[str]:
    """Give users a login session on ``database``, stored in ``folder`` (for tests).

    ``vein2vein -u NAME ...`` then acts with NAME's session, as after
    ``vein2vein -u NAME login``, provided ``VEIN2VEIN_SESSION_DIR`` is ``folder``. The
    sessions are opened with :func:`~vein2vein.records.start_session`, skipping the
    password check that ``login`` makes (Argon2 is slow on purpose; the real login has
    tests of its own).

    Parameters
    ----------
    database
        The database (or its URL) the CLI will use.
    usernames
        Who to log in; every active, unlocked user when none are named.
    folder
        The folder of session files.

    Returns
    -------
    list[str]
        The usernames logged in.
    """
    db = Database(database) if isinstance(database, str) else database
    try:
        names = list(usernames)
        if not names:
            with db.read() as session:
                users = list_users(session, policy=AccessPolicy())
            names = [u["username"] for u in users if u["active"] and not u["locked"]]
        for name in names:
            save_session(db, start_session(db, db.actor(name)), folder=folder)
    finally:
        if isinstance(database, str):
            db.dispose()
    return names

"""Log users in for command-line tests without typing (or hashing) their passwords."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from ..records import Database, User, start_session

__all__ = ["CliSessions", "open_cli_sessions"]

#: What the ``cli_sessions`` fixture gives: ``login(database, *usernames) -> usernames``.
CliSessions = Callable[..., list[str]]


def open_cli_sessions(database: Database | str, *usernames: str, session_dir: Path) -> list[str]:
    """Give users a login session on ``database``, stored where the CLI looks for it.

    ``vein2vein -u NAME ...`` then acts with NAME's session, as after
    ``vein2vein -u NAME login``, provided ``VEIN2VEIN_SESSION_DIR`` is ``session_dir``
    (the ``cli_sessions`` fixture sets it). The sessions are opened with
    :func:`~vein2vein.records.start_session`, skipping the password check that
    ``login`` makes (Argon2 is slow on purpose; the real login has tests of its own).

    Parameters
    ----------
    database
        The database (or its URL) the CLI will use.
    usernames
        Who to log in; every active, unlocked user when none are named.
    session_dir
        The folder of session files.

    Returns
    -------
    list[str]
        The usernames logged in.
    """
    from ..cli.sessions import save_session

    db = Database(database) if isinstance(database, str) else database
    try:
        names = list(usernames)
        if not names:
            with db.read() as session:
                names = list(
                    session.scalars(
                        select(User.username)
                        .where(User.active.is_(True), User.locked_at.is_(None))
                        .order_by(User.username)
                    )
                )
        for name in names:
            save_session(db, start_session(db, db.actor(name)), folder=session_dir)
    finally:
        if isinstance(database, str):
            db.dispose()
    return names

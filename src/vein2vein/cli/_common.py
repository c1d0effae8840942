"""What every command group shares: the database, the acting user, output, time parsing."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from .._settings import get_settings
from ..errors import AuthenticationError, InvalidInputError, Vein2veinError
from ..records import (
    Actor,
    Database,
    authenticate_password,
    authenticate_token,
    resume_session,
    to_jsonable,
)
from .sessions import find_session, remove_session

# Messages are not wrapped when piped, so scripts see each one on one line.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class State:
    """Global options, filled by the app callback."""

    database_url: str | None = None
    user: str | None = None
    token: str | None = None  # --token-stdin or VEIN2VEIN_TOKEN
    password: str | None = None  # --auth-password-stdin: this command only
    opened: list[Database] = field(default_factory=list)  # closed when the command ends

    def close(self) -> None:
        """Close the connections of every database this command opened."""
        while self.opened:
            self.opened.pop().dispose()


STATE = State()


def open_database(*, signing_key: Path | None = None) -> Database:
    """The configured database (``--db`` or ``VEIN2VEIN_DATABASE_URL``), schema not checked.

    ``signing_key`` overrides the configured key (the demo's own key).
    """
    try:
        db = Database(STATE.database_url, signing_key=signing_key)
    except (ArgumentError, NoSuchModuleError) as exc:
        msg = f"not a usable SQLAlchemy database URL: {exc}"
        raise InvalidInputError(msg, field="db") from None
    STATE.opened.append(db)
    return db


def database() -> Database:
    """The configured database, schema checked."""
    db = open_database()
    db.check_schema()
    return db


def acting(db: Database) -> Actor:
    """Who is acting, proven (21 CFR 11.10(d)); every command that changes records calls it.

    In order: an API token (``--token-stdin`` or ``VEIN2VEIN_TOKEN``), a password for
    this one command (``--auth-password-stdin``), or the login session of ``--user``
    (``VEIN2VEIN_USER``), or the sole session on this database when no user is named.

    Raises
    ------
    AuthenticationError
        No credential, or one that is forged, expired, revoked or wrong (exit 3).
    AccountDisabledError
        The user is deactivated or locked (exit 3).
    """
    username = STATE.user or get_settings().user
    if STATE.token is not None:
        actor = authenticate_token(db, STATE.token)
        if username is not None and username != actor.username:
            msg = f"the API token acts as {actor.username!r}, not as {username!r}"
            raise AuthenticationError(msg)
        return actor
    if STATE.password is not None:
        if not username:
            msg = "say who is acting: --user NAME (or set VEIN2VEIN_USER)"
            raise InvalidInputError(msg, field="user")
        return authenticate_password(db, username, STATE.password, context="command")
    stored = find_session(db, username)
    if stored is None:
        who = f"as {username!r} " if username else ""
        msg = (
            f"not logged in {who}on this database: run `vein2vein -u NAME login`, or give "
            "--auth-password-stdin or an API token (--token-stdin, VEIN2VEIN_TOKEN)"
        )
        raise AuthenticationError(msg)
    try:
        return resume_session(db, stored.token).actor
    except AuthenticationError:
        remove_session(stored)  # ended on the server: the file is of no further use
        raise


def emit_json(payload: Any) -> None:
    """Write ``payload`` as JSON to stdout (for scripts)."""
    sys.stdout.write(json.dumps(to_jsonable(payload), indent=2, sort_keys=True) + "\n")


def parse_time(value: str | None, field: str) -> datetime:
    """An ISO 8601 time with offset (``2026-01-31T08:00:00Z``); now (UTC) when omitted."""
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = f"{value!r} is not an ISO 8601 time such as 2026-01-31T08:00:00Z"
        raise InvalidInputError(msg, field=field) from None
    if parsed.tzinfo is None:
        msg = f"{value!r} has no UTC offset; add Z or +01:00 so the record is unambiguous"
        raise InvalidInputError(msg, field=field)
    return parsed.astimezone(UTC)


def read_password(
    *, stdin: bool, confirm: bool = False, prompt: str = "Password", field: str = "password"
) -> str:
    """A password from standard input (``--password-stdin``: one line) or a hidden prompt."""
    if stdin:
        return read_secret_line(field)
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def read_secret_line(field: str) -> str:
    """The next line of standard input, which must not be empty (a password or token)."""
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        msg = f"no {field.replace('_', ' ')} on standard input"
        raise InvalidInputError(msg, field=field)
    return line


def fail(message: str, code: int) -> typer.Exit:
    """Print an error line and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def fail_with(message: str, details: list[str], code: int = 1) -> typer.Exit:
    """Say that a command did its work but not all of it was decided, with the details.

    Returns the Exit to raise (code 1, "a check said no"), so that scripts notice.
    """
    err_console.print(f"[bold yellow]not all decided:[/] {escape(message)}", highlight=False)
    for line in details:
        err_console.print(f"  {escape(line)}", highlight=False)
    return typer.Exit(code)


__all__ = [
    "STATE",
    "Vein2veinError",
    "acting",
    "console",
    "database",
    "emit_json",
    "err_console",
    "fail",
    "fail_with",
    "open_database",
    "parse_time",
    "read_password",
    "read_secret_line",
]

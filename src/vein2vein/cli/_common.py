"""What every command group shares: the database, the acting user, output, time parsing."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from .._settings import get_settings
from ..errors import InvalidInputError, Vein2veinError
from ..records import Actor, Database
from ..records._canonical import to_jsonable

# Messages are not wrapped when piped, so scripts see each one on one line.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class State:
    """Global options, filled by the app callback."""

    database_url: str | None = None
    user: str | None = None


STATE = State()


def open_database() -> Database:
    """The configured database (``--db`` or ``VEIN2VEIN_DATABASE_URL``), schema not checked."""
    try:
        return Database(STATE.database_url)
    except (ArgumentError, NoSuchModuleError) as exc:
        msg = f"not a usable SQLAlchemy database URL: {exc}"
        raise InvalidInputError(msg, field="db") from None


def database() -> Database:
    """The configured database, schema checked."""
    db = open_database()
    db.check_schema()
    return db


def acting(db: Database) -> Actor:
    """The acting user from ``--user`` or ``VEIN2VEIN_USER``."""
    username = STATE.user or get_settings().user
    if not username:
        msg = "say who is acting: --user NAME (or set VEIN2VEIN_USER)"
        raise InvalidInputError(msg, field="user")
    return db.actor(username)


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


def read_password(*, stdin: bool, confirm: bool = False) -> str:
    """A password from standard input (``--password-stdin``) or a hidden prompt."""
    if stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            msg = "no password on standard input"
            raise InvalidInputError(msg, field="password")
        return line
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return value


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
]

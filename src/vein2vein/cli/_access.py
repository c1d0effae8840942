"""``login``, ``logout``, ``whoami``, ``password`` and ``token``: proving who is acting."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.markup import escape
from rich.table import Table

from .._settings import get_settings
from ..errors import AuthenticationError, InvalidInputError
from ..records import (
    User,
    authenticate_token,
    change_password,
    create_token,
    end_session,
    get_record,
    login,
    resume_session,
    revoke_token,
    token_row,
    token_rows,
    user_id_of,
)
from ._common import STATE, acting, console, database, emit_json, read_password
from .sessions import find_session, remove_session, save_session

password_app = typer.Typer(help="Your own password.")
token_app = typer.Typer(help="API tokens for machine clients (admins create and revoke them).")


def _username() -> str | None:
    return STATE.user or get_settings().user


def _required_username() -> str:
    """The --user name (or VEIN2VEIN_USER); InvalidInputError without one."""
    username = _username()
    if not username:
        msg = "say who logs in: vein2vein --user NAME login (or set VEIN2VEIN_USER)"
        raise InvalidInputError(msg, field="user")
    return username


def login_command(
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
) -> None:
    """Log in as --user: a session for this database, kept in a file only you can read."""
    username = _required_username()
    db = database()
    password = read_password(stdin=password_stdin)
    try:
        previous = find_session(db, username)
    except AuthenticationError:
        previous = None  # an unusable file: the new session replaces it
    grant = login(db, username, password)
    if previous is not None:
        end_session(db, previous.token, reason="replaced by a new login")
    path = save_session(db, grant)
    stamp = grant.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    console.print(
        escape(f"logged in as {username} ({grant.actor.role}) until {stamp} at the latest"),
        highlight=False,
    )
    console.print(escape(f"session kept in {path}"), highlight=False)


def logout_command() -> None:
    """End your session on this database (--user, or the sole one)."""
    db = database()
    stored = find_session(db, _username())
    if stored is None:
        console.print("not logged in on this database", highlight=False)
        return
    end_session(db, stored.token)
    remove_session(stored)
    console.print(escape(f"logged out {stored.username}"), highlight=False)


def whoami_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Who you act as on this database, and until when (uses the session: counts as use)."""
    db = database()
    if STATE.token is not None:
        actor = authenticate_token(db, STATE.token)
        scopes = sorted(actor.scopes or ())
        if as_json:
            emit_json({"username": actor.username, "role": actor.role, "scopes": scopes})
        else:
            console.print(
                escape(f"{actor.username} ({actor.role}) by API token: {', '.join(scopes)}"),
                highlight=False,
            )
        return
    stored = find_session(db, _username())
    if stored is None:
        msg = "not logged in on this database (vein2vein -u NAME login)"
        raise AuthenticationError(msg)
    active = resume_session(db, stored.token)
    with db.read() as session:
        user = get_record(session, User, user_id_of(active.actor))
        name = user.full_name
    payload = {
        "username": active.actor.username,
        "name": name,
        "role": active.actor.role,
        "session_id": active.session_id,
        "logged_in_at": active.created_at,
        "expires_at": active.expires_at,
        "idle_expires_at": min(active.idle_expires_at, active.expires_at),
        "database": stored.database,
    }
    if as_json:
        emit_json(payload)
        return
    ends = min(active.idle_expires_at, active.expires_at).strftime("%Y-%m-%d %H:%M UTC")
    console.print(
        escape(f"{active.actor.username} ({name}, {active.actor.role}) on {stored.database}"),
        highlight=False,
    )
    console.print(escape(f"session ends {ends} unless used again"), highlight=False)


@password_app.command("change")
def password_change(
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the current password, then the new one, one line each from stdin.",
    ),
) -> None:
    """Change your password (also when it has expired); your sessions end."""
    username = _required_username()
    db = database()
    current = read_password(stdin=password_stdin, prompt="Current password")
    new = read_password(stdin=password_stdin, confirm=not password_stdin, prompt="New password")
    change_password(db, username, current=current, new=new)
    stored = find_session(db, username)
    if stored is not None:
        remove_session(stored)
    console.print(
        escape(f"password of {username} changed; log in again (vein2vein -u {username} login)"),
        highlight=False,
    )


@token_app.command("create")
def token_create(
    user: str = typer.Option(..., "--user", help="The user the token acts as."),
    scope: list[str] = typer.Option(
        ..., "--scope", help="An action it may do (repeat): e.g. process.ingest, result.enter."
    ),
    label: str = typer.Option(..., "--label", help="What the token is for."),
    expires_days: int | None = typer.Option(
        None,
        "--expires-days",
        min=1,
        max=36525,  # the settings' maximum applies below; this keeps timedelta in range
        help="Days it stays valid (default and most: the settings').",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create an API token (admins); it is shown once, keep it in a secret store."""
    db = database()
    valid_for = timedelta(days=expires_days) if expires_days is not None else None
    with db.unit_of_work(acting(db)) as uow:
        issued = create_token(uow, username=user, scopes=scope, label=label, valid_for=valid_for)
    row = token_row(issued.record, user) | {"token": issued.token}
    if as_json:
        emit_json(row)
        return
    console.print(
        escape(f"api_token:{row['id']} for {user}: {', '.join(row['scopes'])}"), highlight=False
    )
    console.print(escape(issued.token), highlight=False, soft_wrap=True)
    console.print("shown once: it cannot be displayed again", highlight=False)


@token_app.command("list")
def token_list(
    user: str | None = typer.Option(None, "--user", help="Only this user's tokens."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List API tokens (never the tokens themselves)."""
    with database().read() as session:
        rows = token_rows(session, username=user)
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "user", "label", "scopes", "expires", "revoked")
    for r in rows:
        table.add_row(
            str(r["id"]),
            escape(r["user"]),
            escape(r["label"]),
            escape(", ".join(r["scopes"])),
            r["expires_at"].strftime("%Y-%m-%d"),
            r["revoked_at"].strftime("%Y-%m-%d %H:%M") if r["revoked_at"] else "",
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(..., help="The token's id (token list)."),
    reason: str = typer.Option(..., "--reason", help="Why (it goes into the audit trail)."),
) -> None:
    """Revoke an API token now (admins)."""
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        token = revoke_token(uow, token_id, reason=reason)
    console.print(escape(f"api_token:{token.id} revoked"), highlight=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.command("login")(login_command)
    app.command("logout")(logout_command)
    app.command("whoami")(whoami_command)
    app.add_typer(password_app, name="password")
    app.add_typer(token_app, name="token")

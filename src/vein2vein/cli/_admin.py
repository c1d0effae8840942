"""``init``, ``site`` and ``user``: setting up a system of record and its people."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from .. import identity
from ..records import (
    SYSTEM,
    AccessPolicy,
    Site,
    add_user,
    check_password_policy,
    deactivate_user,
    grant_application_role,
    keys,
    list_users,
    reactivate_user,
    record_image,
    reset_password,
    unlock_user,
)
from ._common import acting, console, database, emit_json, open_database, read_password

site_app = typer.Typer(
    help="Sites of the network (manufacturing hubs, collection and treating centres)."
)
user_app = typer.Typer(help="Users and their roles.")


def init(
    admin: str | None = typer.Option(None, "--admin", help="Username of the first administrator."),
    admin_name: str | None = typer.Option(None, "--admin-name", help="Printed name of that admin."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
    app_role: str | None = typer.Option(
        None,
        "--app-role",
        help="PostgreSQL: grant this role what the application needs (run as the schema owner).",
    ),
) -> None:
    """Create or upgrade the schema, register the signing key; optionally the first admin.

    Without a configured key (VEIN2VEIN_SIGNING_KEY), a new one is made at
    ~/.config/vein2vein/signing-key.pem (mode 0600); a configured key file that does
    not exist yet is made for a new database. A trail written before the key
    is verified and sealed as it stands. Only the first administrator of an empty
    database is registered this way; then log in (vein2vein -u NAME login) and add
    everyone else as that admin.
    """
    # Ask for the password first, so a bad one leaves the database untouched.
    password = None
    if admin is not None:
        password = read_password(stdin=password_stdin, confirm=not password_stdin)
        check_password_policy(password, username=admin)
    created = keys.create_default_key()
    db = open_database()
    created = created or keys.create_configured_key(db)
    db.upgrade()
    console.print(escape(f"database {db!r} at schema {db.current_revision()}"), highlight=False)
    signer = db.seal.signer()
    made = "created" if created is not None else "in use"
    console.print(
        escape(f"signing key {signer.key_id} {made}: {signer.path} (keep it, and its witness)"),
        highlight=False,
    )
    if app_role is not None:
        grant_application_role(db, app_role)
        console.print(escape(f"application role {app_role!r} granted"), highlight=False)
    if admin is None:
        return
    with db.unit_of_work(SYSTEM) as uow:
        add_user(
            uow,
            username=admin,
            full_name=admin_name or admin,
            role="admin",
            password=password,
        )
    console.print(escape(f"first administrator {admin!r} registered"), highlight=False)


@site_app.command("add")
def site_add(
    code: str = typer.Argument(..., help="Short site code, e.g. HUB-A."),
    name: str = typer.Option(..., "--name", help="Site name."),
    fin: str = typer.Option(..., "--fin", help="ISBT 128 facility identification number."),
    as_json: bool = typer.Option(False, "--json", help="Print the record as JSON."),
) -> None:
    """Register a site."""
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        site = identity.register_site(uow, code=code, name=name, facility_id=fin)
    if as_json:
        emit_json(record_image(site))
    else:
        console.print(escape(f"site {site.code} ({site.facility_id}) registered"), highlight=False)


@site_app.command("list")
def site_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the sites."""
    with database().read() as session:
        sites = identity.list_sites(session)
    if as_json:
        emit_json(sites)
        return
    table = Table("code", "name", "FIN")
    for s in sites:
        table.add_row(escape(s["code"]), escape(s["name"]), escape(s["facility_id"]))
    console.print(table)


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="Login name."),
    name: str = typer.Option(..., "--name", help="Printed name (shown on signatures)."),
    role: str = typer.Option(
        ..., "--role", help="operator, qc_analyst, qa_reviewer, clinician or admin."
    ),
    site: str | None = typer.Option(None, "--site", help="Home site code."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new user's password from stdin."
    ),
    no_password: bool = typer.Option(
        False, "--no-password", help="A user who cannot log in with a password or sign."
    ),
    must_change: bool = typer.Option(
        False, "--must-change-password", help="The password only serves to set a new one."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register a user (admins only)."""
    db = database()
    actor = acting(db)
    password = (
        None if no_password else read_password(stdin=password_stdin, confirm=not password_stdin)
    )
    with db.unit_of_work(actor) as uow:
        home = uow.get(Site, site) if site else None
        user = add_user(
            uow,
            username=username,
            full_name=name,
            role=role,
            password=password,
            site=home,
            must_change_password=must_change,
        )
    if as_json:
        emit_json({k: v for k, v in record_image(user).items() if k != "password_hash"})
    else:
        console.print(escape(f"user {user.username} ({user.role}) registered"), highlight=False)


_REASON = typer.Option(..., "--reason", help="Why (it goes into the audit trail).")


@user_app.command("deactivate")
def user_deactivate(
    username: str = typer.Argument(..., help="Login name."), reason: str = _REASON
) -> None:
    """Deactivate a user (admins): their sessions end, their API tokens are revoked."""
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        deactivate_user(uow, username, reason=reason)
    console.print(escape(f"user {username} deactivated"), highlight=False)


@user_app.command("reactivate")
def user_reactivate(
    username: str = typer.Argument(..., help="Login name."), reason: str = _REASON
) -> None:
    """Reactivate a deactivated user (admins); they log in anew."""
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        reactivate_user(uow, username, reason=reason)
    console.print(escape(f"user {username} reactivated"), highlight=False)


@user_app.command("unlock")
def user_unlock(
    username: str = typer.Argument(..., help="Login name."), reason: str = _REASON
) -> None:
    """Unlock a user locked after failed password attempts (admins)."""
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        unlock_user(uow, username, reason=reason)
    console.print(escape(f"user {username} unlocked"), highlight=False)


@user_app.command("reset-password")
def user_reset_password(
    username: str = typer.Argument(..., help="Login name."),
    reason: str = _REASON,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from stdin."
    ),
) -> None:
    """Set a user's password (admins); it only serves to choose a new one at first use."""
    db = database()
    actor = acting(db)
    password = read_password(stdin=password_stdin, confirm=not password_stdin)
    with db.unit_of_work(actor) as uow:
        reset_password(uow, username, password=password, reason=reason)
    console.print(
        escape(f"password of {username} reset; it must be changed at first use"), highlight=False
    )


@user_app.command("list")
def user_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the users, with their account state."""
    policy = AccessPolicy.from_settings()
    with database().read() as session:
        rows = list_users(session, policy=policy)
    if as_json:
        emit_json(rows)
        return
    table = Table("username", "name", "role", "active", "locked", "password")
    for r in rows:
        table.add_row(
            escape(r["username"]),
            escape(r["name"]),
            r["role"],
            "yes" if r["active"] else "no",
            "LOCKED" if r["locked"] else "",
            "expired" if r["password_expired"] else "",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.command("init")(init)
    app.add_typer(site_app, name="site")
    app.add_typer(user_app, name="user")

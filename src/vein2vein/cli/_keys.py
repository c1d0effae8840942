"""``keys``: the service's signing keys (list, rotate)."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from ..records import keys, to_jsonable
from ._common import acting, console, database, emit_json

keys_app = typer.Typer(
    help="The service's signing keys: they seal the audit trail and bind e-signatures."
)


@keys_app.command("list")
def keys_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the database's signing keys (public halves), oldest first."""
    db = database()
    with db.read() as session:
        rows = [
            {
                "key_id": k.key_id,
                "public_key": k.public_key,
                "activated_at": to_jsonable(k.activated_at),
                "retired_at": to_jsonable(k.retired_at),
                "endorsed_by": k.endorsed_by,
            }
            for k in keys.list_keys(session)
        ]
    configured = db.seal.signer().key_id if db.seal.configured else None
    if as_json:
        emit_json({"configured": configured, "keys": rows})
        return
    table = Table("key id", "activated (UTC)", "retired (UTC)", "endorsed by", "public key")
    for r in rows:
        table.add_row(
            r["key_id"] + (" (configured)" if r["key_id"] == configured else ""),
            r["activated_at"][:19],
            (r["retired_at"] or "")[:19],
            r["endorsed_by"] or "itself",
            r["public_key"],
        )
    console.print(table)


@keys_app.command("rotate")
def keys_rotate(
    reason: str | None = typer.Option(None, "--reason", help="Why (recorded in the trail)."),
) -> None:
    """Replace the signing key (admins): a new key, endorsed by the old one, replaces the file.

    The old private key is destroyed; its public key stays in the record, so what it
    signed still verifies. Other running processes pick up the new key file.
    """
    db = database()
    record = keys.rotate_key(db, acting(db), reason=reason)
    path = db.seal.key_path
    done = f"signing key rotated: {record.endorsed_by} retired, {record.key_id} active ({path})"
    console.print(escape(done), highlight=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.add_typer(keys_app, name="keys")

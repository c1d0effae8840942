"""``audit`` and ``sign``: the trail, its verification, and electronic signatures."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import InvalidInputError
from ..identity import parse_din
from ..records import (
    AUDITED_MODELS,
    Audited,
    Donation,
    audit,
    get_record,
    reauthenticate,
    record_image,
    sign,
    signatures_of,
)
from ._common import acting, console, database, emit_json, read_password

audit_app = typer.Typer(help="The audit trail.")

_KINDS: dict[str, type[Audited]] = {}
for _model in AUDITED_MODELS:
    _KINDS[_model.__record_kind__] = _model
    _KINDS[_model.__table__.name] = _model  # type: ignore[attr-defined]


def resolve_kind(reference: str) -> tuple[type[Audited], str]:
    """Split ``kind:key`` (``batch:HUB-A-...``, ``donation:W000017...``, ``sites:3``)."""
    kind, sep, key = reference.partition(":")
    if not sep or not key:
        msg = f"{reference!r} is not KIND:KEY (e.g. batch:HUB-A-1 or donation:W000026000001)"
        raise InvalidInputError(msg, field="record")
    model = _KINDS.get(kind)
    if model is None:
        kinds = ", ".join(sorted(m.__record_kind__ for m in AUDITED_MODELS))
        msg = f"unknown record kind {kind!r}; one of: {kinds}"
        raise InvalidInputError(msg, field="record")
    if model is Donation and not key.isdigit():
        key = parse_din(key).din13  # the eye-readable form with spaces works too
    return model, key


@audit_app.command("verify")
def audit_verify(
    chain_only: bool = typer.Option(
        False, "--chain-only", help="Check the chain, its seal and the witness only."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Verify the trail, its signed checkpoints and witness, and every record both ways.

    Prints each finding (kind, entry or record, what is wrong) and exits 1 on any;
    0 when intact. See docs/records.md for what each kind means.
    """
    with database().read() as session:
        report = audit.verify(session, check_records=not chain_only)
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "entries": report.n_entries,
                "records": report.n_records,
                "checkpoints": report.n_checkpoints,
                "signatures": report.n_signatures,
                "readings": report.n_readings,
                "witnessed_seq": report.witnessed_seq,
                "first_bad_seq": report.first_bad_seq,
                "findings": [
                    {"kind": f.kind, "seq": f.seq, "record": f.record, "message": f.message}
                    for f in report.findings
                ],
                "notes": report.notes,
            }
        )
    elif report.ok:
        console.print(
            f"[green]audit trail intact[/]: {report.n_entries} entries sealed by "
            f"{report.n_checkpoints} signed checkpoints; {report.n_records} records match "
            f"their last audited image; {report.n_signatures} signatures bound; "
            f"{report.n_readings} readings match their ingests",
            highlight=False,
        )
    else:
        if report.first_bad_seq is not None:
            console.print(
                f"[bold red]audit trail broken at entry {report.first_bad_seq}[/]", highlight=False
            )
        else:
            console.print(f"[bold red]{len(report.findings)} finding(s)[/]", highlight=False)
        for f in report.findings:
            where = f"entry {f.seq}" if f.seq is not None else f.record or "trail"
            console.print(escape(f"  {f.kind}  {where}: {f.message}"), highlight=False)
    if not as_json:
        for note in report.notes:
            console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    record: str = typer.Argument(..., help="KIND:KEY, e.g. batch:HUB-A-W000026000001."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List a record's history and its signatures (with validity)."""
    model, key = resolve_kind(record)
    with database().read() as session:
        obj = get_record(session, model, key)
        entries = audit.history(session, model.__table__.name, obj.id)  # type: ignore[attr-defined]
        sigs = signatures_of(session, obj)
        rows: list[dict[str, Any]] = [
            {
                "seq": e.seq,
                "recorded_at": e.recorded_at,
                "user": e.username,
                "role": e.user_role,
                "action": e.action,
                "changes": e.changes,
                "reason": e.reason,
                "hash": e.hash,
            }
            for e in entries
        ]
        current = record_image(obj)
    if as_json:
        emit_json(
            {
                "record": f"{model.__record_kind__}:{obj.id}",
                "current": current,
                "history": rows,
                "signatures": [
                    {"manifestation": s.manifestation, "meaning": s.meaning, "valid": s.valid}
                    for s in sigs
                ],
            }
        )
        return
    table = Table("seq", "time (UTC)", "who", "action", "changes", "reason", title=escape(record))
    for r in rows:
        changes = "; ".join(
            f"{k}: {old!r} → {new!r}" for k, (old, new) in sorted(r["changes"].items())
        )
        table.add_row(
            str(r["seq"]),
            r["recorded_at"].strftime("%Y-%m-%d %H:%M:%S"),
            escape(f"{r['user']} ({r['role']})"),
            r["action"],
            escape(changes),
            escape(r["reason"] or ""),
        )
    console.print(table)
    for s in sigs:
        style = "green" if s.valid else "bold red"
        console.print(f"signature: [{style}]{escape(s.manifestation)}[/]", highlight=False)


def sign_command(
    record: str = typer.Argument(..., help="KIND:KEY of the record to sign."),
    meaning: str = typer.Option(..., "--meaning", help="authored, reviewed, approved or released."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
) -> None:
    """Sign a record electronically; you re-enter your password."""
    model, key = resolve_kind(record)
    db = database()
    actor = acting(db)
    proof = reauthenticate(db, actor, read_password(stdin=password_stdin))
    with db.unit_of_work(actor) as uow:
        obj = uow.get(model, key)
        signature = sign(uow, obj, password=proof, meaning=meaning)
        manifestation = signatures_of(uow.session, obj)[-1].manifestation
    console.print(
        escape(f"signed {record} (signature {signature.id}): {manifestation}"), highlight=False
    )


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.add_typer(audit_app, name="audit")
    app.command("sign")(sign_command)

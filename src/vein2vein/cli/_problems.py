"""``release problems|assess|link`` and ``investigation``: what stands between a lot and release.

Exit codes as everywhere (``vein2vein.cli``): ``release problems`` exits 1 when a
problem keeps the lot from release; assessing and closing are e-signed (password
re-entered, exit 3 when it does not match); bad input exits 2 naming the field.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import InvalidInputError
from ..records import get_record, list_investigations, reauthenticate, record_image
from ._common import acting, console, database, emit_json, read_password

investigation_app = typer.Typer(help="OOS investigations: list and close (QA, e-signed).")

_CONCLUSIONS = {"no-impact": "no_impact", "no_impact": "no_impact", "impact": "impact"}


def problems_table(rows: list[dict[str, Any]], title: str) -> Table:
    """The problems of a lot as a table (code, what, status or assessment, release)."""
    table = Table("record", "severity", "via", "status", "assessment", "release", title=title)
    for p in rows:
        assessment = p["assessment"]
        table.add_row(
            escape(p["code"]),
            escape(p["severity"]),
            escape(p["via"] + (f" ({p['detail']})" if p["detail"] else "")),
            escape(p["status"] + (f" ({p['outcome']})" if p["outcome"] else "")),
            "" if assessment is None else escape(assessment["conclusion"].replace("_", " ")),
            "[green]passes[/]" if p["blocks_release"] is None else "[bold red]blocks[/]",
        )
    return table


def release_problems(
    batch: str = typer.Argument(..., help="Batch code."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List every deviation and investigation of a lot; exit 1 if one blocks release."""
    from ..records import Batch
    from ..release import problem_report

    with database().read() as session:
        lot = get_record(session, Batch, batch)
        rows = [r.to_dict() for r in problem_report(session, lot)]
    blocking = [r["blocks_release"] for r in rows if r["blocks_release"] is not None]
    if as_json:
        emit_json({"batch": batch, "problems": rows, "blocks_release": blocking})
    else:
        console.print(problems_table(rows, f"deviations and investigations of {batch}"))
        for p in rows:
            console.print(escape(f"{p['code']}: {p['description']}"), highlight=False)
        for reason in blocking:
            console.print(escape(f"blocks release: {reason}"), style="bold red", highlight=False)
        if not rows:
            console.print("no deviation or investigation against this lot")
    if blocking:
        raise typer.Exit(1)


def release_assess(
    problem: str = typer.Argument(..., help="Deviation or investigation code (DEV-/OOS-)."),
    batch: str = typer.Option(..., "--batch", help="The lot assessed."),
    conclusion: str = typer.Option(..., "--conclusion", help="no-impact or impact."),
    reason: str = typer.Option(..., "--reason", help="The evidence the conclusion rests on."),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record QA's impact assessment of a problem for one lot (e-signed, meaning approved)."""
    from ..records import assess_impact

    if conclusion not in _CONCLUSIONS:
        msg = f"conclusion {conclusion!r} is not no-impact or impact"
        raise InvalidInputError(msg, field="conclusion")
    db = database()
    actor = acting(db)
    proof = reauthenticate(db, actor, read_password(stdin=password_stdin))
    with db.unit_of_work(actor) as uow:
        record = assess_impact(
            uow,
            problem=problem,
            batch=batch,
            conclusion=_CONCLUSIONS[conclusion],
            reason=reason,
            password=proof,
        )
        payload = {**record_image(record), "problem": problem, "batch": batch}
    if as_json:
        emit_json(payload)
        return
    words = payload["conclusion"].replace("_", " ")
    console.print(escape(f"{problem} for {batch}: {words} (signed by {actor.username})"))


def release_link(
    problem: str = typer.Argument(..., help="Deviation or investigation code (DEV-/OOS-)."),
    batch: str = typer.Option(..., "--batch", help="A batch the problem may affect."),
    via: str = typer.Option(
        ..., "--via", help="How it reaches the batch: batch, donation, material, room, process."
    ),
    detail: str | None = typer.Option(None, "--detail", help="Material lot, room code..."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Link a problem to another batch it may affect (audited); its release then weighs it."""
    from ..records import link_problem

    db = database()
    with db.unit_of_work(acting(db)) as uow:
        link = link_problem(uow, problem=problem, batch=batch, via=via, detail=detail)
        payload = {**record_image(link), "problem": problem, "batch": batch}
    if as_json:
        emit_json(payload)
        return
    console.print(escape(f"{problem} linked to {batch} through its {via}"), highlight=False)


@investigation_app.command("list")
def investigation_list(
    status: str | None = typer.Option(None, "--status", help="open or closed."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List OOS investigations."""
    with database().read() as session:
        rows = list_investigations(session, status=status)
    if as_json:
        emit_json(rows)
        return
    table = Table("code", "analyte", "status", "outcome", "description")
    for i in rows:
        table.add_row(
            i["code"],
            escape(i["analyte"]),
            i["status"],
            i["outcome"] or "",
            escape(i["description"]),
        )
    console.print(table)


@investigation_app.command("close")
def investigation_close(
    code: str = typer.Argument(..., help="Investigation code, e.g. OOS-000001."),
    outcome: str = typer.Option(
        ..., "--outcome", help="confirmed (the result stands) or invalidated (lab error)."
    ),
    conclusion: str = typer.Option(..., "--conclusion", help="Root cause and conclusion."),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Close an OOS investigation (QA, e-signed, meaning approved)."""
    from ..records import close_investigation

    db = database()
    actor = acting(db)
    proof = reauthenticate(db, actor, read_password(stdin=password_stdin))
    with db.unit_of_work(actor) as uow:
        record = close_investigation(
            uow, code, outcome=outcome, conclusion=conclusion, password=proof
        )
        payload = record_image(record)
    if as_json:
        emit_json(payload)
        return
    console.print(escape(f"{code} closed ({outcome}) by {actor.username}"), highlight=False)


def register(app: typer.Typer, release_app: typer.Typer) -> None:
    """Attach ``problems``, ``assess``, ``link`` to ``release`` and the investigation group."""
    release_app.command("problems")(release_problems)
    release_app.command("assess")(release_assess)
    release_app.command("link")(release_link)
    app.add_typer(investigation_app, name="investigation")

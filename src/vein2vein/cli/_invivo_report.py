"""``invivo report``: the in vivo program report from the system of record."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from ..errors import InvalidInputError
from ._common import console, database, emit_json


def invivo_report_command(
    out: Path = typer.Option(..., "--out", help="Folder for the HTML report."),
    recommend: list[str] | None = typer.Option(
        None, "--recommend", help="DESIGN=DOSE to mark on the sliding-scale chart (repeatable)."
    ),
    label: str | None = typer.Option(None, "--label", help="Provenance label of the data."),
    synthetic: bool = typer.Option(False, "--synthetic", help="Label the data synthetic."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Write the in vivo report (lots, cohorts, kinetics, exposure, sliding scale)."""
    from ..invivo import invivo_report

    marks: list[tuple[str, float]] = []
    for item in recommend or ():
        name, _, dose = item.partition("=")
        try:
            marks.append((name.strip(), float(dose)))
        except ValueError:
            msg = f"--recommend takes DESIGN=DOSE, e.g. BOIN12=1e7; got {item!r}"
            raise InvalidInputError(msg, field="recommend") from None
    db = database()
    with db.read() as session:
        summary = invivo_report(
            session,
            out,
            recommendations=marks,
            label=label or "data from the system of record",
            synthetic=synthetic,
        )
    if as_json:
        emit_json(summary)
        return
    console.print(
        escape(
            f"in vivo report on {summary['patients']} patient(s) written to {summary['report']}"
        ),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Attach ``report`` to the ``invivo`` group."""
    app.command("report")(invivo_report_command)

"""``process`` (parameters, ingest, baselines, charts, monitor) and ``deviation`` commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..records import (
    list_deviations,
    reauthenticate,
    record_image,
)
from ._common import acting, console, database, emit_json, read_password

deviation_app = typer.Typer(help="Deviations: list, acknowledge, close (e-signed).")


def parameter_add(
    name: str = typer.Argument(..., help="Parameter name, e.g. ph."),
    unit: str = typer.Option(..., "--unit", help="Unit (pint syntax; '' for none)."),
    step: str = typer.Option(..., "--step", help="Process step, e.g. expansion."),
    description: str | None = typer.Option(None, "--description"),
) -> None:
    """Register a monitored process parameter."""
    from ..process import register_parameter

    db = database()
    with db.unit_of_work(acting(db)) as uow:
        p = register_parameter(uow, name=name, unit=unit, step=step, description=description)
    console.print(escape(f"parameter {p.name} [{p.unit or 'no unit'}] ({p.step}) registered"))


def ingest(
    file: Path = typer.Argument(..., help="CSV or Parquet: batch,parameter,timestamp,value,unit."),
    allow_closed: bool = typer.Option(False, "--allow-closed", help="Back-fill closed batches."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ingest readings (validated whole; all rows or none)."""
    from ..process import ingest_readings

    db = database()
    with (
        console.status(f"ingesting {file.name}", spinner="dots"),
        db.unit_of_work(acting(db)) as uow,
    ):
        report = ingest_readings(uow, file, allow_closed=allow_closed)
    payload = {
        "ingest_id": report.ingest_id,
        "readings": report.n_readings,
        "batches": report.n_batches,
        "parameters": report.n_parameters,
        "sha256": report.sha256,
        "resorted": report.resorted,
        "converted_units": list(report.converted_units),
    }
    if as_json:
        emit_json(payload)
        return
    note = " (rows re-sorted by time)" if report.resorted else ""
    console.print(
        f"{report.n_readings} readings of {report.n_parameters} parameter(s) for "
        f"{report.n_batches} batch(es) stored{note}"
    )
    for c in report.converted_units:
        console.print(escape(f"  converted {c}"))


def baseline_set(
    parameter: str = typer.Argument(..., help="Parameter name."),
    batches: str = typer.Option(..., "--batches", help="Comma-separated baseline batch codes."),
    site: str | None = typer.Option(None, "--site", help="Limits for one site (default: network)."),
    window: str = typer.Option("1h", "--window", help="Averaging window of the readings."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Set (a new version of) Phase I limits from good baseline batches."""
    from ..process import set_baseline

    codes = [b.strip() for b in batches.split(",") if b.strip()]
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        limits = set_baseline(
            uow, parameter=parameter, baseline_batches=codes, site=site, window=window
        )
        payload = record_image(limits)
    if as_json:
        emit_json(payload)
        return
    console.print(
        f"{escape(parameter)} limits v{payload['version']}: center {payload['center']:.4g}, "
        f"LCL {payload['lcl']:.4g}, UCL {payload['ucl']:.4g} from {len(codes)} batches"
    )


def chart(
    batch: str = typer.Argument(..., help="Batch code."),
    parameter: str = typer.Argument(..., help="Parameter name."),
    out: Path = typer.Option(..., "--out", help="Image file (.png, .svg or .pdf)."),
) -> None:
    """Draw a batch's control chart of one parameter against its active limits."""
    from ..process import draw_batch_chart

    with database().read() as session:
        draw_batch_chart(session, batch=batch, parameter=parameter, out=out)
    console.print(escape(f"chart written to {out}"), highlight=False)


def monitor(
    severity: Path | None = typer.Option(None, "--severity", help="Severity table (YAML)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Evaluate every live batch once; print the deviations this tick opened."""
    from ..process import load_severity
    from ..process import monitor as run_monitor

    db = database()
    with db.unit_of_work(acting(db)) as uow:
        report = run_monitor(uow, severity=load_severity(severity))
        new = [
            {
                "deviation": s.deviation,
                "batch": s.batch,
                "parameter": s.parameter,
                "rule": s.rule,
                "description": s.description,
                "window": [s.window[0], s.window[1]],
            }
            for s in report.new_deviations
        ]
    if as_json:
        emit_json({"batches": report.batches, "series": report.series, "new_deviations": new})
        return
    console.print(f"{report.batches} live batches, {report.series} series checked")
    for d in new:
        console.print(
            escape(
                f"{d['deviation']} {d['batch']} {d['parameter']} {d['rule']}: {d['description']}"
            ),
            style="bold red",
        )


@deviation_app.command("list")
def deviation_list(
    status: str | None = typer.Option(None, "--status", help="open, acknowledged or closed."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List deviations."""
    with database().read() as session:
        rows = list_deviations(session, status=status)
    if as_json:
        emit_json(rows)
        return
    table = Table("code", "severity", "status", "category", "description")
    for d in rows:
        table.add_row(
            d["code"], d["severity"], d["status"], d["category"], escape(d["description"])
        )
    console.print(table)


@deviation_app.command("ack")
def deviation_ack(
    code: str = typer.Argument(..., help="Deviation code, e.g. DEV-000004."),
    comment: str = typer.Option(..., "--comment", help="What was seen and done."),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Acknowledge a deviation (e-signed, meaning reviewed)."""
    from ..records import acknowledge_deviation

    db = database()
    actor = acting(db)
    proof = reauthenticate(db, actor, read_password(stdin=password_stdin))
    with db.unit_of_work(actor) as uow:
        acknowledge_deviation(uow, code, password=proof, comment=comment)
    console.print(escape(f"{code} acknowledged by {actor.username}"), highlight=False)


@deviation_app.command("close")
def deviation_close(
    code: str = typer.Argument(..., help="Deviation code."),
    resolution: str = typer.Option(..., "--resolution", help="Root cause and CAPA."),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Close a deviation with its resolution (QA, e-signed, meaning approved)."""
    from ..records import close_deviation

    db = database()
    actor = acting(db)
    proof = reauthenticate(db, actor, read_password(stdin=password_stdin))
    with db.unit_of_work(actor) as uow:
        close_deviation(uow, code, password=proof, resolution=resolution)
    console.print(escape(f"{code} closed by {actor.username}"), highlight=False)


parameter_app = typer.Typer(help="Monitored process parameters.")
baseline_app = typer.Typer(help="Phase I control limits (versioned).")


def register(app: typer.Typer, process_app: typer.Typer) -> None:
    """Attach the process commands to ``process_app`` and the deviation group to ``app``."""
    parameter_app.command("add")(parameter_add)
    baseline_app.command("set")(baseline_set)
    process_app.add_typer(parameter_app, name="parameter")
    process_app.add_typer(baseline_app, name="baseline")
    process_app.command("ingest")(ingest)
    process_app.command("chart")(chart)
    process_app.command("monitor")(monitor)
    app.add_typer(deviation_app, name="deviation")

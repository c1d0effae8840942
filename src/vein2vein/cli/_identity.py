"""``patient``, ``donation``, ``batch`` and ``custody``: the chain of identity."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from .. import identity
from ..records import Batch, get_record, record_image
from ._common import acting, console, database, emit_json, parse_time

patient_app = typer.Typer(help="Patients (pseudonymous codes only).")
donation_app = typer.Typer(help="Apheresis donations, identified by ISBT 128 DIN.")
batch_app = typer.Typer(help="Patient batches.")
custody_app = typer.Typer(help="Chain of custody hand-offs.")


@patient_app.command("add")
def patient_add(
    code: str = typer.Argument(..., help="Pseudonymous patient code."),
    site: str = typer.Option(..., "--site", help="Treating site code."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register a patient at a treating site."""
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        patient = identity.register_patient(uow, patient_code=code, treating_site=site)
    if as_json:
        emit_json(record_image(patient))
    else:
        console.print(escape(f"patient {patient.patient_code} registered"), highlight=False)


@donation_app.command("register")
def donation_register(
    din: str = typer.Argument(
        ..., help="DIN as scanned or eye-readable (check character validated)."
    ),
    patient: str = typer.Option(..., "--patient", help="Patient code."),
    site: str = typer.Option(..., "--site", help="Collection site code (owner of the DIN's FIN)."),
    collected_at: str | None = typer.Option(
        None, "--collected-at", help="ISO 8601 time with offset."
    ),
    volume_ml: float | None = typer.Option(None, "--volume-ml", help="Collected volume, mL."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register an apheresis donation under its DIN."""
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        donation = identity.register_donation(
            uow,
            din=din,
            patient=patient,
            collection_site=site,
            collected_at=parse_time(collected_at, "collected_at"),
            volume_ml=volume_ml,
        )
    parsed = identity.parse_din(donation.din + donation.flags)
    if as_json:
        emit_json({**record_image(donation), "eye_readable": parsed.eye_readable})
    else:
        console.print(
            escape(f"donation {parsed.eye_readable} registered for {patient}"), highlight=False
        )


@batch_app.command("start")
def batch_start(
    din: str = typer.Argument(..., help="DIN of the registered donation."),
    site: str = typer.Option(..., "--site", help="Manufacturing site code."),
    product: str = typer.Option(..., "--product", help="Product name."),
    code: str | None = typer.Option(None, "--code", help="Batch code (default SITE-DIN)."),
    started_at: str | None = typer.Option(None, "--started-at", help="ISO 8601 time with offset."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start a patient batch from a donation."""
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        batch = identity.start_batch(
            uow,
            din=din,
            site=site,
            product=product,
            started_at=parse_time(started_at, "started_at"),
            batch_code=code,
        )
    if as_json:
        emit_json(record_image(batch))
    else:
        console.print(escape(f"batch {batch.batch_code} started"), highlight=False)


@batch_app.command("show")
def batch_show(
    batch: str = typer.Argument(..., help="Batch code."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show a batch: identity, custody, deviations and investigations, signatures."""
    from ..release import batch_summary

    with database().read() as session:
        summary = batch_summary(session, get_record(session, Batch, batch))
    if as_json:
        emit_json(summary)
        return
    console.print(
        f"[bold]{escape(summary['batch_code'])}[/]  "
        + escape(
            f"{summary['product']}  status {summary['status']}\n"
            f"DIN {summary['din']}  patient {summary['patient']}  site {summary['site']}  "
            f"held by {summary['custodian']}"
        ),
        highlight=False,
    )
    table = Table("time (UTC)", "from", "to", "scanned", "°C", "accepted")
    for e in summary["custody"]:
        table.add_row(
            e["occurred_at"][:19],
            escape(e["from_party"]),
            escape(e["to_party"]),
            escape(e["scanned_din"]),
            "" if e["temperature_c"] is None else f"{e['temperature_c']:g}",
            "yes" if e["accepted"] else f"[red]REFUSED[/] {escape(e['refusal_reason'] or '')}",
        )
    console.print(table)
    for p in summary["problems"]:
        kind = "deviation" if p["kind"] == "deviation" else "investigation"
        via = "" if p["via"] == "batch" else f" (through its {p['via']})"
        line = f"{kind} {p['code']} [{p['severity']}] {p['status']}{via}: {p['description']}"
        if p["assessment"] is not None:
            a = p["assessment"]
            line += f"; QA: {a['conclusion'].replace('_', ' ')} ({a['reason']})"
        style = "" if p["blocks_release"] is None else "bold red"
        console.print(escape(line), style=style, highlight=False)
    for s in summary["signatures"]:
        style = "green" if s["valid"] else "bold red"
        console.print(f"signature: [{style}]{escape(s['manifestation'])}[/]", highlight=False)


@custody_app.command("log")
def custody_log(
    batch: str = typer.Argument(..., help="Batch code."),
    from_party: str = typer.Option(..., "--from", help="Who hands the material over."),
    to_party: str = typer.Option(..., "--to", help="Who receives it."),
    scan: str = typer.Option(..., "--scan", help="The DIN as scanned from the bag label."),
    patient: str | None = typer.Option(None, "--patient", help="The patient id as scanned."),
    temperature: float | None = typer.Option(None, "--temperature", help="Temperature, °C."),
    condition: str | None = typer.Option(
        None, "--condition", help="refrigerated, room_temperature or cryopreserved."
    ),
    at: str | None = typer.Option(None, "--at", help="ISO 8601 time with offset (default now)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Log a custody hand-off. A mismatch is refused and recorded (exit code 1)."""
    db = database()
    handoff = identity.Handoff(
        from_party=from_party,
        to_party=to_party,
        occurred_at=parse_time(at, "at"),
        scanned_din=scan,
        scanned_patient=patient,
        temperature_c=temperature,
        condition=condition,
    )
    with db.unit_of_work(acting(db)) as uow:
        result = identity.log_custody(uow, batch=batch, handoff=handoff)
        deviation_code = result.deviation.code if result.deviation else None
    if as_json:
        emit_json(
            {
                "accepted": result.accepted,
                "outcome": result.decision.outcome.value,
                "reasons": list(result.decision.reasons),
                "deviation": deviation_code,
                "event_id": result.event.id,
            }
        )
    elif result.accepted:
        note = (
            f" (deviation {deviation_code}: {'; '.join(result.decision.reasons)})"
            if deviation_code
            else ""
        )
        console.print(escape(f"custody of {batch} passed to {to_party}{note}"), highlight=False)
    else:
        console.print(
            "[bold red]REFUSED[/] "
            + escape(
                f"hand-off of {batch}: {'; '.join(result.decision.reasons)}; "
                f"recorded as deviation {deviation_code}"
            ),
            highlight=False,
        )
    if not result.accepted:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.add_typer(patient_app, name="patient")
    app.add_typer(donation_app, name="donation")
    app.add_typer(batch_app, name="batch")
    app.add_typer(custody_app, name="custody")

"""``invivo lot register|release`` and ``invivo dose``: in vivo records from the shell.

A vector or LNP lot is registered (operator or QC analyst), released by QA against the
shipped in vivo lot specification (e-signed after re-authentication), and a patient is
dosed from a released lot (clinician). Each command writes one audited unit of work.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from ..records import reauthenticate
from ._common import acting, console, database, emit_json, parse_time, read_password

lot_app = typer.Typer(help="In vivo vector and LNP lots: registration and release.")


@lot_app.command("register")
def lot_register(
    lot: str = typer.Argument(..., help="The lot's code (unique)."),
    product: str = typer.Option(..., "--product", help="Product name."),
    platform: str = typer.Option(..., "--platform", help="lentiviral, lnp_mrna or other."),
    titre: float = typer.Option(..., "--titre", help="Functional titre (> 0)."),
    titre_unit: str = typer.Option(..., "--titre-unit", help="Unit of the titre, e.g. TU/mL."),
    site: str = typer.Option(..., "--site", help="Code of the manufacturing site."),
    manufactured_at: str = typer.Option(
        ..., "--manufactured-at", help="When it was made (ISO 8601 with offset)."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register a lot in quarantine, awaiting release (operator or QC analyst)."""
    from ..invivo import register_invivo_lot

    db = database()
    actor = acting(db)
    made = parse_time(manufactured_at, "manufactured_at")
    with db.unit_of_work(actor) as uow:
        row = register_invivo_lot(
            uow,
            lot_code=lot,
            product=product,
            platform=platform,
            titre=titre,
            titre_unit=titre_unit,
            site=site,
            manufactured_at=made,
        )
        payload = {"lot": row.lot_code, "status": row.status, "platform": row.platform}
    if as_json:
        emit_json(payload)
        return
    console.print(f"in vivo lot {escape(payload['lot'])} registered (quarantine)")


@lot_app.command("release")
def lot_release(
    lot: str = typer.Argument(..., help="The lot's code."),
    results: Path = typer.Argument(
        ..., help="CSV of the lot's release results: analyte, value and optionally unit."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the signing password from standard input."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Decide a lot against the in vivo lot specification as QA, e-signed.

    Exit 0 when the lot is released; 1 when it is rejected or stays in quarantine
    (results pending or invalid): the decision is stored either way.
    """
    from ..invivo import release_invivo_lot
    from ..specs import read_results_csv

    rows = read_results_csv(results)
    db = database()
    actor = acting(db)
    proof = reauthenticate(db, actor, read_password(stdin=password_stdin))
    with db.unit_of_work(actor) as uow:
        evaluation, decision = release_invivo_lot(uow, lot=lot, results=rows, password=proof)
        evaluation_id = evaluation.id
    outcome = str(decision.outcome)
    status = {"pass": "released", "fail": "rejected"}.get(outcome, "quarantine")
    if as_json:
        emit_json(
            {
                "lot": lot,
                "status": status,
                "outcome": outcome,
                "evaluation_id": evaluation_id,
                "reasons": list(decision.reasons),
            }
        )
    else:
        console.print(f"in vivo lot {escape(lot)}: {status} ({outcome})")
        for reason in decision.reasons:
            console.print(f"  {escape(reason)}")
    if status != "released":
        raise typer.Exit(1)


def invivo_dose(
    patient: str = typer.Argument(..., help="The patient's code (registered)."),
    lot: str = typer.Option(..., "--lot", help="A released in vivo lot."),
    dose: float = typer.Option(..., "--dose", help="The dose (> 0) in --dose-unit."),
    dose_unit: str = typer.Option(..., "--dose-unit", help="TU/kg, TU, vg, vg/kg or mg/kg."),
    at: str = typer.Option(..., "--at", help="When the dose was given (ISO 8601 with offset)."),
    indication: str = typer.Option(..., "--indication", help="The disease treated."),
    lymphodepletion: bool = typer.Option(
        False,
        "--lymphodepletion/--no-lymphodepletion",
        help="Whether lymphodepleting chemotherapy preceded the dose.",
    ),
    dose_level: int | None = typer.Option(None, "--dose-level", help="Trial dose level (1-based)."),
    weight_kg: float | None = typer.Option(None, "--weight-kg", help="Body weight, kg."),
    baseline_alc: float | None = typer.Option(
        None, "--baseline-alc", help="Baseline absolute lymphocyte count, cells/uL."
    ),
    baseline_cd3: float | None = typer.Option(
        None, "--baseline-cd3", help="Baseline CD3+ count, cells/uL."
    ),
    baseline_cd8: float | None = typer.Option(
        None, "--baseline-cd8", help="Baseline CD8+ count, cells/uL."
    ),
    tumour_burden: float | None = typer.Option(
        None, "--tumour-burden", help="Baseline tumour burden, as the program defines it."
    ),
    anti_vector_titre: float | None = typer.Option(
        None, "--anti-vector-titre", help="Neutralizing anti-vector antibody titre."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record that a patient was dosed from a released lot (clinician; day 0 of follow-up)."""
    from ..invivo import record_dosing

    db = database()
    actor = acting(db)
    dosed_at = parse_time(at, "at")
    with db.unit_of_work(actor) as uow:
        row = record_dosing(
            uow,
            patient=patient,
            lot=lot,
            dosed_at=dosed_at,
            dose=dose,
            dose_unit=dose_unit,
            lymphodepletion=lymphodepletion,
            indication=indication,
            dose_level=dose_level,
            weight_kg=weight_kg,
            baseline_alc=baseline_alc,
            baseline_cd3=baseline_cd3,
            baseline_cd8=baseline_cd8,
            tumour_burden=tumour_burden,
            anti_vector_titre=anti_vector_titre,
        )
        payload = {
            "dosing_id": row.id,
            "patient": patient,
            "lot": lot,
            "dose": row.dose,
            "dose_unit": row.dose_unit,
            "dosed_at": row.dosed_at,
        }
    if as_json:
        emit_json(payload)
        return
    console.print(
        f"{escape(patient)} dosed {row.dose:g} {escape(row.dose_unit)} from in vivo lot "
        f"{escape(lot)}"
    )


def register(app: typer.Typer) -> None:
    """Attach ``lot`` and ``dose`` to the ``invivo`` group."""
    app.add_typer(lot_app, name="lot")
    app.command("dose")(invivo_dose)

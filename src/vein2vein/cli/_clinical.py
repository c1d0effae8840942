"""``clinical``: grading, kinetics, outcomes; recording commands in ``_clinical_records``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import InvalidInputError
from ..support import check_quantity, write_csv
from . import _clinical_records
from ._common import console, database, emit_json

clinical_app = typer.Typer(
    help="Clinical follow-up: grading, kinetics, records (infusion, toxicity, response, "
    "kinetics) and outcomes linked to the product."
)


@clinical_app.command("grade")
def clinical_grade(
    file: Path = typer.Argument(..., help="CSV of daily observations (one row per assessment)."),
    kind: str = typer.Option(..., "--kind", help="crs or icans."),
    out: Path | None = typer.Option(None, "--out", help="Write the graded rows to this CSV."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Grade each observation (ASTCT 2019) and summarise each patient's episodes."""
    from ..clinical import grade_observations, read_observations_csv, toxicity_episodes

    if kind not in ("crs", "icans"):
        msg = f"--kind must be crs or icans, not {kind!r}"
        raise InvalidInputError(msg, field="kind")
    frame = read_observations_csv(file, kind=kind)
    graded = grade_observations(frame, kind=kind)
    episodes = toxicity_episodes(graded, kind=kind)
    if out is not None:
        write_csv(graded, out)
    if as_json:
        emit_json(
            {
                "kind": kind,
                "graded": graded.astype(object).where(graded.notna(), None).to_dict("records"),
                "episodes": episodes.astype(object)
                .where(episodes.notna(), None)
                .to_dict("records"),
            }
        )
        return
    table = Table(*[str(c) for c in episodes.columns], title=f"{kind.upper()} episodes")
    for row in episodes.itertuples(index=False):
        table.add_row(*[escape("" if v is None else str(v)) for v in row])
    console.print(table)


def _kinetics_rows(frame: Any, *, unit: str, lloq: float | None) -> list[dict[str, Any]]:
    """NCA per patient, each in its own unit (the file's unit column, else ``unit``)."""
    from ..clinical import nca

    rows = []
    for patient, group in frame.groupby("patient_id", sort=True):
        own = group["unit"].iloc[0] or unit
        result = nca(
            group["day"].to_numpy(float), group["value"].to_numpy(float), unit=own, lloq=lloq
        )
        rows.append({"patient_id": str(patient), **result.to_dict()})
    return rows


@clinical_app.command("kinetics")
def clinical_kinetics(
    file: Path = typer.Argument(..., help="CSV: patient_id,day,value[,unit] (transgene level)."),
    unit: str | None = typer.Option(
        None, "--unit", help="Unit of the values when the file has no unit column (copies/ug)."
    ),
    lloq: float | None = typer.Option(None, "--lloq", help="Lower limit of quantitation."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Non-compartmental kinetics per patient: Cmax, Tmax, AUC0-28, Clast, Tlast.

    One unit per patient: a file whose unit column mixes units for a patient is refused.
    """
    from ..clinical import read_levels_csv

    frame = read_levels_csv(file)
    given = {u for u in frame["unit"] if u is not None}
    if given and unit is not None and given != {unit}:
        msg = f"--unit {unit} but the file's unit column says {', '.join(sorted(given))}"
        raise InvalidInputError(msg, file=str(file), field="unit")
    if lloq is not None:
        check_quantity("amount", lloq, field="lloq")
    rows = _kinetics_rows(frame, unit=unit or "copies/ug", lloq=lloq)
    if as_json:
        emit_json(rows)
        return
    table = Table("patient", "Cmax", "Tmax (d)", "AUC0-28 (lin)", "AUC0-28 (lin-log)", "Tlast (d)")
    for r in rows:
        table.add_row(
            escape(r["patient_id"]),
            f"{r['cmax']:.4g}",
            f"{r['tmax']:g}",
            f"{r['auc_linear']:.4g}",
            f"{r['auc_lin_log']:.4g}",
            "" if r["tlast"] is None else f"{r['tlast']:g}",
        )
    console.print(table)


@clinical_app.command("outcomes")
def clinical_outcomes(
    file: Path | None = typer.Argument(
        None,
        help="Patient-level CSV (attributes, pfs_time, pfs_event, dor_time, dor_event, "
        "responder). Omit it to use the patient table of the database (--db).",
    ),
    attribute: list[str] | None = typer.Option(
        None,
        "--attribute",
        help="A product attribute column (repeat the option). Default: every numeric "
        "release attribute that varies between patients.",
    ),
    out: Path = typer.Option(..., "--out", help="Folder for the HTML report."),
    label: str | None = typer.Option(None, "--label", help="Provenance label of the data."),
    permutations: int = typer.Option(200, "--permutations", min=19, help="Permutation test size."),
    seed: int = typer.Option(0, "--seed", min=0),
    table_out: Path | None = typer.Option(
        None, "--table", help="Also write the patient table used to this CSV."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Link product attributes to outcomes: Kaplan-Meier, Cox, a response model.

    Without FILE, the patient table is built from the system of record: one row per
    infused patient with the infused lot's release attributes, toxicity, exposure,
    best response, PFS and duration of response.
    """
    from ..clinical import (
        outcomes_report,
        patient_table,
        product_attributes,
        read_patient_table,
    )

    if file is None:
        db = database()
        with db.read() as session:
            frame = patient_table(session)
        if frame.empty:
            msg = "no infused patients in the database; record infusions first"
            raise InvalidInputError(msg, field="db")
        source = "patients in the system of record"
        where: dict[str, str] = {"field": "attributes"}
    else:
        frame = read_patient_table(file)
        source = f"patients in {file.name}"
        where = {"file": str(file), "field": "attributes"}
    missing = [a for a in attribute or () if a not in frame.columns]
    if missing:
        msg = f"no column {missing[0]!r}; columns: {', '.join(map(str, frame.columns))}"
        raise InvalidInputError(msg, file=where.get("file"), field=missing[0])
    try:
        attributes = list(attribute) if attribute else product_attributes(frame)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.reason, **where) from None
    if table_out is not None:
        write_csv(frame, table_out)
    path = outcomes_report(
        frame,
        attributes=attributes,
        out_dir=out,
        label=label or source,
        n_permutations=permutations,
        seed=seed,
    )
    if as_json:
        emit_json({"report": str(path), "patients": len(frame), "attributes": attributes})
        return
    console.print(
        escape(
            f"outcomes report on {len(frame)} patient(s), attributes {', '.join(attributes)}, "
            f"written to {path}"
        ),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Attach the clinical commands to the main app."""
    _clinical_records.register(clinical_app)
    app.add_typer(clinical_app, name="clinical")

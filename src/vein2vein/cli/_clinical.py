"""``clinical``: toxicity grading of daily observations, and cellular kinetics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import InvalidInputError
from ._common import console, emit_json

clinical_app = typer.Typer(help="Clinical follow-up: CRS/ICANS grading, cellular kinetics.")


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
        graded.to_csv(out, index=False)
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
    from ..clinical import nca

    rows = []
    for patient, group in frame.groupby("patient_id", sort=True):
        result = nca(
            group["day"].to_numpy(float), group["value"].to_numpy(float), unit=unit, lloq=lloq
        )
        rows.append({"patient_id": str(patient), **result.to_dict()})
    return rows


@clinical_app.command("kinetics")
def clinical_kinetics(
    file: Path = typer.Argument(..., help="CSV: patient_id,day,value (transgene level)."),
    unit: str = typer.Option("copies/ug", "--unit", help="Unit of the values."),
    lloq: float | None = typer.Option(None, "--lloq", help="Lower limit of quantitation."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Non-compartmental kinetics per patient: Cmax, Tmax, AUC0-28, Clast, Tlast."""
    import pandas as pd

    try:
        frame = pd.read_csv(file)
    except (OSError, ValueError) as exc:
        msg = f"cannot read: {exc}"
        raise InvalidInputError(msg, file=str(file)) from None
    missing = [c for c in ("patient_id", "day", "value") if c not in frame.columns]
    if missing:
        msg = f"missing column(s) {', '.join(missing)}"
        raise InvalidInputError(msg, file=str(file), field=missing[0])
    for column in ("day", "value"):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        if numbers.isna().any():
            line = int(numbers.isna().to_numpy().argmax()) + 2
            msg = f"line {line}: {frame[column].iloc[line - 2]!r} is not a number"
            raise InvalidInputError(msg, file=str(file), field=column)
        frame[column] = numbers
    rows = _kinetics_rows(frame, unit=unit, lloq=lloq)
    if as_json:
        emit_json(rows)
        return
    table = Table("patient", "Cmax", "Tmax (d)", "AUC0-28 (lin)", "AUC0-28 (lin-log)", "Tlast (d)")
    for r in rows:
        table.add_row(
            r["patient_id"],
            f"{r['cmax']:.4g}",
            f"{r['tmax']:g}",
            f"{r['auc_linear']:.4g}",
            f"{r['auc_lin_log']:.4g}",
            "" if r["tlast"] is None else f"{r['tlast']:g}",
        )
    console.print(table)


@clinical_app.command("outcomes")
def clinical_outcomes(
    file: Path = typer.Argument(
        ...,
        help="Patient-level CSV: attributes, pfs_time, pfs_event, dor_time, dor_event, responder.",
    ),
    attribute: list[str] = typer.Option(..., "--attribute", help="A product attribute column."),
    out: Path = typer.Option(..., "--out", help="Folder for the HTML report."),
    label: str | None = typer.Option(None, "--label", help="Provenance label of the data."),
    permutations: int = typer.Option(200, "--permutations", min=19, help="Permutation test size."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Link product attributes to outcomes: Kaplan-Meier, Cox, a response model."""
    import pandas as pd

    from ..clinical import outcomes_report

    try:
        frame = pd.read_csv(file)
    except (OSError, ValueError) as exc:
        msg = f"cannot read: {exc}"
        raise InvalidInputError(msg, file=str(file)) from None
    missing = [a for a in attribute if a not in frame.columns]
    if missing:
        msg = f"no column {missing[0]!r}; columns: {', '.join(map(str, frame.columns))}"
        raise InvalidInputError(msg, file=str(file), field=missing[0])
    path = outcomes_report(
        frame,
        attributes=attribute,
        out_dir=out,
        label=label or f"patients in {file.name}",
        n_permutations=permutations,
        seed=seed,
    )
    console.print(f"outcomes report written to {path}")


def register(app: typer.Typer) -> None:
    """Attach the clinical commands to the main app."""
    app.add_typer(clinical_app, name="clinical")

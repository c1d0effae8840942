"""``clinical infuse`` and ``clinical record-*``: follow-up into the system of record.

Every command acts as the user named by ``--user`` (a clinician), writes through
one unit of work with its audit entries, and stores all of a file or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import InvalidInputError
from ._common import acting, console, database, emit_json, parse_time

if TYPE_CHECKING:
    from ..clinical import RecordedFile

#: Files with more data rows than this get a progress bar.
PROGRESS_MIN_ROWS = 50

_TOXICITY_HELP = """Store a CSV of daily CRS or ICANS observations, one assessment per row.

Columns (header names, any order): patient_id, day (days since infusion, integer >= 0),
tocilizumab, steroids (given that day: true/false), and the observation fields that
`clinical grade` reads. CRS: temperature_c, hypotension, vasopressors (names separated
by ;), oxygen, oxygen_flow_l_min, fever_treated, death_from_crs. ICANS: age_years,
ice_score (age >= 12) or capd_score (< 12), able_to_perform_assessment, consciousness,
seizure, motor_weakness, cerebral_edema, death_from_icans, and the optional findings.
Optional: comment. Each row is graded (ASTCT 2019) and stored with its grade.
All or nothing: one bad row and nothing is stored; the error names file, line, field.
"""

_RESPONSE_HELP = """Store a CSV of disease response assessments, one per row.

Columns: patient_id, day (days since infusion, integer >= 0), criteria (lugano, imwg,
iwcll), response (Lugano/iwCLL: CR, PR, SD, PD; IMWG: sCR, CR, VGPR, PR, MR, SD, PD).
Optional: reason, and a marrow MRD result as mrd_result (negative/positive),
mrd_sensitivity (10^-4, 10^-5, 10^-6) and mrd_method (ngf/ngs), all three or none.
All or nothing: one bad row and nothing is stored; the error names file, line, field.
"""

_KINETICS_HELP = """Store a CSV of CAR transgene levels, one sample per row.

Columns: patient_id, day (days since infusion, >= 0), value (>= 0), method (qpcr,
flow, ...), unit (copies/ug, cells/uL, ...). Optional: below_lloq (true/false, the
laboratory's flag) and lloq (the limit in the row's unit; --lloq fills empty cells).
A value below its limit, or flagged, or 0, is stored as below the LLOQ. One sample per
patient, method and day; one unit per patient and method. The outcomes report uses
the qpcr samples.
All or nothing: one bad row and nothing is stored; the error names file, line, field.
"""


@contextmanager
def _progress_bar(
    file: Path, *, quiet: bool, label: str
) -> Iterator[Callable[[int, int], None] | None]:
    """A Rich progress callback for a file with many rows (None for a short file)."""
    try:
        with file.open("rb") as handle:
            rows = max(sum(1 for _ in handle) - 1, 0)
    except OSError:
        rows = 0  # the reader reports the problem with the file name
    if quiet or rows <= PROGRESS_MIN_ROWS:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(label, total=rows)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _report(result: RecordedFile, *, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
        return
    title = escape(f"{result.rows} {result.what} row(s) stored from {result.file}")
    table = Table("patient", "rows", *(["max grade"] if result.max_grade else []), title=title)
    for patient, n in result.patients.items():
        extra = [str(result.max_grade[patient])] if result.max_grade else []
        table.add_row(escape(patient), str(n), *extra)
    console.print(table)


def clinical_infuse(
    batch: str = typer.Option(..., "--batch", help="Code of the released batch infused."),
    patient: str = typer.Option(
        ..., "--patient", help="The patient as identified at the bedside (must be the batch's)."
    ),
    at: str = typer.Option(
        ..., "--at", help="When the infusion started, ISO 8601 with offset (day 0)."
    ),
    dose_cells: float = typer.Option(..., "--dose-cells", help="Total CAR-T cells infused."),
    indication: str = typer.Option(..., "--indication", help="Disease treated: ALL, LBCL, MM..."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored infusion as JSON."),
) -> None:
    """Record the infusion of a released batch into its patient (the batch becomes infused).

    The patient identified at the bedside must be the batch's, and the infusion cannot
    precede the lot's release or lie in the future (exit 2, nothing written).
    """
    from ..clinical import record_infusion
    from ..records import Batch

    infused_at = parse_time(at, "at")
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        infusion = record_infusion(
            uow,
            batch=batch,
            patient=patient,
            infused_at=infused_at,
            dose_cells=dose_cells,
            indication=indication,
        )
        payload = {
            "infusion": infusion.id,
            "patient": uow.get(Batch, batch).patient.patient_code,
            "batch": batch,
            "din": infusion.din,
            "infused_at": infusion.infused_at,
            "dose_cells": infusion.dose_cells,
            "dose_per_kg": infusion.dose_per_kg,
            "indication": infusion.indication,
        }
    if as_json:
        emit_json(payload)
        return
    per_kg = payload["dose_per_kg"]
    dose = f"{dose_cells:.3g} cells" + ("" if per_kg is None else f" ({per_kg:.3g}/kg)")
    console.print(
        f"infused batch {escape(batch)} (DIN {escape(str(payload['din']))}) into patient "
        f"{escape(str(payload['patient']))} at {infused_at.isoformat()}: {dose}, "
        f"{escape(indication)}"
    )


def clinical_record_toxicity(
    file: Path = typer.Argument(..., help="CSV of daily observations."),
    kind: str = typer.Option(..., "--kind", help="crs or icans."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Store a CSV of daily CRS or ICANS observations (see the command help)."""
    from ..clinical import import_toxicity

    if kind not in ("crs", "icans"):
        msg = f"--kind must be crs or icans, not {kind!r}"
        raise InvalidInputError(msg, field="kind")
    db = database()
    with (
        _progress_bar(file, quiet=as_json, label=f"{kind} assessments") as progress,
        db.unit_of_work(acting(db)) as uow,
    ):
        result = import_toxicity(uow, file, kind=kind, progress=progress)
    _report(result, as_json=as_json)


def clinical_record_response(
    file: Path = typer.Argument(..., help="CSV of response assessments."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Store a CSV of response assessments (see the command help)."""
    from ..clinical import import_responses

    db = database()
    with (
        _progress_bar(file, quiet=as_json, label="response assessments") as progress,
        db.unit_of_work(acting(db)) as uow,
    ):
        result = import_responses(uow, file, progress=progress)
    _report(result, as_json=as_json)


def clinical_record_kinetics(
    file: Path = typer.Argument(..., help="CSV of transgene levels."),
    lloq: float | None = typer.Option(
        None, "--lloq", help="LLOQ for rows whose lloq cell is empty (in their unit)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Store a CSV of CAR transgene levels (see the command help)."""
    from ..clinical import import_kinetics

    db = database()
    with (
        _progress_bar(file, quiet=as_json, label="kinetics samples") as progress,
        db.unit_of_work(acting(db)) as uow,
    ):
        result = import_kinetics(uow, file, lloq=lloq, progress=progress)
    _report(result, as_json=as_json)


def _paragraphs(text: str) -> str:
    """Help text with each paragraph on one line, so the terminal wraps it."""
    return "\n\n".join(" ".join(p.split()) for p in text.strip().split("\n\n"))


def register(app: typer.Typer) -> None:
    """Attach the recording commands to the ``clinical`` group."""
    app.command("infuse")(clinical_infuse)
    app.command("record-toxicity", help=_paragraphs(_TOXICITY_HELP))(clinical_record_toxicity)
    app.command("record-response", help=_paragraphs(_RESPONSE_HELP))(clinical_record_response)
    app.command("record-kinetics", help=_paragraphs(_KINETICS_HELP))(clinical_record_kinetics)

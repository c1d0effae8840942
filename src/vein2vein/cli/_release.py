"""``intake`` and ``release``: starting-material decisions, release testing, disposition, CoA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import InvalidInputError
from ..records import reauthenticate
from ._common import acting, console, database, emit_json, fail_with, read_password

intake_app = typer.Typer(help="Apheresis starting-material acceptance.")
release_app = typer.Typer(help="Release testing, lot disposition and the certificate of analysis.")

DEFAULT_RELEASE_SPEC = "anti-cd19-cart-release"
DEFAULT_INTAKE_SPEC = "apheresis-intake"
_STYLE = {"pass": "green", "fail": "bold red", "pending": "yellow", "invalid": "magenta"}


def load_spec_arg(value: str) -> Any:
    """A spec from a YAML path, or the name of a shipped spec."""
    from ..specs import load_spec, shipped_spec, shipped_specs

    if Path(value).exists():
        return load_spec(value)
    if value in shipped_specs():
        return shipped_spec(value)
    msg = f"{value!r} is neither a spec file nor a shipped spec ({', '.join(shipped_specs())})"
    raise InvalidInputError(msg, field="spec")


def _outcome(outcome: str) -> str:
    return f"[{_STYLE.get(outcome, 'white')}]{outcome}[/]"


@intake_app.command("import")
def intake_import(
    file: Path = typer.Argument(..., help="CSV or JSON: din, one column per analyte."),
    spec: str = typer.Option(DEFAULT_INTAKE_SPEC, "--spec", help="Spec file or shipped name."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Decide every donation in a characterization file (all or nothing).

    Exits 1 when a donation's evaluation is stored as pending or invalid (it stays
    registered, undecided); the message names each one and why.
    """
    from ..intake import import_intake

    db = database()
    specification = load_spec_arg(spec)
    with db.unit_of_work(acting(db)) as uow:
        outcomes = import_intake(uow, file, specification)
    rows: list[dict[str, Any]] = [
        {
            "din": o.din,
            "status": str(o.status),
            "outcome": o.decision.outcome.value,
            "reasons": list(o.decision.reasons),
            "deviation": o.deviation,
            "evaluation_id": o.evaluation_id,
        }
        for o in outcomes
    ]
    undecided = [r for r in rows if r["outcome"] in ("pending", "invalid")]
    if as_json:
        emit_json(
            {"spec": specification.id, "spec_sha256": specification.sha256, "donations": rows}
        )
    else:
        table = Table(
            "DIN", "decision", "spec outcome", "reasons", title=f"intake against {specification.id}"
        )
        for r in rows:
            table.add_row(
                r["din"], r["status"], _outcome(r["outcome"]), escape("; ".join(r["reasons"]))
            )
        console.print(table)
    if undecided:
        notes = [f"{r['din']} ({r['outcome']}): {'; '.join(r['reasons'])}" for r in undecided]
        msg = (
            f"{len(undecided)} of {len(rows)} donation(s) not decided: their evaluation is "
            "stored as pending or invalid and they stay registered; complete or correct "
            "their results and import them again"
        )
        raise fail_with(
            msg,
            notes,
        )


@intake_app.command("correct")
def intake_correct(
    din: str = typer.Argument(..., help="DIN of the decided donation."),
    analyte: str = typer.Option(..., "--analyte", help="Analyte key of the intake spec."),
    value: str = typer.Option(..., "--value", help="The correct value, as reported."),
    unit: str | None = typer.Option(None, "--unit", help="Its unit (default the spec's)."),
    reason: str = typer.Option(
        ..., "--reason", help="What was wrong and where the right value comes from."
    ),
    accept_with_deviation: str | None = typer.Option(
        None, "--accept-with-deviation", help="Justification to accept it should it still fail."
    ),
    spec: str = typer.Option(DEFAULT_INTAKE_SPEC, "--spec", help="Spec file or shipped name."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Correct a mistyped characterization value and decide the donation again (audited)."""
    from ..identity import parse_din
    from ..intake import correct_intake
    from ..specs import Result

    db = database()
    specification = load_spec_arg(spec)
    din13 = parse_din(din).din13
    with db.unit_of_work(acting(db)) as uow:
        outcome = correct_intake(
            uow,
            din=din13,
            corrections=[Result(analyte.strip(), value.strip(), unit)],
            reason=reason,
            spec=specification,
            accept_with_deviation=accept_with_deviation,
        )
    payload: dict[str, Any] = {
        "din": outcome.din,
        "status": str(outcome.status),
        "outcome": outcome.decision.outcome.value,
        "reasons": list(outcome.decision.reasons),
        "deviation": outcome.deviation,
        "evaluation_id": outcome.evaluation_id,
    }
    if as_json:
        emit_json(payload)
        return
    console.print(
        escape(f"donation {outcome.din}: {payload['status']} after correction of {analyte}"),
        highlight=False,
    )
    console.print("  " + escape("; ".join(payload["reasons"])), highlight=False)


def _entry_report(outcome: Any, rows: list[Any], *, as_json: bool) -> None:
    """Report what entering results set off; exit 1 when a stored value is undecidable."""
    from ..release import undecided_values

    undecided = undecided_values(rows)
    payload = {
        "results": [r.id for r in outcome.results],
        "investigations": [i.code for i in outcome.investigations],
        "deviations": [d.code for d in outcome.deviations],
        "notifications": [
            {"site_id": n.site_id, "subject": n.subject} for n in outcome.notifications
        ],
        "undecided": undecided,
    }
    if as_json:
        emit_json(payload)
    else:
        _entry_lines(outcome)
    if undecided:
        msg = (
            f"{len(undecided)} of {len(rows)} result(s) stored as pending or invalid: no "
            "decision can use them until a readable final result is entered"
        )
        raise fail_with(
            msg,
            undecided,
        )


def _entry_lines(outcome: Any) -> None:
    console.print(f"{len(outcome.results)} result(s) entered")
    for i in outcome.investigations:
        console.print(
            escape(f"OOS investigation {i.code} opened: {i.description}"), style="bold red"
        )
    for d in outcome.deviations:
        console.print(
            escape(f"deviation {d.code} [{d.severity}]: {d.description}"), style="bold red"
        )
    for n in outcome.notifications:
        console.print(escape(f"treating site notified: {n.subject}"), style="bold red")


@release_app.command("enter")
def release_enter(
    batch: str = typer.Argument(..., help="Batch code."),
    analyte: str = typer.Option(..., "--analyte", help="Analyte key of the release spec."),
    value: str = typer.Option(
        ..., "--value", help='As reported: "85.2", "<0.5", "negative", "pending".'
    ),
    unit: str | None = typer.Option(None, "--unit"),
    method: str | None = typer.Option(None, "--method"),
    sample: str | None = typer.Option(
        None, "--sample", help="Sample code (default BATCH-FINAL-PRODUCT)."
    ),
    spec: str = typer.Option(DEFAULT_RELEASE_SPEC, "--spec", help="Spec file or shipped name."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Enter one release-test result; a failing one opens an OOS investigation.

    Exits 1 when the value is stored as pending or cannot be read (invalid).
    """
    from ..release import ResultRow, enter_results

    db = database()
    specification = load_spec_arg(spec)
    row = ResultRow(
        batch=batch, analyte=analyte, value=value, unit=unit, method=method, sample=sample
    )
    with db.unit_of_work(acting(db)) as uow:
        outcome = enter_results(uow, [row], spec=specification)
    _entry_report(outcome, [row], as_json=as_json)


@release_app.command("import")
def release_import(
    file: Path = typer.Argument(..., help="CSV: batch,analyte,value[,unit,method,sample,stage]."),
    spec: str = typer.Option(DEFAULT_RELEASE_SPEC, "--spec", help="Spec file or shipped name."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import an instrument export of results (all or nothing).

    Exits 1 when a row is stored as pending or cannot be read (invalid), naming each.
    """
    from ..release import enter_results, read_release_csv

    db = database()
    specification = load_spec_arg(spec)
    rows = read_release_csv(file)
    with db.unit_of_work(acting(db)) as uow:
        outcome = enter_results(uow, rows, spec=specification, source=str(file))
    _entry_report(outcome, rows, as_json=as_json)


@release_app.command("dose")
def release_dose(
    batch: str = typer.Argument(..., help="Batch code."),
    weight_kg: float = typer.Option(..., "--weight-kg", help="Patient weight, kg."),
    volume_ml: float = typer.Option(..., "--volume-ml", help="Dose volume, mL."),
    reason: str | None = typer.Option(None, "--reason", help="Why (needed once signed)."),
) -> None:
    """Record the dosing context that per-kg limits (dose, endotoxin) are judged with."""
    from ..records import Batch
    from ..support import check_quantity

    check_quantity("body_weight", weight_kg, field="weight_kg")
    check_quantity("volume", volume_ml, field="volume_ml")
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        row = uow.get(Batch, batch)
        uow.change(row, patient_weight_kg=weight_kg, dose_volume_ml=volume_ml, reason=reason)
    console.print(
        escape(f"{batch}: patient {weight_kg:g} kg, dose volume {volume_ml:g} mL"), highlight=False
    )


def _items_table(title: str, items: list[dict[str, Any]]) -> Table:
    table = Table("test", "criterion", "result", "outcome", "reason", title=title)
    for i in items:
        result = i.get("result_text") or ""  # as reported: it carries its unit
        name = i.get("name") or i["analyte"]
        table.add_row(
            escape(name + (" †" if i.get("conditional") else "")),
            escape(i.get("criterion_text") or ""),
            escape(result.strip()),
            _outcome(i["outcome"]),
            escape(i["reason"]),
        )
    return table


@release_app.command("review")
def release_review(
    batch: str = typer.Argument(..., help="Batch code."),
    spec: str = typer.Option(DEFAULT_RELEASE_SPEC, "--spec", help="Spec file or shipped name."),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Review the batch's results against the spec and e-sign the review (QC).

    Exits 1 when the review cannot decide the lot: an item is invalid, or a required
    item other than a conditional one (14-day sterility) is still pending.
    """
    from ..release import review

    db = database()
    specification = load_spec_arg(spec)
    actor = acting(db)
    proof = reauthenticate(db, actor, read_password(stdin=password_stdin))
    with db.unit_of_work(actor) as uow:
        evaluation, _ = review(uow, batch=batch, spec=specification, password=proof)
        items, outcome, reasons = evaluation.items, evaluation.outcome, evaluation.reasons
    if as_json:
        emit_json(
            {
                "batch": batch,
                "outcome": outcome,
                "reasons": reasons,
                "items": items,
                "spec_id": specification.id,
                "spec_sha256": specification.sha256,
            }
        )
    else:
        title = escape(f"{batch} against {specification.id} v{specification.version}")
        console.print(_items_table(title, items))
        console.print(f"overall: {_outcome(outcome)}  " + escape("; ".join(reasons)))
    open_items = [
        i
        for i in items
        if i["outcome"] == "invalid"
        or (i["outcome"] == "pending" and i.get("required") and not i.get("conditional"))
    ]
    if open_items:
        msg = (
            f"the review of {batch} is stored and signed, but its outcome is {outcome}: the "
            "lot can be neither released nor rejected on it until these items are decided"
        )
        raise fail_with(
            msg,
            [f"{i['analyte']} ({i['outcome']}): {i['reason']}" for i in open_items],
        )


@release_app.command("decide")
def release_decide(
    batch: str = typer.Argument(..., help="Batch code."),
    disposition: str = typer.Option(
        ..., "--disposition", help="released, released_at_risk or rejected."
    ),
    justification: str | None = typer.Option(
        None, "--justification", help="Required for release at risk and rejection."
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Decide the lot (QA), e-signed. A refused disposition exits 1 with its reasons."""
    from ..release import decide

    db = database()
    actor = acting(db)
    proof = reauthenticate(db, actor, read_password(stdin=password_stdin))
    with db.unit_of_work(actor) as uow:
        record = decide(
            uow,
            batch=batch,
            disposition=disposition.replace("-", "_"),
            password=proof,
            justification=justification,
        )
        payload = {"batch": batch, "disposition": record.disposition, "id": record.id}
    if as_json:
        emit_json(payload)
    else:
        console.print(
            escape(f"{batch}: {record.disposition.replace('_', ' ')} (signed by {actor.username})")
        )


@release_app.command("coa")
def release_coa(
    batch: str = typer.Argument(..., help="Batch code."),
    out: Path = typer.Option(..., "--out", help="coa.pdf or coa.html."),
    synthetic: bool = typer.Option(False, "--synthetic", help="Mark as synthetic data."),
) -> None:
    """Write the certificate of analysis (PDF or HTML, by the file's suffix)."""
    from ..records import Batch, get_record
    from ..release import certificate, write_coa_html, write_coa_pdf

    with database().read() as session:
        coa = certificate(session, get_record(session, Batch, batch), synthetic=synthetic)
    if out.suffix.lower() == ".pdf":
        write_coa_pdf(coa, out)
    elif out.suffix.lower() in (".html", ".htm"):
        write_coa_html(coa, out)
    else:
        msg = f"{out} must end in .pdf or .html"
        raise InvalidInputError(msg, field="out")
    console.print(escape(f"certificate of analysis written to {out}"), highlight=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.add_typer(intake_app, name="intake")
    app.add_typer(release_app, name="release")

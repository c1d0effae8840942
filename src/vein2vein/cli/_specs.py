"""``spec``: check a specification, or evaluate results against one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import SpecError
from ..specs import (
    Decision,
    Outcome,
    Specification,
    check_result_value,
    evaluate,
    load_spec,
    read_results_csv,
    shipped_spec,
    shipped_specs,
)
from ._common import console, emit_json

spec_app = typer.Typer(
    help="Specifications: check one, or evaluate results against it.", no_args_is_help=True
)

_STYLES = {
    Outcome.passed: "green",
    Outcome.failed: "bold red",
    Outcome.pending: "yellow",
    Outcome.invalid: "bold magenta",
}
_FILE_HELP = "Specification YAML file, or the name of a shipped one (see `spec list`)."


def resolve_spec(file: str) -> Specification:
    """A specification from a file path, or else from the shipped ones by name."""
    if Path(file).is_file():
        return load_spec(file)
    if file.removesuffix(".yaml") in shipped_specs():
        return shipped_spec(file)
    msg = (
        "no such file, and no shipped specification of that name "
        f"(shipped: {', '.join(shipped_specs())})"
    )
    raise SpecError(msg, file=file)


def spec_summary(spec: Specification) -> dict[str, Any]:
    """The specification as plain data, each item with its criterion in words."""
    data = spec.model_dump(mode="json")
    for item, shown in zip(data["items"], spec.items, strict=True):
        item["criterion_text"] = shown.criterion_text
    return data


def _header(spec: Specification) -> None:
    console.print(
        f"[bold]{escape(spec.id)}[/] v{escape(spec.version)}  {escape(spec.title)}\n"
        + escape(
            f"product {spec.product}; effective {spec.effective_date.isoformat()}; "
            f"schema_version {spec.schema_version}\nsha256 {spec.sha256}"
        ),
        highlight=False,
    )


@spec_app.command("list")
def spec_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the specifications shipped with vein2vein."""
    names = shipped_specs()
    if as_json:
        emit_json(names)
        return
    for name in names:
        spec = shipped_spec(name)
        console.print(
            escape(f"{name}  v{spec.version}  {spec.title} ({len(spec.items)} items)"),
            highlight=False,
        )


@spec_app.command("check")
def spec_check(
    file: str = typer.Argument(..., help=_FILE_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Load a specification and show its items (exit code 2 with the line if it is bad)."""
    spec = resolve_spec(file)
    if as_json:
        emit_json(spec_summary(spec))
        return
    _header(spec)
    table = Table("analyte", "name", "criterion", "stage", "gates", "method")
    for item in spec.items:
        gates = "yes" if item.required else "no (optional)"
        if item.criterion.kind == "report":
            gates = "no (report)"
        elif item.conditional:
            gates = "yes (conditional)"
        table.add_row(
            escape(item.analyte),
            escape(item.name),
            escape(item.criterion_text),
            escape(str(item.stage)),
            gates,
            escape(item.method or ""),
        )
    console.print(table)


@spec_app.command("evaluate")
def spec_evaluate(
    file: str = typer.Argument(..., help=_FILE_HELP),
    results: str = typer.Argument(
        ..., help="CSV of results: columns analyte,value and optionally unit,method,stage."
    ),
    weight_kg: float | None = typer.Option(
        None, "--weight-kg", help="Patient weight, kg (for per-kg limits)."
    ),
    dose_volume_ml: float | None = typer.Option(
        None, "--dose-volume-ml", help="Volume of the dose, mL (for EU/mL → EU/kg)."
    ),
    stage: str | None = typer.Option(None, "--stage", help="Evaluate only this stage's items."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Evaluate results against a specification (exit 0 pass; 1 fail, pending or invalid)."""
    spec = resolve_spec(file)
    rows = read_results_csv(results)
    for row in rows:  # NaN, 1e400, viability 150 %: bad input, not an invalid item
        check_result_value(spec, row, file=results, field="value")
    context = {
        key: value
        for key, value in (("patient_weight_kg", weight_kg), ("dose_volume_ml", dose_volume_ml))
        if value is not None
    }
    decision = evaluate(spec, rows, context=context, stage=stage)
    if as_json:
        emit_json(decision.to_dict())
    else:
        _show(spec, decision)
    if not decision.ok:
        raise typer.Exit(1)


def _show(spec: Specification, decision: Decision) -> None:
    _header(spec)
    table = Table("item", "result", "criterion", "outcome", "reason")
    for item in decision.items:
        style = _STYLES[item.outcome]
        outcome = item.outcome.value + ("" if item.required else " (optional)")
        table.add_row(
            escape(item.name),
            escape(item.result_text or "—"),
            escape(item.criterion_text),
            f"[{style}]{escape(outcome)}[/]",
            escape(item.reason),
        )
    console.print(table)
    style = _STYLES[decision.outcome]
    line = f"overall: [{style}]{decision.outcome.value.upper()}[/]"
    if decision.only_conditional_pending:
        line += " (only conditional items pending: release at risk possible)"
    console.print(line, highlight=False)
    for reason in decision.reasons:
        console.print(f"  {escape(reason)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.add_typer(spec_app, name="spec")

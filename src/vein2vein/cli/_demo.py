"""``demo``: the main job end to end on synthetic data, with progress bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ._common import STATE, console, emit_json, err_console, open_database


def demo(
    out: Path = typer.Option(
        Path("demo-output"), "--out", help="Folder for everything the demo writes."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the synthetic network."),
    donations_per_site: int = typer.Option(
        12, "--donations-per-site", min=4, max=1000, help="Size of the synthetic network."
    ),
    singlecell_data: Path = typer.Option(
        Path("../shared/data/carpall"),
        "--singlecell-data",
        help="Folder of the real CARPALL single-cell data; skipped when absent.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run the demo: a synthetic three-site network from donation to lot release, audited.

    Uses VEIN2VEIN_DATABASE_URL (or --db) when set, which must point at an empty
    database; otherwise a fresh SQLite file under the output folder. Without a
    configured signing key, the demo makes its own under the output folder.
    """
    from .._settings import configured_signing_key
    from ..demo import demo_signing_key, prepare_output, run_demo
    from ..simulate import SYNTHETIC_LABEL

    key = demo_signing_key(out, configured_signing_key())
    configured = open_database(signing_key=key) if STATE.database_url else None
    db = prepare_output(out, database=configured, signing_key=key)
    # With --json, stdout carries only the JSON summary (which has the label too).
    (err_console if as_json else console).print(f"[bold yellow]{SYNTHETIC_LABEL}[/]")
    columns = (
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=as_json) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        summary = run_demo(
            db,
            out,
            seed=seed,
            donations_per_site=donations_per_site,
            singlecell_data=singlecell_data,
            progress=progress,
        )
    db.dispose()
    if as_json:
        from dataclasses import asdict

        emit_json(asdict(summary))
    else:
        table = Table(title="vein2vein demo (synthetic data)", show_header=False)
        for label, value in (
            ("database", summary.database),
            ("sites / users", f"{summary.sites} / {summary.users}"),
            ("donations (valid ISBT 128 DINs)", summary.donations),
            ("intake decisions", _counts(summary.intake)),
            ("batches started", summary.batches),
            ("custody hand-offs logged", summary.custody_events),
            ("hand-offs refused", len(summary.refused_handoffs)),
            ("deviations opened", len(summary.deviations)),
            ("sensor readings ingested", summary.process.get("readings", 0)),
            ("SPC signals -> deviations", len(summary.process.get("spc_deviations", []))),
            ("batch MSPC alarms", len(summary.process.get("mspc", {}).get("alarms", []))),
            (
                "QA before disposition: closed / no impact / OOS confirmed",
                f"{summary.quality.get('closed', 0)} / "
                f"{summary.quality.get('assessed_no_impact', 0)} / "
                f"{summary.quality.get('investigations_confirmed', 0)}",
            ),
            ("lot dispositions", _counts(summary.dispositions)),
            ("OOS investigations", len(summary.investigations)),
            ("treating sites notified", len(summary.notifications)),
            ("certificates of analysis (PDF)", summary.certificates),
            (
                "patients followed up / responders",
                f"{summary.clinical.get('patients', 0)} / {summary.clinical.get('responders', 0)}",
            ),
            (
                "in vivo: BOIN12 sequence / optimal dose",
                f"{summary.invivo.get('sequence', '')} / level {summary.invivo.get('obd')}",
            ),
            ("single-cell profiles (real CARPALL)", _singlecell_line(summary.singlecell)),
            ("single-cell profile on a lot", _recorded_line(summary.singlecell)),
            (
                "signatures / now invalid",
                f"{summary.signatures} / {len(summary.invalid_signatures)}",
            ),
            ("audit entries", summary.audit_entries),
            ("audit trail", "[green]intact[/]" if summary.audit_ok else "[red]BROKEN[/]"),
        ):
            table.add_row(label, str(value))
        console.print(table)
        for r in summary.refused_handoffs:
            console.print(escape(f"refused: {r['reason']}"), highlight=False)
        for d in summary.deviations:
            console.print(
                escape(f"{d['code']} [{d['severity']}] {d['status']}: {d['description']}"),
                highlight=False,
            )
        for o in summary.quality.get("still_open", []):
            note = f"QA: {o['assessment'].replace('_', ' ')}" if o["assessment"] else "open"
            console.print(
                escape(f"still open: {o['code']} on {o['batch']} ({o['batch_status']}; {note})"),
                style="yellow",
                highlight=False,
            )
        for a in summary.process.get("mspc", {}).get("alarms", []):
            console.print(
                escape(f"MSPC alarm {a['batch']}: " + "; ".join(a["top_contributors"])),
                style="yellow",
                highlight=False,
            )
        for cqa, sentence in summary.comparability.get("conclusions", {}).items():
            console.print(escape(f"comparability {cqa}: {sentence}"), highlight=False)
        for i in summary.investigations:
            console.print(f"[yellow]investigation[/] {escape(i)}", highlight=False)
        for n in summary.notifications:
            console.print(f"[bold red]notified[/] {escape(n)}", highlight=False)
        for s in summary.invalid_signatures:
            console.print(f"[red]invalid signature[/] {escape(s)}", highlight=False)
        console.print(
            escape(
                f"outputs in {out}/: summary.json, intake/, process/ (readings, charts), "
                "release/, coa/ (PDF), comparability/, clinical/, invivo/ and singlecell/ "
                "(HTML reports), batch-records/"
            ),
            highlight=False,
        )
    if not summary.audit_ok:
        raise typer.Exit(1)


def _singlecell_line(singlecell: dict[str, object]) -> str:
    if "skipped" in singlecell:
        return f"skipped: {singlecell['skipped']}"
    samples = singlecell.get("samples", [])
    if not isinstance(samples, list):
        return "none"
    return ", ".join(
        f"{s['sample']} ({s['sort']}) {100 * float(s['car_positive_fraction']):.0f}% CAR+"
        for s in samples
    )


def _recorded_line(singlecell: dict[str, Any]) -> str:
    recorded = singlecell.get("recorded", {})
    if "batch" not in recorded:
        return str(recorded.get("skipped", "none"))
    return (
        f"{recorded['n_results']} report-only results on {recorded['batch']} "
        f"(synthetic product, {100 * float(recorded['car_positive_fraction']):.0f}% CAR+)"
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in sorted(counts.items()))


def register(app: typer.Typer) -> None:
    """Attach the command to the main app."""
    app.command("demo")(demo)

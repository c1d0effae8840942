"""``invivo``: dose-finding designs, their operating characteristics, the sliding scale."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import InvalidInputError
from ._common import console, emit_json

invivo_app = typer.Typer(help="In vivo CAR-T programs: dose finding and the sliding scale.")

DESIGNS = ("boin", "boin12", "tite-boin", "efftox")


def _design(
    name: str,
    doses: int,
    *,
    target: float,
    phi_t: float,
    phi_e: float,
    efftox: dict[str, Any] | None = None,
) -> Any:
    """The design object named on the command line (the shell only maps options)."""
    from .. import invivo

    key = name.lower()
    if key == "boin":
        return invivo.BOIN(doses, target)
    if key == "boin12":
        return invivo.BOIN12(doses, phi_t, phi_e)
    if key == "tite-boin":
        return invivo.TITEBOIN(doses, target)
    if key == "efftox":
        return _efftox(doses, efftox or {})
    msg = f"--design must be one of {', '.join(DESIGNS)}, not {name!r}"
    raise InvalidInputError(msg, field="design")


def _efftox(doses: int, options: dict[str, Any]) -> Any:
    """EffTox from the CLI options; real doses default to the levels 1..N."""
    from .. import invivo

    text = options.pop("doses_real", None)
    if text is None:
        real = [float(level) for level in range(1, doses + 1)]
    else:
        try:
            real = [float(v) for v in str(text).split(",") if v.strip()]
        except ValueError:
            msg = f"{text!r} is not a comma-separated list of doses"
            raise InvalidInputError(msg, field="doses_real") from None
        if len(real) != doses:
            msg = f"{len(real)} doses given for --doses {doses}"
            raise InvalidInputError(msg, field="doses_real")
    return invivo.EffTox(real, **options)


@invivo_app.command("next-dose")
def invivo_next_dose(
    design: str = typer.Option(..., "--design", help="boin, boin12, tite-boin or efftox."),
    doses: int = typer.Option(..., "--doses", min=1, help="Number of dose levels."),
    outcomes: str = typer.Option(
        "", "--outcomes", help='Cohorts so far, e.g. "1NNN 2NTN" (E/B for efficacy designs).'
    ),
    target: float = typer.Option(0.3, "--target", help="Target toxicity (BOIN, TITE-BOIN)."),
    phi_t: float = typer.Option(0.35, "--phi-t", help="Toxicity limit (BOIN12)."),
    phi_e: float = typer.Option(0.25, "--phi-e", help="Efficacy floor (BOIN12)."),
    follow_up: str | None = typer.Option(
        None,
        "--follow-up",
        help="TITE-BOIN: follow-up days per patient, comma-separated, in outcome order.",
    ),
    doses_real: str | None = typer.Option(
        None, "--doses-real", help='EffTox: the doses, e.g. "1,2,4,6.6,10" (default 1..N).'
    ),
    efficacy_hurdle: float = typer.Option(0.5, "--efficacy-hurdle", help="EffTox."),
    toxicity_hurdle: float = typer.Option(0.3, "--toxicity-hurdle", help="EffTox."),
    p_e: float = typer.Option(0.1, "--p-e", help="EffTox: efficacy acceptability cut-off."),
    p_t: float = typer.Option(0.1, "--p-t", help="EffTox: toxicity acceptability cut-off."),
    eff0: float = typer.Option(0.5, "--eff0", help="EffTox contour hinge (eff0, 0)."),
    tox1: float = typer.Option(0.65, "--tox1", help="EffTox contour hinge (1, tox1)."),
    eff_star: float = typer.Option(0.7, "--eff-star", help="EffTox contour third point."),
    tox_star: float = typer.Option(0.25, "--tox-star", help="EffTox contour third point."),
    seed: int = typer.Option(0, "--seed", min=0, help="EffTox: seed of the posterior sampler."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The dose for the next cohort from the outcomes so far (cohort notation of escalation)."""
    efftox = {
        "doses_real": doses_real,
        "efficacy_hurdle": efficacy_hurdle,
        "toxicity_hurdle": toxicity_hurdle,
        "p_e": p_e,
        "p_t": p_t,
        "eff0": eff0,
        "tox1": tox1,
        "eff_star": eff_star,
        "tox_star": tox_star,
        "seed": seed,
    }
    if doses_real is not None and design.lower() != "efftox":
        msg = "--doses-real applies to efftox only"
        raise InvalidInputError(msg, field="doses_real")
    chosen = _design(design, doses, target=target, phi_t=phi_t, phi_e=phi_e, efftox=efftox)
    if follow_up is not None:
        if design.lower() != "tite-boin":
            msg = "--follow-up applies to tite-boin only"
            raise InvalidInputError(msg, field="follow_up")
        try:
            days = [float(v) for v in follow_up.split(",") if v.strip()]
        except ValueError:
            msg = f"{follow_up!r} is not a comma-separated list of days"
            raise InvalidInputError(msg, field="follow_up") from None
        decision = chosen.decide(outcomes, follow_up=days)
    else:
        decision = chosen.decide(outcomes)
    if as_json:
        emit_json({"outcomes": outcomes, **decision.to_dict()})
        return
    where = "none: " + decision.action if decision.next_dose is None else decision.next_dose
    console.print(f"[bold]{escape(decision.design)}[/bold] next dose: {escape(str(where))}")
    console.print(f"action: {escape(decision.action)}; selected so far: {decision.selected_dose}")
    for reason in decision.reasons:
        console.print(f"  - {escape(reason)}")


@invivo_app.command("simulate")
def invivo_simulate(
    design: str = typer.Option(..., "--design", help="boin, boin12, tite-boin or efftox."),
    scenario: Path = typer.Option(
        ..., "--scenario", help="YAML (true_tox, true_eff lists) or CSV (dose,true_tox,true_eff)."
    ),
    trials: int | None = typer.Option(
        None,
        "--trials",
        min=1,
        help="Number of simulated trials (default 10000; tite-boin 2000; efftox 200).",
    ),
    dlt_window_days: float = typer.Option(
        28.0, "--dlt-window-days", help="TITE-BOIN: DLT assessment window in days."
    ),
    accrual_per_month: float = typer.Option(
        2.0, "--accrual-per-month", help="TITE-BOIN: mean patients arriving per month."
    ),
    doses_real: str | None = typer.Option(
        None, "--doses-real", help="EffTox: the doses (default 1..N); other options as EffTox's."
    ),
    cohort_size: int = typer.Option(3, "--cohort-size", min=1),
    max_n: int = typer.Option(36, "--max-n", min=1, help="Maximum sample size."),
    seed: int = typer.Option(0, "--seed", min=0),
    target: float = typer.Option(0.3, "--target", help="Target toxicity (BOIN)."),
    phi_t: float = typer.Option(0.35, "--phi-t", help="Toxicity limit (BOIN12)."),
    phi_e: float = typer.Option(0.25, "--phi-e", help="Efficacy floor (BOIN12)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the HTML/PNG report."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Operating characteristics of a design under a scenario, by simulated trials."""
    from ..invivo import TITEBOIN, load_scenario, oc_report, simulate, simulate_tite

    truth = load_scenario(scenario)
    key = design.lower()
    if doses_real is not None and key != "efftox":
        msg = "--doses-real applies to efftox only"
        raise InvalidInputError(msg, field="doses_real")
    if key == "tite-boin":
        chosen: Any = TITEBOIN(len(truth.true_tox), target, dlt_window_days=dlt_window_days)
    else:
        efftox = {"doses_real": doses_real, "seed": seed}
        chosen = _design(
            design, len(truth.true_tox), target=target, phi_t=phi_t, phi_e=phi_e, efftox=efftox
        )
    n_trials = trials or {"tite-boin": 2000, "efftox": 200}.get(key, 10_000)
    unit = "cohorts" if key in ("boin", "boin12") else "trials"
    columns = (TextColumn(unit), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=as_json, transient=True) as bar:
        task = bar.add_task("simulate", total=None)
        run: Any = partial(simulate, true_eff=truth.true_eff)
        if key == "tite-boin":
            run = partial(simulate_tite, accrual_per_month=accrual_per_month)
        oc = run(
            chosen,
            true_tox=truth.true_tox,
            n_trials=n_trials,
            cohort_size=cohort_size,
            max_n=max_n,
            seed=seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            label=truth.name,
        )
    report = None if out is None else oc_report(oc, out_dir=out)
    if as_json:
        emit_json({**oc.to_dict(), "report": None if report is None else str(report)})
        return
    table = Table(
        "dose", "true tox", "true eff", "P(select)", "mean patients", title=escape(oc.design)
    )
    eff = oc.true_eff or (None,) * len(oc.true_tox)
    for i, (t, e, s, n) in enumerate(
        zip(oc.true_tox, eff, oc.selection, oc.mean_patients, strict=True), start=1
    ):
        table.add_row(str(i), f"{t:.2f}", "" if e is None else f"{e:.2f}", f"{s:.3f}", f"{n:.2f}")
    console.print(table)
    console.print(
        f"no dose selected {oc.no_selection:.3f}; early stop {oc.early_stop:.3f}; "
        f"mean sample size {oc.mean_total:.1f}; toxicity rate {oc.toxicity_rate:.3f}"
    )
    extra = oc.to_dict()
    if "mean_duration_months" in extra:
        console.print(
            f"mean trial duration {extra['mean_duration_months']:.1f} months "
            f"(accrual {accrual_per_month:g}/month, DLT window {dlt_window_days:g} days)"
        )
    if "median_ess" in extra:
        console.print(
            f"shared importance draws {extra['num_draws']}: median ESS "
            f"{extra['median_ess']:.0f}, minimum {extra['min_ess']:.0f}; "
            f"{extra['refits']} decision(s) refitted by EffTox.fit"
        )
    if report is not None:
        console.print(escape(f"report written to {report}"), highlight=False)


def register(app: typer.Typer) -> None:
    """Attach the in vivo commands to the main app."""
    app.add_typer(invivo_app, name="invivo")


from . import _invivo_records, _invivo_report  # noqa: E402

_invivo_records.register(invivo_app)
_invivo_report.register(invivo_app)

"""Demo stages for process monitoring and site comparability (synthetic data)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from ..comparability import compare_sites, lots_from_records, write_report
from ..process import (
    BatchMSPC,
    draw_batch_chart,
    ingest_readings,
    monitor,
    plot_contributions,
    register_parameter,
    set_baseline,
)
from ..records import Actor, Batch, Database, get_record
from ..simulate import PARAMETERS, Fault, PlannedDonation, synthetic_trajectories
from ..support import SYNTHETIC_LABEL, save_figure, write_csv

__all__ = ["run_comparability", "run_process_monitoring"]

Progress = Callable[[str, int, int], None]
#: Set-point controlled parameters charted with univariate limits and run rules.
CHARTED = ("ph", "dissolved_oxygen", "temperature")


def _plan_faults(batches: list[tuple[str, PlannedDonation]]) -> dict[str, Fault]:
    by_site: dict[str, list[str]] = {}
    for code, d in batches:
        by_site.setdefault(d.manufacturing_site, []).append(code)
    sites = sorted(by_site)
    faults: dict[str, Fault] = {}
    # A pH probe drifting at one hub: its last three batches drift slowly downwards.
    for code in by_site[sites[1]][-3:]:
        faults[code] = Fault("ph_drift", start_h=60.0, size=0.08)
    faults[by_site[sites[2]][-2]] = Fault("do_excursion", start_h=96.0, size=28.0)
    faults[by_site[sites[0]][-2]] = Fault("temp_step", start_h=120.0, size=0.9)
    return faults


def run_process_monitoring(
    db: Database,
    out_dir: Path,
    batches: list[tuple[str, PlannedDonation]],
    *,
    qa: Actor,
    qc: Actor,
    operators: dict[str, Actor],
    seed: int,
    report: Progress,
) -> dict[str, Any]:
    """Sensor data for every batch, Phase I limits, one monitoring tick, batch MSPC."""
    folder = out_dir / "process"
    charts = folder / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    with db.unit_of_work(qa) as uow:
        for name, (unit, step, description) in PARAMETERS.items():
            register_parameter(uow, name=name, unit=unit, step=step, description=description)
    with db.read() as session:
        starts = [
            (code, get_record(session, Batch, code).started_at + timedelta(hours=12))
            for code, _ in batches
        ]
    faults = _plan_faults(batches)
    data = synthetic_trajectories(starts, seed=seed + 4, faults=faults)
    data["timestamp"] = data["timestamp"].map(lambda t: t.isoformat())
    site_of = {code: d.manufacturing_site for code, d in batches}
    data["site"] = data["batch"].map(site_of)
    n_readings = 0
    for k, (site, rows) in enumerate(sorted(data.groupby("site")), start=1):
        frame = rows.drop(columns="site")
        # One hub's historian exports Parquet, the others CSV.
        path = folder / f"readings-{site}.{'parquet' if k == 1 else 'csv'}"
        if path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            write_csv(frame, path)
        with db.unit_of_work(operators[str(site)]) as uow:
            n_readings += ingest_readings(uow, path).n_readings
        report("sensor readings ingested", k, data["site"].nunique())
    clean = [code for code, _ in batches if code not in faults]
    baseline = clean[: max(8, len(clean) // 2)]
    limits = {}
    with db.unit_of_work(qa) as uow:
        for name in CHARTED:
            lim = set_baseline(uow, parameter=name, baseline_batches=baseline, batch_alpha=0.01)
            limits[name] = f"v{lim.version}: {lim.lcl:.4g} to {lim.ucl:.4g}"
    with db.unit_of_work(qc) as uow:
        tick = monitor(uow, lookback=None)
        signals = [
            {"deviation": s.deviation, "batch": s.batch, "parameter": s.parameter, "rule": s.rule}
            for s in tick.new_deviations
        ]
    for k, (code, fault) in enumerate(sorted(faults.items()), start=1):
        name = {"ph_drift": "ph", "do_excursion": "dissolved_oxygen", "temp_step": "temperature"}[
            fault.kind
        ]
        _chart(db, code, name, charts / f"{code}-{name}.png")
        report("control charts drawn", k, len(faults))
    mspc = _mspc(data.drop(columns="site"), batches, faults, folder)
    return {
        "label": SYNTHETIC_LABEL,
        "readings": n_readings,
        "parameters": list(PARAMETERS),
        "faults_injected": {c: f.kind for c, f in sorted(faults.items())},
        "limits": limits,
        "baseline_batches": baseline,
        "spc_deviations": signals,
        "mspc": mspc,
    }


def _chart(db: Database, batch: str, parameter: str, out: Path) -> None:
    with db.read() as session:
        title = f"{batch}: {parameter} (hourly means) - synthetic"
        draw_batch_chart(session, batch=batch, parameter=parameter, out=out, title=title)


def _mspc(
    data: pd.DataFrame,
    batches: list[tuple[str, PlannedDonation]],
    faults: dict[str, Fault],
    folder: Path,
) -> dict[str, Any]:
    stamps = pd.to_datetime(data["timestamp"])
    hours = (stamps - stamps.groupby(data["batch"]).transform("min")).dt.total_seconds() / 3600
    frame = data.assign(time=hours)[["batch", "parameter", "time", "value"]]
    reference = [code for code, _ in batches if code not in faults]
    model = BatchMSPC().fit(frame, reference_batches=reference, grid=48)
    scores = model.score(frame[~frame["batch"].isin(reference)], phase="II")
    alarms = []
    for row in scores.itertuples():
        if row.status != "alarm":
            continue
        words = model.top_contributors(frame[frame["batch"] == row.batch], 2)
        contributions = model.contributions(frame[frame["batch"] == row.batch])
        _save(plot_contributions(contributions), folder / "charts" / f"{row.batch}-mspc.png")
        alarms.append({"batch": str(row.batch), "top_contributors": words})
    return {
        "reference_batches": len(reference),
        "components": model.n_components,
        "scored": len(scores),
        "alarms": alarms,
    }


def _save(ax: Any, path: Path) -> None:
    save_figure(ax.figure, path)


def run_comparability(
    db: Database, out_dir: Path, *, test_site: str, reference_site: str
) -> dict[str, Any]:
    """Compare release attributes of two hubs; write the HTML report."""
    with db.read() as session:
        frame = lots_from_records(session)
    cqas = [
        c
        for c in ("viability", "car_expression", "vcn", "ifng_release", "car_t_dose")
        if c in set(frame["cqa"])
    ]
    units = dict(zip(frame["cqa"], frame["unit"].fillna(""), strict=False))
    result = compare_sites(
        frame,
        test_site=test_site,
        reference_site=reference_site,
        cqas=cqas,
        label=SYNTHETIC_LABEL,
        units={c: u for c, u in units.items() if u},
    )
    path = write_report(result, out_dir / "comparability")
    return {
        "report": str(path),
        "test_site": test_site,
        "reference_site": reference_site,
        "conclusions": result.conclusions,
    }

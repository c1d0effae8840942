"""``sc``: the single-cell product profile, clone tracking and cohort comparison."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import InvalidInputError
from ..support import save_figure, write_csv
from ._common import console, emit_json, err_console, fail_with

sc_app = typer.Typer(help="Single-cell product profiles: profile, track, compare, record.")

_COLUMNS = (TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn())
_OUTSIDE_HELP = (
    "Accept gex/tcr paths that resolve outside the sample sheet's folder (refused by "
    "default, so that a sheet from elsewhere cannot point at any file)."
)


def _out_dir(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        msg = "--out must be a folder"
        raise InvalidInputError(msg, file=str(out), field="out")
    out.mkdir(parents=True, exist_ok=True)
    return out


@contextmanager
def _staged(out: Path) -> Iterator[Path]:
    """A scratch folder beside ``out`` whose files move into ``out`` only on success.

    A run that fails part-way leaves ``out`` as it was (not even created).
    """
    if out.exists() and not out.is_dir():
        msg = "--out must be a folder"
        raise InvalidInputError(msg, file=str(out), field="out")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield stage
        out.mkdir(exist_ok=True)
        for item in sorted(stage.iterdir()):
            item.replace(out / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@sc_app.command("profile")
def sc_profile(
    sheet: Path = typer.Argument(..., help="Sample sheet CSV: sample,patient,timepoint,..."),
    out: Path = typer.Option(..., "--out", help="Folder for <sample>.profile.json and .html."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the embedding and the diversity."),
    car_feature: list[str] = typer.Option(["CAT_scFv"], "--car-feature", help="CAR feature."),
    car_min_umi: int = typer.Option(1, "--car-min-umi", min=1, help="UMIs for a CAR+ call."),
    sample: list[str] = typer.Option([], "--sample", help="Profile only these samples."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Local Dask workers."),
    backend: str = typer.Option("auto", "--backend", help="auto, cpu or gpu."),
    min_genes: int = typer.Option(200, "--min-genes", min=0, help="QC: fewest genes per cell."),
    max_pct_mito: float = typer.Option(
        20.0, "--max-pct-mito", min=0.0, max=100.0, help="QC: most mitochondrial UMIs (%)."
    ),
    doublets: bool = typer.Option(
        True, "--doublets/--no-doublets", help="QC: remove scrublet doublets."
    ),
    diversity_depth: int | None = typer.Option(
        None,
        "--diversity-depth",
        min=1,
        help="Also give diversity at this many TCR cells (rarefied, with intervals).",
    ),
    h5ad: bool = typer.Option(
        False, "--h5ad", help="Also write the analysed cells as <sample>.h5ad (serial runs)."
    ),
    allow_outside: bool = typer.Option(False, "--allow-outside-folder", help=_OUTSIDE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the profiles as a JSON list."),
) -> None:
    """Profile every sample of SHEET that has gene-expression data.

    Diversity grows with the number of cells: to compare samples of different sizes, give
    them a common --diversity-depth (at most the smallest sample's TCR cells).
    """
    from ..singlecell.io import check_sample_files, read_sample_sheet
    from ..singlecell.profile import (
        ProfileParams,
        profile_report,
        profile_sample,
        profiles_table,
        save_profile,
    )

    if backend not in ("auto", "cpu", "gpu"):
        msg = f"--backend must be auto, cpu or gpu, not {backend!r}"
        raise InvalidInputError(msg, field="backend")
    if h5ad and (scheduler is not None or workers is not None):
        msg = "--h5ad writes the cells of serial runs; with Dask the cells stay on the workers"
        raise InvalidInputError(msg, field="h5ad")
    rows = [s for s in read_sample_sheet(sheet, allow_outside=allow_outside) if s.gex is not None]
    if sample:
        unknown = sorted(set(sample) - {s.sample for s in rows})
        if unknown:
            msg = f"no sample with GEX data named {unknown[0]!r} in the sheet"
            raise InvalidInputError(msg, file=str(sheet), field="sample")
        rows = [s for s in rows if s.sample in set(sample)]
    if not rows:
        msg = "no sample in the sheet has a gex file to profile"
        raise InvalidInputError(msg, file=str(sheet), field="gex")
    check_sample_files(rows)  # a bad file in the last row stops the run before any output
    params = ProfileParams(
        seed=seed,
        car_features=tuple(car_feature),
        car_min_umi=car_min_umi,
        backend=backend,
        min_genes=min_genes,
        max_pct_mito=max_pct_mito,
        doublets=doublets,
        diversity_depth=diversity_depth,
    )
    profiles = []
    with (
        _staged(out) as folder,
        Progress(*_COLUMNS, TimeElapsedColumn(), console=err_console) as bar,
    ):
        task = bar.add_task("profiling samples", total=len(rows))
        if scheduler is None and workers is None:
            for row in rows:
                bar.update(task, description=f"profiling {row.sample}")
                profile, gex = profile_sample(row, params=params)
                save_profile(profile, folder / f"{row.sample}.profile.json")
                profile_report(profile, folder / f"{row.sample}.html", adata=gex)
                if h5ad:
                    gex.write_h5ad(folder / f"{row.sample}.h5ad", compression="gzip")
                profiles.append(profile)
                bar.advance(task)
        else:
            from ..singlecell.profile import profile_samples

            profiles = profile_samples(
                rows,
                params=params,
                scheduler=scheduler,
                workers=workers,
                on_done=lambda _p: bar.advance(task),
            )
            for profile in profiles:
                save_profile(profile, folder / f"{profile.sample}.profile.json")
                profile_report(profile, folder / f"{profile.sample}.html")
        write_csv(profiles_table(profiles), folder / "profiles.csv")
    if as_json:
        emit_json([json.loads(p.to_json()) for p in profiles])
        return
    table = Table("sample", "patient", "timepoint", "cells", "CAR+ %", "clonotypes")
    for p in profiles:
        car = "n/a" if p.car_positive_fraction is None else f"{100 * p.car_positive_fraction:.1f}"
        table.add_row(
            escape(p.sample),
            escape(p.patient or ""),
            escape(p.timepoint or ""),
            str(p.n_cells),
            car,
            "" if p.n_clonotypes is None else str(p.n_clonotypes),
        )
    console.print(table)
    console.print(f"profiles and reports written to {escape(str(out))} (all numbers: profiles.csv)")


@sc_app.command("track")
def sc_track(
    sheet: Path = typer.Argument(..., help="Sample sheet CSV."),
    patient: str = typer.Option(..., "--patient", help="The patient to track."),
    out: Path = typer.Option(..., "--out", help="Folder for <patient>.tracking.csv and more."),
    allow_outside: bool = typer.Option(False, "--allow-outside-folder", help=_OUTSIDE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the later samples as JSON."),
) -> None:
    """Follow the patient's product clones through every later sample with TCR data.

    Writes <patient>.tracking.csv (per sample), .top_clones.csv, .morisita_horn.csv,
    .jaccard.csv, .state_origin.csv (product states of persisting and other clones) and
    .tracking.png.
    """
    from ..singlecell.io import read_sample_sheet
    from ..singlecell.profile import ProfileParams, track_patient

    samples = list(read_sample_sheet(sheet, allow_outside=allow_outside).for_patient(patient))
    if not samples:
        msg = f"no sample of patient {patient!r} in the sheet"
        raise InvalidInputError(msg, file=str(sheet), field="patient")
    folder = _out_dir(out)
    with_tcr = [s for s in samples if s.tcr is not None]
    with Progress(*_COLUMNS, TimeElapsedColumn(), console=err_console) as bar:
        task = bar.add_task(f"reading {patient}'s samples", total=len(with_tcr) + 1)

        def loaded(name: str) -> None:
            bar.update(task, advance=1, description=f"read {name}")

        result = track_patient(samples, params=ProfileParams(), on_loaded=loaded)
        bar.update(task, advance=1, description="clones tracked")
    frame = result.to_frame()
    result.save(folder, name=patient)
    later = frame[~frame["is_product"].astype(bool)]
    if as_json:
        emit_json(
            [
                {
                    "sample": str(r.sample),
                    "timepoint": str(r.timepoint),
                    "n_cells": int(r.n_cells),
                    "fraction_in_product_clones": float(r.fraction_in_product_clones),
                }
                for r in later.itertuples(index=False)
            ]
        )
        return
    table = Table("sample", "timepoint", "cells", "in product clones %", title=escape(patient))
    for r in later.itertuples(index=False):
        table.add_row(
            escape(str(r.sample)),
            escape(str(r.timepoint)),
            str(r.n_cells),
            f"{100 * r.fraction_in_product_clones:.1f}",
        )
    console.print(table)


@sc_app.command("compare")
def sc_compare(
    profiles: list[Path] = typer.Argument(..., help="Profile JSON files."),
    groups: Path = typer.Option(..., "--groups", help="CSV: patient,group."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the table and the plot."),
    timepoint: str | None = typer.Option(None, "--timepoint", help="Only this timepoint."),
    metric: list[str] = typer.Option([], "--metric", help="Compare only these metrics."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the permutation check."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON."),
) -> None:
    """Compare profiles between two outcome groups, one value per patient.

    Exits 1 when nothing could be compared (no metric has values in both groups).
    """
    from ..singlecell.profile import compare_cohort, load_profile, read_groups

    loaded = [load_profile(p) for p in profiles]
    result = compare_cohort(
        loaded,
        read_groups(groups),
        metrics=metric or None,
        timepoint=timepoint,
        seed=seed,
    )
    table = result.to_frame()
    if table.empty:
        msg = (
            "nothing to compare: no metric has enough patients with a value in both groups "
            "(check --groups, --timepoint and --metric); nothing was written"
        )
        counts = result.patients.groupby("group").size().to_dict()
        raise fail_with(msg, [f"patients per group: {counts}"])
    if out is not None:
        folder = _out_dir(out)
        write_csv(table, folder / "cohort_comparison.csv")
        save_figure(result.plot(), folder / "cohort_comparison.png")
    if as_json:
        emit_json(
            {
                "rule": result.rule,
                "table": table.astype(object).where(table.notna(), None).to_dict("records"),
            }
        )
        return
    shown = Table("metric", "n", "median a / b", "HL shift", "r_rb", "p", "p Holm", "p perm")
    for r in table.itertuples(index=False):
        shown.add_row(
            escape(str(r.metric)),
            f"{r.n_a}/{r.n_b}",
            f"{r.median_a:.3g} / {r.median_b:.3g}",
            f"{r.hodges_lehmann:.3g}",
            f"{r.rank_biserial:.2f}",
            f"{r.p_value:.3g}",
            f"{r.p_holm:.3g}",
            f"{r.p_permutation:.3g}",
        )
    console.print(shown)
    console.print(escape(result.rule))


def register(app: typer.Typer) -> None:
    """Attach the single-cell commands to the main app."""
    app.add_typer(sc_app, name="sc")


@sc_app.command("record")
def sc_record(
    profile_file: Path = typer.Argument(..., help="A <sample>.profile.json from sc profile."),
    batch: str = typer.Option(..., "--batch", help="Code of the batch the product came from."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored results as JSON."),
) -> None:
    """Store a profile's numbers on a batch as report-only results (audited).

    Each number becomes an assay result ``sc.<metric>`` whose method names the profile's
    SHA-256; they never change the lot's disposition. All or nothing.
    """
    from ..singlecell.profile import load_profile, record_profile
    from ._common import acting, database

    profile = load_profile(profile_file)
    db = database()
    with db.unit_of_work(acting(db)) as uow:
        stored = record_profile(uow, profile, batch=batch)
        rows = [{"analyte": r.analyte, "value": r.value, "method": r.method} for r in stored]
    if as_json:
        emit_json({"batch": batch, "sample": profile.sample, "results": rows})
        return
    console.print(
        f"{len(rows)} report-only results of profile {escape(profile.sample)} stored on "
        f"batch {escape(batch)} (profile sha256 {profile.sha256()[:12]}...)"
    )

"""The single-cell part of the demo: real CARPALL samples profiled, reported and tracked.

Not synthetic: the samples are real (CARPALL trial, Anderson et al. 2023); the demo says
so in its summary. It profiles a handful of small samples - patient P02's unsorted
infusion product and one patient's CD3+CAT+ sorted / unsorted pair of the same blood
draw - writes each profile (JSON) and HTML report, and follows P02's product clones
through P02's later samples with TCR data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ..records import Actor, Database

__all__ = ["DEMO_SAMPLES", "record_synthetic_profile", "run_singlecell_demo"]

#: Small real samples: P02's unsorted product, and P08's month-3 sorted/unsorted pair.
DEMO_SAMPLES: Final = ("CAR-T11141510", "CAR-T10484039", "CAR-T10484040")
TRACK_PATIENT: Final = "P02"
_LABEL: Final = (
    "real data: CARPALL trial single-cell samples (Anderson et al., Nat Med 2023), "
    "used for demonstration only"
)


def run_singlecell_demo(
    out_dir: str | Path,
    *,
    data_dir: str | Path,
    report: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Profile real CARPALL samples, write their reports and track patient P02.

    Parameters
    ----------
    out_dir
        Folder for ``samples.csv``, ``<sample>.profile.json``, ``<sample>.html`` and
        ``P02.tracking.csv`` (created).
    data_dir
        The CARPALL folder (``CARPALL_scRNAseq_CART_metadata.txt``, ``GEX/``, ``VDJ/``).
    report
        Write the HTML reports.
    seed
        Seed of the embedding and the diversity.

    Returns
    -------
    dict
        ``label``; ``samples`` (one entry per profiled sample: ``sample``, ``patient``,
        ``timepoint``, ``sort``, ``n_cells``, ``car_positive_fraction``, ``n_clonotypes``,
        ``profile``, ``report``); ``tracking`` (P02's later samples: ``sample``,
        ``timepoint``, ``n_cells``, ``fraction_in_product_clones``); or, when the data
        folder is absent, only ``skipped`` with the reason.
    """
    root = Path(data_dir)
    if not (root / "CARPALL_scRNAseq_CART_metadata.txt").is_file():
        return {"skipped": f"CARPALL data folder not found at {root}; single-cell demo skipped"}
    from ..singlecell.io import carpall_sample_sheet
    from ..singlecell.profile import profile_report, profile_sample, save_profile
    from ..singlecell.profile._pipeline import ProfileParams, track_patient

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sheet = carpall_sample_sheet(root, out / "samples.csv")
    params = ProfileParams(seed=seed, n_boot=50)
    present = {s.sample for s in sheet}
    tracking: list[dict[str, Any]] = []
    result = None
    patient_samples = list(sheet.for_patient(TRACK_PATIENT))
    if patient_samples:
        result = track_patient(patient_samples, params=params)
        result.save(out, name=TRACK_PATIENT)
        frame = result.to_frame()
        tracking = [
            {
                "sample": str(r.sample),
                "timepoint": str(r.timepoint),
                "n_cells": int(r.n_cells),
                "fraction_in_product_clones": float(r.fraction_in_product_clones),
            }
            for r in frame.itertuples(index=False)
            if not bool(r.is_product)
        ]
    rows: list[dict[str, Any]] = []
    for name in DEMO_SAMPLES:
        if name not in present or sheet[name].gex is None:
            continue
        prof, gex = profile_sample(sheet[name], params=params)
        path = save_profile(prof, out / f"{name}.profile.json")
        html = (
            profile_report(
                prof,
                out / f"{name}.html",
                adata=gex,
                tracking=result if prof.patient == TRACK_PATIENT else None,
            )
            if report
            else None
        )
        rows.append(
            {
                "sample": name,
                "patient": prof.patient,
                "timepoint": prof.timepoint,
                "sort": prof.sort,
                "n_cells": prof.n_cells,
                "car_positive_fraction": prof.car_positive_fraction,
                "n_clonotypes": prof.n_clonotypes,
                "profile": str(path),
                "report": None if html is None else str(html),
            }
        )
    return {"label": _LABEL, "samples": rows, "tracking": tracking}


def record_synthetic_profile(
    db: Database,
    out_dir: str | Path,
    *,
    actor: Actor,
    seed: int = 0,
    n_cells: int = 1500,
) -> dict[str, Any]:
    """Profile a labelled-synthetic product of a released demo lot and record it on the lot.

    The demo's lots are synthetic, so their single-cell characterization is too: a
    :func:`~vein2vein.simulate.synthetic_product` written as Cell Ranger h5 and 10x contigs,
    profiled like a real sample, and stored on the lot as report-only results
    (:func:`~vein2vein.singlecell.profile.record_profile`): the extended characterization
    that arrives after release (here on the first released lot, by code, before it is
    infused: an infused lot takes no more results) and never changes the disposition.

    Parameters
    ----------
    db
        The demo database.
    out_dir
        Folder for the product files, the profile JSON and its HTML report.
    actor
        Who enters the results (the QC analyst).
    seed, n_cells
        The synthetic product.

    Returns
    -------
    dict
        ``batch``, ``sample``, ``n_results``, ``car_positive_fraction``, ``profile``,
        ``report`` and ``label`` (the synthetic label); ``skipped`` when no lot is released.
    """
    from sqlalchemy import select

    from ..records import Batch, BatchStatus
    from ..singlecell.io import SAMPLE_SHEET_COLUMNS, read_sample_sheet
    from ..singlecell.profile import (
        ProfileParams,
        profile_report,
        profile_sample,
        record_profile,
        save_profile,
    )
    from ..support import write_csv
    from ._network import SYNTHETIC_LABEL
    from ._singlecell import synthetic_product

    with db.read() as session:
        lot = session.scalars(
            select(Batch).where(Batch.status == BatchStatus.released).order_by(Batch.batch_code)
        ).first()
        batch, patient = (None, None) if lot is None else (lot.batch_code, lot.patient.patient_code)
    if batch is None:
        return {"skipped": "no released lot to characterize"}
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"SYNTHETIC-{batch}"
    product = synthetic_product(n_cells, seed=seed, sample=name)
    h5, csv = product.write_10x(folder / name)
    sheet = folder / "synthetic_samples.csv"
    write_csv(
        [[name, patient, "M0", "PROD", "NoSo", h5.relative_to(folder), csv.relative_to(folder)]],
        sheet,
        header=SAMPLE_SHEET_COLUMNS,
    )
    params = ProfileParams(seed=seed, n_boot=50)
    prof, gex = profile_sample(read_sample_sheet(sheet)[name], params=params)
    path = save_profile(prof, folder / f"{name}.profile.json")
    html = profile_report(prof, folder / f"{name}.html", adata=gex)
    with db.unit_of_work(actor) as uow:
        stored = record_profile(uow, prof, batch=batch)
    return {
        "batch": batch,
        "sample": name,
        "n_results": len(stored),
        "car_positive_fraction": prof.car_positive_fraction,
        "profile": str(path),
        "report": str(html),
        "label": SYNTHETIC_LABEL,
    }

"""Single-cell product profile: time and peak memory next to a plain scanpy workflow.

For each size N (default 10k, 50k and 200k cells) a labelled-synthetic CAR-T product
with clonotypes (:func:`vein2vein.simulate.synthetic_product`, 2,000 features, about
1,500 UMIs per cell) is written as a Cell Ranger ``filtered_feature_bc_matrix.h5`` and a
10x ``filtered_contig_annotations.csv`` with a one-row sample sheet (untimed). Then, each
in a fresh subprocess (so peak memory is that run's own), side by side:

- ``ours``: :func:`vein2vein.singlecell.profile.profile_sample` on the sheet row - the
  readers (GEX and TCR, barcodes matched into a MuData), QC (scrublet doublets off, so
  the QC steps match the reference), CAR+ call, normalize, log1p, HVG, PCA, neighbours,
  Leiden, UMAP, signature scores, state calls, clonotypes (scirpy), diversity with
  rarefaction, and the profile itself.
- ``scanpy``: the plain scanpy steps on the same h5 - ``read_10x_h5``,
  ``calculate_qc_metrics`` and the same min-genes / max-mitochondrial filter,
  ``normalize_total``, ``log1p``, ``highly_variable_genes``, ``pca``, ``neighbors``,
  ``leiden`` (igraph), ``umap`` - with the same parameters and seed.

Time is the workflow's wall clock inside the subprocess (imports excluded); peak memory
is the subprocess's maximum resident set size (``resource.getrusage``, imports
included). Ratios are ours / scanpy. Prints one JSON object on stdout; progress goes to
stderr. Run small: ``.venv/bin/python benchmarks/bench_singlecell.py --sizes 2000``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# benchmarks/_common.py: run as a file, this script's folder is first on sys.path.
from _common import NOISE_NOTE, package_versions, print_json, run_metadata

DEFAULT_SIZES = (10_000, 50_000, 200_000)
SEED = 0


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_ours(sheet: str) -> dict[str, Any]:
    from vein2vein.singlecell.io import read_sample_sheet
    from vein2vein.singlecell.profile import ProfileParams, profile_sample

    sample = next(iter(read_sample_sheet(sheet)))
    params = ProfileParams(seed=SEED, doublets=False, n_boot=50)
    start = time.perf_counter()
    profile, gex = profile_sample(sample, params=params)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "n_cells_after_qc": profile.n_cells,
        "car_positive_fraction": profile.car_positive_fraction,
        "n_clonotypes": profile.n_clonotypes,
        "skipped_steps": gex.uns["v2v_pipeline"]["skipped"],
    }


def _worker_scanpy(h5: str) -> dict[str, Any]:
    import warnings

    import scanpy as sc

    start = time.perf_counter()
    adata = sc.read_10x_h5(h5)
    adata.var["mt"] = adata.var_names.str.startswith("MT-")
    sc.pp.calculate_qc_metrics(adata, qc_vars=["mt"], percent_top=None, log1p=False, inplace=True)
    keep = (adata.obs["n_genes_by_counts"] >= 200) & (adata.obs["pct_counts_mt"] <= 20)
    adata = adata[keep.to_numpy()].copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    sc.pp.highly_variable_genes(adata, n_top_genes=2000 if adata.n_vars > 2000 else 1000)
    sc.pp.pca(adata, n_comps=30, mask_var="highly_variable", random_state=SEED)
    sc.pp.neighbors(adata, n_neighbors=15, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        sc.tl.leiden(adata, flavor="igraph", n_iterations=2, directed=False, random_state=SEED)
    sc.tl.umap(adata, random_state=SEED)
    return {"seconds": time.perf_counter() - start, "n_cells_after_qc": int(adata.n_obs)}


def _run_worker(kind: str, target: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", kind, "--target", str(target)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _prepare(n: int, folder: Path) -> tuple[Path, Path]:
    from vein2vein.simulate import synthetic_product

    product = synthetic_product(n, seed=SEED, sample=f"SYN{n}")
    h5, csv = product.write_10x(folder)
    sheet = folder / "sheet.csv"
    sheet.write_text(
        "sample,patient,timepoint,source,sort,gex,tcr\n"
        f"SYN{n},SYNTHETIC-P1,M0,PROD,NoSo,{h5.name},{csv.name}\n"
    )
    return sheet, h5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="cells")
    parser.add_argument("--worker", choices=["ours", "scanpy"], help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = _worker_ours(args.target) if args.worker == "ours" else _worker_scanpy(args.target)
        result["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(result, default=str))
        return 0
    from vein2vein.simulate import SYNTHETIC_LABEL

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    runs = []
    failed = False
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="v2v-bench-sc-") as tmp:
            print(f"[{n} cells] generating the synthetic product", file=sys.stderr)
            sheet, h5 = _prepare(n, Path(tmp))
            print(f"[{n} cells] scanpy workflow", file=sys.stderr)
            ref = _run_worker("scanpy", h5)
            print(f"[{n} cells] our pipeline", file=sys.stderr)
            ours = _run_worker("ours", sheet)
        entry: dict[str, Any] = {"n_cells": n, "ours": ours, "scanpy": ref}
        if "error" in ours or "error" in ref:
            failed = True
        else:
            entry["time_ratio"] = round(ours["seconds"] / ref["seconds"], 3)
            entry["peak_memory_ratio"] = round(ours["peak_rss_mb"] / ref["peak_rss_mb"], 3)
        runs.append(entry)
    print_json(
        {
            "benchmark": "singlecell_profile",
            "metadata": run_metadata(
                package_versions("anndata", "scanpy", "scirpy", "mudata", "numpy", "scipy"),
                NOISE_NOTE + "compare time_ratio and peak_memory_ratio (ours / plain scanpy); "
                "ours also reads the TCR file, scores signatures, calls states, defines "
                "clonotypes and computes diversity, which the reference does not.",
                data=SYNTHETIC_LABEL,
                seed=SEED,
            ),
            "runs": runs,
        }
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

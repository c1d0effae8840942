"""The GPU path next to the CPU path: agreement and time, for a machine with a GPU.

Needs ``rapids_singlecell`` (and its CUDA stack) installed in the environment and a
visible CUDA device; exits with status 2 and says so otherwise. For each input it embeds
the same cells with :func:`vein2vein.singlecell.pp.embed` three times, side by side:
CPU seed 0, CPU seed 1 and GPU seed 0, and reports

- ``cpu_vs_gpu``: :func:`~vein2vein.singlecell.pp.embedding_agreement` of CPU and GPU
  (same seed);
- ``cpu_seed_variation``: the same measure for the two CPU seeds, the tolerance that
  tests/singlecell/test_gpu.py holds the GPU to;
- ``seconds`` of each run and the ratio ``gpu / cpu``.

Inputs: the real CARPALL sample CAR-T10310324 (unsorted blood, ``../shared/data/carpall``
beside the repository) after QC, and labelled-synthetic products
(:func:`vein2vein.simulate.synthetic_product`) of ``--sizes`` cells. Prints one JSON
object. Then run ``pytest tests/singlecell/test_gpu.py`` for the pass/fail verdict.

    .venv/bin/python benchmarks/gpu_check.py --sizes 50000,200000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from _common import NOISE_NOTE, package_versions, print_json, run_metadata

CARPALL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "carpall"
REAL_SAMPLE = "CAR-T10310324"


def _compare(adata: Any) -> dict[str, Any]:
    from vein2vein.singlecell.pp import embed, embedding_agreement

    runs: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for name, seed, backend in (("cpu", 0, "cpu"), ("cpu_seed1", 1, "cpu"), ("gpu", 0, "gpu")):
        start = time.perf_counter()
        runs[name] = embed(adata, seed=seed, backend=backend, copy=True)
        seconds[name] = time.perf_counter() - start
    return {
        "n_cells": adata.n_obs,
        "cpu_vs_gpu": embedding_agreement(runs["cpu"], runs["gpu"]),
        "cpu_seed_variation": embedding_agreement(runs["cpu"], runs["cpu_seed1"]),
        "seconds": seconds,
        "time_ratio_gpu_over_cpu": seconds["gpu"] / seconds["cpu"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50000", help="synthetic sizes, comma-separated")
    args = parser.parse_args(argv)

    from vein2vein.singlecell.pp import qc
    from vein2vein.singlecell.profile._scale import gpu_available

    if not gpu_available():
        print("no GPU path here: rapids_singlecell and a CUDA device are needed", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    if CARPALL.is_dir():
        from vein2vein.singlecell.io import read_gex

        real = read_gex(CARPALL / "GEX" / REAL_SAMPLE / "filtered_feature_bc_matrix.h5")
        results[REAL_SAMPLE] = _compare(qc(real, doublets=False, copy=True))
    from vein2vein.simulate import synthetic_product

    for size in (int(s) for s in args.sizes.split(",") if s):
        print(f"synthetic product, {size} cells", file=sys.stderr)
        product = synthetic_product(size, seed=0)
        results[f"synthetic_{size}"] = _compare(qc(product.adata, doublets=False, copy=True))
    versions = package_versions("vein2vein", "scanpy", "rapids-singlecell", "cupy-cuda12x")
    print_json(
        {
            "meta": run_metadata(
                versions,
                NOISE_NOTE,
                data=f"real CARPALL {REAL_SAMPLE}; SYNTHETIC products (simulate.synthetic_product)",
            ),
            "results": results,
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

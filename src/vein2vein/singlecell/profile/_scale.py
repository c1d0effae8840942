"""Scale: many samples on a Dask cluster, large inputs read backed, a GPU path.

- :func:`profile_samples` maps :func:`~vein2vein.singlecell.profile.profile_sample` over
  sample-sheet rows: in this process (default), on a local Dask cluster
  (``workers=N``; threads in this process with ``processes=False``, as the tests do) or
  on a running cluster (``scheduler="tcp://host:8786"``). Each task returns only the
  profile (small JSON), never the cells. Profiles are identical whichever way they run:
  every random step is seeded from :class:`ProfileParams`.
- :func:`read_h5ad_filtered` reads a large ``.h5ad`` backed (``backed="r"``), computes
  the QC metrics chunk by chunk and loads only the cells that pass into memory.
- :func:`choose_backend` picks the GPU path of :func:`~vein2vein.singlecell.pp.embed`
  (rapids-singlecell: the same normalize, log1p, HVG, PCA, neighbours, Leiden and UMAP
  steps and parameters on the device) when ``rapids_singlecell`` imports and a CUDA
  device is visible, else the CPU path. Tolerance: fractions, scores and diversity do not
  depend on the embedding and agree exactly; the embedding itself must agree with the
  CPU's at least as well as two CPU runs with different seeds do
  (:func:`~vein2vein.singlecell.pp.embedding_agreement`; tests/singlecell/test_gpu.py,
  ``benchmarks/gpu_check.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ... import logging as v2vlog
from ...errors import InvalidInputError

if TYPE_CHECKING:
    from anndata import AnnData

    from ..io._sample_sheet import Sample
    from ._model import ProductProfile
    from ._pipeline import ProfileParams

__all__ = [
    "choose_backend",
    "gpu_available",
    "profile_samples",
    "read_h5ad_filtered",
]


def gpu_available() -> bool:
    """Whether ``rapids_singlecell`` imports and a CUDA device is visible."""
    try:
        import cupy
        import rapids_singlecell  # noqa: F401
    except ImportError:
        return False
    try:
        return int(cupy.cuda.runtime.getDeviceCount()) > 0
    except Exception:  # noqa: BLE001 - any CUDA runtime failure means no usable device
        return False


def choose_backend(requested: Literal["auto", "cpu", "gpu"] = "auto") -> Literal["cpu", "gpu"]:
    """The backend to run the embedding on.

    Parameters
    ----------
    requested
        ``"auto"``: the GPU when :func:`gpu_available`, else the CPU; ``"cpu"``;
        ``"gpu"`` (refused when no GPU path is available).

    Returns
    -------
    str
        ``"cpu"`` or ``"gpu"``.
    """
    if requested == "cpu":
        return "cpu"
    available = gpu_available()
    if requested == "gpu" and not available:
        msg = "backend 'gpu' needs rapids_singlecell and a CUDA device; neither is usable here"
        raise InvalidInputError(msg, field="backend")
    return "gpu" if available else "cpu"


def _profile_only(sample: Sample, params: ProfileParams) -> ProductProfile:
    from ._pipeline import profile_one

    return profile_one(sample, params)[0]


def profile_samples(
    samples: Sequence[Sample],
    *,
    params: ProfileParams | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = False,
    on_done: Callable[[ProductProfile], Any] | None = None,
) -> list[ProductProfile]:
    """Profile many samples, in this process or on a Dask cluster; same order as given.

    Parameters
    ----------
    samples
        Sample-sheet rows with GEX files.
    params
        Pipeline parameters (defaults: :class:`ProfileParams`).
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``).
    workers
        Without ``scheduler``: the number of workers of a local Dask cluster started
        for the run; ``None`` runs the samples one after another in this process.
    processes
        Local cluster workers as processes (``True``) or threads in this process.
    on_done
        Called with each profile as it completes (progress bars).

    Returns
    -------
    list of ProductProfile
        One per sample, in the order of ``samples``.
    """
    from ._pipeline import ProfileParams

    p = params or ProfileParams()
    if scheduler is None and workers is None:
        out = []
        for sample in samples:
            profile = _profile_only(sample, p)
            if on_done is not None:
                on_done(profile)
            out.append(profile)
        return out
    from distributed import Client, LocalCluster, as_completed

    if scheduler is not None:
        client = Client(scheduler)
        cluster = None
    else:
        if workers is not None and workers < 1:
            msg = f"workers must be at least 1, not {workers}"
            raise InvalidInputError(msg, field="workers")
        cluster = LocalCluster(
            n_workers=workers or 1,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
        )
        client = Client(cluster)
    start = v2vlog.info(f"profiling {len(samples)} samples on Dask ({client.scheduler.address})")
    try:
        futures = [
            client.submit(_profile_only, s, p, key=f"profile-{i}-{s.sample}", pure=False)
            for i, s in enumerate(samples)
        ]
        for future in as_completed(futures):
            if on_done is not None:
                on_done(future.result())
        results: list[ProductProfile] = [f.result() for f in futures]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    v2vlog.info(f"profiled {len(samples)} samples", time=start)
    return results


def read_h5ad_filtered(
    path: str | Path,
    *,
    min_genes: int = 200,
    max_pct_mito: float = 20.0,
    chunk_size: int = 50_000,
) -> AnnData:
    """Read a large ``.h5ad`` backed, QC it in chunks, load only the cells that pass.

    Parameters
    ----------
    path
        An ``.h5ad`` file with raw counts in ``X``.
    min_genes, max_pct_mito
        The QC thresholds of :class:`ProfileParams`.
    chunk_size
        Cells read per chunk.

    Returns
    -------
    AnnData
        The passing cells, in memory, with ``obs`` columns ``n_genes_by_counts``,
        ``total_counts`` and ``pct_counts_mt`` and ``uns["v2v_qc"]`` as the QC step
        writes them.
    """
    import anndata as ad

    source = Path(path)
    try:
        backed = ad.read_h5ad(source, backed="r")
    except (OSError, KeyError) as exc:
        msg = f"cannot read as h5ad: {exc}"
        raise InvalidInputError(msg, file=str(source)) from None
    try:
        mito = np.asarray(backed.var_names.str.upper().str.startswith("MT-"))
        n_genes = np.empty(backed.n_obs, dtype=np.int64)
        total = np.empty(backed.n_obs, dtype=np.float64)
        mt = np.empty(backed.n_obs, dtype=np.float64)
        for start in range(0, backed.n_obs, chunk_size):
            stop = min(start + chunk_size, backed.n_obs)
            x = backed.X[start:stop]
            n_genes[start:stop] = np.asarray((x > 0).sum(axis=1)).ravel()
            total[start:stop] = np.asarray(x.sum(axis=1)).ravel()
            mt[start:stop] = np.asarray(x[:, mito].sum(axis=1)).ravel()
        pct = np.divide(100.0 * mt, total, out=np.zeros_like(mt), where=total > 0)
        keep = (n_genes >= min_genes) & (pct <= max_pct_mito)
        adata = backed[keep].to_memory()
    finally:
        backed.file.close()
    adata.obs["n_genes_by_counts"] = n_genes[keep]
    adata.obs["total_counts"] = total[keep]
    adata.obs["pct_counts_mt"] = pct[keep]
    adata.uns["v2v_qc"] = {
        "params": {"min_genes": min_genes, "max_pct_mito": max_pct_mito, "backed": True},
        "n_cells_before": int(keep.size),
        "n_cells_after": int(keep.sum()),
    }
    return adata

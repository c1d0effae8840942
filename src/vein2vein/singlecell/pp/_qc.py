"""Cell quality control: fixed thresholds and scrublet doublets, per sample, all recorded."""

from __future__ import annotations

import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd
import scanpy as sc
from anndata import AnnData

from ... import logging as v2vlog
from ...errors import InvalidInputError
from ..tl._signatures import counts_matrix

__all__ = ["QC_DEFAULTS", "library_versions", "qc"]

#: The defaults of :func:`qc`, with their reasons (see the docstring's References).
QC_DEFAULTS: dict[str, Any] = {
    "min_genes": 200,
    "max_genes": 6000,
    "min_counts": 500,
    "max_pct_mt": 20.0,
    "doublet_threshold": 0.25,
    "expected_doublet_rate": 0.05,
    "min_cells_doublets": 100,
}
_PACKAGES = ("vein2vein", "anndata", "scanpy", "scirpy", "mudata", "numpy", "scipy")
_QUIET_SCRUBLET = (
    (RuntimeWarning, r"(invalid value|divide by zero) encountered in scalar divide"),
    (UserWarning, "Some cells have zero counts"),
)


def library_versions() -> dict[str, str]:
    """Versions of vein2vein and the libraries the single-cell results depend on.

    Returns
    -------
    dict
        Package name to version string (``"not installed"`` when absent).
    """
    out = {}
    for name in (*_PACKAGES, "leidenalg", "igraph", "umap-learn", "scikit-learn"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _scrublet(sub: AnnData, *, threshold: float, rate: float, seed: int) -> pd.DataFrame:
    with warnings.catch_warnings():
        for category, message in _QUIET_SCRUBLET:
            warnings.filterwarnings("ignore", message=message, category=category)
        sc.pp.scrublet(
            sub,
            threshold=threshold,
            expected_doublet_rate=rate,
            n_prin_comps=min(30, sub.n_obs - 2),
            random_state=seed,
        )
    return sub.obs[["doublet_score", "predicted_doublet"]]


def qc(
    adata: AnnData,
    *,
    min_genes: int = QC_DEFAULTS["min_genes"],
    max_genes: int | None = QC_DEFAULTS["max_genes"],
    min_counts: int = QC_DEFAULTS["min_counts"],
    max_pct_mt: float = QC_DEFAULTS["max_pct_mt"],
    doublets: bool = True,
    doublet_threshold: float = QC_DEFAULTS["doublet_threshold"],
    expected_doublet_rate: float = QC_DEFAULTS["expected_doublet_rate"],
    batch_key: str = "sample",
    mt_prefix: str = "MT-",
    seed: int = 0,
    copy: bool = False,
) -> AnnData | None:
    """Remove low-quality cells and doublets, per sample, and record a QC table.

    Cells are kept when they have at least ``min_genes`` genes and ``min_counts`` UMIs, at
    most ``max_genes`` genes and at most ``max_pct_mt`` % mitochondrial UMIs. Among the
    kept cells of each sample (``obs[batch_key]``), scrublet [2]_ scores doublets on the raw
    counts and cells above ``doublet_threshold`` are removed. Genes are never removed, so
    per-cell normalized expression (and thus signature scores and state calls) does not
    depend on which other cells are in the dataset.

    The defaults follow Luecken & Theis [1]_: permissive thresholds, since T cells carry
    little RNA (CARPALL medians: 1,100 genes, 2,100 UMIs) and hard cuts lose real states;
    200 genes removes empty droplets and debris; 6,000 genes and 20 % mitochondrial UMIs
    remove only clear outliers (multiplets, broken cells). scrublet's doublet threshold is
    fixed at 0.25 with an expected doublet rate of 5 % (Wolock et al.'s defaults for 10x
    loading) instead of its automatic, dataset-dependent threshold, so that the rule is the
    same for every sample and site; samples with fewer than 100 kept cells are not scored
    (too few to simulate doublets) and recorded as such.

    Parameters
    ----------
    adata
        Cells by features, raw counts in ``X`` (or ``layers["counts"]``).
    min_genes, max_genes, min_counts, max_pct_mt
        Cell thresholds (``max_genes=None``: no upper limit).
    doublets
        Score and remove doublets with scrublet.
    doublet_threshold
        scrublet score above which a cell is a doublet.
    expected_doublet_rate
        scrublet's prior doublet rate.
    batch_key
        ``obs`` column of the sample; doublets are scored per sample. When absent, the
        whole object is one sample.
    mt_prefix
        Prefix of mitochondrial gene symbols (``MT-`` human, ``mt-`` mouse).
    seed
        Random seed of scrublet.
    copy
        Return a filtered copy instead of filtering ``adata`` in place.

    Returns
    -------
    AnnData | None
        A copy when ``copy=True``. ``obs`` gains ``n_genes_by_counts``, ``total_counts``,
        ``pct_counts_mt``, ``doublet_score`` (NaN where not scored) and
        ``predicted_doublet``; ``uns["v2v_qc"]`` holds ``params`` (every option, the seed),
        ``versions`` and ``per_sample``: a DataFrame indexed by sample with ``n_cells_before``,
        ``n_low_quality``, ``n_doublets``, ``n_cells_after``, ``median_genes``,
        ``median_umis``, ``median_pct_mt``, ``doublet_rate`` and ``doublets_scored``.

    Raises
    ------
    InvalidInputError
        When the matrix is not raw counts or no cell passes.

    References
    ----------
    .. [1] Luecken MD, Theis FJ (2019) Current best practices in single-cell RNA-seq
       analysis: a tutorial. Mol Syst Biol 15:e8746. doi:10.15252/msb.20188746
    .. [2] Wolock SL, Lopez R, Klein AM (2019) Scrublet: computational identification of
       cell doublets in single-cell transcriptomic data. Cell Syst 8:281-291.e9.
       doi:10.1016/j.cels.2018.11.005
    """
    adata = adata.copy() if copy else adata
    start = v2vlog.info(f"quality control of {adata.n_obs} cells")
    counts, layer = counts_matrix(adata)
    work = AnnData(counts, obs=pd.DataFrame(index=adata.obs_names), var=adata.var[[]])
    work.var["mt"] = work.var_names.str.startswith(mt_prefix)
    sc.pp.calculate_qc_metrics(work, qc_vars=["mt"], percent_top=None, log1p=False, inplace=True)
    metrics = work.obs[["n_genes_by_counts", "total_counts", "pct_counts_mt"]]
    for col in metrics.columns:
        adata.obs[col] = metrics[col].to_numpy()
    ok = (
        (metrics["n_genes_by_counts"] >= min_genes)
        & (metrics["total_counts"] >= min_counts)
        & (metrics["pct_counts_mt"] <= max_pct_mt)
    ).to_numpy()
    if max_genes is not None:
        ok &= (metrics["n_genes_by_counts"] <= max_genes).to_numpy()
    batches = (
        adata.obs[batch_key].astype(str).to_numpy()
        if batch_key in adata.obs
        else np.full(adata.n_obs, "all")
    )
    score = np.full(adata.n_obs, np.nan)
    doublet = np.zeros(adata.n_obs, dtype=bool)
    scored: dict[str, bool] = {}
    for b in pd.unique(batches):
        sel = np.flatnonzero(ok & (batches == b))
        scored[b] = bool(doublets and sel.size >= QC_DEFAULTS["min_cells_doublets"])
        if scored[b]:
            res = _scrublet(
                work[sel].copy(),
                threshold=doublet_threshold,
                rate=expected_doublet_rate,
                seed=seed,
            )
            score[sel] = res["doublet_score"].to_numpy()
            doublet[sel] = res["predicted_doublet"].to_numpy(dtype=bool)
    adata.obs["doublet_score"] = score
    adata.obs["predicted_doublet"] = doublet
    keep = ok & ~doublet
    if not keep.any():
        msg = "no cell passes quality control; check the thresholds and that X holds counts"
        raise InvalidInputError(msg, field="min_genes")
    table = _table(adata.obs, batches=batches, ok=ok, doublet=doublet, scored=scored)
    adata._inplace_subset_obs(keep)
    adata.uns["v2v_qc"] = {
        "params": {
            "min_genes": min_genes,
            "max_genes": max_genes,
            "min_counts": min_counts,
            "max_pct_mt": max_pct_mt,
            "doublets": doublets,
            "doublet_method": "scanpy.pp.scrublet",
            "doublet_threshold": doublet_threshold,
            "expected_doublet_rate": expected_doublet_rate,
            "min_cells_doublets": QC_DEFAULTS["min_cells_doublets"],
            "batch_key": batch_key,
            "mt_prefix": mt_prefix,
            "counts": layer,
            "seed": seed,
        },
        "versions": library_versions(),
        "per_sample": table,
    }
    v2vlog.info(f"kept {int(keep.sum())} of {keep.size} cells", time=start)
    return adata if copy else None


def _table(
    obs: pd.DataFrame,
    *,
    batches: np.ndarray[Any, Any],
    ok: np.ndarray[Any, Any],
    doublet: np.ndarray[Any, Any],
    scored: dict[str, bool],
) -> pd.DataFrame:
    rows = []
    for b in pd.unique(batches):
        sel = batches == b
        kept = sel & ok & ~doublet
        after = obs.loc[kept]
        n_ok = int((sel & ok).sum())
        rows.append(
            {
                "sample": b,
                "n_cells_before": int(sel.sum()),
                "n_low_quality": int((sel & ~ok).sum()),
                "n_doublets": int((sel & doublet).sum()),
                "n_cells_after": int(kept.sum()),
                "median_genes": float(after["n_genes_by_counts"].median()),
                "median_umis": float(after["total_counts"].median()),
                "median_pct_mt": float(after["pct_counts_mt"].median()),
                "doublet_rate": (int((sel & doublet).sum()) / n_ok) if n_ok else float("nan"),
                "doublets_scored": scored[b],
            }
        )
    return pd.DataFrame(rows).set_index("sample")

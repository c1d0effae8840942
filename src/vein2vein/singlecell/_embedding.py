"""Normalization, highly variable genes, PCA, neighbours, Leiden and UMAP, all recorded."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import scanpy as sc
from anndata import AnnData

from .. import logging as v2vlog
from ..errors import InvalidInputError
from ._qc import library_versions
from ._signatures import TARGET_SUM, counts_matrix

__all__ = ["embed"]

# umap-learn says that a fixed random_state turns off its parallelism: that is intended.
_QUIET_UMAP = (UserWarning, "n_jobs value .* overridden to 1 by setting random_state")


def embed(
    adata: AnnData,
    *,
    n_top_genes: int = 2000,
    n_pcs: int = 30,
    n_neighbors: int = 15,
    resolution: float = 1.0,
    seed: int = 0,
    exclude_genes: Iterable[str] | None = None,
    batch_key: str | None = "sample",
    copy: bool = False,
) -> AnnData | None:
    """Normalize, select highly variable genes, and compute PCA, neighbours, Leiden, UMAP.

    The standard workflow of Luecken & Theis [1]_ with scanpy [2]_: raw counts are kept in
    ``layers["counts"]``; ``X`` becomes ``log1p`` of counts per 10,000 (all genes kept);
    the ``n_top_genes`` most variable genes (scanpy's ``seurat`` flavour, per sample when
    ``batch_key`` names more than one) minus ``exclude_genes`` (e.g. TCR V genes or the CAR
    transgene, which would make clones or CAR status drive the clusters) feed a PCA of
    ``n_pcs`` components, a ``n_neighbors`` kNN graph, Leiden clustering [3]_ (igraph
    implementation, 2 iterations) and UMAP [4]_. Defaults are scanpy's and the tutorial's:
    2,000 genes, 30 PCs, 15 neighbours, resolution 1.

    Parameters
    ----------
    adata
        Cells by features with raw counts (in ``X``, or ``layers["counts"]``), after
        :func:`~vein2vein.singlecell.pp.qc`.
    n_top_genes, n_pcs, n_neighbors, resolution
        See above. ``n_pcs`` is capped at the number of cells and genes minus one.
    seed
        Random seed for PCA, neighbours, Leiden and UMAP.
    exclude_genes
        Genes never used as highly variable.
    batch_key
        ``obs`` column for per-sample HVG selection; ignored when absent or single-valued.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    AnnData | None
        A copy when ``copy=True``. Writes ``layers["counts"]``, log-normalized ``X``,
        ``var["highly_variable"]``, ``obsm["X_pca"]``, ``obsm["X_umap"]``,
        ``obsp["connectivities"]``/``["distances"]``, ``obs["leiden"]`` and
        ``uns["v2v_embedding"]`` (``params`` with the seed, ``n_pcs_used``,
        ``n_highly_variable``, ``excluded_genes`` and ``versions``).

    References
    ----------
    .. [1] Luecken MD, Theis FJ (2019) Current best practices in single-cell RNA-seq
       analysis: a tutorial. Mol Syst Biol 15:e8746. doi:10.15252/msb.20188746
    .. [2] Wolf FA, Angerer P, Theis FJ (2018) SCANPY: large-scale single-cell gene
       expression data analysis. Genome Biol 19:15. doi:10.1186/s13059-017-1382-0
    .. [3] Traag VA, Waltman L, van Eck NJ (2019) From Louvain to Leiden: guaranteeing
       well-connected communities. Sci Rep 9:5233. doi:10.1038/s41598-019-41695-z
    .. [4] McInnes L, Healy J, Melville J (2018) UMAP: uniform manifold approximation and
       projection for dimension reduction. arXiv:1802.03426
    """
    adata = adata.copy() if copy else adata
    if adata.n_obs < 3:
        msg = f"an embedding needs at least 3 cells, got {adata.n_obs}"
        raise InvalidInputError(msg)
    start = v2vlog.info(f"embedding {adata.n_obs} cells")
    counts, layer = counts_matrix(adata)
    adata.layers["counts"] = counts.copy()
    adata.X = counts.astype(np.float32)
    sc.pp.normalize_total(adata, target_sum=TARGET_SUM)
    sc.pp.log1p(adata)
    use_batch = (
        batch_key
        if batch_key is not None and batch_key in adata.obs and adata.obs[batch_key].nunique() > 1
        else None
    )
    excluded = sorted(set(exclude_genes or ()) & set(adata.var_names))
    sc.pp.highly_variable_genes(
        adata, n_top_genes=min(n_top_genes, adata.n_vars), flavor="seurat", batch_key=use_batch
    )
    if excluded:
        adata.var.loc[excluded, "highly_variable"] = False
    n_hvg = int(adata.var["highly_variable"].sum())
    comps = max(1, min(n_pcs, adata.n_obs - 1, n_hvg - 1))
    sc.pp.pca(adata, n_comps=comps, mask_var="highly_variable", random_state=seed)
    sc.pp.neighbors(adata, n_neighbors=min(n_neighbors, adata.n_obs - 1), random_state=seed)
    sc.tl.leiden(
        adata,
        resolution=resolution,
        flavor="igraph",
        n_iterations=2,
        directed=False,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_QUIET_UMAP[1], category=_QUIET_UMAP[0])
        sc.tl.umap(adata, random_state=seed)
    params: dict[str, Any] = {
        "counts": layer,
        "normalization": f"normalize_total(target_sum={TARGET_SUM:g}) + log1p",
        "hvg_flavor": "seurat",
        "n_top_genes": n_top_genes,
        "hvg_batch_key": use_batch,
        "n_pcs": n_pcs,
        "n_neighbors": n_neighbors,
        "leiden_resolution": resolution,
        "leiden_flavor": "igraph",
        "leiden_n_iterations": 2,
        "seed": seed,
    }
    adata.uns["v2v_embedding"] = {
        "params": params,
        "n_pcs_used": comps,
        "n_highly_variable": n_hvg,
        "excluded_genes": excluded,
        "versions": library_versions(),
    }
    v2vlog.info(
        f"{adata.obs['leiden'].nunique()} Leiden clusters; "
        'stored in adata.obs["leiden"], adata.obsm["X_umap"]',
        time=start,
    )
    return adata if copy else None

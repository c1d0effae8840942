"""Normalization, highly variable genes, PCA, neighbours, Leiden and UMAP, all recorded."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import numpy as np
import scanpy as sc
from anndata import AnnData

from ... import logging as v2vlog
from ...errors import InvalidInputError
from ..tl._signatures import TARGET_SUM, counts_matrix
from ._qc import library_versions

__all__ = ["embed", "embedding_agreement"]

# umap-learn says that a fixed random_state turns off its parallelism: that is intended.
_QUIET_UMAP = (UserWarning, "n_jobs value .* overridden to 1 by setting random_state")
_FEW_GENES = "`n_top_genes` > number of normalized dispersions"


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
    backend: Literal["auto", "cpu", "gpu"] = "cpu",
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
    backend
        ``"cpu"`` (scanpy, the default), ``"gpu"`` (rapids-singlecell [5]_: the same steps
        and parameters on a CUDA device; refused when no GPU path is usable) or ``"auto"``
        (the GPU when usable, see :func:`~vein2vein.singlecell.profile._scale.choose_backend`).
        The GPU's kNN search is exact and its Leiden is a different implementation, so
        clusters and UMAP coordinates agree with the CPU's only within the run-to-run
        variation measured by :func:`embedding_agreement`; nothing else in a profile
        depends on the embedding.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    AnnData | None
        A copy when ``copy=True``. Writes ``layers["counts"]``, log-normalized ``X``,
        ``var["highly_variable"]``, ``obsm["X_pca"]``, ``obsm["X_umap"]``,
        ``obsp["connectivities"]``/``["distances"]``, ``obs["leiden"]`` and
        ``uns["v2v_embedding"]`` (``params`` with the seed, ``n_pcs_used``,
        ``n_highly_variable``, ``excluded_genes``, ``backend`` and ``versions``).

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
    .. [5] Dicks S et al. rapids-singlecell: GPU-accelerated single-cell analysis in the
       scverse ecosystem (software). https://github.com/scverse/rapids-singlecell
    """
    adata = adata.copy() if copy else adata
    if adata.n_obs < 3:
        msg = f"an embedding needs at least 3 cells, got {adata.n_obs}"
        raise InvalidInputError(msg)
    start = v2vlog.info(f"embedding {adata.n_obs} cells")
    from ..profile._scale import choose_backend

    used = choose_backend(backend)
    counts, layer = counts_matrix(adata)
    adata.layers["counts"] = counts.copy()
    adata.X = counts.astype(np.float32)
    use_batch = (
        batch_key
        if batch_key is not None and batch_key in adata.obs and adata.obs[batch_key].nunique() > 1
        else None
    )
    excluded = sorted(set(exclude_genes or ()) & set(adata.var_names))
    steps = _gpu_steps() if used == "gpu" else _cpu_steps()
    steps.to_device(adata)
    steps.pp.normalize_total(adata, target_sum=TARGET_SUM)
    steps.pp.log1p(adata)
    with warnings.catch_warnings():
        # small panels (and small samples) have fewer genes with a dispersion than asked
        warnings.filterwarnings("ignore", message=_FEW_GENES, category=UserWarning)
        steps.pp.highly_variable_genes(
            adata, n_top_genes=min(n_top_genes, adata.n_vars), flavor="seurat", batch_key=use_batch
        )
    if excluded:
        adata.var.loc[excluded, "highly_variable"] = False
    n_hvg = int(adata.var["highly_variable"].sum())
    comps = max(1, min(n_pcs, adata.n_obs - 1, n_hvg - 1))
    steps.pp.pca(adata, n_comps=comps, mask_var="highly_variable", random_state=seed)
    steps.pp.neighbors(adata, n_neighbors=min(n_neighbors, adata.n_obs - 1), random_state=seed)
    steps.tl.leiden(adata, resolution=resolution, random_state=seed, **steps.leiden_options)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_QUIET_UMAP[1], category=_QUIET_UMAP[0])
        steps.tl.umap(adata, random_state=seed)
    steps.to_host(adata)
    params: dict[str, Any] = {
        "counts": layer,
        "normalization": f"normalize_total(target_sum={TARGET_SUM:g}) + log1p",
        "hvg_flavor": "seurat",
        "n_top_genes": n_top_genes,
        "hvg_batch_key": use_batch,
        "n_pcs": n_pcs,
        "n_neighbors": n_neighbors,
        "leiden_resolution": resolution,
        "leiden_flavor": steps.leiden_flavor,
        "leiden_n_iterations": adata.uns.get("leiden", {}).get("params", {}).get("n_iterations"),
        "seed": seed,
    }
    adata.uns["v2v_embedding"] = {
        "params": params,
        "n_pcs_used": comps,
        "n_highly_variable": n_hvg,
        "excluded_genes": excluded,
        "backend": used,
        "versions": {**library_versions(), **steps.versions},
    }
    v2vlog.info(
        f"{adata.obs['leiden'].nunique()} Leiden clusters; "
        'stored in adata.obs["leiden"], adata.obsm["X_umap"]',
        time=start,
    )
    return adata if copy else None


@dataclass(frozen=True)
class _Steps:
    """The scanpy-compatible step functions of one backend."""

    pp: Any
    tl: Any
    to_device: Callable[[AnnData], None]
    to_host: Callable[[AnnData], None]
    leiden_options: dict[str, Any]
    leiden_flavor: str
    versions: dict[str, str]


def _cpu_steps() -> _Steps:
    return _Steps(
        pp=sc.pp,
        tl=sc.tl,
        to_device=lambda _: None,
        to_host=lambda _: None,
        leiden_options={"flavor": "igraph", "n_iterations": 2, "directed": False},
        leiden_flavor="igraph",
        versions={},
    )


def _gpu_steps() -> _Steps:
    import rapids_singlecell as rsc

    try:
        rsc_version = version("rapids-singlecell")
    except PackageNotFoundError:  # a source checkout
        rsc_version = str(getattr(rsc, "__version__", "unknown"))
    # rapids-singlecell's own Leiden defaults (its n_iterations meant cuGraph levels before
    # 0.14 and igraph iterations since), recorded from what it writes to uns["leiden"].
    return _Steps(
        pp=rsc.pp,
        tl=rsc.tl,
        to_device=rsc.get.anndata_to_GPU,
        to_host=_gpu_to_host,
        leiden_options={},
        leiden_flavor="rapids-singlecell",
        versions={"rapids-singlecell": rsc_version},
    )


def _gpu_to_host(adata: AnnData) -> None:
    """Everything back in host memory: X and layers, and the obsm/obsp/varm rsc may leave."""
    import rapids_singlecell as rsc

    rsc.get.anndata_to_CPU(adata, convert_all=True)
    for mapping in (adata.obsm, adata.obsp, adata.varm):
        for key in list(mapping.keys()):
            value = mapping[key]
            if type(value).__module__.startswith("cupy"):
                mapping[key] = value.get()


def embedding_agreement(
    reference: AnnData, other: AnnData, *, n_neighbors: int = 15
) -> dict[str, float]:
    """How closely two embeddings of the same cells agree.

    Used to hold the GPU path to the CPU's run-to-run variation: compare CPU against GPU,
    and CPU seed ``s`` against CPU seed ``s + 1``; the first must be about as close as the
    second.

    Parameters
    ----------
    reference, other
        The same cells (same ``obs_names`` in the same order), each after
        :func:`embed`.
    n_neighbors
        Neighbours compared in the UMAP coordinates.

    Returns
    -------
    dict
        ``hvg_jaccard`` (Jaccard index of the highly variable genes),
        ``pca_variance_ratio_max_diff`` (largest absolute difference of the explained
        variance ratios of the shared components), ``knn_overlap`` (mean fraction of each
        cell's neighbours in ``obsp["distances"]`` found in both graphs), ``leiden_ari``
        (adjusted Rand index of the Leiden clusters [1]_, scikit-learn) and
        ``umap_knn_overlap`` (the same neighbour overlap in the two UMAPs).

    References
    ----------
    .. [1] Hubert L, Arabie P (1985) Comparing partitions. J Classif 2:193-218.
       doi:10.1007/BF01908075
    """
    from sklearn.metrics import adjusted_rand_score  # type: ignore[import-untyped]
    from sklearn.neighbors import NearestNeighbors  # type: ignore[import-untyped]

    if not reference.obs_names.equals(other.obs_names):
        msg = "embedding_agreement compares the same cells in the same order"
        raise InvalidInputError(msg, field="obs_names")
    hvg_a = set(reference.var_names[reference.var["highly_variable"].to_numpy()])
    hvg_b = set(other.var_names[other.var["highly_variable"].to_numpy()])
    ratio_a = np.asarray(reference.uns["pca"]["variance_ratio"])
    ratio_b = np.asarray(other.uns["pca"]["variance_ratio"])
    k = min(ratio_a.size, ratio_b.size)

    def graph_sets(adata: AnnData) -> list[set[int]]:
        dist = adata.obsp["distances"].tocsr()
        return [
            set(dist.indices[dist.indptr[i] : dist.indptr[i + 1]]) for i in range(dist.shape[0])
        ]

    def umap_sets(adata: AnnData) -> list[set[int]]:
        k_umap = min(n_neighbors, adata.n_obs - 1)
        # without a query, sklearn leaves each cell out of its own neighbours
        fitted = NearestNeighbors(n_neighbors=k_umap).fit(adata.obsm["X_umap"])
        idx = fitted.kneighbors(return_distance=False)
        return [set(row) for row in idx]

    def overlap(a: list[set[int]], b: list[set[int]]) -> float:
        return float(np.mean([len(x & y) / max(len(x), 1) for x, y in zip(a, b, strict=True)]))

    return {
        "hvg_jaccard": len(hvg_a & hvg_b) / max(len(hvg_a | hvg_b), 1),
        "pca_variance_ratio_max_diff": float(np.max(np.abs(ratio_a[:k] - ratio_b[:k]))),
        "knn_overlap": overlap(graph_sets(reference), graph_sets(other)),
        "leiden_ari": float(
            adjusted_rand_score(
                reference.obs["leiden"].astype(str), other.obs["leiden"].astype(str)
            )
        ),
        "umap_knn_overlap": overlap(umap_sets(reference), umap_sets(other)),
    }

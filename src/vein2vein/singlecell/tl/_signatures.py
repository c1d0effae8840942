"""Signature scores defined per cell, from that cell's own normalized expression."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

import numpy as np
import yaml
from anndata import AnnData
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]

from ... import logging as v2vlog
from ...errors import InvalidInputError, MissingGenesWarning

__all__ = [
    "SCORE_METHOD",
    "counts_matrix",
    "log1p_cp10k",
    "score_signatures",
    "shipped_signatures",
]

_DATA_PACKAGE = "vein2vein.singlecell.data"
TARGET_SUM = 1e4
SCORE_METHOD = (
    "mean over the set's genes of log1p(10,000 x UMI / total UMIs of the cell); genes "
    "absent from the matrix are left out and recorded; no control genes, no scaling"
)


def _load_yaml(name: str) -> dict[str, Any]:
    text = files(_DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        msg = "the shipped file is not a YAML mapping (a broken installation)"
        raise InvalidInputError(msg, file=name)
    return data


def shipped_signatures() -> dict[str, Any]:
    """The shipped gene sets (``singlecell/data/signatures.yaml``).

    Returns
    -------
    dict
        ``version`` and ``sets``: per set ``description``, ``genes`` and ``references``
        (authors, year, title, journal, DOI).

    Examples
    --------
    >>> sets = shipped_signatures()["sets"]
    >>> sets["memory"]["genes"]
    ['TCF7', 'SELL', 'CCR7', 'IL7R', 'LEF1']
    """
    return _load_yaml("signatures.yaml")


def counts_matrix(
    adata: AnnData, *, layer: str | None = None, columns: NDArray[np.intp] | None = None
) -> tuple[sparse.csr_matrix, str]:
    """Raw counts (all features, or ``columns``) as CSR, and the name of their source.

    Parameters
    ----------
    adata
        Cells by features.
    layer
        Layer with raw counts; default ``layers["counts"]`` when present, else ``X``.
    columns
        Integer positions of the features to return; all when None.

    Returns
    -------
    tuple
        The CSR matrix and ``"X"`` or the layer's name.

    Raises
    ------
    InvalidInputError
        When the layer is missing or the values are not non-negative integers.
    """
    if layer is None:
        layer = "counts" if "counts" in adata.layers else None
    if layer is not None and layer not in adata.layers:
        msg = f"no layer {layer!r}; layers: {', '.join(adata.layers) or '(none)'}"
        raise InvalidInputError(msg, field="layer")
    mat = adata.X if layer is None else adata.layers[layer]
    mat = sparse.csr_matrix(mat) if not sparse.issparse(mat) else mat.tocsr()
    if columns is not None:
        mat = mat[:, columns]
    probe = mat.data[:100_000]
    if probe.size and (np.any(probe < 0) or np.any(probe != np.round(probe))):
        msg = "expected raw UMI counts (non-negative integers); pass the layer that holds them"
        raise InvalidInputError(msg, field="layer")
    return mat, layer or "X"


def log1p_cp10k(
    adata: AnnData, genes: Sequence[str], *, layer: str | None = None
) -> NDArray[np.float64]:
    """Per-cell normalized expression ``log1p(1e4 * counts / cell total)`` of ``genes``.

    The cell total is the sum over *all* features of the cell, so the value depends on
    that cell's counts alone, as :func:`scanpy.pp.normalize_total` (``target_sum=1e4``)
    followed by :func:`scanpy.pp.log1p` computes it [1]_.

    Parameters
    ----------
    adata
        Cells by features with raw counts.
    genes
        Gene names, all in ``var_names``.
    layer
        See :func:`counts_matrix`.

    Returns
    -------
    numpy.ndarray
        Cells by genes, float64.

    References
    ----------
    .. [1] Luecken MD, Theis FJ (2019) Current best practices in single-cell RNA-seq
       analysis: a tutorial. Mol Syst Biol 15:e8746. doi:10.15252/msb.20188746
    """
    full, _ = counts_matrix(adata, layer=layer)
    totals = np.asarray(full.sum(axis=1), dtype=np.float64).ravel()
    idx = adata.var_names.get_indexer(list(genes))
    if np.any(idx < 0):
        missing = [g for g, i in zip(genes, idx, strict=True) if i < 0]
        msg = f"genes not in var_names: {', '.join(missing)}"
        raise InvalidInputError(msg, field="genes")
    sub = np.asarray(full[:, idx].toarray(), dtype=np.float64)
    scale = np.divide(TARGET_SUM, totals, out=np.zeros_like(totals), where=totals > 0)
    return np.log1p(sub * scale[:, None])


def score_signatures(
    adata: AnnData,
    *,
    signatures: Mapping[str, Sequence[str]] | None = None,
    layer: str | None = None,
    key_prefix: str = "v2v_score_",
    copy: bool = False,
) -> AnnData | None:
    """Score gene signatures per cell, comparably across samples and institutions.

    The score of a cell is the mean of ``log1p(10,000 x UMI / cell total)`` over the
    set's genes: the average log-normalized expression of Tirosh et al. [1]_ *without* its
    control-gene subtraction. That subtraction (as in :func:`scanpy.tl.score_genes`) draws
    control genes from expression bins of the dataset at hand, so the same cell scores
    differently inside different datasets; here a cell's score depends on its own counts
    only, and on the fixed, shipped gene lists [2]_. Scores are therefore comparable across
    samples, runs and institutions that use the same chemistry; they are not z-scored.

    Parameters
    ----------
    adata
        Cells by features with raw counts in ``layers["counts"]`` (as left by
        :func:`~vein2vein.singlecell.pp.embed`) or in ``X``.
    signatures
        ``{name: genes}``; default: the shipped sets (:func:`shipped_signatures`).
    layer
        Layer with raw counts; see :func:`counts_matrix`.
    key_prefix
        Scores go to ``obs[key_prefix + name]``.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    AnnData | None
        A copy when ``copy=True``. Writes ``obs["v2v_score_<name>"]`` (float; NaN when none
        of the set's genes is in the matrix) and ``uns["v2v_signatures"]``: ``version``,
        ``method``, ``params`` and ``sets`` (per set: ``genes`` requested, ``genes_used``,
        ``genes_missing`` and ``references`` as DOIs).

    References
    ----------
    .. [1] Tirosh I et al. (2016) Dissecting the multicellular ecosystem of metastatic
       melanoma by single-cell RNA-seq. Science 352:189-196. doi:10.1126/science.aad0501
    .. [2] Andreatta M, Carmona SJ (2021) UCell: robust and scalable single-cell gene
       signature scoring. Comput Struct Biotechnol J 19:3796-3798.
       doi:10.1016/j.csbj.2021.06.043 (on dataset-independent, per-cell scores).

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd
    >>> x = np.array([[0, 10, 90], [5, 5, 0]], dtype=np.float32)
    >>> a = ad.AnnData(x, var=pd.DataFrame(index=["PDCD1", "LAG3", "ACTB"]))
    >>> score_signatures(a, signatures={"exh": ["PDCD1", "LAG3"]})
    >>> a.obs["v2v_score_exh"].round(3).tolist()
    [3.454, 8.517]
    """
    adata = adata.copy() if copy else adata
    shipped = shipped_signatures()
    version = shipped["version"] if signatures is None else "custom"
    sets: dict[str, list[str]] = (
        {k: list(v["genes"]) for k, v in shipped["sets"].items()}
        if signatures is None
        else {k: list(v) for k, v in signatures.items()}
    )
    _, layer_used = counts_matrix(adata[:0], layer=layer)
    record: dict[str, Any] = {}
    for name, genes in sets.items():
        used = [g for g in genes if g in adata.var_names]
        missing = [g for g in genes if g not in adata.var_names]
        if used:
            score = log1p_cp10k(adata, used, layer=layer).mean(axis=1)
        else:
            score = np.full(adata.n_obs, np.nan)
        adata.obs[f"{key_prefix}{name}"] = score
        refs = shipped["sets"].get(name, {}).get("references", []) if signatures is None else []
        record[name] = {
            "genes": genes,
            "genes_used": used,
            "genes_missing": missing,
            "references": [r["doi"] for r in refs],
        }
        if missing:
            v2vlog.warning(
                f"signature {name}: genes missing from the matrix: {missing}",
                category=MissingGenesWarning,
            )
    adata.uns["v2v_signatures"] = {
        "version": version,
        "method": SCORE_METHOD,
        "params": {"layer": layer_used, "key_prefix": key_prefix, "target_sum": TARGET_SUM},
        "sets": record,
    }
    v2vlog.info(f"scored {len(sets)} signatures; stored in adata.obs[{key_prefix!r} + name]")
    return adata if copy else None

"""CAR+ cells: cells with transgene UMIs above a threshold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from anndata import AnnData

from ... import logging as v2vlog
from ...errors import InvalidInputError
from ._signatures import counts_matrix

__all__ = ["CAR_CAVEAT", "car_positive"]

CAR_CAVEAT = (
    "CAR+ is called from transgene UMIs captured by 3'/5' scRNA-seq; the CAR transcript "
    "drops out in many truly transduced cells, so the CAR+ fraction is a lower bound of the "
    "fraction of transduced cells (compare flow cytometry of the CAR protein)."
)


def car_positive(
    adata: AnnData,
    *,
    features: Sequence[str] = ("CAT_scFv",),
    min_umi: int = 1,
    layer: str | None = None,
    key_added: str = "car_positive",
    copy: bool = False,
) -> AnnData | None:
    """Flag CAR+ cells by the UMI count of the CAR transgene feature(s).

    A cell is CAR+ when the UMIs summed over ``features`` reach ``min_umi``. The default
    feature is ``CAT_scFv``, the CAT anti-CD19 CAR added to the reference in the CARPALL
    data [1]_; other products name their own construct. The default threshold of one UMI
    follows the practice of calling any transgene read [1]_ [2]_: the transcript is scarce,
    so a higher threshold loses many true CAR+ cells, while ambient RNA adds few false ones
    in sorted material.

    Parameters
    ----------
    adata
        Cells by features with raw counts in ``X`` or in ``layer``.
    features
        Transgene feature name(s) in ``var_names``; UMIs are summed over them.
    min_umi
        Minimum summed UMIs for a CAR+ call (>= 1).
    layer
        Layer with raw counts. Default: ``layers["counts"]`` when present, else ``X``.
    key_added
        ``obs`` column for the flag.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    AnnData | None
        A copy when ``copy=True``. Writes ``obs["car_umi"]`` (summed transgene UMIs),
        ``obs[key_added]`` (bool) and ``uns["v2v_car"]``: ``params``, ``n_cells``,
        ``n_car_positive``, ``fraction``, ``caveat`` and ``per_sample`` (a DataFrame with
        ``n_cells``, ``n_car_positive``, ``fraction`` by ``obs["sample"]`` when present).

    Raises
    ------
    InvalidInputError
        When a feature is missing, ``min_umi`` < 1, or the matrix is not raw counts.

    References
    ----------
    .. [1] Anderson ND et al. (2023) Transcriptional signatures associated with persisting
       CD19 CAR-T cells in children with leukemia. Nat Med 29:1700-1709.
       doi:10.1038/s41591-023-02415-3
    .. [2] Sheih A et al. (2020) Clonal kinetics and single-cell transcriptional profiling of
       CAR-T cells in patients undergoing CD19 CAR-T immunotherapy. Nat Commun 11:219.
       doi:10.1038/s41467-019-13880-1 (CAR transcripts detected in only part of the cells).
    """
    if min_umi < 1:
        msg = f"min_umi must be at least 1, got {min_umi}"
        raise InvalidInputError(msg, field="min_umi")
    feats = [features] if isinstance(features, str) else list(features)
    missing = [f for f in feats if f not in adata.var_names]
    if not feats or missing:
        msg = f"transgene feature(s) not in var_names: {', '.join(missing) or '(none given)'}"
        raise InvalidInputError(msg, field="features")
    adata = adata.copy() if copy else adata
    idx = adata.var_names.get_indexer(feats)
    counts, layer_used = counts_matrix(adata, layer=layer, columns=idx)
    umi = np.asarray(counts.sum(axis=1)).ravel()
    flag = umi >= min_umi
    adata.obs["car_umi"] = umi.astype(np.int64)
    adata.obs[key_added] = flag
    result: dict[str, Any] = {
        "params": {
            "features": feats,
            "min_umi": int(min_umi),
            "layer": layer_used,
            "key_added": key_added,
        },
        "n_cells": int(adata.n_obs),
        "n_car_positive": int(flag.sum()),
        "fraction": float(flag.mean()) if adata.n_obs else float("nan"),
        "caveat": CAR_CAVEAT,
    }
    if "sample" in adata.obs:
        grouped = pd.DataFrame({"sample": adata.obs["sample"].astype(str).to_numpy(), "car": flag})
        table = grouped.groupby("sample")["car"].agg(["size", "sum", "mean"])
        table.columns = pd.Index(["n_cells", "n_car_positive", "fraction"])
        table.index.name = "sample"
        result["per_sample"] = table.astype({"n_cells": "int64", "n_car_positive": "int64"})
    adata.uns["v2v_car"] = result
    v2vlog.info(
        f"{result['n_car_positive']} of {result['n_cells']} cells CAR+; "
        f'stored in adata.obs["{key_added}"]'
    )
    return adata if copy else None

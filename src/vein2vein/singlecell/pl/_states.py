"""Plots of cell states, CAR+ cells and signature scores (matplotlib Figures, no pyplot)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.figure import Figure

from ...errors import InvalidInputError

__all__ = ["signature_violins", "umap_states"]

_TITLES = {"v2v_state": "cell state", "car_positive": "CAR+ cell", "v2v_lineage": "lineage"}


def umap_states(adata: AnnData, *, color: Sequence[str] = ("v2v_state", "car_positive")) -> Figure:
    """UMAP coloured by categorical ``obs`` columns (default: state and CAR+), one panel each.

    Parameters
    ----------
    adata
        After :func:`~vein2vein.singlecell.pp.embed` (``obsm["X_umap"]``) and the calls.
    color
        ``obs`` columns to colour by, one panel per column.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown; save it or embed it in a report).

    References
    ----------
    .. [1] McInnes L, Healy J, Melville J (2018) UMAP: uniform manifold approximation and
       projection for dimension reduction. arXiv:1802.03426
    """
    if "X_umap" not in adata.obsm:
        msg = 'no obsm["X_umap"]: run pp.embed first'
        raise InvalidInputError(msg, field="X_umap")
    xy = np.asarray(adata.obsm["X_umap"])
    fig = Figure(figsize=(6.0 * len(color), 4.5), layout="constrained")
    axes = fig.subplots(1, len(color), squeeze=False)[0]
    for ax, col in zip(axes, color, strict=True):
        if col not in adata.obs:
            msg = f"no obs column {col!r}"
            raise InvalidInputError(msg, field=col)
        values = adata.obs[col].astype(str)
        for label in sorted(values.unique()):
            sel = (values == label).to_numpy()
            ax.scatter(xy[sel, 0], xy[sel, 1], s=4, label=f"{label} ({int(sel.sum())})")
        ax.set_title(f"UMAP by {_TITLES.get(col, col)}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("UMAP1")
        ax.set_ylabel("UMAP2")
        ax.legend(fontsize=7, markerscale=3, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    return fig


def _values(column: pd.Series) -> np.ndarray:
    v = column.dropna().to_numpy(dtype=float)
    return v if v.size > 1 else np.zeros(2)  # violinplot needs two points


def signature_violins(adata: AnnData, *, groupby: str | None = None) -> Figure:
    """Violin plots of every ``obs["v2v_score_*"]`` signature score, optionally by group.

    Parameters
    ----------
    adata
        After :func:`~vein2vein.singlecell.tl.score_signatures`.
    groupby
        ``obs`` column to split each signature by (e.g. ``"v2v_state"``, ``"sample"``).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per signature.
    """
    cols = [c for c in adata.obs.columns if c.startswith("v2v_score_")]
    if not cols:
        msg = "no signature scores in obs: run tl.score_signatures first"
        raise InvalidInputError(msg, field="v2v_score_")
    if groupby is None:  # one panel, one violin per signature
        fig = Figure(figsize=(max(6.0, 1.2 * len(cols)), 3.6), layout="constrained")
        ax = fig.add_subplot()
        data = [_values(adata.obs[c]) for c in cols]
        ax.violinplot(data, showmedians=True)
        ax.set_xticks(range(1, len(cols) + 1), [c.removeprefix("v2v_score_") for c in cols])
        ax.set_xlabel("signature")
        ax.set_ylabel("score")
    else:
        groups = [str(g) for g in adata.obs[groupby].astype(str).unique()]
        fig = Figure(figsize=(max(6.0, 1.2 * len(groups)), 2.2 * len(cols)), layout="constrained")
        axes = fig.subplots(len(cols), 1, squeeze=False)[:, 0]
        labels = adata.obs[groupby].astype(str)
        for ax, col in zip(axes, cols, strict=True):
            ax.violinplot(
                [_values(adata.obs.loc[labels == g, col]) for g in groups], showmedians=True
            )
            ax.set_xticks(range(1, len(groups) + 1), groups, rotation=30, fontsize=7)
            ax.set_ylabel(col.removeprefix("v2v_score_"), fontsize=8)
        axes[-1].set_xlabel(groupby)
    fig.suptitle("signature scores: mean log1p(CP10k) of the set")
    return fig

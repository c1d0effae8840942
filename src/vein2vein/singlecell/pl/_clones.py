"""Plots of clone sizes and of product clones followed over time; they only draw."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...errors import InvalidInputError

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.figure import Figure
    from mudata import MuData

    from ..tl._tracking_result import TrackingResult

__all__ = ["clone_size_distribution", "clonotype_tracking"]


def clone_size_distribution(
    adata: AnnData | MuData,
    *,
    groupby: str = "sample",
    clone_key: str = "clone_id",
    airr_mod: str = "airr",
) -> Figure:
    """Bar chart: fraction of cells per expansion class (1, 2, 3-10, >10 cells) per group.

    Draws ``obs["clonal_expansion"]`` as written by
    :func:`~vein2vein.singlecell.tl.define_clonotypes`.

    Parameters
    ----------
    adata
        AnnData or MuData with clonotypes, or an AnnData whose ``obs`` holds
        ``clonal_expansion`` and ``clone_key`` (the profile pipeline's GEX cells).
    groupby
        ``obs`` column of the groups (one bar each; all cells when absent).
    clone_key
        Clonotype column (cells without a clone are left out).
    airr_mod
        AIRR modality of a MuData.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    InvalidInputError
        Without ``obs["clonal_expansion"]``.
    """
    from anndata import AnnData
    from matplotlib.figure import Figure

    from ..tl._clonotypes import EXPANSION_CLASSES, airr_adata

    if isinstance(adata, AnnData) and "clonal_expansion" in adata.obs:
        obs = adata.obs  # GEX cells with clonotypes copied in (as the profile pipeline does)
    else:
        obs = airr_adata(adata, airr_mod=airr_mod).obs
    if "clonal_expansion" not in obs or clone_key not in obs:
        reason = "no expansion classes: run tl.define_clonotypes first"
        raise InvalidInputError(reason, field="clonal_expansion")
    obs = obs.loc[obs[clone_key].notna()]
    groups = obs[groupby].astype(str) if groupby in obs else pd.Series("all", obs.index)
    table = pd.crosstab(groups, obs["clonal_expansion"].astype(str), normalize="index")
    table = table.reindex(columns=list(EXPANSION_CLASSES), fill_value=0.0)
    fig = Figure(figsize=(max(5.0, 0.6 * len(table) + 3.5), 4))
    ax = fig.add_subplot()
    bottom = np.zeros(len(table))
    for cls in EXPANSION_CLASSES:
        ax.bar(
            table.index, table[cls], bottom=bottom, label=f"{cls} cell{'' if cls == '1' else 's'}"
        )
        bottom += table[cls].to_numpy()
    ax.set_ylabel("fraction of cells with a TCR")
    ax.set_xlabel(groupby if groupby in obs else "")
    ax.set_title("Clone-size distribution")
    ax.legend(title="clone size", fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
    ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    return fig


def clonotype_tracking(result: TrackingResult) -> Figure:
    """Two panels over months: fraction of cells in product clones; top clones' frequency.

    Parameters
    ----------
    result
        From :func:`~vein2vein.singlecell.tl.track_clones`.

    Returns
    -------
    matplotlib.figure.Figure
        Left: fraction of cells (and of CAR+ cells, where called) in product clones per
        sample. Right: frequency of each of the top product clones (log scale; absent
        clones drawn at the axis floor).
    """
    from matplotlib.figure import Figure

    frame = result.to_frame()
    fig = Figure(figsize=(12, 4.2))
    left, right = fig.subplots(1, 2, width_ratios=(1, 1.3))
    left.plot(frame["months"], frame["fraction_in_product_clones"], "o", label="all cells")
    car = frame["fraction_car_positive_in_product_clones"]
    if car.notna().any():
        left.plot(frame["months"], car, "s", mfc="none", label="CAR+ cells")
    left.set_xlabel("months after infusion")
    left.set_ylabel("fraction in product clones")
    left.set_ylim(0, 1.05)
    left.legend(fontsize="small")
    top = result.top_clones
    positive = top.loc[top["frequency"] > 0, "frequency"]
    floor = float(positive.min()) / 2 if not positive.empty else 1e-4
    by_time = top.groupby(["rank", "clone_id", "months"], as_index=False)["frequency"].max()
    for (rank, clone), rows in by_time.groupby(["rank", "clone_id"]):
        right.plot(
            rows["months"],
            rows["frequency"].clip(lower=floor),
            "-o",
            ms=3,
            label=f"#{rank} ({clone})",
        )
    right.set_yscale("log")
    right.set_xlabel("months after infusion")
    right.set_ylabel("clone frequency in sample")
    right.legend(title="product clone", fontsize="x-small", loc="upper left", bbox_to_anchor=(1, 1))
    title = f"Product clones of {result.patient}" if result.patient else "Product clones"
    fig.suptitle(title)
    fig.tight_layout()
    return fig

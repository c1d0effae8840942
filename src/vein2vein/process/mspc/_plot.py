"""Plots of batch MSPC results. Only draws; matplotlib is imported inside the functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...errors import InvalidInputError
from ._results import MonitoringResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_contributions", "plot_monitoring"]


def plot_monitoring(
    result: MonitoringResult, ax: Sequence[Axes] | None = None
) -> tuple[Axes, Axes]:
    """Draw the online T² and SPE charts of a running batch with their limits.

    Parameters
    ----------
    result
        From :meth:`~vein2vein.process.mspc.BatchMSPC.monitor`.
    ax
        Two axes (T², SPE). Default: a new figure with two stacked axes
        (``axes[0].figure`` to save it).

    Returns
    -------
    tuple of Axes
        The T² and SPE axes.
    """
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 5), layout="constrained")
        axes = fig.subplots(2, 1, sharex=True)
        ax_t2, ax_spe = axes[0], axes[1]
    else:
        if len(ax) != 2:
            msg = "plot_monitoring draws two panels (T², SPE): pass two axes"
            raise InvalidInputError(msg, field="ax")
        ax_t2, ax_spe = ax[0], ax[1]
    f = result.frame
    for a, name, label in ((ax_t2, "T2", "T²"), (ax_spe, "SPE", "SPE")):
        a.plot(f["time"], f[name], marker="o", markersize=3, color="C0", label=label)
        a.plot(f["time"], f[f"{name}_limit_95"], ls="--", color="C1", label="95 % limit")
        a.plot(f["time"], f[f"{name}_limit_99"], ls="-", color="C3", label="99 % limit")
        alarm = f[f"{name}_alarm_99"].to_numpy(dtype=bool)
        a.scatter(f["time"][alarm], f[name][alarm], color="C3", zorder=3, label="alarm (99 %)")
        a.set_ylabel(label)
        a.legend(loc="upper left", fontsize="small")
    ax_t2.set_title(f"batch {result.batch} ({result.method} completion)")
    ax_spe.set_xlabel("time since step start (h)")
    return ax_t2, ax_spe


def plot_contributions(contributions: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Draw contributions as a heat map of parameter by time.

    Parameters
    ----------
    contributions
        From :meth:`~vein2vein.process.mspc.BatchMSPC.contributions`.
    ax
        Axes to draw in. Default: a new figure.

    Returns
    -------
    Axes
        The axes drawn in.
    """
    for col in ("parameter", "time", "contribution", "statistic"):
        if col not in contributions.columns:
            msg = f"the contribution frame lacks the column {col!r}"
            raise InvalidInputError(msg, field=col)
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(8, 3.5), layout="constrained").subplots()
    params = list(pd.unique(contributions["parameter"]))
    table = contributions.pivot_table(
        index="parameter", columns="time", values="contribution", sort=False
    ).reindex(params)
    values = table.to_numpy(dtype=float)
    times = table.columns.to_numpy(dtype=float)
    statistic = str(contributions["statistic"].iloc[0])
    if statistic == "T2":
        bound = float(np.nanmax(np.abs(values))) or 1.0
        image = ax.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound)
    else:
        image = ax.imshow(values, aspect="auto", cmap="viridis")
    ticks = np.linspace(0, times.size - 1, min(times.size, 8)).round().astype(int)
    ax.set_xticks(ticks, [f"{times[i]:.0f}" for i in ticks])
    ax.set_yticks(range(len(params)), params)
    ax.set_xlabel("time since step start (h)")
    ax.set_title(f"contributions to {statistic}")
    ax.figure.colorbar(image, ax=ax, label="contribution")
    return ax

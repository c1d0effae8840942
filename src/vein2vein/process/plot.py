"""Plots of process monitoring (matplotlib, imported lazily): draw only, no analysis."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..support import save_figure

__all__ = ["plot_control_chart"]


def plot_control_chart(
    frame: pd.DataFrame,
    *,
    center: float | None,
    lcl: float | None,
    ucl: float | None,
    title: str,
    unit: str = "",
    flagged: Sequence[int] = (),
    out: str | Path | None = None,
) -> Any:
    """Draw window means against their control limits; flagged points in red.

    Parameters
    ----------
    frame
        ``window_start`` and ``value`` columns (from ``monitor.chart_frame``).
    center, lcl, ucl
        The limits to draw (``None`` draws none).
    title
        Figure title.
    unit
        Axis unit.
    flagged
        Positions of points that completed a rule violation.
    out
        Write the figure here (PNG, SVG or PDF by suffix) and close it.
    """
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.6), layout="constrained")
    x = pd.to_datetime(frame["window_start"])
    ax.plot(x, frame["value"], marker="o", markersize=3, linewidth=1, color="#1f4e79")
    if flagged:
        idx = list(flagged)
        ax.scatter(
            x.iloc[idx],
            frame["value"].iloc[idx],
            color="#c00000",
            zorder=3,
            s=22,
            label="rule violation",
        )
        ax.legend(loc="best", fontsize=8)
    for value, style, label in ((center, "-", "CL"), (lcl, "--", "LCL"), (ucl, "--", "UCL")):
        if value is not None:
            ax.axhline(value, linestyle=style, color="#555555", linewidth=1)
            ax.annotate(
                f"{label} {value:.4g}",
                (1.0, value),
                xycoords=("axes fraction", "data"),
                fontsize=7,
                va="bottom",
                ha="right",
                color="#555555",
            )
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit or "value")
    ax.grid(alpha=0.25)
    if out is not None:
        save_figure(fig, out)
    return fig

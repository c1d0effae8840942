"""Control charts: Shewhart (I-MR, X-bar/R, X-bar/s), EWMA, CUSUM and residual charts.

Every chart function takes the data first and keyword-only options, and returns a
:class:`~vein2vein.process.ChartResult`: the plotted statistic per point, center line,
limits per point, sigma, the phase (I/II) of each point, the parameters and the rule
violations, with the :class:`~vein2vein.process.ControlLimits` behind them.

Phases
------
* ``phase1=None`` (default): all points set *trial* limits (Phase I).
* ``phase1=m``: the first ``m`` points (subgroups) set the limits; the rest are monitored
  against them (Phase II).
* ``limits=ControlLimits(...)``: limits set earlier (stored, versioned) are used as they
  are and every point is Phase II. :func:`limits_from` makes such an object.

The implementations live in ``_shewhart.py``, ``_weighted.py`` and ``_residual.py``, on
the input checks of ``_common.py`` and the constants of ``_constants.py``; this package
is their public face.

Imports: ``process.rules`` and ``process._results`` (the result types), ``errors``; never
the system of record. :mod:`vein2vein.process.capability` uses the constants and input
checks.
"""

from __future__ import annotations

from typing import Any

from ...errors import InvalidInputError
from .._results import ControlLimits
from ._residual import residual_chart
from ._shewhart import imr, xbar_r, xbar_s
from ._weighted import cusum, ewma

__all__ = [
    "CHART_KINDS",
    "cusum",
    "ewma",
    "imr",
    "limits_from",
    "residual_chart",
    "xbar_r",
    "xbar_s",
]

#: Chart kinds that :func:`limits_from` (and the stored limits) know.
CHART_KINDS: tuple[str, ...] = ("imr", "xbar_r", "xbar_s", "ewma", "cusum", "residual_imr")


def _kind(chart: str) -> str:
    key = str(chart).strip().casefold().replace("-", "_")
    if key not in CHART_KINDS:
        msg = f"unknown chart {chart!r}; use one of {', '.join(CHART_KINDS)}"
        raise InvalidInputError(msg, field="chart")
    return key


def limits_from(
    data: Any,
    *,
    chart: str = "imr",
    width: float = 3.0,
    lam: float = 0.2,
    k: float = 0.5,
    h: float = 5.0,
    target: float | None = None,
    sigma: float | None = None,
    order: int = 1,
) -> ControlLimits:
    """Set control limits from Phase I data, ready to store and to monitor against.

    Parameters
    ----------
    data
        Individual values (``imr``, ``ewma``, ``cusum``, ``residual_imr``) or subgroups
        (``xbar_r``, ``xbar_s``: a 2-D array or a ``subgroup,value`` frame). All of it is
        Phase I.
    chart
        ``"imr"``, ``"xbar_r"``, ``"xbar_s"``, ``"ewma"``, ``"cusum"`` or
        ``"residual_imr"`` (hyphens accepted: ``"xbar-r"``).
    width
        Limit width in sigmas (Shewhart, residual and EWMA charts).
    lam
        EWMA weight.
    k, h
        CUSUM reference value and decision interval, in sigmas.
    target, sigma
        Known in-control mean and sigma for EWMA/CUSUM (estimated when ``None``).
    order
        AR order of a residual chart.

    Returns
    -------
    ControlLimits
        Serialisable with ``to_dict()``/``from_dict()``; pass it as ``limits=`` to the chart
        function of the same kind to monitor new data (Phase II).

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
       Wiley. Chapter 5 (Phase I and Phase II of control chart application).

    Examples
    --------
    >>> lim = limits_from([10.0, 12.0, 11.0, 13.0, 12.0], chart="imr")
    >>> imr([11.0, 30.0], limits=lim).violations[0].index
    1
    """
    kind = _kind(chart)
    if kind == "imr":
        return imr(data, rules=None, width=width).limits
    if kind == "xbar_r":
        return xbar_r(data, rules=None, width=width).limits
    if kind == "xbar_s":
        return xbar_s(data, rules=None, width=width).limits
    if kind == "ewma":
        phase1 = _all(data)
        return ewma(data, lam=lam, width=width, target=target, sigma=sigma, phase1=phase1).limits
    if kind == "cusum":
        return cusum(data, k=k, h=h, target=target, sigma=sigma, phase1=_all(data)).limits
    return residual_chart(data, order=order, rules=None, width=width).limits


def _all(data: Any) -> int | None:
    """All points as Phase I (also when target and sigma are both known)."""
    try:
        return len(data)
    except TypeError:
        return None

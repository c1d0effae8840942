"""Shewhart charts: individuals and moving range (I-MR), X-bar and R, X-bar and s."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._results import ChartResult, ControlLimits, FloatArray, SecondaryLimits
from ..rules import resolve_rules
from ._common import (
    RuleArg,
    as_subgroups,
    as_values,
    build_chart,
    check_limits,
    check_width,
    positive_sigma,
    split_phase,
)
from ._constants import chart_constants

__all__ = ["imr", "imr_core", "xbar_r", "xbar_s"]


def imr_core(
    x: FloatArray,
    labels: tuple[str, ...],
    *,
    n1: int,
    phase: tuple[str, ...],
    limits: ControlLimits | None,
    rules: RuleArg,
    width: float,
    kind: str = "imr",
    names: tuple[str, str] = ("individuals", "moving_range"),
    extra_params: dict[str, Any] | None = None,
    extras: dict[str, FloatArray] | None = None,
) -> ChartResult:
    """I-MR on ``x`` (leading NaNs allowed: points without a value, e.g. AR start-up)."""
    k2 = chart_constants(2)
    mr = np.full(x.shape, np.nan)
    mr[1:] = np.abs(np.diff(x))
    if limits is None:
        base = x[:n1]
        base_mr = mr[1:n1]
        base_mr = base_mr[np.isfinite(base_mr)]
        center = float(np.nanmean(base))
        mr_bar = float(np.mean(base_mr))
        sigma = positive_sigma(mr_bar / k2.d2, "MR-bar / d2")
        mr_lcl = max(0.0, mr_bar - width * k2.d3 * sigma)
        mr_ucl = mr_bar + width * k2.d3 * sigma
        params: dict[str, Any] = {
            "width": width,
            "sigma_estimator": "MRbar/d2",
            "mr_bar": mr_bar,
            "d2": k2.d2,
            "d3": k2.d3,
            **(extra_params or {}),
        }
        limits = ControlLimits(
            chart=kind,
            center=center,
            lcl=center - width * sigma,
            ucl=center + width * sigma,
            sigma=sigma,
            n=int(np.isfinite(base).sum()),
            params=params,
            secondary=SecondaryLimits(names[1], mr_bar, mr_lcl, mr_ucl),
        )
    secondary = limits.secondary
    if secondary is None:
        mr_bar = k2.d2 * limits.sigma
        secondary = SecondaryLimits(
            names[1],
            mr_bar,
            max(0.0, mr_bar - limits.params.get("width", 3.0) * k2.d3 * limits.sigma),
            mr_bar + limits.params.get("width", 3.0) * k2.d3 * limits.sigma,
        )
    chart_params = {**limits.params, "rules": list(resolve_rules(rules))}
    individuals = build_chart(
        names[0],
        x,
        center=limits.center,
        lcl=limits.lcl,
        ucl=limits.ucl,
        sigma=limits.sigma,
        sigma_statistic=limits.sigma,
        phase=phase,
        labels=labels,
        rules=rules,
        params=chart_params,
        extras=extras,
    )
    moving_range = build_chart(
        names[1],
        mr,
        center=secondary.center,
        lcl=secondary.lcl,
        ucl=secondary.ucl,
        sigma=limits.sigma,
        sigma_statistic=k2.d3 * limits.sigma,
        phase=phase,
        labels=labels,
        rules=rules,
        dispersion=True,
        params=chart_params,
    )
    return ChartResult(kind=kind, charts=(individuals, moving_range), limits=limits)


def imr(
    values: Any,
    *,
    phase1: int | None = None,
    limits: ControlLimits | None = None,
    rules: RuleArg = "nelson",
    width: float = 3.0,
) -> ChartResult:
    """Individuals and moving-range (I-MR) charts, for one value per lot.

    Sigma is estimated as MR-bar / d2(2) from the moving ranges of consecutive Phase I
    values; the individuals limits are ``center +/- width * sigma`` (with ``width = 3``,
    ``x-bar +/- E2 MR-bar``), the moving-range limits ``D3 MR-bar`` and ``D4 MR-bar``.

    Parameters
    ----------
    values
        Individual values in time order (a sequence, an array or a :class:`pandas.Series`,
        whose index labels the points).
    phase1
        Number of leading values that set the limits (Phase I); the rest are monitored
        against them (Phase II). ``None``: all values set trial limits.
    limits
        Stored limits (:class:`ControlLimits` of kind ``"imr"``) to monitor every value
        against, instead of estimating (Phase II only).
    rules
        Run rules for the individuals chart: ``"nelson"``, ``"western_electric"``, a list
        of rule ids, or ``None``. The moving-range chart gets only the beyond-limits rule.
    width
        Limit width in sigmas (3 for the usual Shewhart limits).

    Returns
    -------
    ChartResult
        Charts ``"individuals"`` and ``"moving_range"`` and the limits (kind ``"imr"``).

    Raises
    ------
    InvalidInputError
        Non-finite values, fewer than 2 Phase I values, Phase I values that do not vary,
        or limits of another chart kind.

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
       Wiley. Section 6.4, "The Shewhart control chart for individual measurements",
       Appendix VI for d2, D3, D4.
    .. [2] NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.2.2,
       "Control charts for individual measurements".

    Examples
    --------
    >>> res = imr([10.0, 12.0, 11.0, 13.0, 12.0])
    >>> round(res.limits.sigma, 4)  # MR-bar = 1.5, d2(2) = 1.1284
    1.3293
    """
    x, labels = as_values(values)
    width = check_width(width)
    if limits is not None:
        check_limits(limits, "imr")
    n1, phase = split_phase(x.size, phase1=phase1, limits=limits, minimum=2)
    return imr_core(x, labels, n1=n1, phase=phase, limits=limits, rules=rules, width=width)


def _xbar_pair(
    subgroups: Any,
    *,
    kind: str,
    phase1: int | None,
    limits: ControlLimits | None,
    rules: RuleArg,
    width: float,
) -> ChartResult:
    data, labels = as_subgroups(subgroups)
    width = check_width(width)
    m, n = data.shape
    if limits is not None:
        check_limits(limits, kind, subgroup_size=n)
    n1, phase = split_phase(m, phase1=phase1, limits=limits, minimum=2, unit="subgroups")
    k = chart_constants(n)
    means = data.mean(axis=1)
    if kind == "xbar_r":
        spread = data.max(axis=1) - data.min(axis=1)
        name, bias, spread_sd = "range", k.d2, k.d3
        estimator = "Rbar/d2"
    else:
        spread = data.std(axis=1, ddof=1)
        name, bias, spread_sd = "stdev", k.c4, math.sqrt(1.0 - k.c4**2)
        estimator = "sbar/c4"
    if limits is None:
        center = float(means[:n1].mean())
        spread_bar = float(spread[:n1].mean())
        sigma = positive_sigma(spread_bar / bias, estimator)
        half = width * sigma / math.sqrt(n)
        constants = (
            {"d2": k.d2, "d3": k.d3, "A2": k.A2, "D3": k.D3, "D4": k.D4}
            if kind == "xbar_r"
            else {"c4": k.c4, "A3": k.A3, "B3": k.B3, "B4": k.B4}
        )
        limits = ControlLimits(
            chart=kind,
            center=center,
            lcl=center - half,
            ucl=center + half,
            sigma=sigma,
            n=n1,
            subgroup_size=n,
            params={
                "width": width,
                "sigma_estimator": estimator,
                ("r_bar" if kind == "xbar_r" else "s_bar"): spread_bar,
                **constants,
            },
            secondary=SecondaryLimits(
                name,
                spread_bar,
                max(0.0, spread_bar - width * spread_sd * sigma),
                spread_bar + width * spread_sd * sigma,
            ),
        )
    assert limits.secondary is not None
    chart_params = {**limits.params, "rules": list(resolve_rules(rules))}
    xbar = build_chart(
        "xbar",
        means,
        center=limits.center,
        lcl=limits.lcl,
        ucl=limits.ucl,
        sigma=limits.sigma,
        sigma_statistic=limits.sigma / math.sqrt(n),
        phase=phase,
        labels=labels,
        rules=rules,
        params=chart_params,
    )
    dispersion = build_chart(
        name,
        spread,
        center=limits.secondary.center,
        lcl=limits.secondary.lcl,
        ucl=limits.secondary.ucl,
        sigma=limits.sigma,
        sigma_statistic=spread_sd * limits.sigma,
        phase=phase,
        labels=labels,
        rules=rules,
        dispersion=True,
        params=chart_params,
    )
    return ChartResult(kind=kind, charts=(xbar, dispersion), limits=limits)


def xbar_r(
    subgroups: Any,
    *,
    phase1: int | None = None,
    limits: ControlLimits | None = None,
    rules: RuleArg = "nelson",
    width: float = 3.0,
) -> ChartResult:
    """X-bar and R charts for subgroups of equal size n = 2..25.

    Sigma is estimated as R-bar / d2(n); X-bar limits are ``x-double-bar +/- A2 R-bar``
    and R limits ``D3 R-bar``, ``D4 R-bar`` (for ``width = 3``; other widths scale the
    same sigma estimates).

    Parameters
    ----------
    subgroups
        A 2-D array (one row per subgroup, in time order) or a long
        :class:`pandas.DataFrame` with columns ``subgroup`` and ``value`` (subgroups in
        order of first appearance). Subgroups of unequal size are refused with an
        :class:`~vein2vein.errors.InvalidInputError` listing the sizes: the constants and
        the constant limits here assume a single ``n``.
    phase1
        Number of leading subgroups that set the limits (Phase I); later subgroups are
        monitored (Phase II). ``None``: all subgroups set trial limits.
    limits
        Stored limits of kind ``"xbar_r"`` and the same subgroup size to monitor against.
    rules
        Run rules for the X-bar chart (the R chart gets only the beyond-limits rule).
    width
        Limit width in sigmas.

    Returns
    -------
    ChartResult
        Charts ``"xbar"`` and ``"range"`` and the limits (kind ``"xbar_r"``).

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
       Wiley. Section 6.2.1; Appendix VI.
    .. [2] ASTM E2587-16, Standard Practice for Use of Control Charts in Statistical
       Process Control, section 8.

    Examples
    --------
    >>> res = xbar_r([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [1.5, 2.5, 2.0]])
    >>> res.names
    ('xbar', 'range')
    """
    return _xbar_pair(
        subgroups, kind="xbar_r", phase1=phase1, limits=limits, rules=rules, width=width
    )


def xbar_s(
    subgroups: Any,
    *,
    phase1: int | None = None,
    limits: ControlLimits | None = None,
    rules: RuleArg = "nelson",
    width: float = 3.0,
) -> ChartResult:
    """X-bar and s charts for subgroups of equal size n = 2..25.

    Sigma is estimated as s-bar / c4(n) (subgroup standard deviations with ``ddof=1``);
    X-bar limits are ``x-double-bar +/- A3 s-bar`` and s limits ``B3 s-bar``, ``B4 s-bar``
    (for ``width = 3``).

    Parameters
    ----------
    subgroups
        As for :func:`xbar_r` (unequal sizes are refused).
    phase1
        Number of leading subgroups that set the limits (Phase I).
    limits
        Stored limits of kind ``"xbar_s"`` and the same subgroup size.
    rules
        Run rules for the X-bar chart (the s chart gets only the beyond-limits rule).
    width
        Limit width in sigmas.

    Returns
    -------
    ChartResult
        Charts ``"xbar"`` and ``"stdev"`` and the limits (kind ``"xbar_s"``).

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
       Wiley. Section 6.3.1; Example 6.3 (piston rings).
    .. [2] ASTM E2587-16, section 8.
    """
    return _xbar_pair(
        subgroups, kind="xbar_s", phase1=phase1, limits=limits, rules=rules, width=width
    )

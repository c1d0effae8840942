"""Time-weighted charts for individual values: EWMA and the tabular CUSUM."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...errors import InvalidInputError
from .._results import ChartResult, ControlLimits, FloatArray, Violation
from ._common import as_values, build_chart, check_limits, positive_sigma, split_phase
from ._constants import chart_constants

__all__ = ["cusum", "ewma"]


def _finite(value: float | None, field: str, *, positive: bool = False) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number) or (positive and number <= 0):
        need = "a positive number" if positive else "a finite number"
        msg = f"{field} must be {need}, not {value!r}"
        raise InvalidInputError(msg, field=field)
    return number


def _estimate(
    x: FloatArray, n1: int, target: float | None, sigma: float | None
) -> tuple[float, float, dict[str, Any]]:
    """Target (Phase I mean) and sigma (MR-bar / d2) where not given."""
    base = x[:n1]
    info: dict[str, Any] = {}
    if target is None:
        target = float(base.mean())
        info["target_source"] = "Phase I mean"
    else:
        info["target_source"] = "given"
    if sigma is None:
        mr_bar = float(np.abs(np.diff(base)).mean())
        sigma = positive_sigma(mr_bar / chart_constants(2).d2, "MR-bar / d2")
        info["sigma_estimator"] = "MRbar/d2"
        info["mr_bar"] = mr_bar
    else:
        info["sigma_estimator"] = "given"
    return target, sigma, info


def _phases(
    x: FloatArray,
    *,
    phase1: int | None,
    limits: ControlLimits | None,
    target: float | None,
    sigma: float | None,
) -> tuple[int, tuple[str, ...]]:
    known = target is not None and sigma is not None
    minimum = 1 if sigma is not None else 2
    return split_phase(x.size, phase1=phase1, limits=limits, minimum=minimum, known=known)


def ewma(
    values: Any,
    *,
    lam: float = 0.2,
    width: float = 3.0,
    target: float | None = None,
    sigma: float | None = None,
    phase1: int | None = None,
    limits: ControlLimits | None = None,
) -> ChartResult:
    """EWMA chart of individual values with exact, time-varying limits.

    ``z_0 = target``, ``z_i = lam * x_i + (1 - lam) * z_(i-1)``, and the limits at point
    ``i`` (1-based) are

    ``target +/- width * sigma * sqrt(lam / (2 - lam) * (1 - (1 - lam)^(2 i)))``,

    which approach the asymptotic limits ``target +/- width * sigma * sqrt(lam / (2 - lam))``
    that the NIST handbook tabulates. A point signals (rule id ``"EWMA"``) when ``z_i`` is
    outside its own limits. The recursion starts at the first value given, also when
    monitoring against stored limits.

    Parameters
    ----------
    values
        Individual values in time order.
    lam
        Weight of the newest value, 0 < lam <= 1 (lam = 1 is the Shewhart individuals chart).
    width
        Limit width L in sigmas of the EWMA statistic.
    target
        In-control mean; ``None``: the mean of the Phase I values.
    sigma
        In-control standard deviation of one value; ``None``: MR-bar / d2(2) of the Phase I
        values.
    phase1
        Number of leading values used to estimate ``target``/``sigma``. ``None``: all
        values, unless both ``target`` and ``sigma`` are given (then every point is Phase II).
    limits
        Stored limits of kind ``"ewma"``: target, sigma, ``lam`` and ``width`` come from
        them (the ``lam`` and ``width`` arguments are then ignored).

    Returns
    -------
    ChartResult
        One chart ``"ewma"`` (the EWMA statistic with per-point limits; extra column
        ``value``) and the limits (kind ``"ewma"``, asymptotic ``lcl``/``ucl``).

    References
    ----------
    .. [1] NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.2.4,
       "EWMA control charts".
    .. [2] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
       Wiley. Section 9.2 (the EWMA control chart), Example 9.2.
    .. [3] Lucas, J. M. and Saccucci, M. S. (1990). Exponentially weighted moving average
       control schemes: properties and enhancements. Technometrics 32(1), 1-12.
    """
    x, labels = as_values(values)
    if limits is not None:
        check_limits(limits, "ewma")
        if target is not None or sigma is not None:
            msg = "target and sigma come from the stored limits; do not give both"
            raise InvalidInputError(msg, field="limits")
        lam = float(limits.params.get("lam", lam))
        width = float(limits.params.get("width", width))
    lam_value = _finite(lam, "lam", positive=True)
    assert lam_value is not None
    if lam_value > 1:
        msg = f"lam must be in (0, 1], not {lam}"
        raise InvalidInputError(msg, field="lam")
    width_value = _finite(width, "width", positive=True)
    assert width_value is not None
    target = _finite(target, "target")
    sigma = _finite(sigma, "sigma", positive=True)
    n1, phase = _phases(x, phase1=phase1, limits=limits, target=target, sigma=sigma)
    if limits is None:
        mu0, sd, info = _estimate(x, n1, target, sigma)
        half_asym = width_value * sd * math.sqrt(lam_value / (2.0 - lam_value))
        limits = ControlLimits(
            chart="ewma",
            center=mu0,
            lcl=mu0 - half_asym,
            ucl=mu0 + half_asym,
            sigma=sd,
            n=n1,
            params={"lam": lam_value, "width": width_value, **info},
        )
    mu0, sd = limits.center, limits.sigma
    z = np.empty_like(x)
    prev = mu0
    for j, value in enumerate(x):
        prev = lam_value * value + (1.0 - lam_value) * prev
        z[j] = prev
    steps = np.arange(1, x.size + 1)
    factor = np.sqrt(lam_value / (2.0 - lam_value) * (1.0 - (1.0 - lam_value) ** (2 * steps)))
    lcl = mu0 - width_value * sd * factor
    ucl = mu0 + width_value * sd * factor
    sigma_asym = sd * math.sqrt(lam_value / (2.0 - lam_value))
    found = []
    for hit in np.flatnonzero((z > ucl) | (z < lcl)):
        i = int(hit)
        side = "above the upper" if z[i] > ucl[i] else "below the lower"
        bound = ucl[i] if z[i] > ucl[i] else lcl[i]
        found.append(
            Violation(
                rule="EWMA",
                description=(
                    f"EWMA: z = {z[i]:.6g} is {side} limit {bound:.6g} "
                    f"(lambda {lam_value:g}, L {width_value:g})"
                ),
                index=int(i),
                points=(int(i),),
                values=(float(z[i]),),
                center=mu0,
                sigma=sigma_asym,
                lcl=float(lcl[i]),
                ucl=float(ucl[i]),
            )
        )
    chart = build_chart(
        "ewma",
        z,
        center=mu0,
        lcl=lcl,
        ucl=ucl,
        sigma=sd,
        sigma_statistic=sigma_asym,
        phase=phase,
        labels=labels,
        rules=None,
        params=dict(limits.params),
        extras={"value": x},
        violations=found,
    )
    return ChartResult(kind="ewma", charts=(chart,), limits=limits)


def _tabular(z: FloatArray, k: float) -> tuple[FloatArray, FloatArray]:
    """One-sided sum ``C_i = max(0, z_i - k + C_(i-1))`` and its run count N."""
    c = np.empty_like(z)
    runs = np.empty_like(z)
    prev, count = 0.0, 0
    for i, zi in enumerate(z):
        prev = max(0.0, zi - k + prev)
        count = count + 1 if prev > 0 else 0
        c[i], runs[i] = prev, count
    return c, runs


def cusum(
    values: Any,
    *,
    k: float = 0.5,
    h: float = 5.0,
    target: float | None = None,
    sigma: float | None = None,
    phase1: int | None = None,
    limits: ControlLimits | None = None,
) -> ChartResult:
    """Tabular (two one-sided) CUSUM of individual values, in sigma units.

    With ``z_i = (x_i - target) / sigma``::

        C+_i = max(0, z_i - k + C+_(i-1)),   C-_i = max(0, -z_i - k + C-_(i-1)),

    starting from ``C+_0 = C-_0 = 0``. A point signals (rule id ``"CUSUM"``) while a sum
    exceeds ``h`` (strictly); the sums are not reset after a signal, as in Montgomery's
    Table 9.2. Each violation reports the run count N (periods since the sum was last 0)
    and Montgomery's estimate of the shifted mean, ``target +/- sigma (k + C / N)``.

    Parameters
    ----------
    values
        Individual values in time order.
    k
        Reference value in sigmas (half the shift to detect quickly; 0.5 for a 1-sigma shift).
    h
        Decision interval in sigmas.
    target
        In-control mean; ``None``: the mean of the Phase I values.
    sigma
        In-control standard deviation; ``None``: MR-bar / d2(2) of the Phase I values.
    phase1
        Number of leading values used for the estimates (see :func:`ewma`).
    limits
        Stored limits of kind ``"cusum"`` (target, sigma, ``k``, ``h`` come from them).

    Returns
    -------
    ChartResult
        Charts ``"cusum_upper"`` (C+) and ``"cusum_lower"`` (C-, as a positive sum), each
        with ``lcl = 0`` and ``ucl = h`` and extra columns ``value``, ``data_units``
        (the sum times sigma, i.e. Montgomery's K/H scale) and ``run_length`` (N+ or N-);
        the limits are of kind ``"cusum"`` with ``lcl = -h``, ``ucl = h`` (sigma units).

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
       Wiley. Section 9.1.2, "The tabular or algorithmic CUSUM", Example 9.1, Table 9.2.
    .. [2] NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.2.3,
       "CUSUM control charts".
    .. [3] Page, E. S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100-115.
    """
    x, labels = as_values(values)
    if limits is not None:
        check_limits(limits, "cusum")
        if target is not None or sigma is not None:
            msg = "target and sigma come from the stored limits; do not give both"
            raise InvalidInputError(msg, field="limits")
        k = float(limits.params.get("k", k))
        h = float(limits.params.get("h", h))
    k_value = _finite(k, "k")
    h_value = _finite(h, "h", positive=True)
    assert k_value is not None and h_value is not None
    if k_value < 0:
        msg = f"k must be 0 or more, not {k}"
        raise InvalidInputError(msg, field="k")
    target = _finite(target, "target")
    sigma = _finite(sigma, "sigma", positive=True)
    n1, phase = _phases(x, phase1=phase1, limits=limits, target=target, sigma=sigma)
    if limits is None:
        mu0, sd, info = _estimate(x, n1, target, sigma)
        limits = ControlLimits(
            chart="cusum",
            center=mu0,
            lcl=-h_value,
            ucl=h_value,
            sigma=sd,
            n=n1,
            params={"k": k_value, "h": h_value, "units": "sigma", **info},
        )
    mu0, sd = limits.center, limits.sigma
    z = (x - mu0) / sd
    charts = []
    for name, sign, word in (("cusum_upper", 1.0, "C+"), ("cusum_lower", -1.0, "C-")):
        c, runs = _tabular(sign * z, k_value)
        found = []
        for i in np.flatnonzero(c > h_value):
            shifted = mu0 + sign * sd * (k_value + c[i] / runs[i])
            found.append(
                Violation(
                    rule="CUSUM",
                    description=(
                        f"CUSUM: {word} = {c[i]:.4g} exceeds h = {h_value:g} (sigma units); "
                        f"it has grown for N = {int(runs[i])} points (the shift began "
                        f"before the first of them); estimated mean {shifted:.6g}"
                    ),
                    index=int(i),
                    points=tuple(range(i - int(runs[i]) + 1, int(i) + 1)),
                    values=tuple(float(v) for v in c[i - int(runs[i]) + 1 : i + 1]),
                    center=0.0,
                    sigma=1.0,
                    lcl=0.0,
                    ucl=h_value,
                )
            )
        charts.append(
            build_chart(
                name,
                c,
                center=0.0,
                lcl=0.0,
                ucl=h_value,
                sigma=sd,
                sigma_statistic=1.0,
                phase=phase,
                labels=labels,
                rules=None,
                params=dict(limits.params),
                extras={"value": x, "data_units": c * sd, "run_length": runs},
                violations=found,
            )
        )
    return ChartResult(kind="cusum", charts=tuple(charts), limits=limits)

"""Process capability and performance indices with confidence bounds.

=========  ==========================================  =====================================
index      formula                                     sigma
=========  ==========================================  =====================================
Cp, Pp     (USL - LSL) / (6 sigma)                      within (Cp) / overall (Pp)
Cpk, Ppk   min(USL - mean, mean - LSL) / (3 sigma)      within / overall
Cpl, Ppl   (mean - LSL) / (3 sigma)  (lower limit only) within / overall
Cpu, Ppu   (USL - mean) / (3 sigma)  (upper limit only) within / overall
=========  ==========================================  =====================================

*Within* (short-term) sigma is MR-bar / d2(2) for individual values (one value per lot,
the usual case in autologous cell therapy) or R-bar / d2(n) for subgroups of equal size
n. *Overall* sigma is the sample standard deviation (``ddof=1``) of all values.

Confidence bounds use ``n - 1`` degrees of freedom, ``n`` the number of values
(``chi2_p`` is the p-quantile of the chi-square distribution, ``z`` a standard normal
quantile):

* Cp and Pp: the chi-square interval
  ``C sqrt(chi2_(alpha/2, n-1) / (n-1)) <= C <= C sqrt(chi2_(1-alpha/2, n-1) / (n-1))``
  (Montgomery 2009, section 8.3.5), exact for the sample standard deviation and an
  approximation for MR-bar / d2 or R-bar / d2;
* Cpk, Ppk and the one-sided Cpl, Cpu, Ppl, Ppu: Bissell's normal approximation
  ``C +/- z sqrt(1 / (9 n) + C^2 / (2 (n - 1)))`` (Bissell 1990; Montgomery section 8.3.5
  writes it as ``C [1 +/- z sqrt(1 / (9 n C^2) + 1 / (2 (n - 1)))]``);
* ``lower_bound``: the one-sided lower confidence bound at the same level (``chi2_alpha``
  or ``z_(1-alpha)`` in the formulas above).

The indices assume a stable (in control), approximately normal process; chart it first.

References
----------
.. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
   Wiley. Sections 8.3.1-8.3.5 (capability ratios and their confidence intervals).
.. [2] Bissell, A. F. (1990). How reliable is your capability index? Applied Statistics
   39(3), 331-340.
.. [3] Kotz, S. and Johnson, N. L. (1993). Process Capability Indices. Chapman & Hall.
.. [4] NIST/SEMATECH e-Handbook of Statistical Methods, section 6.1.6, "What is process
   capability?".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats  # type: ignore[import-untyped]

from ..errors import InvalidInputError
from ._results import CapabilityResult, FloatArray, IndexEstimate
from .charts._common import as_values
from .charts._constants import MAX_SUBGROUP, MIN_SUBGROUP, chart_constants

__all__ = ["capability", "capability_by", "cp_interval", "cpk_interval"]

NDArrayInt = NDArray[np.intp]

_CHI2 = "chi-square (n - 1 df)"
_BISSELL = "normal approximation (Bissell 1990)"


def _alpha(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        msg = f"confidence must be between 0 and 1 (e.g. 0.95), not {confidence}"
        raise InvalidInputError(msg, field="confidence")
    return 1.0 - confidence


def _check_n(n: int) -> int:
    if n < 2:
        msg = f"capability needs at least 2 values, {n} given"
        raise InvalidInputError(msg, field="values")
    return int(n)


def cp_interval(value: float, n: int, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """Chi-square confidence bounds of a Cp-type index (Cp, Pp).

    Parameters
    ----------
    value
        The estimated index.
    n
        Number of observations behind its sigma (``n - 1`` degrees of freedom).
    confidence
        Confidence level.

    Returns
    -------
    tuple of float
        ``(lower, upper, lower_bound)``: the two-sided interval and the one-sided lower
        bound at ``confidence``.

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.,
       section 8.3.5 (confidence interval on Cp).

    Examples
    --------
    >>> low, high, _ = cp_interval(2.29, 20)  # Montgomery: 1.57 <= Cp <= 3.01
    >>> round(low, 2), round(high, 2)
    (1.57, 3.01)
    """
    alpha = _alpha(confidence)
    df = _check_n(n) - 1
    lower = value * math.sqrt(stats.chi2.ppf(alpha / 2.0, df) / df)
    upper = value * math.sqrt(stats.chi2.ppf(1.0 - alpha / 2.0, df) / df)
    bound = value * math.sqrt(stats.chi2.ppf(alpha, df) / df)
    return float(lower), float(upper), float(bound)


def cpk_interval(value: float, n: int, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """Bissell's normal-approximation bounds of a Cpk-type index (Cpk, Ppk, Cpl, Cpu, ...).

    Parameters
    ----------
    value
        The estimated index.
    n
        Number of observations.
    confidence
        Confidence level.

    Returns
    -------
    tuple of float
        ``(lower, upper, lower_bound)``.

    References
    ----------
    .. [1] Bissell, A. F. (1990). Applied Statistics 39(3), 331-340.
    .. [2] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.,
       section 8.3.5 (approximate confidence interval on Cpk).

    Examples
    --------
    >>> low, high, _ = cpk_interval(1.33, 20)  # Montgomery: 0.88 <= Cpk <= 1.78
    >>> round(low, 2), round(high, 2)
    (0.88, 1.78)
    """
    alpha = _alpha(confidence)
    n = _check_n(n)
    se = math.sqrt(1.0 / (9.0 * n) + value**2 / (2.0 * (n - 1)))
    z_two = float(stats.norm.ppf(1.0 - alpha / 2.0))
    z_one = float(stats.norm.ppf(1.0 - alpha))
    return value - z_two * se, value + z_two * se, value - z_one * se


def _spec(lsl: float | None, usl: float | None) -> tuple[float | None, float | None]:
    out: list[float | None] = []
    for name, limit in (("lsl", lsl), ("usl", usl)):
        if limit is None:
            out.append(None)
            continue
        number = float(limit)
        if not math.isfinite(number):
            msg = f"{name} must be a finite number, not {limit!r}"
            raise InvalidInputError(msg, field=name)
        out.append(number)
    low, high = out
    if low is None and high is None:
        msg = "give at least one specification limit (lsl, usl or both)"
        raise InvalidInputError(msg, field="usl")
    if low is not None and high is not None and not low < high:
        msg = f"lsl ({low:g}) must be below usl ({high:g})"
        raise InvalidInputError(msg, field="lsl")
    return low, high


def _groups(labels: Any, n: int, field: str) -> list[NDArrayInt]:
    keys = np.asarray(labels, dtype=object)
    if keys.ndim != 1 or keys.size != n:
        msg = f"{field} must give one label per value ({n} values, {keys.size} labels)"
        raise InvalidInputError(msg, field=field)
    order = list(pd.unique(keys))
    return [np.flatnonzero(keys == key) for key in order]


def _within(
    x: FloatArray, subgroups: Any | None, blocks: Sequence[NDArrayInt] | None
) -> tuple[float, str, int]:
    """Within sigma, its method and the subgroup size (1 for individual values)."""
    blocks = list(blocks) if blocks is not None else [np.arange(x.size)]
    if subgroups is None:
        ranges = np.concatenate([np.abs(np.diff(x[b])) for b in blocks])
        if ranges.size == 0:
            msg = "no two consecutive values to form a moving range"
            raise InvalidInputError(msg, field="values")
        sigma = float(ranges.mean()) / chart_constants(2).d2
        method, size = "MRbar/d2", 1
    else:
        keys = np.asarray(subgroups, dtype=object)
        if keys.size != x.size:
            msg = f"subgroups must give one label per value ({x.size} values, {keys.size} labels)"
            raise InvalidInputError(msg, field="subgroups")
        parts = [b[idx] for b in blocks for idx in _groups(keys[b], b.size, "subgroups")]
        sizes = {p.size for p in parts}
        if len(sizes) != 1:
            msg = f"subgroups must all have the same size (sizes found: {sorted(sizes)})"
            raise InvalidInputError(msg, field="subgroups")
        size = sizes.pop()
        if not MIN_SUBGROUP <= size <= MAX_SUBGROUP:
            msg = f"subgroup size {size} is outside {MIN_SUBGROUP}..{MAX_SUBGROUP}"
            raise InvalidInputError(msg, field="subgroups")
        r_bar = float(np.mean([np.ptp(x[p]) for p in parts]))
        sigma = r_bar / chart_constants(size).d2
        method = "Rbar/d2"
    if not (math.isfinite(sigma) and sigma > 0):
        msg = "the within-subgroup (short-term) variation is 0; no capability can be computed"
        raise InvalidInputError(msg, field="values")
    return sigma, method, size


def _estimate(name: str, value: float, n: int, confidence: float, sigma: str) -> IndexEstimate:
    if name in ("Cp", "Pp"):
        lower, upper, bound = cp_interval(value, n, confidence=confidence)
        method = _CHI2
    else:
        lower, upper, bound = cpk_interval(value, n, confidence=confidence)
        method = _BISSELL
    return IndexEstimate(name, value, lower, upper, bound, sigma, method)


def _result(
    x: FloatArray,
    *,
    lsl: float | None,
    usl: float | None,
    subgroups: Any | None,
    blocks: Sequence[NDArrayInt] | None,
    confidence: float,
) -> CapabilityResult:
    n = _check_n(x.size)
    _alpha(confidence)
    sigma_w, method, size = _within(x, subgroups, blocks)
    sigma_o = float(np.std(x, ddof=1))
    if not sigma_o > 0:
        msg = "all values are equal; no capability can be computed"
        raise InvalidInputError(msg, field="values")
    mean = float(np.mean(x))
    indices = []
    for prefix, sigma, kind in (("C", sigma_w, "within"), ("P", sigma_o, "overall")):
        if lsl is not None and usl is not None:
            spread = (usl - lsl) / (6.0 * sigma)
            nearest = min(usl - mean, mean - lsl) / (3.0 * sigma)
            indices.append(_estimate(f"{prefix}p", spread, n, confidence, kind))
            indices.append(_estimate(f"{prefix}pk", nearest, n, confidence, kind))
        elif lsl is not None:
            lower_side = (mean - lsl) / (3.0 * sigma)
            indices.append(_estimate(f"{prefix}pl", lower_side, n, confidence, kind))
        elif usl is not None:
            upper_side = (usl - mean) / (3.0 * sigma)
            indices.append(_estimate(f"{prefix}pu", upper_side, n, confidence, kind))
    return CapabilityResult(
        n=n,
        mean=mean,
        lsl=lsl,
        usl=usl,
        sigma_within=sigma_w,
        sigma_overall=sigma_o,
        within_method=method,
        subgroup_size=size,
        confidence=float(confidence),
        indices=tuple(indices),
    )


def capability(
    values: Any,
    *,
    lsl: float | None = None,
    usl: float | None = None,
    subgroups: Any | None = None,
    confidence: float = 0.95,
) -> CapabilityResult:
    """Capability (Cp, Cpk) and performance (Pp, Ppk) indices with confidence bounds.

    With both limits: Cp, Cpk, Pp, Ppk. With only ``lsl`` (e.g. viability >= 70 %): the
    one-sided Cpl and Ppl. With only ``usl`` (e.g. vector copy number <= 5 per cell): Cpu
    and Ppu.

    Parameters
    ----------
    values
        The measured values (time order matters for the moving ranges).
    lsl, usl
        Lower and upper specification limits; at least one.
    subgroups
        A subgroup label per value: within sigma from R-bar / d2(n) over subgroups of equal
        size n (2..25). ``None``: individual values, within sigma from MR-bar / d2(2).
    confidence
        Level of the two-sided intervals and of the one-sided lower bounds.

    Returns
    -------
    CapabilityResult
        Indices with ``lower``/``upper`` (two-sided) and ``lower_bound`` (one-sided), the
        sigmas and how they were estimated, and ``n``.

    Raises
    ------
    InvalidInputError
        Fewer than 2 values or non-finite values (field ``values``), no or inverted
        limits (``lsl``/``usl``), unequal subgroups (``subgroups``), a confidence outside
        (0, 1) (``confidence``), or data without variation.

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
       Wiley. Section 8.3.
    .. [2] Bissell, A. F. (1990). How reliable is your capability index? Applied
       Statistics 39(3), 331-340.

    Examples
    --------
    >>> res = capability([71.0, 74.0, 72.5, 75.0, 73.0, 74.5], lsl=65.0)
    >>> [i.name for i in res.indices]
    ['Cpl', 'Ppl']
    """
    x, _ = as_values(values)
    _check_n(x.size)
    low, high = _spec(lsl, usl)
    return _result(x, lsl=low, usl=high, subgroups=subgroups, blocks=None, confidence=confidence)


def _row(label: Any, res: CapabilityResult, by: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        by: label,
        "n": res.n,
        "mean": res.mean,
        "sigma_within": res.sigma_within,
        "sigma_overall": res.sigma_overall,
        "within_method": res.within_method,
    }
    for index in res.indices:
        row[index.name] = index.value
        row[f"{index.name}_lower"] = index.lower
        row[f"{index.name}_upper"] = index.upper
        row[f"{index.name}_lower_bound"] = index.lower_bound
    return row


def capability_by(
    frame: pd.DataFrame,
    *,
    by: str = "site",
    lsl: float | None = None,
    usl: float | None = None,
    value: str = "value",
    subgroup: str | None = None,
    confidence: float = 0.95,
    network: bool = True,
) -> pd.DataFrame:
    """Capability per group (site) and for the whole network, as one table.

    Parameters
    ----------
    frame
        One row per value, in time order within each group.
    by
        The grouping column (a site code).
    lsl, usl
        Specification limits, as for :func:`capability`.
    value
        The column of values.
    subgroup
        A column of subgroup labels (R-bar / d2 within sigma); ``None`` for individual
        values (MR-bar / d2).
    confidence
        Level of the bounds.
    network
        Add a last row, labelled ``"network"``, for all values together. Its within sigma
        pools the moving ranges (or subgroup ranges) *inside* each group, so no range
        spans two sites; its overall sigma is the standard deviation of all values.

    Returns
    -------
    pandas.DataFrame
        One row per group in order of first appearance (then ``network``): ``by, n, mean,
        sigma_within, sigma_overall, within_method`` and, per index, its value and
        ``_lower``, ``_upper``, ``_lower_bound``.

    Raises
    ------
    InvalidInputError
        A missing column (named), a group with fewer than 2 values (field ``by``), or
        any error of :func:`capability`.

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.,
       section 8.3.
    """
    if not isinstance(frame, pd.DataFrame):
        msg = "capability_by needs a pandas DataFrame"
        raise InvalidInputError(msg, field="frame")
    for column in (value, by, *(() if subgroup is None else (subgroup,))):
        if column not in frame.columns:
            msg = f"missing column {column!r}; found: {', '.join(map(str, frame.columns))}"
            raise InvalidInputError(msg, field=column)
    low, high = _spec(lsl, usl)
    x, _ = as_values(frame[value].to_numpy(), field=value)
    labels = frame[subgroup].to_numpy() if subgroup is not None else None
    blocks = _groups(frame[by].to_numpy(), x.size, by)
    rows = []
    for block in blocks:
        label = frame[by].iloc[int(block[0])]
        if block.size < 2:
            msg = f"group {label!r} has {block.size} value; capability needs at least 2"
            raise InvalidInputError(msg, field=by)
        res = _result(
            x[block],
            lsl=low,
            usl=high,
            subgroups=None if labels is None else labels[block],
            blocks=None,
            confidence=confidence,
        )
        rows.append(_row(label, res, by))
    if network:
        res = _result(x, lsl=low, usl=high, subgroups=labels, blocks=blocks, confidence=confidence)
        rows.append(_row("network", res, by))
    return pd.DataFrame(rows)

"""Charts of model residuals for autocorrelated data (AR(p) fitted on Phase I)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import InvalidInputError
from .._results import ChartResult, ControlLimits, FloatArray
from ._common import RuleArg, as_values, check_limits, check_width, split_phase
from ._shewhart import imr_core

__all__ = ["ar_residuals", "residual_chart"]


def ar_residuals(x: FloatArray, const: float, coef: FloatArray) -> FloatArray:
    """One-step-ahead residuals ``x_t - (c + sum_j phi_j x_(t-j))``; NaN for ``t < p``."""
    p = coef.size
    resid = np.full(x.shape, np.nan)
    for t in range(p, x.size):
        resid[t] = x[t] - const - float(np.dot(coef, x[t - p : t][::-1]))
    return resid


def residual_chart(
    values: Any,
    *,
    order: int = 1,
    phase1: int | None = None,
    limits: ControlLimits | None = None,
    rules: RuleArg = "nelson",
    width: float = 3.0,
) -> ChartResult:
    """I-MR charts of the one-step residuals of an AR(p) model fitted on Phase I.

    Autocorrelated data (in-line sensor streams) break the independence that Shewhart
    limits assume: a positively autocorrelated process gives far too many false alarms on
    an individuals chart. Montgomery's remedy is to model the correlation and chart the
    residuals, which are approximately independent when the model fits. The AR(p) model
    ``x_t = c + phi_1 x_(t-1) + ... + phi_p x_(t-p) + e_t`` is fitted to the Phase I values
    by conditional least squares (:class:`statsmodels.tsa.ar_model.AutoReg`, ``trend="c"``);
    the residuals of every point are then computed with those fixed coefficients and
    charted with :func:`~vein2vein.process.imr` limits from the Phase I residuals. The
    first ``order`` points have no residual (NaN).

    Parameters
    ----------
    values
        Individual values in time order.
    order
        AR order p (1 or more).
    phase1
        Number of leading values used to fit the model and set the limits. ``None``: all.
    limits
        Stored limits of kind ``"residual_imr"`` (they hold the AR coefficients in
        ``params["ar_const"]`` and ``params["ar_coef"]``).
    rules
        Run rules for the residuals chart.
    width
        Limit width in sigmas.

    Returns
    -------
    ChartResult
        Charts ``"residuals"`` (extra columns ``value`` and ``fitted``) and
        ``"residual_moving_range"``; limits of kind ``"residual_imr"``.

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
       Wiley. Section 10.4, "SPC with autocorrelated process data" (model-based residual
       charts).
    .. [2] Alwan, L. C. and Roberts, H. V. (1988). Time-series modeling for statistical
       process control. Journal of Business & Economic Statistics 6(1), 87-95.
    """
    x, labels = as_values(values)
    width = check_width(width)
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
        msg = f"order must be a whole number of 1 or more, not {order!r}"
        raise InvalidInputError(msg, field="order")
    order = int(order)
    if limits is not None:
        check_limits(limits, "residual_imr")
        coef = np.asarray(limits.params.get("ar_coef", []), dtype=np.float64)
        const = float(limits.params.get("ar_const", 0.0))
        if coef.size < 1:
            msg = "these stored limits do not hold AR coefficients (params['ar_coef'])"
            raise InvalidInputError(msg, field="limits")
        order = coef.size
        extra: dict[str, Any] = {}
    minimum = 2 * order + 3
    n1, phase = split_phase(x.size, phase1=phase1, limits=limits, minimum=minimum)
    if limits is None:
        # statsmodels is imported here, not at module import: it is slow to import.
        from statsmodels.tsa.ar_model import AutoReg  # type: ignore[import-untyped]

        fit = AutoReg(x[:n1], lags=order, trend="c").fit()
        params = np.asarray(fit.params, dtype=np.float64)
        const, coef = float(params[0]), params[1:]
        extra = {
            "order": order,
            "ar_const": const,
            "ar_coef": [float(c) for c in coef],
            "ar_sigma": float(np.sqrt(fit.sigma2)),
            "model": "AutoReg(trend='c'), conditional least squares on Phase I",
        }
    resid = ar_residuals(x, const, coef)
    return imr_core(
        resid,
        labels,
        n1=n1,
        phase=phase,
        limits=limits,
        rules=rules,
        width=width,
        kind="residual_imr",
        names=("residuals", "residual_moving_range"),
        extra_params=extra,
        extras={"value": x, "fitted": x - resid},
    )

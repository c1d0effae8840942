"""Weighted isotonic (non-decreasing) regression, many short sequences at once.

The pool-adjacent-violators fit equals the min-max formula
``f_i = max_{s <= i} min_{t >= i} mean_w(y_s..y_t)`` (Robertson, Wright & Dykstra 1988,
Theorem 1.4.4); with a handful of dose levels that is a few small array operations per
batch of trials, so thousands of simulated trials are fitted together. Checked against
:class:`sklearn.isotonic.IsotonicRegression` in the tests.

References
----------
.. [1] Robertson T, Wright FT, Dykstra RL (1988). Order Restricted Statistical Inference.
   Wiley. Section 1.2 (pool-adjacent-violators) and Theorem 1.4.4 (min-max formula).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["isotonic_rows"]

FloatArray = npt.NDArray[np.float64]


def isotonic_rows(
    values: npt.ArrayLike, weights: npt.ArrayLike, *, mask: npt.ArrayLike | None = None
) -> FloatArray:
    """Non-decreasing weighted least-squares fit of each row of ``values``.

    Parameters
    ----------
    values
        Array ``(rows, k)`` (or ``(k,)``) of estimates in dose order.
    weights
        Positive weights of the same shape.
    mask
        Which entries take part (True); the others are left out of the fit (as if the
        sequence were only the masked entries) and come back as NaN.

    Returns
    -------
    numpy.ndarray
        The fitted values, same shape as ``values``.

    Examples
    --------
    >>> isotonic_rows([0.1, 0.3, 0.2, 0.5], [1, 1, 1, 1]).round(3).tolist()
    [0.1, 0.25, 0.25, 0.5]
    """
    y = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    one = y.ndim == 1
    y, w = np.atleast_2d(y), np.atleast_2d(w)
    m = np.ones(y.shape, bool) if mask is None else np.atleast_2d(np.asarray(mask, bool))
    w = np.where(m, w, 0.0)
    yw = np.where(m, y * w, 0.0)
    zero = np.zeros((y.shape[0], 1))
    cw = np.concatenate([zero, np.cumsum(w, axis=1)], axis=1)
    cyw = np.concatenate([zero, np.cumsum(yw, axis=1)], axis=1)
    k = y.shape[1]
    # block[r, s, t] = weighted mean of entries s..t (inclusive), s <= t
    s_idx, t_idx = np.triu_indices(k)
    tot_w = cw[:, t_idx + 1] - cw[:, s_idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (cyw[:, t_idx + 1] - cyw[:, s_idx]) / tot_w
    # Blocks without weight (only masked-out entries) never bind: +inf for the min.
    block = np.full((y.shape[0], k, k), np.inf)
    block[:, s_idx, t_idx] = np.where(tot_w > 0, mean, np.inf)
    out = np.empty_like(y)
    for i in range(k):
        # min over t >= i for each s <= i, then max over s
        inner = block[:, : i + 1, i:].min(axis=2)
        out[:, i] = np.where(np.isinf(inner), -np.inf, inner).max(axis=1)
    out = np.where(m, out, np.nan)
    return out[0] if one else out

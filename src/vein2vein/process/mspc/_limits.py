"""Control limits of batch MSPC: Hotelling T² (Beta, F) and SPE (Box, Jackson-Mudholkar).

Every function takes the confidence ``level`` (0.95, 0.99) rather than the tail
probability, and is a plain function of numbers, so the validation test can compare
each against its formula computed independently with :mod:`scipy.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats  # type: ignore[import-untyped]

from ...errors import InvalidInputError

__all__ = [
    "spe_limit_box",
    "spe_limit_jackson_mudholkar",
    "t2_limit_phase1",
    "t2_limit_phase2",
]


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        msg = f"the confidence level must lie strictly between 0 and 1, got {level!r}"
        raise InvalidInputError(msg, field="level")


def _check_sizes(n_batches: int, n_components: int) -> None:
    if n_components < 1:
        msg = f"at least one principal component is needed, got {n_components}"
        raise InvalidInputError(msg, field="n_components")
    if n_batches < n_components + 2:
        msg = (
            f"{n_batches} reference batches are too few for {n_components} components: "
            "T² limits need at least n_components + 2 batches"
        )
        raise InvalidInputError(msg, field="n_components")


def t2_limit_phase1(n_batches: int, n_components: int, level: float) -> float:
    r"""Phase I limit of Hotelling's T² for the reference batches themselves.

    A reference batch is part of the model, so its T² follows a scaled Beta
    distribution (Tracy, Young & Mason 1992):

    .. math:: T^2 \frac{I}{(I-1)^2} \sim \mathrm{Beta}\left(\frac{A}{2}, \frac{I-A-1}{2}\right)

    Parameters
    ----------
    n_batches
        Number of reference batches, :math:`I`.
    n_components
        Number of principal components, :math:`A`.
    level
        Confidence level (0.95 or 0.99).

    Returns
    -------
    float
        :math:`\frac{(I-1)^2}{I} B_{\text{level}}(A/2, (I-A-1)/2)`.

    References
    ----------
    .. [1] Tracy ND, Young JC, Mason RL (1992). Multivariate control charts for
       individual observations. J Qual Technol 24:88-95.

    Examples
    --------
    >>> round(t2_limit_phase1(20, 2, 0.99), 4)
    7.5502
    """
    _check_level(level)
    _check_sizes(n_batches, n_components)
    i, a = n_batches, n_components
    beta = float(stats.beta.ppf(level, a / 2.0, (i - a - 1) / 2.0))
    return (i - 1) ** 2 / i * beta


def t2_limit_phase2(n_batches: int, n_components: int, level: float) -> float:
    r"""Phase II limit of Hotelling's T² for a new batch (not in the model).

    .. math:: T^2 \sim \frac{A (I^2 - 1)}{I (I - A)} F(A, I - A)

    Parameters
    ----------
    n_batches
        Number of reference batches, :math:`I`.
    n_components
        Number of principal components, :math:`A`.
    level
        Confidence level (0.95 or 0.99).

    Returns
    -------
    float
        The limit.

    References
    ----------
    .. [1] Tracy ND, Young JC, Mason RL (1992). Multivariate control charts for
       individual observations. J Qual Technol 24:88-95.
    .. [2] Nomikos P, MacGregor JF (1995). Multivariate SPC charts for monitoring batch
       processes. Technometrics 37:41-59.

    Examples
    --------
    >>> round(t2_limit_phase2(20, 2, 0.99), 4)
    13.3286
    """
    _check_level(level)
    _check_sizes(n_batches, n_components)
    i, a = n_batches, n_components
    f = float(stats.f.ppf(level, a, i - a))
    return a * (i**2 - 1) / (i * (i - a)) * f


def spe_limit_box(mean: float, variance: float, level: float) -> float:
    r"""SPE (Q) limit by Box's approximation :math:`g\chi^2_h`, matched on two moments.

    With the mean :math:`m` and variance :math:`v` of the reference SPE values,
    :math:`g = v / (2m)` and :math:`h = 2m^2 / v`, and the limit is
    :math:`g\,\chi^2_{h,\text{level}}` (Nomikos & MacGregor 1995, eq. 9).

    When ``variance`` is zero (every reference batch has the same SPE, as at a
    time point where all reference values are identical) the approximation is
    undefined and ``mean`` is returned.

    Parameters
    ----------
    mean
        Mean of the reference SPE values, :math:`m`.
    variance
        Variance of the reference SPE values (``ddof=1``), :math:`v`.
    level
        Confidence level (0.95 or 0.99).

    Returns
    -------
    float
        The limit.

    References
    ----------
    .. [1] Box GEP (1954). Some theorems on quadratic forms applied in the study of
       analysis of variance problems. Ann Math Stat 25:290-302.
    .. [2] Nomikos P, MacGregor JF (1995). Multivariate SPC charts for monitoring batch
       processes. Technometrics 37:41-59.

    Examples
    --------
    >>> round(spe_limit_box(10.0, 20.0, 0.95), 4)
    18.307
    """
    _check_level(level)
    if not (math.isfinite(mean) and math.isfinite(variance)) or mean < 0 or variance < 0:
        msg = f"SPE mean and variance must be finite and >= 0, got {mean!r} and {variance!r}"
        raise InvalidInputError(msg, field="spe")
    if variance == 0.0 or mean == 0.0:
        return float(mean)
    g = variance / (2.0 * mean)
    h = 2.0 * mean**2 / variance
    return g * float(stats.chi2.ppf(level, h))


def spe_limit_jackson_mudholkar(
    residual_eigenvalues: ArrayLike | Sequence[float], level: float
) -> float:
    r"""SPE (Q) limit of Jackson & Mudholkar (1979) from the residual eigenvalues.

    With :math:`\theta_i = \sum_{a > A} \lambda_a^i` (:math:`i = 1, 2, 3`, the
    eigenvalues of the covariance matrix not captured by the model),
    :math:`h_0 = 1 - 2\theta_1\theta_3 / (3\theta_2^2)` and :math:`c` the standard
    normal quantile at ``level``,

    .. math:: Q = \theta_1 \left[\frac{c\sqrt{2\theta_2 h_0^2}}{\theta_1} + 1
              + \frac{\theta_2 h_0 (h_0 - 1)}{\theta_1^2}\right]^{1/h_0}

    Returns NaN where the formula is undefined (no residual variance, :math:`h_0 = 0`
    or a non-positive bracket).

    Parameters
    ----------
    residual_eigenvalues
        Eigenvalues :math:`\lambda_{A+1}, \dots` of the covariance matrix of the
        scaled data that the model leaves out.
    level
        Confidence level (0.95 or 0.99).

    Returns
    -------
    float
        The limit, or NaN.

    References
    ----------
    .. [1] Jackson JE, Mudholkar GS (1979). Control procedures for residuals
       associated with principal component analysis. Technometrics 21:341-349.

    Examples
    --------
    >>> round(spe_limit_jackson_mudholkar([2.0, 1.0, 0.5], 0.95), 4)
    10.0471
    """
    _check_level(level)
    lam: NDArray[np.float64] = np.asarray(residual_eigenvalues, dtype=float)
    lam = lam[lam > 0]
    if lam.size == 0:
        return math.nan
    theta1, theta2, theta3 = (float(np.sum(lam**p)) for p in (1, 2, 3))
    h0 = 1.0 - 2.0 * theta1 * theta3 / (3.0 * theta2**2)
    if h0 == 0.0:
        return math.nan
    c = float(stats.norm.ppf(level))
    bracket = c * math.sqrt(2.0 * theta2 * h0**2) / theta1 + 1.0
    bracket += theta2 * h0 * (h0 - 1.0) / theta1**2
    if bracket <= 0.0:
        return math.nan
    return float(theta1 * bracket ** (1.0 / h0))

"""Control-chart constants d2, d3, c4, A2, A3, B3, B4, D3, D4 and E2, from their definitions.

Nothing here is copied from a printed table. ``d2(n)`` is the expected range of ``n``
independent standard normal variables and ``d3(n)`` its standard deviation, both by
numerical integration (:func:`scipy.integrate.quad`); ``c4(n)`` is the bias factor of the
sample standard deviation, from the gamma function. The other factors follow from these
three by the formulas in Montgomery (2009), section 6.2 and Appendix VI:

========  ==========================================  =================================
factor    formula                                     used for
========  ==========================================  =================================
A2        3 / (d2 sqrt(n))                            X-bar limits from R-bar
A3        3 / (c4 sqrt(n))                            X-bar limits from s-bar
B3, B4    max(0, 1 -/+ 3 sqrt(1 - c4^2) / c4)         s-chart limits from s-bar
D3, D4    max(0, 1 -/+ 3 d3 / d2)                     R-chart limits from R-bar
E2        3 / d2                                      individuals limits from MR-bar
========  ==========================================  =================================

The tests compare the results with the published table (Montgomery, Appendix VI) for
n = 2..10; see ``docs/validation/spc.md``.

References
----------
.. [1] Tippett, L. H. C. (1925). On the extreme individuals and the range of samples taken
   from a normal population. Biometrika 17(3/4), 364-387.
.. [2] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
   Wiley. Section 6.2 and Appendix VI, "Factors for constructing variables control charts".
.. [3] ASTM E2587-16, Standard Practice for Use of Control Charts in Statistical Process
   Control. Table 1 and its footnotes (d2, d3 and c4 defined as above).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cache

import numpy as np
from scipy import integrate, special  # type: ignore[import-untyped]

from ...errors import InvalidInputError

__all__ = ["MAX_SUBGROUP", "MIN_SUBGROUP", "ChartConstants", "c4", "chart_constants", "d2", "d3"]

#: The subgroup sizes for which the constants are offered.
MIN_SUBGROUP = 2
MAX_SUBGROUP = 25

_TOL = 1e-11
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_X_BOUND = 12.0
_W_BOUND = 16.0


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        msg = f"the subgroup size must be a whole number, not {n!r}"
        raise InvalidInputError(msg, field="n")
    if not MIN_SUBGROUP <= int(n) <= MAX_SUBGROUP:
        msg = (
            f"the subgroup size must be between {MIN_SUBGROUP} and {MAX_SUBGROUP} "
            f"(control-chart constants are offered for that range), not {n}"
        )
        raise InvalidInputError(msg, field="n")
    return int(n)


@cache
def _d2(n: int) -> float:
    # E[R] = integral of 1 - Phi(x)^n - (1 - Phi(x))^n over the real line (Tippett 1925).
    def integrand(x: float) -> float:
        return float(1.0 - special.ndtr(x) ** n - special.ndtr(-x) ** n)

    value, _ = integrate.quad(integrand, -np.inf, np.inf, epsabs=_TOL, epsrel=_TOL)
    return float(value)


@cache
def _d3(n: int) -> float:
    # E[R^2] = 2 * integral_0^inf w P(R > w) dw, with the distribution function of the range
    # P(R <= w) = n * integral phi(x) (Phi(x + w) - Phi(x))^(n - 1) dx.
    # Finite bounds make quad several times faster and cost nothing at double precision:
    # phi(x) < 1e-31 for |x| > 12, and P(R > 16) <= 2 n Phi(-8) < 1e-13 for n <= 25.
    def range_cdf(w: float) -> float:
        def inner(x: float) -> float:
            gap = special.ndtr(x + w) - special.ndtr(x)
            return float(_INV_SQRT_2PI * math.exp(-0.5 * x * x) * gap ** (n - 1))

        value, _ = integrate.quad(inner, -_X_BOUND, _X_BOUND, epsabs=_TOL, epsrel=_TOL)
        return n * float(value)

    def tail_moment(w: float) -> float:
        return w * (1.0 - range_cdf(w))

    second, _ = integrate.quad(tail_moment, 0.0, _W_BOUND, epsabs=_TOL, epsrel=_TOL, limit=200)
    return math.sqrt(2.0 * float(second) - _d2(n) ** 2)


def d2(n: int) -> float:
    """Expected range of ``n`` independent standard normal observations.

    Parameters
    ----------
    n
        Subgroup size, 2 to 25.

    Returns
    -------
    float
        ``E[R]``, so that ``R-bar / d2`` estimates sigma.

    References
    ----------
    .. [1] Tippett, L. H. C. (1925). Biometrika 17(3/4), 364-387.
    .. [2] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.,
       Appendix VI.

    Examples
    --------
    >>> round(d2(2), 6)  # 2 / sqrt(pi)
    1.128379
    """
    return _d2(_check_n(n))


def d3(n: int) -> float:
    """Standard deviation of the range of ``n`` independent standard normal observations.

    Parameters
    ----------
    n
        Subgroup size, 2 to 25.

    Returns
    -------
    float
        ``sd(R)``; the R chart's limits are ``R-bar (1 +/- 3 d3 / d2)``.

    References
    ----------
    .. [1] Tippett, L. H. C. (1925). Biometrika 17(3/4), 364-387.
    .. [2] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.,
       Appendix VI.

    Examples
    --------
    >>> round(d3(2), 6)  # sqrt(2 - 4 / pi)
    0.852502
    """
    return _d3(_check_n(n))


def c4(n: int) -> float:
    """Bias factor of the sample standard deviation: ``E[s] = c4(n) sigma`` under normality.

    ``c4(n) = sqrt(2 / (n - 1)) * Gamma(n / 2) / Gamma((n - 1) / 2)``, computed with
    :func:`scipy.special.gammaln`.

    Parameters
    ----------
    n
        Sample size, 2 to 25.

    Returns
    -------
    float
        ``c4(n)``.

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.,
       section 6.3.1 and Appendix VI.

    Examples
    --------
    >>> round(c4(5), 4)
    0.94
    """
    n = _check_n(n)
    log_ratio = special.gammaln(n / 2.0) - special.gammaln((n - 1) / 2.0)
    return math.sqrt(2.0 / (n - 1)) * math.exp(float(log_ratio))


@dataclass(frozen=True, slots=True)
class ChartConstants:
    """All control-chart constants for one subgroup size ``n`` (full precision)."""

    n: int
    d2: float
    d3: float
    c4: float
    A2: float
    A3: float
    B3: float
    B4: float
    D3: float
    D4: float
    E2: float

    def to_dict(self) -> dict[str, float | int]:
        """The constants as a plain dict (JSON-ready)."""
        return asdict(self)


@cache
def _chart_constants(n: int) -> ChartConstants:
    d2_, d3_, c4_ = _d2(n), _d3(n), c4(n)
    root_n = math.sqrt(n)
    s_factor = 3.0 * math.sqrt(1.0 - c4_**2) / c4_
    return ChartConstants(
        n=n,
        d2=d2_,
        d3=d3_,
        c4=c4_,
        A2=3.0 / (d2_ * root_n),
        A3=3.0 / (c4_ * root_n),
        B3=max(0.0, 1.0 - s_factor),
        B4=1.0 + s_factor,
        D3=max(0.0, 1.0 - 3.0 * d3_ / d2_),
        D4=1.0 + 3.0 * d3_ / d2_,
        E2=3.0 / d2_,
    )


def chart_constants(n: int) -> ChartConstants:
    """The constants of a subgroup size, computed from their definitions and cached.

    Parameters
    ----------
    n
        Subgroup size, 2 to 25 (for the individuals / moving-range chart, n = 2).

    Returns
    -------
    ChartConstants
        ``d2, d3, c4, A2, A3, B3, B4, D3, D4, E2`` at full floating-point precision.

    Raises
    ------
    InvalidInputError
        If ``n`` is outside 2..25 (field ``n``).

    References
    ----------
    .. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.,
       section 6.2 and Appendix VI.
    .. [2] ASTM E2587-16, Standard Practice for Use of Control Charts in Statistical
       Process Control, Table 1.

    Examples
    --------
    >>> k = chart_constants(5)
    >>> round(k.A2, 3), round(k.D4, 3), round(k.B4, 3)
    (0.577, 2.114, 2.089)
    """
    return _chart_constants(_check_n(n))

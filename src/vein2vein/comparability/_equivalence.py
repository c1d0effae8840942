"""Equivalence of a test site's mean to a reference mean by two one-sided tests (TOST)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from statsmodels.stats.weightstats import (  # type: ignore[import-untyped]
    CompareMeans,
    DescrStatsW,
    ttost_ind,
)

from vein2vein.errors import InvalidInputError

from ._data import (
    as_values,
    check_alpha,
    margin_caveat,
    require_n,
    resolve_margin,
    sd_ratio_caveat,
    small_n_caveat,
)
from ._result_base import ResultMixin

__all__ = ["EquivalenceResult", "equivalence"]

Usevar = Literal["unequal", "pooled"]


@dataclass(frozen=True)
class EquivalenceResult(ResultMixin):
    """The outcome of a two one-sided tests (TOST) equivalence comparison.

    The difference is always test minus reference. ``p_lower`` tests
    H0: difference <= -margin, ``p_upper`` tests H0: difference >= +margin; the
    TOST p-value is the larger of the two. ``ci_low``/``ci_high`` is the
    1 - 2 alpha (90 % for alpha 0.05) confidence interval of the difference, and
    equivalence is concluded exactly when it lies inside (-margin, +margin).
    """

    n_test: int
    n_reference: int
    mean_test: float
    mean_reference: float
    sd_test: float
    sd_reference: float
    difference: float
    ci_low: float
    ci_high: float
    ci_level: float
    margin: float
    margin_source: str
    k: float | None
    alpha: float
    usevar: str
    df: float
    t_lower: float
    p_lower: float
    t_upper: float
    p_upper: float
    p_value: float
    equivalent: bool
    caveats: tuple[str, ...] = ()

    _extra = ("conclusion", "margin_basis")

    @property
    def conclusion(self) -> str:
        """``"equivalent"`` or ``"not shown equivalent"`` (never "different")."""
        return "equivalent" if self.equivalent else "not shown equivalent"

    @property
    def margin_basis(self) -> str:
        """How the margin was set, in words: ``"1.5 × reference SD"`` or ``"given"``."""
        return f"{self.k:g} × reference SD" if self.margin_source == "k_reference_sd" else "given"


def equivalence(
    test: npt.ArrayLike,
    reference: npt.ArrayLike,
    *,
    margin: float | None = None,
    k: float = 1.5,
    alpha: float = 0.05,
    usevar: Usevar = "unequal",
) -> EquivalenceResult:
    """Test whether the test site's mean equals the reference mean within a margin (TOST).

    Two one-sided t tests (Schuirmann 1987) of H0: difference <= -margin and
    H0: difference >= +margin, each at level ``alpha``, through
    :func:`statsmodels.stats.weightstats.ttost_ind`. Welch's unequal-variance
    t test with Satterthwaite degrees of freedom is the default (``usevar="unequal"``)
    because lots of two sites need not share a spread; ``usevar="pooled"`` gives the
    classical pooled-variance test. Equivalence is concluded when the TOST p-value
    (the larger one-sided p-value) is below ``alpha``, which is the same as the
    1 - 2 alpha confidence interval of the difference lying inside (-margin, +margin).

    Without an absolute ``margin`` the margin is ``k`` times the reference standard
    deviation (``k = 1.5`` as in FDA's withdrawn 2017 draft guidance on analytical
    similarity, Tier 1); the result then carries a caveat because that SD is itself
    an estimate.

    Parameters
    ----------
    test
        Values of the CQA for the test site's lots.
    reference
        Values of the CQA for the reference lots (one site or the pooled network).
    margin
        Absolute equivalence margin in the CQA's unit (symmetric, ±margin). When
        given, ``k`` is ignored.
    k
        Multiple of the reference SD (ddof 1) that sets the margin when ``margin``
        is None.
    alpha
        Level of each one-sided test; the interval reported is 1 - 2 alpha.
    usevar
        ``"unequal"`` (Welch, default) or ``"pooled"``.

    Returns
    -------
    EquivalenceResult
        Means, SDs, the difference (test - reference) with its 1 - 2 alpha interval,
        the margin and how it was set, both one-sided t statistics and p-values,
        the TOST p-value, the conclusion and caveats (fewer than 10 lots per group;
        margin estimated from the reference data; SDs differing by more than 2-fold).

    Raises
    ------
    InvalidInputError
        Fewer than two values in a group, values that are not finite numbers, a
        non-positive margin or ``k``, a reference without spread and no margin,
        or two groups that both have no spread.

    References
    ----------
    .. [1] Schuirmann DJ (1987). A comparison of the two one-sided tests procedure
       and the power approach for assessing the equivalence of average
       bioavailability. J Pharmacokinet Biopharm 15(6):657-680.
    .. [2] Welch BL (1947). The generalization of "Student's" problem when several
       different population variances are involved. Biometrika 34:28-35.
    .. [3] FDA (2017, withdrawn 2018). Statistical Approaches to Evaluate Analytical
       Similarity. Draft guidance for industry (Tier 1: margin 1.5 x reference SD).
    .. [4] FDA (2019). Development of Therapeutic Protein Biosimilars: Comparative
       Analytical Assessment and Other Quality-Related Considerations. Draft guidance.

    Examples
    --------
    >>> from vein2vein.comparability import equivalence
    >>> hub_a = [82.1, 84.0, 80.5, 83.2, 81.7, 82.9, 84.4, 81.0, 83.5, 82.4, 80.9, 83.8]
    >>> hub_b = [82.6, 81.9, 83.7, 82.2, 84.1, 81.4, 83.0, 82.8, 80.8, 83.9, 82.0, 83.3]
    >>> res = equivalence(hub_b, hub_a)
    >>> res.conclusion, round(res.margin, 2), res.margin_basis
    ('equivalent', 1.96, '1.5 × reference SD')
    """
    check_alpha(alpha)
    if usevar not in ("unequal", "pooled"):
        msg = f"usevar must be 'unequal' or 'pooled', got {usevar!r}"
        raise InvalidInputError(msg, field="usevar")
    x_test = as_values(test, field="test")
    x_ref = as_values(reference, field="reference")
    require_n(x_test, 2, field="test")
    require_n(x_ref, 2, field="reference")
    sd_test = float(np.std(x_test, ddof=1))
    sd_ref = float(np.std(x_ref, ddof=1))
    if sd_test == 0 and sd_ref == 0:
        msg = "neither group has any spread (all values equal); a t test is undefined"
        raise InvalidInputError(msg, field="value")
    used_margin, source = resolve_margin(margin, k, sd_ref, x_ref.size)

    p_value, (t_lower, p_lower, df), (t_upper, p_upper, _) = ttost_ind(
        x_test, x_ref, -used_margin, used_margin, usevar=usevar
    )
    compare = CompareMeans(DescrStatsW(x_test), DescrStatsW(x_ref))
    ci_low, ci_high = compare.tconfint_diff(alpha=2 * alpha, usevar=usevar)

    caveats: list[str] = []
    small = small_n_caveat([("test", x_test.size), ("reference", x_ref.size)])
    if small:
        caveats.append(small)
    if source == "k_reference_sd":
        caveats.append(margin_caveat(k, x_ref.size))
    spread = sd_ratio_caveat(sd_test, sd_ref, pooled=usevar == "pooled")
    if spread:
        caveats.append(spread)

    return EquivalenceResult(
        n_test=int(x_test.size),
        n_reference=int(x_ref.size),
        mean_test=float(np.mean(x_test)),
        mean_reference=float(np.mean(x_ref)),
        sd_test=sd_test,
        sd_reference=sd_ref,
        difference=float(np.mean(x_test) - np.mean(x_ref)),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        ci_level=1 - 2 * alpha,
        margin=used_margin,
        margin_source=source,
        k=float(k) if source == "k_reference_sd" else None,
        alpha=float(alpha),
        usevar=usevar,
        df=float(df),
        t_lower=float(t_lower),
        p_lower=float(p_lower),
        t_upper=float(t_upper),
        p_upper=float(p_upper),
        p_value=float(p_value),
        equivalent=bool(p_value < alpha),
        caveats=tuple(caveats),
    )

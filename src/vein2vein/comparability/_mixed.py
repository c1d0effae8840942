"""A linear mixed model with a random site effect: how much of a CQA's variance is site."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy import stats  # type: ignore[import-untyped]
from statsmodels.regression.linear_model import OLS  # type: ignore[import-untyped]
from statsmodels.regression.mixed_linear_model import MixedLM  # type: ignore[import-untyped]
from statsmodels.tools.sm_exceptions import ModelWarning  # type: ignore[import-untyped]

from vein2vein.errors import InvalidInputError

from ._data import check_alpha, require_known, unique_in_order, validate_frame
from ._result_base import ResultMixin

__all__ = ["SiteEffectResult", "site_effect"]

#: Fewer sites than this and the between-site variance gets a caveat.
FEW_SITES: Final = 5
#: Optimisers tried for each fit; the one with the highest likelihood is kept.
_METHODS: Final = ("powell", "nm", "bfgs")
#: A likelihood-ratio statistic below this is zero (the fits agree to ~1e-8 at the boundary).
_LRT_ZERO: Final = 1e-6
#: A between-site variance below this share of the within-site one counts as zero.
_BOUNDARY: Final = 1e-6


@dataclass(frozen=True)
class SiteEffectResult(ResultMixin):
    """A random-intercept model ``value = intercept + site effect + error`` for one CQA.

    Variances come from the REML fit. The likelihood-ratio statistic compares the
    maximum-likelihood (ML) fit of the mixed model with the ML fit of the model
    without a site effect; its p-value is from the 50:50 mixture of chi-square(0)
    and chi-square(1) (Self & Liang 1987).
    """

    cqa: str
    sites: tuple[str, ...]
    n_sites: int
    n_lots: int
    covariates: tuple[str, ...]
    intercept: float
    intercept_se: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_df: int
    between_site_variance: float
    within_site_variance: float
    icc: float
    lrt_statistic: float
    lrt_p_value: float
    alpha: float
    converged: bool
    caveats: tuple[str, ...] = ()

    _extra = ("conclusion", "between_site_sd", "within_site_sd")

    @property
    def between_site_sd(self) -> float:
        """Square root of the between-site variance."""
        return float(np.sqrt(self.between_site_variance))

    @property
    def within_site_sd(self) -> float:
        """Square root of the within-site (lot-to-lot) variance."""
        return float(np.sqrt(self.within_site_variance))

    @property
    def conclusion(self) -> str:
        """Whether the likelihood-ratio test finds a site variance at level ``alpha``."""
        if self.lrt_p_value < self.alpha:
            return "site variance detected"
        return "no site variance detected"


def _report_warnings(
    caught: Sequence[warnings.WarningMessage], caveats: list[str], what: str
) -> None:
    """Report statsmodels' model warnings as caveats; re-issue any other warning as it was."""
    for w in caught:
        if issubclass(w.category, ModelWarning):
            text = f"{what}: statsmodels warned '{w.message}'"
            if text not in caveats:
                caveats.append(text)
        else:  # not ours to judge: re-issue it where it came from
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def _best_fit(model: Any, *, reml: bool, caveats: list[str], what: str) -> Any:
    """Fit with each optimiser of :data:`_METHODS` and keep the highest likelihood.

    statsmodels' default gradient optimisers can stop short of the optimum of a
    random-intercept model whose variance is small (not converged, the variance off
    by tens of per cent) or fail on a singular matrix; the derivative-free Powell and
    Nelder-Mead searches find it. Only the warnings of the kept fit are reported
    (:class:`~statsmodels.tools.sm_exceptions.ModelWarning` as caveats); those of
    the discarded attempts concern fits that are not used.
    """
    best: Any = None
    best_warnings: list[warnings.WarningMessage] = []
    failures: list[str] = []
    for method in _METHODS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = model.fit(reml=reml, method=method)
            except np.linalg.LinAlgError as exc:
                failures.append(f"{method}: {exc}")
                continue
        if np.isfinite(fit.llf) and (best is None or fit.llf > best.llf):
            best, best_warnings = fit, list(caught)
    if best is None:
        msg = f"the mixed model could not be fitted ({'; '.join(failures)})"
        raise InvalidInputError(msg, field="value")
    _report_warnings(best_warnings, caveats, what)
    return best


def _numeric_covariates(sub: pd.DataFrame, covariates: Sequence[str]) -> list[np.ndarray]:
    columns = []
    for name in covariates:
        values = pd.to_numeric(sub[name], errors="coerce").to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            msg = "covariates must be finite numbers (code categories as 0/1 columns)"
            raise InvalidInputError(msg, field=name)
        columns.append(values)
    return columns


def site_effect(
    frame: pd.DataFrame,
    *,
    cqa: str,
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
) -> SiteEffectResult:
    """Fit a random site effect to one CQA and test whether its variance is zero.

    The model is ``value = b0 (+ b·covariates) + u_site + e`` with
    ``u_site ~ N(0, s2_between)`` and ``e ~ N(0, s2_within)``, fitted with
    :class:`statsmodels.regression.mixed_linear_model.MixedLM` (groups = site);
    each fit is run with the Powell, Nelder-Mead and BFGS optimisers and the one
    with the highest likelihood is kept (statsmodels' default gradient search can
    stop short of the optimum when the site variance is small).
    The variances, the intraclass correlation
    ``ICC = s2_between / (s2_between + s2_within)`` and the fixed intercept come
    from the REML fit. The intercept's 1 - alpha interval uses a t quantile with
    ``n_sites - p`` degrees of freedom (p fixed effects), which is exact for a
    balanced one-way layout without covariates.

    The variance is tested with a likelihood-ratio test of s2_between = 0 on
    the maximum-likelihood fits (mixed model vs ordinary least squares). The null
    value lies on the boundary of the parameter space, so the statistic follows a
    50:50 mixture of chi-square(0) and chi-square(1) (Self & Liang 1987):
    ``p = 0.5 · P(chi2_1 >= LRT)``, and ``p = 1`` when LRT = 0 (a statistic below
    1e-6 counts as 0: the optimiser's noise at the boundary is not evidence).

    statsmodels' model warnings raised by the fits (its ``ModelWarning`` family:
    ConvergenceWarning, HessianInversionWarning, SingularMatrixWarning; typically
    "the MLE may be on the boundary of the parameter space" when the site variance
    is estimated as zero) are caught and reported in ``caveats``, as is a fit that
    did not converge; other warnings pass through unchanged.

    Parameters
    ----------
    frame
        Long table with ``lot, site, cqa, value`` (and the covariate columns).
        Every site with lots of ``cqa`` enters the model.
    cqa
        The critical quality attribute to model.
    covariates
        Names of numeric columns to add as fixed effects (e.g. donor age, a
        process parameter); categories must be coded as 0/1 columns.
    alpha
        Level of the likelihood-ratio test; 1 - alpha is the level of the
        intercept's interval.

    Returns
    -------
    SiteEffectResult
        Between- and within-site variances, ICC, intercept with its interval, the
        likelihood-ratio statistic and p-value, and caveats (fewer than 5 sites,
        a variance estimated at zero, convergence warnings, the asymptotic
        approximation).

    Raises
    ------
    InvalidInputError
        Unknown ``cqa``, fewer than two sites or too few lots, or covariates that
        are not finite numbers.

    References
    ----------
    .. [1] Self SG, Liang KY (1987). Asymptotic properties of maximum likelihood
       estimators and likelihood ratio tests under nonstandard conditions.
       J Am Stat Assoc 82(398):605-610.
    .. [2] Searle SR, Casella G, McCulloch CE (1992). Variance Components. Wiley
       (ANOVA and REML estimators of the one-way random model, chapters 3-6).
    .. [3] Stram DO, Lee JW (1994). Variance components testing in the longitudinal
       mixed effects model. Biometrics 50(4):1171-1177.

    Examples
    --------
    >>> import pandas as pd
    >>> from vein2vein.comparability import site_effect
    >>> rows = [("A", 10.1), ("A", 10.4), ("A", 9.8), ("B", 12.0), ("B", 12.3),
    ...         ("B", 11.7), ("C", 8.1), ("C", 8.4), ("C", 7.9)]
    >>> frame = pd.DataFrame([{"lot": f"L{i}", "site": s, "cqa": "vcn", "value": v}
    ...                       for i, (s, v) in enumerate(rows)])
    >>> res = site_effect(frame, cqa="vcn")
    >>> res.n_sites, res.icc > 0.9, res.conclusion
    (3, True, 'site variance detected')
    """
    check_alpha(alpha)
    covariates = tuple(covariates)
    data = validate_frame(frame, extra=covariates)
    require_known(cqa, unique_in_order(data["cqa"]), what="cqa", field="cqa")
    sub = data[data["cqa"] == cqa]
    sites = tuple(unique_in_order(sub["site"]))
    n_fixed = 1 + len(covariates)
    if len(sites) < 2:
        msg = f"a site effect needs lots from at least two sites; cqa {cqa!r} has {len(sites)}"
        raise InvalidInputError(msg, field="site")
    if len(sub) <= len(sites) + n_fixed:
        msg = f"too few lots ({len(sub)}) for {len(sites)} sites and {n_fixed} fixed effect(s)"
        raise InvalidInputError(msg, field="value")

    y = sub["value"].to_numpy(dtype=np.float64)
    exog = np.column_stack([np.ones(len(sub)), *_numeric_covariates(sub, covariates)])
    groups = sub["site"].to_numpy()
    caveats: list[str] = []
    model = MixedLM(y, exog, groups=groups)
    reml = _best_fit(model, reml=True, caveats=caveats, what="REML fit")
    ml = _best_fit(model, reml=False, caveats=caveats, what="ML fit for the likelihood-ratio test")
    null = OLS(y, exog).fit()

    between = max(float(np.asarray(reml.cov_re)[0, 0]), 0.0)
    within = float(reml.scale)
    lrt = 2.0 * (float(ml.llf) - float(null.llf))
    lrt = 0.0 if lrt < _LRT_ZERO else lrt  # optimiser noise at the boundary is not evidence
    p_lrt = float(0.5 * stats.chi2.sf(lrt, 1)) if lrt > 0 else 1.0
    intercept = float(np.asarray(reml.fe_params)[0])
    se = float(np.asarray(reml.bse_fe)[0])
    ci_df = max(len(sites) - n_fixed, 1)
    half = float(stats.t.ppf(1 - alpha / 2, ci_df)) * se

    if not (reml.converged and ml.converged):
        caveats.append(
            "the mixed-model fit did not report convergence; treat the variance components "
            "and the likelihood-ratio test as unreliable"
        )
    if len(sites) < FEW_SITES:
        caveats.append(
            f"only {len(sites)} sites: the between-site variance rests on {len(sites)} site "
            "means and is very uncertain; the chi-bar-square p-value is asymptotic"
        )
    if between <= _BOUNDARY * within:
        caveats.append(
            "the between-site variance is estimated at zero (on the boundary): the data show "
            "no site effect, but a small one cannot be excluded"
        )
    if sub.groupby("site")["value"].size().nunique() > 1:
        caveats.append(
            "unbalanced design (sites have different numbers of lots): the intercept's t "
            "interval is approximate"
        )

    return SiteEffectResult(
        cqa=cqa,
        sites=sites,
        n_sites=len(sites),
        n_lots=len(sub),
        covariates=covariates,
        intercept=intercept,
        intercept_se=se,
        ci_low=intercept - half,
        ci_high=intercept + half,
        ci_level=1 - alpha,
        ci_df=ci_df,
        between_site_variance=between,
        within_site_variance=within,
        icc=between / (between + within) if between + within > 0 else float("nan"),
        lrt_statistic=lrt,
        lrt_p_value=p_lrt,
        alpha=float(alpha),
        converged=bool(reml.converged and ml.converged),
        caveats=tuple(caveats),
    )

"""Random site effect: REML against the ANOVA (method-of-moments) estimators of a balanced
one-way layout, the likelihood-ratio statistic against closed-form ML, the chi-bar-square
p-value, and statsmodels' convergence warnings turned into caveats."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.regression.mixed_linear_model import MixedLM
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from vein2vein.comparability import site_effect
from vein2vein.errors import InvalidInputError

#: Agreement of statsmodels' REML/ML optimiser with the closed forms (observed ~1e-5).
RTOL = 1e-3


def _balanced(seed: int, *, sites: int = 6, lots: int = 8, between_sd: float = 2.0):
    rng = np.random.default_rng(seed)
    effects = rng.normal(0, between_sd, sites)
    rows = [
        {
            "lot": f"S{s}-L{i}",
            "site": f"S{s}",
            "cqa": "viability",
            "value": 85 + effects[s] + rng.normal(0, 2.0),
        }
        for s in range(sites)
        for i in range(lots)
    ]
    return pd.DataFrame(rows)


def _anova(frame: pd.DataFrame) -> dict[str, float]:
    """One-way ANOVA mean squares and the balanced closed forms (Searle et al. 1992, ch. 3)."""
    groups = [g["value"].to_numpy() for _, g in frame.groupby("site")]
    a, n = len(groups), len(groups[0])
    y = np.concatenate(groups)
    means = np.array([g.mean() for g in groups])
    msb = n * np.sum((means - y.mean()) ** 2) / (a - 1)
    msw = sum(np.sum((g - g.mean()) ** 2) for g in groups) / (a * (n - 1))
    return {
        "a": a,
        "n": n,
        "N": a * n,
        "mean": y.mean(),
        "msb": msb,
        "msw": msw,
        "reml_between": (msb - msw) / n,
        "ml_between": ((1 - 1 / a) * msb - msw) / n,
        "sst": np.sum((y - y.mean()) ** 2),
    }


def _ml_loglik(frame: pd.DataFrame, between: float, within: float, mean: float) -> float:
    """Gaussian log-likelihood of the random-intercept model, by dense matrices."""
    y = frame["value"].to_numpy()
    site = frame["site"].to_numpy()
    v = within * np.eye(y.size) + between * (site[:, None] == site[None, :])
    r = y - mean
    _, logdet = np.linalg.slogdet(v)
    return float(-0.5 * (y.size * np.log(2 * np.pi) + logdet + r @ np.linalg.solve(v, r)))


@pytest.mark.parametrize(("seed", "between_sd"), [(5, 2.0), (8, 2.0), (13, 2.0), (0, 0.0)])
def test_reml_agrees_with_anova_method_of_moments_on_a_balanced_design(
    seed: int, between_sd: float
) -> None:
    # (0, 0.0): a small interior estimate where statsmodels' default gradient fit stops
    # short (not converged, variance ~60 % too high); the derivative-free fits find it.
    frame = _balanced(seed, between_sd=between_sd)
    a = _anova(frame)
    assert a["reml_between"] > 0  # the seeds are chosen so that the estimate is interior
    res = site_effect(frame, cqa="viability")
    assert res.within_site_variance == pytest.approx(a["msw"], rel=RTOL)
    assert res.between_site_variance == pytest.approx(a["reml_between"], rel=RTOL)
    icc = a["reml_between"] / (a["reml_between"] + a["msw"])
    assert res.icc == pytest.approx(icc, rel=RTOL)
    # The intercept and its exact balanced-design interval: mean ± t(a-1) sqrt(MSB / N).
    half = stats.t.ppf(0.975, a["a"] - 1) * np.sqrt(a["msb"] / a["N"])
    assert res.intercept == pytest.approx(a["mean"], rel=1e-6)
    assert res.ci_df == a["a"] - 1
    assert res.ci_low == pytest.approx(a["mean"] - half, rel=RTOL)
    assert res.ci_high == pytest.approx(a["mean"] + half, rel=RTOL)
    assert (res.n_sites, res.n_lots) == (6, 48)


@pytest.mark.parametrize("seed", [5, 8, 13])
def test_likelihood_ratio_statistic_agrees_with_closed_form_ml(seed: int) -> None:
    frame = _balanced(seed)
    a = _anova(frame)
    full = _ml_loglik(frame, a["ml_between"], a["msw"], a["mean"])
    null = -0.5 * a["N"] * (np.log(2 * np.pi * a["sst"] / a["N"]) + 1)
    lrt = 2 * (full - null)
    res = site_effect(frame, cqa="viability")
    assert res.lrt_statistic == pytest.approx(lrt, rel=RTOL)
    # Self & Liang (1987): 50:50 mixture of chi2(0) and chi2(1).
    assert res.lrt_p_value == pytest.approx(0.5 * stats.chi2.sf(lrt, 1), rel=RTOL)
    assert res.conclusion == (
        "site variance detected" if res.lrt_p_value < 0.05 else "no site variance detected"
    )


def test_chi_bar_square_critical_value() -> None:
    """The 5 % critical value of the 50:50 mixture is the chi2(1) 90 % quantile, 2.7055."""
    frame = _balanced(8)
    res = site_effect(frame, cqa="viability")
    mixture_p = 0.5 * stats.chi2.sf(res.lrt_statistic, 1)
    assert res.lrt_p_value == pytest.approx(mixture_p)
    assert 0.5 * stats.chi2.sf(stats.chi2.ppf(0.90, 1), 1) == pytest.approx(0.05)


def test_boundary_fit_warning_becomes_a_caveat_and_does_not_escape() -> None:
    # No site effect at all: statsmodels warns "The MLE may be on the boundary".
    frame = _balanced(1, between_sd=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = site_effect(frame, cqa="viability")
    a = _anova(frame)
    assert a["reml_between"] < 0 and a["ml_between"] < 0  # both estimators truncate at zero
    assert res.between_site_variance == pytest.approx(0.0, abs=1e-6 * a["msw"])
    # At the boundary REML's within-site variance is the total variance, SST / (N - 1).
    assert res.within_site_variance == pytest.approx(a["sst"] / (a["N"] - 1), rel=RTOL)
    assert (res.lrt_statistic, res.lrt_p_value, res.icc) == (0.0, 1.0, pytest.approx(0, abs=1e-6))
    assert any("statsmodels warned" in c and "boundary" in c for c in res.caveats)
    assert any("estimated at zero" in c for c in res.caveats)
    assert res.conclusion == "no site variance detected"


def test_convergence_warnings_are_caveats_other_warnings_pass_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = MixedLM.fit

    def noisy_fit(self, *args, **kwargs):
        warnings.warn("Gradient optimization failed", ConvergenceWarning, stacklevel=2)  # noqa: TID251
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MixedLM, "fit", noisy_fit)
    res = site_effect(_balanced(5), cqa="viability")
    assert any(
        "Gradient optimization failed" in c and c.startswith("REML fit") for c in res.caveats
    )

    def other_warning_fit(self, *args, **kwargs):
        warnings.warn("something else", RuntimeWarning, stacklevel=2)  # noqa: TID251
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MixedLM, "fit", other_warning_fit)
    with pytest.warns(RuntimeWarning, match="something else"):
        site_effect(_balanced(5), cqa="viability")


def test_few_sites_and_unbalanced_caveats() -> None:
    frame = _balanced(13, sites=3, lots=6).iloc[:-2]
    res = site_effect(frame, cqa="viability")
    assert any(c.startswith("only 3 sites") for c in res.caveats)
    assert any(c.startswith("unbalanced design") for c in res.caveats)


def test_numeric_covariate_enters_as_a_fixed_effect() -> None:
    frame = _balanced(8)
    rng = np.random.default_rng(0)
    frame["age"] = rng.uniform(20, 70, len(frame))
    frame["value"] = frame["value"] + 0.5 * (frame["age"] - 45)
    res = site_effect(frame, cqa="viability", covariates=["age"])
    assert res.covariates == ("age",)
    assert res.ci_df == 6 - 2
    assert res.within_site_variance < 6  # the age effect is not left in the residual
    frame["age"] = "old"
    with pytest.raises(InvalidInputError) as info:
        site_effect(frame, cqa="viability", covariates=["age"])
    assert info.value.field == "age"


def test_bad_input() -> None:
    frame = _balanced(5)
    with pytest.raises(InvalidInputError, match=r"unknown cqa 'vcn'.*'viability'"):
        site_effect(frame, cqa="vcn")
    with pytest.raises(InvalidInputError, match="at least two sites"):
        site_effect(frame[frame["site"] == "S0"], cqa="viability")
    with pytest.raises(InvalidInputError) as info:
        site_effect(frame.drop(columns="site"), cqa="viability")
    assert info.value.field == "site"

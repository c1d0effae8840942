"""The sliding scale: logistic fits against published numbers and statsmodels, bands, chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped]

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import fit_logistic, plot_sliding_scale, sliding_scale

# Bliss (1935) beetle mortality, as in Dobson & Barnett, An Introduction to Generalized
# Linear Models, 3rd ed. (2008), Table 7.2: log10 CS2 dose, beetles, deaths.
BEETLE_X = [1.6907, 1.7242, 1.7552, 1.7842, 1.8113, 1.8369, 1.8610, 1.8839]
BEETLE_N = [59, 60, 62, 56, 63, 59, 62, 60]
BEETLE_Y = [6, 13, 18, 28, 52, 53, 61, 60]


def _beetles() -> tuple[np.ndarray, np.ndarray]:
    x = np.repeat(BEETLE_X, BEETLE_N)
    y = np.concatenate([[1] * d + [0] * (n - d) for d, n in zip(BEETLE_Y, BEETLE_N, strict=True)])
    return x, y


def test_logistic_fit_matches_dobson_and_barnett_beetle_example() -> None:
    # Dobson & Barnett 2008, section 7.3.1: logistic model b1 = -60.72 (SE 5.18),
    # b2 = 34.27 (SE 2.91).
    x, y = _beetles()
    fit = fit_logistic(x, y, endpoint="death", predictor="log10_dose", log=False)
    assert fit.intercept == pytest.approx(-60.72, abs=0.01)
    assert fit.slope == pytest.approx(34.27, abs=0.01)
    se = np.sqrt(np.diag(fit.cov))
    assert se == pytest.approx([5.18, 2.91], abs=0.01)
    assert (fit.n, fit.n_events) == (481, 291)


def _cohort(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dose = np.repeat([1e6, 3e6, 1e7, 3e7, 1e8], 6)
    z = np.log(dose / 1e7)
    responder = rng.random(dose.size) < 1 / (1 + np.exp(-(0.3 + 0.8 * z)))
    crs = rng.random(dose.size) < 1 / (1 + np.exp(-(-2.0 + 0.9 * z)))
    return pd.DataFrame({"dose": dose, "responder": responder * 1, "crs_grade3": crs * 1})


def test_glm_numbers_equal_statsmodels_on_log_dose() -> None:
    table = _cohort()
    fit = fit_logistic(table["dose"], table["responder"], endpoint="response")
    design = sm.add_constant(np.log(table["dose"].to_numpy()))
    ref = sm.GLM(table["responder"].to_numpy(), design, family=sm.families.Binomial()).fit()
    assert [fit.intercept, fit.slope] == pytest.approx(list(ref.params), rel=1e-10)
    np.testing.assert_allclose(fit.cov, ref.cov_params(), rtol=1e-8)
    grid = np.array([1e6, 1e7, 1e8])
    band = fit.predict(grid)
    pred = ref.get_prediction(sm.add_constant(np.log(grid))).summary_frame(alpha=0.05)
    np.testing.assert_allclose(band["p"], pred["mean"], rtol=1e-10)
    # statsmodels builds the interval on the link scale too, so the bands agree
    np.testing.assert_allclose(band["low"], pred["mean_ci_lower"], rtol=1e-8)
    np.testing.assert_allclose(band["high"], pred["mean_ci_upper"], rtol=1e-8)


def test_bands_contain_the_fit_and_curves_are_monotonic() -> None:
    curves = sliding_scale(_cohort(1))
    for name in ("response", "toxicity"):
        p = curves[f"p_{name}"]
        assert (curves[f"{name}_low"] <= p).all()
        assert (p <= curves[f"{name}_high"]).all()
        slope = curves.attrs["fits"][name]["slope"]
        diffs = np.diff(p.to_numpy())
        assert (diffs > 0).all() if slope > 0 else (diffs < 0).all()
    assert curves["x"].iloc[0] == pytest.approx(1e6)
    assert curves["x"].iloc[-1] == pytest.approx(1e8)


def test_bad_input_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidInputError, match="0 or 1"):
        fit_logistic([1, 2, 3, 4], [0, 1, 2, 0], endpoint="response")
    with pytest.raises(InvalidInputError, match="positive"):
        fit_logistic([0, 2, 3, 4], [0, 1, 1, 0], endpoint="response")
    with pytest.raises(InvalidInputError, match="both outcomes"):
        fit_logistic([1, 2, 3, 4], [1, 1, 1, 1], endpoint="response")
    with pytest.raises(InvalidInputError, match="separated"):
        fit_logistic([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1], endpoint="response")
    with pytest.raises(InvalidInputError, match="no column"):
        sliding_scale(pd.DataFrame({"dose": [1.0]}))


def test_chart_marks_each_design_recommendation() -> None:
    curves = sliding_scale(_cohort(2))
    observed = pd.DataFrame(
        {"x": [1e6, 1e8], "response_rate": [0.2, 0.8], "toxicity_rate": [0.0, 0.5], "n": [6, 6]}
    )
    fig = plot_sliding_scale(
        curves, recommendations=[("BOIN12", 1e7), ("3+3", 3e7)], observed=observed
    )
    ax = fig.axes[0]
    xs = [np.asarray(line.get_xdata(), dtype=float) for line in ax.get_lines()]
    assert sorted(float(x[0]) for x in xs if np.ptp(x) == 0) == [1e7, 3e7]
    assert [t.get_text() for t in ax.texts] == ["BOIN12", "3+3"]
    assert ax.get_xscale() == "log"

"""Control charts against published worked examples, and the ``process limits`` command.

Sources of the reference numbers (details in docs/validation/spc.md):

* Piston rings: Montgomery, D. C. (2009), Introduction to Statistical Quality Control,
  6th ed., Table 6.3 and Example 6.3 (X-bar and s charts; a chapter exercise on the same
  data notes that X-bar limits from R are identical); the R package qcc documents the same
  data as ``pistonrings`` (citing Montgomery 1991, 2nd ed., pp. 206-213), and qcc's output
  is recorded in the tests of the Python package ``mistat`` (Kenett, Zacks and Gedeck),
  which compare with R.
* EWMA: NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.2.4.
* CUSUM: Montgomery (2009), Example 9.1, Table 9.1 (data) and Table 9.2 (C+ column as
  transcribed in the open-source ``process_improve`` test suite).
* Individuals: qcc's ``xbar.one`` example on Montgomery's viscosity data (p. 242 of the
  edition qcc cites).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from statsmodels.tsa.ar_model import AutoReg
from typer.main import get_command

import vein2vein.process as P
from vein2vein.cli._process import register
from vein2vein.errors import InvalidInputError
from vein2vein.process import ControlLimits, chart_constants

SPC_DATA = Path(__file__).parents[2].parent / "shared" / "data" / "spc"
PISTONRINGS = SPC_DATA / "pistonrings.csv"


@pytest.fixture(scope="module")
def pistonrings() -> pd.DataFrame:
    if not PISTONRINGS.exists():
        pytest.skip(f"shared data folder missing: {PISTONRINGS} (piston-ring tests need it)")
    return pd.read_csv(PISTONRINGS)


# ================================================================ piston rings (X-bar/R, X-bar/s)


def test_piston_rings_xbar_r_trial_limits_match_montgomery(pistonrings: pd.DataFrame) -> None:
    res = P.xbar_r(pistonrings[["subgroup", "value"]], phase1=25)
    xbar, r = res["xbar"], res["range"]
    # Montgomery (2009) Example 6.3 / Section 6.2: x-double-bar 74.001, UCL 74.014, LCL 73.988.
    assert round(xbar.center, 3) == 74.001
    assert round(float(xbar.ucl[0]), 3) == 74.014
    assert round(float(xbar.lcl[0]), 3) == 73.988
    # R chart: R-bar 0.023, LCL 0 (D3 = 0 for n = 5).
    assert round(r.center, 3) == 0.023
    assert r.lcl[0] == 0.0
    # The book's R-chart UCL, 0.049, is D4 times R-bar *rounded* to 0.023 (2.114 * 0.023 =
    # 0.0486); from the unrounded R-bar = 0.02276 it is 0.0481.
    assert round(chart_constants(5).D4 * 0.023, 3) == 0.049
    assert float(r.ucl[0]) == pytest.approx(0.02276 * chart_constants(5).D4, abs=1e-12)
    assert res.limits.n == 25 and res.limits.subgroup_size == 5


def test_piston_rings_agree_with_r_qcc(pistonrings: pd.DataFrame) -> None:
    """qcc(diameter[1:25,], type = "xbar" / "R" / "S"), as recorded by mistat's R comparison.

    qcc divides by d2 printed to 3 decimals (2.326), so its sigma differs from the exact
    d2 = 2.325929 in the 5th significant digit; the limits agree to qcc's printed digits.
    """
    data = pistonrings[["subgroup", "value"]]
    r = P.xbar_r(data, phase1=25)
    s = P.xbar_s(data, phase1=25)
    assert r["xbar"].center == pytest.approx(74.00118, abs=5e-6)
    assert r.limits.sigma == pytest.approx(0.009785039, rel=5e-5)
    assert float(r["xbar"].lcl[0]) == pytest.approx(73.98805, abs=5e-6)
    assert float(r["xbar"].ucl[0]) == pytest.approx(74.0143, abs=5e-5)
    assert r["range"].center == pytest.approx(0.02276, abs=5e-9)
    assert float(r["range"].ucl[0]) == pytest.approx(0.04812533, abs=1e-6)
    assert s["stdev"].center == pytest.approx(0.009240037, abs=5e-10)
    assert s.limits.sigma == pytest.approx(0.009829977, abs=5e-9)
    assert float(s["stdev"].ucl[0]) == pytest.approx(0.019302416, abs=5e-9)


def test_piston_rings_xbar_s_matches_example_6_3(pistonrings: pd.DataFrame) -> None:
    s = P.xbar_s(pistonrings[["subgroup", "value"]], phase1=25)
    assert round(s["xbar"].center, 3) == 74.001
    assert round(float(s["xbar"].ucl[0]), 3) == 74.014
    assert round(float(s["xbar"].lcl[0]), 3) == 73.988
    k = chart_constants(5)
    assert float(s["xbar"].ucl[0]) == pytest.approx(s["xbar"].center + k.A3 * s["stdev"].center)
    assert float(s["stdev"].ucl[0]) == pytest.approx(k.B4 * s["stdev"].center)
    assert s["stdev"].lcl[0] == 0.0


@pytest.mark.parametrize("function", [P.xbar_r, P.xbar_s])
def test_piston_rings_phase_ii_signals_at_subgroups_37_to_39(
    pistonrings: pd.DataFrame, function: object
) -> None:
    res = function(pistonrings[["subgroup", "value"]], phase1=25)  # type: ignore[operator]
    xbar = res["xbar"]
    assert xbar.phase == ("I",) * 25 + ("II",) * 15
    beyond = [v.label for v in xbar.violations if v.rule == "N1"]
    assert beyond == ["37", "38", "39"]  # Montgomery: subgroups 37-39 above the UCL
    assert all(v.index >= 25 for v in xbar.violations)  # Phase I is in control
    assert res.charts[1].violations == ()  # no dispersion signal


def test_piston_rings_two_d_array_equals_the_long_frame(pistonrings: pd.DataFrame) -> None:
    wide = pistonrings["value"].to_numpy().reshape(40, 5)
    a = P.xbar_r(wide, phase1=25)
    b = P.xbar_r(pistonrings[["subgroup", "value"]], phase1=25)
    np.testing.assert_allclose(a["xbar"].statistic, b["xbar"].statistic)
    assert a.limits.to_dict() == b.limits.to_dict()
    assert a["xbar"].labels[0] == "0" and b["xbar"].labels[0] == "1"


def test_stored_limits_monitor_phase_ii_like_phase1(pistonrings: pd.DataFrame) -> None:
    data = pistonrings[["subgroup", "value"]]
    stored = P.limits_from(data[data.subgroup <= 25], chart="xbar-r")
    payload = json.loads(json.dumps(stored.to_dict(), allow_nan=False))
    restored = ControlLimits.from_dict(payload)
    assert restored == stored
    monitored = P.xbar_r(data[data.subgroup > 25], limits=restored)
    assert set(monitored["xbar"].phase) == {"II"}
    assert [v.label for v in monitored["xbar"].violations if v.rule == "N1"] == ["37", "38", "39"]
    both = P.xbar_r(data, phase1=25)
    np.testing.assert_allclose(monitored["xbar"].ucl, both["xbar"].ucl[25:])


# ================================================================ individuals (I-MR)


VISCOSITY = [33.75, 33.05, 34, 33.81, 33.46, 34.02, 33.68, 33.27, 33.49, 33.20, 33.62, 33.00]
VISCOSITY += [33.54, 33.12, 33.84]


def test_imr_matches_qcc_xbar_one_on_montgomery_viscosity() -> None:
    """qcc: center 33.52333, std.dev 0.4261651, limits 32.24484 / 34.80183 (d2 = 1.128)."""
    res = P.imr(VISCOSITY)
    assert res.limits.center == pytest.approx(33.52333, abs=5e-6)
    mr_bar = res.limits.params["mr_bar"]
    assert mr_bar / 1.128 == pytest.approx(0.4261651, abs=5e-8)  # qcc's printed d2
    assert res.limits.sigma == pytest.approx(mr_bar / (2 / math.sqrt(math.pi)), rel=1e-12)
    # Exact d2(2) = 1.12838 moves the limits by less than 0.001 from qcc's.
    assert res.limits.lcl == pytest.approx(32.24484, abs=1e-3)
    assert res.limits.ucl == pytest.approx(34.80183, abs=1e-3)
    assert res["moving_range"].ucl[0] == pytest.approx(chart_constants(2).D4 * mr_bar)


def test_imr_structure_and_moving_range() -> None:
    res = P.imr(pd.Series([10.0, 12.0, 11.0, 13.0], index=["a", "b", "c", "d"]))
    assert res.names == ("individuals", "moving_range")
    mr = res["moving_range"].statistic
    assert math.isnan(mr[0]) and mr[1:].tolist() == [2.0, 1.0, 2.0]
    assert res["individuals"].labels == ("a", "b", "c", "d")
    frame = res.to_frame()
    assert list(frame.columns[:9]) == [
        "chart", "point", "label", "phase", "statistic", "center", "lcl", "ucl", "rules",
    ]  # fmt: skip
    assert len(frame) == 8
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert payload["charts"][1]["statistic"][0] is None
    with pytest.raises(ValueError, match="read-only"):
        res["individuals"].statistic[0] = 1.0


def test_imr_phase1_sets_limits_from_the_first_points_only() -> None:
    x = [10.0, 11.0, 10.5, 10.2, 10.8, 10.4, 25.0, 10.1]
    res = P.imr(x, phase1=6)
    base = np.array(x[:6])
    sigma = np.abs(np.diff(base)).mean() / chart_constants(2).d2
    assert res.limits.center == pytest.approx(base.mean())
    assert res.limits.sigma == pytest.approx(sigma)
    assert res.limits.ucl == pytest.approx(base.mean() + 3 * sigma)
    assert res["individuals"].phase == ("I",) * 6 + ("II",) * 2
    assert [v.index for v in res["individuals"].violations if v.rule == "N1"] == [6]
    assert {v.index for v in res["moving_range"].violations} == {6, 7}


def test_imr_with_stored_limits_and_western_electric_rules() -> None:
    lim = P.limits_from([10.0, 12.0, 11.0, 13.0, 12.0], chart="imr")
    res = P.imr([11.0, 30.0, 11.5], limits=lim, rules="western_electric")
    assert [v.rule for v in res["individuals"].violations] == ["WE1"]
    assert res["individuals"].violations[0].index == 1
    assert res["individuals"].phase == ("II", "II", "II")


# ================================================================ EWMA (NIST 6.3.2.4)

NIST_EWMA_DATA = [52.0, 47.0, 53.0, 49.3, 50.1, 47.0, 51.0, 50.1, 51.2, 50.5]
NIST_EWMA_DATA += [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]
# The handbook's EWMA column (EWMA_0 = 50.00 left out), printed to 2 decimals.
NIST_EWMA = [50.60, 49.52, 50.56, 50.18, 50.16, 49.21, 49.75, 49.85, 50.26, 50.33]
NIST_EWMA += [50.11, 49.36, 49.52, 50.05, 49.38, 49.92, 50.73, 51.23, 51.94, 51.99]


def test_ewma_reproduces_the_nist_handbook_table() -> None:
    res = P.ewma(NIST_EWMA_DATA, lam=0.3, width=3.0, target=50.0, sigma=2.0539)
    chart = res["ewma"]
    np.testing.assert_allclose(chart.statistic, NIST_EWMA, atol=0.005 + 1e-9)
    # UCL = 50 + 3 (0.4201)(2.0539) = 52.5884; LCL printed 47.4115 (truncated, 47.41157).
    assert res.limits.ucl == pytest.approx(52.5884, abs=5e-5)
    assert res.limits.lcl == pytest.approx(47.4115, abs=1e-4)
    assert chart.violations == ()  # the handbook: no point out of control
    assert set(chart.phase) == {"II"}  # target and sigma were given


def test_ewma_time_varying_limits_are_exact() -> None:
    lam, width, target, sigma = 0.3, 3.0, 50.0, 2.0539
    res = P.ewma(NIST_EWMA_DATA, lam=lam, width=width, target=target, sigma=sigma)
    i = np.arange(1, 21)
    half = width * sigma * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * i)))
    np.testing.assert_allclose(res["ewma"].ucl, target + half, rtol=1e-13)
    np.testing.assert_allclose(res["ewma"].lcl, target - half, rtol=1e-13)
    assert res["ewma"].ucl[0] == pytest.approx(target + width * sigma * lam)  # i = 1
    assert res["ewma"].ucl[-1] == pytest.approx(res.limits.ucl, abs=1e-5)  # asymptote


def test_ewma_montgomery_example_against_a_plain_recomputation() -> None:
    """Montgomery Example 9.2 settings (lambda 0.1, L 2.7, target 10, sigma 1, Table 9.1)."""
    res = P.ewma(MONTGOMERY_9_1, lam=0.1, width=2.7, target=10.0, sigma=1.0)
    z, zs = 10.0, []
    for x in MONTGOMERY_9_1:
        z = 0.1 * x + 0.9 * z
        zs.append(z)
    np.testing.assert_allclose(res["ewma"].statistic, zs, rtol=1e-14)
    assert res["ewma"].statistic[:2].round(4).tolist() == [9.945, 9.7495]
    assert res["ewma"].ucl[:2].round(2).tolist() == [10.27, 10.36]
    i = np.arange(1, 31)
    ucl = 10 + 2.7 * np.sqrt(0.1 / 1.9 * (1 - 0.9 ** (2 * i)))
    expected = [int(k) for k in np.flatnonzero(np.array(zs) > ucl)]
    assert [v.index for v in res.violations] == expected == [28, 29]


def test_ewma_estimates_from_phase1_and_monitors_with_stored_limits() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(100, 2, 40), rng.normal(103, 2, 20)])
    res = P.ewma(x, lam=0.2, phase1=40)
    base = x[:40]
    assert res.limits.center == pytest.approx(base.mean())
    assert res.limits.sigma == pytest.approx(np.abs(np.diff(base)).mean() / chart_constants(2).d2)
    assert res.violations and min(v.index for v in res.violations) >= 40
    again = P.ewma(x[40:], limits=ControlLimits.from_dict(res.limits.to_dict()))
    assert again.limits.params["lam"] == 0.2 and set(again["ewma"].phase) == {"II"}


# ================================================================ CUSUM (Montgomery Example 9.1)

MONTGOMERY_9_1 = [9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34]
MONTGOMERY_9_1 += [9.03, 11.47, 10.51, 9.40, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84]
MONTGOMERY_9_1 += [10.90, 9.33, 12.29, 11.50, 10.60, 11.08, 10.38, 11.62, 11.31, 10.52]
# Table 9.2, C+ for periods 1..30 (k = 0.5, h = 5, mu0 = 10, sigma = 1).
MONTGOMERY_C_PLUS = [0.0, 0.0, 0.0, 1.16, 2.82, 2.50, 0.04, 1.00, 0.0, 0.0]
MONTGOMERY_C_PLUS += [0.0, 0.97, 0.98, 0.0, 0.0, 0.0, 0.12, 0.0, 0.0, 0.34]
MONTGOMERY_C_PLUS += [0.74, 0.0, 1.79, 2.79, 2.89, 3.47, 3.35, 4.47, 5.28, 5.30]


def _plain_cusum(x: list[float], mu0: float, k: float) -> tuple[list[float], list[float]]:
    hi, lo, c_hi, c_lo = [], [], 0.0, 0.0
    for xi in x:
        c_hi = max(0.0, xi - (mu0 + k) + c_hi)
        c_lo = max(0.0, (mu0 - k) - xi + c_lo)
        hi.append(c_hi)
        lo.append(c_lo)
    return hi, lo


def test_cusum_reproduces_montgomery_table_9_2() -> None:
    res = P.cusum(MONTGOMERY_9_1, k=0.5, h=5.0, target=10.0, sigma=1.0)
    upper, lower = res["cusum_upper"], res["cusum_lower"]
    assert upper.statistic.round(2).tolist() == MONTGOMERY_C_PLUS
    hi, lo = _plain_cusum(MONTGOMERY_9_1, 10.0, 0.5)
    np.testing.assert_allclose(upper.statistic, hi, atol=1e-12)
    np.testing.assert_allclose(lower.statistic, lo, atol=1e-12)
    assert lower.statistic[:3].round(2).tolist() == [0.05, 1.56, 1.77]
    # The first signal is at observation 29 (index 28): C+ = 5.28 > H = 5, N+ = 7, so the
    # shift began after observation 22; estimated mean 10 + 0.5 + 5.28 / 7 = 11.25.
    first = res.violations[0]
    assert (first.rule, first.index, first.chart) == ("CUSUM", 28, "cusum_upper")
    assert upper.extras["run_length"][28] == 7
    assert first.points == tuple(range(22, 29))
    assert "estimated mean 11.25" in first.description
    assert [v.index for v in res.violations] == [28, 29]  # no reset: 5.30 at 30 too
    assert lower.violations == ()


def test_cusum_in_data_units_and_estimates() -> None:
    x = [v * 2 + 100 for v in MONTGOMERY_9_1]  # same process, sigma 2, target 120
    res = P.cusum(x, target=120.0, sigma=2.0)
    assert res["cusum_upper"].statistic.round(2).tolist() == MONTGOMERY_C_PLUS
    np.testing.assert_allclose(
        res["cusum_upper"].extras["data_units"], res["cusum_upper"].statistic * 2.0
    )
    est = P.cusum(MONTGOMERY_9_1, phase1=20)
    assert est.limits.center == pytest.approx(np.mean(MONTGOMERY_9_1[:20]))
    assert est.limits.to_dict()["lcl"] == -5.0 and est.limits.ucl == 5.0


# ================================================================ residual charts (AR(p))


def _ar1(n: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = 50.0
    for t in range(1, n):
        x[t] = 50.0 + phi * (x[t - 1] - 50.0) + rng.normal()
    return x


def test_residual_chart_uses_an_ar_fit_on_phase1() -> None:
    x = _ar1(160, 0.8, seed=11)
    x[130] += 6.0  # a 6-sigma upset of one reading
    res = P.residual_chart(x, order=1, phase1=120)
    fit = AutoReg(x[:120], lags=1, trend="c").fit()
    const, phi = fit.params
    assert res.limits.params["ar_const"] == pytest.approx(const)
    assert res.limits.params["ar_coef"] == pytest.approx([phi])
    resid = res["residuals"].statistic
    assert math.isnan(resid[0])
    np.testing.assert_allclose(resid[1:], x[1:] - const - phi * x[:-1], rtol=1e-12)
    np.testing.assert_allclose(resid[1:120], fit.resid, atol=1e-9)
    base = resid[1:120]
    sigma = np.abs(np.diff(base)).mean() / chart_constants(2).d2
    assert res.limits.sigma == pytest.approx(sigma)
    assert res.limits.center == pytest.approx(base.mean(), abs=1e-9)
    assert res.limits.chart == "residual_imr"
    # The upset shows on the residual chart at its own point.
    assert 130 in [v.index for v in res["residuals"].violations if v.rule == "N1"]


def test_residual_chart_removes_the_false_alarms_of_autocorrelation() -> None:
    x = _ar1(300, 0.9, seed=5)  # in control, strongly autocorrelated
    raw = P.imr(x)
    resid = P.residual_chart(x, order=1)
    assert len(raw["individuals"].violations) > 5 * max(1, len(resid["residuals"].violations))


def test_residual_chart_monitors_with_stored_coefficients() -> None:
    x = _ar1(150, 0.7, seed=2)
    stored = P.limits_from(x[:100], chart="residual_imr", order=2)
    assert len(stored.params["ar_coef"]) == 2
    restored = ControlLimits.from_dict(json.loads(json.dumps(stored.to_dict())))
    res = P.residual_chart(x[100:], limits=restored)
    coef = np.array(stored.params["ar_coef"])
    tail = x[100:]
    expected = tail[2:] - stored.params["ar_const"] - coef[0] * tail[1:-1] - coef[1] * tail[:-2]
    np.testing.assert_allclose(res["residuals"].statistic[2:], expected, rtol=1e-12)
    assert res.limits is restored


# ================================================================ input checks


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: P.imr([1.0]), "values"),
        (lambda: P.imr([1.0, math.nan, 2.0]), "values"),
        (lambda: P.imr([[1.0, 2.0]]), "values"),
        (lambda: P.imr([2.0, 2.0, 2.0]), "values"),
        (lambda: P.imr([1.0, 2.0, 3.0], phase1=5), "phase1"),
        (lambda: P.imr([1.0, 2.0, 3.0], phase1=1), "phase1"),
        (lambda: P.xbar_r([[1.0, 2.0], [2.0, 3.0, 4.0]]), "subgroups"),
        (lambda: P.xbar_r([[1.0], [2.0]]), "subgroups"),
        (lambda: P.xbar_r([[1.0, 2.0, 3.0]]), "values"),
        (
            lambda: P.xbar_s(pd.DataFrame({"subgroup": [1, 1, 2, 2, 2], "value": [1.0] * 5})),
            "subgroup",
        ),
        (lambda: P.xbar_s(pd.DataFrame({"value": [1.0, 2.0]})), "subgroup"),
        (lambda: P.ewma([1.0, 2.0, 3.0], lam=1.5), "lam"),
        (lambda: P.ewma([1.0, 2.0, 3.0], width=0), "width"),
        (lambda: P.cusum([1.0, 2.0, 3.0], h=0), "h"),
        (lambda: P.cusum([1.0, 2.0, 3.0], k=-1), "k"),
        (lambda: P.residual_chart([1.0, 2.0, 3.0, 4.0]), "values"),
        (lambda: P.residual_chart(list(range(20)), order=0), "order"),
        (lambda: P.limits_from([1.0, 2.0], chart="p-chart"), "chart"),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        call()  # type: ignore[operator]
    assert info.value.field == field


def test_stored_limits_must_fit_the_chart() -> None:
    lim = P.limits_from([10.0, 12.0, 11.0, 13.0], chart="imr")
    with pytest.raises(InvalidInputError, match="'imr' chart, not 'ewma'"):
        P.ewma([1.0, 2.0], limits=lim)
    with pytest.raises(InvalidInputError) as info:
        P.imr([1.0, 2.0], limits=lim, phase1=1)
    assert info.value.field == "phase1"
    xr = P.limits_from([[1.0, 2.0, 3.0], [2.0, 3.0, 5.0]], chart="xbar_r")
    with pytest.raises(InvalidInputError, match="subgroups of 3"):
        P.xbar_r([[1.0, 2.0], [2.0, 3.0]], limits=xr)
    for bad in ({**lim.to_dict(), "schema_version": 99}, {**lim.to_dict(), "chart": "np"}):
        with pytest.raises(InvalidInputError):
            ControlLimits.from_dict(bad)
    with pytest.raises(InvalidInputError) as info:
        ControlLimits.from_dict({**lim.to_dict(), "sigma": "x"})
    assert info.value.field == "sigma"


@pytest.mark.parametrize(
    "make",
    [
        lambda x: P.imr(x, phase1=30),
        lambda x: P.xbar_r(x[:40].reshape(10, 4), phase1=6),
        lambda x: P.xbar_s(x[:40].reshape(10, 4)),
        lambda x: P.ewma(x, phase1=30),
        lambda x: P.cusum(x, phase1=30),
        lambda x: P.residual_chart(x, order=2, phase1=30),
    ],
)
def test_every_result_is_strict_json_and_a_tidy_frame(make: object) -> None:
    x = np.random.default_rng(1).normal(10.0, 1.0, 60)
    res = make(x)  # type: ignore[operator]
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert payload["kind"] == res.kind == res.limits.chart
    assert ControlLimits.from_dict(payload["limits"]) == res.limits
    frame = res.to_frame()
    assert len(frame) == sum(c.n_points for c in res.charts)
    assert set(frame["phase"]) <= {"I", "II"}
    for chart in res.charts:
        assert chart.lcl.shape == chart.ucl.shape == chart.statistic.shape


def test_public_functions_keep_options_keyword_only() -> None:
    import inspect

    for name in P.__all__:
        obj = getattr(P, name)
        assert inspect.getdoc(obj), name
        if inspect.isfunction(obj):
            positional = [
                p
                for p in inspect.signature(obj).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            assert len(positional) <= 3, name


# ================================================================ CLI: process limits


def _cli(*args: str) -> None:
    app = typer.Typer()
    register(app)
    get_command(app).main(args=["process", *args], standalone_mode=False)


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    _cli(*args, "--json")
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_cli_xbar_r_on_piston_rings_uses_the_phase_column(
    pistonrings: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _json(capsys, "limits", str(PISTONRINGS), "--chart", "xbar-r")
    assert out["phase1"] == 25 and out["points"] == 40
    xbar, r = out["charts"]
    assert (xbar["chart"], r["chart"]) == ("xbar", "range")
    assert round(xbar["center"], 3) == 74.001
    assert (round(xbar["lcl"], 3), round(xbar["ucl"], 3)) == (73.988, 74.014)
    assert round(r["center"], 3) == 0.023 and r["lcl"] == 0.0
    assert [(v["rule"], v["point"]) for v in xbar["violations"] if v["rule"] == "N1"] == [
        ("N1", 37),
        ("N1", 38),
        ("N1", 39),
    ]
    assert out["limits"]["chart"] == "xbar_r"
    same = _json(capsys, "limits", str(PISTONRINGS), "--chart", "xbar-r", "--phase1", "25")
    assert same["charts"] == out["charts"]
    _cli("limits", str(PISTONRINGS), "--chart", "xbar-s", "--rules", "western-electric")
    text = capsys.readouterr().out
    assert "stdev" in text and "WE1" in text and "74.0144" in text


def test_cli_individual_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "viability.csv"
    data.write_text("value\n" + "\n".join(str(v) for v in NIST_EWMA_DATA) + "\n")
    imr = _json(capsys, "limits", str(data), "--chart", "imr")
    assert [c["chart"] for c in imr["charts"]] == ["individuals", "moving_range"]
    assert imr["charts"][0]["center"] == pytest.approx(np.mean(NIST_EWMA_DATA))
    ewma = _json(capsys, "limits", str(data), "--chart", "ewma", "--lambda", "0.3")
    chart = ewma["charts"][0]
    assert len(chart["lcl_by_point"]) == 20 and len(chart["statistic"]) == 20
    assert chart["ucl"] == pytest.approx(ewma["limits"]["ucl"])
    assert chart["ucl_by_point"][-1] < chart["ucl"]
    cusum = _json(capsys, "limits", str(data), "--chart", "cusum", "--k", "0.5", "--h", "4")
    assert [c["chart"] for c in cusum["charts"]] == ["cusum_upper", "cusum_lower"]
    assert cusum["charts"][0]["ucl"] == 4.0
    _cli("limits", str(data), "--chart", "ewma")
    assert "asymptotic" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "chart", "field", "needle"),
    [
        ("subgroup,reading\n1,2.0\n", "imr", "value", "the header lacks column(s) value"),
        ("value\n1.0\n2.0\nabc\n", "imr", "value", "line 4, column 'value': 'abc' is not"),
        ("value\n1.0\n\n2.0\nnan\n", "imr", "value", "line 5"),
        ("value\n1.0\n", "imr", "values", "at least 2"),
        ("value\n", "imr", None, "no data rows"),
        ("value\n1\n2\n", "xbar-r", "subgroup", "the header lacks column(s) subgroup"),
        (
            "subgroup,value\n1,1\n1,2\n2,1\n2,2\n3,1\n3,2\n3,3\n",
            "xbar-r",
            "subgroup",
            "line 6: subgroup '3' has 3 value(s), the others have 2",
        ),
        ("value,phase\n1,I\n2,II\n3,I\n", "imr", "phase", "line 4: a Phase I row after"),
        ("value,phase\n1\n2,II\n", "imr", "phase", "line 2: phase '' is not I or II"),
        ("value\n1\n2\n", "pchart", "chart", "unknown chart"),
    ],
)
def test_cli_bad_files_name_file_line_and_field(
    tmp_path: Path, content: str, chart: str, field: str | None, needle: str
) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(content)
    with pytest.raises(InvalidInputError) as info:
        _cli("limits", str(data), "--chart", chart)
    assert info.value.field == field
    assert needle in str(info.value)
    if field != "chart":
        assert info.value.file == str(data)


def test_cli_wired_into_main_gives_exit_code_2(tmp_path: Path) -> None:
    from vein2vein.cli import app, main

    if "process" not in {g.name for g in app.registered_groups}:
        pytest.skip("the process command group is not wired into vein2vein.cli yet")
    data = tmp_path / "bad.csv"
    data.write_text("value\nx\n")
    assert main(["process", "limits", str(data)]) == 2


def test_stored_xbar_limits_without_spread_limits_are_refused() -> None:
    import dataclasses

    data = np.random.default_rng(3).normal(10, 1, (30, 4))
    stored = P.xbar_r(data, phase1=20).limits
    with pytest.raises(InvalidInputError) as caught:
        P.xbar_r(data[20:], limits=dataclasses.replace(stored, secondary=None))
    assert caught.value.field == "limits"

"""NCA of CAR transgene profiles, exposure by response, and the kinetics plot.

Reference values: hand-computed trapezoids; numpy/scipy trapezoid and the closed-form
integral of an exponential (independent implementations); PKNCA's own AUC tests
(humanpred/pknca, tests/testthat/test-auc.R, "Confirm BLQ in the middle or end are
calculated correctly"); scipy's Welch t-test. All profiles here are synthetic.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from vein2vein.clinical.kinetics import (
    TYPICAL_PATIENT,
    exposure_by_response,
    fit_stein,
    nca,
    plot_kinetics,
    stein_curve,
)
from vein2vein.errors import InvalidInputError

# synthetic qPCR profile (copies/ug), LLOQ 50; day 90 is BLQ
DAYS = [0, 4, 7, 14, 21, 28, 90]
LEVELS = [0, 800, 16000, 4000, 1000, 250, 20]


# ---------------------------------------------------------------- NCA: hand computations


def test_nca_hand_computed_trapezoids() -> None:
    r = nca(DAYS, LEVELS, unit="copies/ug", lloq=50)
    # linear: 0-4 (0+800)/2*4, 4-7 (800+16000)/2*3, 7-14, 14-21, 21-28
    linear = 1600 + 25200 + 70000 + 17500 + 4375
    assert r.auc_linear == pytest.approx(linear, rel=1e-12)
    # log-down on the three falling segments (each a 4-fold fall over 7 days)
    log_down = (16000 - 4000) * 7 / math.log(4) + (4000 - 1000) * 7 / math.log(4)
    log_down += (1000 - 250) * 7 / math.log(4)
    assert r.auc_lin_log == pytest.approx(1600 + 25200 + log_down, rel=1e-12)
    assert (r.cmax, r.tmax, r.clast, r.tlast) == (16000.0, 7.0, 250.0, 28.0)
    assert (r.n_points, r.n_quantifiable, r.n_auc_points) == (7, 5, 6)
    assert (r.auc_start_day, r.auc_stop_day, r.auc_truncated) == (0.0, 28.0, False)
    assert r.persistent == (True, False, None)
    assert r.persistent_at(90) is False
    assert r.auc_unit == "copies/ug*day"
    assert r.flags == ()


def test_nca_linear_matches_numpy_and_scipy_trapezoid() -> None:
    rng = np.random.default_rng(7)  # synthetic profile
    t = np.cumsum(rng.uniform(0.5, 3.0, 15))
    t = np.concatenate([[0.0], t[t < 28], [28.0]])
    c = rng.lognormal(6, 1, t.size)
    r = nca(t, c, unit="cells/uL")
    assert r.auc_linear == pytest.approx(float(np.trapezoid(c, t)), rel=1e-12)
    assert r.auc_linear == pytest.approx(float(integrate.trapezoid(c, t)), rel=1e-12)


def test_nca_log_down_is_exact_for_an_exponential_decline() -> None:
    # closed form: integral of C0 exp(-k t) from 0 to T = C0 (1 - exp(-k T)) / k
    c0, k = 5000.0, 0.23
    t = np.array([0.0, 0.5, 1.0, 3.0, 7.0, 12.0, 20.0, 28.0])
    c = c0 * np.exp(-k * t)
    r = nca(t, c, unit="copies/ug")
    exact = c0 * (1 - math.exp(-k * 28)) / k
    assert r.auc_lin_log == pytest.approx(exact, rel=1e-12)
    assert r.auc_linear > exact  # the linear trapezoid overestimates a convex decline


def test_nca_matches_pknca_reference_values() -> None:
    # PKNCA tests/testthat/test-auc.R: conc = c(0, 2, 0, 1, 2, 1, 0, 0), time = 0:7.
    conc = [0, 2, 0, 1, 2, 1, 0, 0]
    time = list(range(8))
    # conc.blq first = "keep", middle = "drop", last = "keep" -> AUClast
    # (our default: BLQ before Tmax = 0, BLQ after Tmax dropped)
    r = nca(time, conc, unit="ng/mL", auc_end=7)
    assert r.auc_linear == pytest.approx(1 + 3 + 1.5 + 1.5)
    assert r.auc_lin_log == pytest.approx(1 + 2 / math.log(2) + 1.5 + 1 / math.log(2))
    assert r.auc_truncated and r.auc_stop_day == 5.0
    assert (r.tmax, r.tlast) == (1.0, 5.0)
    # conc.blq = "keep" everywhere -> AUCall
    r = nca(time, conc, unit="ng/mL", auc_end=7, blq_after_tmax="zero")
    assert r.auc_linear == pytest.approx(1 + 1 + 0.5 + 1.5 + 1.5 + 0.5)
    assert r.auc_lin_log == pytest.approx(1 + 1 + 0.5 + 1.5 + 1 / math.log(2) + 0.5)
    assert not r.auc_truncated


# ---------------------------------------------------------------- NCA: rules


def test_blq_before_tmax_is_zero_and_after_tmax_follows_the_rule() -> None:
    t = [0, 3, 7, 14, 21, 28]
    c = [10, 30, 5000, 800, 30, 200]  # 10 and 30 are BLQ (LLOQ 50)
    excl = nca(t, c, unit="copies/ug", lloq=50)
    # 0-3: zeros; 3-7: (0 + 5000)/2*4; 7-14; 14-28 skipping the BLQ at day 21
    assert excl.auc_linear == pytest.approx(10000 + 5800 / 2 * 7 + 1000 / 2 * 14)
    half = nca(t, c, unit="copies/ug", lloq=50, blq_after_tmax="half_lloq")
    assert half.auc_linear == pytest.approx(10000 + 5800 / 2 * 7 + 825 / 2 * 7 + 225 / 2 * 7)
    assert any("LLOQ/2" in f for f in half.flags)
    zero = nca(t, c, unit="copies/ug", lloq=50, blq_after_tmax="zero")
    assert zero.auc_linear == pytest.approx(10000 + 5800 / 2 * 7 + 800 / 2 * 7 + 200 / 2 * 7)
    assert excl.tlast == half.tlast == zero.tlast == 28.0


def test_auc_is_interpolated_at_day_28() -> None:
    t, c = [0, 7, 21, 35], [0.0, 1000.0, 400.0, 100.0]
    r = nca(t, c, unit="copies/ug")
    c28_lin = 400 + 0.5 * (100 - 400)
    c28_log = 400 * (100 / 400) ** 0.5
    assert r.auc_linear == pytest.approx(3500 + 1400 * 7 + (400 + c28_lin) / 2 * 7)
    log_down = 600 * 14 / math.log(1000 / 400) + (400 - c28_log) * 7 / math.log(400 / c28_log)
    assert r.auc_lin_log == pytest.approx(3500 + log_down)
    assert r.auc_stop_day == 28.0 and not r.auc_truncated


def test_auc_is_truncated_not_extrapolated_when_sampling_stops_early() -> None:
    r = nca([0, 7, 14, 21], [0, 1000, 500, 250], unit="copies/ug")
    assert r.auc_truncated and r.auc_stop_day == 21.0
    assert r.auc_linear == pytest.approx(3500 + 750 * 7 + 375 * 7)
    assert any("truncated" in f and "not extrapolated" in f for f in r.flags)
    assert r.persistent == (None, None, None)


def test_no_day0_sample_is_flagged_and_nothing_is_assumed() -> None:
    r = nca([1, 7, 28], [100, 1000, 100], unit="copies/ug")
    assert r.auc_start_day == 1.0
    assert r.auc_linear == pytest.approx(550 * 6 + 550 * 21)
    assert any("no day-0 sample" in f for f in r.flags)


def test_first_of_tied_maxima_is_tmax() -> None:
    r = nca([0, 7, 10, 14], [0, 900, 900, 100], unit="copies/ug")
    assert r.tmax == 7.0


def test_no_quantifiable_sample() -> None:
    r = nca([0, 7, 14, 28], [0, 10, 20, 0], unit="copies/ug", lloq=50)
    assert r.cmax is None and r.tmax is None and r.tlast is None
    assert r.auc_linear == 0.0 and r.auc_lin_log == 0.0
    assert r.persistent == (False, None, None)
    assert any("no quantifiable" in f for f in r.flags)


def test_persistence_landmarks() -> None:
    t = [0, 7, 28, 60, 95, 200]
    c = [0, 5000, 300, 40, 60, 10]  # LLOQ 50: quantifiable at 7, 28, 95
    r = nca(t, c, unit="copies/ug", lloq=50, persistence_days=(28, 90, 180, 365))
    assert r.tlast == 95.0
    assert r.persistent == (True, True, False, None)
    assert r.to_dict()["persistent_day_365"] is None
    with pytest.raises(InvalidInputError) as err:
        r.persistent_at(100)
    assert err.value.field == "day"


def test_to_dict_is_json_ready() -> None:
    d = nca(DAYS, LEVELS, unit="copies/ug", lloq=50).to_dict()
    assert json.loads(json.dumps(d))["persistent_day_28"] is True


@pytest.mark.parametrize(
    ("time", "conc", "kwargs", "field"),
    [
        ([0, 7, 3], [1, 2, 3], {}, "time_days"),  # unsorted
        ([0, 7, 7], [1, 2, 3], {}, "time_days"),  # duplicated
        ([-1, 7, 14], [1, 2, 3], {}, "time_days"),  # before infusion
        ([0, np.nan, 14], [1, 2, 3], {}, "time_days"),
        ([0, 7, 14], [1, 2], {}, "conc"),
        ([0, 7, 14], [1, -2, 3], {}, "conc"),
        ([0, 7, 14], [1, np.inf, 3], {}, "conc"),
        ([0, 7, 14], ["a", "b", "c"], {}, "conc"),
        ([0, 7, 14], [1, 2, 3], {"unit": " "}, "unit"),
        ([0, 7, 14], [1, 2, 3], {"lloq": 0}, "lloq"),
        ([0, 7, 14], [1, 2, 3], {"auc_end": -1}, "auc_end"),
        ([0, 7, 14], [1, 2, 3], {"blq_after_tmax": "drop"}, "blq_after_tmax"),
        ([0, 7, 14], [1, 2, 3], {"blq_after_tmax": "half_lloq"}, "blq_after_tmax"),
        ([0, 7, 14], [1, 2, 3], {"persistence_days": (-5,)}, "persistence_days"),
    ],
)
def test_nca_rejects_bad_input_naming_the_field(
    time: list[float], conc: list[float], kwargs: dict[str, object], field: str
) -> None:
    options: dict[str, object] = {"unit": "copies/ug", **kwargs}
    with pytest.raises(InvalidInputError) as err:
        nca(time, conc, **options)  # type: ignore[arg-type]
    assert err.value.field == field


# ---------------------------------------------------------------- exposure by response


def _cohort() -> pd.DataFrame:
    rng = np.random.default_rng(2019)  # synthetic cohort, not trial data
    rows = []
    for indication, shift, n_r, n_nr in (("B-ALL", 0.8, 20, 7), ("DLBCL", 0.0, 12, 18)):
        for responder, n in ((True, n_r), (False, n_nr)):
            mean = 11.0 + (shift if responder else 0.0)
            sd = 1.0 if responder else 1.6
            for auc in rng.lognormal(mean, sd, n):
                rows.append({"indication": indication, "responder": responder, "auc0_28": auc})
    return pd.DataFrame(rows)


def test_gmr_ci_matches_scipy_welch_on_logs() -> None:
    frame = _cohort()
    out = exposure_by_response(frame)
    assert list(out["indication"]) == ["B-ALL", "DLBCL"]
    for _, row in out.iterrows():
        sub = frame[frame.indication == row["indication"]]
        lx = np.log(sub.auc0_28[sub.responder])
        ly = np.log(sub.auc0_28[~sub.responder])
        res = stats.ttest_ind(lx, ly, equal_var=False)
        ci = res.confidence_interval(0.95)
        assert row["gmr"] == pytest.approx(math.exp(lx.mean() - ly.mean()), rel=1e-12)
        assert row["ci_low"] == pytest.approx(math.exp(ci.low), rel=1e-10)
        assert row["ci_high"] == pytest.approx(math.exp(ci.high), rel=1e-10)
        assert row["p_value"] == pytest.approx(res.pvalue, rel=1e-10)
        assert row["df"] == pytest.approx(res.df, rel=1e-10)
        assert row["gmean_responders"] == pytest.approx(stats.gmean(sub.auc0_28[sub.responder]))
        assert row["n_responders"] == len(lx) and row["n_nonresponders"] == len(ly)


def test_each_indication_is_computed_on_its_own() -> None:
    frame = _cohort()
    per = exposure_by_response(frame).set_index("indication")
    only_all = exposure_by_response(frame[frame.indication == "B-ALL"], by=None)
    assert only_all.loc[0, "group"] == "all"
    assert only_all.loc[0, "gmr"] == pytest.approx(per.loc["B-ALL", "gmr"])
    assert only_all.loc[0, "ci_low"] == pytest.approx(per.loc["B-ALL", "ci_low"])
    pooled = exposure_by_response(frame, by=None).loc[0, "gmr"]
    assert pooled != pytest.approx(per.loc["B-ALL", "gmr"])


def test_level_missing_and_small_groups() -> None:
    frame = pd.DataFrame(
        {
            "indication": ["CLL"] * 5,
            "responder": [1, 1, 0, 1, 0],
            "cmax": [100.0, 300.0, 50.0, np.nan, np.nan],
        }
    )
    row = exposure_by_response(frame, exposure="cmax").iloc[0]
    assert (row["n_responders"], row["n_nonresponders"], row["n_missing"]) == (2, 1, 2)
    assert row["gmr"] == pytest.approx(math.sqrt(100 * 300) / 50)
    assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
    wide = exposure_by_response(_cohort(), level=0.99).iloc[0]
    narrow = exposure_by_response(_cohort(), level=0.90).iloc[0]
    assert wide["ci_low"] < narrow["ci_low"] < narrow["ci_high"] < wide["ci_high"]


@pytest.mark.parametrize(
    ("change", "kwargs", "field"),
    [
        ({"auc0_28": [1.0, 0.0, 2.0, 3.0]}, {}, "auc0_28"),
        ({"auc0_28": [1.0, -1.0, 2.0, 3.0]}, {}, "auc0_28"),
        ({"responder": ["yes", "no", "yes", "no"]}, {}, "responder"),
        ({"responder": [1, 2, 0, 1]}, {}, "responder"),
        ({"responder": [True, None, False, True]}, {}, "responder"),
        ({"indication": ["B-ALL", None, "B-ALL", "B-ALL"]}, {}, "indication"),
        ({}, {"exposure": "cmax"}, "cmax"),
        ({}, {"level": 1.5}, "level"),
    ],
)
def test_exposure_by_response_rejects_bad_input(
    change: dict[str, list[object]], kwargs: dict[str, object], field: str
) -> None:
    base: dict[str, list[object]] = {
        "indication": ["B-ALL"] * 4,
        "responder": [True, False, True, False],
        "auc0_28": [1.0, 2.0, 3.0, 4.0],
    }
    frame = pd.DataFrame({**base, **change})
    with pytest.raises(InvalidInputError) as err:
        exposure_by_response(frame, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


# ---------------------------------------------------------------- plot


def test_plot_kinetics_draws_observations_lloq_and_fit() -> None:
    days = np.array([1, 2, 4, 7, 9, 11, 14, 21, 28, 56, 90, 180, 365.0])
    rng = np.random.default_rng(3)  # synthetic data
    levels = stein_curve(days, TYPICAL_PATIENT) * np.exp(rng.normal(0, 0.3, days.size))
    fit = fit_stein(days, levels, lloq=50)
    ax = plot_kinetics(days, levels, fit, lloq=50, unit="copies/ug")
    assert ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert "observed" in labels and "Stein model" in labels and "LLOQ" in labels
    ax2 = plot_kinetics(days, levels, TYPICAL_PATIENT, ax=ax)
    assert ax2 is ax
    with pytest.raises(InvalidInputError):
        plot_kinetics(days, levels[:-1])


def test_importing_kinetics_does_not_import_matplotlib() -> None:
    code = "import sys, vein2vein.clinical.kinetics._exposure; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

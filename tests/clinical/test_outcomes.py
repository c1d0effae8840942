"""Tests of the outcomes analyses (survival by attribute, response model, report).

Every cohort here is SYNTHETIC (fixed seeds) except lifelines' shipped Rossi recidivism
data set, used to check the Cox fit against lifelines' published example numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from vein2vein.clinical.outcomes import (
    MIN_EVENTS,
    cox_model,
    holm_adjust,
    kaplan_meier_by,
    outcomes_report,
    response_model,
)
from vein2vein.errors import InvalidInputError


def _cohort(n: int, *, signal: float, seed: int) -> pd.DataFrame:
    """SYNTHETIC patient-level cohort; `signal` links cd8_frac to response and PFS."""
    rng = np.random.default_rng(seed)
    cd8 = rng.normal(0, 1, n)
    viability = rng.normal(0, 1, n)
    logit = -0.2 + signal * cd8
    responder = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    hazard = 0.1 * np.exp(-0.7 * signal * cd8)
    event_t = rng.exponential(1 / hazard)
    censor_t = rng.uniform(5, 30, n)
    pfs_time = np.minimum(event_t, censor_t)
    dor_time = np.where(responder == 1, pfs_time, np.nan)
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "cd8_frac": 0.4 + 0.1 * cd8,
            "viability": 90 + 3 * viability,
            "pfs_time": pfs_time,
            "pfs_event": (event_t <= censor_t).astype(int),
            "dor_time": dor_time,
            "dor_event": np.where(responder == 1, (event_t <= censor_t).astype(int), np.nan),
            "responder": responder,
        }
    )


# ------------------------------------------------------------------ log-rank by hand
def _logrank_by_hand(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> float:
    """Mantel (1966) two-group log-rank chi-square, written out independently."""
    o_minus_e = 0.0
    var = 0.0
    for s in np.unique(t[e == 1]):
        at_risk = t >= s
        n = at_risk.sum()
        n1 = (at_risk & (g == 1)).sum()
        d = ((t == s) & (e == 1)).sum()
        d1 = ((t == s) & (e == 1) & (g == 1)).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return o_minus_e**2 / var


def test_logrank_matches_hand_computation_with_ties():
    df = pd.DataFrame(
        {
            "t": [1, 2, 2, 3, 4, 5, 6, 7, 2, 3, 3, 8, 9, 10, 12, 4],
            "e": [1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1],
            "grp": [0] * 8 + [1] * 8,
        }
    )
    r = kaplan_meier_by(df, time="t", event="e", by="grp")
    expected = _logrank_by_hand(df["t"].to_numpy(), df["e"].to_numpy(), df["grp"].to_numpy())
    assert r.statistic == pytest.approx(expected, rel=1e-10)
    assert r.df == 1
    assert r.groups == ("0", "1")
    assert r.n == {"0": 8, "1": 8}
    assert r.n_events == {"0": 6, "1": 6}
    assert not any("fewer than 10" in c for c in r.caveats)  # 12 events
    few = kaplan_meier_by(df.iloc[[0, 1, 3, 8, 9, 10]], time="t", event="e", by="grp")
    assert any("fewer than 10" in c for c in few.caveats)


def test_km_curve_values_by_hand():
    # KM for group 0: at t=1 (6 at risk, 1 event) -> 5/6; t=2 (5 at risk, 1 event) -> 5/6*4/5.
    df = pd.DataFrame(
        {
            "t": [1, 2, 3, 4, 5, 6, 1, 1, 2, 2, 3, 3],
            "e": [1, 1, 0, 1, 0, 0] + [1] * 6,
            "g": ["a"] * 6 + ["b"] * 6,
        }
    )
    r = kaplan_meier_by(df, time="t", event="e", by="g")
    c = r.curves["a"].set_index("time")["survival"]
    assert c.loc[1.0] == pytest.approx(5 / 6)
    assert c.loc[2.0] == pytest.approx(4 / 6)
    assert c.loc[4.0] == pytest.approx(4 / 6 * 2 / 3)
    assert r.median_survival["b"] == 2.0
    assert r.median_survival["a"] == 4.0  # S(4) = 4/9 < 0.5
    never = kaplan_meier_by(df.assign(e=[0, 1, 0, 0, 0, 0] + [1] * 6), time="t", event="e", by="g")
    assert np.isinf(never.median_survival["a"])  # S stays at 5/6: median not reached
    assert never.to_dict()["median_survival"]["a"] is None


def test_continuous_attribute_split_at_median_or_cut():
    df = _cohort(80, signal=1.5, seed=1)
    r = kaplan_meier_by(df, time="pfs_time", event="pfs_event", by="cd8_frac")
    assert r.cut == pytest.approx(df["cd8_frac"].median())
    assert sum(r.n.values()) == 80
    r2 = kaplan_meier_by(df, time="pfs_time", event="pfs_event", by="cd8_frac", cut=0.45)
    assert r2.groups == ("<= 0.45", "> 0.45")
    assert r2.n["<= 0.45"] == int((df["cd8_frac"] <= 0.45).sum())


def test_multigroup_logrank_and_dropped_rows():
    df = _cohort(90, signal=0.0, seed=2)
    df["site"] = np.repeat(["A", "B", "C"], 30)
    r = kaplan_meier_by(df, time="dor_time", event="dor_event", by="site")
    assert r.df == 2
    assert any("left out" in c for c in r.caveats)  # non-responders have no DOR


def test_km_input_errors():
    df = _cohort(30, signal=0.0, seed=3)
    with pytest.raises(InvalidInputError) as exc:
        kaplan_meier_by(df, time="pfs_time", event="pfs_event", by="nope")
    assert exc.value.field == "nope"
    bad = df.assign(pfs_event=2)
    with pytest.raises(InvalidInputError, match="event indicator"):
        kaplan_meier_by(bad, time="pfs_time", event="pfs_event", by="cd8_frac")
    with pytest.raises(InvalidInputError, match="fewer than two groups"):
        kaplan_meier_by(df, time="pfs_time", event="pfs_event", by="cd8_frac", cut=10.0)


# ------------------------------------------------------------------ Cox
def test_cox_matches_lifelines_published_rossi_example():
    from lifelines.datasets import load_rossi

    rossi = load_rossi()
    r = cox_model(
        rossi,
        time="week",
        event="arrest",
        covariates=["fin", "age", "race", "wexp", "mar", "paro", "prio"],
    )
    # lifelines docs, "Survival regression", CoxPHFitter print_summary of load_rossi()
    # (coef to 2 decimals; concordance 0.64; 432 observations, 114 events).
    published = {
        "fin": -0.38,
        "age": -0.06,
        "race": 0.31,
        "wexp": -0.15,
        "mar": -0.43,
        "paro": -0.08,
        "prio": 0.09,
    }
    coef = r.table.set_index("covariate")["coef"]
    for name, value in published.items():
        assert coef[name] == pytest.approx(value, abs=0.005 + 1e-9), name
    hr = r.table.set_index("covariate")
    assert hr.loc["prio", "hazard_ratio"] == pytest.approx(1.10, abs=0.005)
    assert hr.loc["fin", "hr_low"] == pytest.approx(0.47, abs=0.005)
    assert r.concordance == pytest.approx(0.64, abs=0.005)
    assert (r.n, r.n_events) == (432, 114)
    assert r.log_likelihood == pytest.approx(-658.75, abs=0.005)
    # lifelines docs (proportional hazards section): age and wexp fail the rank test.
    assert set(r.ph_violated) == {"age", "wexp"}
    assert any("proportional-hazards" in c for c in r.caveats)


def test_cox_refuses_too_few_events():
    df = _cohort(40, signal=0.0, seed=4)
    df["pfs_event"] = 0
    df.loc[: MIN_EVENTS - 2, "pfs_event"] = 1
    with pytest.raises(InvalidInputError, match="at least 10 events") as exc:
        cox_model(df, time="pfs_time", event="pfs_event", covariates=["cd8_frac"])
    assert exc.value.field == "pfs_event"


def test_cox_detects_planted_effect_and_serialises():
    df = _cohort(200, signal=1.5, seed=5)
    df["cd8_z"] = (df["cd8_frac"] - 0.4) / 0.1
    r = cox_model(df, time="pfs_time", event="pfs_event", covariates=["cd8_z", "viability"])
    row = r.table.set_index("covariate").loc["cd8_z"]
    assert row["hazard_ratio"] < 0.6 and row["p_value"] < 0.001
    d = r.to_dict()
    assert d["table"][0]["covariate"] == "cd8_z"
    assert "HR" in r.summary


def test_cox_penalizer_caveat_and_nonconvergence_becomes_caveat_or_error():
    df = _cohort(60, signal=0.0, seed=6)
    r = cox_model(df, time="pfs_time", event="pfs_event", covariates=["cd8_frac"], penalizer=0.1)
    assert any("penalizer" in c for c in r.caveats)
    # Monotone likelihood: at every event time the failing patient has the largest x in the
    # risk set, so the coefficient runs off; lifelines warns, and the warning is a caveat.
    sep = df.assign(x=-df["pfs_time"])
    res = cox_model(sep, time="pfs_time", event="pfs_event", covariates=["x"])
    assert any("ConvergenceWarning" in c for c in res.caveats)


# ------------------------------------------------------------------ response model
def test_response_model_finds_planted_signal():
    df = _cohort(150, signal=2.0, seed=7)  # SYNTHETIC: strong planted signal in cd8_frac
    r = response_model(df, features=["cd8_frac", "viability"], n_permutations=49, seed=0)
    assert r.auroc_mean > 0.7
    assert r.permutation_p < 0.05
    assert r.learned_something
    assert "better than chance" in r.summary
    assert r.coefficients["cd8_frac"] > 0.5
    assert 0.5 < r.calibration_slope < 2.0


def test_response_model_no_signal_says_so():
    df = _cohort(120, signal=0.0, seed=8)  # SYNTHETIC: response independent of attributes
    r = response_model(df, features=["cd8_frac", "viability"], n_permutations=49, seed=0)
    assert r.permutation_p > 0.05
    assert "no evidence the attributes predict response" in r.summary


def test_oof_auroc_equals_sklearn_on_stored_predictions():
    df = _cohort(100, signal=1.0, seed=9)
    r = response_model(df, features=["cd8_frac", "viability"], n_permutations=9, seed=1)
    assert r.oof_auroc == roc_auc_score(r.y, r.oof_predictions)
    assert len(r.fold_aurocs) == 5
    assert r.auroc_mean == pytest.approx(np.mean(r.fold_aurocs))
    assert r.oof_predictions.shape == (100,)
    d = r.to_dict()
    assert d["n"] == 100 and len(d["fold_aurocs"]) == 5
    # Brier score by hand
    assert r.brier == pytest.approx(np.mean((r.oof_predictions - r.y) ** 2))


def test_repeated_patient_ids_use_group_folds():
    df = _cohort(60, signal=1.0, seed=10)
    twice = pd.concat([df, df.assign(viability=df["viability"] + 0.1)], ignore_index=True)
    r = response_model(twice, features=["cd8_frac", "viability"], n_permutations=9)
    assert "StratifiedGroupKFold" in r.cv


def test_response_model_input_errors():
    df = _cohort(40, signal=0.0, seed=11)
    with pytest.raises(InvalidInputError, match="two responders"):
        response_model(df.assign(responder=0), features=["cd8_frac"], n_permutations=9)
    with pytest.raises(InvalidInputError) as exc:
        response_model(df, features=["cd8_frac"], model="svm", n_permutations=9)  # type: ignore[arg-type]
    assert exc.value.field == "model"


# ------------------------------------------------------------------ report
def test_holm_adjust():
    assert holm_adjust([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert holm_adjust([0.5, 0.9]) == [1.0, 1.0]


def test_outcomes_report_writes_html(tmp_path):
    df = _cohort(80, signal=1.5, seed=12)
    label = "SYNTHETIC cohort <seed 12>"
    path = outcomes_report(
        df,
        attributes=["cd8_frac", "viability"],
        out_dir=tmp_path,
        label=label,
        n_permutations=9,
    )
    html = path.read_text(encoding="utf-8")
    assert "SYNTHETIC cohort &lt;seed 12&gt;" in html  # autoescaped
    assert html.count("data:image/png;base64,") == 2 * 2 + 2 + 2  # KM x4, forest x2, ROC, cal
    assert "Holm" in html and "4 log-rank tests" in html
    assert "AUROC" in html

"""Batch MSPC (Nomikos & MacGregor): limits against their formulas, statistics against
scikit-learn, fault detection and diagnosis on planted faults, alignment, bad input and
storage.

All data here are SYNTHETIC: a logistic-growth bioreactor model (viable cell density,
glucose, lactate, pH, dissolved oxygen, temperature) with batch-to-batch variation and
measurement noise, irregularly sampled, generated with fixed seeds in this file.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.decomposition import PCA

from vein2vein.errors import InvalidInputError
from vein2vein.process.mspc import (
    SCHEMA_VERSION,
    BatchMSPC,
    align_trajectories,
    plot_contributions,
    plot_monitoring,
    spe_limit_box,
    spe_limit_jackson_mudholkar,
    t2_limit_phase1,
    t2_limit_phase2,
    top_contributors,
)

# ---------------------------------------------------------------- synthetic data
PARAMS = ("pH", "DO", "temperature", "glucose", "lactate", "VCD")
END = 96.0  # hours of the (synthetic) expansion step
EVERY = {"pH": 1.0, "DO": 1.0, "temperature": 1.0, "glucose": 6.0, "lactate": 6.0, "VCD": 6.0}
NOISE = {"pH": 0.01, "DO": 1.0, "temperature": 0.04, "glucose": 0.05, "lactate": 0.04, "VCD": 0.03}
N_REF, K, A = 30, 25, 3
LEVELS = (0.95, 0.99)
COLS = ["batch", "parameter", "time", "value"]


def _times(rng: np.random.Generator, every: float, end: float) -> np.ndarray:
    n = round(END / every)
    t = np.arange(n + 1) * every
    t[1:-1] += rng.uniform(-0.3, 0.3, n - 1) * every  # irregular sampling
    return t[t <= end]


def synthetic_batch(rng, name, *, fault=None, end=END) -> list[tuple]:
    """Rows of one synthetic batch; ``fault(t)`` is added to pH."""
    z = rng.normal(size=4)
    v0, r, cap = 0.5 * (1 + 0.05 * z[0]), 0.05 * (1 + 0.06 * z[1]), 8.0
    fine = np.linspace(0, END, 961)
    vcd = cap / (1 + (cap - v0) / v0 * np.exp(-r * fine))
    integral = np.concatenate([[0], np.cumsum((vcd[1:] + vcd[:-1]) / 2 * np.diff(fine))])
    truth = {
        "VCD": vcd,
        "glucose": 4.5 + 0.1 * z[2] - 0.006 * integral,
        "lactate": 0.2 + 0.005 * integral,
        "DO": 60 - 25 * vcd / cap,
        "temperature": np.full_like(fine, 37.0 + 0.03 * z[3]),
    }
    truth["pH"] = 7.25 - 0.05 * (truth["lactate"] - 0.2)
    rows = []
    for p in PARAMS:
        t = _times(rng, EVERY[p], end)
        v = np.interp(t, fine, truth[p])
        noise = NOISE[p] * rng.normal(size=t.size)
        v = v * (1 + noise) if p == "VCD" else v + noise
        if fault is not None and p == "pH":
            v = v + fault(t)
        rows += [(name, p, float(a), float(b)) for a, b in zip(t, v, strict=True)]
    return rows


def synthetic_frame(seed: int, n: int, prefix: str, **kw) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [row for i in range(n) for row in synthetic_batch(rng, f"{prefix}{i:02d}", **kw)]
    return pd.DataFrame(rows, columns=COLS)


def drift(start: float, slope: float):
    """pH sensor drift: falls by ``slope`` per hour from ``start`` on."""
    return lambda t: np.where(t > start, -slope * (t - start), 0.0)


def excursion(start: float, peak: float, end: float, depth: float):
    """A transient pH excursion: down by ``depth`` at ``peak``, back by ``end``."""
    return lambda t: -depth * np.interp(t, [start, peak, end], [0, 1, 0], left=0, right=0)


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return synthetic_frame(1, N_REF, "R")


@pytest.fixture(scope="module")
def model(reference) -> BatchMSPC:
    return BatchMSPC().fit(reference, n_components=A, grid=K)


@pytest.fixture(scope="module")
def scaled(reference) -> np.ndarray:
    """Independent unfolding (parameter-major, unlike the model) and autoscaling."""
    data = align_trajectories(reference, grid=K).data
    x = data.reshape(data.shape[0], -1)
    return (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)


def _residual_spe(z_fit: np.ndarray, z_new: np.ndarray, n_comp: int) -> np.ndarray:
    pca = PCA(n_components=n_comp, svd_solver="full").fit(z_fit)
    e = z_new - pca.inverse_transform(pca.transform(z_new))
    return e.reshape(z_new.shape[0], len(PARAMS), K)  # residuals (batch, parameter, time)


def _loo_residuals(reference: pd.DataFrame) -> np.ndarray:
    data = align_trajectories(reference, grid=K).data
    x = data.reshape(data.shape[0], -1)
    out = []
    for i in range(x.shape[0]):
        rest = np.delete(x, i, axis=0)
        mu, sd = rest.mean(axis=0), rest.std(axis=0, ddof=1)
        out.append(_residual_spe((rest - mu) / sd, ((x[i] - mu) / sd)[None], A)[0])
    return np.array(out)


# ---------------------------------------------------------------- limits vs formulas
@pytest.mark.parametrize(("i", "a"), [(30, 3), (12, 2), (8, 5)])
@pytest.mark.parametrize("level", LEVELS)
def test_t2_limits_equal_beta_and_f_formulas(i, a, level):
    beta = (i - 1) ** 2 / i * stats.beta.ppf(level, a / 2, (i - a - 1) / 2)
    f = a * (i**2 - 1) / (i * (i - a)) * stats.f.ppf(level, a, i - a)
    assert t2_limit_phase1(i, a, level) == pytest.approx(beta, rel=1e-12)
    assert t2_limit_phase2(i, a, level) == pytest.approx(f, rel=1e-12)


def test_model_limits_equal_their_formulas(model, reference, scaled):
    limits = model.limits.set_index(["statistic", "kind", "level"])["limit"]
    i = N_REF
    for lv in LEVELS:
        beta = (i - 1) ** 2 / i * stats.beta.ppf(lv, A / 2, (i - A - 1) / 2)
        f = A * (i**2 - 1) / (i * (i - A)) * stats.f.ppf(lv, A, i - A)
        assert limits["T2", "phase1", lv] == pytest.approx(beta, rel=1e-12)
        assert limits["T2", "phase2", lv] == pytest.approx(f, rel=1e-12)

    # SPE, Box: g chi2_h with m, v of the leave-one-out reference SPE, recomputed here.
    spe = _loo_residuals(reference).reshape(N_REF, -1)
    spe = (spe**2).sum(axis=1)
    np.testing.assert_allclose(model.reference_scores()["SPE"], spe, rtol=1e-8)
    m, v = spe.mean(), spe.var(ddof=1)
    g, h = v / (2 * m), 2 * m**2 / v
    for lv in LEVELS:
        assert limits["SPE", "box", lv] == pytest.approx(g * stats.chi2.ppf(lv, h), rel=1e-8)

    # SPE, Jackson & Mudholkar: from the residual eigenvalues of an independent PCA.
    lam = PCA(svd_solver="full").fit(scaled).explained_variance_[A:]
    t1, t2, t3 = (np.sum(lam**p) for p in (1, 2, 3))
    h0 = 1 - 2 * t1 * t3 / (3 * t2**2)
    for lv in LEVELS:
        c = stats.norm.ppf(lv)
        q = t1 * (c * np.sqrt(2 * t2 * h0**2) / t1 + 1 + t2 * h0 * (h0 - 1) / t1**2) ** (1 / h0)
        assert limits["SPE", "jackson_mudholkar", lv] == pytest.approx(q, rel=1e-8)
        assert spe_limit_jackson_mudholkar(lam, lv) == pytest.approx(q, rel=1e-12)


def test_spe_box_function_and_degenerate_case():
    m, v = 7.3, 11.2
    for lv in LEVELS:
        expected = v / (2 * m) * stats.chi2.ppf(lv, 2 * m**2 / v)
        assert spe_limit_box(m, v, lv) == pytest.approx(expected, rel=1e-12)
    assert spe_limit_box(2.0, 0.0, 0.99) == 2.0  # no variation: the mean itself


@pytest.mark.parametrize("window", [0, 2])
def test_time_resolved_spe_limits_equal_box_per_time(reference, scaled, window):
    model = BatchMSPC().fit(
        reference, n_components=A, grid=K, spe_reference="in-sample", spe_window=window
    )
    spe_k = (_residual_spe(scaled, scaled, A) ** 2).sum(axis=1)  # (batch, time)
    batch = reference[reference["batch"] == "R05"]
    frame = model.monitor(batch).frame
    for k in range(K):
        pooled = spe_k[:, max(0, k - window) : k + window + 1].ravel()
        m, v = pooled.mean(), pooled.var(ddof=1)
        for lv in LEVELS:
            expected = v / (2 * m) * stats.chi2.ppf(lv, 2 * m**2 / v)
            assert frame[f"SPE_limit_{round(lv * 100)}"].iloc[k] == pytest.approx(
                expected, rel=1e-8
            )


# ---------------------------------------------------------------- statistics vs sklearn
def test_reference_t2_and_in_sample_spe_equal_sklearn(reference, scaled):
    model = BatchMSPC().fit(reference, n_components=A, grid=K, spe_reference="in-sample")
    pca = PCA(n_components=A, svd_solver="full").fit(scaled)
    scores = pca.transform(scaled)
    t2 = np.sum(scores**2 / pca.explained_variance_, axis=1)
    spe = np.sum((scaled - pca.inverse_transform(scores)) ** 2, axis=1)
    ref = model.reference_scores()
    np.testing.assert_allclose(ref["T2"], t2, rtol=1e-8)
    np.testing.assert_allclose(ref["SPE"], spe, rtol=1e-8)
    # score() of the reference batches (Phase I) gives the same T².
    np.testing.assert_allclose(model.score(reference, phase="I")["T2"], t2, rtol=1e-8)


def test_components_by_cumulative_variance(reference, scaled):
    model = BatchMSPC().fit(reference, grid=K, variance_threshold=0.5)
    ratio = np.cumsum(PCA(svd_solver="full").fit(scaled).explained_variance_ratio_)
    assert model.n_components == int(np.argmax(ratio >= 0.5)) + 1
    assert model.component_selection == "cumulative explained variance >= 0.5"
    assert BatchMSPC().fit(reference, grid=K, n_components=2).component_selection == "explicit"


# ---------------------------------------------------------------- faults and diagnosis
def test_planted_ph_drift_is_flagged_and_pH_named(model):
    rng = np.random.default_rng(7)
    faulty = pd.DataFrame(
        synthetic_batch(rng, "F1", fault=excursion(36, 44, 52, 0.12)), columns=COLS
    )
    row = model.score(faulty).iloc[0]
    assert row["status"] == "alarm"
    assert row["SPE_alarm_99"] or row["T2_alarm_99"]

    contrib = model.contributions(faulty, statistic="SPE")
    assert contrib["contribution"].sum() == pytest.approx(row["SPE"], rel=1e-10)
    top = contrib.sort_values("contribution").iloc[-1]
    assert top["parameter"] == "pH" and 36 <= top["time"] <= 52
    words = top_contributors(contrib, 2)
    assert re.fullmatch(r"pH at \d+(\.\d)? h: contribution \d+ % of SPE", words[0]), words
    assert model.top_contributors(faulty, 2) == words

    t2c = model.contributions(faulty, statistic="T2")
    assert t2c["contribution"].sum() == pytest.approx(row["T2"], rel=1e-10)


def test_normal_batch_is_not_flagged_at_99(model):
    rng = np.random.default_rng(11)
    normal = pd.DataFrame(synthetic_batch(rng, "N1"), columns=COLS)
    row = model.score(normal).iloc[0]
    assert not row["T2_alarm_99"] and not row["SPE_alarm_99"]
    assert row["status"] in {"in control", "warning"}


def test_online_monitoring_signals_after_the_fault_and_not_before(model):
    start = 40.0
    on_time = 0
    for seed in range(5):
        rng = np.random.default_rng(1000 + seed)
        running = pd.DataFrame(
            synthetic_batch(rng, f"F{seed}", fault=drift(start, 0.01), end=72.3), columns=COLS
        )
        result = model.monitor(running)  # current deviations
        assert not result.complete
        data_end = running.groupby("parameter")["time"].max().min()  # shortest parameter
        elapsed = model.grid[model.grid <= data_end + 2.0]  # + end tolerance (half a step)
        np.testing.assert_array_equal(result.frame["time"], elapsed)
        first = result.first_alarm(level=0.99)
        on_time += first is not None and first >= start
    assert on_time >= 4


def test_completion_methods_agree_on_a_complete_batch(model):
    rng = np.random.default_rng(21)
    batch = pd.DataFrame(synthetic_batch(rng, "C1"), columns=COLS)
    results = {m: model.monitor(batch, method=m) for m in ("current", "zero", "projection")}
    assert all(r.complete for r in results.values())
    last = {m: r.frame.iloc[-1] for m, r in results.items()}
    assert last["current"]["T2"] == last["zero"]["T2"]
    assert last["current"]["SPE"] == last["zero"]["SPE"]
    assert last["projection"]["T2"] == pytest.approx(last["zero"]["T2"], rel=1e-8)
    assert last["projection"]["SPE"] == pytest.approx(last["zero"]["SPE"], rel=1e-8)
    assert last["zero"]["T2"] == pytest.approx(model.score(batch)["T2"].iloc[0], rel=1e-10)
    # Before the end the methods differ (they complete different futures).
    assert not np.allclose(results["current"].frame["T2"], results["zero"].frame["T2"])


def test_contributions_of_a_fit_batch_by_id_and_of_a_running_batch(model, reference):
    by_id = model.contributions("R03")
    one = reference[reference["batch"] == "R03"]
    pd.testing.assert_frame_equal(by_id, model.contributions(one))
    rng = np.random.default_rng(5)
    running = pd.DataFrame(synthetic_batch(rng, "P1", end=50.0), columns=COLS)
    t2c = model.contributions(running, statistic="T2", method="zero")
    assert t2c["time"].max() == pytest.approx(48.0)
    t2_now = model.monitor(running, method="zero").frame["T2"].iloc[-1]
    assert t2c["contribution"].sum() == pytest.approx(t2_now, rel=1e-10)
    with pytest.raises(InvalidInputError) as err:
        model.contributions("nope")
    assert err.value.field == "batch"


def test_projection_handles_gaps_that_the_completion_methods_refuse(reference):
    model = BatchMSPC().fit(reference, n_components=A, grid=K, max_gap=10.0)
    rng = np.random.default_rng(3)
    rows = pd.DataFrame(synthetic_batch(rng, "G1", end=60.0), columns=COLS)
    gap = (rows["parameter"] == "pH") & rows["time"].between(20, 34)
    rows = rows[~gap]
    result = model.monitor(rows, method="projection")
    assert np.isfinite(result.frame["T2"]).all()
    with pytest.raises(InvalidInputError) as err:
        model.monitor(rows, method="current")
    assert err.value.field == "method"


# ---------------------------------------------------------------- alignment
def test_alignment_of_irregular_sampling_is_linear_interpolation():
    line = {"pH": (7.3, -0.01), "DO": (60.0, -0.25)}
    rows = []
    for b, times in {"A": [0.0, 3.3, 7.1, 12.0, 19.4, 24.0], "B": [0.4, 5.0, 9.9, 22.6]}.items():
        for p, (c, s) in line.items():
            rows += [(b, p, t, c + s * t) for t in times[:: (1 if p == "pH" else -1)]]
    df = pd.DataFrame(rows, columns=COLS).sample(frac=1.0, random_state=0)  # any row order
    grid = np.arange(0.0, 25.0, 2.0)
    assert align_trajectories(df, grid=grid).parameters in {("pH", "DO"), ("DO", "pH")}
    aligned = align_trajectories(df, grid=grid, parameters=["pH", "DO"])
    assert set(aligned.batches) == {"A", "B"}
    assert aligned.end_tolerance == 1.0  # half the grid spacing
    a = aligned.batches.index("A")
    for j, (c, s) in enumerate(line.values()):
        np.testing.assert_allclose(aligned.data[a, j], c + s * grid, rtol=1e-12)
    b = aligned.batches.index("B")
    # B starts at 0.4 h (grid 0 within tolerance: held), ends at 22.6 h (24 > 22.6 + 1).
    np.testing.assert_allclose(aligned.data[b, 0, 0], 7.3 - 0.01 * 0.4)
    assert np.isnan(aligned.data[b, :, -1]).all()
    np.testing.assert_allclose(aligned.data[b, 0, 1:-1], 7.3 - 0.01 * grid[1:-1])
    assert aligned.n_elapsed[a] == 13 and aligned.n_elapsed[b] == 12
    assert aligned.complete[a] and not aligned.complete[b]
    # Unfolding is time-major: the J parameters of time 0 first.
    np.testing.assert_array_equal(aligned.unfold()[a, :2], aligned.data[a, :, 0])
    # A gap longer than max_gap is left missing rather than bridged.
    gapped = align_trajectories(df, grid=grid, parameters=["pH", "DO"], max_gap=6.0)
    assert np.isnan(gapped.data[a, :, 14 // 2 : 20 // 2]).all()  # 12 -> 19.4 h
    assert not np.isnan(gapped.data[a, :, :7]).any()
    # Default grid: evenly spaced over the interval every batch covers.
    auto = align_trajectories(df, grid=5)
    np.testing.assert_allclose(auto.grid, np.linspace(0.4, 22.6, 5))


# ---------------------------------------------------------------- bad input
def _tiny() -> pd.DataFrame:
    t = [0.0, 1.0, 2.0]
    return pd.DataFrame(
        [(b, p, h, 1.0 + i + h) for i, b in enumerate("XYZW") for p in ("pH", "DO") for h in t],
        columns=COLS,
    )


def _with(df: pd.DataFrame, **changes) -> pd.DataFrame:
    out = df.copy()
    for col, (row, value) in changes.items():
        out[col] = out[col].astype(object)
        out.loc[row, col] = value
    return out


@pytest.mark.parametrize(
    ("make", "field", "text"),
    [
        (lambda d: d.drop(columns="value"), "value", "lacks the column 'value'"),
        (lambda d: d.iloc[:0], "trajectories", "no rows"),
        (
            lambda d: d.assign(value=np.where(d.parameter == "DO", np.nan, d.value)),
            "value",
            "only missing",
        ),
        (lambda d: pd.concat([d, d.iloc[[2]]]), "time", "more than one reading at time 2 h"),
        (lambda d: _with(d, time=(1, "noon")), "time", "not a finite number"),
        (lambda d: _with(d, value=(1, "high")), "value", "not a finite number"),
        (lambda d: d[~((d.batch == "Y") & (d.parameter == "DO"))], "parameter", "no readings"),
        (lambda d: "not a frame", "trajectories", "DataFrame"),
    ],
)
def test_bad_trajectories_are_refused_naming_the_field(make, field, text):
    with pytest.raises(InvalidInputError) as err:
        BatchMSPC().fit(make(_tiny()), n_components=1, grid=[0.0, 1.0, 2.0])
    assert err.value.field == field
    assert text in str(err.value)


def test_bad_options_and_inputs_against_a_fitted_model(model, reference):
    early = reference[reference["time"] < 0.5]
    cases = [
        (lambda: BatchMSPC().fit(_tiny(), n_components=3, grid=[0, 1, 2]), "n_components"),
        (lambda: BatchMSPC().fit(_tiny(), reference_batches=["X", "Q"]), "reference_batches"),
        (lambda: BatchMSPC().fit(_tiny(), grid=[0, 2, 1]), "grid"),
        (lambda: BatchMSPC().fit(_tiny(), variance_threshold=1.5), "variance_threshold"),
        (lambda: BatchMSPC(spe_method="max"), "spe_method"),  # type: ignore[arg-type]
        (lambda: BatchMSPC().score(_tiny()), "model"),
        (lambda: model.score(_tiny()), "parameter"),
        (lambda: model.score(reference[reference["time"] < 50]), "time"),
        (lambda: model.monitor(reference), "batch"),
        (lambda: model.monitor(reference, batch="R01", method="guess"), "method"),
        (lambda: model.monitor(early.assign(time=early["time"] - 10), batch="R01"), "time"),
        (lambda: model.contributions("R01", statistic="Q"), "statistic"),
    ]
    for n, (call, field) in enumerate(cases):
        with pytest.raises(InvalidInputError) as err:
            call()
        assert err.value.field == field, (n, field, str(err.value))
    unknown = reference.assign(parameter=reference["parameter"].replace("DO", "pO2"))
    with pytest.raises(InvalidInputError, match=r"unknown parameter.*'pO2'") as err:
        model.score(unknown)
    assert err.value.field == "parameter"


def test_zero_variance_columns_are_guarded():
    df = _tiny()
    df.loc[df["time"] == 0.0, "value"] = 5.0  # every batch starts at the same set point
    df.loc[(df["batch"] == "W") & (df["time"] > 0), "value"] += 0.3  # W varies later on
    model = BatchMSPC().fit(df, n_components=1, grid=[0.0, 1.0, 2.0])
    d = model.to_dict()
    assert d["scaling"]["zero_variance_columns"] == [0, 1]
    assert np.all(np.isfinite(d["scaling"]["sd"])) and min(d["scaling"]["sd"]) > 0
    assert np.isfinite(model.score(df)[["T2", "SPE"]].to_numpy()).all()


# ---------------------------------------------------------------- storage
def test_to_dict_from_dict_round_trip_reproduces_scores(model, reference):
    d = json.loads(json.dumps(model.to_dict()))
    assert d["schema_version"] == SCHEMA_VERSION
    assert {"vein2vein", "numpy", "scipy", "scikit-learn"} <= set(d["versions"])
    again = BatchMSPC.from_dict(d)
    rng = np.random.default_rng(8)
    new = pd.DataFrame(synthetic_batch(rng, "S1", fault=drift(50, 0.005)), columns=COLS)
    both = pd.concat([reference, new])
    pd.testing.assert_frame_equal(again.score(both), model.score(both))
    pd.testing.assert_frame_equal(again.limits, model.limits)
    pd.testing.assert_frame_equal(again.reference_scores(), model.reference_scores())
    pd.testing.assert_frame_equal(again.monitor(new).frame, model.monitor(new).frame)
    pd.testing.assert_frame_equal(again.contributions(new), model.contributions(new))
    assert again.to_dict() == d

    with pytest.raises(InvalidInputError) as err:
        BatchMSPC.from_dict({**d, "schema_version": SCHEMA_VERSION + 1})
    assert err.value.field == "schema_version"
    broken = {**d, "pca": {k: v for k, v in d["pca"].items() if k != "loadings"}}
    with pytest.raises(InvalidInputError) as err:
        BatchMSPC.from_dict(broken)
    assert err.value.field == "loadings"


# ---------------------------------------------------------------- plots
def test_plots_draw_the_result_frames(model):
    rng = np.random.default_rng(9)
    running = pd.DataFrame(synthetic_batch(rng, "P2", fault=drift(40, 0.01), end=70), columns=COLS)
    result = model.monitor(running)
    ax_t2, ax_spe = plot_monitoring(result)
    assert len(ax_t2.lines) == 3 and len(ax_spe.lines) == 3
    assert ax_t2.figure is ax_spe.figure
    ax = plot_contributions(model.contributions(running))
    assert ax.get_title() == "contributions to SPE"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(PARAMS)

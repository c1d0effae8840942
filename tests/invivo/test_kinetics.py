"""The dose-to-CAR+ model: limiting cases, mass balance, recovery of known parameters."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from vein2vein.clinical import nca, stein_curve
from vein2vein.errors import InvalidInputError
from vein2vein.invivo import (
    TYPICAL_LENTIVIRAL,
    TYPICAL_LNP_MRNA,
    InvivoKineticParameters,
    fit_invivo,
    invivo_curve,
    neutralized_fraction,
    population_exposure,
    predicted_exposure,
    simulate_invivo,
)

DAYS = np.array([0.0, 1, 2, 4, 7, 10, 14, 21, 28, 42, 60, 90, 180])
DOSE = 1e7


def test_zero_dose_makes_no_car_positive_cells() -> None:
    frame = simulate_invivo(DAYS, dose=0.0, params=TYPICAL_LENTIVIRAL)
    assert (frame.drop(columns="day").to_numpy() == 0).all()


def test_vector_mass_balance_and_neutralization() -> None:
    titre = 50.0
    frame = simulate_invivo(DAYS, dose=DOSE, params=TYPICAL_LENTIVIRAL, titre=titre)
    f = titre / (titre + TYPICAL_LENTIVIRAL.ic50_titre)
    total = frame["vector"] + frame["eliminated"] + frame["taken_up"] + frame["neutralized"]
    np.testing.assert_allclose(total, DOSE, rtol=1e-9)
    # one-compartment PK: V(t) = D_eff exp(-(k_el + k_up) t), uptake share k_up / k
    k = TYPICAL_LENTIVIRAL.k_el + TYPICAL_LENTIVIRAL.k_up
    np.testing.assert_allclose(frame["vector"].iloc[:5], DOSE * (1 - f) * np.exp(-k * DAYS[:5]))
    share = TYPICAL_LENTIVIRAL.k_up / k
    assert frame["taken_up"].iloc[-1] == pytest.approx(DOSE * (1 - f) * share, rel=1e-9)


def test_transduction_never_exceeds_the_target_cells() -> None:
    # saturable uptake: solved by solve_ivp; R(t) has the closed form
    # T0 (1 - exp(-(a / (k T0)) (1 - exp(-k t)))) with a = eps k_up D
    p = replace(TYPICAL_LENTIVIRAL, target_cells=0.3)
    frame = simulate_invivo(DAYS, dose=1e8, params=p)
    a = p.efficiency * p.k_up * 1e8
    k = p.k_el + p.k_up
    exact = 0.3 * (1 - np.exp(-(a / (k * 0.3)) * (1 - np.exp(-k * DAYS))))
    np.testing.assert_allclose(frame["transduced"], exact, rtol=1e-6, atol=1e-12)
    assert frame["transduced"].max() <= 0.3
    unlimited = simulate_invivo(DAYS, dose=1e8, params=TYPICAL_LENTIVIRAL)
    assert unlimited["transduced"].iloc[-1] > 0.3


def test_ode_solver_agrees_with_the_matrix_exponential() -> None:
    huge = replace(TYPICAL_LENTIVIRAL, target_cells=1e30)  # forces solve_ivp, no limit
    np.testing.assert_allclose(
        invivo_curve(DAYS, dose=DOSE, params=huge),
        invivo_curve(DAYS, dose=DOSE, params=TYPICAL_LENTIVIRAL),
        rtol=1e-6,
    )


def test_closed_form_curve_agrees_with_the_matrix_exponential() -> None:
    # invivo_curve sums exponentials (divided differences); simulate_invivo carries the
    # states by expm(A dt). Random parameters, then coincident rates (k_el + k_up =
    # 1 / t_express = alpha), where the divided differences need their nodes moved apart.
    rng = np.random.default_rng(0)
    days = np.array([0.0, 0.5, 1, 3, 7, 10, 12, 14, 21, 28, 42, 60, 90])
    cases = [
        replace(
            base,
            t_express=float(np.exp(rng.uniform(-4, 3))),
            rho=float(np.exp(rng.uniform(-3, 1))),
            tmax=float(rng.uniform(1, 30)),
            alpha=float(np.exp(rng.uniform(-3, 1))),
        )
        for base in (TYPICAL_LENTIVIRAL, TYPICAL_LNP_MRNA)
        for _ in range(25)
    ]
    cases.append(replace(TYPICAL_LENTIVIRAL, t_express=1 / 2.5, alpha=2.5))
    for params in cases:
        closed = invivo_curve(days, dose=DOSE, params=params, titre=20.0)
        exact = simulate_invivo(days, dose=DOSE, params=params, titre=20.0)["car_positive"]
        np.testing.assert_allclose(closed, exact, rtol=1e-4, atol=1e-12 * exact.max())


def test_instantaneous_uptake_reduces_to_the_stein_curve() -> None:
    p = replace(TYPICAL_LENTIVIRAL, k_el=0.0, k_up=1e5, t_express=1e-6)
    c0 = p.efficiency * DOSE
    expected = stein_curve(DAYS[1:], p.stein(c0))
    np.testing.assert_allclose(invivo_curve(DAYS[1:], dose=DOSE, params=p), expected, rtol=1e-3)


def test_neutralizing_titre_lowers_exposure_monotonically() -> None:
    grid = np.linspace(0, 28, 57)
    aucs: list[float] = []
    for titre in (0.0, 10.0, 100.0, 1000.0, 1e4):
        curve = invivo_curve(grid, dose=DOSE, params=TYPICAL_LENTIVIRAL, titre=titre)
        auc = nca(grid, curve, unit="cells/uL").auc_lin_log
        assert auc is not None
        aucs.append(auc)
    assert all(a > b for a, b in itertools.pairwise(aucs))
    assert aucs[2] == pytest.approx(aucs[0] / 2, rel=1e-9)  # titre = IC50 halves the dose


def test_mrna_is_transient_and_lentiviral_persists() -> None:
    day = np.array([7.0, 90.0, 180.0])
    lenti = invivo_curve(day, dose=DOSE, params=TYPICAL_LENTIVIRAL)
    mrna = invivo_curve(day, dose=0.5, params=TYPICAL_LNP_MRNA)
    # lentiviral: the memory-like fraction keeps ~half its level from day 90 to 180
    assert lenti[2] / lenti[1] > 0.5
    # mRNA: expression decays at k_loss on top of the cellular decline
    assert mrna[2] / mrna[1] < math.exp(-TYPICAL_LNP_MRNA.k_loss * 90) * 1.01
    assert mrna[2] < 1e-6 * mrna[0]


def test_neutralized_fraction_and_bad_input() -> None:
    assert neutralized_fraction(300.0, 100.0) == pytest.approx(0.75)
    with pytest.raises(InvalidInputError, match="titre"):
        neutralized_fraction(-1.0, 100.0)
    with pytest.raises(InvalidInputError, match="days after dosing"):
        invivo_curve([-1.0], dose=DOSE, params=TYPICAL_LENTIVIRAL)
    with pytest.raises(InvalidInputError, match="alpha"):
        replace(TYPICAL_LENTIVIRAL, alpha=0.001)
    with pytest.raises(InvalidInputError, match="efficiency"):
        replace(TYPICAL_LENTIVIRAL, efficiency=0.0)


def _synthetic(truth: InvivoKineticParameters, *, sd: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    clean = invivo_curve(DAYS, dose=DOSE, params=truth)
    noisy: np.ndarray = clean * np.exp(rng.normal(0.0, sd, DAYS.size))
    return noisy


@pytest.mark.slow
def test_fit_recovers_known_parameters_from_model_data() -> None:
    truth = TYPICAL_LENTIVIRAL
    start = replace(truth, efficiency=2e-7, t_express=1.0, rho=0.4, tmax=9.0, alpha=0.3,
                    fb=0.05, beta=0.001)  # fmt: skip
    exact = fit_invivo(DAYS, invivo_curve(DAYS, dose=DOSE, params=truth), dose=DOSE, start=start)
    for name in ("efficiency", "t_express", "rho", "tmax", "alpha", "fb", "beta"):
        assert getattr(exact.params, name) == pytest.approx(getattr(truth, name), rel=1e-3), name
    assert exact.n_omitted_blq == 1  # day 0 has no CAR+ cells
    noisy = fit_invivo(DAYS, _synthetic(truth, sd=0.1, seed=3), dose=DOSE, start=start)
    assert noisy.converged
    assert noisy.residual_sd == pytest.approx(0.1, rel=0.6)
    for name in ("rho", "tmax", "alpha"):
        est, se = getattr(noisy.params, name), noisy.se[name]
        assert abs(est - getattr(truth, name)) < 3 * se, name


def test_fit_refuses_too_few_samples_and_no_dose() -> None:
    with pytest.raises(InvalidInputError, match="quantifiable"):
        fit_invivo(DAYS[:5], np.ones(5), dose=DOSE, start=TYPICAL_LENTIVIRAL)
    with pytest.raises(InvalidInputError, match="no dose"):
        fit_invivo(DAYS, np.ones(DAYS.size), dose=0.0, start=TYPICAL_LENTIVIRAL)


def test_predicted_exposure_band_contains_the_estimate_and_grows_with_dose() -> None:
    fit = fit_invivo(DAYS, _synthetic(TYPICAL_LENTIVIRAL, sd=0.15, seed=5), dose=DOSE,
                     start=TYPICAL_LENTIVIRAL)  # fmt: skip
    table = predicted_exposure([1e6, 1e7, 1e8], fit, n_draws=40, seed=1)
    assert (table["cmax_low"] <= table["cmax"]).all()
    assert (table["cmax"] <= table["cmax_high"]).all()
    assert (table["auc_low"] <= table["auc0_28"]).all()
    assert (table["auc0_28"] <= table["auc_high"]).all()
    assert table["cmax"].is_monotonic_increasing
    # Cmax is the model curve's maximum on the 0.25-day grid of days 0-28
    grid = np.linspace(0, 28, 113)
    assert table["cmax"].iloc[1] == pytest.approx(fit.predict(grid).max())
    plain = predicted_exposure([1e7], TYPICAL_LENTIVIRAL)
    assert plain["cmax_low"].isna().all()
    with pytest.raises(InvalidInputError, match="level"):
        predicted_exposure([1e7], fit, level=1.5)


def test_population_exposure_summarises_patients_at_each_dose() -> None:
    fits = [
        fit_invivo(DAYS, _synthetic(replace(TYPICAL_LENTIVIRAL, efficiency=eff), sd=0.1,
                                    seed=i), dose=DOSE, start=TYPICAL_LENTIVIRAL, titre=titre)
        for i, (eff, titre) in enumerate([(2e-8, 0.0), (5e-8, 20.0), (1e-7, 0.0), (2e-7, 200.0)])
    ]  # fmt: skip
    table = population_exposure([1e6, 1e7, 1e8], fits)
    assert (table["n_patients"] == 4).all()
    grid = np.linspace(0, 28, 113)
    at_1e7 = sorted(f.predict(grid, dose=1e7).max() for f in fits)
    # the median and the 95% band (numpy's linear quantiles) of the four patients' Cmax
    row = table.iloc[1]
    assert row["cmax"] == pytest.approx(np.median(at_1e7))
    assert row["cmax_low"] == pytest.approx(np.quantile(at_1e7, 0.025))
    assert row["cmax_high"] == pytest.approx(np.quantile(at_1e7, 0.975))
    assert (table["cmax_low"] < table["cmax"]).all() and (table["cmax"] < table["cmax_high"]).all()
    assert (table["auc_low"] < table["auc0_28"]).all()
    assert (table["auc0_28"] < table["auc_high"]).all()
    assert table["cmax"].is_monotonic_increasing
    # a common titre overrides each patient's own: more antibodies, less exposure
    assert (population_exposure([1e7], fits, titre=500.0)["cmax"] < row["cmax"]).all()
    one = population_exposure([1e7], fits[:1])
    assert one["cmax_low"].isna().all() and one["cmax"].iloc[0] > 0
    with pytest.raises(InvalidInputError, match="fits"):
        population_exposure([1e7], [])

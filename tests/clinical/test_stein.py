"""The Stein et al. (2019) CAR-T cellular kinetic model: curve, typical patient, fit.

Paper numbers (Stein AM et al., CPT Pharmacometrics Syst Pharmacol 2019;8:285-295,
doi:10.1002/psp4.12388), as quoted from its text by nlmixr2lib's vignette: "doubling
time 0.78 days, initial decline half-life 4.3 days, terminal half-life 220 days".
Every data set fitted below is synthetic, simulated from known parameters.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate

from vein2vein.clinical.kinetics._stein import (
    PARAMETER_NAMES,
    THETA_NAMES,
    TYPICAL_PATIENT,
    SteinParameters,
    fit_stein,
    stein_curve,
)
from vein2vein.errors import InvalidInputError

# an intensive CAR-T sampling schedule (days after infusion)
SCHEDULE = np.array([1, 2, 4, 7, 9, 11, 14, 17, 21, 28, 42, 56, 90, 120, 180, 270, 365.0])


def _significant(x: float, digits: int) -> float:
    return float(f"{x:.{digits}g}")


def _simulate(seed: int, sd: float = 0.3) -> np.ndarray:
    """Synthetic: the typical patient with log-normal residual error of SD ``sd``."""
    rng = np.random.default_rng(seed)
    return stein_curve(SCHEDULE, TYPICAL_PATIENT) * np.exp(rng.normal(0.0, sd, SCHEDULE.size))


def _independent_log_model(t: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The model written out again from the paper's closed form, without the module."""
    cmax, tmax, fold = math.exp(theta[0]), math.exp(theta[1]), math.exp(theta[2])
    alpha, fb, beta = math.exp(theta[3]), 1 / (1 + math.exp(-theta[4])), math.exp(theta[5])
    rho = math.log(fold) / tmax
    c = np.where(
        t < tmax,
        cmax / fold * np.exp(rho * t),
        cmax * ((1 - fb) * np.exp(-alpha * (t - tmax)) + fb * np.exp(-beta * (t - tmax))),
    )
    return np.log(c)


# ---------------------------------------------------------------- typical patient


def test_typical_patient_reproduces_the_papers_doubling_time_and_half_lives() -> None:
    p = TYPICAL_PATIENT
    # measured on the curve itself: log-slope during expansion, peeling after the peak
    h = 1e-4
    slope_up = (np.log(stein_curve(5 + h, p)) - np.log(stein_curve(5 - h, p))) / (2 * h)
    doubling = math.log(2) / float(slope_up)
    late = np.array([3000.0, 3100.0])
    terminal = np.log(stein_curve(late, p))
    beta = -(terminal[1] - terminal[0]) / 100.0
    # method of residuals: remove the slow component, the rest declines at alpha
    early = np.array([10.0, 20.0])
    slow = p.fb * p.cmax * np.exp(-beta * (early - p.tmax))
    fast = np.log(stein_curve(early, p) - slow)
    alpha = -(fast[1] - fast[0]) / 10.0

    assert _significant(doubling, 2) == 0.78
    assert _significant(math.log(2) / alpha, 2) == 4.3
    assert _significant(math.log(2) / beta, 2) == 220.0
    assert _significant(p.doubling_time, 2) == 0.78
    assert _significant(p.half_life_alpha, 2) == 4.3
    assert _significant(p.half_life_beta, 2) == 220.0
    # the derived quantities nlmixr2lib reports for these Table 1 values
    assert p.c0 == pytest.approx(6.15, abs=0.005)
    assert p.rho == pytest.approx(0.889, abs=0.0005)


def test_curve_shape_and_continuity_at_tmax() -> None:
    p = TYPICAL_PATIENT
    assert stein_curve(0.0, p) == pytest.approx(p.cmax / p.fold_expansion)
    assert stein_curve(p.tmax, p) == pytest.approx(p.cmax)
    left, right = stein_curve([p.tmax - 1e-9, p.tmax + 1e-9], p)
    assert left == pytest.approx(right, rel=1e-6)
    t = np.linspace(0, 365, 200)
    c = stein_curve(t, p)
    assert t[np.argmax(c)] == pytest.approx(p.tmax, abs=2.0)
    assert stein_curve(np.array([[1.0, 2.0]]), p).shape == (1, 2)


def test_closed_form_solves_the_compartment_odes() -> None:
    # Figure 2: expansion dE/dt = rho E; after Tmax dE/dt = -alpha E,
    # dM/dt = k E - beta M with k = FB (alpha - beta), E(Tmax) = Cmax, M(Tmax) = 0.
    p = TYPICAL_PATIENT
    k = p.fb * (p.alpha - p.beta)
    up = integrate.solve_ivp(
        lambda _t, y: [p.rho * y[0]],
        (0, p.tmax),
        [p.c0],
        rtol=1e-10,
        atol=1e-12,
        t_eval=[2.0, 5.0, p.tmax],
    )
    assert up.y[0] == pytest.approx(stein_curve(up.t, p), rel=1e-7)
    t_eval = np.array([10.0, 20.0, 50.0, 100.0, 365.0, 1000.0])
    down = integrate.solve_ivp(
        lambda _t, y: [-p.alpha * y[0], k * y[0] - p.beta * y[1]],
        (p.tmax, 1000.0),
        [p.cmax, 0.0],
        method="LSODA",
        rtol=1e-10,
        atol=1e-12,
        t_eval=t_eval,
    )
    assert down.y.sum(axis=0) == pytest.approx(stein_curve(t_eval, p), rel=1e-6)


def test_parameters_validate_and_round_trip() -> None:
    p = TYPICAL_PATIENT
    again = SteinParameters.from_theta(p.to_theta())
    for name in PARAMETER_NAMES:
        assert getattr(again, name) == pytest.approx(getattr(p, name), rel=1e-12)
    assert set(p.to_dict()) >= {*PARAMETER_NAMES, "rho", "doubling_time", "half_life_beta"}
    for field, bad in (("fb", 1.0), ("alpha", -0.1), ("tmax", math.nan), ("cmax", 0.0)):
        kwargs = {name: getattr(p, name) for name in PARAMETER_NAMES} | {field: bad}
        with pytest.raises(InvalidInputError) as err:
            SteinParameters(**kwargs)
        assert err.value.field == field
    with pytest.raises(InvalidInputError) as err:
        stein_curve([-1.0, 2.0], p)
    assert err.value.field == "t"
    with pytest.raises(InvalidInputError):
        SteinParameters.from_theta([1.0, 2.0])


# ---------------------------------------------------------------- fitting


def test_fit_recovers_noise_free_parameters_exactly() -> None:
    fit = fit_stein(SCHEDULE, stein_curve(SCHEDULE, TYPICAL_PATIENT))
    for name in PARAMETER_NAMES:
        assert getattr(fit.params, name) == pytest.approx(getattr(TYPICAL_PATIENT, name), rel=1e-6)
    assert fit.params.alpha > fit.params.beta
    assert fit.converged and fit.dof == SCHEDULE.size - 6


def test_fit_recovers_parameters_within_their_standard_errors() -> None:
    # Synthetic data from known parameters (typical patient, residual SD 0.3 on ln).
    fit = fit_stein(SCHEDULE, _simulate(seed=11), lloq=50)
    z = (fit.theta - TYPICAL_PATIENT.to_theta()) / fit.se_theta
    assert np.all(np.abs(z) < 3), dict(zip(THETA_NAMES, z.round(2), strict=True))
    assert fit.residual_sd == pytest.approx(0.3, rel=0.5)


def test_confidence_intervals_cover_the_truth_over_seeds() -> None:
    # Coverage check on synthetic data: 40 simulated patients from known parameters.
    n_seeds = 40
    covered = np.zeros(len(PARAMETER_NAMES))
    within_one_se = 0
    for seed in range(n_seeds):
        fit = fit_stein(SCHEDULE, _simulate(seed))
        ci = fit.conf_int(0.95)
        for i, name in enumerate(PARAMETER_NAMES):
            lo, hi = ci[name]
            covered[i] += lo <= getattr(TYPICAL_PATIENT, name) <= hi
        z = np.abs(fit.theta - TYPICAL_PATIENT.to_theta()) / fit.se_theta
        within_one_se += int(np.sum(z < 1))
    coverage = covered / n_seeds
    assert np.all(coverage >= 0.8), dict(zip(PARAMETER_NAMES, coverage, strict=True))
    assert 0.85 <= coverage.mean() <= 1.0
    assert 0.5 <= within_one_se / (n_seeds * len(PARAMETER_NAMES)) <= 0.85


def test_standard_errors_match_a_finite_difference_jacobian() -> None:
    t, c = SCHEDULE, _simulate(seed=5)
    fit = fit_stein(t, c)
    theta = fit.theta
    h = 1e-6
    jac = np.column_stack(
        [
            (_independent_log_model(t, theta + h * e) - _independent_log_model(t, theta - h * e))
            / (2 * h)
            for e in np.eye(6)
        ]
    )
    resid = _independent_log_model(t, theta) - np.log(c)
    s2 = resid @ resid / (t.size - 6)
    cov = s2 * np.linalg.inv(jac.T @ jac)
    assert fit.cov_theta == pytest.approx(cov, rel=1e-5, abs=1e-12)
    assert fit.residual_sd == pytest.approx(math.sqrt(s2), rel=1e-12)
    # natural-scale SEs by the delta method, with a numerical derivative of the transform
    for i, name in enumerate(PARAMETER_NAMES):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        deriv = (
            getattr(SteinParameters.from_theta(up), name)
            - getattr(SteinParameters.from_theta(down), name)
        ) / (2 * h)
        assert fit.se[name] == pytest.approx(abs(deriv) * math.sqrt(cov[i, i]), rel=1e-5)


def test_blq_points_are_omitted() -> None:
    c = _simulate(seed=2)
    c[[0, 16]] = [3.0, 20.0]  # BLQ at an LLOQ of 50
    with_lloq = fit_stein(SCHEDULE, c, lloq=50)
    keep = c >= 50
    subset = fit_stein(SCHEDULE[keep], c[keep])
    assert with_lloq.n_omitted_blq == int((~keep).sum()) >= 2
    assert with_lloq.n_used == int(keep.sum())
    assert with_lloq.theta == pytest.approx(subset.theta, rel=1e-8)
    zeros = c.copy()
    zeros[[0, 16]] = 0.0  # without an LLOQ, zero levels (no logarithm) are omitted
    assert fit_stein(SCHEDULE, zeros, lloq=None).n_omitted_blq == 2


def test_predict_to_dict_and_notes() -> None:
    fit = fit_stein(SCHEDULE, _simulate(seed=4))
    assert fit.predict([0.0, 30.0]) == pytest.approx(stein_curve([0.0, 30.0], fit.params))
    d = json.loads(json.dumps(fit.to_dict()))
    assert set(d["se"]) == set(PARAMETER_NAMES)
    assert d["conf_int_95"]["tmax"][0] < d["params"]["tmax"] < d["conf_int_95"]["tmax"][1]
    late = SCHEDULE >= 11  # synthetic: sampling starts after the peak
    only_decline = fit_stein(SCHEDULE[late], stein_curve(SCHEDULE[late], TYPICAL_PATIENT))
    assert any("before the peak" in note for note in only_decline.notes)
    with pytest.raises(InvalidInputError):
        fit.conf_int(1.2)


@pytest.mark.parametrize(
    ("time", "conc", "field"),
    [
        ([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], "conc"),  # too few for 6 parameters
        ([1, 2, 3, 4, 5, 6, 6], [1, 2, 3, 4, 5, 6, 7], "time_days"),
        ([1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6], "conc"),
        ([1, 2, 3, 4, 5, 6, 7], [1, 2, 3, -4, 5, 6, 7], "conc"),
    ],
)
def test_fit_rejects_bad_input(time: list[float], conc: list[float], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        fit_stein(time, conc)
    assert err.value.field == field

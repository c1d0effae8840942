"""TITE-BOIN trials in calendar time: the decision engine, BOIN limits, trial duration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import (
    BOIN,
    TITEBOIN,
    TimedOperatingCharacteristics,
    simulate,
    simulate_tite,
)
from vein2vein.invivo._boin import _elimination_min
from vein2vein.invivo._simulate_tite import DAYS_PER_MONTH, _decide, _Trial

TRUE_TOX = [0.05, 0.15, 0.3, 0.45, 0.6]


def _close(a: tuple[float, ...], b: tuple[float, ...], n_a: int, n_b: int) -> bool:
    pa, pb = np.asarray(a), np.asarray(b)
    se = np.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b) + 2e-3
    return bool(np.all(np.abs(pa - pb) < 4.5 * se))


def test_engine_makes_the_decisions_of_titeboin_decide():
    """Random mid-trial states: the simulator's decision equals ``TITEBOIN.decide`` on
    the same data written in cohort notation with follow-up days (Yuan et al. 2018)."""
    design = TITEBOIN(5, 0.25, dlt_window_days=30)
    elim = np.asarray(_elimination_min(design.target, design.cutoff_eliminate, 36))
    rng = np.random.default_rng(7)
    actions = set()
    for _ in range(300):
        m = int(rng.integers(1, 16))
        trial = _Trial(36)
        doses = np.sort(rng.integers(0, 5, m))
        trial.entry[:m] = np.sort(rng.uniform(0, 60, m))
        trial.dose[:m] = doses
        tox = rng.random(m) < 0.3
        trial.dlt[:m] = np.where(tox, trial.entry[:m] + rng.uniform(0, 30, m), np.inf)
        trial.m = m
        now = float(trial.entry[m - 1] + rng.uniform(0, 20))
        d = int(doses[-1])
        nxt, action, _ = _decide(design, trial, now, d, elim)
        seen = trial.dlt[:m] <= now
        text = " ".join(
            f"{int(j) + 1}{'T' if s else 'N'}" for j, s in zip(doses, seen, strict=True)
        )
        follow = np.minimum(now - trial.entry[:m], 30.0)
        want = design.decide(text, follow_up=follow.tolist())
        expected = {"stop": None}.get(want.action, want.next_dose)
        got = None if nxt is None else nxt + 1
        if want.action == "stop":
            assert action in ("stop-select", "stop-none")
        else:
            assert action == want.action
        assert got == expected
        actions.add(action)
    assert {"escalate", "stay", "de-escalate", "suspend"} <= actions


@pytest.mark.slow
def test_short_window_reproduces_boin_selection():
    """DLT window of a few minutes against 2 patients a month: nothing is ever pending,
    so TITE-BOIN is BOIN and its selection matches ``simulate`` within MC error."""
    tite = simulate_tite(
        TITEBOIN(5, 0.3, dlt_window_days=0.01), true_tox=TRUE_TOX, n_trials=3000, seed=1
    )
    boin = simulate(BOIN(5, 0.3), true_tox=TRUE_TOX, n_trials=20_000, seed=2)
    assert _close(tite.selection, boin.selection, 3000, 20_000)
    assert np.allclose(tite.mean_patients, boin.mean_patients, atol=0.5)
    assert math.isclose(tite.toxicity_rate, boin.toxicity_rate, abs_tol=0.01)


def test_pending_data_shorten_the_trial_against_waiting():
    design = TITEBOIN(5, 0.3, dlt_window_days=90)
    kw = {"true_tox": TRUE_TOX, "n_trials": 800, "accrual_per_month": 2.0}
    tite = simulate_tite(design, **kw, seed=3)
    wait = simulate_tite(design, **kw, seed=4, wait_for_follow_up=True)
    assert isinstance(tite, TimedOperatingCharacteristics)
    assert tite.mean_duration_months < 0.75 * wait.mean_duration_months
    # waiting for complete follow-up is BOIN run in calendar time
    boin = simulate(BOIN(5, 0.3), true_tox=TRUE_TOX, n_trials=20_000, seed=2)
    assert _close(wait.selection, boin.selection, 800, 20_000)
    # TITE-BOIN keeps its accuracy: the true MTD (dose 3) is still chosen most
    assert int(np.argmax(tite.selection)) == 2


def test_duration_of_a_waiting_trial_with_fixed_accrual_is_exact():
    """No DLT, fixed gap g, window W, waiting: each of the 12 cohorts takes 2g (its last
    two arrivals) and the next starts W after its last patient: 24 g + 12 W."""
    oc = simulate_tite(
        TITEBOIN(5, 0.3, dlt_window_days=28),
        true_tox=[0.0] * 5,
        n_trials=3,
        accrual="fixed",
        accrual_per_month=3.0,
        wait_for_follow_up=True,
    )
    gap = DAYS_PER_MONTH / 3.0
    assert oc.mean_duration_months == pytest.approx((24 * gap + 12 * 28) / DAYS_PER_MONTH)
    assert oc.selection[-1] == 1.0


def test_reproducible_progress_and_simulate_dispatch():
    calls: list[tuple[int, int]] = []
    design = TITEBOIN(4, 0.25, dlt_window_days=60)
    tox = [0.1, 0.25, 0.4, 0.55]
    a = simulate_tite(
        design, true_tox=tox, n_trials=250, seed=9, progress=lambda *c: calls.append(c)
    )
    b = simulate(design, true_tox=tox, n_trials=250, seed=9)
    assert a == b
    assert calls[-1] == (250, 250)
    assert math.isclose(sum(a.selection) + a.no_selection, 1.0)


def test_all_doses_too_toxic_stops_without_selection():
    oc = simulate_tite(TITEBOIN(3, 0.2), true_tox=[0.8, 0.85, 0.9], n_trials=300, seed=0)
    assert oc.no_selection > 0.9
    assert oc.early_stop > 0.9


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"true_tox": [0.1, 0.2]}, "true_tox"),
        ({"true_tox": [0.1, 0.2, 1.3]}, "true_tox"),
        ({"accrual_per_month": 0.0}, "accrual_per_month"),
        ({"accrual": "weekly"}, "accrual"),
        ({"late_onset": 1.5}, "late_onset"),
        ({"max_n": 2}, "max_n"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str):
    args = {"true_tox": [0.1, 0.2, 0.3], "n_trials": 5, **kwargs}
    with pytest.raises(InvalidInputError) as err:
        simulate_tite(TITEBOIN(3, 0.25), **args)
    assert err.value.field == field

"""EffTox trials on shared importance draws, against ``EffTox.fit`` decision by decision."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import EffTox, EffToxOperatingCharacteristics, parse_outcomes, simulate
from vein2vein.invivo._simulate_efftox import (
    PSEUDO_PER_DOSE,
    _Draws,
    counts_to_outcomes,
    recommend,
    simulate_efftox,
)

DOSES = [1.0, 2.0, 4.0, 6.6, 10.0]  # Thall et al. (2014), trialr stan_efftox_demo
TOX = [0.05, 0.1, 0.15, 0.2, 0.4]
EFF = [0.2, 0.4, 0.6, 0.8, 0.9]
# Trial histories: the trialr vignette and escalation package examples and a few more.
HISTORIES = [
    "1NNN 2ENN",
    "1NNE 2EEB",
    "1NEN 2NBT",
    "1NNN 2ENN 3ETB",
    "1NNE 2EEN 3EEB 4BTT",
    "1TTT",
    "1NEN 2EEE 3EBE 4EEB 4ENE",
]


@pytest.fixture(scope="module")
def draws() -> _Draws:
    design = EffTox(DOSES)
    probs = np.stack(
        [
            np.multiply(EFF, np.subtract(1, TOX)),
            np.multiply(np.subtract(1, EFF), np.subtract(1, TOX)),
            np.multiply(EFF, TOX),
            np.multiply(np.subtract(1, EFF), TOX),
        ],
        axis=1,
    )
    return _Draws(design, 100_000, np.random.default_rng(3), PSEUDO_PER_DOSE * probs)


def test_shared_draws_make_the_decisions_of_efftox_fit(draws: _Draws):
    """Same recommended dose as the single-trial posterior (``EffTox.next_dose``),
    including trialr's ``1NNE 2EEB`` -> 3 and escalation's ``1NEN 2NBT`` -> 3."""
    design = EffTox(DOSES)
    joint = np.stack(
        [parse_outcomes(h, num_doses=5, efficacy=True).joint_counts() for h in HISTORIES]
    )
    tried = joint.sum(axis=2) > 0
    chosen, ess = recommend(design, draws, joint, tried)
    for history, got in zip(HISTORIES, chosen, strict=True):
        want = design.fit(history).recommended_dose
        assert (None if got < 0 else int(got) + 1) == want, history
    assert chosen[1] == 2 and chosen[2] == 2
    assert np.all(ess > 100)  # 1NNE 2EEN 3EEB 4BTT has the fewest effective draws


@pytest.mark.parametrize("history", HISTORIES)
def test_counts_round_trip_through_the_cohort_notation(history: str):
    joint = parse_outcomes(history, num_doses=5, efficacy=True).joint_counts()
    again = parse_outcomes(counts_to_outcomes(joint), num_doses=5, efficacy=True)
    assert np.array_equal(again.joint_counts(), joint)


@pytest.mark.slow
def test_clear_scenario_selects_the_best_dose_most_often():
    """Dose 3 has high efficacy and low toxicity; doses 4-5 add toxicity, not efficacy."""
    oc = simulate_efftox(
        EffTox(DOSES),
        true_tox=[0.02, 0.05, 0.08, 0.35, 0.6],
        true_eff=[0.1, 0.3, 0.7, 0.72, 0.75],
        n_trials=120,
        num_draws=30_000,
        refit_ess=0.0,
        seed=1,
    )
    assert isinstance(oc, EffToxOperatingCharacteristics)
    assert int(np.argmax(oc.selection)) == 2
    assert oc.selection[2] > 0.5
    assert int(np.argmax(oc.mean_patients)) == 2
    assert math.isclose(sum(oc.selection) + oc.no_selection, 1.0)
    assert 0.4 < oc.efficacy_rate < 0.8
    assert oc.refits == 0


def test_toxic_scenario_stops_early_and_refits_are_counted():
    oc = simulate(
        EffTox(DOSES, num_samples=4000),
        true_tox=[0.7, 0.8, 0.85, 0.9, 0.95],
        true_eff=[0.1, 0.1, 0.1, 0.1, 0.1],
        n_trials=40,
    )
    assert isinstance(oc, EffToxOperatingCharacteristics)
    assert oc.no_selection > 0.9
    assert oc.early_stop > 0.9
    assert oc.mean_total < 12
    assert oc.refits >= 0 and oc.min_ess <= oc.median_ess


def test_reproducible_with_a_seed():
    kw = {"true_tox": TOX, "true_eff": EFF, "n_trials": 20, "num_draws": 5000, "refit_ess": 0.0}
    calls: list[tuple[int, int]] = []
    a = simulate_efftox(EffTox(DOSES), **kw, seed=4, chunk=8, progress=lambda *c: calls.append(c))
    b = simulate_efftox(EffTox(DOSES), **kw, seed=4, chunk=8)
    assert a == b
    assert calls == [(8, 20), (16, 20), (20, 20)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"num_draws": 10}, "num_draws"),
        ({"chunk": 0}, "chunk"),
        ({"true_eff": [0.2, 0.3]}, "true_eff"),
        ({"true_tox": [0.1, 0.2, 0.3, 0.4, -0.1]}, "true_tox"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str):
    args = {"true_tox": TOX, "true_eff": EFF, "n_trials": 2, **kwargs}
    with pytest.raises(InvalidInputError) as err:
        simulate_efftox(EffTox(DOSES), **args)
    assert err.value.field == field


def test_simulate_without_efficacy_is_refused():
    with pytest.raises(InvalidInputError) as err:
        simulate(EffTox(DOSES), true_tox=TOX, n_trials=2)
    assert err.value.field == "true_eff"

"""Operating characteristics: the vectorised simulation against exact enumeration."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import BOIN, BOIN12, Scenario, load_scenario, simulate
from vein2vein.invivo._simulate import simulate_reference

TRUE_TOX = [0.05, 0.15, 0.3, 0.45, 0.6]


def _exact_boin(design: BOIN, p: list[float], cohorts: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact selection probabilities and mean patients by enumerating every trial path
    through the single-trial API (``decide`` on the cohort notation)."""
    k = design.num_doses
    selection = np.zeros(k + 1)  # last: no dose selected
    patients = np.zeros(k)

    def walk(outcomes: str, prob: float, left: int) -> None:
        decision = design.decide(outcomes)
        if left == 0 or decision.stop:
            final = decision.selected_dose if decision.stop else design.select_mtd(outcomes)
            selection[k if final is None else final - 1] += prob
            for cohort in outcomes.split():
                patients[int(cohort[0]) - 1] += 3 * prob
            return
        d = decision.next_dose
        for y in range(4):
            letters = "T" * y + "N" * (3 - y)
            p_y = stats.binom.pmf(y, 3, p[d - 1])
            walk(f"{outcomes} {d}{letters}".strip(), prob * p_y, left - 1)

    walk("", 1.0, cohorts)
    return selection, patients


def test_boin_simulation_matches_exact_enumeration():
    design = BOIN(5, 0.3)
    exact_sel, exact_n = _exact_boin(design, TRUE_TOX, cohorts=4)
    oc = simulate(design, true_tox=TRUE_TOX, n_trials=20_000, max_n=12, seed=1)
    got = np.array([*oc.selection, oc.no_selection])
    se = np.sqrt(exact_sel * (1 - exact_sel) / 20_000) + 1e-9
    assert np.all(np.abs(got - exact_sel) < 4.5 * se + 1e-12)
    assert np.allclose(oc.mean_patients, exact_n, atol=0.1)
    assert math.isclose(sum(got), 1.0)


def test_vectorised_and_per_trial_loops_agree():
    design = BOIN12(5)
    eff = [0.1, 0.3, 0.5, 0.55, 0.6]
    tox = [0.05, 0.1, 0.15, 0.3, 0.45]
    fast = simulate(design, true_tox=tox, true_eff=eff, n_trials=3000, seed=2)
    slow = simulate_reference(design, true_tox=tox, true_eff=eff, n_trials=1500, seed=3)
    for a, b in zip(fast.selection, slow.selection, strict=True):
        se = math.sqrt(a * (1 - a) / 1500 + a * (1 - a) / 3000) + 1e-3
        assert abs(a - b) < 4.5 * se
    assert np.allclose(fast.mean_patients, slow.mean_patients, atol=0.6)


def test_all_doses_too_toxic_stops_early_without_selection():
    oc = simulate(BOIN(4, 0.2), true_tox=[0.7, 0.8, 0.85, 0.9], n_trials=2000, seed=0)
    assert oc.no_selection > 0.9
    assert oc.early_stop > 0.9
    assert oc.mean_total < 9


def test_result_is_reproducible_with_a_seed_and_reports_progress():
    calls: list[tuple[int, int]] = []
    a = simulate(
        BOIN(5, 0.3), true_tox=TRUE_TOX, n_trials=500, seed=5, progress=lambda *c: calls.append(c)
    )
    b = simulate(BOIN(5, 0.3), true_tox=TRUE_TOX, n_trials=500, seed=5)
    assert a == b
    assert calls[-1] == (12, 12)
    frame = a.to_frame()
    assert frame["selection"].sum() + a.no_selection == pytest.approx(1.0)


def test_efficacy_design_needs_true_eff():
    with pytest.raises(InvalidInputError) as info:
        simulate(BOIN12(5), true_tox=TRUE_TOX, n_trials=10)
    assert info.value.field == "true_eff"


@pytest.mark.parametrize("bad", [[0.1, 1.2, 0.3, 0.4, 0.5], [-0.1, 0.2, 0.3, 0.4, 0.5]])
def test_probabilities_outside_0_1_are_refused(bad: list[float]):
    with pytest.raises(InvalidInputError, match="not a probability in"):
        simulate(BOIN(5, 0.3), true_tox=bad, n_trials=10)
    with pytest.raises(InvalidInputError):
        Scenario(tuple(bad))


def test_wrong_number_of_doses_is_refused():
    with pytest.raises(InvalidInputError, match="4 toxicity probabilities"):
        simulate(BOIN(5, 0.3), true_tox=[0.1, 0.2, 0.3, 0.4], n_trials=10)


def test_scenario_files(tmp_path: Path):
    yaml_file = tmp_path / "s1.yaml"
    yaml_file.write_text("name: flat\ntrue_tox: [0.05, 0.1, 0.2]\ntrue_eff: [0.2, 0.4, 0.5]\n")
    scenario = load_scenario(yaml_file)
    assert scenario.name == "flat"
    assert scenario.true_eff == (0.2, 0.4, 0.5)
    csv_file = tmp_path / "s2.csv"
    csv_file.write_text("dose,true_tox\n1,0.05\n2,0.1\n")
    assert load_scenario(csv_file).true_tox == (0.05, 0.1)


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        ("bad.yaml", "true_tox: [0.1, 1.5]\n", "true_tox"),
        ("bad.yaml", "true_eff: [0.1]\n", "true_tox"),
        ("bad.yaml", "true_tox: 0.3\n", "true_tox"),
        ("bad.csv", "dose,true_tox,true_eff\n1,0.1,0.2\n2,0.2,-3\n", "true_eff"),
        ("bad.csv", "dose,tox\n1,0.1\n", "tox"),
        ("bad.csv", "dose,true_eff\n1,0.1\n", "true_tox"),
        ("bad.csv", "dose,true_tox\n2,0.1\n1,0.2\n", "dose"),
    ],
)
def test_bad_scenario_files_name_file_and_field(tmp_path: Path, name: str, text: str, field: str):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidInputError) as info:
        load_scenario(path)
    assert info.value.field == field
    assert info.value.file == str(path)


def test_unknown_format(tmp_path: Path):
    path = tmp_path / "s.json"
    path.write_text("{}")
    with pytest.raises(InvalidInputError, match="unknown scenario format"):
        load_scenario(path)


def test_paths_enumerated_are_a_distribution():
    sel, _ = _exact_boin(BOIN(3, 0.3), [0.1, 0.3, 0.5], cohorts=3)
    assert sel.sum() == pytest.approx(1.0)
    assert np.all(sel >= 0)

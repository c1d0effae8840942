"""BOIN12 against Lin et al. (2020) and the R ``escalation`` package's checks of it."""

from __future__ import annotations

import math

import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import BOIN12

# Lin R, Zhou Y, Yan F, Li D, Yuan Y (2020) JCO Precis Oncol 4:1393-1402, Table 3
# (rank-based desirability scores, n = 0, 3, 6, 9; phi_T = 0.35, phi_E = 0.25, utilities
# 100/60/40/0), cells as checked by escalation's tests/testthat/test_boin12_rds.R.
TABLE3 = [
    (0, 0, 0, 60.0),
    (3, 0, 3, 91.0),
    (6, 1, 5, 87.0),
    (6, 5, 1, None),  # "E": eliminated
    (9, 0, 8, 99.0),
    (9, 2, 3, 32.5),  # tie with 9/5/5
    (9, 5, 5, 32.5),
    (9, 3, 1, 7.0),
    (9, 4, 0, None),
    (9, 6, 9, None),
]


@pytest.mark.parametrize(("n", "n_tox", "n_eff", "score"), TABLE3)
def test_desirability_scores_match_table_3(n: int, n_tox: int, n_eff: int, score: float | None):
    assert BOIN12(5).desirability(n, n_tox, n_eff) == score


def test_desirability_scores_change_with_the_utilities():
    # Same check as escalation: with u00 = 50, u11 = 55 the ranking changes.
    other = BOIN12(5, u00=50, u11=55)
    assert other.desirability(0, 0, 0) != 60
    assert other.desirability(3, 0, 3) != 91


def test_benchmark_utility():
    # u_bar = 100*0.25*0.65 + 40*0.65*0.75 + 60*0.35*0.25 = 41; u_b = 41 + 59/2 = 70.5
    design = BOIN12(5)
    assert design.u_bar == pytest.approx(41.0)
    assert design.u_b == pytest.approx(70.5)
    assert design.lambda_e == pytest.approx(0.276, abs=1e-3)
    assert design.lambda_d == pytest.approx(0.419, abs=1e-3)


def test_paper_example_p1396():
    # Lin et al. p. 1396: after 1NNN 2ENT 3ETT 2EEN the next cohort gets dose 2.
    assert BOIN12(5).next_dose("1NNN 2ENT 3ETT 2EEN") == 2


def test_worked_trial_of_the_data_supplement():
    # Section 6 and Figure S2 of the Data Supplement (escalation's test_boin12.R):
    # stop after 4NEN (12 patients at dose 4) and select dose 4.
    cohorts = ["1NNN", "2NNB", "3NEE", "3NTN", "4ETE", "4NBE", "4BNN", "5BEN", "5NBT", "4NEN"]
    expected = [2, 3, 3, 4, 4, 4, 5, 5, 4, None]
    design = BOIN12(5)
    got = [design.next_dose(" ".join(cohorts[: i + 1])) for i in range(len(cohorts))]
    assert got == expected
    final = design.decide(" ".join(cohorts))
    assert final.stop
    assert final.selected_dose == 4


# MD Anderson BOIN12 Shiny app, default parameters (escalation's test_boin12.R,
# "parameterisation 1"); the app fails on 1BBB, 1TBB, 1TTB, 1TTT.
SHINY_DEFAULT = {
    "1EBB": 1, "1EEB": 1, "1EEE": 1, "1EET": 1, "1ETB": 1, "1ETT": 1, "1NBB": 1, "1NEB": 1,
    "1NEE": 1, "1NET": 2, "1NNB": 2, "1NNE": 2, "1NNN": 2, "1NNT": 2, "1NTB": 1, "1NTT": 1,
    "2BBB": 1, "2EBB": 1, "2EEB": 2, "2EEE": 2, "2EET": 2, "2ETB": 1, "2ETT": 1, "2NBB": 1,
    "2NEB": 2, "2NEE": 2, "2NET": 3, "2NNB": 3, "2NNE": 3, "2NNN": 3, "2NNT": 3, "2NTB": 1,
    "2NTT": 1, "2TBB": 1, "2TTB": 1, "2TTT": 1,
    "5BBB": 4, "5EBB": 4, "5EEB": 5, "5EEE": 5, "5EET": 5, "5ETB": 4, "5ETT": 4, "5NBB": 4,
    "5NEB": 5, "5NEE": 5, "5NET": 4, "5NNB": 4, "5NNE": 4, "5NNN": 4, "5NNT": 4, "5NTB": 4,
    "5NTT": 4, "5TBB": 4, "5TTB": 4, "5TTT": 4,
}  # fmt: skip

# Same app, phi_T 0.15, phi_E 0.4, u00 50, u11 30, c_T 0.9, c_E 0.8 ("parameterisation 2").
# The app continues at dose 1 after 1EBB, 1ETB, 1ETT, 1NBB and 1NTB: see the test below.
SHINY_OTHER = {
    "1EEB": 1, "1EEE": 1, "1EET": 1, "1NEB": 1,
    "1NEE": 1, "1NET": 1, "1NNB": 1, "1NNE": 2, "1NNN": 2,
    "2BBB": 1, "2EBB": 1, "2EEB": 1, "2EEE": 2, "2EET": 1, "2ETB": 1, "2ETT": 1, "2NBB": 1,
    "2NEB": 1, "2NEE": 2, "2NET": 1, "2NNB": 1, "2NNN": 3, "2NNT": 1, "2NTB": 1, "2NTT": 1,
    "2TBB": 1, "2TTB": 1, "2TTT": 1,
    "5BBB": 4, "5EBB": 4, "5EEB": 4, "5EEE": 5, "5EET": 4, "5ETB": 4, "5ETT": 4, "5NBB": 4,
    "5NEB": 4, "5NEE": 5, "5NET": 4, "5NNB": 4, "5NNE": 4, "5NNN": 4, "5NNT": 4, "5NTB": 4,
    "5NTT": 4, "5TBB": 4, "5TTB": 4, "5TTT": 4,
}  # fmt: skip


@pytest.mark.parametrize(("outcomes", "expected"), SHINY_DEFAULT.items())
def test_matches_shiny_app_default(outcomes: str, expected: int):
    assert BOIN12(5).next_dose(outcomes) == expected


@pytest.mark.parametrize(("outcomes", "expected"), SHINY_OTHER.items())
def test_matches_shiny_app_other_parameters(outcomes: str, expected: int):
    design = BOIN12(5, 0.15, 0.4, u00=50, u11=30, c_t=0.9, c_e=0.8)
    assert design.next_dose(outcomes) == expected


@pytest.mark.parametrize("outcomes", ["1EBB", "1ETB", "1ETT", "1NBB", "1NTB"])
def test_stops_where_the_app_goes_on_at_a_too_toxic_lowest_dose(outcomes: str):
    # Deliberate difference: 2 toxicities in 3 give P(p_T > 0.15) = 1 - I_0.15(3, 2)
    # = 0.988 > c_T = 0.9, so dose 1 is inadmissible and, as in every BOIN-family
    # design, the trial stops; the app (and escalation) carry on at dose 1.
    design = BOIN12(5, 0.15, 0.4, u00=50, u11=30, c_t=0.9, c_e=0.8)
    assert design.decide(outcomes).stop
    posterior = 1 - (4 * 0.15**3 - 3 * 0.15**4)
    assert posterior == pytest.approx(0.988, abs=1e-3)


def test_stops_when_the_lowest_dose_is_too_toxic():
    # P(p_T > 0.35 | 3/3) = 1 - 0.35**4 = 0.985 > 0.95
    decision = BOIN12(5).decide("1TTT")
    assert decision.next_dose is None
    assert decision.stop
    assert decision.selected_dose is None
    assert math.isclose(1 - 0.35**4, 0.98499375)


def test_exploration_rule_escalates_after_nine_patients():
    # 2/6 and 3/9 toxicities (0.33) lie in the stay region (0.276, 0.419). With 6
    # patients (>= n_star) the choice is d - 1 or d, here dose 1; with 9 and dose 2
    # untried, the exploration rule escalates.
    assert BOIN12(5).next_dose("1NEN 1ETT") == 1
    assert BOIN12(5).next_dose("1NEN 1ETT 1NTN") == 2


def test_efficacy_letters_are_required_to_be_known():
    with pytest.raises(InvalidInputError) as info:
        BOIN12(5).next_dose("1NNX")
    assert info.value.field == "outcomes"
    assert "character 4" in str(info.value)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.2, float("nan")])
def test_thresholds_must_be_probabilities(bad: float):
    with pytest.raises(InvalidInputError, match="probability"):
        BOIN12(5, phi_t=bad)

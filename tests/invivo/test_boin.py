"""BOIN against Liu & Yuan (2015), the BOIN R package and the escalation package."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import BOIN, boin_boundaries

# Liu & Yuan (2015) J R Stat Soc C 64:507-523, Table 1 (phi1 = 0.6 phi, phi2 = 1.4 phi),
# repeated in Yuan et al. (2016) Clin Cancer Res 22:4291, Table 1. Printed to 3 decimals,
# truncated (0.35852 prints as 0.358), hence the 1e-3 tolerance.
PUBLISHED = {
    0.15: (0.118, 0.179),
    0.20: (0.157, 0.238),
    0.25: (0.197, 0.298),
    0.30: (0.236, 0.358),
    0.35: (0.276, 0.419),
}


@pytest.mark.parametrize(("target", "expected"), PUBLISHED.items())
def test_boundaries_match_the_published_table(target: float, expected: tuple[float, float]):
    lambda_e, lambda_d = BOIN(5, target).boundaries()
    assert lambda_e == pytest.approx(expected[0], abs=1e-3)
    assert lambda_d == pytest.approx(expected[1], abs=1e-3)
    assert lambda_e < target < lambda_d


def test_boundaries_are_the_closed_form():
    phi, phi1, phi2 = 0.3, 0.18, 0.42
    lambda_e = np.log((1 - phi1) / (1 - phi)) / np.log(phi * (1 - phi1) / (phi1 * (1 - phi)))
    lambda_d = np.log((1 - phi) / (1 - phi2)) / np.log(phi2 * (1 - phi) / (phi * (1 - phi2)))
    assert boin_boundaries(0.3) == pytest.approx((lambda_e, lambda_d), rel=1e-12)


def test_decision_table_matches_get_boundary_for_target_0_3():
    # BOIN::get.boundary(target = 0.3, ncohort = 4, cohortsize = 3), n = 1..12, as
    # published in Yuan et al. (2016) Table 2 and the BOIN package documentation.
    table = BOIN(5, 0.3).decision_table(12)
    assert table["escalate_max"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert table["deescalate_min"].tolist() == [1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5]
    elim = table["eliminate_min"]
    assert elim.isna().tolist() == [True, True] + [False] * 10
    assert elim[2:].tolist() == [3, 3, 4, 4, 5, 5, 5, 6, 6, 7]


def test_elimination_is_the_beta_posterior_rule():
    # The first count with P(p > 0.3 | y, n) > 0.95 under Beta(1, 1), checked with scipy.
    table = BOIN(5, 0.3).decision_table(12)
    for n, first in zip(table["n"], table["eliminate_min"], strict=True):
        if n < 3:
            continue
        post = stats.beta.sf(0.3, np.arange(n + 1) + 1, n - np.arange(n + 1) + 1)
        assert int(np.argmax(post > 0.95)) == first


# escalation/tests/testthat/test_boin.R: 'BOIN recommendations match published example'.
ESCALATION_SEQUENCE = [
    ("1NNN", 2),
    ("1NNN 2NNN", 3),
    ("1NNN 2NNN 3NTT", 2),
    ("1NNN 2NNN 3NTT 2NTN", 3),
    ("1NNN 2NNN 3NTT 2NTN 3NNN", 3),
    ("1NNN 2NNN 3NTT 2NTN 3NNN 3NNN", 4),
    ("1NNN 2NNN 3NTT 2NTN 3NNN 3NNN 4TTT", 3),
    ("1NNN 2NNN 3NTT 2NTN 3NNN 3NNN 4TTT 3NTN", 3),
    ("1NNN 2NNN 3NTT 2NTN 3NNN 3NNN 4TTT 3NTN 3NNT", 3),
    ("1NNN 2NNN 3NTT 2NTN 3NNN 3NNN 4TTT 3NTN 3NNT 3TNN", 3),
]


@pytest.mark.parametrize(("outcomes", "expected"), ESCALATION_SEQUENCE)
def test_worked_escalation_sequence(outcomes: str, expected: int):
    assert BOIN(5, 0.3).next_dose(outcomes) == expected


def test_eliminated_doses_are_not_revisited():
    decision = BOIN(5, 0.3).decide(ESCALATION_SEQUENCE[-1][0])
    assert decision.eliminated == (4, 5)  # 3/3 at dose 4
    assert decision.action == "stay"
    assert decision.selected_dose == 3
    # 1NNN 2NNN 3NNN with dose 4 eliminated: escalation is refused, stay at 3.
    assert BOIN(5, 0.3).next_dose("4TTT 3NNN") == 3


def test_stopping_rule_as_in_escalation():
    # escalation's 'BOIN advises stopping when indicated': 3/4 at dose 1 eliminates it.
    design = BOIN(5, 0.3)
    assert design.next_dose("1N") == 2
    assert design.next_dose("1N 2TN") == 1
    assert design.next_dose("1N 2TN 1TT") == 1
    final = design.decide("1N 2TN 1TTT")
    assert final.next_dose is None
    assert final.stop
    assert final.selected_dose is None


def test_no_patients_start_at_the_start_dose():
    assert BOIN(5, 0.3).next_dose("") == 1
    assert BOIN(5, 0.3, start_dose=2).next_dose("") == 2


def test_max_n_and_n_earlystop_stop_with_a_selection():
    decision = BOIN(5, 0.3, max_n=6).decide("1NNN 2NTN")
    assert decision.stop
    assert decision.selected_dose == 2
    decision = BOIN(5, 0.3, n_earlystop=6).decide("1NNN 2NNN 3NTN 3NNN")
    assert decision.stop
    assert decision.selected_dose == 3


def test_mtd_selection_follows_select_mtd():
    # Isotonic regression of (y + 0.05)/(n + 0.1) weighted by 1/variance; then closest
    # to the target. Doses 2 and 3 violate monotonicity (2/6 then 1/6) and pool to
    # about 0.25, both; the tie is below the target, so the higher dose (3) wins.
    design = BOIN(5, 0.3)
    assert design.select_mtd("1NNN 2NTN 2NNT 3NTN 3NNN 4TTN") == 3
    # Tie above the target goes to the lower dose: 2/6 and 2/6.
    assert design.select_mtd("1NNN 2TNT 2NNN 3TTN 3NNN") == 2


def test_mtd_selection_against_sklearn():
    from sklearn.isotonic import IsotonicRegression

    n = np.array([3, 6, 9, 6, 3])
    y = np.array([0, 2, 2, 3, 2])
    phat = (y + 0.05) / (n + 0.1)
    var = (y + 0.05) * (n - y + 0.05) / ((n + 0.1) ** 2 * (n + 0.1 + 1))
    fit = IsotonicRegression().fit_transform(np.arange(5), phat, sample_weight=1 / var)
    expected = int(np.argmin(np.abs(fit + np.arange(1, 6) * 1e-10 - 0.3))) + 1
    outcomes = "1NNN 2TTN 2NNN 3TTN 3NNN 3NNN 4TTT 4NNN 5TTN"
    assert BOIN(5, 0.3).select_mtd(outcomes) == expected


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": 0.0}, "target"),
        ({"target": 1.2}, "target"),
        ({"target": 0.3, "cutoff_eliminate": 1.5}, "cutoff_eliminate"),
        ({"target": 0.3, "p_saf": 0.4}, "p_saf"),
        ({"target": 0.3, "start_dose": 6}, "start_dose"),
    ],
)
def test_bad_parameters(kwargs: dict[str, float], field: str):
    with pytest.raises(InvalidInputError) as info:
        BOIN(5, **kwargs)
    assert info.value.field == field


def test_dose_out_of_range_is_refused():
    with pytest.raises(InvalidInputError, match=r"dose level 6 is outside 1\.\.5"):
        BOIN(5, 0.3).next_dose("1NNN 6NNN")


def test_efficacy_letters_are_refused_by_a_toxicity_design():
    with pytest.raises(InvalidInputError, match="letter 'E'"):
        BOIN(5, 0.3).next_dose("1NEN")

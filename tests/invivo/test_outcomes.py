"""The cohort notation of the R ``escalation`` package."""

from __future__ import annotations

import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import parse_outcomes


def test_parses_doses_and_events_in_order():
    # escalation's test_parse_phase1_outcomes.R: '1NNN 2NTN' -> doses 1,1,1,2,2,2, tox at 5
    out = parse_outcomes("1NNN 2NTN", num_doses=3)
    assert out.dose == (1, 1, 1, 2, 2, 2)
    assert out.tox == (False, False, False, False, True, False)
    assert out.cohort == (1, 1, 1, 2, 2, 2)
    n, tox, eff = out.counts()
    assert n.tolist() == [3, 3, 0]
    assert tox.tolist() == [0, 1, 0]
    assert eff.tolist() == [0, 0, 0]
    assert out.last_dose == 2


def test_efficacy_letters():
    # parse_phase1_2_outcomes: E efficacy only, T toxicity only, B both, N neither.
    out = parse_outcomes("1NEN 2NBT", num_doses=2, efficacy=True)
    assert out.tox == (False, False, False, False, True, True)
    assert out.eff == (False, True, False, False, True, False)
    # joint columns: E no T, neither, both, T no E
    assert out.joint_counts().tolist() == [[1, 2, 0, 0], [0, 1, 1, 1]]


def test_empty_string_means_no_patients():
    out = parse_outcomes("   ", num_doses=3)
    assert out.num_patients == 0
    assert out.last_dose is None


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("1NNN 2NXN", "cohort 2 ('2NXN') at character 8"),
        ("NNN", "cohort 1 ('NNN') at character 1"),
        ("1NN-N", "cohort 1 ('1NN-N') at character 4"),
        ("1NN2N", "cohort 1 ('1NN2N') at character 4"),
        ("1NNN 2", "cohort 2 ('2') at character 6: no patient outcomes"),
        ("1NNN 0NN", "cohort 2 ('0NN') at character 6: dose level 0 is outside 1..3"),
        ("1NNN 4NN", "dose level 4 is outside 1..3"),
        ("1NEN", "letter 'E' is not one of N T"),
        ("1nnn", "letter 'n'"),
    ],
)
def test_bad_strings_name_the_field_cohort_and_position(text: str, where: str):
    with pytest.raises(InvalidInputError) as info:
        parse_outcomes(text, num_doses=3)
    assert info.value.field == "outcomes"
    assert where in str(info.value)


def test_num_doses_must_be_positive():
    with pytest.raises(InvalidInputError):
        parse_outcomes("1N", num_doses=0)

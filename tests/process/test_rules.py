"""Run rules on constructed series: each must fire where its pattern completes and not one
point earlier, nor on the near-miss (opposite sides, one point short, a tie).

Rule definitions: Nelson, L. S. (1984), J. Qual. Technol. 16(4), 237-239 (tests 1-8);
Western Electric (1956), Statistical Quality Control Handbook (rules 1-4). Nelson's test 2
is *nine* points on one side; the Western Electric rule 4 is *eight*.
All series use center 0 and sigma 1, so a value is its z-score.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.process import (
    NELSON,
    RULES,
    WESTERN_ELECTRIC,
    evaluate_rules,
    nelson,
    nelson_1,
    nelson_2,
    nelson_3,
    nelson_4,
    nelson_5,
    nelson_6,
    nelson_7,
    nelson_8,
    western_electric,
    western_electric_1,
    western_electric_2,
    western_electric_3,
    western_electric_4,
)


def at(violations: tuple) -> list[int]:  # type: ignore[type-arg]
    return [v.index for v in violations]


# ---------------------------------------------------------------- rule 1


def test_rule1_beyond_three_sigma_strictly() -> None:
    assert at(nelson_1([0.0, 3.01, 0.0, -3.2], 0, 1)) == [1, 3]
    assert at(nelson_1([0.0, 3.0, -3.0], 0, 1)) == []  # on the limit is not beyond
    assert at(western_electric_1([0.0, 3.01], 0, 1)) == [1]


def test_rule1_takes_asymmetric_limits() -> None:
    # A range chart: LCL 0, UCL 2.1 (not center +/- 3 sigma).
    found = nelson_1([1.0, 2.2, 0.5], 1.0, 0.4, lcl=0.0, ucl=2.1)
    assert at(found) == [1]
    assert (found[0].lcl, found[0].ucl) == (0.0, 2.1)
    assert "above the upper limit 2.1" in found[0].description


# ---------------------------------------------------------------- runs on one side


def test_n2_nine_on_one_side_fires_eight_does_not() -> None:
    nine = [-1.0] + [0.5] * 9
    eight = [-1.0] + [0.5] * 8 + [-0.5]
    found = nelson_2(nine, 0, 1)
    assert at(found) == [9]
    assert found[0].points == tuple(range(1, 10))
    assert at(nelson_2(eight, 0, 1)) == []
    assert at(nelson_2([-0.5] * 9, 0, 1)) == [8]


def test_we4_eight_on_one_side_fires_seven_does_not() -> None:
    assert at(western_electric_4([0.2] * 8, 0, 1)) == [7]
    assert at(western_electric_4([0.2] * 7 + [-0.2], 0, 1)) == []


def test_a_point_on_the_center_line_breaks_the_run() -> None:
    assert at(western_electric_4([0.2] * 4 + [0.0] + [0.2] * 4, 0, 1)) == []


def test_a_longer_run_signals_at_every_further_point() -> None:
    found = western_electric_4([0.3] * 10, 0, 1)
    assert at(found) == [7, 8, 9]
    assert found[-1].points == tuple(range(2, 10))


# ---------------------------------------------------------------- trend and alternation


def test_n3_six_increasing_fires_five_does_not() -> None:
    six = [0.5, -0.5, -0.4, -0.3, -0.2, -0.1, 0.0]  # points 1..6 rise
    assert at(nelson_3(six, 0, 1)) == [6]
    assert nelson_3(six, 0, 1)[0].points == (1, 2, 3, 4, 5, 6)
    assert at(nelson_3(six[:-1], 0, 1)) == []  # five rising points
    assert at(nelson_3([1.0, 0.8, 0.6, 0.4, 0.2, 0.0], 0, 1)) == [5]  # falling


def test_n3_a_tie_breaks_the_trend() -> None:
    assert at(nelson_3([0.1, 0.2, 0.3, 0.3, 0.4, 0.5], 0, 1)) == []


def test_n4_fourteen_alternating_fires_thirteen_does_not() -> None:
    zigzag = [0.5 if i % 2 else -0.5 for i in range(14)]
    assert at(nelson_4(zigzag, 0, 1)) == [13]
    assert nelson_4(zigzag, 0, 1)[0].points == tuple(range(14))
    assert at(nelson_4(zigzag[:13], 0, 1)) == []
    broken = [*zigzag[:7], zigzag[6], *zigzag[7:]]  # a repeated value stops the alternation
    assert at(nelson_4(broken, 0, 1)) == []


# ---------------------------------------------------------------- m of w beyond a zone


def test_two_of_three_beyond_two_sigma_same_side() -> None:
    for rule in (nelson_5, western_electric_2):
        found = rule([2.5, 0.0, 2.1], 0, 1)
        assert at(found) == [2]
        assert found[0].points == (0, 2)
        assert found[0].values == (2.5, 2.1)
        assert at(rule([2.5, 0.0, -2.5], 0, 1)) == []  # opposite sides
        assert at(rule([2.5, 0.0, 0.0, 2.5], 0, 1)) == []  # 2 of 4, not of 3
        assert at(rule([2.5, 2.0], 0, 1)) == []  # exactly 2 sigma is not beyond
        assert at(rule([-2.5, -2.5], 0, 1)) == [1]  # window truncated at the start


def test_four_of_five_beyond_one_sigma_same_side() -> None:
    for rule in (nelson_6, western_electric_3):
        found = rule([1.5, 1.5, 0.0, 1.5, 1.2], 0, 1)
        assert at(found) == [4]
        assert found[0].points == (0, 1, 3, 4)
        assert at(rule([1.5, 1.5, 0.0, 0.0, 1.5, 1.5], 0, 1)) == []  # 3 of 5
        assert at(rule([1.5, -1.5, 1.5, -1.5, 1.5, -1.5], 0, 1)) == []  # both sides
        # The completing point must itself be beyond: a 5th point inside does not signal.
        assert at(rule([1.5, 1.5, 1.5, 1.5, 0.0], 0, 1)) == [3]


# ---------------------------------------------------------------- zone C patterns


def test_n7_fifteen_within_one_sigma_fires_fourteen_does_not() -> None:
    hugging = [2.0] + [0.5 if i % 3 else -0.5 for i in range(15)]
    assert at(nelson_7(hugging, 0, 1)) == [15]
    assert at(nelson_7(hugging[:15], 0, 1)) == []
    assert at(nelson_7([2.0] + [0.5] * 7 + [1.0] + [0.5] * 7, 0, 1)) == []  # 1.0 is not within


def test_n8_eight_outside_one_sigma_on_both_sides() -> None:
    mixture = [0.0] + [1.5 if i % 2 else -1.5 for i in range(8)]
    found = nelson_8(mixture, 0, 1)
    assert at(found) == [8]
    assert found[0].points == tuple(range(1, 9))
    assert at(nelson_8(mixture[:8], 0, 1)) == []  # seven
    assert at(nelson_8([1.5] * 8, 0, 1)) == []  # one side only: not a mixture


# ---------------------------------------------------------------- sets and records


def test_missing_points_break_runs_and_never_signal() -> None:
    assert at(western_electric_4([0.2] * 4 + [math.nan] + [0.2] * 4, 0, 1)) == []
    assert at(nelson_1([math.nan, 5.0], 0, 1)) == [1]


def test_violation_records_carry_what_was_used() -> None:
    found = nelson_5([10.0, 12.5, 12.5], 10.0, 1.0)
    v = found[0]
    assert (v.rule, v.index, v.points, v.values) == ("N5", 2, (1, 2), (12.5, 12.5))
    assert (v.center, v.sigma, v.lcl, v.ucl) == (10.0, 1.0, 7.0, 13.0)
    assert v.description.startswith("N5: 2 of 3 points in a row")
    assert "above center + 2 sigma = 12" in v.description
    assert json.loads(json.dumps(v.to_dict()))["points"] == [1, 2]


def test_sets_and_ordering() -> None:
    series = [0.0, 3.5, 2.5, 2.5, 1.5]
    assert tuple(f"N{i}" for i in range(1, 9)) == NELSON
    assert WESTERN_ELECTRIC == ("WE1", "WE2", "WE3", "WE4")
    found = evaluate_rules(series, center=0, sigma=1)
    assert [(v.index, v.rule) for v in found] == [(1, "N1"), (2, "N5"), (3, "N5"), (4, "N6")]
    assert [v.rule for v in nelson(series, 0, 1)] == ["N1", "N5", "N5", "N6"]
    assert [v.rule for v in western_electric(series, 0, 1)] == ["WE1", "WE2", "WE2", "WE3"]
    we = evaluate_rules(series, center=0, sigma=1, rules="western-electric")
    assert [v.rule for v in we] == ["WE1", "WE2", "WE2", "WE3"]
    only = evaluate_rules(series, center=0, sigma=1, rules=["n1", "WE2"])
    assert [v.rule for v in only] == ["N1", "WE2", "WE2"]
    assert evaluate_rules(series, center=0, sigma=1, rules=None) == ()
    assert set(RULES) == set(NELSON) | set(WESTERN_ELECTRIC)


def test_nelson_and_western_electric_agree_on_a_random_in_control_series() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=500)
    n1 = {v.index for v in nelson_1(x, 0, 1)}
    we1 = {v.index for v in western_electric_1(x, 0, 1)}
    assert n1 == we1 == set(np.flatnonzero(np.abs(x) > 3).tolist())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"center": 0, "sigma": 0}, "sigma"),
        ({"center": 0, "sigma": math.nan}, "sigma"),
        ({"center": math.inf, "sigma": 1}, "center"),
        ({"center": 0, "sigma": 1, "rules": "shewhart"}, "rules"),
        ({"center": 0, "sigma": 1, "rules": ["N9"]}, "rules"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInputError) as info:
        evaluate_rules([0.0, 1.0], **kwargs)
    assert info.value.field == field


def test_bad_values_are_refused() -> None:
    with pytest.raises(InvalidInputError) as info:
        evaluate_rules([[0.0, 1.0]], center=0, sigma=1)
    assert info.value.field == "values"
    with pytest.raises(InvalidInputError):
        evaluate_rules([0.0, math.inf], center=0, sigma=1)
    with pytest.raises(InvalidInputError):
        evaluate_rules(["a", "b"], center=0, sigma=1)

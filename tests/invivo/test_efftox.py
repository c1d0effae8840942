"""EffTox trade-off contour against trialr's worked example."""

from __future__ import annotations

import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import efftox_solve_p, efftox_utility

# trialr documentation, efftox_solve_p: efftox_solve_p(0.5, 0.65, 0.7, 0.25) (the
# Thall et al. 2014 example), p quoted as 0.9773; the root is 0.977368, so 1e-4.
P = efftox_solve_p(0.5, 0.65, eff_star=0.7, tox_star=0.25)


def test_p_matches_trialr():
    assert abs(P - 0.9773) < 1e-4
    on_contour = 0.6**P + (0.25 / 0.65) ** P
    assert on_contour == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize(("eff", "tox"), [(0.5, 0.0), (1.0, 0.65), (0.7, 0.25)])
def test_utility_zero_on_the_contour(eff: float, tox: float):
    assert efftox_utility(eff, tox, eff0=0.5, tox1=0.65, p=P) == pytest.approx(0, abs=1e-9)


def test_sign_off_the_contour():
    assert efftox_utility(0.8, 0.1, eff0=0.5, tox1=0.65, p=P) > 0
    assert efftox_utility(0.4, 0.4, eff0=0.5, tox1=0.65, p=P) < 0


def test_third_point_outside_the_hinges_is_refused():
    with pytest.raises(InvalidInputError):
        efftox_solve_p(0.5, 0.65, eff_star=0.4, tox_star=0.25)
    with pytest.raises(InvalidInputError):
        efftox_utility(1.2, 0.1, eff0=0.5, tox1=0.65, p=P)

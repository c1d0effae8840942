"""TITE-BOIN against the decision table of Yuan et al. (2018)."""

from __future__ import annotations

import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import BOIN, TITEBOIN

# Yuan Y, Lin R, Li D, Nie L, Warren KE (2018) Clin Cancer Res 24:4921-4930, Table 1
# (target 0.2, cohorts of 3; reproduced in Ananthakrishnan et al. 2022, Contemp Clin
# Trials Commun 28:100943): rows with the decision independent of the STFT value.
W = 28.0


def _follow(n_done: int, n_pending: int, days: float = 10.0) -> list[float]:
    return [W] * n_done + [days] * n_pending


@pytest.mark.parametrize(
    ("outcomes", "follow_up", "action", "next_dose"),
    [
        # 3 treated, 0 DLT, <= 1 pending: escalate
        ("2NNN", _follow(3, 0), "escalate", 3),
        ("2NNN", _follow(2, 1), "escalate", 3),
        # 3 treated, 0 DLT, >= 2 pending: suspend accrual
        ("2NNN", _follow(1, 2), "suspend", None),
        ("2NNN", _follow(0, 3), "suspend", None),
        # 3 treated, 1 DLT, <= 2 pending (the DLT patient is complete): de-escalate
        ("2TNN", _follow(1, 2), "de-escalate", 1),
        ("2TNN", _follow(3, 0), "de-escalate", 1),
        # 6 treated, 0 DLT, <= 3 pending: escalate; >= 4 pending: suspend
        ("2NNN 2NNN", _follow(3, 3), "escalate", 3),
        ("2NNN 2NNN", _follow(2, 4), "suspend", None),
    ],
)
def test_decision_table_rows(outcomes: str, follow_up: list[float], action: str, next_dose):
    decision = TITEBOIN(5, 0.2).decide(outcomes, follow_up=follow_up)
    assert decision.action == action
    assert decision.next_dose == next_dose


def test_two_dlts_in_three_eliminate_for_target_0_2():
    # Table 1: 3 treated, >= 2 DLT: de-escalate and eliminate (P(p > 0.2 | 2/3) = 0.973).
    decision = TITEBOIN(5, 0.2).decide("1NNN 2TTN", follow_up=[W, W, W, W, W, 5])
    assert decision.eliminated == (2, 3, 4, 5)
    assert decision.next_dose == 1


def test_pending_patients_enter_by_their_follow_up_fraction():
    # 6 at dose 2: 1 DLT, 3 complete without, 2 pending at 14 of 28 days:
    # ESS = 6 - 2 + 1 = 5, estimate 1/5 = 0.2, between lambda_e 0.157 and lambda_d 0.238.
    decision = TITEBOIN(5, 0.2).decide("2TNN 2NNN", follow_up=[W, W, W, W, 14, 14])
    assert decision.action == "stay"
    assert any("ESS = 5.000" in r for r in decision.reasons)
    # the same with both pending at 2 days: ESS = 4.143, 0.241 >= lambda_d: de-escalate
    decision = TITEBOIN(5, 0.2).decide("2TNN 2NNN", follow_up=[W, W, W, W, 2, 2])
    assert decision.action == "de-escalate"


def test_without_follow_up_it_is_boin():
    outcomes = "1NNN 2NNN 3NTT 2NTN"
    assert TITEBOIN(5, 0.3).next_dose(outcomes) == BOIN(5, 0.3).next_dose(outcomes)


@pytest.mark.parametrize(
    ("follow_up", "needle"), [([W, W], "2 follow-up times for 3"), ([W, W, -1], "non-negative")]
)
def test_bad_follow_up(follow_up: list[float], needle: str):
    with pytest.raises(InvalidInputError, match=needle) as info:
        TITEBOIN(5, 0.2).decide("1NNN", follow_up=follow_up)
    assert info.value.field == "follow_up"


def test_bad_window():
    with pytest.raises(InvalidInputError):
        TITEBOIN(5, 0.2, dlt_window_days=0)

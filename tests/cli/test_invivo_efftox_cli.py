"""``vein2vein invivo next-dose --design efftox`` through the real CLI."""

from __future__ import annotations

import json

import pytest

from vein2vein.cli import main

THALL_2014 = "1,2,4,6.6,10"


def test_efftox_json_matches_the_trialr_vignette(capsys: pytest.CaptureFixture[str]) -> None:
    # trialr vignette "EffTox": after 1NNE 2EEB with the Thall et al. (2014) example,
    # "dose-level 3 is recommended for the next cohort".
    code = main(
        ["invivo", "next-dose", "--design", "efftox", "--doses", "5",
         "--doses-real", THALL_2014, "--outcomes", "1NNE 2EEB", "--json"]
    )  # fmt: skip
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["design"] == "EffTox"
    assert payload["next_dose"] == 3
    assert payload["action"] == "escalate"
    assert any("effective sample size" in r for r in payload["reasons"])


def test_efftox_text_stop(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["invivo", "next-dose", "--design", "efftox", "--doses", "5",
         "--doses-real", THALL_2014, "--outcomes", "1TTT 1TTT"]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "next dose: none: stop" in out
    assert "no acceptable dose" in out


def test_efftox_no_patients_starts_at_dose_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invivo", "next-dose", "--design", "efftox", "--doses", "3", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["next_dose"] == 1
    assert payload["action"] == "start"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--doses-real", "1,2,2,6.6,10", "--outcomes", "1NNE"], "strictly increasing"),
        (["--doses-real", "1,2,4", "--outcomes", "1NNE"], "3 doses given for --doses 5"),
        (["--doses-real", "1,a,4,6,8", "--outcomes", "1NNE"], "doses_real"),
        (["--efficacy-hurdle", "1.5", "--outcomes", "1NNE"], "efficacy_hurdle"),
        (["--outcomes", "1NXE"], "letter 'X'"),
    ],
)
def test_efftox_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code = main(["invivo", "next-dose", "--design", "efftox", "--doses", "5", *args])
    assert code == 2
    assert needle in " ".join(capsys.readouterr().err.split())


def test_doses_real_is_refused_for_other_designs(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["invivo", "next-dose", "--design", "boin", "--doses", "5",
         "--doses-real", THALL_2014, "--outcomes", "1NNN"]
    )  # fmt: skip
    assert code == 2
    assert "efftox only" in capsys.readouterr().err

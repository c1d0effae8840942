"""``vein2vein invivo next-dose`` and ``invivo simulate`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vein2vein.cli import main


def test_next_dose_boin12_json(capsys: pytest.CaptureFixture[str]) -> None:
    # Lin et al. (2020) p. 1396: after 1NNN 2ENT 3ETT 2EEN, dose 2.
    code = main(
        ["invivo", "next-dose", "--design", "boin12", "--doses", "5",
         "--outcomes", "1NNN 2ENT 3ETT 2EEN", "--json"]
    )  # fmt: skip
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["next_dose"] == 2
    assert payload["design"] == "BOIN12"
    assert payload["stop"] is False


def test_next_dose_boin_stop_is_null(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["invivo", "next-dose", "--design", "boin", "--doses", "5", "--target", "0.3",
         "--outcomes", "1N 2TN 1TTT", "--json"]
    )  # fmt: skip
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["next_dose"] is None
    assert payload["action"] == "stop"


def test_next_dose_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invivo", "next-dose", "--design", "boin", "--doses", "5",
                 "--outcomes", "1NNN 2NNN 3NTT"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "next dose: 2" in out
    assert "de-escalate" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--design", "boin", "--outcomes", "1NNN 7NNN"], "outside 1..5"),
        (["--design", "boin", "--outcomes", "1NEN"], "letter 'E'"),
        (["--design", "crm", "--outcomes", "1NNN"], "--design must be one of"),
        (["--design", "boin", "--target", "1.5", "--outcomes", "1NNN"], "target"),
    ],
)
def test_next_dose_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    assert main(["invivo", "next-dose", "--doses", "5", *args]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert needle in err


def test_simulate_writes_report_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("name: s1\ntrue_tox: [0.05, 0.15, 0.3, 0.45, 0.6]\n")
    out = tmp_path / "report"
    code = main(
        ["invivo", "simulate", "--design", "boin", "--scenario", str(scenario),
         "--trials", "500", "--max-n", "30", "--json", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n_trials"] == 500
    assert len(payload["selection"]) == 5
    assert sum(payload["selection"]) + payload["no_selection"] == pytest.approx(1.0)
    assert payload["selection"][2] == max(payload["selection"])  # the true MTD
    assert (out / "oc-report.html").is_file()
    assert (out / "oc-selection.png").stat().st_size > 1000
    assert "SIMULATED" in (out / "oc-report.html").read_text()


def test_simulate_text_for_boin12(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    scenario = tmp_path / "s.csv"
    scenario.write_text("dose,true_tox,true_eff\n1,0.05,0.1\n2,0.1,0.3\n3,0.3,0.5\n")
    code = main(
        ["invivo", "simulate", "--design", "boin12", "--scenario", str(scenario),
         "--trials", "300"]
    )  # fmt: skip
    assert code == 0
    assert "P(select)" in capsys.readouterr().out


def test_simulate_bad_probability_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("true_tox: [0.05, 1.15]\n")
    code = main(["invivo", "simulate", "--design", "boin", "--scenario", str(scenario)])
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "true_tox" in err and "bad.yaml" in err and "not a probability" in err


def test_next_dose_tite_boin_suspends(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["invivo", "next-dose", "--design", "tite-boin", "--doses", "5", "--target", "0.2",
         "--outcomes", "1NNN", "--follow-up", "28,5,5", "--json"]
    )  # fmt: skip
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["action"] == "suspend"
    assert payload["next_dose"] is None

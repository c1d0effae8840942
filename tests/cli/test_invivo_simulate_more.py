"""``vein2vein invivo simulate --design tite-boin|efftox`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vein2vein.cli import main


def _scenario(tmp_path: Path, *, eff: bool = False) -> Path:
    path = tmp_path / "scenario.yaml"
    text = "name: late\ntrue_tox: [0.05, 0.15, 0.3, 0.45, 0.6]\n"
    if eff:
        text = "name: obd\ntrue_tox: [0.02, 0.05, 0.08, 0.35, 0.6]\n"
        text += "true_eff: [0.1, 0.3, 0.7, 0.72, 0.75]\n"
    path.write_text(text)
    return path


def test_tite_boin_json_and_report_carry_the_duration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    code = main(
        ["invivo", "simulate", "--design", "tite-boin", "--scenario", str(_scenario(tmp_path)),
         "--trials", "300", "--dlt-window-days", "90", "--accrual-per-month", "3",
         "--json", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n_trials"] == 300
    assert payload["dlt_window_days"] == 90
    assert payload["accrual_per_month"] == 3
    assert payload["mean_duration_months"] > 12 * 3 / 3  # at least the accrual of 36
    assert sum(payload["selection"]) + payload["no_selection"] == pytest.approx(1.0)
    assert payload["design"].startswith("TITEBOIN(") and "window=90.0" in payload["design"]
    page = (out / "oc-report.html").read_text()
    assert "mean trial duration (months)" in page and "SIMULATED" in page


def test_tite_boin_text_prints_the_duration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["invivo", "simulate", "--design", "tite-boin", "--scenario", str(_scenario(tmp_path)),
         "--trials", "100"]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "P(select)" in text and "mean trial duration" in text


def test_efftox_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["invivo", "simulate", "--design", "efftox", "--doses-real", "1,2,4,6.6,10",
         "--scenario", str(_scenario(tmp_path, eff=True)), "--trials", "12", "--json"]
    )  # fmt: skip
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["design"].startswith("EffTox(")
    assert payload["n_trials"] == 12
    assert payload["num_draws"] == 100_000
    assert payload["efficacy_rate"] is not None
    assert payload["min_ess"] <= payload["median_ess"]


def test_efftox_without_efficacy_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["invivo", "simulate", "--design", "efftox", "--scenario", str(_scenario(tmp_path)),
         "--trials", "5"]
    )  # fmt: skip
    assert code == 2
    assert "true_eff" in capsys.readouterr().err


def test_doses_real_is_refused_for_tite_boin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["invivo", "simulate", "--design", "tite-boin", "--scenario", str(_scenario(tmp_path)),
         "--doses-real", "1,2,3,4,5"]
    )  # fmt: skip
    assert code == 2
    assert "doses_real" in capsys.readouterr().err


def test_bad_accrual_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["invivo", "simulate", "--design", "tite-boin", "--scenario", str(_scenario(tmp_path)),
         "--accrual-per-month", "0", "--trials", "5"]
    )  # fmt: skip
    assert code == 2
    assert "accrual_per_month" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        # PyYAML alone keeps the last of two equal keys without a word.
        (
            b"true_tox: [0.05, 0.1]\nname: a\ntrue_tox: [0.5, 0.6]\n",
            "true_tox",
            "line 3: key 'true_tox' appears twice (first on line 1)",
        ),
        (
            b"true_tox: [0.05, 0.1]\ntrue_eff: [0.1, 0.2]\ntrue_efficacy: [0.3, 0.4]\n",
            "true_efficacy",
            "line 3: unknown key 'true_efficacy'",
        ),
        (b"true_tox: [0.05, 0.1]\nname: caf\xe9\n", None, "not UTF-8 text"),
        (b"true_tox: [0.05, .nan]\n", "true_tox", "dose level 2: nan is not a probability"),
        (b"true_tox: [0.05, 1.0e400]\n", "true_tox", "dose level 2: inf is not a probability"),
    ],
)
def test_a_bad_scenario_exits_2_naming_file_line_and_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: bytes,
    field: str | None,
    message: str,
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_bytes(text)
    code = main(["invivo", "simulate", "--design", "boin", "--scenario", str(path)])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert str(path) in err and message in err
    assert "Traceback" not in err
    if field is not None:
        assert f"field {field!r}" in err


def test_a_repeated_scenario_column_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scenario.csv"
    path.write_text("dose,true_tox,true_tox\n1,0.05,0.5\n2,0.1,0.6\n")
    assert main(["invivo", "simulate", "--design", "boin", "--scenario", str(path)]) == 2
    assert "column(s) true_tox appear more than once" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize(
    ("design", "option", "field"),
    [
        ("boin", "--max-n", "max_n"),  # ran for ever
        ("boin", "--trials", "n_trials"),  # numpy's "maximum allowed dimension exceeded"
        ("tite-boin", "--trials", "n_trials"),
        ("boin", "--cohort-size", "cohort_size"),
    ],
)
def test_a_simulation_too_large_to_run_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], design: str, option: str, field: str
) -> None:
    args = ["invivo", "simulate", "--design", design, "--scenario", str(_scenario(tmp_path))]
    assert main([*args, option, "99999999999999999999999999"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"field {field!r}" in err and "a simulation can run" in err


def test_an_output_folder_with_markup_in_its_name_is_printed_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r[/b]x [bold]"  # rich would read "[/b]" as a closing tag
    args = ["invivo", "simulate", "--design", "boin", "--scenario", str(_scenario(tmp_path))]
    assert main([*args, "--trials", "5", "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert f"report written to {out / 'oc-report.html'}" in printed
    assert (out / "oc-report.html").exists()

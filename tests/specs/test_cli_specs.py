"""``vein2vein spec check|evaluate|list`` on a small app with the command group attached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vein2vein.cli import exit_code_for
from vein2vein.cli._specs import register
from vein2vein.errors import InvalidInputError, SpecError
from vein2vein.specs import evaluate, read_results_csv, shipped_spec

from .conftest import spec_text

RELEASE_CSV = """\
analyte,value,unit
appearance,conforms,
car_expression,25,%
viability,92,%
car_t_dose,1.2e8,cells
vcn,1.8,copies/cell
ifng_release,2.4,ng/mL
endotoxin,<0.5,EU/mL
sterility_rapid,no growth,
sterility_14d,no growth,
mycoplasma,not detected,
rcl,not detected,
"""


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, " ".join(result.output.split()), exc


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "results.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_a_shipped_spec_by_name(app: typer.Typer) -> None:
    code, out, _ = run(app, "spec", "check", "anti-cd19-cart-release")
    assert code == 0
    spec = shipped_spec("anti-cd19-cart-release")
    assert "anti-cd19-cart-release v1.0" in out
    assert spec.sha256 in out
    assert "≥ 80 %" in out
    assert "yes (conditional)" in out


def test_check_json(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        spec_text('- {analyte: x, name: x, unit: "%", criterion: {kind: ">=", value: 80}}')
    )
    code, _, _ = run(app, "spec", "check", str(path), "--json")
    assert code == 0
    data = json.loads(CliRunner().invoke(app, ["spec", "check", str(path), "--json"]).output)
    assert data["id"] == "test-spec"
    assert data["items"][0]["criterion_text"] == "≥ 80 %"
    assert data["items"][0]["criterion"] == {"kind": ">=", "value": 80.0, "low": None, "high": None}
    assert len(data["sha256"]) == 64


def test_check_a_bad_spec_raises_with_file_field_and_line(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(spec_text("- {analyte: x, name: x, criterion: {kind: range, low: 2, high: 1}}"))
    _, _, exc = run(app, "spec", "check", str(path))
    assert isinstance(exc, SpecError)
    assert exit_code_for(exc) == 2
    assert str(exc) == (
        f"file {path}, field 'items[0].criterion.low': line 10: low (2) is greater than high (1)"
    )


def test_unknown_file_or_name(app: typer.Typer) -> None:
    _, _, exc = run(app, "spec", "check", "no-such-spec")
    assert isinstance(exc, SpecError)
    assert "no shipped specification of that name" in str(exc)


def test_evaluate_passing_results_exit_0(app: typer.Typer, tmp_path: Path) -> None:
    path = _csv(tmp_path, RELEASE_CSV)
    args = ["spec", "evaluate", "anti-cd19-cart-release", str(path)]
    code, out, exc = run(app, *args, "--weight-kg", "40", "--dose-volume-ml", "68")
    assert exc is None
    assert code == 0
    assert "overall: PASS" in out


def test_evaluate_failing_results_exit_1_with_reasons(app: typer.Typer, tmp_path: Path) -> None:
    path = _csv(tmp_path, RELEASE_CSV.replace("viability,92,%", "viability,72,%"))
    args = ["spec", "evaluate", "anti-cd19-cart-release", str(path)]
    code, out, _ = run(app, *args, "--weight-kg", "40", "--dose-volume-ml", "68")
    assert code == 1
    assert "overall: FAIL" in out
    assert "viability 72 % < 80 %" in out


def test_evaluate_pending_conditional_says_release_at_risk(
    app: typer.Typer, tmp_path: Path
) -> None:
    path = _csv(tmp_path, RELEASE_CSV.replace("sterility_14d,no growth", "sterility_14d,pending"))
    args = ["spec", "evaluate", "anti-cd19-cart-release", str(path)]
    code, out, _ = run(app, *args, "--weight-kg", "40", "--dose-volume-ml", "68")
    assert code == 1
    assert "overall: PENDING (only conditional items pending: release at risk possible)" in out


def test_evaluate_json_is_the_decision(app: typer.Typer, tmp_path: Path) -> None:
    path = _csv(tmp_path, RELEASE_CSV)
    args = ["spec", "evaluate", "anti-cd19-cart-release", str(path), "--json"]
    result = CliRunner().invoke(app, args)  # no weight: per-kg items cannot be decided
    assert result.exit_code == 1
    data = json.loads(result.output)
    expected = evaluate(shipped_spec("anti-cd19-cart-release"), read_results_csv(path))
    assert data == json.loads(json.dumps(expected.to_dict()))
    assert data["outcome"] == "invalid"


def test_evaluate_bad_csv_raises_invalid_input(app: typer.Typer, tmp_path: Path) -> None:
    path = _csv(tmp_path, "analyte,valu\nviability,85\n")
    _, _, exc = run(app, "spec", "evaluate", "apheresis-intake", str(path))
    assert isinstance(exc, InvalidInputError)
    assert exit_code_for(exc) == 2
    assert exc.field == "valu"


def test_evaluate_rejects_a_non_positive_weight(app: typer.Typer, tmp_path: Path) -> None:
    path = _csv(tmp_path, RELEASE_CSV)
    _, _, exc = run(
        app, "spec", "evaluate", "anti-cd19-cart-release", str(path), "--weight-kg", "0"
    )
    assert isinstance(exc, InvalidInputError)
    assert exc.field == "context.patient_weight_kg"


def test_list(app: typer.Typer) -> None:
    code, out, _ = run(app, "spec", "list")
    assert code == 0
    assert "apheresis-intake v1.0" in out
    result = CliRunner().invoke(app, ["spec", "list", "--json"])
    assert json.loads(result.output) == [
        "anti-cd19-cart-release",
        "apheresis-intake",
        "invivo-vector-lot-release",
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("viability,150,%", "viability: 150 % is not a possible percent"),
        ("viability,nan,%", "viability: 'nan' is not a finite number"),
        ("vcn,1e400,copies/cell", "vcn: '1e400' is not a finite number"),
    ],
)
def test_evaluate_refuses_impossible_values(
    app: typer.Typer, tmp_path: Path, row: str, message: str
) -> None:
    analyte = row.split(",")[0]
    text = "\n".join(
        row if line.startswith(f"{analyte},") else line for line in RELEASE_CSV.splitlines()
    )
    path = _csv(tmp_path, text + "\n")
    _, _, exc = run(app, "spec", "evaluate", "anti-cd19-cart-release", str(path))
    assert isinstance(exc, InvalidInputError) and exit_code_for(exc) == 2
    assert exc.field == "value" and exc.file == str(path)
    assert message in exc.reason


def test_evaluate_accepts_a_weight_of_a_newborn_but_not_of_a_building(
    app: typer.Typer, tmp_path: Path
) -> None:
    path = _csv(tmp_path, RELEASE_CSV)
    args = ["spec", "evaluate", "anti-cd19-cart-release", str(path), "--dose-volume-ml", "68"]
    code, _, exc = run(app, *args, "--weight-kg", "2.5")
    assert exc is None and code in (0, 1)
    _, _, exc = run(app, *args, "--weight-kg", "7000")
    assert isinstance(exc, InvalidInputError)
    assert exc.field == "context.patient_weight_kg" and "not a possible body weight" in exc.reason

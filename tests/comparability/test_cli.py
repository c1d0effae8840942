"""``vein2vein comparability report``: exit 0 with a report, exit 2 on bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import typer

import vein2vein.cli
from vein2vein.cli import main
from vein2vein.cli._comparability import register

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """The real ``main`` (central error mapping) over an app with this command group."""
    app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    register(app)
    monkeypatch.setattr(vein2vein.cli, "app", app)

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, _ANSI.sub("", out), " ".join(_ANSI.sub("", err).split())

    return call


@pytest.fixture
def data_csv(tmp_path: Path, network, split_apheresis) -> Path:
    frame = network(sites=("HUB-A", "HUB-B", "HUB-C"), lots_per_site=12)
    pairs = split_apheresis(donors=6).assign(cqa="ifn_gamma")
    frame = pd.concat([frame, pairs.assign(lot=pairs["lot"] + "-S")], ignore_index=True)
    path = tmp_path / "lots.csv"
    frame.to_csv(path, index=False)
    return path


def test_report_exit_0_writes_html_and_json(run, data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, stdout, err = run(
        "comparability",
        "report",
        data_csv,
        "--cqa",
        "viability",
        "--cqa",
        "ifn_gamma",
        "--test",
        "HUB-B",
        "--reference",
        "HUB-A",
        "--k",
        "1.5",
        "--unit",
        "viability=%",
        "--margin",
        "ifn_gamma=5",
        "--out",
        out,
        "--json",
    )
    assert code == 0, err
    payload = json.loads(stdout)
    html_path = Path(payload["report"])
    assert html_path.parent == out and html_path.is_file()
    assert [c["cqa"] for c in payload["cqas"]] == ["viability", "ifn_gamma"]
    assert payload["label"].startswith("source: lots.csv (sha256 ")
    assert payload["params"]["margins"] == {"ifn_gamma": 5.0}
    ifn = payload["cqas"][1]
    assert ifn["paired"]["n_pairs"] == 6 and ifn["equivalence"]["margin"] == 5.0
    html = html_path.read_text(encoding="utf-8")
    assert payload["cqas"][0]["conclusion"] in html


def test_report_human_output_with_pooled_reference(run, data_csv: Path, tmp_path: Path) -> None:
    code, stdout, err = run(
        "comparability",
        "report",
        data_csv,
        "--cqa",
        "vcn",
        "--test",
        "HUB-C",
        "--label",
        "SYNTHETIC test data",
        "--out",
        tmp_path / "r",
    )
    assert code == 0, err
    text = " ".join(stdout.split())
    assert "SYNTHETIC test data" in text
    assert "vcn: HUB-C equivalent to the pooled network (HUB-A, HUB-B) within" in text
    assert "report written to" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--test", "HUB-Z"], "unknown test site 'HUB-Z'; the data have 'HUB-A', 'HUB-B', 'HUB-C'"),
        (["--test", "HUB-B", "--reference", "HUB-Q"], "unknown reference site 'HUB-Q'"),
        (
            ["--test", "HUB-B", "--cqa", "potency"],
            "unknown cqa 'potency'; the data have 'viability'",
        ),
        (["--test", "HUB-B", "--margin", "vcn"], "field 'margin': 'vcn' is not CQA=VALUE"),
        (["--test", "HUB-B", "--margin", "vcn=wide"], "'wide' is not a number"),
        (["--test", "HUB-B", "--k", "0"], "field 'k'"),
    ],
)
def test_bad_options_exit_2(
    run, data_csv: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    code, _, err = run("comparability", "report", data_csv, *args, "--out", tmp_path / "r")
    assert code == 2
    assert message in err


def test_bad_csv_exit_2_names_file_line_and_column(run, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("lot,site,cqa,value\nL1,HUB-A,vcn,2.1\nL2,HUB-B,vcn,two\nL3,HUB-B,vcn,\n")
    code, _, err = run("comparability", "report", path, "--test", "HUB-B", "--out", tmp_path / "r")
    assert code == 2
    assert f"file {path}, field 'value': line 3, column 'value': 'two' is not a number" in err
    assert "line 4, column 'value'" in err  # the further problem, as a note
    assert not (tmp_path / "r").exists()


def test_missing_required_option_is_a_usage_error(run, data_csv: Path) -> None:
    code, _, err = run("comparability", "report", data_csv, "--test", "HUB-B")
    assert code == 2 and "--out" in err

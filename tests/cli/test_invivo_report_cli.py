"""``vein2vein invivo report`` from the database, with a JSON summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vein2vein.cli import main
from vein2vein.demo import run_invivo_program
from vein2vein.records import Database
from vein2vein.testing import PASSWORD, make_network


def _refuse(name: str) -> None:
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


@pytest.mark.slow
def test_invivo_report_reads_the_database_and_prints_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VEIN2VEIN_CONFIG", raising=False)
    url = f"sqlite:///{tmp_path / 'records.db'}"
    net = make_network(Database(url))
    run_invivo_program(
        net.db,
        tmp_path,
        clinician=net.actor("clinician"),
        qa=net.actor("qa_reviewer"),
        operator=net.actor("operator"),
        password=PASSWORD,
        cohorts=2,
        report=False,
    )
    net.db.dispose()
    out = tmp_path / "report"
    capsys.readouterr()
    code = main(
        ["--db", url, "invivo", "report", "--out", str(out), "--recommend", "BOIN12=3e6",
         "--synthetic", "--json"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out, parse_constant=_refuse)
    assert summary["patients"] == 6
    assert summary["recommendations"] == [{"design": "BOIN12", "dose": 3e6}]
    assert (out / "invivo_report.html").exists()
    bands = [(r["cmax_low"], r["cmax_high"]) for r in summary["exposure"]]
    assert bands and all(lo is not None and lo < hi for lo, hi in bands)
    bad = main(["--db", url, "invivo", "report", "--out", str(out), "--recommend", "BOIN12"])
    assert bad == 2

"""The in vivo report and the synthetic program that feeds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from vein2vein.demo import run_invivo_program
from vein2vein.invivo import invivo_table
from vein2vein.records import InvivoDosing, audit
from vein2vein.simulate import SYNTHETIC_LABEL
from vein2vein.testing import PASSWORD, Network


@pytest.mark.slow
def test_synthetic_program_escalates_and_writes_a_labelled_report(
    network: Network, tmp_path: Path
) -> None:
    result = run_invivo_program(
        network.db,
        tmp_path,
        clinician=network.actor("clinician"),
        qa=network.actor("qa_reviewer"),
        operator=network.actor("operator"),
        password=PASSWORD,
        seed=1,
        cohorts=2,
    )
    cohorts = result["sequence"].split()
    assert cohorts[0].startswith("1") and len(cohorts) <= 2
    assert all(len(c) == 4 for c in cohorts)  # level + three patients
    summary = result["report"]
    assert summary["synthetic"] is True
    assert summary["patients"] == result["patients"] == 3 * len(cohorts)
    html = Path(summary["report"]).read_text(encoding="utf-8")
    assert SYNTHETIC_LABEL in html
    assert html.count("data:image/png;base64,") >= 2
    assert "this one is ours" in html
    with network.db.read() as session:
        table = invivo_table(session)
        assert len(session.scalars(select(InvivoDosing)).all()) == result["patients"]
        assert audit.verify(session).ok
    # exposure rises with dose in the table and in the model's prediction
    assert summary["exposure"] == sorted(summary["exposure"], key=lambda r: r["dose"])
    cmax = [r["cmax"] for r in summary["exposure"]]
    assert cmax == sorted(cmax)
    # a real band across the fitted patients at every dose, and strict JSON (no NaN)
    for row in summary["exposure"]:
        assert row["n_patients"] == len(summary["fits"]) >= 2
        assert row["cmax_low"] < row["cmax"] < row["cmax_high"]
        assert row["auc_low"] < row["auc0_28"] < row["auc_high"]
    json.dumps(summary, allow_nan=False)
    assert set(table["dose"]) == set(summary["dose_levels"])

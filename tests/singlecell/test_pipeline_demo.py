"""The single-cell demo on real CARPALL samples, and its clean skip without them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vein2vein.demo import run_singlecell_demo


def test_demo_skips_cleanly_without_the_data(tmp_path: Path) -> None:
    summary = run_singlecell_demo(tmp_path / "out", data_dir=tmp_path / "absent")
    assert set(summary) == {"skipped"}
    assert "absent" in summary["skipped"]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_demo_profiles_real_samples_and_tracks_p02(carpall_dir: Path, tmp_path: Path) -> None:
    summary = run_singlecell_demo(tmp_path, data_dir=carpall_dir)
    by_name = {s["sample"]: s for s in summary["samples"]}
    assert set(by_name) == {"CAR-T11141510", "CAR-T10484039", "CAR-T10484040"}
    assert by_name["CAR-T11141510"]["timepoint"] == "M0"
    # P08's month-3 blood: the CD3+CAT+ sorted cells are far more often CAR+ than unsorted
    sorted_, unsorted = by_name["CAR-T10484039"], by_name["CAR-T10484040"]
    assert sorted_["car_positive_fraction"] > 3 * unsorted["car_positive_fraction"]
    for s in summary["samples"]:
        assert Path(s["report"]).read_text().count("data:image/png") >= 2
        assert json.loads(Path(s["profile"]).read_text())["sample"] == s["sample"]
    assert "Clone tracking" in Path(by_name["CAR-T11141510"]["report"]).read_text()
    tracked = summary["tracking"]
    assert tracked and all(t["timepoint"] != "M0" for t in tracked)
    assert any(t["fraction_in_product_clones"] > 0 for t in tracked)
    assert (tmp_path / "P02.tracking.csv").exists()

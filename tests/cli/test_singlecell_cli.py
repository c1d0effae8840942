"""``vein2vein sc profile / track / compare`` on real CARPALL samples, through CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from vein2vein.cli import app, main

CARPALL = Path(__file__).parents[2].parent / "shared" / "data" / "carpall"
runner = CliRunner()


def _gex(name: str) -> str:
    return str(CARPALL / "GEX" / name / "filtered_feature_bc_matrix.h5")


def _tcr(name: str) -> str:
    return str(CARPALL / "VDJ" / name / "filtered_contig_annotations.csv")


@pytest.fixture
def p02_sheet(tmp_path: Path) -> Path:
    """Patient P02: the unsorted product, a sorted and an unsorted later sample, TCR only."""
    if not CARPALL.exists():
        pytest.skip(f"shared data folder missing: {CARPALL}")
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "sample,patient,timepoint,source,sort,gex,tcr\n"
        f"CAR-T11141510,P02,M0,PROD,NoSo,{_gex('CAR-T11141510')},{_tcr('CAR-T11141512')}\n"
        f"CAR-T10310324,P02,M02,PB,NoSo,{_gex('CAR-T10310324')},{_tcr('CAR-T10310324')}\n"
        f"CAR-T10484037,P02,M05,BM,CD3+CAT+,{_gex('CAR-T10484037')},{_tcr('CAR-T10484037')}\n"
        f"CAR-T10484038,P02,M05,BM,NoSo,,{_tcr('CAR-T10484038')}\n"
    )
    return sheet


@pytest.mark.slow
def test_profile_writes_json_and_html_per_sample(p02_sheet: Path, tmp_path: Path) -> None:
    out = tmp_path / "profiles"
    args = ["sc", "profile", str(p02_sheet), "--out", str(out), "--json", "--diversity-depth", "50"]
    args += ["--allow-outside-folder"]  # the sheet names the shared CARPALL files
    args += ["--min-genes", "150", "--max-pct-mito", "25", "--no-doublets", "--h5ad"]
    result = runner.invoke(app, [*args, "--sample", "CAR-T10484037", "--sample", "CAR-T10310324"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    by_name = {p["sample"]: p for p in payload}
    assert set(by_name) == {"CAR-T10484037", "CAR-T10310324"}
    # CD3+CAT+ sorted marrow: most cells CAR+; unsorted blood: few
    assert by_name["CAR-T10484037"]["car_positive_fraction"] > 0.5
    assert by_name["CAR-T10310324"]["car_positive_fraction"] < 0.2
    for name in by_name:
        assert (out / f"{name}.profile.json").exists()
        html = (out / f"{name}.html").read_text()
        assert "data:image/png;base64," in html
        assert name in html
    saved = json.loads((out / "CAR-T10484037.profile.json").read_text())
    assert saved == by_name["CAR-T10484037"]
    assert {f["role"] for f in saved["inputs"]} == {"gex", "tcr"}
    options = {k: saved["parameters"][k] for k in ("min_genes", "max_pct_mito", "doublets")}
    assert options == {"min_genes": 150, "max_pct_mito": 25.0, "doublets": False}
    assert saved["parameters"]["diversity_depth"] == 50
    assert saved["diversity"]["depth"] == 50 and saved["diversity"]["shannon_lo"] is not None
    cells = ad.read_h5ad(out / "CAR-T10484037.h5ad")
    assert cells.n_obs == saved["n_cells"] and "v2v_state" in cells.obs
    assert cells.obs["car_positive"].mean() == pytest.approx(saved["car_positive_fraction"])
    table = pd.read_csv(out / "profiles.csv")
    assert set(table["sample"]) == set(by_name)
    row = table.set_index("sample").loc["CAR-T10484037"]
    assert row["car_positive_fraction"] == pytest.approx(saved["car_positive_fraction"])


@pytest.mark.slow
def test_track_reports_every_later_sample_with_tcr(p02_sheet: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["sc", "track", str(p02_sheet), "--patient", "P02", "--out", str(tmp_path), "--json",
         "--allow-outside-folder"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["sample"] for r in rows] == ["CAR-T10310324", "CAR-T10484037", "CAR-T10484038"]
    assert [r["timepoint"] for r in rows] == ["M02", "M05", "M05"]
    for r in rows:
        assert r["n_cells"] > 0
        assert 0 <= r["fraction_in_product_clones"] < 1
    # P02's unsorted product holds 399 cells with a TCR: a few of its clones are found
    # again at month 2 (blood) and month 5 (marrow, unsorted)
    fractions = {r["sample"]: r["fraction_in_product_clones"] for r in rows}
    assert fractions["CAR-T10310324"] > 0
    assert fractions["CAR-T10484038"] > 0
    for kind in ("tracking", "top_clones", "morisita_horn", "jaccard", "state_origin"):
        assert (tmp_path / f"P02.{kind}.csv").exists(), kind
    assert (tmp_path / "P02.tracking.png").stat().st_size > 0
    # the product's cells were given states, so the origin of persisting clones is known
    origin = pd.read_csv(tmp_path / "P02.state_origin.csv", index_col=0)
    assert origin["n_persisting"].sum() > 0
    assert origin["fraction_persisting"].sum() == pytest.approx(1.0)
    overlap = pd.read_csv(tmp_path / "P02.morisita_horn.csv", index_col=0)
    assert np.allclose(np.diag(overlap.to_numpy()), 1.0)


def test_bad_sheet_and_unknown_patient_exit_2(
    p02_sheet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # errors are mapped to exit codes centrally by vein2vein.cli.main
    bad = tmp_path / "bad.csv"
    bad.write_text("sample,patient\nS1,P1\n")
    assert main(["sc", "profile", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "bad.csv" in capsys.readouterr().err
    args = ["sc", "track", str(p02_sheet), "--patient", "P99", "--out", str(tmp_path)]
    assert main([*args, "--allow-outside-folder"]) == 2
    assert "P99" in capsys.readouterr().err


def test_profile_sheet_naming_a_missing_tcr_exits_2_and_writes_nothing(
    p02_sheet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = p02_sheet.read_text().splitlines()
    # line 3 (the second sample) points at a TCR file that is not there
    lines[2] = lines[2].rsplit(",", 1)[0] + "," + str(tmp_path / "gone.csv")
    sheet = tmp_path / "missing_tcr.csv"
    sheet.write_text("\n".join(lines) + "\n")
    out = tmp_path / "profiles"
    assert main(["sc", "profile", str(sheet), "--out", str(out), "--allow-outside-folder"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "missing_tcr.csv" in err and "line 3" in err and "'tcr'" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_profile_stops_on_a_truncated_h5_before_writing_any_sample(
    p02_sheet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the first sample is good; the last sample's matrix is cut short: the sheet is checked
    # up front, so no profile of the first sample is written either
    truncated = tmp_path / "truncated.h5"
    data = Path(_gex("CAR-T10484037")).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    lines = p02_sheet.read_text().splitlines()
    lines[3] = lines[3].replace(_gex("CAR-T10484037"), str(truncated))
    sheet = tmp_path / "truncated_sheet.csv"
    sheet.write_text("\n".join(lines) + "\n")
    out = tmp_path / "profiles"
    assert main(["sc", "profile", str(sheet), "--out", str(out), "--allow-outside-folder"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "truncated.h5" in err and "truncated" in err.replace("truncated.h5", "")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_compare_profiles_between_groups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vein2vein.singlecell.profile import ProductProfile, save_profile

    files = []
    for i, car in enumerate([0.1, 0.2, 0.3, 0.6, 0.7, 0.8]):
        p = ProductProfile(
            sample=f"S{i}",
            patient=f"P{i}",
            timepoint="M0",
            package_version="0",
            n_cells=500,
            car_positive_fraction=car,
        )
        files.append(str(save_profile(p, tmp_path / f"S{i}.profile.json")))
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "patient,group\n" + "".join(f"P{i},{'NR' if i < 3 else 'R'}\n" for i in range(6))
    )
    out = tmp_path / "cmp"
    result = runner.invoke(
        app, ["sc", "compare", *files, "--groups", str(groups), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    row = {r["metric"]: r for r in payload["table"]}["car_positive_fraction"]
    assert (row["n_a"], row["n_b"], row["u_statistic"]) == (3, 3, 0.0)
    assert row["p_value"] == pytest.approx(0.1)  # exact two-sided: 2 / C(6, 3)
    assert (out / "cohort_comparison.csv").exists()
    assert (out / "cohort_comparison.png").exists()
    bad = tmp_path / "bad.profile.json"
    bad.write_text('{"schema_version": 7}')
    assert main(["sc", "compare", str(bad), "--groups", str(groups)]) == 2
    assert "bad.profile.json" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["profile", "track"])
def test_a_sheet_pointing_outside_its_folder_exits_2_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "contigs.csv").write_text("barcode\n")
    folder = tmp_path / "sheets"
    folder.mkdir()
    sheet = folder / "sheet.csv"
    sheet.write_text(
        "sample,patient,timepoint,source,sort,gex,tcr\nS1,P1,M0,PROD,NoSo,,../elsewhere/contigs.csv\n"
    )
    out = tmp_path / "out"
    args = ["sc", command, str(sheet), "--out", str(out)]
    if command == "track":
        args += ["--patient", "P1"]
    assert main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "sheet.csv" in err and "field 'tcr'" in err and "outside the sheet's folder" in err
    assert not out.exists()
    # allowed explicitly, the sheet is read (and the run then fails on the empty file)
    assert main([*args, "--allow-outside-folder"]) == 2
    assert "outside the sheet's folder" not in " ".join(capsys.readouterr().err.split())


def test_an_empty_cohort_comparison_says_so_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vein2vein.singlecell.profile import ProductProfile, save_profile

    files = []
    for i in range(2):  # one patient per group: too few for any metric
        p = ProductProfile(
            sample=f"S{i}", patient=f"P{i}", timepoint="M0", package_version="0", n_cells=500
        )
        files.append(str(save_profile(p, tmp_path / f"S{i}.profile.json")))
    groups = tmp_path / "groups.csv"
    groups.write_text("patient,group\nP0,NR\nP1,R\n")
    out = tmp_path / "cmp"
    assert main(["sc", "compare", *files, "--groups", str(groups), "--out", str(out)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "nothing to compare" in err and "{'NR': 1, 'R': 1}" in err
    assert not out.exists()

"""Sample sheets and loading one sample with GEX and TCR barcodes matched (real CARPALL)."""

from __future__ import annotations

from pathlib import Path

import mudata as md
import pandas as pd
import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.io import (
    SAMPLE_SHEET_COLUMNS,
    Sample,
    SampleSheet,
    load_sample,
    read_sample_sheet,
)
from vein2vein.singlecell.io._tcr import quiet_awkward

from .conftest import SMALL_SORTED


def test_carpall_sheet_lists_every_present_sample(carpall_dir: Path, carpall_sheet) -> None:
    meta = pd.read_csv(carpall_dir / "CARPALL_scRNAseq_CART_metadata.txt", sep="\t")
    n_gex = len(list((carpall_dir / "GEX").iterdir()))
    with_gex = [s for s in carpall_sheet if s.gex is not None]
    assert len(with_gex) == n_gex == 34
    s = carpall_sheet[SMALL_SORTED]
    row = meta.set_index("GEX_Sample").loc[SMALL_SORTED]
    assert (s.patient, s.timepoint, s.source, s.sort) == ("P02", "M05", "BM", "CD3+CAT+")
    assert (s.patient, s.sort) == (row.Patient, row.Sort)
    assert s.months == 5.0 and not s.is_product
    assert s.tcr is not None and s.tcr.name == "filtered_contig_annotations.csv"
    assert carpall_sheet["CAR-T11141510"].is_product
    # paths in the CSV are relative to the sheet and read back to the same files
    raw = pd.read_csv(carpall_sheet.path, dtype=str, keep_default_na=False)
    assert tuple(raw.columns) == SAMPLE_SHEET_COLUMNS
    assert not raw["gex"].str.startswith("/").any()
    # P01's samples come back ordered by time
    months = [x.months for x in carpall_sheet.for_patient("P01")]
    assert months == sorted(months) and len(months) > 3


def _sheet(tmp_path: Path, rows: list[str], header: str = ",".join(SAMPLE_SHEET_COLUMNS)) -> Path:
    (tmp_path / "a.h5").write_bytes(b"")
    (tmp_path / "a.csv").write_text("barcode\n")
    path = tmp_path / "sheet.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_sheet_resolves_relative_paths_and_allows_one_empty(tmp_path: Path) -> None:
    sheet = read_sample_sheet(
        _sheet(tmp_path, ["S1,P1,M0,PROD,NoSo,a.h5,", "S2,P1,M7.5,PB,CD3+CAT+,,a.csv"])
    )
    assert isinstance(sheet, SampleSheet) and len(sheet) == 2
    assert sheet["S1"].gex == (tmp_path / "a.h5").resolve() and sheet["S1"].tcr is None
    assert sheet["S2"].months == 7.5 and sheet["S2"].gex is None


@pytest.mark.parametrize(
    ("rows", "field", "line", "match"),
    [
        (["S1,P1,month3,PB,NoSo,a.h5,"], "timepoint", 2, "not M0"),
        (["S1,P1,M01,PB,NoSo,a.h5,", "S1,P1,M02,PB,NoSo,a.h5,"], "sample", 3, "listed twice"),
        (["S1,,M01,PB,NoSo,a.h5,"], "patient", 2, "empty value"),
        (["S1,P1,M01,PB,NoSo,missing.h5,"], "gex", 2, "does not exist"),
        (["S1,P1,M01,PB,NoSo,,missing.csv"], "tcr", 2, "does not exist"),
        (["S1,P1,M0,PROD,NoSo,a.h5,", "S2,P1,M01,PB,NoSo,a.h5,gone.csv"], "tcr", 3, "gone.csv"),
        (["S1,P1,M0,PROD,NoSo,a.h5,", "S2,P1,M01,PB,NoSo,gone/x.h5,"], "gex", 3, "gone"),
        (["S1,P1,M01,PB,NoSo,a.h5,", "S2,P1,M01,PB,NoSo,,"], "gex", 3, "neither"),
        (["S 1,P1,M01,PB,NoSo,a.h5,"], "sample", 2, "letters, digits"),
    ],
)
def test_bad_rows_name_file_line_and_field(
    tmp_path: Path, rows: list[str], field: str, line: int, match: str
) -> None:
    path = _sheet(tmp_path, rows)
    with pytest.raises(InvalidInputError, match=match) as err:
        read_sample_sheet(path)
    assert err.value.file == str(path)
    assert err.value.field == field
    assert f"line {line}:" in str(err.value)


def test_missing_column_empty_and_absent_sheets(tmp_path: Path) -> None:
    path = _sheet(
        tmp_path, ["S1,P1,M0,PROD,NoSo,a.h5"], header="sample,patient,timepoint,source,sort,gex"
    )
    with pytest.raises(InvalidInputError, match="lacks column") as err:
        read_sample_sheet(path)
    assert err.value.field == "tcr"
    with pytest.raises(InvalidInputError, match="no samples"):
        read_sample_sheet(_sheet(tmp_path, []))
    with pytest.raises(InvalidInputError, match="cannot read") as err:
        read_sample_sheet(tmp_path / "nope.csv")
    assert err.value.file == str(tmp_path / "nope.csv")


def test_load_sample_matches_tcr_to_gex_barcodes(carpall_sheet) -> None:
    sample = carpall_sheet[SMALL_SORTED]
    mdata = load_sample(sample)
    assert isinstance(mdata, md.MuData)
    gex, airr = mdata["gex"], mdata["airr"]
    assert gex.n_obs == 337
    assert all(n.startswith(f"{SMALL_SORTED}_") for n in gex.obs_names)
    for col, value in [
        ("sample", SMALL_SORTED),
        ("patient", "P02"),
        ("timepoint", "M05"),
        ("source", "BM"),
        ("sort", "CD3+CAT+"),
    ]:
        assert set(gex.obs[col]) == {value}
        assert set(airr.obs[col]) == {value}
    # the same count, computed from the raw contig file: is_cell & high_confidence barcodes
    contigs = pd.read_csv(sample.tcr)
    cells = contigs[contigs["is_cell"] & contigs["high_confidence"]]["barcode"].unique()
    gex_barcodes = {n.split("_", 1)[1] for n in gex.obs_names}
    expected = len(set(cells) & gex_barcodes)
    info = mdata.uns["v2v_sample"]
    assert info["n_tcr_barcodes"] == airr.n_obs == len(cells)
    assert info["n_tcr_matched"] == expected > 150
    assert info["fraction_tcr_matched"] == pytest.approx(expected / len(cells))
    with quiet_awkward():
        assert "airr" in airr.obsm


def test_mismatched_pair_names_both_files(carpall_sheet) -> None:
    good = carpall_sheet[SMALL_SORTED]
    other_tcr = carpall_sheet["CAR-T10310320"].tcr  # 9 TCR cells of another run
    wrong = Sample(**{**good.model_dump(), "tcr": other_tcr})
    with pytest.raises(InvalidInputError, match="mismatched pair") as err:
        load_sample(wrong)
    assert str(other_tcr) in str(err.value) and str(good.gex) in str(err.value)
    assert err.value.field == "tcr"


def test_load_sample_without_tcr_and_with_a_custom_reader(carpall_sheet) -> None:
    good = carpall_sheet[SMALL_SORTED]
    only_gex = load_sample(Sample(**{**good.model_dump(), "tcr": None}))
    assert list(only_gex.mod) == ["gex"]
    seen: list[Path] = []

    def reader(path: Path):
        from vein2vein.singlecell.io import read_tcr

        seen.append(path)
        with quiet_awkward():
            return read_tcr(path)[:10].copy()

    mdata = load_sample(good, tcr_reader=reader)
    assert seen == [good.tcr]
    assert mdata["airr"].n_obs == 10


def test_files_outside_the_sheets_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "b.h5").write_bytes(b"")
    folder = tmp_path / "sheet"
    folder.mkdir()
    (folder / "linked.h5").symlink_to(outside / "b.h5")  # a link inside pointing out
    cases = {
        "../elsewhere/b.h5": "gex",
        str(outside / "b.h5"): "gex",
        "linked.h5": "gex",
    }
    for path_text, field in cases.items():
        sheet = _sheet(folder, [f"S1,P1,M0,PROD,NoSo,{path_text},"])
        with pytest.raises(InvalidInputError, match="outside the sheet's folder") as err:
            read_sample_sheet(sheet)
        assert (err.value.file, err.value.field) == (str(sheet), field)
        assert "line 2:" in str(err.value)
        allowed = read_sample_sheet(sheet, allow_outside=True)
        assert allowed["S1"].gex == (outside / "b.h5").resolve()
    # a path that leaves and comes back in stays inside
    inside = read_sample_sheet(_sheet(folder, ["S1,P1,M0,PROD,NoSo,../sheet/a.h5,"]))
    assert inside["S1"].gex == (folder / "a.h5").resolve()


def test_a_file_outside_is_refused_before_its_existence_is_told(tmp_path: Path) -> None:
    sheet = _sheet(tmp_path, ["S1,P1,M0,PROD,NoSo,/etc/passwd,"])
    with pytest.raises(InvalidInputError, match="outside the sheet's folder"):
        read_sample_sheet(sheet)


def test_a_sample_made_by_hand_with_a_bad_timepoint_says_so() -> None:
    sample = Sample(sample="S1", patient="P1", timepoint="day 5", source="PB", sort="NoSo")
    with pytest.raises(InvalidInputError) as caught:
        _ = sample.months
    assert caught.value.field == "timepoint"

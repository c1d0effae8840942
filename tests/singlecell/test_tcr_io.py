"""TCR readers on real 10x and AIRR files: CARPALL contigs and scirpy's shipped test files."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest
import scirpy

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.io import read_tcr
from vein2vein.singlecell.io._barcodes import prefix_barcodes, split_barcode
from vein2vein.singlecell.io._tcr import quiet_awkward

CARPALL = Path(__file__).parents[2].parent / "shared" / "data" / "carpall"
P02_PRODUCT_UNSORTED = CARPALL / "VDJ" / "CAR-T11141512" / "filtered_contig_annotations.csv"
SCIRPY_DATA = Path(scirpy.__file__).parent / "tests" / "data"


@pytest.fixture
def carpall_csv() -> Path:
    if not P02_PRODUCT_UNSORTED.is_file():
        pytest.skip(f"shared data folder missing: {P02_PRODUCT_UNSORTED}")
    return P02_PRODUCT_UNSORTED


def test_read_10x_filtered_prefixes_barcodes_with_sample(carpall_csv: Path) -> None:
    contigs = pd.read_csv(carpall_csv)
    adata = read_tcr(carpall_csv, sample="CAR-T11141512")
    # one cell per barcode of the filtered file (all rows are is_cell & high_confidence)
    assert adata.n_obs == contigs["barcode"].nunique()
    first = sorted(contigs["barcode"].unique())[0]
    assert f"CAR-T11141512_{first}" in adata.obs_names
    assert adata.obs.loc[f"CAR-T11141512_{first}", "barcode"] == first
    assert set(adata.obs["sample"]) == {"CAR-T11141512"}
    info = adata.uns["v2v_tcr"]["files"]["CAR-T11141512"]
    assert info["format"] == "10x"
    assert len(info["sha256"]) == 64
    with quiet_awkward():
        chains = adata.obsm["airr"]
        cell = adata.obs_names.get_loc(f"CAR-T11141512_{first}")
        junctions = {c["junction"] for c in chains[cell].to_list()}
    expected = set(contigs.loc[contigs["barcode"] == first, "cdr3_nt"])
    assert junctions == expected


def test_read_without_sample_keeps_barcodes(carpall_csv: Path) -> None:
    adata = read_tcr(carpall_csv)
    assert "sample" not in adata.obs
    assert all(split_barcode(b)[0] is None for b in adata.obs_names)


def test_read_gzipped_10x_and_all_contigs_file() -> None:
    gz = SCIRPY_DATA / "10x" / "vdj_nextgem_hs_pbmc3_t_filtered_contig_annotations.csv.gz"
    adata = read_tcr(gz, sample="pbmc3")
    with gzip.open(gz, "rt") as fh:
        assert adata.n_obs == pd.read_csv(fh)["barcode"].nunique()
    all_contigs = (
        SCIRPY_DATA
        / "10x"
        / "10k_BMMNC_5pv2_nextgem_Multiplex_vdj_t_all_contig_annotations_small.csv"
    )
    table = pd.read_csv(all_contigs)
    kept = table.loc[table["is_cell"] & table["high_confidence"], "barcode"].nunique()
    assert read_tcr(all_contigs).n_obs == kept


def test_read_airr_tsv() -> None:
    tsv = SCIRPY_DATA / "airr" / "rearrangement_tra.tsv"
    table = pd.read_csv(tsv, sep="\t")
    adata = read_tcr(tsv, sample="S1")
    assert sorted(adata.obs_names) == sorted(f"S1_{c}" for c in table["cell_id"].unique())
    assert adata.uns["v2v_tcr"]["files"]["S1"]["format"] == "airr"


def test_missing_barcode_column_names_file_and_field(tmp_path: Path, carpall_csv: Path) -> None:
    bad = tmp_path / "filtered_contig_annotations.csv"
    pd.read_csv(carpall_csv).drop(columns="barcode").to_csv(bad, index=False)
    with pytest.raises(InvalidInputError) as err:
        read_tcr(bad)
    assert err.value.field == "barcode"
    assert err.value.file == str(bad)


def test_airr_without_cell_id_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "rearrangements.tsv"
    table = pd.read_csv(SCIRPY_DATA / "airr" / "rearrangement_tra.tsv", sep="\t")
    table.drop(columns="cell_id").to_csv(bad, sep="\t", index=False)
    with pytest.raises(InvalidInputError, match="cell_id") as err:
        read_tcr(bad)
    assert err.value.field == "cell_id"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"barcode,is_cell\n", "no contig rows"), (b"\xff\xfe\x00bad", "cannot read")],
)
def test_empty_or_unreadable_files(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "contigs.csv"
    bad.write_bytes(content)
    with pytest.raises(InvalidInputError, match=reason) as err:
        read_tcr(bad)
    assert err.value.file == str(bad)


def test_missing_file_and_unknown_suffix(tmp_path: Path, carpall_csv: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_tcr(tmp_path / "nope.csv")
    odd = tmp_path / "contigs.xlsx"
    shutil.copy(carpall_csv, odd)
    with pytest.raises(InvalidInputError, match="unknown TCR file type"):
        read_tcr(odd)


def test_no_cells_pass_the_filter(tmp_path: Path, carpall_csv: Path) -> None:
    bad = tmp_path / "all_contig_annotations.csv"
    table = pd.read_csv(carpall_csv).head(20)
    table["is_cell"] = False
    table.to_csv(bad, index=False)
    with pytest.raises(InvalidInputError, match="no cell") as err:
        read_tcr(bad)
    assert err.value.field == "is_cell"


def test_barcode_helpers_round_trip() -> None:
    names = prefix_barcodes(["AAAC-1"], "P02_M0")
    assert split_barcode(names[0]) == ("P02_M0", "AAAC-1")
    with pytest.raises(InvalidInputError):
        prefix_barcodes(["AAAC-1"], " ")

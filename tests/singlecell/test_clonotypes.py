"""Clonotypes on real CARPALL TCR contigs (TCR only, no GEX), through scirpy."""

from __future__ import annotations

from pathlib import Path

import mudata as md
import pandas as pd
import pytest
import scirpy as ir
from anndata import AnnData

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.io import read_tcr
from vein2vein.singlecell.io._tcr import quiet_awkward
from vein2vein.singlecell.tl import EXPANSION_CLASSES, define_clonotypes

CARPALL = Path(__file__).parents[2].parent / "shared" / "data" / "carpall"
# P02 unsorted infusion product: 399 cells with TCR
PRODUCT = CARPALL / "VDJ" / "CAR-T11141512" / "filtered_contig_annotations.csv"


@pytest.fixture(scope="module")
def tcr() -> AnnData:
    if not PRODUCT.is_file():
        pytest.skip(f"shared data folder missing: {PRODUCT}")
    adata = read_tcr(PRODUCT, sample="CAR-T11141512")
    define_clonotypes(adata)
    return adata


def test_keys_and_chain_qc(tcr: AnnData) -> None:
    obs = tcr.obs
    for key in ("receptor_type", "chain_pairing", "clone_id", "clone_id_size", "clone_size"):
        assert key in obs
    assert list(obs["clonal_expansion"].cat.categories) == list(EXPANSION_CLASSES)
    excluded = obs["chain_pairing"].isin(["no IR", "multichain", "ambiguous"])
    assert obs.loc[excluded, "clone_id"].isna().all()
    assert obs.loc[~excluded, "clone_id"].notna().all()
    info = tcr.uns["v2v_clonotypes"]
    assert info["params"]["definition"] == "nt_identity"
    assert info["params"]["receptor_arms"] == "all"
    assert info["params"]["dual_ir"] == "primary_only"
    assert info["n_clones"] == obs["clone_id"].nunique()
    # a real product: mostly unique clones, some expanded
    assert 0.8 < info["n_clones"] / info["n_cells_with_clone"] < 1
    assert (obs["clone_size"] > 2).any()


def test_same_clone_means_identical_primary_cdr3_nucleotides(tcr: AnnData) -> None:
    with quiet_awkward():
        junctions = ir.get.airr(tcr, "junction", ["VJ_1", "VDJ_1"])
    frame = (
        junctions.astype(object).fillna("-").join(tcr.obs["clone_id"]).dropna(subset=["clone_id"])
    )
    per_clone = frame.groupby("clone_id", observed=True)[["VJ_1_junction", "VDJ_1_junction"]]
    assert (per_clone.nunique() == 1).all().all()
    # and distinct clones differ in at least one primary chain
    assert (
        not frame.drop_duplicates("clone_id")[["VJ_1_junction", "VDJ_1_junction"]]
        .duplicated()
        .any()
    )


def test_clone_size_and_expansion_agree_with_scirpy(tcr: AnnData) -> None:
    obs = tcr.obs
    counted = obs.groupby("clone_id", observed=True)["clone_id"].transform("size")
    assert (obs["clone_size"].dropna() == counted.dropna()).all()
    theirs = ir.tl.clonal_expansion(
        tcr, target_col="clone_id", expanded_in="sample", breakpoints=(1, 2, 10), inplace=False
    )
    relabel = {"<= 1": "1", "<= 2": "2", "<= 10": "3-10", "> 10": ">10"}
    mask = obs["clone_id"].notna()
    assert list(theirs[mask].astype(str).map(relabel)) == list(
        obs.loc[mask, "clonal_expansion"].astype(str)
    )


def test_clones_close_to_cell_rangers_own_clonotypes(tcr: AnnData) -> None:
    raw = pd.read_csv(PRODUCT, usecols=["barcode", "raw_clonotype_id"]).drop_duplicates("barcode")
    raw.index = "CAR-T11141512_" + raw["barcode"]
    pairs = tcr.obs.loc[tcr.obs["chain_pairing"] == "single pair", ["clone_id"]].join(raw)
    # for cells with exactly one alpha and one beta both definitions are the same partition
    ours = pairs.groupby("clone_id", observed=True)["raw_clonotype_id"].nunique()
    theirs = pairs.groupby("raw_clonotype_id")["clone_id"].nunique()
    assert (ours == 1).mean() > 0.99
    assert (theirs == 1).mean() > 0.99


def test_other_definitions_and_mudata(tcr: AnnData) -> None:
    beta = read_tcr(PRODUCT, sample="CAR-T11141512")
    define_clonotypes(beta, definition="beta_nt")
    assert beta.uns["v2v_clonotypes"]["n_clones"] <= tcr.uns["v2v_clonotypes"]["n_clones"]
    with quiet_awkward(), md.set_options(pull_on_update=False):
        mdata = md.MuData({"airr": read_tcr(PRODUCT, sample="CAR-T11141512")})
    define_clonotypes(mdata, definition="aa_identity")
    assert "airr:clone_id" in mdata.obs
    assert mdata.uns["v2v_clonotypes"]["params"]["same_v_gene"] is True
    assert (
        mdata.mod["airr"].obs["clone_id"].notna().sum() == mdata.obs["airr:clone_id"].notna().sum()
    )


def test_bad_input_is_rejected(tcr: AnnData) -> None:
    with pytest.raises(InvalidInputError) as err:
        define_clonotypes(tcr, definition="cdr3_similarity")  # type: ignore[arg-type]
    assert err.value.field == "definition"
    with pytest.raises(InvalidInputError) as err:
        define_clonotypes(AnnData(obs=pd.DataFrame(index=["a"])))
    assert err.value.field == "airr"


def test_clone_size_plot(tcr: AnnData) -> None:
    from vein2vein.singlecell.pl import clone_size_distribution

    fig = clone_size_distribution(tcr)
    ax = fig.axes[0]
    assert len(ax.patches) == len(EXPANSION_CLASSES)  # one sample, one bar per class
    heights = sum(p.get_height() for p in ax.patches)
    assert heights == pytest.approx(1.0)
    with pytest.raises(InvalidInputError):
        clone_size_distribution(read_tcr(PRODUCT))

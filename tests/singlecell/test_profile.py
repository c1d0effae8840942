"""profile_sample / build_profile on a labelled-synthetic product, report and recording."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from vein2vein.errors import InvalidInputError
from vein2vein.records import AssayResult
from vein2vein.release import current_results
from vein2vein.simulate import synthetic_product
from vein2vein.singlecell import profile as profile_module
from vein2vein.singlecell.io import read_sample_sheet
from vein2vein.singlecell.profile import (
    ProductProfile,
    ProfileParams,
    build_profile,
    load_profile,
    profile_report,
    profile_sample,
    record_profile,
    save_profile,
)
from vein2vein.testing import make_batch


@pytest.fixture(scope="module")
def profiled(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("product")
    product = synthetic_product(400, seed=5, car_fraction=0.5, n_genes=400, mean_umis=1200)
    h5, csv = product.write_10x(root / "S1")
    sheet = root / "sheet.csv"
    sheet.write_text(
        "sample,patient,timepoint,source,sort,gex,tcr\n"
        f"S1,P1,M0,PROD,NoSo,{h5.relative_to(root)},{csv.relative_to(root)}\n"
    )
    sample = read_sample_sheet(sheet)["S1"]
    prof, gex = profile_sample(sample, params=ProfileParams(n_boot=20, seed=3, diversity_depth=100))
    return product, sample, prof, gex


@pytest.mark.slow
def test_profile_records_inputs_parameters_and_numbers(profiled) -> None:
    product, sample, prof, gex = profiled
    assert (prof.sample, prof.patient, prof.timepoint, prof.source) == ("S1", "P1", "M0", "PROD")
    assert prof.provenance is not None and prof.provenance.startswith("SYNTHETIC")
    assert prof.seed == 3 and prof.parameters["seed"] == 3
    # the backend that ran is recorded, not "auto"
    assert prof.parameters["backend"] in {"cpu", "gpu"}
    assert prof.parameters["car_features"] == ["CAT_scFv"]
    roles = {f.role: f for f in prof.inputs}
    import hashlib

    assert roles["gex"].sha256 == hashlib.sha256(sample.gex.read_bytes()).hexdigest()
    assert prof.n_cells == gex.n_obs
    # CAR+ cells among the kept cells: the generator's truth, less the Poisson dropout
    truth = product.adata.obs.loc[gex.obs["sample"].index.str.removeprefix("S1_"), "synthetic_car"]
    assert prof.car_positive_fraction == pytest.approx(gex.obs["car_positive"].mean())
    assert 0.8 * truth.mean() < prof.car_positive_fraction <= truth.mean()
    assert prof.n_clonotypes is not None and prof.n_clonotypes > 10
    assert prof.diversity["shannon"] is not None
    assert set(prof.signature_scores) >= {"exhaustion", "memory"}
    if prof.state_fractions:
        assert sum(prof.state_fractions.values()) == pytest.approx(1.0)


@pytest.mark.slow
def test_same_inputs_same_profile_bytes(profiled, tmp_path: Path) -> None:
    _, _, prof, gex = profiled
    again = build_profile(
        gex,
        inputs=prof.inputs,
        parameters=prof.parameters,
        seed=prof.seed,
        provenance=prof.provenance,
    )
    assert again == prof
    path = save_profile(prof, tmp_path / "S1.profile.json")
    assert load_profile(path).sha256() == prof.sha256()


@pytest.mark.slow
def test_report_has_the_plots_and_the_label(profiled, tmp_path: Path) -> None:
    _, _, prof, gex = profiled
    html = profile_report(prof, tmp_path / "S1.html", adata=gex).read_text()
    # Drawn by the pl functions: UMAP by state and CAR, signatures, clone sizes.
    assert html.count("data:image/png;base64,") == 3
    for title in (
        "UMAP by cell state and by CAR",
        "Signature score distributions",
        "Clone-size distribution",
    ):
        assert title in html
    assert "SYNTHETIC" in html
    assert prof.sha256() in html
    # diversity as one row per metric: observed, rarefied median and its interval
    depth = prof.diversity["depth"]
    assert f"rarefied to {depth:.4g} cells (median)" in html
    row = (
        "<td>Shannon entropy (nats)</td>"
        f'<td class="num">{prof.diversity["shannon"]:.4g}</td>'
        f'<td class="num">{prof.diversity["shannon_rarefied"]:.4g}</td>'
        f'<td class="num">{prof.diversity["shannon_lo"]:.4g} – {prof.diversity["shannon_hi"]:.4g}'
    )
    assert row in html
    assert "shannon_lo" not in html
    # states and QC in words
    assert "effector / TEMRA" in html or "effector memory" in html
    assert "cells after QC" in html and "n_cells_after" not in html


def test_report_says_doublets_were_not_scored_in_a_small_sample(tmp_path: Path) -> None:
    prof = ProductProfile(
        sample="S",
        package_version="0",
        n_cells=70,
        qc={"n_cells_before": 81, "n_doublets": 0, "doublet_rate": None},
    )
    html = profile_report(prof, tmp_path / "S.html").read_text()
    assert "not scored (fewer than 100 cells)" in html


def test_report_shows_rarefied_columns_only_below_the_sample_size(tmp_path: Path) -> None:
    diversity = {"shannon": 3.0, "depth": 30.0}
    diversity |= {"shannon_rarefied": 2.9, "shannon_lo": 2.8, "shannon_hi": 3.0}
    common = {"sample": "S", "package_version": "0", "n_cells": 70, "diversity": diversity}
    below = ProductProfile(n_cells_tcr=35, **common)
    whole = ProductProfile(n_cells_tcr=30, **common)
    html = profile_report(below, tmp_path / "below.html").read_text()
    assert "rarefied to 30 cells (median)" in html and "2.8 – 3" in html
    html = profile_report(whole, tmp_path / "whole.html").read_text()
    assert "rarefied to" not in html and "Observed on all 30 cells with a TCR" in html


def test_build_profile_needs_a_sample_and_a_gex_modality() -> None:
    import anndata as ad
    import mudata as md
    import numpy as np

    with pytest.raises(InvalidInputError) as info:
        build_profile(ad.AnnData(np.zeros((3, 2))))
    assert info.value.field == "sample"
    with md.set_options(pull_on_update=False):
        mdata = md.MuData({"airr": ad.AnnData(np.zeros((3, 2)))})
    with pytest.raises(InvalidInputError, match="gex"):
        build_profile(mdata, sample_meta={"sample": "S"})


def test_profile_sample_refuses_a_sample_without_gex(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    synthetic_product(20, seed=1, n_genes=200).contigs.to_csv(csv, index=False)
    sheet = tmp_path / "s.csv"
    sheet.write_text(f"sample,patient,timepoint,source,sort,gex,tcr\nT1,P1,M03,PB,NoSo,,{csv}\n")
    with pytest.raises(InvalidInputError) as info:
        profile_sample(read_sample_sheet(sheet)["T1"])
    assert info.value.field == "gex"


@pytest.mark.slow
def test_recorded_profile_values_are_report_only(profiled, network) -> None:
    _, _, prof, _ = profiled
    batch = make_batch(network)
    from vein2vein.records import Batch as _Batch

    with network.db.read() as session:
        lot = session.get(_Batch, batch.id)
        assert lot is not None
        patient = lot.patient.patient_code
    # Recorded on the batch made for the profiled patient, from its product (M0).
    prof = prof.model_copy(update={"patient": patient, "timepoint": "M0"})
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        stored = record_profile(uow, prof, batch=batch.batch_code)
    assert len(stored) == len(prof.metrics())
    with network.db.read() as session:
        rows = list(session.scalars(select(AssayResult)))
        assert {r.analyte for r in rows} >= {"sc.car_positive_fraction", "sc.n_cells"}
        assert all(r.method == "scRNA-seq profile sha256:" + prof.sha256() for r in rows)
        car = next(r for r in rows if r.analyte == "sc.car_positive_fraction")
        assert car.value == pytest.approx(prof.car_positive_fraction, rel=1e-5)
        # the lot-release specification ignores them: no item, no OOS, no disposition change
        from vein2vein.records import Batch, Investigation

        assert session.scalars(select(Investigation)).first() is None
        b = session.scalars(select(Batch).where(Batch.batch_code == batch.batch_code)).one()
        assert len(current_results(session, b)) == len(stored)


def test_public_profile_api_follows_the_conventions() -> None:
    for name in profile_module.__all__:
        obj = getattr(profile_module, name)
        if inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
            positional = [
                p
                for p in inspect.signature(obj).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            assert len(positional) <= 3, name


@pytest.mark.slow
def test_profile_json_holds_every_field_of_the_issue(profiled, tmp_path: Path) -> None:
    # Issue point 7: CAR+ %, CD4:CD8, state fractions overall and among CAR+, signature
    # summaries, diversity with rarefied values and intervals, QC summary, schema_version,
    # package version, input SHA-256s, parameters, seed - read back from the JSON itself.
    import json
    import re

    import vein2vein

    _, _, prof, _ = profiled
    doc = json.loads(save_profile(prof, tmp_path / "S1.profile.json").read_text())
    assert doc["schema_version"] >= 1
    assert doc["package_version"] == vein2vein.__version__
    assert {f["role"] for f in doc["inputs"]} == {"gex", "tcr"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) for f in doc["inputs"])
    assert doc["seed"] == 3 and doc["parameters"]["seed"] == 3
    assert 0 < doc["car_positive_fraction"] < 1 and doc["car_caveat"]
    assert doc["cd4_cd8_ratio"] > 0
    for key in ("state_fractions", "state_fractions_car"):
        assert sum(doc[key].values()) == pytest.approx(1.0)
    assert set(doc["signature_scores"]) == {
        "exhaustion",
        "memory",
        "cytotoxicity",
        "proliferation",
        "treg",
        "type2",
    }
    for s in doc["signature_scores"].values():
        assert s["q1"] <= s["median"] <= s["q3"] and s["n"] > 0
    div = doc["diversity"]
    assert div["depth"] > 0
    for metric in ("shannon", "pielou", "simpson", "inverse_simpson", "gini", "clonality"):
        for suffix in ("", "_rarefied", "_lo", "_hi"):
            assert div[metric + suffix] is not None, metric + suffix
        assert div[metric + "_lo"] <= div[metric + "_rarefied"] <= div[metric + "_hi"]
    assert {"top10_fraction", "d50", "chao1"} <= set(div)
    assert doc["qc"] and all(v is None or v >= 0 for v in doc["qc"].values())


def test_qc_summary_has_no_doublet_rate_where_scrublet_did_not_run(sorted_gex) -> None:
    from vein2vein.singlecell.pp import qc

    few = sorted_gex[:80].copy()  # under scrublet's 100-cell minimum
    qc(few)
    assert not few.uns["v2v_qc"]["per_sample"]["doublets_scored"].iloc[0]
    prof = build_profile(few, sample_meta={"sample": "S"})
    assert prof.qc["doublet_rate"] is None and prof.qc["n_doublets"] == 0
    many = sorted_gex.copy()
    qc(many)
    assert build_profile(many, sample_meta={"sample": "S"}).qc["doublet_rate"] is not None


@pytest.mark.slow
def test_analysed_cells_round_trip_through_h5ad(profiled, tmp_path: Path) -> None:
    import anndata as ad

    _, _, _, gex = profiled
    path = tmp_path / "S1.h5ad"
    gex.write_h5ad(path)  # every record we write into uns fits the format
    back = ad.read_h5ad(path)
    for column in ("v2v_state", "v2v_lineage", "car_positive", "clone_id", "leiden"):
        assert (back.obs[column].astype(str) == gex.obs[column].astype(str)).all(), column
    assert np.array_equal(back.obsm["X_umap"], gex.obsm["X_umap"])
    for key in ("v2v_qc", "v2v_car_positive", "v2v_embedding", "v2v_states", "v2v_pipeline"):
        assert key in back.uns, key
    assert back.uns["v2v_states"]["rule_version"] == gex.uns["v2v_states"]["rule_version"]

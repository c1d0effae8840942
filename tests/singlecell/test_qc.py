"""Quality control on real CARPALL samples: thresholds, per-sample table, scrublet."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pytest
import scanpy as sc
from scipy import sparse

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.pp import QC_DEFAULTS, qc

from .conftest import SMALL_SORTED, SMALL_UNSORTED


@pytest.fixture(scope="module")
def two_samples(sorted_gex, unsorted_gex) -> ad.AnnData:
    return ad.concat([sorted_gex, unsorted_gex], merge="same")


def test_thresholds_match_a_direct_count_and_the_table_adds_up(two_samples) -> None:
    raw = two_samples
    x = sparse.csr_matrix(raw.X)
    n_genes = np.asarray((x > 0).sum(axis=1)).ravel()
    total = np.asarray(x.sum(axis=1)).ravel()
    mt = np.asarray(x[:, raw.var_names.str.startswith("MT-")].sum(axis=1)).ravel()
    expected_ok = (n_genes >= 200) & (n_genes <= 6000) & (total >= 500) & (100 * mt / total <= 20)

    out = qc(raw, doublets=False, copy=True)
    assert out is not None
    assert raw.n_obs == 337 + 1005  # copy=True left the input whole
    assert list(out.obs_names) == list(raw.obs_names[expected_ok])
    assert out.n_vars == raw.n_vars  # genes are never removed
    table = out.uns["v2v_qc"]["per_sample"]
    assert table.loc[SMALL_SORTED, "n_cells_before"] == 337
    assert table.loc[SMALL_UNSORTED, "n_cells_before"] == 1005
    assert (
        table["n_cells_before"] - table["n_low_quality"] - table["n_doublets"]
        == table["n_cells_after"]
    ).all()
    assert table["n_cells_after"].sum() == out.n_obs
    sel = out.obs["sample"] == SMALL_SORTED
    assert table.loc[SMALL_SORTED, "median_umis"] == np.median(total[expected_ok][sel.to_numpy()])
    assert not table["doublets_scored"].any() and (table["n_doublets"] == 0).all()


def test_every_parameter_and_version_is_recorded(two_samples) -> None:
    out = qc(two_samples, doublets=False, min_genes=300, seed=7, copy=True)
    params = out.uns["v2v_qc"]["params"]
    assert params["min_genes"] == 300 and params["seed"] == 7
    assert params["max_pct_mt"] == QC_DEFAULTS["max_pct_mt"]
    assert {"scanpy", "anndata", "vein2vein"} <= set(out.uns["v2v_qc"]["versions"])


def test_nothing_passing_is_an_error(two_samples) -> None:
    with pytest.raises(InvalidInputError, match="no cell passes"):
        qc(two_samples, min_genes=50_000, doublets=False, copy=True)


@pytest.mark.slow
def test_scrublet_matches_scanpy_run_with_the_same_seed(sorted_gex) -> None:
    out = qc(sorted_gex, seed=0, copy=True)
    table = out.uns["v2v_qc"]["per_sample"]
    assert table.loc[SMALL_SORTED, "doublets_scored"]
    # The same scores as scanpy's scrublet run by hand on the sample's kept cells.
    kept = qc(sorted_gex, doublets=False, copy=True)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Some cells have zero counts", category=UserWarning
        )
        warnings.filterwarnings(
            "ignore", message="invalid value encountered in scalar divide", category=RuntimeWarning
        )
        sc.pp.scrublet(
            kept, threshold=0.25, expected_doublet_rate=0.05, n_prin_comps=30, random_state=0
        )
    ours = out.obs["doublet_score"]
    np.testing.assert_allclose(ours.to_numpy(), kept.obs.loc[ours.index, "doublet_score"])
    n_doublets = int(kept.obs["predicted_doublet"].sum())
    assert table.loc[SMALL_SORTED, "n_doublets"] == n_doublets == kept.n_obs - out.n_obs
    assert table.loc[SMALL_SORTED, "doublet_rate"] == pytest.approx(n_doublets / kept.n_obs)


def test_small_samples_are_not_scored_for_doublets(sorted_gex) -> None:
    few = sorted_gex[:60].copy()
    out = qc(few, copy=True)
    assert not out.uns["v2v_qc"]["per_sample"].loc[SMALL_SORTED, "doublets_scored"]
    assert out.obs["doublet_score"].isna().all()

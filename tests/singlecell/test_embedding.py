"""The embedding on a real CARPALL sample: recorded parameters, reproducibility, layers."""

from __future__ import annotations

import numpy as np
import pytest
import scanpy as sc
from scipy import sparse

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.pp import embed, embedding_agreement, qc


@pytest.fixture(scope="module")
def cells(sorted_gex):
    out = qc(sorted_gex, doublets=False, copy=True)
    return out[:200].copy()


@pytest.mark.slow
def test_embedding_is_recorded_reproducible_and_keeps_counts(cells) -> None:
    a = embed(
        cells, n_top_genes=500, n_pcs=10, seed=3, exclude_genes=["CAT_scFv", "TRBV20-1"], copy=True
    )
    b = embed(
        cells, n_top_genes=500, n_pcs=10, seed=3, exclude_genes=["CAT_scFv", "TRBV20-1"], copy=True
    )
    assert a is not None and b is not None
    # counts kept, X = log1p(CP10k) exactly as scanpy computes it
    assert (sparse.csr_matrix(a.layers["counts"]) != sparse.csr_matrix(cells.X)).nnz == 0
    ref = cells.copy()
    sc.pp.normalize_total(ref, target_sum=1e4)
    sc.pp.log1p(ref)
    np.testing.assert_allclose(
        sparse.csr_matrix(a.X).toarray(), sparse.csr_matrix(ref.X).toarray(), rtol=1e-5
    )
    assert not a.var.loc[["CAT_scFv", "TRBV20-1"], "highly_variable"].any()
    assert {"X_pca", "X_umap"} <= set(a.obsm) and a.obsm["X_pca"].shape[1] == 10
    assert a.obs["leiden"].nunique() > 1
    # same seed, same result
    assert (a.obs["leiden"] == b.obs["leiden"]).all()
    np.testing.assert_array_equal(a.obsm["X_umap"], b.obsm["X_umap"])
    rec = a.uns["v2v_embedding"]
    assert rec["params"]["seed"] == 3 and rec["params"]["n_top_genes"] == 500
    assert rec["params"]["leiden_flavor"] == "igraph"
    assert rec["params"]["leiden_n_iterations"] == 2
    assert rec["backend"] == "cpu"
    assert rec["excluded_genes"] == ["CAT_scFv", "TRBV20-1"]
    assert "scanpy" in rec["versions"]


@pytest.mark.slow
def test_agreement_is_perfect_for_a_rerun_and_measures_a_new_seed(cells) -> None:
    options = {"n_top_genes": 500, "n_pcs": 10}
    a = embed(cells, seed=0, copy=True, **options)
    again = embed(cells, seed=0, copy=True, **options)
    other = embed(cells, seed=1, copy=True, **options)
    assert a is not None and again is not None and other is not None
    same = embedding_agreement(a, again)
    assert same == {
        "hvg_jaccard": 1.0,
        "pca_variance_ratio_max_diff": 0.0,
        "knn_overlap": 1.0,
        "leiden_ari": 1.0,
        "umap_knn_overlap": 1.0,
    }
    seeded = embedding_agreement(a, other)
    # the seed moves Leiden and the UMAP layout, not the genes or the PCA spectrum
    assert seeded["hvg_jaccard"] == 1.0
    assert seeded["pca_variance_ratio_max_diff"] < 1e-4
    assert seeded["umap_knn_overlap"] < 1.0
    assert 0.0 < seeded["leiden_ari"] <= 1.0
    # a different partition of the same cells scores lower than the rerun
    shuffled = a.copy()
    rng = np.random.default_rng(0)
    shuffled.obs["leiden"] = rng.permutation(shuffled.obs["leiden"].to_numpy())
    assert embedding_agreement(a, shuffled)["leiden_ari"] < 0.1


def test_agreement_needs_the_same_cells(cells) -> None:
    a = cells[:50].copy()
    b = cells[1:51].copy()
    with pytest.raises(InvalidInputError) as info:
        embedding_agreement(a, b)
    assert info.value.field == "obs_names"


def test_gpu_backend_is_refused_clearly_without_a_gpu(cells) -> None:
    from vein2vein.singlecell.profile._scale import gpu_available

    if gpu_available():
        pytest.skip("a GPU path is available on this machine (tests/singlecell/test_gpu.py)")
    with pytest.raises(InvalidInputError) as info:
        embed(cells, backend="gpu", copy=True)
    assert info.value.field == "backend"
    assert "rapids_singlecell" in str(info.value)

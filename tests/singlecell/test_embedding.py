"""The embedding on a real CARPALL sample: recorded parameters, reproducibility, layers."""

from __future__ import annotations

import numpy as np
import pytest
import scanpy as sc
from scipy import sparse

from vein2vein.singlecell.pp import embed, qc


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
    assert rec["excluded_genes"] == ["CAT_scFv", "TRBV20-1"]
    assert "scanpy" in rec["versions"]

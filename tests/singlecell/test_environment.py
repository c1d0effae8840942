"""The single-cell stack as installed works together on the paths our pipeline takes."""

from __future__ import annotations

import numpy as np
import pytest
import scanpy as sc
from anndata import AnnData


@pytest.mark.slow  # pynndescent compiles with numba on first use
def test_approximate_neighbour_graph_used_above_4096_cells_works() -> None:
    # scanpy switches to pynndescent for large inputs; pynndescent 0.7 broke that path
    # ('csr_array' object has no attribute 'getnnz'), found by the 10k-cell benchmark.
    rng = np.random.default_rng(0)
    adata = AnnData(rng.normal(size=(400, 10)).astype(np.float32))
    sc.pp.neighbors(adata, n_neighbors=15, use_rep="X", transformer="pynndescent", random_state=0)
    distances = adata.obsp["distances"]
    assert distances.shape == (400, 400)
    assert np.all(np.diff(distances.indptr) >= 14)  # k - 1 neighbours besides the cell itself
    exact = AnnData(adata.X.copy())
    sc.pp.neighbors(exact, n_neighbors=15, use_rep="X", transformer="sklearn")
    approx_pairs = set(zip(*distances.nonzero(), strict=True))
    exact_pairs = set(zip(*exact.obsp["distances"].nonzero(), strict=True))
    assert len(approx_pairs & exact_pairs) / len(exact_pairs) == pytest.approx(1.0, abs=0.05)

"""The labelled-synthetic CAR-T product: structure, labels, and real 10x formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from scipy import sparse

from vein2vein.errors import InvalidInputError
from vein2vein.simulate import SYNTHETIC_LABEL, synthetic_product


@pytest.fixture(scope="module")
def product():
    return synthetic_product(1500, seed=3, car_fraction=0.4)


def test_counts_are_sparse_integers_with_the_car_feature_and_label(product) -> None:
    a = product.adata
    assert sparse.isspmatrix_csr(a.X) or sparse.issparse(a.X)
    assert a.X.dtype == np.int32
    assert a.shape == (1500, 2000)
    assert a.var_names[-1] == "CAT_scFv"
    assert a.uns["provenance"] == SYNTHETIC_LABEL
    assert a.obs_names.is_unique
    car_umis = a[:, "CAT_scFv"].X.toarray().ravel()
    assert not car_umis[~a.obs["synthetic_car"].to_numpy()].any()
    detected = (car_umis > 0)[a.obs["synthetic_car"].to_numpy()].mean()
    assert 0.85 < detected < 1.0  # Poisson(3) dropout: about 5 % of CAR+ cells read zero
    assert 0.3 < (car_umis > 0).mean() < 0.5


def test_states_carry_their_marker_genes(product) -> None:
    a = product.adata
    norm = a.X.multiply(1.0 / a.X.sum(axis=1)).tocsr()
    state = a.obs["synthetic_state"].to_numpy()

    def mean(gene: str, which: str) -> float:
        col = norm[:, a.var_names.get_loc(gene)].toarray().ravel()
        return float(col[state == which].mean() / col[state != which].mean())

    assert mean("PDCD1", "exhausted") > 4
    assert mean("TCF7", "naive_stem_memory") > 4
    assert mean("MKI67", "proliferating") > 4
    assert mean("FOXP3", "treg") > 4
    mito = np.asarray(a[:, a.var_names.str.startswith("MT-")].X.sum(axis=1)).ravel()
    share = mito / np.asarray(a.X.sum(axis=1)).ravel()
    low = a.obs["synthetic_low_quality"].to_numpy()
    assert np.median(share[~low]) == pytest.approx(0.05, abs=0.015)
    assert np.median(share[low]) == pytest.approx(0.25, abs=0.04)


def test_clone_sizes_follow_a_heavy_tail_and_contigs_match_barcodes(product) -> None:
    contigs = product.contigs
    assert set(contigs["barcode"]) <= set(product.adata.obs_names)
    assert set(contigs["chain"]) == {"TRA", "TRB"}
    assert contigs["productive"].eq("true").all()
    per_cell = contigs.drop_duplicates("barcode")["raw_clonotype_id"].value_counts()
    assert (per_cell == 1).mean() > 0.4  # most clonotypes are singletons
    assert per_cell.max() >= 10  # and a few are expanded
    # one clonotype, one pair of CDR3s
    assert (contigs.groupby(["raw_clonotype_id", "chain"])["cdr3"].nunique() == 1).all()


def test_same_seed_same_product() -> None:
    a, b = synthetic_product(300, seed=7), synthetic_product(300, seed=7)
    assert (a.adata.X != b.adata.X).nnz == 0
    pd.testing.assert_frame_equal(a.contigs, b.contigs)
    assert (synthetic_product(300, seed=8).adata.X != a.adata.X).nnz > 0


def test_scanpy_reads_the_written_cell_ranger_h5(product, tmp_path: Path) -> None:
    h5, csv = product.write_10x(tmp_path / "sample")
    back = sc.read_10x_h5(h5)
    assert back.shape == product.adata.shape
    assert list(back.obs_names) == list(product.adata.obs_names)
    assert list(back.var_names) == list(product.adata.var_names)
    assert (back.X != product.adata.X).nnz == 0
    assert set(back.var["feature_types"]) == {"Gene Expression"}
    read = pd.read_csv(csv)
    assert list(read.columns)[:3] == ["barcode", "is_cell", "contig_id"]
    assert len(read) == len(product.contigs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"n_genes": 10}, "n_genes"), ({"car_fraction": 1.5}, "car_fraction")],
)
def test_bad_parameters_are_refused(kwargs, field) -> None:
    with pytest.raises(InvalidInputError) as info:
        synthetic_product(10, **kwargs)
    assert info.value.field == field

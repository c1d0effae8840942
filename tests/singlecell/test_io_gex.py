"""Gene-expression readers on real Cell Ranger output (CARPALL), in its three formats."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from scipy import sparse

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.io import read_gex

from .conftest import SMALL_SORTED


@pytest.fixture(scope="module")
def h5_path(carpall_dir: Path) -> Path:
    return carpall_dir / "GEX" / SMALL_SORTED / "filtered_feature_bc_matrix.h5"


def test_read_cell_ranger_h5(h5_path: Path) -> None:
    adata = read_gex(h5_path)
    assert adata.n_obs == 337
    assert adata.n_vars == 36_602
    assert adata.var_names.is_unique
    assert "CAT_scFv" in adata.var_names
    data = sparse.csr_matrix(adata.X).data
    assert np.all(data == np.round(data)) and data.min() >= 1
    assert adata.uns["v2v_source"]["gex"] == str(h5_path.resolve())


def _write_mtx(adata, folder: Path) -> None:
    """A Cell Ranger v3 MTX folder (features x barcodes, gzipped), as Cell Ranger writes it."""
    folder.mkdir()
    with gzip.open(folder / "matrix.mtx.gz", "wb") as fh:
        scipy.io.mmwrite(fh, sparse.csr_matrix(adata.X).T.tocoo().astype(np.int64))
    lines = [
        f"{gid}\t{name}\t{ftype}\n"
        for gid, name, ftype in zip(
            adata.var["gene_ids"], adata.var_names, adata.var["feature_types"], strict=True
        )
    ]
    with gzip.open(folder / "features.tsv.gz", "wt") as fh:
        fh.writelines(lines)
    with gzip.open(folder / "barcodes.tsv.gz", "wt") as fh:
        fh.writelines(f"{b}\n" for b in adata.obs_names)


def test_mtx_folder_and_h5ad_read_the_same_counts(h5_path: Path, tmp_path: Path) -> None:
    ref = read_gex(h5_path)[:40].copy()  # 40 cells keep the MTX writing fast
    _write_mtx(ref, tmp_path / "mtx")
    from_mtx = read_gex(tmp_path / "mtx")
    ref.write_h5ad(tmp_path / "x.h5ad")
    from_h5ad = read_gex(tmp_path / "x.h5ad")
    for other in (from_mtx, from_h5ad):
        assert list(other.obs_names) == list(ref.obs_names)
        assert other.var_names.is_unique
        assert (sparse.csr_matrix(other.X) != sparse.csr_matrix(ref.X)).nnz == 0
    assert "CAT_scFv" in from_mtx.var_names


def test_missing_corrupt_and_unknown_files_are_named(tmp_path: Path, h5_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file") as err:
        read_gex(tmp_path / "absent.h5")
    assert err.value.file == str(tmp_path / "absent.h5")

    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(h5_path.read_bytes()[:5000])
    with pytest.raises(InvalidInputError, match="cannot read") as err:
        read_gex(corrupt)
    assert err.value.file == str(corrupt)

    odd = tmp_path / "matrix.loom"
    odd.write_text("x")
    with pytest.raises(InvalidInputError, match="unknown kind"):
        read_gex(odd)

    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(InvalidInputError, match=r"no matrix\.mtx") as err:
        read_gex(empty_dir)
    assert err.value.file == str(empty_dir)


def test_truncated_mtx_is_rejected(h5_path: Path, tmp_path: Path) -> None:
    _write_mtx(read_gex(h5_path)[:40].copy(), tmp_path / "mtx")
    target = tmp_path / "mtx" / "matrix.mtx.gz"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(InvalidInputError, match="cannot read") as err:
        read_gex(tmp_path / "mtx")
    assert str(tmp_path / "mtx") in str(err.value)


@pytest.mark.parametrize(
    ("cut", "why"),
    [
        (0.0, "not an HDF5 file"),  # empty file
        (0.001, "truncated"),  # the superblock alone
        (0.5, "truncated"),
        (0.999, "truncated"),  # one block short
    ],
)
def test_truncated_h5_names_the_file_and_says_why(
    h5_path: Path, tmp_path: Path, cut: float, why: str
) -> None:
    data = h5_path.read_bytes()
    bad = tmp_path / "filtered_feature_bc_matrix.h5"
    bad.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(InvalidInputError, match=why) as err:
        read_gex(bad)
    assert err.value.file == str(bad)
    assert "cannot read the gene-expression matrix" in err.value.reason


def test_corrupt_h5_block_and_foreign_h5_are_named(h5_path: Path, tmp_path: Path) -> None:
    import h5py

    data = bytearray(h5_path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20_000] = bytes(20_000)  # zero a stretch of compressed blocks
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(InvalidInputError, match="corrupt") as err:
        read_gex(corrupt)
    assert err.value.file == str(corrupt)

    foreign = tmp_path / "foreign.h5"  # valid HDF5, but not a Cell Ranger matrix
    with h5py.File(foreign, "w") as f:
        f["values"] = np.arange(3)
    with pytest.raises(InvalidInputError, match="no 'matrix' group") as err:
        read_gex(foreign)
    assert err.value.file == str(foreign)

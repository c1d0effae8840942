"""Reading gene-expression matrices: Cell Ranger HDF5, MTX folders and h5ad."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import anndata as ad
import scanpy as sc
from anndata import AnnData

from ... import logging as v2vlog
from ...errors import InvalidInputError

__all__ = ["check_gex", "read_gex"]

_MTX_FILES = ("matrix.mtx.gz", "matrix.mtx")
# Cell Ranger matrices repeat a few gene symbols (e.g. TBCE, two Ensembl ids): scanpy warns
# while reading; we make the names unique right after, so this one warning is expected.
_DUPLICATE_NAMES = "Variable names are not unique"


def _why(exc: BaseException) -> str:
    """The library's error, led by what it means for the user where it is recognised."""
    text = f"{type(exc).__name__}: {exc}"
    if "truncated file" in text:
        return f"the file is truncated (an incomplete copy or download?) ({text})"
    if "file signature not found" in text:
        return f"not an HDF5 file ({text})"
    if "filter returned failure" in text or "Can't synchronously read data" in text:
        return f"the file is corrupt: a compressed block does not decode ({text})"
    return text


def _check_cell_ranger_h5(p: Path, name: str) -> None:
    """Refuse an HDF5 file that is not a Cell Ranger feature-barcode matrix, before scanpy."""
    import h5py

    with h5py.File(p, "r") as f:
        if isinstance(f.get("matrix"), h5py.Group):  # Cell Ranger 3+
            return
        # Cell Ranger 2: one group per genome holding the matrix
        if any(isinstance(g, h5py.Group) and "barcodes" in g for g in f.values()):
            return
    msg = "not a Cell Ranger feature-barcode matrix: the HDF5 file has no 'matrix' group"
    raise InvalidInputError(msg, file=name)


def check_gex(path: str | os.PathLike[str]) -> None:
    """Check, without reading the counts, that a GEX path is a readable matrix container.

    An ``.h5`` must open as HDF5 (a truncated or foreign file fails here) and hold a Cell
    Ranger matrix group; an ``.h5ad`` must open as HDF5; a folder must hold
    ``matrix.mtx(.gz)``. Used to validate a whole sample sheet before any output is written.

    Parameters
    ----------
    path
        As for :func:`read_gex`.

    Raises
    ------
    InvalidInputError
        Naming the file and why.
    """
    p = Path(path)
    name = os.fspath(path)
    if not p.exists():
        msg = "no such file or folder"
        raise InvalidInputError(msg, file=name)
    if p.is_dir():
        if not any((p / f).exists() for f in _MTX_FILES):
            msg = "folder holds no matrix.mtx(.gz): not a Cell Ranger MTX folder"
            raise InvalidInputError(msg, file=name)
        return
    if p.suffix not in (".h5", ".h5ad"):
        msg = "unknown kind of file: expected a Cell Ranger .h5, an MTX folder or .h5ad"
        raise InvalidInputError(msg, file=name)
    import h5py

    try:
        if p.suffix == ".h5":
            _check_cell_ranger_h5(p, name)
        else:
            with h5py.File(p, "r"):
                pass
    except OSError as exc:
        msg = f"cannot read the gene-expression matrix: {_why(exc)}"
        raise InvalidInputError(msg, file=name) from exc


def read_gex(path: str | os.PathLike[str]) -> AnnData:
    """Read a gene-expression matrix into an AnnData of raw UMI counts.

    Parameters
    ----------
    path
        A Cell Ranger ``filtered_feature_bc_matrix.h5``, a Cell Ranger MTX folder
        (``matrix.mtx.gz``, ``features.tsv.gz``, ``barcodes.tsv.gz``) or an ``.h5ad`` file.

    Returns
    -------
    AnnData
        Cells by features, ``X`` holding raw counts, unique gene symbols as ``var_names``
        (repeated symbols get ``-1``, ``-2`` suffixes, as :meth:`AnnData.var_names_make_unique`).

    Raises
    ------
    InvalidInputError
        When the file or folder is missing, of an unknown kind, or cannot be parsed; the
        message names it.

    References
    ----------
    .. [1] Zheng GXY et al. (2017) Massively parallel digital transcriptional profiling of
       single cells. Nat Commun 8:14049. doi:10.1038/ncomms14049 (the Cell Ranger formats).
    .. [2] Wolf FA, Angerer P, Theis FJ (2018) SCANPY: large-scale single-cell gene
       expression data analysis. Genome Biol 19:15. doi:10.1186/s13059-017-1382-0
    """
    p = Path(path)
    name = os.fspath(path)
    if not p.exists():
        msg = "no such file or folder"
        raise InvalidInputError(msg, file=name)
    start = v2vlog.info(f"reading gene expression from {name}")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_DUPLICATE_NAMES, category=UserWarning)
            if p.is_dir():
                if not any((p / f).exists() for f in _MTX_FILES):
                    msg = "folder holds no matrix.mtx(.gz): not a Cell Ranger MTX folder"
                    raise InvalidInputError(msg, file=name)
                adata = sc.read_10x_mtx(p, var_names="gene_symbols", cache=False)
            elif p.suffix == ".h5":
                _check_cell_ranger_h5(p, name)
                adata = sc.read_10x_h5(p)
            elif p.suffix == ".h5ad":
                adata = ad.read_h5ad(p)
            else:
                msg = "unknown kind of file: expected a Cell Ranger .h5, an MTX folder or .h5ad"
                raise InvalidInputError(msg, file=name)
    except InvalidInputError:
        raise
    except (OSError, KeyError, ValueError, TypeError, IndexError, EOFError, AttributeError) as exc:
        msg = f"cannot read the gene-expression matrix: {_why(exc)}"
        raise InvalidInputError(msg, file=name) from exc
    if adata.n_obs == 0:
        msg = "the matrix holds no cells"
        raise InvalidInputError(msg, file=name)
    adata.var_names_make_unique()
    adata.uns["v2v_source"] = {"gex": str(p.resolve())}
    v2vlog.info(f"read {adata.n_obs} cells x {adata.n_vars} features", time=start)
    return adata

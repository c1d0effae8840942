"""Reading gene-expression matrices: Cell Ranger HDF5, MTX folders and h5ad."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import anndata as ad
import scanpy as sc
from anndata import AnnData

from .. import logging as v2vlog
from ..errors import InvalidInputError

__all__ = ["read_gex"]

_MTX_FILES = ("matrix.mtx.gz", "matrix.mtx")
# Cell Ranger matrices repeat a few gene symbols (e.g. TBCE, two Ensembl ids): scanpy warns
# while reading; we make the names unique right after, so this one warning is expected.
_DUPLICATE_NAMES = "Variable names are not unique"


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
                adata = sc.read_10x_h5(p)
            elif p.suffix == ".h5ad":
                adata = ad.read_h5ad(p)
            else:
                msg = "unknown kind of file: expected a Cell Ranger .h5, an MTX folder or .h5ad"
                raise InvalidInputError(msg, file=name)
    except InvalidInputError:
        raise
    except (OSError, KeyError, ValueError, TypeError, IndexError, EOFError) as exc:
        msg = f"cannot read the gene-expression matrix ({type(exc).__name__}: {exc})"
        raise InvalidInputError(msg, file=name) from exc
    if adata.n_obs == 0:
        msg = "the matrix holds no cells"
        raise InvalidInputError(msg, file=name)
    adata.var_names_make_unique()
    adata.uns["v2v_source"] = {"gex": str(p.resolve())}
    v2vlog.info(f"read {adata.n_obs} cells x {adata.n_vars} features", time=start)
    return adata

"""TCR readers: 10x ``*_contig_annotations.csv`` and AIRR rearrangement TSV, through scirpy."""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from ...errors import InvalidInputError
from ._barcodes import prefix_barcodes

if TYPE_CHECKING:
    from anndata import AnnData

__all__ = ["TCR_10X_COLUMNS", "TCR_AIRR_COLUMNS", "check_tcr", "quiet_awkward", "read_tcr"]

#: Columns of a 10x contig annotation file that the reader uses (Cell Ranger 3 to 9).
TCR_10X_COLUMNS = (
    "barcode",
    "is_cell",
    "contig_id",
    "high_confidence",
    "chain",
    "v_gene",
    "d_gene",
    "j_gene",
    "c_gene",
    "productive",
    "cdr3",
    "cdr3_nt",
    "reads",
    "umis",
)
#: Columns of an AIRR rearrangement TSV that the reader needs (AIRR Community standard 1.4;
#: ``cell_id`` is the single-cell barcode; ``locus`` may be missing and is then inferred
#: from ``v_call``).
TCR_AIRR_COLUMNS = ("cell_id", "sequence_id", "productive", "junction", "junction_aa", "v_call")

Format = Literal["10x", "airr"]

_AWKWARD_WARNING = "Support for Awkward Arrays is currently experimental"


@contextlib.contextmanager
def quiet_awkward() -> Iterator[None]:
    """Silence anndata's one warning that ``obsm["airr"]`` is an awkward array.

    anndata emits :class:`anndata.ExperimentalFeatureWarning` each time an AnnData holding
    an awkward array is validated; scirpy (0.13+) stores every receptor that way. The
    filter is scoped to the ``with`` block and to that category and message.
    """
    from anndata import ExperimentalFeatureWarning

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=_AWKWARD_WARNING, category=ExperimentalFeatureWarning
        )
        yield


def _format_of(path: Path) -> Format:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return "10x"
    if name.endswith((".tsv", ".airr")):
        return "airr"
    reason = "unknown TCR file type: expected a 10x .csv or an AIRR .tsv (optionally gzipped)"
    raise InvalidInputError(reason, file=str(path))


def _header(path: Path, fmt: Format) -> list[str]:
    # The header and the first contig only: scirpy parses the file (gzip by its suffix).
    try:
        head = pd.read_csv(
            path,
            sep="," if fmt == "10x" else "\t",
            nrows=1,
            dtype=str,
            encoding="utf-8",
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        reason = "the file is empty (no header line)"
        raise InvalidInputError(reason, file=str(path)) from None
    except (OSError, UnicodeDecodeError, EOFError, ValueError) as exc:
        reason = f"cannot read the file: {exc}"
        raise InvalidInputError(reason, file=str(path)) from exc
    header = [str(h).strip() for h in head.columns]
    if not any(header):
        reason = "the file is empty (no header line)"
        raise InvalidInputError(reason, file=str(path))
    if head.empty:
        reason = "the file has a header but no contig rows"
        raise InvalidInputError(reason, file=str(path))
    return header


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_tcr(path: str | Path) -> None:
    """Check a TCR file's kind, header and first row without parsing the contigs.

    Parameters
    ----------
    path
        The contig file, as for :func:`read_tcr`.

    Raises
    ------
    InvalidInputError
        As :func:`read_tcr` for a missing, empty, unreadable or incomplete file.
    """
    path = Path(path)
    if not path.is_file():
        reason = "the file does not exist"
        raise InvalidInputError(reason, file=str(path))
    fmt = _format_of(path)
    header = _header(path, fmt)
    required = TCR_10X_COLUMNS if fmt == "10x" else TCR_AIRR_COLUMNS
    missing = [c for c in required if c not in header]
    if missing:
        reason = f"required {fmt} column(s) missing: {', '.join(missing)}"
        raise InvalidInputError(reason, file=str(path), field=missing[0])


def read_tcr(path: str | Path, *, sample: str | None = None) -> AnnData:
    """Read TCR contigs of one sample into an AnnData with scirpy's ``obsm["airr"]``.

    10x ``filtered_contig_annotations.csv`` and ``all_contig_annotations.csv`` are read
    with :func:`scirpy.io.read_10x_vdj` (keeping contigs with ``is_cell`` and
    ``high_confidence``, so both files give the same cells); AIRR rearrangement TSV with
    :func:`scirpy.io.read_airr`. The format follows the suffix (``.csv`` = 10x, ``.tsv``
    = AIRR, each optionally ``.gz``). The header is checked before parsing.

    Parameters
    ----------
    path
        The contig file.
    sample
        Sample name. When given, cell names become ``f"{sample}_{barcode}"`` (see
        :func:`vein2vein.singlecell.io._barcodes.prefix_barcodes`, the convention the GEX
        readers share) and ``obs["sample"]`` holds it.

    Returns
    -------
    AnnData
        One observation per cell, no variables; ``obsm["airr"]`` (awkward array of chains),
        ``obs["barcode"]`` (the barcode as the file wrote it), ``obs["sample"]`` (when
        given) and ``uns["v2v_tcr"]["files"][name] = {"path", "sha256", "format"}``.

    Raises
    ------
    InvalidInputError
        Naming the file and, where one is at fault, the field: a missing file, an empty
        file, a file without rows, an unreadable file, a missing required column
        (:data:`TCR_10X_COLUMNS`, :data:`TCR_AIRR_COLUMNS`) or no cells at all.

    References
    ----------
    .. [1] Sturm G, et al. Scirpy: a Scanpy extension for analyzing single-cell T-cell
       receptor-sequencing data. Bioinformatics 2020;36:4817-4818.
    .. [2] Vander Heiden JA, et al. AIRR Community standardized representations for
       annotated immune repertoires. Front Immunol 2018;9:2206.

    Examples
    --------
    >>> from vein2vein.singlecell.io import read_tcr
    >>> read_tcr("missing.csv")
    Traceback (most recent call last):
    ...
    vein2vein.errors.InvalidInputError: file missing.csv: the file does not exist
    """
    import scirpy as ir

    path = Path(path)
    check_tcr(path)
    fmt = _format_of(path)
    if fmt == "10x":
        flags = pd.read_csv(path, usecols=["is_cell", "high_confidence"], dtype=str)
        keep = flags.apply(lambda c: c.str.strip().str.lower().isin(["true", "1"])).all(axis=1)
        if not keep.any():
            reason = "no cell passes is_cell and high_confidence"
            raise InvalidInputError(reason, file=str(path), field="is_cell")
    try:
        with quiet_awkward():
            if fmt == "10x":
                adata = ir.io.read_10x_vdj(path, filtered=True)
            else:
                # a data frame, not the path: airr's own reader leaves its file handle open
                table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
                adata = ir.io.read_airr(table, infer_locus=True)
    except (ValueError, KeyError, TypeError, pd.errors.ParserError) as exc:
        reason = f"scirpy could not parse the contigs: {exc}"
        raise InvalidInputError(reason, file=str(path)) from exc
    if adata.n_obs == 0:
        reason = "no cell with a receptor chain"
        raise InvalidInputError(reason, file=str(path), field="cell_id")
    barcodes = [str(b) for b in adata.obs_names]
    name = sample if sample is not None else path.name
    with quiet_awkward():
        adata.obs["barcode"] = barcodes
        adata.obs_names = prefix_barcodes(barcodes, sample)
        adata.obs_names.name = "cell_id"
        if sample is not None:
            adata.obs["sample"] = pd.Categorical([sample] * adata.n_obs)
        adata.uns["v2v_tcr"] = {
            "files": {name: {"path": str(path), "sha256": _sha256(path), "format": fmt}}
        }
    return adata

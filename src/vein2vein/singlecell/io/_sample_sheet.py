"""Sample sheets: which GEX and TCR files belong to which patient, timepoint and sort."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import mudata as md
import pandas as pd
from anndata import AnnData
from pydantic import BaseModel, ConfigDict

from ... import logging as v2vlog
from ...errors import InvalidInputError
from ...support import Column, TableSchema, read_table, write_csv
from ._barcodes import prefix_barcodes
from ._gex import check_gex, read_gex
from ._tcr import check_tcr, quiet_awkward, read_tcr

__all__ = [
    "SAMPLE_SHEET_COLUMNS",
    "Sample",
    "SampleSheet",
    "carpall_sample_sheet",
    "check_sample_files",
    "load_sample",
    "read_sample_sheet",
]

SAMPLE_SHEET_COLUMNS = ("sample", "patient", "timepoint", "source", "sort", "gex", "tcr")
_TIMEPOINT = re.compile(r"^M(\d+(?:\.\d+)?)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$")
_OBS_COLUMNS = ("sample", "patient", "timepoint", "source", "sort")


class Sample(BaseModel):
    """One row of a sample sheet: a sample with its files and annotations.

    Attributes
    ----------
    sample
        Sample name, unique in the sheet; prefixes every barcode.
    patient
        Patient identifier.
    timepoint
        ``M0`` for the infusion product, ``M<months>`` after infusion (``M03``, ``M7.5``).
    source
        Material: ``PROD`` (product), ``PB`` (blood), ``BM`` (marrow) or another label.
    sort
        Sort gate, e.g. ``CD3+CAT+`` (sorted CAR T cells) or ``NoSo`` (unsorted).
    gex, tcr
        Absolute paths of the gene-expression matrix and the TCR contig/AIRR file, or None.
    """

    model_config = ConfigDict(frozen=True)

    sample: str
    patient: str
    timepoint: str
    source: str
    sort: str
    gex: Path | None = None
    tcr: Path | None = None

    @property
    def months(self) -> float:
        """Months after infusion (0 for the product)."""
        match = _TIMEPOINT.match(self.timepoint)
        if match is None:  # a sheet's rows are checked on reading; a Sample made by hand is not
            msg = f"timepoint {self.timepoint!r} is not M<months> (M0 for the product)"
            raise InvalidInputError(msg, field="timepoint")
        return float(match.group(1))

    @property
    def is_product(self) -> bool:
        """Whether the sample is the infusion product (timepoint ``M0``)."""
        return self.months == 0.0


class SampleSheet(BaseModel):
    """A validated sample sheet: its file and its :class:`Sample` rows, in file order."""

    model_config = ConfigDict(frozen=True)

    path: Path
    samples: tuple[Sample, ...]

    def __iter__(self) -> Iterator[Sample]:  # type: ignore[override]
        """Iterate over the samples."""
        return iter(self.samples)

    def __len__(self) -> int:
        """Number of samples."""
        return len(self.samples)

    def __getitem__(self, name: str) -> Sample:
        """The sample called ``name``."""
        for s in self.samples:
            if s.sample == name:
                return s
        msg = f"no sample {name!r} in the sheet"
        raise KeyError(msg)

    def for_patient(self, patient: str) -> tuple[Sample, ...]:
        """The samples of one patient, ordered by timepoint."""
        return tuple(sorted((s for s in self.samples if s.patient == patient), key=_by_time))


def _by_time(s: Sample) -> float:
    return s.months


# Every column must be in the header; the cells are checked row by row below, with the
# meaning of each. Further columns are ignored; a row may leave trailing cells out.
_SHEET_SCHEMA: Final = TableSchema(
    tuple(Column(c, blank=True) for c in SAMPLE_SHEET_COLUMNS),
    what="samples",
    extra="keep",
    short_rows="pad",
)


def _bad(reason: str, *, file: str, line: int, field: str | None) -> InvalidInputError:
    err = InvalidInputError(f"line {line}: {reason}", file=file, field=field)
    err.add_note(f"in sample sheet {file}, line {line}")
    return err


def read_sample_sheet(path: str | os.PathLike[str], *, allow_outside: bool = False) -> SampleSheet:
    """Read and validate a sample sheet (CSV).

    The columns are ``sample,patient,timepoint,source,sort,gex,tcr`` (further columns are
    ignored). ``gex`` and ``tcr`` are paths relative to the sheet's folder (absolute paths
    are kept); either may be empty, not both. ``timepoint`` is ``M0`` for the infusion
    product or ``M<months>`` (``M03``, ``M7.5``).

    A sheet's files stay in its folder: a path that resolves (symbolic links followed)
    outside the folder of the sheet, such as ``../../etc/passwd`` or an absolute path
    elsewhere, is refused unless ``allow_outside`` is given, so that a sheet received
    from elsewhere cannot make the pipeline read (and report on) any file it likes.

    Parameters
    ----------
    path
        The CSV file.
    allow_outside
        Accept ``gex`` and ``tcr`` paths that resolve outside the sheet's folder (for
        a sheet you wrote yourself over a shared data folder).

    Returns
    -------
    SampleSheet
        The rows as :class:`Sample` objects with absolute file paths.

    Raises
    ------
    InvalidInputError
        Naming the file, the line and the field: missing columns, empty or duplicate
        sample names, a malformed timepoint, a listed file that does not exist or
        that lies outside the sheet's folder.
    """
    name = os.fspath(path)
    p = Path(path)
    frame = read_table(path, _SHEET_SCHEMA)
    base = p.resolve().parent
    samples: list[Sample] = []
    seen: set[str] = set()
    for line, row in zip(frame.index.tolist(), frame.to_dict("records"), strict=True):
        samples.append(
            _parse_row(row, base=base, file=name, line=line, seen=seen, allow_outside=allow_outside)
        )
    if not samples:
        msg = "the sample sheet lists no samples"
        raise InvalidInputError(msg, file=name)
    return SampleSheet(path=p.resolve(), samples=tuple(samples))


def _parse_row(
    row: dict[str, str | None],
    *,
    base: Path,
    file: str,
    line: int,
    seen: set[str],
    allow_outside: bool,
) -> Sample:
    values = {c: (row.get(c) or "").strip() for c in SAMPLE_SHEET_COLUMNS}
    for c in ("sample", "patient", "timepoint", "source", "sort"):
        if not values[c]:
            reason = "empty value"
            raise _bad(reason, file=file, line=line, field=c)
    if not _NAME.match(values["sample"]):
        reason = f"sample name {values['sample']!r} must be letters, digits, '_', '.', '+', '-'"
        raise _bad(reason, file=file, line=line, field="sample")
    if values["sample"] in seen:
        reason = f"sample {values['sample']!r} is listed twice"
        raise _bad(reason, file=file, line=line, field="sample")
    seen.add(values["sample"])
    if not _TIMEPOINT.match(values["timepoint"]):
        reason = f"timepoint {values['timepoint']!r} is not M0 (product) or M<months> (M03, M7.5)"
        raise _bad(reason, file=file, line=line, field="timepoint")
    paths: dict[str, Path | None] = {}
    for c in ("gex", "tcr"):
        if not values[c]:
            paths[c] = None
            continue
        resolved = (base / values[c]).resolve()
        if not allow_outside and not resolved.is_relative_to(base):
            reason = (
                f"{c} path {values[c]!r} resolves to {resolved}, outside the sheet's folder "
                f"{base}; keep the sample files in that folder, or allow paths outside it "
                "explicitly (sc profile/track --allow-outside-folder)"
            )
            raise _bad(reason, file=file, line=line, field=c)
        if not resolved.exists():
            reason = f"file {resolved} does not exist"
            raise _bad(reason, file=file, line=line, field=c)
        if c == "tcr" and not resolved.is_file():
            reason = f"{resolved} is a folder, not a TCR contig or AIRR file"
            raise _bad(reason, file=file, line=line, field=c)
        paths[c] = resolved
    if paths["gex"] is None and paths["tcr"] is None:
        reason = "neither a gex nor a tcr file is given"
        raise _bad(reason, file=file, line=line, field="gex")
    return Sample(
        sample=values["sample"],
        patient=values["patient"],
        timepoint=values["timepoint"],
        source=values["source"],
        sort=values["sort"],
        gex=paths["gex"],
        tcr=paths["tcr"],
    )


def _annotate(adata: AnnData, sample: Sample) -> None:
    with quiet_awkward():
        adata.obs_names = prefix_barcodes(adata.obs_names, sample.sample)
        for c in _OBS_COLUMNS:
            adata.obs[c] = pd.Categorical([getattr(sample, c)] * adata.n_obs)


def check_sample_files(samples: SampleSheet | tuple[Sample, ...] | list[Sample]) -> None:
    """Check every sample's files cheaply before any of them is analysed.

    GEX containers must open (:func:`~vein2vein.singlecell.io._gex.check_gex`: a truncated
    or foreign HDF5 fails here) and TCR files must have a header with the required columns
    and at least one row. Commands that write one output per sample call this first, so
    that a bad file in the last row stops the run before anything is written.

    Parameters
    ----------
    samples
        The sheet or some of its rows.

    Raises
    ------
    InvalidInputError
        The first bad file: ``file`` is that file, ``field`` is ``gex`` or ``tcr`` where
        the reader does not name a column; a note names the sample.
    """
    for sample in samples:
        for role, check in (("gex", check_gex), ("tcr", check_tcr)):
            path = getattr(sample, role)
            if path is None:
                continue
            try:
                check(path)
            except InvalidInputError as err:
                named = InvalidInputError(err.reason, file=err.file, field=err.field or role)
                named.add_note(f"sample {sample.sample} ({role} file)")
                raise named from err


def load_sample(
    sample: Sample, *, tcr_reader: Callable[[Path], AnnData] | None = None
) -> md.MuData:
    """Load one sample's gene expression and TCR data, barcodes matched.

    Barcodes are prefixed with the sample name (``<sample>_<barcode>``) so that samples
    concatenate without collisions; ``obs`` gets the columns ``sample``, ``patient``,
    ``timepoint``, ``source`` and ``sort`` in every modality. Following scirpy's
    recommendation for combining transcriptomics and receptor data [1]_, the result is a
    :class:`mudata.MuData` with the modality ``"gex"`` (raw counts, from :func:`read_gex`)
    and, when the sample has a TCR file, ``"airr"`` (scirpy's AIRR AnnData).

    Parameters
    ----------
    sample
        A row of a :class:`SampleSheet`.
    tcr_reader
        Reads a TCR file into a scirpy AIRR AnnData with unprefixed barcodes. Default:
        :func:`~vein2vein.singlecell.io.read_tcr` (10x contig ``.csv`` through
        :func:`scirpy.io.read_10x_vdj`, AIRR ``.tsv`` through :func:`scirpy.io.read_airr`).

    Returns
    -------
    mudata.MuData
        ``uns["v2v_sample"]`` holds the sample's annotations, the file paths and the barcode
        match (``n_gex_barcodes``, ``n_tcr_barcodes``, ``n_tcr_matched``,
        ``fraction_tcr_matched``).

    Raises
    ------
    InvalidInputError
        When a file cannot be read, or when no TCR barcode matches a GEX barcode (a
        mismatched pair); the message names both files.

    References
    ----------
    .. [1] Sturm G et al. (2020) Scirpy: a Scanpy extension for analyzing single-cell T-cell
       receptor-sequencing data. Bioinformatics 36:4817-4818.
       doi:10.1093/bioinformatics/btaa611
    """
    start = v2vlog.info(f"loading sample {sample.sample}")
    mods: dict[str, AnnData] = {}
    info: dict[str, object] = {c: getattr(sample, c) for c in _OBS_COLUMNS}
    info["gex"] = "" if sample.gex is None else str(sample.gex)
    info["tcr"] = "" if sample.tcr is None else str(sample.tcr)
    if sample.gex is not None:
        gex = read_gex(sample.gex)
        _annotate(gex, sample)
        mods["gex"] = gex
        info["n_gex_barcodes"] = gex.n_obs
    if sample.tcr is not None:
        reader = tcr_reader or read_tcr
        with quiet_awkward():
            airr = reader(sample.tcr)
        _annotate(airr, sample)
        mods["airr"] = airr
        info["n_tcr_barcodes"] = airr.n_obs
    if "gex" in mods and "airr" in mods:
        matched = int(mods["airr"].obs_names.isin(mods["gex"].obs_names).sum())
        info["n_tcr_matched"] = matched
        info["fraction_tcr_matched"] = matched / max(mods["airr"].n_obs, 1)
        if matched == 0:
            msg = (
                f"none of the {mods['airr'].n_obs} TCR barcodes of {sample.tcr} matches one of "
                f"the {mods['gex'].n_obs} GEX barcodes of {sample.gex}: a mismatched pair?"
            )
            raise InvalidInputError(msg, file=str(sample.tcr), field="tcr")
        v2vlog.info(
            f"{sample.sample}: {matched} of {mods['airr'].n_obs} TCR barcodes match GEX barcodes"
        )
    with md.set_options(pull_on_update=False), quiet_awkward():
        mdata = md.MuData(mods)
        for c in _OBS_COLUMNS:
            mdata.obs[c] = pd.Categorical([getattr(sample, c)] * mdata.n_obs)
        mdata.uns["v2v_sample"] = info
    v2vlog.info(f"loaded sample {sample.sample}", time=start)
    return mdata


def carpall_sample_sheet(
    data_dir: str | os.PathLike[str], out_csv: str | os.PathLike[str]
) -> SampleSheet:
    """Write a sample sheet for the CARPALL data folder from its metadata table.

    One row per metadata sample whose GEX matrix or non-empty TCR contig file is present
    under ``data_dir`` (``GEX/<GEX_Sample>/filtered_feature_bc_matrix.h5``,
    ``VDJ/<TCR_Sample>/filtered_contig_annotations.csv``); the sample is named after its
    GEX sample. Paths are written relative to the sheet.

    Parameters
    ----------
    data_dir
        The CARPALL folder holding ``CARPALL_scRNAseq_CART_metadata.txt``.
    out_csv
        Where to write the sheet (written whole, or not at all).

    Returns
    -------
    SampleSheet
        The sheet as read back by :func:`read_sample_sheet`.

    References
    ----------
    .. [1] Anderson ND et al. (2023) Transcriptional signatures associated with persisting
       CD19 CAR-T cells in children with leukemia. Nat Med 29:1700-1709.
       doi:10.1038/s41591-023-02415-3
    """
    root = Path(data_dir)
    meta_path = root / "CARPALL_scRNAseq_CART_metadata.txt"
    try:
        meta = pd.read_csv(meta_path, sep="\t", dtype=str)
    except (OSError, pd.errors.ParserError) as exc:
        msg = f"cannot read the CARPALL metadata table: {exc}"
        raise InvalidInputError(msg, file=str(meta_path)) from None
    out = Path(out_csv).resolve()
    rows = []
    for rec in meta.itertuples(index=False):
        gex = root / "GEX" / str(rec.GEX_Sample) / "filtered_feature_bc_matrix.h5"
        tcr = root / "VDJ" / str(rec.TCR_Sample) / "filtered_contig_annotations.csv"
        has_tcr = tcr.exists() and tcr.stat().st_size > 0
        if not gex.exists() and not has_tcr:
            continue
        rel = {
            k: os.path.relpath(v.resolve(), out.parent) if ok else ""
            for k, v, ok in (("gex", gex, gex.exists()), ("tcr", tcr, has_tcr))
        }
        rows.append(
            [
                rec.GEX_Sample,
                rec.Patient,
                rec.Timepoint,
                rec.Source,
                rec.Sort,
                rel["gex"],
                rel["tcr"],
            ]
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out.parent, suffix=".tmp", delete=False) as fh:
        partial = Path(fh.name)
    try:
        write_csv(rows, partial, header=SAMPLE_SHEET_COLUMNS)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return read_sample_sheet(out, allow_outside=True)  # written here, over data_dir

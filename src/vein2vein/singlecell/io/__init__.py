"""Readers: Cell Ranger HDF5 and MTX, h5ad, 10x contig CSV, AIRR TSV, sample sheets.

``_gex`` reads expression, ``_tcr`` receptor contigs (10x CSV, AIRR TSV), ``_barcodes``
holds the cell-name convention both follow, ``_sample_sheet`` the sheet of a cohort's
files and the pairing of a sample's GEX with its TCR, ``_carpall`` the labels of the
CARPALL reference study.

Imports: ``support`` and ``errors`` only; never ``pp``, ``tl``, ``pl`` or ``profile``.
"""

from __future__ import annotations

from ._carpall import carpall_state, read_carpall_labels
from ._gex import read_gex
from ._sample_sheet import (
    SAMPLE_SHEET_COLUMNS,
    Sample,
    SampleSheet,
    carpall_sample_sheet,
    load_sample,
    read_sample_sheet,
)
from ._tcr import read_tcr

__all__: list[str] = [
    "SAMPLE_SHEET_COLUMNS",
    "Sample",
    "SampleSheet",
    "carpall_sample_sheet",
    "carpall_state",
    "load_sample",
    "read_carpall_labels",
    "read_gex",
    "read_sample_sheet",
    "read_tcr",
]

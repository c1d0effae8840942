"""Readers: Cell Ranger HDF5 and MTX, h5ad, 10x contig CSV, AIRR TSV, sample sheets."""

from __future__ import annotations

from ._carpall import carpall_state, read_carpall_labels
from ._io_gex import read_gex
from ._io_tcr import read_tcr
from ._sample_sheet import (
    SAMPLE_SHEET_COLUMNS,
    Sample,
    SampleSheet,
    carpall_sample_sheet,
    load_sample,
    read_sample_sheet,
)

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

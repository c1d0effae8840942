"""Readers: Cell Ranger HDF5 and MTX, h5ad, 10x contig CSV, AIRR TSV, sample sheets."""

from __future__ import annotations

from ._io_tcr import read_tcr

__all__: list[str] = ["read_tcr"]

"""Readers: Cell Ranger HDF5 and MTX, h5ad, 10x contig CSV, AIRR TSV, sample sheets."""

from __future__ import annotations

__all__: list[str] = []

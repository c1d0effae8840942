"""Sensor readings in: the public path of :mod:`vein2vein.process.monitoring.ingest`."""

from __future__ import annotations

from .monitoring.ingest import (
    COLUMNS,
    IngestReport,
    ingest_readings,
    read_readings,
    register_parameter,
)

__all__ = ["COLUMNS", "IngestReport", "ingest_readings", "read_readings", "register_parameter"]

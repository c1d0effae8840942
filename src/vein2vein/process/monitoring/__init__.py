"""Live process monitoring: sensor readings in, control-chart signals out as deviations.

:mod:`.ingest` registers process parameters and stores validated readings (CSV/Parquet,
units converted, the whole file or nothing); :mod:`.monitor` sets versioned baselines
and runs one monitoring tick over every live batch, turning rule violations into
deviations once per excursion; :func:`draw_batch_chart` draws one batch's chart.

Imports: ``process.rules``, ``records`` (through a unit of work or session it receives),
``specs`` (units), ``process.plot`` (the chart), ``support`` and ``errors``; never
``charts`` internals or ``mspc``.
"""

from __future__ import annotations

from ._chart import draw_batch_chart
from .ingest import COLUMNS, IngestReport, ingest_readings, read_readings, register_parameter
from .monitor import (
    DEFAULT_RULES,
    DEFAULT_SEVERITY,
    MonitorReport,
    Signal,
    active_limits,
    chart_frame,
    load_severity,
    monitor,
    set_baseline,
    window_means,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_RULES",
    "DEFAULT_SEVERITY",
    "IngestReport",
    "MonitorReport",
    "Signal",
    "active_limits",
    "chart_frame",
    "draw_batch_chart",
    "ingest_readings",
    "load_severity",
    "monitor",
    "read_readings",
    "register_parameter",
    "set_baseline",
    "window_means",
]

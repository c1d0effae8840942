"""Monitoring ticks: the public path of :mod:`vein2vein.process.monitoring.monitor`."""

from __future__ import annotations

from .monitoring.monitor import (
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
    "DEFAULT_RULES",
    "DEFAULT_SEVERITY",
    "MonitorReport",
    "Signal",
    "active_limits",
    "chart_frame",
    "load_severity",
    "monitor",
    "set_baseline",
    "window_means",
]

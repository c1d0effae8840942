"""Process monitoring: ingest, control charts and run rules, batch MSPC, capability.

Ingest (:mod:`vein2vein.process.ingest`, in :mod:`.monitoring`)
    :func:`register_parameter`, :func:`ingest_readings` (CSV/Parquet, validated whole).
Monitoring (:mod:`vein2vein.process.monitor`, in :mod:`.monitoring`)
    :func:`set_baseline` (versioned Phase I limits), :func:`monitor` (one tick over every
    live batch; signals become deviations, once per excursion), :func:`chart_frame`,
    :func:`draw_batch_chart`.
Batch multivariate SPC (:mod:`vein2vein.process.mspc`)
    :class:`BatchMSPC` after Nomikos & MacGregor: T², SPE, online monitoring,
    contributions.

Charts (:mod:`vein2vein.process.charts`)
    :func:`imr`, :func:`xbar_r`, :func:`xbar_s`, :func:`ewma`, :func:`cusum`,
    :func:`residual_chart`, and :func:`limits_from` to set the stored limits that each chart
    accepts back as ``limits=`` for Phase II monitoring.
Run rules (:mod:`vein2vein.process.rules`)
    Western Electric 1-4 and Nelson 1-8: :func:`evaluate_rules`, :func:`nelson`,
    :func:`western_electric` and one function per rule.
Capability (:mod:`vein2vein.process.capability`)
    :func:`capability` (Cp, Cpk, Pp, Ppk, Cpl, Cpu ... with confidence bounds) and
    :func:`capability_by` (per site and network).
Constants
    :func:`chart_constants` (d2, d3, c4, A2, A3, B3, B4, D3, D4, E2 for n = 2..25),
    computed from their definitions.

Every method names its reference in its docstring; ``docs/validation/spc.md`` lists the
published worked numbers the tests reproduce.
"""

from __future__ import annotations

from ._spc_results import (
    CapabilityResult,
    ChartResult,
    ControlChart,
    ControlLimits,
    IndexEstimate,
    SecondaryLimits,
    Violation,
    json_float,
    json_value,
)
from ._table import ProcessTable, read_process_csv
from .capability import capability, capability_by, cp_interval, cpk_interval
from .charts import CHART_KINDS, cusum, ewma, imr, limits_from, residual_chart, xbar_r, xbar_s
from .charts._constants import ChartConstants, c4, chart_constants, d2, d3
from .ingest import IngestReport, ingest_readings, read_readings, register_parameter
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
from .monitoring import draw_batch_chart
from .mspc import (
    AlignedTrajectories,
    BatchMSPC,
    MonitoringResult,
    align_trajectories,
    plot_contributions,
    plot_monitoring,
    spe_limit_box,
    spe_limit_jackson_mudholkar,
    t2_limit_phase1,
    t2_limit_phase2,
    top_contributors,
)
from .plot import plot_control_chart
from .rules import (
    NELSON,
    RULES,
    WESTERN_ELECTRIC,
    evaluate_rules,
    nelson,
    nelson_1,
    nelson_2,
    nelson_3,
    nelson_4,
    nelson_5,
    nelson_6,
    nelson_7,
    nelson_8,
    western_electric,
    western_electric_1,
    western_electric_2,
    western_electric_3,
    western_electric_4,
)

__all__ = [
    "CHART_KINDS",
    "DEFAULT_RULES",
    "DEFAULT_SEVERITY",
    "NELSON",
    "RULES",
    "WESTERN_ELECTRIC",
    "AlignedTrajectories",
    "BatchMSPC",
    "CapabilityResult",
    "ChartConstants",
    "ChartResult",
    "ControlChart",
    "ControlLimits",
    "IndexEstimate",
    "IngestReport",
    "MonitorReport",
    "MonitoringResult",
    "ProcessTable",
    "SecondaryLimits",
    "Signal",
    "Violation",
    "active_limits",
    "align_trajectories",
    "c4",
    "capability",
    "capability_by",
    "chart_constants",
    "chart_frame",
    "cp_interval",
    "cpk_interval",
    "cusum",
    "d2",
    "d3",
    "draw_batch_chart",
    "evaluate_rules",
    "ewma",
    "imr",
    "ingest_readings",
    "json_float",
    "json_value",
    "limits_from",
    "load_severity",
    "monitor",
    "nelson",
    "nelson_1",
    "nelson_2",
    "nelson_3",
    "nelson_4",
    "nelson_5",
    "nelson_6",
    "nelson_7",
    "nelson_8",
    "plot_contributions",
    "plot_control_chart",
    "plot_monitoring",
    "read_process_csv",
    "read_readings",
    "register_parameter",
    "residual_chart",
    "set_baseline",
    "spe_limit_box",
    "spe_limit_jackson_mudholkar",
    "t2_limit_phase1",
    "t2_limit_phase2",
    "top_contributors",
    "western_electric",
    "western_electric_1",
    "western_electric_2",
    "western_electric_3",
    "western_electric_4",
    "window_means",
    "xbar_r",
    "xbar_s",
]

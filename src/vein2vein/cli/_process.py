"""``process``: control limits with run rules, and process capability, from CSV files.

File format
-----------
One row per value, with a header (column names matched without regard to case):

``value``
    The measurement (required).
``subgroup``
    The subgroup (required for ``xbar-r`` and ``xbar-s``; a label for the other charts,
    whose points are the rows in file order). Subgroups are taken in order of first
    appearance.
``phase``
    ``I`` or ``II`` (also ``1``/``2``). Used only when ``--phase1`` is not given: the
    Phase I rows (subgroups) set the limits and must come first. Ignored with ``--phase1``.
``site``
    For ``capability --by site``.

Other columns are ignored. Points in the output are numbered from 1 in file order
(the Python API's ``Violation.index`` counts from 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import InvalidInputError
from ..support import Column, TableSchema, read_table
from ._common import console, emit_json

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..process import CapabilityResult, ChartResult

__all__ = ["process_app", "read_process_csv", "register"]

process_app = typer.Typer(
    help="Statistical process control: control limits, run rules and capability."
)

_CHARTS = {
    "imr": "imr",
    "xbar-r": "xbar_r",
    "xbar_r": "xbar_r",
    "xbar-s": "xbar_s",
    "xbar_s": "xbar_s",
    "ewma": "ewma",
    "cusum": "cusum",
}
_SUBGROUPED = ("xbar_r", "xbar_s")
_PHASES = {"i": "I", "1": "I", "ii": "II", "2": "II"}


@dataclass(frozen=True)
class ProcessTable:
    """The rows of a process CSV file, checked."""

    source: str
    values: NDArray[np.float64]
    lines: tuple[int, ...]
    columns: dict[str, tuple[str, ...]]


def read_process_csv(path: str | Path, *, required: tuple[str, ...] = ()) -> ProcessTable:
    """Read a ``value[,subgroup,phase,site,...]`` file; every error names file, line, column.

    Parameters
    ----------
    path
        The CSV file.
    required
        Columns needed besides ``value``.

    Returns
    -------
    ProcessTable
        The values (finite floats), the line of each row, and the other known columns as
        stripped text.
    """
    import numpy as np

    source = str(path)
    kept = tuple(c for c in ("subgroup", "phase", "site") if c not in required)
    schema = TableSchema(
        (
            Column("value", kind="number"),
            *(Column(c) for c in required),
            *(Column(c, required=False, blank=True) for c in kept),
        ),
        what="data rows",
        extra="keep",  # other columns are ignored
        short_rows="pad",
    )
    frame = read_table(path, schema)
    keep = [c for c in ("subgroup", "phase", "site") if c in frame.columns]
    values = frame["value"].to_numpy(dtype=np.float64)
    lines = [int(line) for line in frame.index]
    columns = {c: [v or "" for v in frame[c]] for c in keep}
    return ProcessTable(
        source=source,
        values=np.asarray(values, dtype=np.float64),
        lines=tuple(lines),
        columns={c: tuple(v) for c, v in columns.items()},
    )


def _order(keys: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(keys))


def _check_equal_subgroups(table: ProcessTable) -> None:
    keys = table.columns["subgroup"]
    counts: dict[str, int] = {}
    first_line: dict[str, int] = {}
    for key, line in zip(keys, table.lines, strict=True):
        counts[key] = counts.get(key, 0) + 1
        first_line.setdefault(key, line)
    if len(set(counts.values())) > 1:
        sizes = list(counts.values())
        usual = max(set(sizes), key=sizes.count)
        odd = next(k for k in _order(keys) if counts[k] != usual)
        msg = (
            f"line {first_line[odd]}: subgroup {odd!r} has {counts[odd]} value(s), the "
            f"others have {usual}; X-bar charts need subgroups of equal size"
        )
        raise InvalidInputError(msg, file=table.source, field="subgroup")


def _phase1_from_column(table: ProcessTable, *, by_subgroup: bool) -> int | None:
    """Number of leading Phase I points (subgroups) from a ``phase`` column, if any."""
    if "phase" not in table.columns:
        return None
    phases = []
    for text, line in zip(table.columns["phase"], table.lines, strict=True):
        phase = _PHASES.get(text.casefold())
        if phase is None:
            msg = f"line {line}: phase {text!r} is not I or II"
            raise InvalidInputError(msg, file=table.source, field="phase")
        phases.append((phase, line))
    if by_subgroup:
        per_group: dict[str, tuple[str, int]] = {}
        for key, (phase, line) in zip(table.columns["subgroup"], phases, strict=True):
            seen = per_group.setdefault(key, (phase, line))
            if seen[0] != phase:
                msg = f"line {line}: subgroup {key!r} has rows of both phases"
                raise InvalidInputError(msg, file=table.source, field="phase")
        phases = list(per_group.values())
    n1 = 0
    for phase, _ in phases:
        if phase != "I":
            break
        n1 += 1
    for phase, line in phases[n1:]:
        if phase == "I":
            msg = f"line {line}: a Phase I row after Phase II rows; Phase I must come first"
            raise InvalidInputError(msg, file=table.source, field="phase")
    if n1 == 0:
        msg = "no Phase I rows to set the limits from"
        raise InvalidInputError(msg, file=table.source, field="phase")
    return n1


def _with_file(exc: InvalidInputError, source: str) -> InvalidInputError:
    """The same complaint, naming the file (the domain does not know it)."""
    return InvalidInputError(exc.reason, file=exc.file or source, field=exc.field)


def _chart_payload(result: ChartResult, kind: str) -> list[dict[str, Any]]:
    from ..process._results import json_float, json_value

    out = []
    for chart in result.charts:
        entry: dict[str, Any] = {
            "chart": chart.name,
            "center": json_float(chart.center),
            "lcl": json_float(chart.lcl[0]) if chart.n_points else None,
            "ucl": json_float(chart.ucl[0]) if chart.n_points else None,
            "sigma": json_float(chart.sigma),
            "sigma_statistic": json_float(chart.sigma_statistic),
            "statistic": json_value(chart.statistic),
            "violations": [
                {
                    "rule": v.rule,
                    "point": v.index + 1,
                    "label": v.label,
                    "value": json_float(float(chart.statistic[v.index])),
                    "points": [p + 1 for p in v.points],
                    "description": v.description,
                }
                for v in chart.violations
            ],
        }
        if kind == "ewma":
            entry["lcl"] = json_float(result.limits.lcl)
            entry["ucl"] = json_float(result.limits.ucl)
            entry["lcl_by_point"] = json_value(chart.lcl)
            entry["ucl_by_point"] = json_value(chart.ucl)
        out.append(entry)
    return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _print_charts(result: ChartResult, payload: list[dict[str, Any]], header: str) -> None:
    console.print(escape(header), highlight=False)
    table = Table("chart", "center", "LCL", "UCL", "sigma", "signals")
    for entry in payload:
        table.add_row(
            entry["chart"],
            _fmt(entry["center"]),
            _fmt(entry["lcl"]),
            _fmt(entry["ucl"]),
            _fmt(entry["sigma"]),
            str(len(entry["violations"])),
        )
    console.print(table)
    if result.kind == "ewma":
        console.print("EWMA limits above are asymptotic; per-point limits are in --json.")
    found = [(e["chart"], v) for e in payload for v in e["violations"]]
    if not found:
        console.print("no rule violations", highlight=False)
        return
    rules = Table("chart", "rule", "point", "label", "description", title="rule violations")
    for name, v in found:
        rules.add_row(
            name, v["rule"], str(v["point"]), escape(str(v["label"])), escape(v["description"])
        )
    console.print(rules)


@process_app.command("limits")
def limits_command(
    data: Path = typer.Argument(..., help="CSV with columns value[,subgroup,phase]."),
    chart: str = typer.Option("imr", "--chart", help="imr, xbar-r, xbar-s, ewma or cusum."),
    phase1: int | None = typer.Option(
        None, "--phase1", help="Leading points (subgroups) that set the limits; default: all."
    ),
    lam: float = typer.Option(0.2, "--lambda", help="EWMA weight of the newest value."),
    width: float = typer.Option(3.0, "--width", help="Limit width in sigmas."),
    k: float = typer.Option(0.5, "--k", help="CUSUM reference value, in sigmas."),
    h: float = typer.Option(5.0, "--h", help="CUSUM decision interval, in sigmas."),
    rules: str = typer.Option("nelson", "--rules", help="nelson or western-electric."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Control limits of a chart and every rule violation (points numbered from 1)."""
    from .. import process

    kind = _CHARTS.get(chart.strip().casefold())
    if kind is None:
        msg = f"unknown chart {chart!r}; use imr, xbar-r, xbar-s, ewma or cusum"
        raise InvalidInputError(msg, field="chart")
    rule_ids = process.rules.resolve_rules(rules)
    grouped = kind in _SUBGROUPED
    table = read_process_csv(data, required=("subgroup",) if grouped else ())
    if grouped:
        _check_equal_subgroups(table)
    if phase1 is None:
        phase1 = _phase1_from_column(table, by_subgroup=grouped)
    try:
        result = _run_chart(process, kind, table, phase1, lam, width, k, h, rule_ids)
    except InvalidInputError as exc:
        raise _with_file(exc, table.source) from None
    payload = _chart_payload(result, kind)
    n_points = result.charts[0].n_points
    n1 = sum(1 for p in result.charts[0].phase if p == "I")
    if as_json:
        emit_json(
            {
                "file": table.source,
                "kind": kind,
                "points": n_points,
                "phase1": n1,
                "rules": list(rule_ids) if kind not in ("ewma", "cusum") else [],
                "limits": result.limits.to_dict(),
                "charts": payload,
            }
        )
        return
    unit = "subgroups" if grouped else "points"
    size = f" of {result.limits.subgroup_size}" if grouped else ""
    _print_charts(
        result, payload, f"{kind} chart: {n_points} {unit}{size}, Phase I: {n1} ({table.source})"
    )


def _run_chart(
    process: Any,
    kind: str,
    table: ProcessTable,
    phase1: int | None,
    lam: float,
    width: float,
    k: float,
    h: float,
    rule_ids: tuple[str, ...],
) -> ChartResult:
    import pandas as pd

    labels = table.columns.get("subgroup")
    if kind in _SUBGROUPED:
        frame = pd.DataFrame({"subgroup": labels, "value": table.values})
        function = process.xbar_r if kind == "xbar_r" else process.xbar_s
        result: ChartResult = function(frame, phase1=phase1, rules=rule_ids, width=width)
        return result
    values = pd.Series(table.values, index=labels if labels else range(1, len(table.values) + 1))
    if kind == "imr":
        result = process.imr(values, phase1=phase1, rules=rule_ids, width=width)
    elif kind == "ewma":
        result = process.ewma(values, lam=lam, width=width, phase1=phase1)
    else:
        result = process.cusum(values, k=k, h=h, phase1=phase1)
    return result


def _print_capability(result: CapabilityResult, title: str) -> None:
    console.print(
        escape(
            f"{title}: n = {result.n}, mean {result.mean:.6g}, sigma within "
            f"{result.sigma_within:.6g} ({result.within_method}), overall "
            f"{result.sigma_overall:.6g}"
        ),
        highlight=False,
    )
    level = f"{result.confidence:.0%}"
    table = Table("index", "value", f"{level} CI", f"{level} lower bound", "method")
    for i in result.indices:
        table.add_row(
            i.name,
            f"{i.value:.4g}",
            f"{i.lower:.4g} - {i.upper:.4g}",
            f"{i.lower_bound:.4g}",
            i.method,
        )
    console.print(table)


@process_app.command("capability")
def capability_command(
    data: Path = typer.Argument(..., help="CSV with columns value[,subgroup,site]."),
    lsl: float | None = typer.Option(None, "--lsl", help="Lower specification limit."),
    usl: float | None = typer.Option(None, "--usl", help="Upper specification limit."),
    by: str | None = typer.Option(None, "--by", help="Group by this column (e.g. site)."),
    confidence: float = typer.Option(0.95, "--confidence", help="Confidence level."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Cp/Cpk/Pp/Ppk (or one-sided Cpl/Cpu) with confidence bounds, per site and network."""
    import pandas as pd

    from .. import process
    from ..process._results import json_value

    group = by.strip().casefold() if by else None
    if group is not None and group not in ("site", "subgroup"):
        msg = f"--by {by!r}: the file columns that can group are site and subgroup"
        raise InvalidInputError(msg, field="by")
    table = read_process_csv(data, required=(group,) if group else ())
    subgroups = table.columns.get("subgroup")
    try:
        if group is None:
            result = process.capability(
                table.values, lsl=lsl, usl=usl, subgroups=subgroups, confidence=confidence
            )
            if as_json:
                emit_json({"file": table.source, **result.to_dict()})
            else:
                _print_capability(result, table.source)
            return
        frame = pd.DataFrame({"value": table.values, group: table.columns[group]})
        use_subgroup = subgroups is not None and group != "subgroup"
        if use_subgroup:
            frame["subgroup"] = subgroups
        summary = process.capability_by(
            frame,
            by=group,
            lsl=lsl,
            usl=usl,
            subgroup="subgroup" if use_subgroup else None,
            confidence=confidence,
        )
    except InvalidInputError as exc:
        raise _with_file(exc, table.source) from None
    records = [
        {str(k): json_value(v) for k, v in row.items()} for row in summary.to_dict("records")
    ]
    if as_json:
        emit_json({"file": table.source, "by": group, "confidence": confidence, "rows": records})
        return
    names = [
        c for c in summary.columns if c in ("Cp", "Cpk", "Pp", "Ppk", "Cpl", "Cpu", "Ppl", "Ppu")
    ]
    out = Table(
        escape(group),
        "n",
        "mean",
        *[f"{n} (lower bound)" for n in names],
        title=escape(table.source),
    )
    for row in records:
        out.add_row(
            escape(str(row[group])),
            str(row["n"]),
            _fmt(row["mean"]),
            *[f"{row[n]:.3g} ({row[f'{n}_lower_bound']:.3g})" for n in names],
        )
    console.print(out)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.add_typer(process_app, name="process")

"""Monitoring of live batches against versioned Phase I limits; signals become deviations.

Raw in-line sensor readings are strongly autocorrelated (a bioreactor's pH a minute
apart is almost the same number), so charting them point by point with limits from the
moving range would alarm constantly. Following Montgomery (Introduction to Statistical
Quality Control, 8th ed., section 10.4) the monitored statistic is a *per-batch feature*:
the mean of each batch's readings in consecutive windows (one hour by default). Phase I
limits are set from the window means of chosen baseline batches (center = their mean,
sigma = their standard deviation, which includes the between-batch variation that a
moving range would miss) and stored, versioned, with who set them from which batches.
Phase II: each live batch's window means are checked against the active limits with the
run rules, and each rule violation opens a deviation in the batch record - once: while
the same excursion continues, the open deviation's data window is extended instead.

Each limit set keeps the averaging window it was set with, and monitoring and charts
average the live readings over that same window (limits of 8-hour means are not
compared with hourly means). Violations of one rule less than :data:`MERGE_WITHIN`
apart are one episode and one deviation. An acknowledged deviation whose excursion goes on is
extended and returned to *open*: the acknowledgement reviewed a shorter excursion (its
signature no longer matches the record) and the longer one needs review again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import yaml
from scipy.stats import norm  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import InvalidInputError
from ...records import (
    Batch,
    BatchStatus,
    ControlLimitSet,
    Deviation,
    DeviationStatus,
    ProcessParameter,
    Reading,
    Site,
    UnitOfWork,
    get_record,
    open_deviation,
    require,
)
from ...records.deviations import SEVERITIES
from ..rules import evaluate_rules, resolve_rules

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

DEFAULT_WINDOW: Final = "1h"
#: Rules applied to window means by default. Runs rules (N2-N8) assume independent
#: points; window means of one batch are autocorrelated, so runs of nine on one side
#: are the rule, not a signal. Only points beyond the limits (Nelson 1) signal here;
#: the run rules serve per-batch features (one point per batch) and the ``--rules``
#: option.
DEFAULT_RULES: Final = ("N1",)
#: Signals of the same rule on the same batch closer than this are one excursion.
MERGE_WITHIN: Final = timedelta(hours=6)
#: Severity of a deviation by rule; per-parameter overrides under the parameter's name.
DEFAULT_SEVERITY: Final[dict[str, Any]] = {
    "default": "minor",
    "N1": "major",
    "N5": "major",
    "temperature": {"N1": "critical"},
}


def load_severity(path: str | Path | None) -> dict[str, Any]:
    """A severity table from YAML (``rule: severity``, ``parameter: {rule: severity}``)."""
    if path is None:
        return dict(DEFAULT_SEVERITY)
    try:
        table = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        msg = f"cannot read the severity table: {exc}"
        raise InvalidInputError(msg, file=str(path)) from None
    if not isinstance(table, dict):
        msg = "a severity table is a mapping of rule (or parameter) to severity"
        raise InvalidInputError(msg, file=str(path))
    for key, value in table.items():
        for rule, severity in value.items() if isinstance(value, dict) else [(key, value)]:
            if severity not in SEVERITIES:
                where = f"{key}.{rule}" if isinstance(value, dict) else str(key)
                msg = f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}"
                raise InvalidInputError(msg, file=str(path), field=where)
    return {**DEFAULT_SEVERITY, **{str(k): v for k, v in table.items()}}


def _severity(table: Mapping[str, Any], parameter: str, rule: str) -> str:
    specific = table.get(parameter)
    if isinstance(specific, Mapping) and rule in specific:
        return str(specific[rule])
    return str(table.get(rule, table.get("default", "minor")))


def _window_length(window: str) -> timedelta:
    """The averaging window as a duration (``"1h"``, ``"30min"``, ``"8h"``)."""
    try:
        length = pd.Timedelta(window)
    except (TypeError, ValueError):
        length = pd.NaT
    if pd.isna(length) or length <= pd.Timedelta(0):
        msg = f"window {window!r} is not a positive duration such as 1h, 30min or 8h"
        raise InvalidInputError(msg, field="window")
    return timedelta(seconds=length.total_seconds())


def _limit_window(lim: ControlLimitSet) -> str:
    return str((lim.params or {}).get("window", DEFAULT_WINDOW))


def window_means(readings: pd.DataFrame, *, window: str = DEFAULT_WINDOW) -> pd.DataFrame:
    """Mean of each batch's readings per parameter in consecutive time windows.

    ``readings`` has ``batch, parameter, measured_at, value``; the result adds
    ``window_start``, ``window_end`` (last reading time in the window) and ``n``.
    """
    if readings.empty:
        return pd.DataFrame(
            columns=["batch", "parameter", "window_start", "window_end", "value", "n"]
        )
    frame = readings.assign(window_start=readings["measured_at"].dt.floor(window))
    grouped = frame.groupby(["batch", "parameter", "window_start"], sort=True)
    return grouped.agg(
        value=("value", "mean"), n=("value", "size"), window_end=("measured_at", "max")
    ).reset_index()


def _readings(
    session: Session,
    *,
    batch_ids: Sequence[int],
    parameter_ids: Sequence[int],
    since: datetime | None,
    until: datetime | None = None,
) -> pd.DataFrame:
    stmt = select(
        Reading.batch_id.label("batch"),
        Reading.parameter_id.label("parameter"),
        Reading.measured_at,
        Reading.value,
    ).where(Reading.batch_id.in_(batch_ids), Reading.parameter_id.in_(parameter_ids))
    if since is not None:
        stmt = stmt.where(Reading.measured_at >= since)
    if until is not None:
        stmt = stmt.where(Reading.measured_at <= until)
    rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["batch", "parameter", "measured_at", "value"])
    if not frame.empty:
        frame["measured_at"] = pd.to_datetime(frame["measured_at"], utc=True)
    return frame


def set_baseline(
    uow: UnitOfWork,
    *,
    parameter: str,
    baseline_batches: Sequence[str],
    site: str | None = None,
    window: str = DEFAULT_WINDOW,
    width: float | None = None,
    batch_alpha: float = 0.05,
) -> ControlLimitSet:
    """Set (a new version of) Phase I limits of ``parameter`` from baseline batches.

    A batch is charted as many window means (a week of hourly means is ~190 points), so
    3-sigma limits, made for one point at a time, would flag a clean batch somewhere in
    its run about two times in five. By default the width is therefore chosen so that a
    clean batch raises a false alarm with probability at most ``batch_alpha`` over its
    whole run: ``width = z(1 - batch_alpha / (2 m))`` with ``m`` the windows per
    baseline batch (Bonferroni; conservative under autocorrelation). Give ``width`` to
    use fixed k-sigma limits instead.

    References
    ----------
    Montgomery, D. C. Introduction to Statistical Quality Control, 8th ed., Wiley
    (2019), section 10.4 (SPC with autocorrelated process data) and 11.3 (choosing
    the control limits of many simultaneous charts: Bonferroni).
    """
    require(uow.actor, "process.limits")
    param = uow.get(ProcessParameter, parameter)
    _window_length(window)
    if width is not None and not width > 0:
        msg = f"the limits' width is a positive number of sigmas, not {width!r}"
        raise InvalidInputError(msg, field="width")
    baseline_batches = list(dict.fromkeys(baseline_batches))  # each batch counts once
    if len(baseline_batches) < 2:
        msg = "Phase I limits need at least two baseline batches (20 or more is usual)"
        raise InvalidInputError(msg, field="baseline_batches")
    batches = [uow.get(Batch, code) for code in baseline_batches]
    site_row = uow.get(Site, site) if site else None
    means = window_means(
        _readings(
            uow.session, batch_ids=[b.id for b in batches], parameter_ids=[param.id], since=None
        ),
        window=window,
    )
    missing = sorted(
        {b.batch_code for b in batches}
        - {b.batch_code for b in batches if b.id in set(means["batch"])}
    )
    if missing:
        msg = f"no {parameter} readings for baseline batch(es) {', '.join(missing)}"
        raise InvalidInputError(msg, field="baseline_batches")
    values = means["value"].to_numpy(dtype=float)
    center, sigma = float(values.mean()), float(values.std(ddof=1))
    per_batch = len(values) / len(batches)
    if width is None:
        if not 0 < batch_alpha < 1:
            msg = f"batch_alpha {batch_alpha} must be between 0 and 1"
            raise InvalidInputError(msg, field="batch_alpha")
        width = float(norm.isf(batch_alpha / (2 * max(per_batch, 1.0))))
    if not sigma > 0:
        msg = f"the baseline {parameter} readings do not vary; limits cannot be set"
        raise InvalidInputError(msg, field="parameter")
    version = (
        uow.session.execute(
            select(func.max(ControlLimitSet.version)).where(
                ControlLimitSet.parameter_id == param.id,
                ControlLimitSet.site_id == (site_row.id if site_row else None),
            )
        ).scalar_one()
        or 0
    ) + 1
    for old in uow.session.scalars(
        select(ControlLimitSet).where(
            ControlLimitSet.parameter_id == param.id,
            ControlLimitSet.site_id == (site_row.id if site_row else None),
            ControlLimitSet.active.is_(True),
        )
    ):
        uow.change(old, active=False, reason=f"superseded by version {version}")
    return uow.add(
        ControlLimitSet(
            parameter_id=param.id,
            site_id=site_row.id if site_row else None,
            version=version,
            chart="window-mean",
            center=center,
            lcl=center - width * sigma,
            ucl=center + width * sigma,
            sigma=sigma,
            params={
                "window": window,
                "width": width,
                "batch_alpha": batch_alpha,
                "windows_per_batch": per_batch,
                "n_points": int(values.size),
            },
            baseline_batches=[b.batch_code for b in batches],
            set_by_id=uow.actor.user_id,
        )
    )


def active_limits(session: Session) -> list[ControlLimitSet]:
    """Every active limit set (network-wide and per site)."""
    return list(session.scalars(select(ControlLimitSet).where(ControlLimitSet.active.is_(True))))


@dataclass(frozen=True, slots=True)
class Signal:
    """One episode of a rule's violations on one live batch, as the monitor saw it.

    ``window`` is the data window of the deviation (first to last reading time) and
    ``values`` the window means that make up the episode.
    """

    batch: str
    parameter: str
    rule: str
    description: str
    window: tuple[datetime, datetime]
    values: tuple[float, ...]
    deviation: str
    new: bool


@dataclass
class MonitorReport:
    """What one monitoring tick did."""

    batches: int = 0
    series: int = 0
    signals: list[Signal] = field(default_factory=list)

    @property
    def new_deviations(self) -> list[Signal]:
        """Signals that opened a new deviation (not continuing excursions)."""
        return [s for s in self.signals if s.new]


def monitor(
    uow: UnitOfWork,
    *,
    rules: Sequence[str] = DEFAULT_RULES,
    severity: Mapping[str, Any] | None = None,
    lookback: timedelta | None = timedelta(hours=48),
    now: datetime | None = None,
) -> MonitorReport:
    """Evaluate every live batch once against the active limits; open deviations.

    Parameters
    ----------
    uow
        The unit of work; its actor opens the deviations.
    rules
        Run rules to apply to the window means (rule 1 uses the stored limits).
    severity
        Severity table (see :func:`load_severity`).
    lookback
        Only readings this recent are charted (``None``: all).
    now
        The tick's time (default: the latest reading); later readings are not charted.
    """
    require(uow.actor, "process.monitor")
    rule_ids = resolve_rules(list(rules))
    table = severity or DEFAULT_SEVERITY
    report = MonitorReport()
    limits = active_limits(uow.session)
    if not limits:
        return report
    live = {
        b.id: b
        for b in uow.session.scalars(select(Batch).where(Batch.status == BatchStatus.in_process))
    }
    report.batches = len(live)
    if not live:
        return report
    params = {p.id: p for p in uow.session.scalars(select(ProcessParameter))}
    since = None
    if lookback is not None:
        latest = now or uow.session.execute(select(func.max(Reading.measured_at))).scalar()
        since = None if latest is None else latest - lookback
    readings = _readings(
        uow.session,
        batch_ids=list(live),
        parameter_ids=sorted({lim.parameter_id for lim in limits}),
        since=since,
        until=now,
    )
    by_key = {(lim.parameter_id, lim.site_id): lim for lim in limits}
    open_devs = _open_signal_deviations(uow)
    # Window means over all series at once (one pass per averaging window in use),
    # then only the series that can signal are walked one by one.
    limit_of: dict[tuple[int, int], ControlLimitSet] = {}
    for batch_id, parameter_id in (
        readings[["batch", "parameter"]].drop_duplicates().itertuples(index=False)
    ):
        site = live[int(batch_id)].site_id
        lim = by_key.get((int(parameter_id), site)) or by_key.get((int(parameter_id), None))
        if lim is not None:
            limit_of[(int(batch_id), int(parameter_id))] = lim
    report.series = len(limit_of)
    frames = []
    for window in sorted({_limit_window(lim) for lim in limit_of.values()}):
        wanted = {pid for (_, pid), lim in limit_of.items() if _limit_window(lim) == window}
        subset = readings[readings["parameter"].isin(wanted)]
        frames.append(window_means(subset, window=window))
    means = (
        pd.concat(frames, ignore_index=True)
        if frames
        else window_means(readings.iloc[0:0], window=DEFAULT_WINDOW)
    )
    candidates = set(limit_of)
    if set(rule_ids) <= {"N1"} and not means.empty:
        # Only points beyond the limits can signal: find those series vectorised.
        keys = list(zip(means["batch"].astype(int), means["parameter"].astype(int), strict=True))
        lcl = np.array([limit_of[k].lcl if k in limit_of else np.nan for k in keys])
        ucl = np.array([limit_of[k].ucl if k in limit_of else np.nan for k in keys])
        values_all = means["value"].to_numpy(dtype=float)
        beyond = (values_all < lcl) | (values_all > ucl)
        candidates = {k for k, hit in zip(keys, beyond, strict=True) if hit}
    grouped = means[
        [k in candidates for k in zip(means["batch"], means["parameter"], strict=True)]
    ].groupby(["batch", "parameter"], sort=True)
    for (batch_id, parameter_id), series in grouped:
        batch = live[int(batch_id)]
        lim = limit_of[(int(batch_id), int(parameter_id))]
        series = series.sort_values("window_start").reset_index(drop=True)
        values = series["value"].to_numpy(dtype=float)
        violations = evaluate_rules(
            values, center=lim.center, sigma=lim.sigma, rules=rule_ids, lcl=lim.lcl, ucl=lim.ucl
        )
        if not violations:
            continue
        name = params[int(parameter_id)].name
        for episode in _episodes(violations, rule_ids, series):
            points = sorted({p for v in episode for p in v.points})
            starts = [series["window_start"].iloc[p].to_pydatetime() for p in points]
            span = (starts[0], series["window_end"].iloc[points[-1]].to_pydatetime())
            found = [(at, float(values[p])) for at, p in zip(starts, points, strict=True)]
            report.signals.append(
                _record(
                    uow,
                    batch,
                    name,
                    lim,
                    episode[0],
                    span,
                    found,
                    open_devs=open_devs,
                    table=table,
                )
            )
    return report


def _episodes(
    violations: Sequence[Any], rule_ids: Sequence[str], series: pd.DataFrame
) -> list[list[Any]]:
    """Violations of one rule less than :data:`MERGE_WITHIN` apart: one episode each.

    A run longer than a rule's length signals at every further point; those signals,
    and signals of the same rule that resume shortly after, are one excursion,
    reported once.
    """
    starts = series["window_start"]
    ends = series["window_end"]
    episodes: list[list[Any]] = []
    current: dict[str, list[Any]] = {}
    for v in violations:  # ordered by point
        run = current.get(v.rule)
        if (
            run is not None
            and starts.iloc[min(v.points)] <= ends.iloc[run[-1].index] + MERGE_WITHIN
        ):
            run.append(v)
            continue
        current[v.rule] = [v]
        episodes.append(current[v.rule])
    order = {rid: k for k, rid in enumerate(rule_ids)}
    return sorted(episodes, key=lambda e: (min(e[0].points), order.get(e[0].rule, 0)))


def _open_signal_deviations(uow: UnitOfWork) -> dict[tuple[int, str], Deviation]:
    """The latest monitoring deviation of each (batch, source), closed ones included."""
    found: dict[tuple[int, str], Deviation] = {}
    for d in uow.session.scalars(
        select(Deviation).where(Deviation.source.is_not(None)).order_by(Deviation.id)
    ):
        if d.batch_id is not None and d.source is not None:
            found[(d.batch_id, d.source)] = d
    return found


def _points(details: Mapping[str, Any] | None) -> dict[str, float]:
    return {str(at): float(v) for at, v in (details or {}).get("points", [])}


def _record(
    uow: UnitOfWork,
    batch: Batch,
    parameter: str,
    lim: ControlLimitSet,
    first: Any,
    window: tuple[datetime, datetime],
    found: list[tuple[datetime, float]],
    *,
    open_devs: dict[tuple[int, str], Deviation],
    table: Mapping[str, Any],
) -> Signal:
    rule = str(first.rule)
    source = f"spc:{parameter}:{rule}"
    points = {at.isoformat(): value for at, value in found}
    details: dict[str, Any] = {
        "rule": rule,
        "description": first.description,
        "points": sorted([at, value] for at, value in points.items()),
        "values": [value for _, value in sorted(points.items())],
        "center": lim.center,
        "lcl": lim.lcl,
        "ucl": lim.ucl,
        "sigma": lim.sigma,
        "limits": f"control_limits:{lim.id} v{lim.version}",
        "chart": lim.chart,
        "window": _limit_window(lim),
    }

    def signal(
        code: str, span: tuple[datetime, datetime], values: list[float], *, new: bool
    ) -> Signal:
        return Signal(
            batch.batch_code, parameter, rule, first.description, span, tuple(values), code, new
        )

    existing = open_devs.get((batch.id, source))
    if existing is not None and existing.window_end is not None:
        seen = (existing.window_start or window[0], existing.window_end)
        if window[1] <= existing.window_end:  # already reported
            return signal(existing.code, seen, details["values"], new=False)
        continuing = window[0] <= existing.window_end + MERGE_WITHIN
        if continuing and existing.status is not DeviationStatus.closed:
            # The same excursion, still going: widen the window, no second deviation.
            merged = {**_points(existing.details), **points}
            changes: dict[str, Any] = {
                "window_end": window[1],
                "details": {
                    **(existing.details or {}),
                    "points": sorted([at, value] for at, value in merged.items()),
                    "values": [value for _, value in sorted(merged.items())],
                },
            }
            reason = "excursion continues"
            if existing.status is DeviationStatus.acknowledged:
                # The acknowledgement reviewed a shorter excursion: it needs review again.
                changes["status"] = DeviationStatus.open
                reason = "excursion continues beyond the acknowledged window; review again"
            uow.change(existing, reason=reason, **changes)
            return signal(
                existing.code, (seen[0], window[1]), changes["details"]["values"], new=False
            )
        if continuing:  # the excursion went on after its deviation was closed
            details["continues"] = existing.code
    deviation = open_deviation(
        uow,
        category="process_signal",
        severity=_severity(table, parameter, rule),
        description=f"{batch.batch_code}: {parameter} {first.description} "
        f"(limits v{lim.version}: {lim.lcl:.4g} to {lim.ucl:.4g})",
        batch=batch,
        source=source,
        parameter_id=lim.parameter_id,
        window=window,
        details=details,
    )
    open_devs[(batch.id, source)] = deviation
    return signal(deviation.code, window, details["values"], new=True)


def chart_frame(
    session: Session, *, batch: str, parameter: str, window: str | None = None
) -> tuple[pd.DataFrame, ControlLimitSet | None]:
    """The monitored statistic of one batch and parameter, with the limits that apply.

    Returns a tidy frame (``window_start, window_end, value, n``) and the active limit
    set (site-specific first, else network-wide), or ``None`` if none is set. The
    readings are averaged over the limits' window (``window`` overrides it; without
    limits the default is one hour).
    """
    row = get_record(session, Batch, batch)
    param = get_record(session, ProcessParameter, parameter)
    limits = None
    for lim in active_limits(session):
        applies = lim.parameter_id == param.id and lim.site_id in (row.site_id, None)
        if applies and (limits is None or lim.site_id is not None):
            limits = lim
    if window is None:
        window = _limit_window(limits) if limits is not None else DEFAULT_WINDOW
    _window_length(window)
    readings = _readings(session, batch_ids=[row.id], parameter_ids=[param.id], since=None)
    means = window_means(readings, window=window)
    return means.drop(columns=["batch", "parameter"], errors="ignore"), limits

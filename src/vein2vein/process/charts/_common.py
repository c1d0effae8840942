"""Shared plumbing of the chart functions: input checks, phases, chart assembly."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ...errors import InvalidInputError
from .._results import ControlChart, ControlLimits, FloatArray, Violation, frozen_array
from ..rules import evaluate_rules, resolve_rules
from ._constants import MAX_SUBGROUP, MIN_SUBGROUP

RuleArg = str | Sequence[str] | None

#: Rule ids that test "beyond the limits": the only ones applied to dispersion charts.
_LIMIT_RULES = ("N1", "WE1")


def _positions_text(mask: NDArray[np.bool_]) -> str:
    bad = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in bad[:10])
    return shown + (f" and {bad.size - 10} more" if bad.size > 10 else "")


def as_values(values: Any, *, field: str = "values") -> tuple[FloatArray, tuple[str, ...]]:
    """Individual values as a finite 1-D float array, with a label per point.

    A :class:`pandas.Series` gives its index as labels; anything else is labelled by
    position (0, 1, ...).
    """
    labels: tuple[str, ...] | None = None
    if isinstance(values, pd.Series):
        labels = tuple(str(i) for i in values.index)
        values = values.to_numpy()
    if isinstance(values, pd.DataFrame):
        if "value" not in values.columns:
            msg = "a frame of individual values needs a 'value' column"
            raise InvalidInputError(msg, field=field)
        if "subgroup" in values.columns:
            labels = tuple(str(s) for s in values["subgroup"])
        values = values["value"].to_numpy()
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        msg = "values must be numbers"
        raise InvalidInputError(msg, field=field) from None
    if array.ndim != 1:
        msg = f"individual values must be one-dimensional, got shape {array.shape}"
        raise InvalidInputError(msg, field=field)
    finite = np.isfinite(array)
    if not finite.all():
        msg = f"values must be finite numbers; not finite at position(s) {_positions_text(~finite)}"
        raise InvalidInputError(msg, field=field)
    if labels is None:
        labels = tuple(str(i) for i in range(array.size))
    return array, labels


def as_subgroups(subgroups: Any, *, field: str = "subgroups") -> tuple[FloatArray, tuple[str, ...]]:
    """Subgroups as an ``(m, n)`` float array with a label per subgroup.

    Accepts a 2-D array (one row per subgroup) or a long frame with columns ``subgroup``
    and ``value`` (subgroups in order of first appearance). Unequal subgroup sizes are
    refused: the constants and limits here assume one size ``n``.
    """
    if isinstance(subgroups, pd.DataFrame):
        missing = [c for c in ("subgroup", "value") if c not in subgroups.columns]
        if missing:
            msg = (
                "a frame of subgroups needs the columns 'subgroup' and 'value' "
                f"(missing {', '.join(missing)})"
            )
            raise InvalidInputError(msg, field=missing[0])
        values, _ = as_values(subgroups["value"].to_numpy(), field="value")
        keys = subgroups["subgroup"].to_numpy()
        order = list(pd.unique(keys))
        rows = [values[keys == key] for key in order]
        labels = tuple(str(k) for k in order)
        sizes = {len(r) for r in rows}
        if len(sizes) > 1:
            counts = ", ".join(f"{lab}: {len(r)}" for lab, r in zip(labels, rows, strict=True))
            msg = (
                "subgroups must all have the same size for these charts "
                f"(sizes by subgroup: {counts})"
            )
            raise InvalidInputError(msg, field="subgroup")
        array = np.vstack(rows) if rows else np.empty((0, 0))
    else:
        if isinstance(subgroups, Sequence) and not isinstance(subgroups, str | bytes):
            sizes = {len(r) if isinstance(r, Sequence) else -1 for r in subgroups}
            if len(sizes) > 1:
                msg = "subgroups must all have the same size (rows of unequal length given)"
                raise InvalidInputError(msg, field=field)
        try:
            array = np.asarray(subgroups, dtype=np.float64)
        except (TypeError, ValueError):
            msg = "subgroups must be a 2-D array of numbers (one row per subgroup)"
            raise InvalidInputError(msg, field=field) from None
        if array.ndim != 2:
            msg = f"subgroups must be 2-D (one row per subgroup), got shape {array.shape}"
            raise InvalidInputError(msg, field=field)
        labels = tuple(str(i) for i in range(array.shape[0]))
    finite = np.isfinite(array)
    if not finite.all():
        rows_bad = np.flatnonzero(~finite.all(axis=1))
        msg = "values must be finite numbers; not finite in subgroup(s) " + ", ".join(
            labels[int(i)] for i in rows_bad[:10]
        )
        raise InvalidInputError(msg, field=field)
    n = array.shape[1] if array.ndim == 2 else 0
    if not MIN_SUBGROUP <= n <= MAX_SUBGROUP:
        msg = (
            f"subgroup size {n} is outside {MIN_SUBGROUP}..{MAX_SUBGROUP}; for one value "
            "per lot use the individuals chart (imr)"
        )
        raise InvalidInputError(msg, field=field)
    return array.astype(np.float64), labels


def split_phase(
    n_points: int,
    *,
    phase1: int | None,
    limits: ControlLimits | None,
    minimum: int,
    unit: str = "points",
    known: bool = False,
) -> tuple[int, tuple[str, ...]]:
    """Number of Phase I points and the phase label of every point.

    ``limits`` given (or ``known`` target and sigma without ``phase1``): every point is
    Phase II. ``phase1`` given: the first ``phase1`` points are Phase I. Neither: every
    point is Phase I (trial limits from all of them).
    """
    if limits is not None and phase1 is not None:
        msg = "give either phase1 (estimate the limits) or limits (use stored ones), not both"
        raise InvalidInputError(msg, field="phase1")
    if limits is not None or (known and phase1 is None):
        if n_points < 1:
            msg = f"no {unit} to chart"
            raise InvalidInputError(msg, field="values")
        return 0, ("II",) * n_points
    if phase1 is None:
        n1 = n_points
    else:
        if isinstance(phase1, bool) or not isinstance(phase1, int | np.integer):
            msg = f"phase1 must be a whole number of {unit}, not {phase1!r}"
            raise InvalidInputError(msg, field="phase1")
        n1 = int(phase1)
        if n1 > n_points:
            msg = f"phase1 = {n1} but only {n_points} {unit} were given"
            raise InvalidInputError(msg, field="phase1")
    if n1 < minimum:
        msg = f"at least {minimum} Phase I {unit} are needed to estimate the limits, {n1} given"
        raise InvalidInputError(msg, field="phase1" if phase1 is not None else "values")
    return n1, ("I",) * n1 + ("II",) * (n_points - n1)


def check_limits(limits: object, kind: str, *, subgroup_size: int = 1) -> None:
    """Refuse stored limits of another chart kind or subgroup size."""
    if not isinstance(limits, ControlLimits):
        msg = f"limits must be a ControlLimits object, not {type(limits).__name__}"
        raise InvalidInputError(msg, field="limits")
    if limits.chart != kind:
        msg = f"these limits are for a {limits.chart!r} chart, not {kind!r}"
        raise InvalidInputError(msg, field="limits")
    if limits.subgroup_size != subgroup_size:
        msg = (
            f"these limits are for subgroups of {limits.subgroup_size}, "
            f"the data have subgroups of {subgroup_size}"
        )
        raise InvalidInputError(msg, field="limits")
    if not (math.isfinite(limits.sigma) and limits.sigma > 0):
        msg = f"the stored sigma {limits.sigma} is not a positive number"
        raise InvalidInputError(msg, field="limits")


def check_width(width: float) -> float:
    """The limit width in sigmas, a positive finite number."""
    width = float(width)
    if not (math.isfinite(width) and width > 0):
        msg = f"width must be a positive number of sigmas, not {width}"
        raise InvalidInputError(msg, field="width")
    return width


def positive_sigma(sigma: float, what: str, *, field: str = "values") -> float:
    """Refuse a zero or non-finite sigma estimate, naming where it came from."""
    if not (math.isfinite(sigma) and sigma > 0):
        msg = (
            f"sigma estimated from {what} is {sigma:g}: the Phase I data do not vary, "
            "so no limits can be set"
        )
        raise InvalidInputError(msg, field=field)
    return float(sigma)


def build_chart(
    name: str,
    statistic: Any,
    *,
    center: float,
    lcl: float | FloatArray,
    ucl: float | FloatArray,
    sigma: float,
    sigma_statistic: float,
    phase: tuple[str, ...],
    labels: tuple[str, ...],
    rules: RuleArg,
    dispersion: bool = False,
    params: Mapping[str, Any] | None = None,
    extras: Mapping[str, Any] | None = None,
    violations: Sequence[Violation] | None = None,
) -> ControlChart:
    """Assemble a chart, evaluating its rules unless ``violations`` are given.

    Location charts get the whole rule set (zones from ``sigma_statistic``); dispersion
    charts (moving range, range, s) only the beyond-the-limits rule of the set, against
    their own (asymmetric) limits.
    """
    stat = frozen_array(statistic)
    n = stat.shape[0]
    lcl_arr = frozen_array(np.broadcast_to(lcl, (n,)))
    ucl_arr = frozen_array(np.broadcast_to(ucl, (n,)))
    if violations is None:
        ids = resolve_rules(rules)
        if dispersion:
            ids = tuple(r for r in ids if r in _LIMIT_RULES)
        found = evaluate_rules(
            stat,
            center=center,
            sigma=sigma_statistic,
            rules=ids,
            lcl=float(lcl_arr[0]) if n else None,
            ucl=float(ucl_arr[0]) if n else None,
        )
    else:
        found = tuple(violations)
    tagged = tuple(dataclasses.replace(v, chart=name, label=labels[v.index]) for v in found)
    return ControlChart(
        name=name,
        statistic=stat,
        center=float(center),
        lcl=lcl_arr,
        ucl=ucl_arr,
        sigma=float(sigma),
        sigma_statistic=float(sigma_statistic),
        phase=phase,
        labels=labels,
        violations=tagged,
        params=dict(params or {}),
        extras={k: frozen_array(v) for k, v in (extras or {}).items()},
    )

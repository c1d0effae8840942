"""Typed, frozen results of the chart, rule and capability functions.

Every result has ``to_dict()`` (plain JSON types only: NaN and infinities become ``None``)
and, where it holds per-point data, ``to_frame()`` (a tidy :class:`pandas.DataFrame`).
Arrays held by a result are read-only.

:class:`ControlLimits` is the stored-limits object: the platform versions it in the
``control_limit_sets`` table (``chart``, ``center``, ``lcl``, ``ucl``, ``sigma``,
``params``) and hands it back to a chart function (``limits=``) to monitor new data in
Phase II. ``to_dict()``/``from_dict()`` round-trip it and carry ``schema_version``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import InvalidInputError

__all__ = [
    "LIMITS_SCHEMA_VERSION",
    "CapabilityResult",
    "ChartResult",
    "ControlChart",
    "ControlLimits",
    "IndexEstimate",
    "SecondaryLimits",
    "Violation",
]

#: Version of the serialised :class:`ControlLimits` layout.
LIMITS_SCHEMA_VERSION = 1

FloatArray = NDArray[np.float64]


def json_float(value: float | np.floating[Any] | None) -> float | None:
    """A float for JSON: ``None`` for NaN, infinities and ``None``."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_value(value: Any) -> Any:
    """Plain JSON types for params and extras (numpy scalars and arrays included)."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return json_float(value)
    if isinstance(value, np.ndarray):
        return [json_value(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [json_value(v) for v in value]
    msg = f"cannot serialise a value of type {type(value).__name__}"
    raise TypeError(msg)


def frozen_array(values: Any) -> FloatArray:
    """A read-only float64 copy."""
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True)
class Violation:
    """One signal of a run rule (or of a limit) on a chart.

    Attributes
    ----------
    rule
        Rule id: ``"N1"``..``"N8"`` (Nelson 1984), ``"WE1"``..``"WE4"`` (Western Electric
        1956), ``"EWMA"`` or ``"CUSUM"`` (a time-weighted statistic beyond its limit).
    description
        The rule and what was seen, in words.
    index
        0-based position of the point that completes the pattern (where it is reported).
    points
        0-based positions of the points that make up the pattern, ending with ``index``.
    values
        The plotted values at ``points``.
    center, sigma
        The center line and the standard deviation of the plotted statistic the rule used.
    lcl, ucl
        The control limits of the chart at ``index``.
    chart
        The chart the signal was found on (``"individuals"``, ``"xbar"``, ...), or ``""``
        when a rule function was called directly.
    label
        The label of the point at ``index`` (a subgroup id), where the chart has labels.
    """

    rule: str
    description: str
    index: int
    points: tuple[int, ...]
    values: tuple[float, ...]
    center: float
    sigma: float
    lcl: float
    ucl: float
    chart: str = ""
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "rule": self.rule,
            "description": self.description,
            "index": self.index,
            "points": list(self.points),
            "values": [json_float(v) for v in self.values],
            "center": json_float(self.center),
            "sigma": json_float(self.sigma),
            "lcl": json_float(self.lcl),
            "ucl": json_float(self.ucl),
            "chart": self.chart,
            "label": self.label,
        }


@dataclass(frozen=True, eq=False)
class ControlChart:
    """One chart: the plotted statistic per point with its center line and limits.

    Attributes
    ----------
    name
        ``"individuals"``, ``"moving_range"``, ``"xbar"``, ``"range"``, ``"stdev"``,
        ``"ewma"``, ``"cusum_upper"``, ``"cusum_lower"``, ``"residuals"`` or
        ``"residual_moving_range"``.
    statistic
        The plotted value per point (NaN where a point has none, e.g. the first moving
        range).
    center
        The center line.
    lcl, ucl
        Lower and upper control limit per point (constant for Shewhart charts, varying with
        the point for EWMA).
    sigma
        The process standard deviation the limits were built from.
    sigma_statistic
        The standard deviation of the plotted statistic (sigma / sqrt(n) for X-bar,
        d3 sigma for R, the asymptotic value for EWMA); the zone rules use it.
    phase
        ``"I"`` for points that set the limits, ``"II"`` for points monitored against them.
    labels
        A label per point (subgroup id or the position).
    violations
        Signals found on this chart, ordered by point.
    params
        The parameters used (width, estimator, lambda, k, h, rule set...).
    extras
        Further per-point columns (raw EWMA input, CUSUM run counts, fitted values...).
    """

    name: str
    statistic: FloatArray
    center: float
    lcl: FloatArray
    ucl: FloatArray
    sigma: float
    sigma_statistic: float
    phase: tuple[str, ...]
    labels: tuple[str, ...]
    violations: tuple[Violation, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    extras: Mapping[str, FloatArray] = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        """Number of points on the chart."""
        return int(self.statistic.shape[0])

    @property
    def signal_points(self) -> tuple[int, ...]:
        """0-based positions at which any violation is reported."""
        return tuple(sorted({v.index for v in self.violations}))

    def to_frame(self) -> pd.DataFrame:
        """One row per point: ``point, label, phase, statistic, center, lcl, ucl, rules``."""
        rules: list[list[str]] = [[] for _ in range(self.n_points)]
        for v in self.violations:
            rules[v.index].append(v.rule)
        frame = pd.DataFrame(
            {
                "point": np.arange(self.n_points),
                "label": list(self.labels),
                "phase": list(self.phase),
                "statistic": self.statistic,
                "center": np.full(self.n_points, self.center),
                "lcl": self.lcl,
                "ucl": self.ucl,
                "rules": [",".join(r) for r in rules],
            }
        )
        for key, column in self.extras.items():
            frame[key] = column
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the per-point arrays."""
        return {
            "chart": self.name,
            "center": json_float(self.center),
            "sigma": json_float(self.sigma),
            "sigma_statistic": json_float(self.sigma_statistic),
            "statistic": json_value(self.statistic),
            "lcl": json_value(self.lcl),
            "ucl": json_value(self.ucl),
            "phase": list(self.phase),
            "labels": list(self.labels),
            "params": json_value(self.params),
            "extras": {k: json_value(v) for k, v in self.extras.items()},
            "violations": [v.to_dict() for v in self.violations],
        }


@dataclass(frozen=True, slots=True)
class SecondaryLimits:
    """Limits of the companion dispersion chart (moving range, range or s)."""

    chart: str
    center: float
    lcl: float
    ucl: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "chart": self.chart,
            "center": json_float(self.center),
            "lcl": json_float(self.lcl),
            "ucl": json_float(self.ucl),
        }


_LIMIT_KINDS = ("imr", "xbar_r", "xbar_s", "ewma", "cusum", "residual_imr")


def _number(payload: Mapping[str, Any], key: str, *, required: bool = True) -> float:
    value = payload.get(key)
    if value is None and not required:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"stored limits need a number for {key!r}, not {value!r}"
        raise InvalidInputError(msg, field=key)
    return float(value)


@dataclass(frozen=True)
class ControlLimits:
    """Control limits set in Phase I, to store, version and monitor against (Phase II).

    Attributes
    ----------
    chart
        The chart kind: ``"imr"``, ``"xbar_r"``, ``"xbar_s"``, ``"ewma"``, ``"cusum"`` or
        ``"residual_imr"``.
    center
        Center line of the primary chart (the target for EWMA and CUSUM).
    lcl, ucl
        Limits of the primary chart. EWMA: the asymptotic limits. CUSUM: ``-h`` and ``h``
        (decision interval in sigma units; C- is compared with ``h`` as a positive sum).
    sigma
        Process standard deviation (per observation) behind the limits.
    n
        Number of points (observations or subgroups) the limits were estimated from;
        ``0`` when they were given (known target and sigma).
    subgroup_size
        Observations per subgroup (1 for individuals).
    params
        Everything else needed to reproduce the chart: ``width``, the sigma estimator,
        ``lam``/``k``/``h``, the AR coefficients of a residual chart, ...
    secondary
        Limits of the companion dispersion chart, if the chart kind has one.
    schema_version
        Layout version of the serialised form.
    """

    chart: str
    center: float
    lcl: float
    ucl: float
    sigma: float
    n: int
    subgroup_size: int = 1
    params: Mapping[str, Any] = field(default_factory=dict)
    secondary: SecondaryLimits | None = None
    schema_version: int = LIMITS_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; :meth:`from_dict` reads it back."""
        return {
            "schema_version": self.schema_version,
            "chart": self.chart,
            "center": json_float(self.center),
            "lcl": json_float(self.lcl),
            "ucl": json_float(self.ucl),
            "sigma": json_float(self.sigma),
            "n": self.n,
            "subgroup_size": self.subgroup_size,
            "params": json_value(self.params),
            "secondary": None if self.secondary is None else self.secondary.to_dict(),
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> ControlLimits:
        """Rebuild stored limits; refuses an unknown chart kind or schema version.

        Parameters
        ----------
        payload
            A dict as written by :meth:`to_dict`.

        Returns
        -------
        ControlLimits
            The limits.

        Raises
        ------
        InvalidInputError
            A missing or mistyped field, an unknown chart kind or a newer schema version.
        """
        version = payload.get("schema_version", LIMITS_SCHEMA_VERSION)
        if version != LIMITS_SCHEMA_VERSION:
            msg = (
                f"stored limits have schema version {version!r}; this version of vein2vein "
                f"reads version {LIMITS_SCHEMA_VERSION}"
            )
            raise InvalidInputError(msg, field="schema_version")
        chart = payload.get("chart")
        if chart not in _LIMIT_KINDS:
            msg = f"unknown chart kind {chart!r}; expected one of {', '.join(_LIMIT_KINDS)}"
            raise InvalidInputError(msg, field="chart")
        params = payload.get("params", {})
        if not isinstance(params, Mapping):
            msg = "params must be a mapping"
            raise InvalidInputError(msg, field="params")
        secondary_payload = payload.get("secondary")
        secondary = None
        if secondary_payload is not None:
            if not isinstance(secondary_payload, Mapping):
                msg = "secondary must be a mapping"
                raise InvalidInputError(msg, field="secondary")
            secondary = SecondaryLimits(
                chart=str(secondary_payload.get("chart", "")),
                center=_number(secondary_payload, "center"),
                lcl=_number(secondary_payload, "lcl"),
                ucl=_number(secondary_payload, "ucl"),
            )
        n = payload.get("n", 0)
        size = payload.get("subgroup_size", 1)
        if not isinstance(n, int) or not isinstance(size, int) or size < 1:
            msg = "n and subgroup_size must be whole numbers"
            raise InvalidInputError(msg, field="n")
        return cls(
            chart=str(chart),
            center=_number(payload, "center"),
            lcl=_number(payload, "lcl", required=False),
            ucl=_number(payload, "ucl", required=False),
            sigma=_number(payload, "sigma"),
            n=n,
            subgroup_size=size,
            params=dict(params),
            secondary=secondary,
        )


@dataclass(frozen=True, eq=False)
class ChartResult:
    """A chart, or a pair of charts, with the limits behind them.

    Index it by chart name (``result["xbar"]``); :attr:`charts` holds them in order.
    """

    kind: str
    charts: tuple[ControlChart, ...]
    limits: ControlLimits

    def __getitem__(self, name: str) -> ControlChart:
        for chart in self.charts:
            if chart.name == name:
                return chart
        msg = f"no chart {name!r}; this result has {', '.join(self.names)}"
        raise KeyError(msg)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the charts, in order."""
        return tuple(c.name for c in self.charts)

    @property
    def violations(self) -> tuple[Violation, ...]:
        """Signals of every chart, ordered by point, then chart, then rule."""
        found = [v for c in self.charts for v in c.violations]
        return tuple(sorted(found, key=lambda v: (v.index, v.chart, v.rule)))

    def to_frame(self) -> pd.DataFrame:
        """All charts stacked, with a ``chart`` column first."""
        frames = []
        for chart in self.charts:
            frame = chart.to_frame()
            frame.insert(0, "chart", chart.name)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the kind, the limits and every chart."""
        return {
            "kind": self.kind,
            "limits": self.limits.to_dict(),
            "charts": [c.to_dict() for c in self.charts],
        }


@dataclass(frozen=True, slots=True)
class IndexEstimate:
    """One capability index with its confidence bounds.

    Attributes
    ----------
    name
        ``Cp``, ``Cpk``, ``Cpl``, ``Cpu`` (within sigma) or ``Pp``, ``Ppk``, ``Ppl``, ``Ppu``
        (overall sigma).
    value
        The point estimate.
    lower, upper
        Two-sided confidence interval at the result's confidence level.
    lower_bound
        One-sided lower confidence bound at the same level.
    sigma
        ``"within"`` or ``"overall"``.
    method
        How the bounds were computed.
    """

    name: str
    value: float
    lower: float
    upper: float
    lower_bound: float
    sigma: str
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "value": json_float(self.value),
            "lower": json_float(self.lower),
            "upper": json_float(self.upper),
            "lower_bound": json_float(self.lower_bound),
            "sigma": self.sigma,
            "method": self.method,
        }


@dataclass(frozen=True)
class CapabilityResult:
    """Process capability (within sigma) and performance (overall sigma) indices.

    Attributes
    ----------
    n
        Number of observations.
    mean
        Sample mean.
    lsl, usl
        The specification limits given (``None`` where not given).
    sigma_within
        Short-term sigma: MR-bar / d2(2) for individual values, R-bar / d2(n) for subgroups.
    sigma_overall
        Sample standard deviation of all values (``ddof=1``).
    within_method
        ``"MRbar/d2"`` or ``"Rbar/d2"``.
    subgroup_size
        1 for individual values.
    confidence
        Confidence level of the bounds.
    indices
        The indices: Cp, Cpk, Pp, Ppk for two-sided specifications; Cpl and Ppl for a
        lower limit only; Cpu and Ppu for an upper limit only.
    """

    n: int
    mean: float
    lsl: float | None
    usl: float | None
    sigma_within: float
    sigma_overall: float
    within_method: str
    subgroup_size: int
    confidence: float
    indices: tuple[IndexEstimate, ...]

    def __getitem__(self, name: str) -> IndexEstimate:
        for index in self.indices:
            if index.name == name:
                return index
        msg = f"no index {name!r}; this result has {', '.join(i.name for i in self.indices)}"
        raise KeyError(msg)

    def to_frame(self) -> pd.DataFrame:
        """One row per index: ``index, value, lower, upper, lower_bound, sigma, method``."""
        rows = [
            {
                "index": i.name,
                "value": i.value,
                "lower": i.lower,
                "upper": i.upper,
                "lower_bound": i.lower_bound,
                "sigma": i.sigma,
                "method": i.method,
            }
            for i in self.indices
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "n": self.n,
            "mean": json_float(self.mean),
            "lsl": json_float(self.lsl),
            "usl": json_float(self.usl),
            "sigma_within": json_float(self.sigma_within),
            "sigma_overall": json_float(self.sigma_overall),
            "within_method": self.within_method,
            "subgroup_size": self.subgroup_size,
            "confidence": self.confidence,
            "indices": [i.to_dict() for i in self.indices],
        }

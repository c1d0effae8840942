"""Alignment of batch trajectories (long frame) onto a common time grid.

The input is a long frame with one row per reading: ``batch, parameter, time, value``
(``time`` in hours since the start of the process step; sampling may be irregular and
may differ between parameters and batches). Each (batch, parameter) series is put on
the grid by linear interpolation between its observations:

- between two observations: linear interpolation; where ``max_gap`` is set and two
  consecutive observations lie more than ``max_gap`` hours apart, the grid points
  strictly inside that gap are left missing (NaN) rather than bridged;
- before the first or after the last observation: the nearest observed value is
  held, but only for grid points within ``end_tolerance`` hours of that observation
  (default: half the median grid spacing); further out the point is missing;
- missing values (NaN) in ``value`` are readings that were not made: they are dropped
  before interpolating.

A batch whose data end before the end of the grid is *incomplete* (a running batch):
it can be monitored online but neither used as a reference nor scored as a whole.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ...errors import InvalidInputError

__all__ = ["COLUMNS", "AlignedTrajectories", "align_trajectories"]

COLUMNS = ("batch", "parameter", "time", "value")


@dataclass(frozen=True, slots=True, eq=False)
class AlignedTrajectories:
    """Trajectories on a common grid: a 3-D array (batches x parameters x times).

    Attributes
    ----------
    data
        Array of shape (I, J, K); NaN where a grid point is not covered.
    batches
        The I batch identifiers, in order of first appearance in the input.
    parameters
        The J parameter names.
    grid
        The K grid times (hours since step start), strictly increasing.
    n_elapsed
        For each batch, the number of leading grid points up to the end of its data
        (the last observation of its shortest parameter plus the end tolerance).
    end_tolerance
        Hours an end value was held beyond the first or last observation.
    max_gap
        Longest gap (hours) that was bridged by interpolation; None for no limit.
    """

    data: NDArray[np.float64]
    batches: tuple[Hashable, ...]
    parameters: tuple[str, ...]
    grid: NDArray[np.float64]
    n_elapsed: NDArray[np.int64]
    end_tolerance: float
    max_gap: float | None

    @property
    def complete(self) -> NDArray[np.bool_]:
        """Whether each batch covers the whole grid with no missing point."""
        gaps = np.isnan(self.data).any(axis=(1, 2))
        return np.asarray((self.n_elapsed == self.grid.size) & ~gaps, dtype=np.bool_)

    def unfold(self) -> NDArray[np.float64]:
        """Batch-wise unfolding to I x (K*J), time-major (the J parameters of time 1 first).

        Column ``k * J + j`` holds parameter ``j`` at grid time ``k``, as in Nomikos &
        MacGregor (1994), so the columns known at time ``k`` are the first ``(k+1)*J``.
        """
        i, j, k = self.data.shape
        return np.ascontiguousarray(self.data.transpose(0, 2, 1).reshape(i, k * j))

    def to_frame(self) -> pd.DataFrame:
        """The aligned values as a tidy frame ``batch, parameter, time, value``."""
        i, j, k = self.data.shape
        return pd.DataFrame(
            {
                "batch": np.repeat(np.array(self.batches, dtype=object), j * k),
                "parameter": np.tile(np.repeat(np.array(self.parameters, dtype=object), k), i),
                "time": np.tile(self.grid, i * j),
                "value": self.data.reshape(-1),
            }
        )


def check_grid(grid: ArrayLike) -> NDArray[np.float64]:
    """Validate an explicit grid: 1-D, finite, at least two strictly increasing times."""
    g = np.asarray(grid, dtype=float)
    if g.ndim != 1 or g.size < 2:
        msg = "the grid must be a 1-D sequence of at least two times (hours)"
        raise InvalidInputError(msg, field="grid")
    if not np.all(np.isfinite(g)) or np.any(np.diff(g) <= 0):
        msg = "grid times must be finite and strictly increasing"
        raise InvalidInputError(msg, field="grid")
    return g


def default_end_tolerance(grid: NDArray[np.float64]) -> float:
    """Half the median grid spacing."""
    return float(np.median(np.diff(grid))) / 2.0


def validate_long(trajectories: object, *, parameters: Sequence[str] | None = None) -> pd.DataFrame:
    """Check a long trajectory frame and return a clean copy (numeric time and value).

    Raises :class:`~vein2vein.errors.InvalidInputError` naming the field for: a
    missing column, an empty frame, a missing batch or parameter name, a time that is
    not a finite number, a value that is not a number (NaN means not measured), an
    unknown parameter (when ``parameters`` is given), a duplicated
    (batch, parameter, time), a parameter with only missing values in a batch, and a
    batch that lacks a parameter altogether.
    """
    if not isinstance(trajectories, pd.DataFrame):
        msg = f"trajectories must be a pandas DataFrame, got {type(trajectories).__name__}"
        raise InvalidInputError(msg, field="trajectories")
    for col in COLUMNS:
        if col not in trajectories.columns:
            msg = f"the trajectory frame lacks the column {col!r} (needs {', '.join(COLUMNS)})"
            raise InvalidInputError(msg, field=col)
    if len(trajectories) == 0:
        msg = "the trajectory frame has no rows"
        raise InvalidInputError(msg, field="trajectories")
    df = trajectories.loc[:, list(COLUMNS)].reset_index(drop=True)
    for col in ("batch", "parameter"):
        bad = df[col].isna().to_numpy()
        if bad.any():
            msg = f"row {int(np.argmax(bad))} has no {col}"
            raise InvalidInputError(msg, field=col)
    df["parameter"] = df["parameter"].astype(str)

    time = pd.to_numeric(df["time"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(time)
    if bad.any():
        row = int(np.argmax(bad))
        msg = f"row {row}: time {df['time'].iloc[row]!r} is not a finite number of hours"
        raise InvalidInputError(msg, field="time")
    value = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=float)
    not_number = np.isnan(value) & df["value"].notna().to_numpy()
    if not_number.any() or np.isinf(value).any():
        row = int(np.argmax(not_number | np.isinf(value)))
        msg = (
            f"row {row}: value {df['value'].iloc[row]!r} is not a finite number "
            "(leave a reading that was not made as NaN)"
        )
        raise InvalidInputError(msg, field="value")
    df["time"] = time
    df["value"] = value

    if parameters is not None:
        unknown = sorted(set(df["parameter"]) - set(parameters))
        if unknown:
            msg = (
                f"unknown parameter(s) {', '.join(map(repr, unknown))}; "
                f"the model knows {', '.join(map(repr, parameters))}"
            )
            raise InvalidInputError(msg, field="parameter")

    dup = df.duplicated(subset=["batch", "parameter", "time"], keep=False).to_numpy()
    if dup.any():
        row = df.iloc[int(np.argmax(dup))]
        msg = (
            f"batch {row['batch']!r}, parameter {row['parameter']!r} has more than one "
            f"reading at time {row['time']:g} h"
        )
        raise InvalidInputError(msg, field="time")

    has_value = df.assign(ok=df["value"].notna()).groupby(["batch", "parameter"], sort=False)
    counts = has_value["ok"].sum()
    empty = counts[counts == 0]
    if len(empty):
        batch, param = empty.index[0]
        msg = f"parameter {param!r} of batch {batch!r} has only missing (NaN) values"
        raise InvalidInputError(msg, field="value")

    wanted = list(parameters) if parameters is not None else list(pd.unique(df["parameter"]))
    present = df.groupby("batch", sort=False)["parameter"].agg(lambda s: set(s))
    for batch, params in present.items():
        missing = [p for p in wanted if p not in params]
        if missing:
            msg = f"batch {batch!r} has no readings of {', '.join(map(repr, missing))}"
            raise InvalidInputError(msg, field="parameter")
    return df


def _common_interval(df: pd.DataFrame) -> tuple[float, float]:
    observed = df.dropna(subset=["value"])
    per_series = observed.groupby(["batch", "parameter"], sort=False)["time"].agg(["min", "max"])
    per_batch = per_series.groupby(level=0, sort=False).agg({"min": "max", "max": "min"})
    return float(per_batch["min"].max()), float(per_batch["max"].min())


def _interpolate(
    t: NDArray[np.float64],
    v: NDArray[np.float64],
    grid: NDArray[np.float64],
    *,
    end_tolerance: float,
    max_gap: float | None,
) -> NDArray[np.float64]:
    out = np.interp(grid, t, v)
    before = grid < t[0]
    after = grid > t[-1]
    out[before & (t[0] - grid > end_tolerance)] = np.nan
    out[after & (grid - t[-1] > end_tolerance)] = np.nan
    if max_gap is not None and t.size > 1:
        pos = np.searchsorted(t, grid, side="left")
        inside = (pos > 0) & (pos < t.size)
        exact = inside & (t[np.minimum(pos, t.size - 1)] == grid)
        gap = np.zeros(grid.size, dtype=bool)
        idx = np.flatnonzero(inside & ~exact)
        gap[idx] = (t[pos[idx]] - t[pos[idx] - 1]) > max_gap
        out[gap] = np.nan
    return out


def align_trajectories(
    trajectories: pd.DataFrame,
    *,
    grid: int | ArrayLike = 50,
    parameters: Sequence[str] | None = None,
    end_tolerance: float | None = None,
    max_gap: float | None = None,
) -> AlignedTrajectories:
    """Align long-format trajectories onto a common time grid (linear interpolation).

    Parameters
    ----------
    trajectories
        Long frame with columns ``batch, parameter, time, value`` (time in hours since
        the start of the process step; irregular sampling allowed; NaN values are
        readings not made).
    grid
        The grid times (hours), or a number K of points spaced evenly over the
        interval that every batch in ``trajectories`` covers for every parameter
        (from the latest first reading to the earliest last reading).
    parameters
        The parameters, in order; others are refused. Default: all, in order of
        first appearance.
    end_tolerance
        Hours an end value is held before the first or after the last observation.
        Default: half the median grid spacing.
    max_gap
        Longest gap (hours) between consecutive observations that is bridged by
        interpolation; grid points inside longer gaps are missing. Default: no limit.

    Returns
    -------
    AlignedTrajectories
        The I x J x K array with its batches, parameters and grid.

    References
    ----------
    .. [1] Nomikos P, MacGregor JF (1994). Monitoring batch processes using multiway
       principal component analysis. AIChE J 40:1361-1375.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"batch": "B1", "parameter": "pH",
    ...                    "time": [0.0, 1.5, 4.0], "value": [7.0, 7.3, 6.8]})
    >>> align_trajectories(df, grid=[0, 1, 2, 3, 4]).data.round(2).tolist()
    [[[7.0, 7.2, 7.2, 7.0, 6.8]]]
    """
    df = validate_long(trajectories, parameters=parameters)
    if max_gap is not None and not (np.isfinite(max_gap) and max_gap > 0):
        msg = f"max_gap must be a positive number of hours, got {max_gap!r}"
        raise InvalidInputError(msg, field="max_gap")
    if isinstance(grid, int | np.integer):
        if grid < 2:
            msg = f"a grid needs at least two points, got {grid}"
            raise InvalidInputError(msg, field="grid")
        start, stop = _common_interval(df)
        if not stop > start:
            msg = (
                f"the batches share no common time interval (latest start {start:g} h, "
                f"earliest end {stop:g} h); give the grid times explicitly"
            )
            raise InvalidInputError(msg, field="grid")
        g = np.linspace(start, stop, int(grid))
    else:
        g = check_grid(grid)
    tol = default_end_tolerance(g) if end_tolerance is None else float(end_tolerance)
    if not (np.isfinite(tol) and tol >= 0):
        msg = f"end_tolerance must be a number of hours >= 0, got {end_tolerance!r}"
        raise InvalidInputError(msg, field="end_tolerance")

    params = tuple(parameters) if parameters is not None else tuple(pd.unique(df["parameter"]))
    batches = tuple(pd.unique(df["batch"]))
    b_index = {b: i for i, b in enumerate(batches)}
    p_index = {p: j for j, p in enumerate(params)}
    data = np.full((len(batches), len(params), g.size), np.nan)
    ends = np.full((len(batches), len(params)), np.inf)
    observed = df.dropna(subset=["value"]).sort_values("time", kind="stable")
    for (batch, param), series in observed.groupby(["batch", "parameter"], sort=False):
        t = series["time"].to_numpy(dtype=float)
        v = series["value"].to_numpy(dtype=float)
        i, j = b_index[batch], p_index[str(param)]
        data[i, j] = _interpolate(t, v, g, end_tolerance=tol, max_gap=max_gap)
        ends[i, j] = t[-1]
    data_end = ends.min(axis=1)
    n_elapsed = np.searchsorted(g, data_end + tol, side="right").astype(np.int64)
    return AlignedTrajectories(
        data=data,
        batches=batches,
        parameters=params,
        grid=g,
        n_elapsed=n_elapsed,
        end_tolerance=tol,
        max_gap=None if max_gap is None else float(max_gap),
    )

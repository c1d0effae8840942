"""Online monitoring of a running batch: trajectory completion, statistics, contributions."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ...errors import InvalidInputError
from ._align import AlignedTrajectories
from ._state import FittedState

__all__ = ["complete", "contribution_cells", "elapsed", "monitor_statistics"]


def monitor_statistics(
    s: FittedState, z: NDArray[np.float64], n_e: int, *, method: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """T² and instantaneous SPE at each of the first ``n_e`` grid times."""
    if method == "projection":
        return _projection(s, z, n_e)
    n_par, n_times = len(s.parameters), s.grid.size
    completed = complete(z, n_e, n_par=n_par, n_times=n_times, method=method)
    scores = completed @ s.loadings.T
    t2 = np.sum(scores**2 / s.score_variances, axis=1)
    resid = (completed - scores @ s.loadings).reshape(n_e, n_times, n_par)
    spe = np.sum(resid[np.arange(n_e), np.arange(n_e)] ** 2, axis=1)
    return t2, spe


def contribution_cells(
    s: FittedState, z: NDArray[np.float64], n_e: int, *, statistic: Literal["SPE", "T2"]
) -> NDArray[np.float64]:
    """Contributions (n_e x J) of a completed scaled vector to its SPE or T²."""
    n_par, n_times = len(s.parameters), s.grid.size
    scores = z @ s.loadings.T
    if statistic == "SPE":
        c = (z - scores @ s.loadings) ** 2
    else:
        c = ((scores / s.score_variances) @ s.loadings) * z
    cells = c.reshape(n_times, n_par)
    if n_e < n_times and statistic == "T2":
        cells[n_e - 1] += cells[n_e:].sum(axis=0)
    return np.asarray(cells[:n_e], dtype=float)


def elapsed(aligned: AlignedTrajectories) -> int:
    n_e = int(aligned.n_elapsed[0])
    if n_e == 0:
        msg = (
            f"batch {aligned.batches[0]!r} has not reached the first grid time "
            f"{aligned.grid[0]:g} h for every parameter"
        )
        raise InvalidInputError(msg, field="time")
    return n_e


def complete(
    z: NDArray[np.float64], n_e: int, *, n_par: int, n_times: int, method: str
) -> NDArray[np.float64]:
    """Completed scaled vectors, one row per elapsed time k (future filled by method)."""
    if np.isnan(z[: n_e * n_par]).any():
        msg = (
            "the batch has gaps (missing grid points) before its current time; "
            "use method='projection', which treats them as missing data"
        )
        raise InvalidInputError(msg, field="method")
    blocks = np.nan_to_num(z.reshape(n_times, n_par), nan=0.0)
    out = np.zeros((n_e, n_times, n_par))
    for k in range(n_e):
        out[k, : k + 1] = blocks[: k + 1]
        if method == "current":
            out[k, k + 1 :] = blocks[k]
    return out.reshape(n_e, n_times * n_par)


def _projection(
    s: FittedState, z: NDArray[np.float64], n_e: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n_par = len(s.parameters)
    t2 = np.empty(n_e)
    spe = np.empty(n_e)
    for k in range(n_e):
        known = z[: (k + 1) * n_par]
        mask = ~np.isnan(known)
        p_known = s.loadings[:, : (k + 1) * n_par][:, mask]
        t = np.linalg.lstsq(p_known.T, known[mask], rcond=None)[0]
        t2[k] = float(np.sum(t**2 / s.score_variances))
        block = slice(k * n_par, (k + 1) * n_par)
        e = z[block] - t @ s.loadings[:, block]
        spe[k] = float(np.nansum(e**2)) if np.any(~np.isnan(e)) else np.nan
    return t2, spe

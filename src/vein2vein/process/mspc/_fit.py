"""Fitting a batch MSPC model: autoscaling, PCA, reference statistics and limits."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.decomposition import PCA  # type: ignore[import-untyped]

from ...errors import InvalidInputError
from ._align import AlignedTrajectories
from ._state import FittedState, compute_limits, new_versions

__all__ = ["fit_state", "require_complete"]

SpeReference = Literal["leave-one-out", "in-sample"]
_ZERO_SD = 1e-10  # relative: an SD below this times max(1, |mean|) counts as zero


def fit_state(
    aligned: AlignedTrajectories,
    *,
    n_components: int | None,
    variance_threshold: float,
    spe_reference: SpeReference,
    spe_window: int,
) -> FittedState:
    """Autoscale the unfolded reference batches, fit PCA, compute statistics and limits."""
    require_complete(aligned, role="reference")
    n_ref = len(aligned.batches)
    if n_ref < 3:
        msg = f"at least 3 reference batches are needed, got {n_ref}"
        raise InvalidInputError(msg, field="reference_batches")
    n_times, n_par = aligned.grid.size, len(aligned.parameters)
    x = aligned.unfold()
    mean = x.mean(axis=0)
    sd = x.std(axis=0, ddof=1)
    zero = sd <= _ZERO_SD * np.maximum(1.0, np.abs(mean))
    sd = _guard_sd(sd, zero, n_params=n_par)
    z = (x - mean) / sd

    pca = PCA(svd_solver="full").fit(z)
    eigenvalues = np.clip(np.asarray(pca.explained_variance_, dtype=float), 0.0, None)
    ratio = np.asarray(pca.explained_variance_ratio_, dtype=float)
    a, selection, threshold = _choose_components(
        n_components, variance_threshold, ratio, n_batches=n_ref
    )
    loadings = np.asarray(pca.components_[:a], dtype=float)
    score_var = eigenvalues[:a]
    scores = z @ loadings.T
    t2 = np.sum(scores**2 / score_var, axis=1)
    if spe_reference == "leave-one-out":
        resid = _loo_residuals(x, a, n_params=n_par)
    else:
        resid = z - scores @ loadings
    spe = np.sum(resid**2, axis=1)
    spe_time_mean, spe_time_var = _pooled_moments(
        (resid**2).reshape(n_ref, n_times, n_par).sum(axis=2), window=spe_window
    )
    limits, time_limits = compute_limits(
        n_batches=n_ref,
        n_components=a,
        eigenvalues=eigenvalues,
        reference_spe=spe,
        spe_time_mean=spe_time_mean,
        spe_time_var=spe_time_var,
    )
    return FittedState(
        parameters=aligned.parameters,
        grid=aligned.grid,
        end_tolerance=aligned.end_tolerance,
        max_gap=aligned.max_gap,
        reference_batches=aligned.batches,
        mean=mean,
        sd=sd,
        zero_variance=zero,
        n_components=a,
        component_selection=selection,
        variance_threshold=threshold,
        spe_reference=spe_reference,
        spe_window=spe_window,
        loadings=loadings,
        score_variances=score_var,
        eigenvalues=eigenvalues,
        reference_scores=scores,
        reference_t2=t2,
        reference_spe=spe,
        spe_time_mean=spe_time_mean,
        spe_time_var=spe_time_var,
        limits=limits,
        spe_time_limits=time_limits,
        versions=new_versions(),
    )


def require_complete(aligned: AlignedTrajectories, *, role: str) -> None:
    for b, ok, n_e in zip(aligned.batches, aligned.complete, aligned.n_elapsed, strict=True):
        if ok:
            continue
        if n_e < aligned.grid.size:
            end = f"its data end before {aligned.grid[n_e]:g} h"
        else:
            end = "it has gaps (missing grid points)"
        msg = (
            f"batch {b!r} does not cover the grid {aligned.grid[0]:g}-{aligned.grid[-1]:g} h "
            f"({end}); {role} batches must be complete - monitor a running batch with monitor()"
        )
        raise InvalidInputError(msg, field="time")


def _guard_sd(
    sd: NDArray[np.float64], zero: NDArray[np.bool_], *, n_params: int
) -> NDArray[np.float64]:
    """Replace zero SDs by the parameter's median non-zero SD over time (else 1)."""
    if not zero.any():
        return sd
    out = sd.copy()
    by_param = sd.reshape(-1, n_params)
    zero_by_param = zero.reshape(-1, n_params)
    for j in range(n_params):
        ok = by_param[~zero_by_param[:, j], j]
        fill = float(np.median(ok)) if ok.size else 1.0
        out.reshape(-1, n_params)[zero_by_param[:, j], j] = fill
    return out


def _pooled_moments(
    spe_time: NDArray[np.float64], *, window: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and variance (ddof=1) of the SPE values at times k - window ... k + window."""
    n_times = spe_time.shape[1]
    mean = np.empty(n_times)
    var = np.empty(n_times)
    for k in range(n_times):
        pooled = spe_time[:, max(0, k - window) : k + window + 1].ravel()
        mean[k] = pooled.mean()
        var[k] = pooled.var(ddof=1)
    return mean, var


def _loo_residuals(
    x: NDArray[np.float64], n_components: int, *, n_params: int
) -> NDArray[np.float64]:
    """Scaled residuals of each row from the model (scaling + PCA) fitted without it."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        rest = np.delete(x, i, axis=0)
        mean = rest.mean(axis=0)
        sd = rest.std(axis=0, ddof=1)
        zero = sd <= _ZERO_SD * np.maximum(1.0, np.abs(mean))
        sd = _guard_sd(sd, zero, n_params=n_params)
        vt = np.linalg.svd((rest - mean) / sd, full_matrices=False)[2]
        p = vt[:n_components]
        zi = (x[i] - mean) / sd
        out[i] = zi - (zi @ p.T) @ p
    return out


def _choose_components(
    n_components: int | None,
    variance_threshold: float,
    ratio: NDArray[np.float64],
    *,
    n_batches: int,
) -> tuple[int, str, float | None]:
    max_a = n_batches - 2
    if n_components is not None:
        if isinstance(n_components, bool) or not isinstance(n_components, int | np.integer):
            msg = f"n_components must be an integer, got {n_components!r}"
            raise InvalidInputError(msg, field="n_components")
        if not 1 <= n_components <= max_a:
            msg = (
                f"n_components must lie between 1 and I - 2 = {max_a} "
                f"({n_batches} reference batches), got {n_components}"
            )
            raise InvalidInputError(msg, field="n_components")
        return int(n_components), "explicit", None
    if not 0.0 < variance_threshold <= 1.0:
        msg = f"variance_threshold must lie in (0, 1], got {variance_threshold!r}"
        raise InvalidInputError(msg, field="variance_threshold")
    cumulative = np.cumsum(ratio)
    a = int(np.searchsorted(cumulative, variance_threshold - 1e-12, side="left")) + 1
    selection = f"cumulative explained variance >= {variance_threshold:g}"
    if a > max_a:
        a = max_a
        selection += f" (capped at I - 2 = {max_a})"
    return a, selection, float(variance_threshold)

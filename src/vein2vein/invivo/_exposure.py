"""Predicted exposure (Cmax, AUC0-28) per dose level from a fit or from many patients."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..clinical import nca
from ..errors import InvalidInputError
from ._kinetics import InvivoKineticParameters, _nonneg, invivo_curve
from ._kinetics_fit import InvivoFit, _params

__all__ = ["population_exposure", "predicted_exposure"]

_GRID = np.linspace(0.0, 28.0, 113)


def _exposure(dose: float, params: InvivoKineticParameters, titre: float) -> tuple[float, float]:
    curve = invivo_curve(_GRID, dose=dose, params=params, titre=titre)
    if not np.any(curve > 0):
        return 0.0, 0.0
    result = nca(_GRID, curve, unit="cells/uL")
    return float(result.cmax or 0.0), float(result.auc_lin_log or 0.0)


def predicted_exposure(
    doses: Sequence[float],
    model: InvivoKineticParameters | InvivoFit,
    *,
    titre: float = 0.0,
    n_draws: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Predicted Cmax and AUC0-28 per dose level, with a band from parameter uncertainty.

    Parameters
    ----------
    doses
        Dose levels (>= 0), in the unit of the model's efficiency.
    model
        Parameters (no band) or a fit, whose ``cov_theta`` gives the band: ``n_draws``
        parameter sets are drawn from the normal approximation ``N(theta, cov_theta)``
        and the exposure quantiles at ``(1 -+ level) / 2`` reported.
    titre
        Neutralizing anti-vector titre assumed at dosing.
    n_draws
        Monte Carlo draws for the band (>= 20).
    level
        Coverage of the band, between 0 and 1.
    seed
        Seed of the draws.

    Returns
    -------
    pandas.DataFrame
        ``dose, cmax, cmax_low, cmax_high, auc0_28, auc_low, auc_high``; Cmax and the
        linear-up/log-down AUC0-28 from :func:`vein2vein.clinical.nca` on the model
        curve every 0.25 day. Bands are NaN without a fit (or with a singular one).

    References
    ----------
    .. [1] Stein AM, et al. *CPT Pharmacometrics Syst Pharmacol* 2019;8:285-295.
    """
    if not 0 < level < 1:
        reason = f"must be between 0 and 1, got {level!r}"
        raise InvalidInputError(reason, field="level")
    if n_draws < 20:
        reason = f"needs at least 20 draws for a band, got {n_draws}"
        raise InvalidInputError(reason, field="n_draws")
    levels = [_nonneg(d, "doses") for d in doses]
    if not levels:
        reason = "no dose levels given"
        raise InvalidInputError(reason, field="doses")
    params = model.params if isinstance(model, InvivoFit) else model
    draws: list[InvivoKineticParameters] = []
    if isinstance(model, InvivoFit) and np.all(np.isfinite(model.cov_theta)):
        rng = np.random.default_rng(seed)
        thetas = rng.multivariate_normal(model.theta, model.cov_theta, size=n_draws)
        for th in thetas:
            try:
                draws.append(_params(th, model.params))
            except InvalidInputError:  # a draw with alpha <= beta is not a model
                continue
    q = ((1 - level) / 2, (1 + level) / 2)
    rows = []
    for d in levels:
        cmax, auc = _exposure(d, params, titre)
        row = {"dose": d, "cmax": cmax, "auc0_28": auc}
        if draws:
            sims = np.array([_exposure(d, p, titre) for p in draws])
            lo, hi = np.quantile(sims, q, axis=0)
            row |= {"cmax_low": lo[0], "cmax_high": hi[0], "auc_low": lo[1], "auc_high": hi[1]}
        rows.append(row)
    columns = ["dose", "cmax", "cmax_low", "cmax_high", "auc0_28", "auc_low", "auc_high"]
    return pd.DataFrame(rows).reindex(columns=columns)


def population_exposure(
    doses: Sequence[float],
    fits: Sequence[InvivoFit],
    *,
    titre: float | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Predicted Cmax and AUC0-28 per dose level across the fitted patients.

    Each patient's fitted parameters predict the exposure at every dose level; the
    table gives the median across patients and the ``(1 -+ level) / 2`` quantiles
    (linear interpolation) as the band: the spread a new patient may expect, from
    between-patient variation, not from estimation error alone.

    Parameters
    ----------
    doses
        Dose levels (>= 0), in the unit of the fits' efficiency.
    fits
        Per-patient fits (:func:`fit_invivo`); at least 2 for a band.
    titre
        Neutralizing titre assumed at dosing; None: each patient's own.
    level
        Coverage of the band, between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        ``dose, cmax, cmax_low, cmax_high, auc0_28, auc_low, auc_high, n_patients``;
        Cmax and AUC0-28 as in :func:`predicted_exposure`. Bands are NaN with one fit.

    References
    ----------
    .. [1] Stein AM, et al. *CPT Pharmacometrics Syst Pharmacol* 2019;8:285-295.
    .. [2] Hyndman RJ, Fan Y. Sample quantiles in statistical packages. *Am Stat*
       1996;50:361-365 (definition 7, numpy's default).
    """
    if not 0 < level < 1:
        reason = f"must be between 0 and 1, got {level!r}"
        raise InvalidInputError(reason, field="level")
    levels = [_nonneg(d, "doses") for d in doses]
    if not levels:
        reason = "no dose levels given"
        raise InvalidInputError(reason, field="doses")
    if not fits:
        reason = "no patient fits given"
        raise InvalidInputError(reason, field="fits")
    q = ((1 - level) / 2, 0.5, (1 + level) / 2)
    rows = []
    for d in levels:
        sims = np.array([_exposure(d, f.params, f.titre if titre is None else titre) for f in fits])
        lo, mid, hi = np.quantile(sims, q, axis=0)
        row = {"dose": d, "cmax": mid[0], "auc0_28": mid[1], "n_patients": len(fits)}
        if len(fits) >= 2:
            row |= {"cmax_low": lo[0], "cmax_high": hi[0], "auc_low": lo[1], "auc_high": hi[1]}
        rows.append(row)
    columns = ["dose", "cmax", "cmax_low", "cmax_high", "auc0_28", "auc_low", "auc_high"]
    return pd.DataFrame(rows).reindex(columns=[*columns, "n_patients"])

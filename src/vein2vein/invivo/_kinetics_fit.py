"""Fitting the dose-to-CAR+ model to one patient, and the predicted exposure per dose."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import optimize  # type: ignore[import-untyped]

from ..errors import InvalidInputError
from ._kinetics import FloatArray, InvivoKineticParameters, _nonneg, invivo_curve

__all__ = ["FIT_NAMES", "InvivoFit", "fit_invivo"]

FIT_NAMES: Final = (
    "log_efficiency",
    "log_t_express",
    "log_rho",
    "log_tmax",
    "log_alpha",
    "logit_fb",
    "log_beta",
)
"""The estimation scale of :func:`fit_invivo`; the other parameters stay as given."""

_N: Final = len(FIT_NAMES)
# alpha is the fast contraction and beta the slow decline: the search keeps them apart
# at 0.02/day (half-life 35 days), which also fixes which is which.
_LOWER: Final = np.array(
    [-60.0, math.log(0.01), math.log(1e-3), math.log(0.5), math.log(0.02), -15.0, math.log(1e-6)]
)
_UPPER: Final = np.array(
    [30.0, math.log(30.0), math.log(5.0), math.log(60.0), math.log(5.0), 5.0, math.log(0.019)]
)
_GRID: Final = np.linspace(0.0, 28.0, 113)
_MAX_NFEV: Final = 2000  # a cap; typical fits converge in 50-300 evaluations


def _theta(p: InvivoKineticParameters) -> FloatArray:
    return np.array(
        [
            math.log(p.efficiency),
            math.log(p.t_express),
            math.log(p.rho),
            math.log(p.tmax),
            math.log(p.alpha),
            math.log(p.fb / (1 - p.fb)),
            math.log(p.beta),
        ]
    )


def _params(theta: FloatArray, base: InvivoKineticParameters) -> InvivoKineticParameters:
    e = np.exp(theta)
    return replace(
        base,
        efficiency=float(e[0]),
        t_express=float(e[1]),
        rho=float(e[2]),
        tmax=float(e[3]),
        alpha=float(e[4]),
        fb=float(1 / (1 + math.exp(-theta[5]))),
        beta=float(e[6]),
    )


@dataclass(frozen=True, eq=False)
class InvivoFit:
    """A log-scale least-squares fit of the dose-to-CAR+ model to one patient.

    Attributes
    ----------
    params
        The estimates (with the fixed parameters as given).
    theta
        Estimates on the scale of :data:`FIT_NAMES`.
    cov_theta
        ``s^2 (J^T J)^-1`` on that scale (NaN when singular).
    se
        Standard errors on the natural scale (delta method), by parameter name.
    residual_sd
        Residual SD of the natural-log levels, ``n_used - 7`` degrees of freedom.
    n_used, n_omitted_blq, dof
        Samples fitted, BLQ samples left out, residual degrees of freedom.
    dose, titre
        The patient's dose and neutralizing titre.
    converged, message
        The optimizer's report.
    notes
        Caveats in words.
    """

    params: InvivoKineticParameters
    theta: FloatArray
    cov_theta: FloatArray
    se: dict[str, float]
    residual_sd: float
    n_used: int
    n_omitted_blq: int
    dof: int
    dose: float
    titre: float
    converged: bool
    message: str
    notes: tuple[str, ...]

    def predict(self, t: npt.ArrayLike, *, dose: float | None = None) -> FloatArray:
        """CAR+ level at days ``t`` (at the patient's dose, or at ``dose``)."""
        d = self.dose if dose is None else dose
        return invivo_curve(t, dose=d, params=self.params, titre=self.titre)

    def to_dict(self) -> dict[str, Any]:
        """Estimates, SEs and fit statistics as JSON-ready values."""
        return {
            "params": self.params.to_dict(),
            "se": {k: (v if math.isfinite(v) else None) for k, v in self.se.items()},
            "residual_sd": self.residual_sd,
            "n_used": self.n_used,
            "n_omitted_blq": self.n_omitted_blq,
            "dof": self.dof,
            "dose": self.dose,
            "titre": self.titre,
            "converged": self.converged,
            "notes": list(self.notes),
        }


def _inverse_or_nan(matrix: FloatArray) -> FloatArray:
    nan = np.full(matrix.shape, np.nan)
    if not np.all(np.isfinite(matrix)) or np.linalg.cond(matrix) > 1e12:
        return nan
    inverse = np.asarray(np.linalg.inv(matrix), dtype=np.float64)
    return nan if np.any(np.diag(inverse) <= 0) else inverse


def _observations(
    days: npt.ArrayLike, levels: npt.ArrayLike, lloq: float | None
) -> tuple[FloatArray, FloatArray, int]:
    t = np.asarray(days, dtype=np.float64).reshape(-1)
    c = np.asarray(levels, dtype=np.float64).reshape(-1)
    if t.size != c.size:
        reason = f"has {c.size} values but days has {t.size}"
        raise InvalidInputError(reason, field="levels")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(c))) or np.any(t < 0) or np.any(c < 0):
        reason = "days and levels must be finite numbers >= 0"
        raise InvalidInputError(reason, field="levels")
    use = c > 0 if lloq is None else c >= _nonneg(lloq, "lloq")
    n = int(use.sum())
    if n <= _N:
        reason = f"needs at least {_N + 1} quantifiable samples to fit {_N} parameters; got {n}"
        raise InvalidInputError(reason, field="levels")
    return t[use], np.log(c[use]), int(t.size - n)


def fit_invivo(
    days: npt.ArrayLike,
    levels: npt.ArrayLike,
    *,
    dose: float,
    start: InvivoKineticParameters,
    titre: float = 0.0,
    lloq: float | None = None,
) -> InvivoFit:
    """Fit the dose-to-CAR+ model to one patient's CAR+ levels (log-scale least squares).

    Parameters
    ----------
    days
        Days after dosing of the samples (>= 0).
    levels
        CAR+ cells/uL (or the unit ``start.efficiency`` refers to), >= 0.
    dose
        The patient's dose (> 0).
    start
        Starting values; its vector PK (``k_el``, ``k_up``), ``k_loss``,
        ``ic50_titre`` and ``target_cells`` are held fixed: a blood CAR+ profile
        does not identify them.
    titre
        The patient's neutralizing anti-vector titre at dosing.
    lloq
        Samples below it (and levels ``<= 0``) are left out (Beal's method M1).

    Returns
    -------
    InvivoFit
        Estimates of :data:`FIT_NAMES` with standard errors from the Jacobian.

    Notes
    -----
    Minimises ``sum (ln C_obs - ln C(t; theta))^2`` with
    :func:`scipy.optimize.least_squares` (trust region reflective, bounds keep the
    fast contraction ``alpha >= 0.02/day`` and the slow decline ``beta < 0.019/day``),
    from ``start`` and from ``start`` rescaled to the observed peak (at most 2000
    evaluations each). Without a target-cell limit the model curve is evaluated in
    closed form (sums of exponentials), so a fit takes a few hundredths of a second. The
    covariance is
    ``s^2 (J^T J)^-1`` with J the Jacobian at the solution (Bates & Watts 1988); SEs on
    the natural scale by the delta method. The model is ours (see
    :mod:`vein2vein.invivo._kinetics`).

    References
    ----------
    .. [1] Stein AM, et al. *CPT Pharmacometrics Syst Pharmacol* 2019;8:285-295.
    .. [2] Bates DM, Watts DG. *Nonlinear Regression Analysis and Its Applications*.
       Wiley; 1988.
    .. [3] Beal SL. *J Pharmacokinet Pharmacodyn* 2001;28:481-504.
    """
    d = _nonneg(dose, "dose")
    if d == 0:
        reason = "a patient given no dose has no CAR+ kinetics to fit"
        raise InvalidInputError(reason, field="dose")
    t, logc, omitted = _observations(days, levels, lloq)

    def residuals(theta: FloatArray) -> FloatArray:
        c = invivo_curve(t, dose=d, params=_params(theta, start), titre=titre)
        out: FloatArray = np.log(np.maximum(c, 1e-300)) - logc
        return out

    starts = [_theta(start)]
    model_peak = float(np.max(invivo_curve(_GRID, dose=d, params=start, titre=titre)))
    if model_peak > 0:
        rescaled = _theta(start)
        rescaled[0] += float(np.max(logc)) - math.log(model_peak)
        starts.append(rescaled)
    best: Any = None
    for x0 in starts:
        res = optimize.least_squares(
            residuals,
            np.clip(x0, _LOWER + 1e-6, _UPPER - 1e-6),
            bounds=(_LOWER, _UPPER),
            method="trf",
            x_scale="jac",
            diff_step=None if start.target_cells is None else 1e-5,
            max_nfev=_MAX_NFEV,
        )
        if best is None or res.cost < best.cost:
            best = res
    theta = np.asarray(best.x, dtype=np.float64)
    resid = residuals(theta)
    dof = int(t.size - _N)
    s2 = float(resid @ resid) / dof
    jac = np.asarray(best.jac, dtype=np.float64)
    cov = s2 * _inverse_or_nan(jac.T @ jac)
    params = _params(theta, start)
    grad = np.exp(theta)
    grad[5] = params.fb * (1 - params.fb)
    se_diag = np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))
    names = ("efficiency", "t_express", "rho", "tmax", "alpha", "fb", "beta")
    notes: list[str] = []
    edge = [n for n, x, lo, hi in zip(FIT_NAMES, theta, _LOWER, _UPPER, strict=True)
            if min(x - lo, hi - x) < 1e-6 * max(1.0, abs(x))]  # fmt: skip
    if edge:
        notes.append(f"estimate at the edge of the search range for {', '.join(edge)}")
    if not np.any(t < params.tmax):
        notes.append("no quantifiable sample before the peak: expansion is not identifiable")
    if not np.all(np.isfinite(se_diag)):
        notes.append("the Jacobian is singular at the solution: some SEs are undefined")
    return InvivoFit(
        params=params,
        theta=theta,
        cov_theta=cov,
        se=dict(zip(names, map(float, grad * se_diag), strict=True)),
        residual_sd=math.sqrt(s2),
        n_used=int(t.size),
        n_omitted_blq=omitted,
        dof=dof,
        dose=d,
        titre=_nonneg(titre, "titre"),
        converged=bool(best.success),
        message=str(best.message),
        notes=tuple(notes),
    )

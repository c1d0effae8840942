"""The Stein et al. (2019) expansion/contraction model of CAR-T cellular kinetics.

Stein et al. describe tisagenlecleucel transgene levels in blood after infusion by
exponential expansion up to a time Tmax followed by a bi-exponential decline: a fast
contraction of effector cells (rate alpha) and a slow decline of a memory-like fraction
FB (rate beta). With C(t) the level (qPCR copies/µg genomic DNA) at t days after
infusion, the analytic solution is::

    C(t) = Cmax / foldx * exp(rho * t)                                  t <  Tmax
    C(t) = Cmax * ((1 - FB) * exp(-alpha (t - Tmax)) + FB * exp(-beta (t - Tmax)))
                                                                         t >= Tmax
    rho  = ln(foldx) / Tmax

It is the solution of the compartments of the paper's Figure 2 after Tmax,
dE/dt = -alpha E, dM/dt = k E - beta M with k = FB (alpha - beta), started at
E(Tmax) = Cmax, M(Tmax) = 0 (checked against a numerical ODE solution in the tests).

Source of the equations and numbers, and what could not be read
---------------------------------------------------------------
The article itself (open access, doi:10.1002/psp4.12388) was not readable through the
search tools available when this module was written. The equations, the
parameterization (Cmax, Tmax, foldx, alpha, FB, beta, all log-normal in the paper) and
the Table 1 typical values used in :data:`TYPICAL_PATIENT` were read from the
nlmixr2lib encoding of the model (``inst/modeldb/specificDrugs/
Stein_2019_Tisagenlecleucel.R`` and its vignette, which cite Table 1, Figure 2 and the
supplement's "Analytical solution for the compartmental model" line by line) and
agree with an independent second-hand transcription of Table 1. The paper's reported
doubling time (0.78 d), initial-decline half-life (4.3 d) and terminal half-life
(220 d) are quoted verbatim from the article's text by both sources. **Not read, and
therefore not used:** the standard errors / RSEs of Table 1 and the exact form of the
comedication effects (Ftoci = 1.2, Fster = 1.0 on the expansion rate), which are not
implemented.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats  # type: ignore[import-untyped]

from vein2vein.errors import InvalidInputError

from ._nca import FloatArray, as_float_vector, check_lloq, check_times

__all__ = [
    "PARAMETER_NAMES",
    "THETA_NAMES",
    "TYPICAL_PATIENT",
    "SteinFit",
    "SteinParameters",
    "fit_stein",
    "stein_curve",
]

PARAMETER_NAMES: tuple[str, ...] = ("cmax", "tmax", "fold_expansion", "alpha", "fb", "beta")
"""The six parameters, in the order of :data:`THETA_NAMES`."""

THETA_NAMES: tuple[str, ...] = (
    "log_cmax",
    "log_tmax",
    "log_fold_expansion",
    "log_alpha",
    "logit_fb",
    "log_beta",
)
"""The unconstrained scale on which :func:`fit_stein` estimates (natural logs, logit)."""

_N_PARAMS = len(PARAMETER_NAMES)


@dataclass(frozen=True)
class SteinParameters:
    """Parameters of the Stein (2019) expansion/bi-exponential contraction model.

    Attributes
    ----------
    cmax
        Peak level at Tmax, in the unit of the data (copies/µg genomic DNA in the paper).
    tmax
        Day of the peak (days after infusion).
    fold_expansion
        ``Cmax / C(0)``: fold expansion from the level just after infusion
        (dimensionless, > 0; > 1 means expansion).
    alpha
        Rate of the fast (effector) contraction after Tmax, 1/day.
    fb
        Fraction of the peak in the slowly declining component, 0 < FB < 1.
    beta
        Rate of the slow (memory-like, persistence) decline after Tmax, 1/day.

    Notes
    -----
    Derived quantities: expansion rate ``rho = ln(fold_expansion) / tmax`` (1/day),
    level after infusion ``c0 = cmax / fold_expansion``, doubling time ``ln 2 / rho``,
    half-lives ``ln 2 / alpha`` and ``ln 2 / beta`` (days).
    """

    cmax: float
    tmax: float
    fold_expansion: float
    alpha: float
    fb: float
    beta: float

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                reason = f"must be a positive finite number, got {value!r}"
                raise InvalidInputError(reason, field=f.name)
            object.__setattr__(self, f.name, float(value))
        if not self.fb < 1:
            reason = f"is a fraction and must be below 1, got {self.fb!r}"
            raise InvalidInputError(reason, field="fb")

    @property
    def rho(self) -> float:
        """Expansion rate ``ln(fold_expansion) / tmax``, 1/day."""
        return math.log(self.fold_expansion) / self.tmax

    @property
    def c0(self) -> float:
        """Level just after infusion, ``cmax / fold_expansion``."""
        return self.cmax / self.fold_expansion

    @property
    def doubling_time(self) -> float:
        """Doubling time of the expansion phase, ``ln 2 / rho``, days."""
        return math.log(2) / self.rho

    @property
    def half_life_alpha(self) -> float:
        """Half-life of the fast contraction, ``ln 2 / alpha``, days."""
        return math.log(2) / self.alpha

    @property
    def half_life_beta(self) -> float:
        """Half-life of the slow (persistence) decline, ``ln 2 / beta``, days."""
        return math.log(2) / self.beta

    def to_dict(self) -> dict[str, float]:
        """Parameters and derived quantities (rho, c0, doubling time, half-lives)."""
        out = {f.name: float(getattr(self, f.name)) for f in fields(self)}
        for name in ("rho", "c0", "doubling_time", "half_life_alpha", "half_life_beta"):
            out[name] = float(getattr(self, name))
        return out

    def to_theta(self) -> FloatArray:
        """The parameters on the estimation scale of :data:`THETA_NAMES`."""
        return np.array(
            [
                math.log(self.cmax),
                math.log(self.tmax),
                math.log(self.fold_expansion),
                math.log(self.alpha),
                math.log(self.fb / (1.0 - self.fb)),
                math.log(self.beta),
            ]
        )

    @classmethod
    def from_theta(cls, theta: npt.ArrayLike) -> SteinParameters:
        """Parameters from the estimation scale of :data:`THETA_NAMES`."""
        th = np.asarray(theta, dtype=np.float64)
        if th.shape != (_N_PARAMS,):
            reason = f"must have {_N_PARAMS} values {THETA_NAMES}, got shape {th.shape}"
            raise InvalidInputError(reason, field="theta")
        return cls(
            cmax=math.exp(th[0]),
            tmax=math.exp(th[1]),
            fold_expansion=math.exp(th[2]),
            alpha=math.exp(th[3]),
            fb=1.0 / (1.0 + math.exp(-th[4])),
            beta=math.exp(th[5]),
        )


TYPICAL_PATIENT = SteinParameters(
    cmax=24000.0,  # copies/ug genomic DNA
    tmax=9.3,  # days
    fold_expansion=3900.0,
    alpha=0.16,  # 1/day
    fb=0.0079,
    beta=0.0032,  # 1/day
)
"""Typical-patient (fixed-effect) values of Stein et al. (2019), Table 1.

Pediatric and young adult r/r B-ALL, 90 patients of ELIANA and ENSIGN; qPCR
transgene copies/µg genomic DNA. Read through nlmixr2lib's line-by-line transcription
of Table 1 (the article was not readable here; see the module docstring). Gives
rho = 0.889/day, doubling time 0.78 days, half-lives 4.3 and 217 days (paper: 220).
"""


def _log_curve(t: FloatArray, theta: FloatArray) -> FloatArray:
    """Natural log of the model level at days ``t`` for estimation-scale ``theta``."""
    a, b, log_fold, d, e, f = theta
    tmax = math.exp(b)
    alpha, beta = math.exp(d), math.exp(f)
    log_fb = -np.logaddexp(0.0, -e)  # log(expit(e))
    log_1mfb = -np.logaddexp(0.0, e)  # log(1 - expit(e))
    s = t - tmax
    up = a + log_fold * (t / tmax - 1.0)
    down = a + np.logaddexp(log_1mfb - alpha * s, log_fb - beta * s)
    out: FloatArray = np.where(t < tmax, up, down)
    return out


def _log_curve_jacobian(t: FloatArray, theta: FloatArray) -> FloatArray:
    """Analytic derivatives of :func:`_log_curve` with respect to ``theta``."""
    _, b, log_fold, d, e, f = theta
    tmax = math.exp(b)
    alpha, beta = math.exp(d), math.exp(f)
    fb = 1.0 / (1.0 + math.exp(-e))
    log_fb = -np.logaddexp(0.0, -e)
    log_1mfb = -np.logaddexp(0.0, e)
    s = t - tmax
    lu = log_1mfb - alpha * s
    lv = log_fb - beta * s
    ls = np.logaddexp(lu, lv)
    wu, wv = np.exp(lu - ls), np.exp(lv - ls)  # shares of the fast and slow components
    before = t < tmax
    jac = np.zeros((t.size, _N_PARAMS))
    jac[:, 0] = 1.0
    jac[:, 1] = np.where(before, -log_fold * t / tmax, tmax * (alpha * wu + beta * wv))
    jac[:, 2] = np.where(before, t / tmax - 1.0, 0.0)
    jac[:, 3] = np.where(before, 0.0, -alpha * s * wu)
    jac[:, 4] = np.where(before, 0.0, (1.0 - fb) * wv - fb * wu)
    jac[:, 5] = np.where(before, 0.0, -beta * s * wv)
    return jac


def stein_curve(t: npt.ArrayLike, params: SteinParameters) -> FloatArray:
    """Level predicted by the Stein (2019) model at days ``t`` after infusion.

    Parameters
    ----------
    t
        Days after infusion, ``>= 0`` (scalar or array; any order).
    params
        Model parameters; the result is in the unit of ``params.cmax``.

    Returns
    -------
    numpy.ndarray
        ``C(t)``, same shape as ``t``: ``c0 * exp(rho t)`` before Tmax and
        ``cmax * ((1 - fb) exp(-alpha (t - tmax)) + fb exp(-beta (t - tmax)))`` after.

    References
    ----------
    .. [1] Stein AM, Grupp SA, Levine JE, et al. Tisagenlecleucel model-based cellular
       kinetic analysis of chimeric antigen receptor-T cells. *CPT Pharmacometrics
       Syst Pharmacol* 2019;8:285-295. doi:10.1002/psp4.12388 (Figure 2; supplement).

    Examples
    --------
    >>> from vein2vein.clinical.kinetics._stein import TYPICAL_PATIENT
    >>> [round(float(c), 2) for c in stein_curve([0.0, 9.3, 28.0], TYPICAL_PATIENT)]
    [6.15, 24000.0, 1373.56]
    """
    arr = np.asarray(t, dtype=np.float64)
    flat = as_float_vector(arr.reshape(-1), name="t")
    if np.any(flat < 0):
        reason = "days after infusion must be >= 0 (the model starts at infusion)"
        raise InvalidInputError(reason, field="t")
    return np.exp(_log_curve(flat, params.to_theta())).reshape(arr.shape)


@dataclass(frozen=True, eq=False)
class SteinFit:
    """A least-squares fit of the Stein (2019) model to one patient's profile.

    Attributes
    ----------
    params
        The estimates.
    theta
        The estimates on the estimation scale (:data:`THETA_NAMES`).
    cov_theta
        Covariance of ``theta``, ``s^2 (J^T J)^-1`` with J the Jacobian of the log-scale
        residuals at the solution; NaN when ``J^T J`` is singular.
    se
        Standard errors on the natural scale (delta method from ``cov_theta``), by
        :data:`PARAMETER_NAMES`.
    residual_sd
        ``s``: residual standard deviation on the natural-log scale, with
        ``n_used - 6`` degrees of freedom.
    n_used
        Quantifiable samples fitted.
    n_omitted_blq
        BLQ samples left out (method M1 of Beal 2001).
    dof
        Residual degrees of freedom, ``n_used - 6``.
    lloq
        The LLOQ used, or None.
    converged
        Whether the optimizer reported convergence.
    message
        The optimizer's message.
    notes
        Plain-language caveats (e.g. no sample before the peak, so fold expansion is
        not identifiable).
    """

    params: SteinParameters
    theta: FloatArray
    cov_theta: FloatArray
    se: dict[str, float]
    residual_sd: float
    n_used: int
    n_omitted_blq: int
    dof: int
    lloq: float | None
    converged: bool
    message: str
    notes: tuple[str, ...]

    @property
    def se_theta(self) -> FloatArray:
        """Standard errors of ``theta`` (estimation scale); NaN where undefined."""
        return _sqrt_diag(self.cov_theta)

    def predict(self, t: npt.ArrayLike) -> FloatArray:
        """Predicted level at days ``t`` (see :func:`stein_curve`)."""
        return stein_curve(t, self.params)

    def conf_int(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Confidence intervals by parameter: a t-interval on the estimation scale.

        The interval ``theta +- t(dof) * se_theta`` is mapped back (exp, or expit for
        FB), so it is asymmetric on the natural scale and respects the bounds.
        """
        if not 0 < level < 1:
            reason = f"must be between 0 and 1, got {level!r}"
            raise InvalidInputError(reason, field="level")
        q = float(stats.t.ppf(0.5 + level / 2.0, self.dof))
        half = q * self.se_theta
        lo, hi = self.theta - half, self.theta + half
        out: dict[str, tuple[float, float]] = {}
        for i, name in enumerate(PARAMETER_NAMES):
            if name == "fb":
                out[name] = (float(1 / (1 + np.exp(-lo[i]))), float(1 / (1 + np.exp(-hi[i]))))
            else:
                out[name] = (float(np.exp(lo[i])), float(np.exp(hi[i])))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Estimates, SEs, intervals and fit statistics as plain, JSON-ready values."""

        def plain(x: float) -> float | None:
            return None if not math.isfinite(x) else float(x)

        return {
            "params": self.params.to_dict(),
            "se": {k: plain(v) for k, v in self.se.items()},
            "conf_int_95": {
                k: [plain(lo), plain(hi)] for k, (lo, hi) in self.conf_int(0.95).items()
            },
            "theta": dict(zip(THETA_NAMES, map(float, self.theta), strict=True)),
            "se_theta": dict(zip(THETA_NAMES, map(plain, self.se_theta), strict=True)),
            "residual_sd": self.residual_sd,
            "n_used": self.n_used,
            "n_omitted_blq": self.n_omitted_blq,
            "dof": self.dof,
            "lloq": self.lloq,
            "converged": self.converged,
            "message": self.message,
            "notes": list(self.notes),
        }


def _inverse_or_nan(matrix: FloatArray) -> FloatArray:
    """Inverse of a symmetric positive definite matrix; all NaN when it is (near) singular."""
    nan = np.full(matrix.shape, np.nan)
    if not np.all(np.isfinite(matrix)) or np.linalg.cond(matrix) > 1e12:
        return nan
    try:
        inverse = np.asarray(np.linalg.inv(matrix), dtype=np.float64)
    except np.linalg.LinAlgError:
        return nan
    return nan if np.any(np.diag(inverse) <= 0) else inverse


def _sqrt_diag(cov: FloatArray) -> FloatArray:
    """Square roots of the diagonal, NaN where it is not positive."""
    diag = np.diag(cov)
    ok = np.isfinite(diag) & (diag > 0)
    out: FloatArray = np.where(ok, np.sqrt(np.where(ok, diag, 1.0)), np.nan)
    return out


def _slope_intercept(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Least-squares line through (x, y)."""
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def _starts(t: FloatArray, logc: FloatArray) -> list[FloatArray]:
    """A few starting points from the shape of the observed profile."""
    order = np.argsort(logc)[::-1]
    starts: list[FloatArray] = []
    for i in order[: min(3, t.size)]:
        tmax = max(float(t[i]), 0.5)
        cmax = float(logc[i])
        pre = t < tmax
        if pre.sum() >= 1 and np.ptp(np.append(t[pre], tmax)) > 0:
            rho, _ = _slope_intercept(np.append(t[pre], tmax), np.append(logc[pre], cmax))
            log_fold = float(np.clip(rho * tmax, math.log(2.0), math.log(1e6)))
        else:
            log_fold = math.log(100.0)
        post_t, post_c = t[t > tmax], logc[t > tmax]
        beta, alpha, fb = 0.01, 0.2, 0.01
        if post_t.size >= 4:
            half = post_t.size // 2
            slope_tail, icpt_tail = _slope_intercept(post_t[half:], post_c[half:])
            slope_head, _ = _slope_intercept(
                np.append(tmax, post_t[:half]), np.append(cmax, post_c[:half])
            )
            beta = float(np.clip(-slope_tail, 1e-4, 0.5))
            alpha = float(np.clip(-slope_head, 2 * beta, 5.0))
            # the tail line at Tmax, relative to the peak, is the slow fraction FB
            fb = float(np.clip(math.exp(icpt_tail + slope_tail * tmax - cmax), 1e-4, 0.5))
        for a_mult in (1.0, 3.0):
            a = alpha * a_mult
            starts.append(
                np.array(
                    [
                        cmax,
                        math.log(tmax),
                        log_fold,
                        math.log(a),
                        math.log(fb / (1 - fb)),
                        math.log(beta),
                    ]
                )
            )
    return starts


def _search_box(t: FloatArray, logc: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Wide bounds on theta that keep the optimizer in a numerically safe region."""
    lower = np.array(
        [float(logc.min()) - 5.0, math.log(1e-3), -10.0, math.log(1e-6), -30.0, math.log(1e-8)]
    )
    upper = np.array(
        [
            float(logc.max()) + 5.0,
            math.log(float(t.max())),
            30.0,
            math.log(100.0),
            30.0,
            math.log(100.0),
        ]
    )
    return lower, upper


def _canonical(theta: FloatArray) -> FloatArray:
    """Label the faster decline alpha: swap (alpha, FB) with (beta, 1 - FB) if needed."""
    if theta[3] >= theta[5]:
        return theta
    out = theta.copy()
    out[3], out[5] = theta[5], theta[3]
    out[4] = -theta[4]  # logit(1 - FB) = -logit(FB)
    return out


def fit_stein(
    time_days: npt.ArrayLike,
    conc: npt.ArrayLike,
    *,
    lloq: float | None = None,
) -> SteinFit:
    """Fit the Stein (2019) model to one patient's profile by least squares on log levels.

    Parameters
    ----------
    time_days
        Days after infusion, strictly increasing, ``>= 0``.
    conc
        Levels (qPCR copies/µg genomic DNA or flow CAR+ cells/µL), ``>= 0``.
    lloq
        Lower limit of quantification. Samples below it (and any level ``<= 0``, which
        has no logarithm) are **omitted** from the fit.

    Returns
    -------
    SteinFit
        Estimates, covariance, standard errors and a ``predict`` method.

    Notes
    -----
    Minimises ``sum (ln C_obs - ln C(t; theta))^2`` over ``theta`` (:data:`THETA_NAMES`:
    logs of Cmax, Tmax, fold expansion, alpha, beta and the logit of FB) with
    :func:`scipy.optimize.least_squares` and the analytic Jacobian, from a few
    starting points derived from the data; the best solution is kept. A constant
    residual SD on the log scale matches the paper's "constant error model in log
    scale". The faster of the two decline rates is reported as alpha.

    Covariance: ``cov(theta) = s^2 (J^T J)^-1``, ``s^2 = RSS / (n - 6)``, J the
    Jacobian of the residuals at the solution (the usual asymptotic, linearised
    least-squares covariance); natural-scale SEs by the delta method. The model has a
    kink at Tmax, so with sparse sampling around the peak the linearisation is rough.

    BLQ samples are omitted (Beal's method M1). That is simple and transparent but
    biases the fit towards higher levels in the persistence tail; the likelihood-based
    M3 method that uses the BLQ information is not implemented.

    This is a single-patient (two-stage) fit, not the population (nonlinear mixed
    effects) analysis of the paper; its SEs describe this patient's estimates only.

    References
    ----------
    .. [1] Stein AM, Grupp SA, Levine JE, et al. Tisagenlecleucel model-based cellular
       kinetic analysis of chimeric antigen receptor-T cells. *CPT Pharmacometrics
       Syst Pharmacol* 2019;8:285-295. doi:10.1002/psp4.12388
    .. [2] Bates DM, Watts DG. *Nonlinear Regression Analysis and Its Applications*.
       Wiley; 1988. (Linearised covariance ``s^2 (J^T J)^-1``.)
    .. [3] Beal SL. Ways to fit a PK model with some data below the quantification
       limit. *J Pharmacokinet Pharmacodyn* 2001;28:481-504.

    Examples
    --------
    >>> days = [1, 2, 4, 7, 9, 11, 14, 21, 28, 56, 90, 180, 365]
    >>> truth = stein_curve(days, TYPICAL_PATIENT)   # synthetic, noise-free
    >>> fit = fit_stein(days, truth)
    >>> round(fit.params.tmax, 2), round(fit.params.doubling_time, 2)
    (9.3, 0.78)
    """
    t = check_times(time_days)
    c = as_float_vector(conc, name="conc")
    if c.size != t.size:
        reason = f"has {c.size} values but time_days has {t.size}"
        raise InvalidInputError(reason, field="conc")
    if np.any(c < 0):
        reason = f"levels must be >= 0; found {float(c[c < 0][0]):g}"
        raise InvalidInputError(reason, field="conc")
    lq = check_lloq(lloq)
    use = c > 0 if lq is None else c >= lq
    n = int(use.sum())
    if n <= _N_PARAMS:
        reason = (
            f"needs at least {_N_PARAMS + 1} quantifiable samples to fit {_N_PARAMS} "
            f"parameters and estimate the residual SD; got {n}"
        )
        raise InvalidInputError(reason, field="conc")
    tu, logc = t[use], np.log(c[use])

    def residuals(theta: FloatArray) -> FloatArray:
        return _log_curve(tu, theta) - logc

    def jacobian(theta: FloatArray) -> FloatArray:
        return _log_curve_jacobian(tu, theta)

    lower, upper = _search_box(tu, logc)
    best: optimize.OptimizeResult | None = None
    for x0 in _starts(tu, logc):
        res = optimize.least_squares(
            residuals,
            np.clip(x0, lower + 1e-6, upper - 1e-6),
            jac=jacobian,
            bounds=(lower, upper),
            method="trf",
            x_scale="jac",
            xtol=1e-12,
            ftol=1e-12,
        )
        if best is None or res.cost < best.cost:
            best = res
    if best is None:  # pragma: no cover - _starts always yields starting points
        reason = "no starting point for the fit"
        raise InvalidInputError(reason, field="conc")

    theta = _canonical(np.asarray(best.x, dtype=np.float64))
    resid = residuals(theta)
    dof = n - _N_PARAMS
    s2 = float(resid @ resid) / dof
    jac = jacobian(theta)
    cov = s2 * _inverse_or_nan(jac.T @ jac)
    params = SteinParameters.from_theta(theta)
    # d(natural)/d(theta): exp for the logs, FB (1 - FB) for the logit.
    grad = np.array(
        [
            params.cmax,
            params.tmax,
            params.fold_expansion,
            params.alpha,
            params.fb * (1 - params.fb),
            params.beta,
        ]
    )
    se_nat = grad * _sqrt_diag(cov)
    notes: list[str] = []
    lower, upper = _search_box(tu, logc)
    at_bound = [
        name
        for name, x, lo, hi in zip(THETA_NAMES, np.asarray(best.x), lower, upper, strict=True)
        if min(x - lo, hi - x) < 1e-6 * max(1.0, abs(x))
    ]
    if at_bound:
        notes.append(
            f"estimate at the edge of the search range for {', '.join(at_bound)}: "
            "the fit is not reliable and its SEs do not apply"
        )
    if not np.any(tu < params.tmax):
        notes.append("no quantifiable sample before the peak: fold expansion is not identifiable")
    if int(np.count_nonzero(tu > params.tmax)) < 4:
        notes.append(
            "fewer than 4 samples after the peak: alpha, beta and FB are poorly determined"
        )
    if not np.all(np.isfinite(se_nat)):
        notes.append("the Jacobian is singular at the solution: some SEs are undefined")
    return SteinFit(
        params=params,
        theta=theta,
        cov_theta=cov,
        se=dict(zip(PARAMETER_NAMES, map(float, se_nat), strict=True)),
        residual_sd=math.sqrt(s2),
        n_used=n,
        n_omitted_blq=int(t.size - n),
        dof=dof,
        lloq=lq,
        converged=bool(best.success),
        message=str(best.message),
        notes=tuple(notes),
    )

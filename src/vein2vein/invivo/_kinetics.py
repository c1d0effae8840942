"""From the administered dose to CAR+ cells in blood: a kinetic model for in vivo CAR-T.

**No published model of in vivo CAR-T generation exists; this one is ours.** It joins
two pieces that are published to a piece that is not:

* the vector (or LNP) in the body follows standard one-compartment pharmacokinetics
  with first-order elimination (Gibaldi & Perrier 1982, ch. 1);
* the CAR+ cells, once they express the CAR, follow the expansion, contraction and
  persistence phases of Stein et al. 2019 (see :mod:`vein2vein.clinical.kinetics._stein`);
* the link between the two, neutralization by pre-existing anti-vector antibodies and
  uptake by target T cells with a delay before expression (integrating vector) or with
  expression that fades (mRNA), is our assumption, stated here so it can be argued with.

State (days ``t`` after dosing; ``D`` the dose, in its own unit)::

    D_eff = D * (1 - f),   f = titre / (titre + IC50)          neutralized at dosing
    V'  = -(k_el + k_up) V,                    V(0) = D_eff   vector in circulation
    X_el' = k_el V,  X_up' = k_up V                           eliminated, taken up
    r   = eps k_up V (1 - R / T0)                             transduction, cells/uL/day
    R'  = r                                                   cumulative transduced
    P'  = r - P / t_express                                   transduced, not yet CAR+
    E'  = P / t_express + g(t) E - k_loss E                   effector CAR+ cells
    M'  = h(t) E - (beta + k_loss) M                          memory-like CAR+ cells
    g(t) = rho (t < Tmax), -alpha (t >= Tmax);  h(t) = 0 (t < Tmax), FB (alpha - beta)

The CAR+ level is ``C = E + M`` (cells/uL). ``V + X_el + X_up = D_eff`` (vector mass
balance) and ``R <= T0`` (no more T cells are transduced than there are, ``T0`` the
baseline T-cell count; unlimited when None). With instantaneous uptake and expression
the model is exactly the Stein curve with ``C(0) = eps D_eff`` and fold expansion
``exp(rho Tmax)``. ``k_loss`` is 0 for an integrating vector (the CAR persists with the
cell) and the decay rate of CAR expression for mRNA (transient).

References
----------
.. [1] Stein AM, Grupp SA, Levine JE, et al. Tisagenlecleucel model-based cellular
   kinetic analysis of chimeric antigen receptor-T cells. *CPT Pharmacometrics Syst
   Pharmacol* 2019;8:285-295. doi:10.1002/psp4.12388 (the cellular phases).
.. [2] Gibaldi M, Perrier D. *Pharmacokinetics*. 2nd ed. Marcel Dekker; 1982, ch. 1
   (one-compartment model, first-order elimination).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.integrate import solve_ivp  # type: ignore[import-untyped]
from scipy.linalg import expm  # type: ignore[import-untyped]

from ..clinical import SteinParameters
from ..errors import InvalidInputError
from ._kinetics_closed import chain_curve

__all__ = [
    "STATE_COLUMNS",
    "TYPICAL_LENTIVIRAL",
    "TYPICAL_LNP_MRNA",
    "InvivoKineticParameters",
    "invivo_curve",
    "neutralized_fraction",
    "simulate_invivo",
]

FloatArray = npt.NDArray[np.float64]

STATE_COLUMNS: Final = (
    "vector",
    "eliminated",
    "taken_up",
    "transduced",
    "pre_expression",
    "effector",
    "memory",
)
"""The states of :func:`simulate_invivo`, in dose units (first three) and cells/uL."""

_RTOL: Final = 1e-9
_ZERO_OK: Final = frozenset({"k_el", "k_loss"})


@dataclass(frozen=True)
class InvivoKineticParameters:
    """Parameters of the dose-to-CAR+ model (ours; see the module docstring).

    Attributes
    ----------
    efficiency
        ``eps``: CAR+ cells/uL made per dose unit taken up by T cells (> 0).
    k_el
        First-order elimination rate of the vector, 1/day (>= 0).
    k_up
        Uptake rate of the vector by T cells, 1/day (> 0).
    t_express
        Mean delay from uptake to CAR expression, days (> 0): integration and
        expression for a lentiviral vector (days), translation for mRNA (hours).
    rho, tmax, alpha, fb, beta
        The Stein 2019 phases: expansion rate (1/day) up to day ``tmax`` after dosing,
        then fast contraction ``alpha`` and a slow fraction ``fb`` declining at ``beta``
        (``alpha > beta``).
    k_loss
        Rate at which CAR+ cells lose the CAR, 1/day: 0 for an integrating vector,
        the decay of expression for mRNA.
    ic50_titre
        Neutralizing anti-vector titre that neutralizes half the dose (> 0).
    target_cells
        ``T0``: T cells/uL available for transduction (baseline CD3); None: unlimited.
    """

    efficiency: float
    k_el: float
    k_up: float
    t_express: float
    rho: float
    tmax: float
    alpha: float
    fb: float
    beta: float
    k_loss: float = 0.0
    ic50_titre: float = 100.0
    target_cells: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "target_cells" and value is None:
                continue
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value < 0:
                reason = f"must be a finite number >= 0, got {value!r}"
                raise InvalidInputError(reason, field=f.name)
            if value == 0 and f.name not in _ZERO_OK:
                reason = f"must be positive, got {value!r}"
                raise InvalidInputError(reason, field=f.name)
            object.__setattr__(self, f.name, float(value))
        if not self.fb < 1:
            reason = f"is a fraction and must be below 1, got {self.fb!r}"
            raise InvalidInputError(reason, field="fb")
        if not self.alpha > self.beta:
            reason = f"the fast contraction rate alpha ({self.alpha}) must exceed beta"
            raise InvalidInputError(reason, field="alpha")

    def stein(self, c0: float) -> SteinParameters:
        """The Stein parameters of the instantaneous-uptake limit started at ``c0``."""
        fold = math.exp(self.rho * self.tmax)
        return SteinParameters(
            cmax=c0 * fold,
            tmax=self.tmax,
            fold_expansion=fold,
            alpha=self.alpha,
            fb=self.fb,
            beta=self.beta,
        )

    def to_dict(self) -> dict[str, float | None]:
        """The parameters as plain values."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


TYPICAL_LENTIVIRAL = InvivoKineticParameters(
    efficiency=5e-8,
    k_el=2.0,
    k_up=0.5,
    t_express=2.0,
    rho=0.6,
    tmax=12.0,
    alpha=0.16,
    fb=0.02,
    beta=0.0032,
)
"""Illustrative parameters for a T-cell-targeted lentiviral vector dosed in TU/kg.

Not estimates: chosen so that 10^6-10^8 TU/kg give peaks of about 1-1000 CAR+ cells/uL.
The contraction and persistence rates are the Stein 2019 typical patient's.
"""

TYPICAL_LNP_MRNA = replace(
    TYPICAL_LENTIVIRAL,
    efficiency=20.0,
    k_el=4.0,
    k_up=2.0,
    t_express=0.25,
    rho=0.3,
    tmax=5.0,
    k_loss=0.35,
)
"""Illustrative parameters for a CAR mRNA-LNP dosed in mg/kg (transient expression).

Not estimates: expression within hours, lost with a half-life of about 2 days.
"""


def neutralized_fraction(titre: float, ic50_titre: float) -> float:
    """Fraction of the dose neutralized by pre-existing antibodies, ``titre / (titre + IC50)``.

    Parameters
    ----------
    titre
        Neutralizing anti-vector antibody titre (reciprocal dilution, >= 0).
    ic50_titre
        Titre that neutralizes half the dose (> 0).

    Returns
    -------
    float
        Between 0 (no antibodies) and 1.

    Examples
    --------
    >>> neutralized_fraction(0.0, 100.0), neutralized_fraction(100.0, 100.0)
    (0.0, 0.5)
    """
    t = _nonneg(titre, "titre")
    ic50 = _nonneg(ic50_titre, "ic50_titre")
    if ic50 == 0:
        reason = "must be positive"
        raise InvalidInputError(reason, field="ic50_titre")
    return t / (t + ic50)


def _nonneg(value: float, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        reason = f"must be a number, got {value!r}"
        raise InvalidInputError(reason, field=field) from None
    if not math.isfinite(number) or number < 0:
        reason = f"must be a finite number >= 0, got {value!r}"
        raise InvalidInputError(reason, field=field)
    return number


def _days(t: npt.ArrayLike) -> FloatArray:
    arr = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        reason = "must be a non-empty list of finite days"
        raise InvalidInputError(reason, field="t")
    if np.any(arr < 0):
        reason = "days after dosing must be >= 0 (the model starts at dosing)"
        raise InvalidInputError(reason, field="t")
    return arr


def _matrix(p: InvivoKineticParameters, *, after: bool) -> FloatArray:
    """The rate matrix of the states when transduction is not limited (``T0`` None)."""
    k_exp = 1.0 / p.t_express
    growth = -p.alpha if after else p.rho
    a = np.zeros((7, 7))
    a[0, 0] = -(p.k_el + p.k_up)
    a[1, 0] = p.k_el
    a[2, 0] = p.k_up
    a[3, 0] = a[4, 0] = p.efficiency * p.k_up
    a[4, 4] = -k_exp
    a[5, 4] = k_exp
    a[5, 5] = growth - p.k_loss
    a[6, 5] = p.fb * (p.alpha - p.beta) if after else 0.0
    a[6, 6] = -(p.beta + p.k_loss)
    return a


def _rhs(p: InvivoKineticParameters, *, after: bool) -> Any:
    before_limit = _matrix(p, after=after)
    t0 = p.target_cells
    assert t0 is not None

    def f(_t: float, y: FloatArray) -> FloatArray:
        dy: FloatArray = before_limit @ y
        # transduction slows as the available T cells are used up
        r = before_limit[3, 0] * y[0] * max(0.0, 1.0 - y[3] / t0)
        dy[3] = r
        dy[4] += r - before_limit[3, 0] * y[0]
        return dy

    return f


def _solve_exact(days: FloatArray, y0: FloatArray, p: InvivoKineticParameters) -> FloatArray:
    """Matrix-exponential solution of the linear system (no limit on target cells).

    The states are carried from one sorted time point to the next by ``expm(A dt)``,
    with Tmax as a breakpoint; equal steps (a regular grid) share one exponential.
    """
    end = float(days.max())
    points = np.unique(np.concatenate([days, [0.0], [p.tmax] if p.tmax < end else []]))
    matrices = np.stack([_matrix(p, after=False), _matrix(p, after=True)])
    piece = (points[:-1] >= p.tmax).astype(int)
    steps = np.round(np.diff(points), 9)  # a regular grid shares one exponential
    keys, index = np.unique(np.stack([piece, steps]), axis=1, return_inverse=True)
    # one exponential per distinct step; one call each (scipy's batched expm goes through
    # multithreaded BLAS, which is slower for 7 x 7 matrices on a busy machine)
    exps = [expm(matrices[int(k)] * dt) for k, dt in zip(keys[0], keys[1], strict=True)]
    states = np.empty((points.size, y0.size))
    states[0] = y0
    for i, k in enumerate(index.reshape(-1)):
        states[i + 1] = exps[k] @ states[i]
    out: FloatArray = np.clip(states[np.searchsorted(points, days)], 0.0, None)
    return out


def _solve_ode(days: FloatArray, y0: FloatArray, p: InvivoKineticParameters) -> FloatArray:
    """Numerical solution (``solve_ivp``) when transduction is limited by ``T0``."""
    out = np.zeros((days.size, len(STATE_COLUMNS)))
    # Per-state absolute tolerances far below any level of interest, so the error is
    # relative (the log-scale fit compares levels spanning many decades).
    atol = np.array([y0[0]] * 3 + [1e-30] * 4) * 1e-14
    end = float(days.max())
    y = y0
    for start, stop, after in ((0.0, min(p.tmax, end), False), (p.tmax, end, True)):
        if stop <= start:
            continue
        inside = (days >= start) & (days <= stop)
        sol = solve_ivp(
            _rhs(p, after=after),
            (start, stop),
            y,
            method="LSODA",
            t_eval=np.unique(np.append(days[inside], stop)),
            rtol=_RTOL,
            atol=atol,
        )
        if not sol.success:  # pragma: no cover - LSODA on this mildly nonlinear system
            reason = f"the ODE solver failed: {sol.message}"
            raise InvalidInputError(reason, field="params")
        for j, tj in enumerate(sol.t):
            out[days == tj] = sol.y[:, j]
        y = sol.y[:, -1]
    out[days == 0] = y0
    return np.clip(out, 0.0, None)


def _solve(days: FloatArray, d_eff: float, p: InvivoKineticParameters) -> FloatArray:
    """States at ``days`` (any order), shape (n, 7)."""
    if d_eff == 0:
        return np.zeros((days.size, len(STATE_COLUMNS)))
    y0 = np.array([d_eff, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    if p.target_cells is None:
        return _solve_exact(days, y0, p)
    return _solve_ode(days, y0, p)


def simulate_invivo(
    t: npt.ArrayLike,
    *,
    dose: float,
    params: InvivoKineticParameters,
    titre: float = 0.0,
) -> pd.DataFrame:
    """All states of the dose-to-CAR+ model at days ``t`` after dosing.

    Parameters
    ----------
    t
        Days after dosing (>= 0, any order).
    dose
        The administered dose in the unit ``params.efficiency`` refers to (>= 0).
    params
        Model parameters.
    titre
        Neutralizing anti-vector antibody titre at dosing (>= 0).

    Returns
    -------
    pandas.DataFrame
        ``day``, the :data:`STATE_COLUMNS`, ``car_positive`` (effector + memory) and
        ``neutralized`` (dose units neutralized at dosing, constant).

    References
    ----------
    .. [1] Stein AM, et al. *CPT Pharmacometrics Syst Pharmacol* 2019;8:285-295.
    .. [2] Gibaldi M, Perrier D. *Pharmacokinetics*. 2nd ed. 1982, ch. 1.

    Examples
    --------
    >>> frame = simulate_invivo([0, 1, 28], dose=1e7, params=TYPICAL_LENTIVIRAL)
    >>> bool(frame["car_positive"].iloc[-1] > frame["car_positive"].iloc[1])
    True
    """
    days = _days(t)
    d = _nonneg(dose, "dose")
    f = neutralized_fraction(titre, params.ic50_titre)
    d_eff = d * (1.0 - f)
    states = _solve(days, d_eff, params)
    frame = pd.DataFrame(states, columns=list(STATE_COLUMNS))
    frame.insert(0, "day", days)
    frame["car_positive"] = frame["effector"] + frame["memory"]
    frame["neutralized"] = d * f
    return frame


def invivo_curve(
    t: npt.ArrayLike,
    *,
    dose: float,
    params: InvivoKineticParameters,
    titre: float = 0.0,
) -> FloatArray:
    """CAR+ cells/uL at days ``t`` after dosing (see :func:`simulate_invivo`).

    Parameters
    ----------
    t
        Days after dosing (>= 0, any order).
    dose
        The administered dose (>= 0).
    params
        Model parameters.
    titre
        Neutralizing anti-vector antibody titre at dosing (>= 0).

    Returns
    -------
    numpy.ndarray
        ``E + M`` at each day.

    References
    ----------
    .. [1] Stein AM, et al. *CPT Pharmacometrics Syst Pharmacol* 2019;8:285-295.
    .. [2] Gibaldi M, Perrier D. *Pharmacokinetics*. 2nd ed. 1982, ch. 1.
    """
    days = _days(t)
    d = _nonneg(dose, "dose")
    d_eff = d * (1.0 - neutralized_fraction(titre, params.ic50_titre))
    if d_eff > 0 and params.target_cells is None:
        return chain_curve(days, d_eff, params)
    states = _solve(days, d_eff, params)
    out: FloatArray = states[:, 5] + states[:, 6]
    return out

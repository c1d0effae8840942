"""EffTox: the efficacy-toxicity trade-off contour (Thall & Cook 2004).

Only the utility contour is implemented so far; the EffTox dose-finding model
(logistic marginals, the Gumbel copula and its posterior) is not.
"""

from __future__ import annotations

import math

from scipy import optimize  # type: ignore[import-untyped]

from ..errors import InvalidInputError
from ._boin import check_probability

__all__ = ["efftox_solve_p", "efftox_utility"]


def efftox_solve_p(eff0: float, tox1: float, *, eff_star: float, tox_star: float) -> float:
    """The L^p index putting ``(eff_star, tox_star)`` on the neutral contour.

    The neutral contour ``((1 - pi_E)/(1 - eff0))^p + (pi_T / tox1)^p = 1`` passes through
    the hinge points ``(eff0, 0)`` and ``(1, tox1)``; ``p`` is solved (Brent's method) so
    that it also passes through the third equi-utility point.

    Parameters
    ----------
    eff0
        Efficacy probability required when toxicity is impossible.
    tox1
        Toxicity probability permitted when efficacy is certain.
    eff_star, tox_star
        The third point of the neutral contour.

    Returns
    -------
    float
        The index p.

    References
    ----------
    .. [1] Thall PF, Cook JD (2004). Dose-finding based on efficacy-toxicity trade-offs.
       Biometrics 60:684-693.
    .. [2] Thall PF, Herrick RC, Nguyen HQ, Venier JJ, Norris JC (2014). Effective sample
       size for computing prior hyperparameters in Bayesian phase I-II dose-finding.
       Clin Trials 11:657-666; trialr ``efftox_solve_p``.

    Examples
    --------
    >>> round(efftox_solve_p(0.5, 0.65, eff_star=0.7, tox_star=0.25), 3)
    0.977
    """
    e0 = check_probability(eff0, "eff0")
    t1 = check_probability(tox1, "tox1")
    es = check_probability(eff_star, "eff_star")
    ts = check_probability(tox_star, "tox_star")
    a, b = (1 - es) / (1 - e0), ts / t1
    if not (a < 1 and b < 1):
        msg = "(eff_star, tox_star) must lie between the hinges: eff_star > eff0, tox_star < tox1"
        raise InvalidInputError(msg, field="eff_star")
    root = optimize.brentq(lambda p: a**p + b**p - 1.0, 1e-6, 1e3, xtol=1e-12)
    return float(root)


def efftox_utility(
    prob_eff: float, prob_tox: float, *, eff0: float, tox1: float, p: float
) -> float:
    """EffTox desirability ``1 - (((1 - pi_E)/(1 - eff0))^p + (pi_T / tox1)^p)^(1/p)``.

    Zero on the neutral contour, positive for better trade-offs (more efficacy, less
    toxicity), negative for worse. References as in :func:`efftox_solve_p`.

    Examples
    --------
    >>> round(efftox_utility(0.5, 0.0, eff0=0.5, tox1=0.65, p=0.9773), 12)
    0.0
    """
    pe = check_probability(prob_eff, "prob_eff", open_interval=False)
    pt = check_probability(prob_tox, "prob_tox", open_interval=False)
    if not p > 0:
        msg = f"p must be positive, not {p}"
        raise InvalidInputError(msg, field="p")
    r = ((1 - pe) / (1 - eff0)) ** p + (pt / tox1) ** p
    return 1.0 - math.pow(r, 1.0 / p)

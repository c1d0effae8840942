"""EffTox: efficacy-toxicity trade-off dose finding (Thall & Cook 2004).

The trade-off contour (:func:`efftox_solve_p`, :func:`efftox_utility`) and the design
:class:`EffTox`; the probability model and its posterior are in ``_efftox_model``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize  # type: ignore[import-untyped]

from ..errors import InvalidInputError
from ._boin import check_probability
from ._efftox_model import EffToxPriors, codified_doses, sample_posterior
from ._outcomes import CohortOutcomes, DoseDecision, parse_outcomes

__all__ = ["EffTox", "EffToxFit", "efftox_solve_p", "efftox_utility"]

FloatArray = npt.NDArray[np.float64]


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


def _utilities(
    prob_eff: FloatArray, prob_tox: FloatArray, *, eff0: float, tox1: float, p: float
) -> FloatArray:
    """Vectorized :func:`efftox_utility` (no range checks: posterior draws are in [0, 1])."""
    r = ((1 - prob_eff) / (1 - eff0)) ** p + (prob_tox / tox1) ** p
    return np.asarray(1.0 - r ** (1.0 / p), float)


@dataclass(frozen=True)
class EffToxFit:
    """The EffTox posterior on the outcomes so far, dose by dose (1-based levels).

    Attributes
    ----------
    real_doses
        The doses.
    num_patients
        Patients treated.
    patients
        Patients treated per dose.
    prob_eff, prob_tox
        Posterior mean probabilities of efficacy and toxicity.
    prob_acc_eff
        ``P(pi_E > efficacy_hurdle | data)``.
    prob_acc_tox
        ``P(pi_T < toxicity_hurdle | data)``.
    utility
        Utility of the posterior mean probabilities (as trialr and Thall et al.).
    post_utility
        Posterior mean of the utility (for information; decisions use ``utility``).
    acceptable
        Whether each dose is acceptable (both probability rules and no skipping).
    recommended_dose
        The acceptable dose of highest utility; None when none is acceptable. With no
        patients, the start dose.
    ess
        Effective sample size of the importance sample.
    num_samples
        Importance draws.
    method
        ``prior``, ``laplace-t`` or ``adapted`` (see ``_efftox_model``).
    mc_error
        Largest Monte Carlo standard error of the posterior means and acceptability
        probabilities above.
    """

    real_doses: tuple[float, ...]
    num_patients: int
    patients: tuple[int, ...]
    prob_eff: tuple[float, ...]
    prob_tox: tuple[float, ...]
    prob_acc_eff: tuple[float, ...]
    prob_acc_tox: tuple[float, ...]
    utility: tuple[float, ...]
    post_utility: tuple[float, ...]
    acceptable: tuple[bool, ...]
    recommended_dose: int | None
    ess: float
    num_samples: int
    method: str
    mc_error: float

    def to_frame(self) -> pd.DataFrame:
        """One row per dose, as trialr prints an ``efftox_fit``."""
        return pd.DataFrame(
            {
                "dose": range(1, len(self.real_doses) + 1),
                "real_dose": self.real_doses,
                "n": self.patients,
                "prob_eff": self.prob_eff,
                "prob_acc_eff": self.prob_acc_eff,
                "prob_tox": self.prob_tox,
                "prob_acc_tox": self.prob_acc_tox,
                "utility": self.utility,
                "acceptable": self.acceptable,
            }
        )


def _tuple(values: FloatArray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


class EffTox:
    """EffTox: the acceptable dose with the best efficacy-toxicity trade-off.

    Model: codified doses ``x = log(d) - mean(log(d))``, ``logit pi_T = alpha + beta x``,
    ``logit pi_E = gamma + zeta x + eta x^2``, the Thall-Cook joint probability with
    association ``psi`` and independent normal priors (:class:`EffToxPriors`). The
    posterior is computed by defensive importance sampling around a Laplace
    approximation, with a fixed seed, its effective sample size and Monte Carlo error
    reported (see :class:`EffToxFit`).

    A dose is acceptable when ``P(pi_E > efficacy_hurdle) > p_e``,
    ``P(pi_T < toxicity_hurdle) > p_t`` and it lies no more than one level below the
    lowest or above the highest dose given (untried doses are not skipped, trialr's
    rule). The next dose is the acceptable dose of highest utility, the utility being
    :func:`efftox_utility` of the posterior mean probabilities (as trialr and the MD
    Anderson program). With no acceptable dose the trial stops; before any patient,
    the start dose.

    Parameters
    ----------
    real_doses
        The doses, strictly increasing and positive (any consistent unit).
    efficacy_hurdle, toxicity_hurdle
        The lowest acceptable efficacy and highest acceptable toxicity probabilities.
    p_e, p_t
        Posterior probability cut-offs of the acceptability rules.
    eff0, tox1, eff_star, tox_star
        The trade-off contour (see :func:`efftox_solve_p`).
    priors
        Normal priors; default the Thall et al. (2014) example.
    start_dose
        Dose level (1-based) of the first cohort.
    max_n
        Stop when this many patients have been treated (None: no limit).
    num_samples
        Importance-sampling draws (40,000: Monte Carlo error about 0.002).
    seed
        Seed of the sampler; decisions are reproducible.
    min_ess
        Effective sample size under which the proposal is refitted once.

    References
    ----------
    .. [1] Thall PF, Cook JD (2004). Dose-finding based on efficacy-toxicity trade-offs.
       Biometrics 60:684-693.
    .. [2] Thall PF, Herrick RC, Nguyen HQ, Venier JJ, Norris JC (2014). Effective sample
       size for computing prior hyperparameters in Bayesian phase I-II dose-finding.
       Clin Trials 11:657-666 (the prostate cancer example: doses and priors).
    .. [3] Brock K (2019). trialr: Bayesian clinical trial designs in R and Stan.
       ``stan_efftox``, ``efftox_process``; its tests quote the MD Anderson EffTox
       program's posterior for ``1NNN 2ENN`` and ``1NNN 2ENN 3ETB``.
    .. [4] Hesterberg T (1995). Weighted average importance sampling and defensive
       mixture distributions. Technometrics 37:185-194.

    Examples
    --------
    >>> design = EffTox([1.0, 2.0, 4.0, 6.6, 10.0], num_samples=4000)
    >>> design.next_dose("1NNE 2EEB")
    3
    """

    name = "EffTox"
    uses_efficacy = True

    def __init__(
        self,
        real_doses: Sequence[float],
        *,
        efficacy_hurdle: float = 0.5,
        toxicity_hurdle: float = 0.3,
        p_e: float = 0.1,
        p_t: float = 0.1,
        eff0: float = 0.5,
        tox1: float = 0.65,
        eff_star: float = 0.7,
        tox_star: float = 0.25,
        priors: EffToxPriors | None = None,
        start_dose: int = 1,
        max_n: int | None = None,
        num_samples: int = 40_000,
        seed: int = 0,
        min_ess: float = 2_000.0,
    ) -> None:
        self.x = codified_doses(real_doses)
        self.real_doses = tuple(float(d) for d in real_doses)
        self.num_doses = len(self.real_doses)
        self.efficacy_hurdle = check_probability(efficacy_hurdle, "efficacy_hurdle")
        self.toxicity_hurdle = check_probability(toxicity_hurdle, "toxicity_hurdle")
        self.p_e = check_probability(p_e, "p_e")
        self.p_t = check_probability(p_t, "p_t")
        self.eff0, self.tox1 = eff0, tox1
        self.p = efftox_solve_p(eff0, tox1, eff_star=eff_star, tox_star=tox_star)
        self.priors = EffToxPriors() if priors is None else priors
        if not 1 <= start_dose <= self.num_doses:
            msg = f"start_dose {start_dose} is outside 1..{self.num_doses}"
            raise InvalidInputError(msg, field="start_dose")
        self.start_dose = int(start_dose)
        if max_n is not None and max_n < 1:
            msg = f"max_n must be at least 1, not {max_n}"
            raise InvalidInputError(msg, field="max_n")
        self.max_n = max_n
        if int(num_samples) < 1000:
            msg = f"num_samples must be at least 1000, not {num_samples}"
            raise InvalidInputError(msg, field="num_samples")
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.min_ess = float(min_ess)

    def __repr__(self) -> str:
        return (
            f"EffTox(real_doses={list(self.real_doses)}, efficacy_hurdle="
            f"{self.efficacy_hurdle}, toxicity_hurdle={self.toxicity_hurdle}, p={self.p:.4f})"
        )

    def _parse(self, outcomes: str | CohortOutcomes) -> CohortOutcomes:
        if isinstance(outcomes, CohortOutcomes):
            return outcomes
        return parse_outcomes(outcomes, num_doses=self.num_doses, efficacy=True)

    def fit(self, outcomes: str | CohortOutcomes) -> EffToxFit:
        """The posterior, acceptability and utilities after ``outcomes``."""
        data = self._parse(outcomes)
        counts = data.joint_counts().astype(float)
        post = sample_posterior(
            self.x,
            counts,
            self.priors,
            num_samples=self.num_samples,
            seed=self.seed,
            min_ess=self.min_ess,
        )
        acc_eff_draws = (post.prob_eff > self.efficacy_hurdle).astype(float)
        acc_tox_draws = (post.prob_tox < self.toxicity_hurdle).astype(float)
        prob_eff, prob_tox = post.mean(post.prob_eff), post.mean(post.prob_tox)
        acc_eff, acc_tox = post.mean(acc_eff_draws), post.mean(acc_tox_draws)
        contour = {"eff0": self.eff0, "tox1": self.tox1, "p": self.p}
        utility = _utilities(prob_eff, prob_tox, **contour)
        post_utility = post.mean(_utilities(post.prob_eff, post.prob_tox, **contour))
        mc_error = max(
            float(post.mc_se(draws).max())
            for draws in (post.prob_eff, post.prob_tox, acc_eff_draws, acc_tox_draws)
        )
        levels = np.arange(1, self.num_doses + 1)
        if data.num_patients:
            in_range = (levels >= min(data.dose) - 1) & (levels <= max(data.dose) + 1)
            acceptable = (acc_eff > self.p_e) & (acc_tox > self.p_t) & in_range
            best = np.where(acceptable, utility, -np.inf)
            recommended = int(np.argmax(best)) + 1 if acceptable.any() else None
        else:
            acceptable = np.zeros(self.num_doses, dtype=bool)
            recommended = self.start_dose
        n, _, _ = data.counts()
        return EffToxFit(
            real_doses=self.real_doses,
            num_patients=data.num_patients,
            patients=tuple(int(v) for v in n),
            prob_eff=_tuple(prob_eff),
            prob_tox=_tuple(prob_tox),
            prob_acc_eff=_tuple(acc_eff),
            prob_acc_tox=_tuple(acc_tox),
            utility=_tuple(utility),
            post_utility=_tuple(post_utility),
            acceptable=tuple(bool(a) for a in acceptable),
            recommended_dose=recommended,
            ess=post.ess,
            num_samples=self.num_samples,
            method=post.method,
            mc_error=mc_error,
        )

    def next_dose(self, outcomes: str) -> int | None:
        """Dose level (1-based) for the next cohort, or None when the trial stops."""
        return self.decide(outcomes).next_dose

    def decide(self, outcomes: str | CohortOutcomes) -> DoseDecision:
        """The decision after ``outcomes``, with reasons."""
        data = self._parse(outcomes)
        if data.num_patients == 0:
            reason = f"no patients yet: start at dose {self.start_dose}"
            return DoseDecision(self.name, self.start_dose, "start", (reason,), None)
        fit = self.fit(data)
        failing = (np.array(fit.prob_acc_eff) <= self.p_e) | (
            np.array(fit.prob_acc_tox) <= self.p_t
        )
        eliminated = tuple(int(i) + 1 for i in np.flatnonzero(failing))
        reasons = [
            f"P(eff > {self.efficacy_hurdle}) by dose: "
            + ", ".join(f"{v:.3f}" for v in fit.prob_acc_eff)
            + f" (must exceed p_e = {self.p_e})",
            f"P(tox < {self.toxicity_hurdle}) by dose: "
            + ", ".join(f"{v:.3f}" for v in fit.prob_acc_tox)
            + f" (must exceed p_t = {self.p_t})",
            "utility of posterior means by dose: " + ", ".join(f"{v:.3f}" for v in fit.utility),
            f"acceptable (no skipping untried doses): "
            f"{', '.join(str(i + 1) for i, a in enumerate(fit.acceptable) if a) or 'none'}",
            f"importance sampling ({fit.method}): {fit.num_samples} draws, effective sample "
            f"size {fit.ess:.0f}, Monte Carlo error <= {fit.mc_error:.4f}",
        ]
        if fit.recommended_dose is None:
            reasons.append("no acceptable dose: stop")
            return DoseDecision(self.name, None, "stop", tuple(reasons), None, eliminated)
        if self.max_n is not None and data.num_patients >= self.max_n:
            reasons.append(f"maximum sample size {self.max_n} reached")
            return DoseDecision(
                self.name, None, "stop", tuple(reasons), fit.recommended_dose, eliminated
            )
        last = int(data.dose[-1])
        action = {1: "escalate", 0: "stay", -1: "de-escalate"}[
            int(np.sign(fit.recommended_dose - last))
        ]
        return DoseDecision(
            self.name,
            fit.recommended_dose,
            action,
            tuple(reasons),
            fit.recommended_dose,
            eliminated,
        )

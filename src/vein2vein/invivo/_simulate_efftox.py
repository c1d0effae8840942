"""Operating characteristics of EffTox: many trials on one shared set of prior draws.

:meth:`EffTox.fit` spends about 0.3 s on each decision (a Laplace fit and a fresh
importance sample), too slow for hundreds of trials of a dozen cohorts. Here one set of
``num_draws`` parameter draws from the prior serves every decision of every trial: the
log joint probability of each outcome category at each dose is computed once per draw,
a trial's log-likelihood is then one matrix product of its counts with that table, and
its self-normalized importance weights (prior draws, so weight = likelihood) give the
posterior means and acceptability probabilities that :meth:`EffTox.fit` computes. The
trials advance together one cohort at a time, in chunks of ``chunk`` trials to bound
memory (``chunk x num_draws`` weights). The shared draws come from a fixed defensive
proposal (half prior, half a wide t around the scenario's expected posterior, see
``_Draws``); a decision where they thin out (Kish's effective sample size under
``refit_ess``) is made again by :meth:`EffTox.fit` itself. The minimum and median ESS
and the number of refits are reported.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special, stats  # type: ignore[import-untyped]

from ..errors import InvalidInputError
from ._efftox import EffTox, _utilities
from ._efftox_model import PARAMETERS, T_DF, _laplace, log_prior, marginals
from ._simulate import OperatingCharacteristics, Progress, _setup, _State, _summarise, _treat

__all__ = ["EffToxOperatingCharacteristics", "simulate_efftox"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
PRIOR_SHARE = 0.5
INFLATE = 4.0
PSEUDO_PER_DOSE = 6


@dataclass(frozen=True)
class EffToxOperatingCharacteristics(OperatingCharacteristics):
    """:class:`OperatingCharacteristics` of EffTox, with the sampler's quality.

    Attributes
    ----------
    num_draws
        Prior draws shared by all decisions.
    min_ess, median_ess
        Smallest and median Kish effective sample size of the shared draws over all
        decisions.
    refits
        Decisions made again by :meth:`EffTox.fit` for want of effective draws.
    """

    num_draws: int = 0
    min_ess: float = math.nan
    median_ess: float = math.nan
    refits: int = 0


class _Draws:
    """Shared draws: marginal probabilities, the log joint table, log prior / proposal.

    The proposal is the defensive mixture of half the prior and half a multivariate t
    (4 df) at the Laplace approximation of the posterior given ``pseudo`` counts (the
    scenario's expected outcomes), its covariance inflated ``INFLATE`` times; the
    weights ``prior x likelihood / proposal`` are valid for any trial's data, and the
    prior half bounds ``prior / proposal`` by 2 (Hesterberg 1995).
    """

    def __init__(
        self, design: EffTox, num_draws: int, rng: np.random.Generator, pseudo: FloatArray
    ) -> None:
        pri = design.priors
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Desired error not necessarily achieved")
            mode, cov = _laplace(design.x, pseudo, pri)
        t_dist = stats.multivariate_t(loc=mode, shape=INFLATE * cov, df=T_DF)
        n_prior = int(rng.binomial(num_draws, PRIOR_SHARE))
        theta = np.vstack(
            [
                rng.normal(pri.means, pri.sds, size=(n_prior, len(PARAMETERS))),
                np.atleast_2d(t_dist.rvs(size=num_draws - n_prior, random_state=rng)),
            ]
        )
        lp = log_prior(theta, pri)
        log_q = np.logaddexp(
            np.log(PRIOR_SHARE) + lp, np.log1p(-PRIOR_SHARE) + t_dist.logpdf(theta)
        )
        self.log_base = np.asarray(lp - log_q, float)
        pe, pt = marginals(theta, design.x)
        k = pe * (1 - pe) * pt * (1 - pt) * np.tanh(theta[:, 5, None] / 2)
        joint = np.stack(
            [pe * (1 - pt) - k, (1 - pe) * (1 - pt) + k, pe * pt + k, (1 - pe) * pt - k], -1
        )
        # (K * 4, S): a trial's log-likelihood is its flattened counts times this table
        self.log_joint = np.log(np.maximum(joint, 1e-300)).reshape(num_draws, -1).T.copy()
        self.prob_eff, self.prob_tox = pe, pt
        self.acc_eff = (pe > design.efficacy_hurdle).astype(float)
        self.acc_tox = (pt < design.toxicity_hurdle).astype(float)


def recommend(
    design: EffTox, draws: _Draws, joint: IntArray, tried: npt.NDArray[np.bool_]
) -> tuple[IntArray, FloatArray]:
    """EffTox's recommended dose (0-based, -1 for none) per trial and each decision's ESS.

    ``joint`` has shape ``(trials, doses, 4)`` (counts in the order of
    :meth:`CohortOutcomes.joint_counts`), ``tried`` ``(trials, doses)``. The rule is
    :meth:`EffTox.fit`'s: acceptable when ``P(pi_E > hurdle) > p_e``,
    ``P(pi_T < hurdle) > p_t`` and within one level of the doses tried; the acceptable
    dose of highest utility of the posterior means.
    """
    loglik = joint.reshape(joint.shape[0], -1).astype(float) @ draws.log_joint
    loglik += draws.log_base
    weights = np.exp(loglik - special.logsumexp(loglik, axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    ess = 1.0 / np.sum(weights**2, axis=1)
    prob_eff, prob_tox = weights @ draws.prob_eff, weights @ draws.prob_tox
    acc_eff, acc_tox = weights @ draws.acc_eff, weights @ draws.acc_tox
    utility = _utilities(prob_eff, prob_tox, eff0=design.eff0, tox1=design.tox1, p=design.p)
    levels = np.arange(design.num_doses)
    low = np.where(tried.any(axis=1), tried.argmax(axis=1), 0)
    high = design.num_doses - 1 - tried[:, ::-1].argmax(axis=1)
    in_range = (levels >= low[:, None] - 1) & (levels <= high[:, None] + 1)
    acceptable = (acc_eff > design.p_e) & (acc_tox > design.p_t) & in_range
    best = np.where(acceptable, utility, -np.inf)
    chosen = np.where(acceptable.any(axis=1), best.argmax(axis=1), -1)
    return chosen.astype(np.int64), np.asarray(ess, float)


def counts_to_outcomes(joint: IntArray) -> str:
    """Cohort notation of one trial's joint counts ``(doses, 4)``, one group per dose."""
    groups = []
    for level, row in enumerate(joint, start=1):
        letters = "".join(c * int(v) for c, v in zip("ENBT", row, strict=True))
        if letters:
            groups.append(f"{level}{letters}")
    return " ".join(groups)


def _refit(design: EffTox, joint: IntArray) -> int:
    fit = design.fit(counts_to_outcomes(joint))
    return -1 if fit.recommended_dose is None else fit.recommended_dose - 1


class _Chosen:
    """Adapter giving ``_summarise`` the doses EffTox selected."""

    def __init__(self, design: EffTox, chosen: IntArray) -> None:
        self.design, self.chosen, self.num_doses = design, chosen, design.num_doses

    def __repr__(self) -> str:
        return repr(self.design)

    def _select(self, n: IntArray, tox: IntArray, joint: IntArray | None) -> IntArray:
        return self.chosen


def simulate_efftox(
    design: EffTox,
    *,
    true_tox: Sequence[float],
    true_eff: Sequence[float],
    n_trials: int = 200,
    cohort_size: int = 3,
    max_n: int = 36,
    num_draws: int = 100_000,
    chunk: int = 50,
    refit_ess: float = 300.0,
    seed: int = 0,
    progress: Progress | None = None,
    label: str = "scenario",
) -> EffToxOperatingCharacteristics:
    """Operating characteristics of ``design`` by ``n_trials`` simulated trials.

    Efficacy and toxicity are drawn independently per patient (as :func:`simulate`).
    Every cohort is treated at the dose EffTox recommends; a trial stops when no dose
    is acceptable (no selection) or after ``max_n`` patients (the design's own
    ``max_n`` if smaller), when the recommended dose on all the data is selected.

    Parameters
    ----------
    design
        The :class:`EffTox` design (its priors, hurdles, cut-offs and contour).
    true_tox, true_eff
        True toxicity and efficacy probability per dose level.
    n_trials
        Number of simulated trials.
    cohort_size
        Patients per cohort.
    max_n
        Maximum sample size.
    num_draws
        Prior draws shared by all decisions (see the module notes on their ESS).
    chunk
        Trials processed together (memory about ``chunk * num_draws * 24`` bytes).
    refit_ess
        A decision whose shared-draw effective sample size is below this is made
        again by :meth:`EffTox.fit` (its own Laplace-centred sample, about 0.3 s);
        0 never refits.
    seed
        Seed of the outcomes and of the prior draws.
    progress
        Called as ``progress(trials_done, n_trials)`` after each chunk.
    label
        Scenario name carried into the result.

    Returns
    -------
    EffToxOperatingCharacteristics
        Selection, patients per dose, toxicity and efficacy rates, early stop, ESS.

    References
    ----------
    .. [1] Thall PF, Cook JD (2004). Dose-finding based on efficacy-toxicity trade-offs.
       Biometrics 60:684-693.
    .. [2] Owen AB (2013). Monte Carlo theory, methods and examples, ch. 9
       (self-normalized importance sampling, Kish's effective sample size).
    """
    if int(num_draws) < 1000:
        msg = f"num_draws must be at least 1000, not {num_draws}"
        raise InvalidInputError(msg, field="num_draws")
    if int(chunk) < 1:
        msg = f"chunk must be at least 1, not {chunk}"
        raise InvalidInputError(msg, field="chunk")
    scenario: Any = _setup(design, true_tox, true_eff, n_trials, cohort_size, max_n)  # type: ignore[arg-type]
    k = design.num_doses
    rng = np.random.default_rng(seed)
    probs = np.diff(np.concatenate([np.zeros((k, 1)), scenario[2], np.ones((k, 1))], 1), axis=1)
    draws = _Draws(
        design, int(num_draws), np.random.default_rng([seed, 1]), PSEUDO_PER_DOSE * probs
    )
    joint = np.zeros((n_trials, k, 4), np.int64)
    state = _State(np.zeros((n_trials, k), np.int64), np.zeros((n_trials, k), np.int64), joint)
    none = np.zeros(n_trials, bool)
    early = np.zeros(n_trials, bool)
    chosen = np.full(n_trials, -1, np.int64)
    limit = max_n if design.max_n is None else min(max_n, design.max_n)
    cohorts = max(1, limit // cohort_size)
    ess_all: list[FloatArray] = []
    refits = 0
    for start in range(0, n_trials, int(chunk)):
        rows = np.arange(start, min(start + int(chunk), n_trials))
        dose = np.full(rows.size, design.start_dose - 1, np.int64)
        active = np.ones(rows.size, bool)
        for step in range(cohorts):
            live = rows[active]
            _treat(state, live, dose[active], cohort_size, rng, scenario)
            rec, ess = recommend(design, draws, joint[live], state.n[live] > 0)
            for i in np.flatnonzero(ess < refit_ess):
                rec[i] = _refit(design, joint[live[i]])
                refits += 1
            ess_all.append(ess)
            stop = rec < 0
            none[live[stop]] = True
            early[live[stop]] = step < cohorts - 1
            chosen[live] = rec
            dose[active] = np.where(stop, dose[active], rec)
            active[np.flatnonzero(active)[stop]] = False
            if not active.any():
                break
        if progress is not None:
            progress(int(rows[-1]) + 1, n_trials)
    settings = (n_trials, cohort_size, max_n, seed)
    base = _summarise(_Chosen(design, chosen), state, none, early, settings, scenario, label)  # type: ignore[arg-type]
    ess_flat = np.concatenate(ess_all)
    return EffToxOperatingCharacteristics(
        **base.__dict__,
        num_draws=int(num_draws),
        min_ess=float(ess_flat.min()),
        median_ess=float(np.median(ess_flat)),
        refits=refits,
    )

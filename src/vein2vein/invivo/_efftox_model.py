"""The EffTox probability model and its posterior by defensive importance sampling.

Model (Thall & Cook 2004; Thall et al. 2014; trialr ``EffTox.stan``): codified doses
``x = log(d) - mean(log(d))``; ``logit pi_T = alpha + beta x``;
``logit pi_E = gamma + zeta x + eta x^2``; the joint probability of efficacy ``a`` and
toxicity ``b`` is ``pi_E^a (1 - pi_E)^(1-a) pi_T^b (1 - pi_T)^(1-b) + (-1)^(a+b) pi_E
(1 - pi_E) pi_T (1 - pi_T) (e^psi - 1)/(e^psi + 1)``; independent normal priors on
``(alpha, beta, gamma, zeta, eta, psi)``.

Numerical method (ours; trialr uses Stan's NUTS, the MD Anderson program spherical-radial
integration): self-normalized importance sampling. The posterior mode is found by BFGS
and the covariance by the inverse numerical Hessian there (a Laplace approximation); the
proposal is the defensive mixture (Hesterberg 1995) of 90 % multivariate t (4 degrees of
freedom) at the mode with that covariance and 10 % the prior itself, so that the weights
are bounded by ten times the likelihood and no draw can dominate through a thin proposal
tail. With no patients the draws come from the prior. Kish's effective sample size
``1 / sum(w^2)`` is reported; when it falls under ``min_ess`` the proposal is refitted
once to the weighted draws (one step of adaptive importance sampling). The Monte Carlo
standard error of every weighted mean is the delta-method
``sqrt(sum(w_i^2 (f_i - mean)^2))`` (Owen 2013, ch. 9); the largest is reported.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import linalg, optimize, special, stats  # type: ignore[import-untyped]

from ..errors import InvalidInputError

__all__ = ["EffToxPriors", "Posterior", "codified_doses", "sample_posterior"]

FloatArray = npt.NDArray[np.float64]
PARAMETERS = ("alpha", "beta", "gamma", "zeta", "eta", "psi")
DEFENSIVE_SHARE = 0.1
T_DF = 4


@dataclass(frozen=True)
class EffToxPriors:
    """Normal priors of the EffTox parameters (means and standard deviations).

    The defaults are the advanced prostate cancer example of Thall et al. (2014), the
    values of trialr's ``stan_efftox_demo``.

    Attributes
    ----------
    alpha_mean, alpha_sd
        Toxicity intercept.
    beta_mean, beta_sd
        Toxicity slope in the codified dose.
    gamma_mean, gamma_sd
        Efficacy intercept.
    zeta_mean, zeta_sd
        Efficacy slope.
    eta_mean, eta_sd
        Efficacy quadratic term.
    psi_mean, psi_sd
        Efficacy-toxicity association.
    """

    alpha_mean: float = -7.9593
    alpha_sd: float = 3.5487
    beta_mean: float = 1.5482
    beta_sd: float = 3.5018
    gamma_mean: float = 0.7367
    gamma_sd: float = 2.5423
    zeta_mean: float = 3.4181
    zeta_sd: float = 2.4406
    eta_mean: float = 0.0
    eta_sd: float = 0.2
    psi_mean: float = 0.0
    psi_sd: float = 1.0

    def __post_init__(self) -> None:
        for name in PARAMETERS:
            mean, sd = getattr(self, f"{name}_mean"), getattr(self, f"{name}_sd")
            if not np.isfinite(mean):
                msg = f"prior mean {mean!r} is not a finite number"
                raise InvalidInputError(msg, field=f"{name}_mean")
            if not (np.isfinite(sd) and sd > 0):
                msg = f"prior standard deviation {sd!r} must be positive"
                raise InvalidInputError(msg, field=f"{name}_sd")

    @property
    def means(self) -> FloatArray:
        """Prior means in the order alpha, beta, gamma, zeta, eta, psi."""
        return np.array([getattr(self, f"{n}_mean") for n in PARAMETERS], dtype=float)

    @property
    def sds(self) -> FloatArray:
        """Prior standard deviations in the same order."""
        return np.array([getattr(self, f"{n}_sd") for n in PARAMETERS], dtype=float)


def codified_doses(real_doses: npt.ArrayLike) -> FloatArray:
    """Thall & Cook's codified doses ``log(d) - mean(log(d))``; doses must increase."""
    try:
        doses = np.asarray(real_doses, dtype=float)
    except (TypeError, ValueError):
        msg = f"real_doses must be numbers, not {real_doses!r}"
        raise InvalidInputError(msg, field="real_doses") from None
    if doses.ndim != 1 or doses.size < 1:
        msg = "real_doses must be a non-empty list of numbers"
        raise InvalidInputError(msg, field="real_doses")
    if not (np.all(np.isfinite(doses)) and np.all(doses > 0)):
        msg = f"real_doses must be positive numbers, not {doses.tolist()}"
        raise InvalidInputError(msg, field="real_doses")
    if np.any(np.diff(doses) <= 0):
        msg = f"real_doses must be strictly increasing, not {doses.tolist()}"
        raise InvalidInputError(msg, field="real_doses")
    logs = np.log(doses)
    return np.asarray(logs - logs.mean(), dtype=float)


def marginals(theta: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(pi_E, pi_T)`` per draw and dose, each of shape ``(draws, doses)``."""
    alpha, beta, gamma, zeta, eta = (theta[:, i, None] for i in range(5))
    prob_tox = special.expit(alpha + beta * x)
    prob_eff = special.expit(gamma + zeta * x + eta * x**2)
    return np.asarray(prob_eff, float), np.asarray(prob_tox, float)


def log_likelihood(theta: FloatArray, x: FloatArray, counts: FloatArray) -> FloatArray:
    """Log-likelihood per draw; ``counts`` per dose of (E only, neither, both, T only)."""
    used = counts.sum(axis=1) > 0
    pe, pt = marginals(theta, x[used])
    k = pe * (1 - pe) * pt * (1 - pt) * np.tanh(theta[:, 5, None] / 2)
    joint = np.stack(
        [pe * (1 - pt) - k, (1 - pe) * (1 - pt) + k, pe * pt + k, (1 - pe) * pt - k], axis=-1
    )
    log_joint = np.log(np.maximum(joint, 1e-300))
    return np.asarray(np.einsum("sdk,dk->s", log_joint, counts[used]), float)


def log_prior(theta: FloatArray, priors: EffToxPriors) -> FloatArray:
    """Log prior density per draw."""
    return np.asarray(stats.norm.logpdf(theta, priors.means, priors.sds).sum(axis=1), float)


@dataclass(frozen=True)
class Posterior:
    """Weighted posterior draws of ``(pi_E, pi_T)`` per dose.

    Attributes
    ----------
    prob_eff, prob_tox
        Arrays ``(draws, doses)``.
    weights
        Normalized importance weights (sum 1).
    ess
        Kish's effective sample size.
    method
        ``prior`` (no data), ``laplace-t`` or ``adapted`` (the refitted proposal).
    """

    prob_eff: FloatArray
    prob_tox: FloatArray
    weights: FloatArray
    ess: float
    method: str

    def mean(self, values: FloatArray) -> FloatArray:
        """Weighted mean over draws of an array ``(draws, doses)``."""
        return np.asarray(self.weights @ values, float)

    def mc_se(self, values: FloatArray) -> FloatArray:
        """Delta-method Monte Carlo standard error of :meth:`mean`."""
        centred = values - self.mean(values)
        return np.asarray(np.sqrt((self.weights**2) @ centred**2), float)


def _laplace(
    x: FloatArray, counts: FloatArray, priors: EffToxPriors
) -> tuple[FloatArray, FloatArray]:
    """Posterior mode and covariance (inverse numerical Hessian; prior-scaled fallback)."""
    from statsmodels.tools.numdiff import approx_hess3  # type: ignore[import-untyped]

    def negative(theta: FloatArray) -> float:
        point = np.asarray(theta, float)[None, :]
        return -float(log_prior(point, priors)[0] + log_likelihood(point, x, counts)[0])

    result = optimize.minimize(negative, priors.means, method="BFGS")
    mode = np.asarray(result.x, float)
    hessian = np.asarray(approx_hess3(mode, negative), float)
    try:
        covariance = np.asarray(linalg.inv(hessian), float)
        linalg.cholesky(covariance, lower=True)
    except (linalg.LinAlgError, ValueError):
        covariance = np.diag(priors.sds**2)
    return mode, covariance


def _importance(
    rng: np.random.Generator,
    priors: EffToxPriors,
    x: FloatArray,
    counts: FloatArray,
    *,
    centre: FloatArray,
    covariance: FloatArray,
    num_samples: int,
) -> tuple[FloatArray, FloatArray]:
    """Draws and normalized weights from the defensive t/prior mixture."""
    proposal = stats.multivariate_t(loc=centre, shape=covariance, df=T_DF)
    n_prior = int(rng.binomial(num_samples, DEFENSIVE_SHARE))
    from_t = np.atleast_2d(proposal.rvs(size=num_samples - n_prior, random_state=rng))
    from_prior = rng.normal(priors.means, priors.sds, size=(n_prior, len(PARAMETERS)))
    theta = np.vstack([from_t, from_prior])
    lp = log_prior(theta, priors)
    log_q = np.logaddexp(
        np.log1p(-DEFENSIVE_SHARE) + proposal.logpdf(theta), np.log(DEFENSIVE_SHARE) + lp
    )
    log_w = lp + log_likelihood(theta, x, counts) - log_q
    weights = np.exp(log_w - special.logsumexp(log_w))
    return theta, np.asarray(weights / weights.sum(), float)


def sample_posterior(
    x: FloatArray,
    counts: FloatArray,
    priors: EffToxPriors,
    *,
    num_samples: int,
    seed: int,
    min_ess: float,
) -> Posterior:
    """Weighted posterior draws for the codified doses ``x`` and joint ``counts``.

    ``counts`` has shape ``(doses, 4)``: efficacy without toxicity, neither, both,
    toxicity without efficacy (the order of :meth:`CohortOutcomes.joint_counts`).
    """
    rng = np.random.default_rng(seed)
    if counts.sum() == 0:
        theta = rng.normal(priors.means, priors.sds, size=(num_samples, len(PARAMETERS)))
        weights = np.full(num_samples, 1.0 / num_samples)
        pe, pt = marginals(theta, x)
        return Posterior(pe, pt, weights, float(num_samples), "prior")
    with warnings.catch_warnings():
        # BFGS may stop short of its gradient tolerance on flat posteriors; the mode only
        # centres the proposal, so the importance weights correct any shortfall.
        warnings.filterwarnings("ignore", message="Desired error not necessarily achieved")
        mode, covariance = _laplace(x, counts, priors)
    theta, weights = _importance(
        rng, priors, x, counts, centre=mode, covariance=covariance, num_samples=num_samples
    )
    method = "laplace-t"
    ess = float(1.0 / np.sum(weights**2))
    if ess < min_ess:
        centre = weights @ theta
        spread = np.cov(theta.T, aweights=weights) + 1e-9 * np.eye(len(PARAMETERS))
        theta, weights = _importance(
            rng, priors, x, counts, centre=centre, covariance=spread, num_samples=num_samples
        )
        ess, method = float(1.0 / np.sum(weights**2)), "adapted"
    pe, pt = marginals(theta, x)
    return Posterior(pe, pt, weights, ess, method)

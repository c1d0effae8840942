"""Operating characteristics of TITE-BOIN by event-driven trials in continuous time.

Each trial runs on a calendar of days. Patients arrive one after another (exponential
inter-arrival times for Poisson accrual, or a fixed gap), in cohorts: the dose of a cohort
is decided when its first patient arrives, from what is known at that moment (DLTs seen so
far, the follow-up of patients still in their window). A patient with a DLT has it at a
time drawn within the DLT window; the others are followed to its end. While the design
suspends accrual (more than half the patients at the current dose pending), the waiting
patient is treated at the first moment a pending patient resolves (a DLT or the end of
its window) and the rule allows. The MTD is selected once every patient has completed
follow-up. The decisions are :meth:`TITEBOIN.rule` with BOIN's elimination and stopping
rules, the same code as :meth:`TITEBOIN.decide`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ._boin import _elimination_min
from ._simulate import (
    OperatingCharacteristics,
    Progress,
    _probabilities,
    _State,
    _summarise,
    check_run_size,
)
from ._tite import TITEBOIN

__all__ = ["DAYS_PER_MONTH", "TimedOperatingCharacteristics", "simulate_tite"]

DAYS_PER_MONTH = 365.25 / 12
_EPS = 1e-9


@dataclass(frozen=True)
class TimedOperatingCharacteristics(OperatingCharacteristics):
    """:class:`OperatingCharacteristics` of trials run in calendar time.

    Attributes
    ----------
    mean_duration_months
        Mean trial duration in months (30.44 days): from the first patient to the end of
        the last patient's DLT window, or to the decision that stopped the trial.
    accrual_per_month
        Mean patients arriving per month.
    dlt_window_days
        The DLT assessment window.
    late_onset
        Share of DLTs that occur in the second half of the window.
    """

    mean_duration_months: float = math.nan
    accrual_per_month: float = math.nan
    dlt_window_days: float = math.nan
    late_onset: float = math.nan


def _dlt_times(rng: np.random.Generator, size: int, window: float, late: float) -> Any:
    """Days to DLT: second half of the window with probability ``late``, else the first.

    Uniform within each half (``late = 0.5``: uniform over the whole window).
    """
    second = rng.random(size) < late
    return window * (0.5 * rng.random(size) + 0.5 * second)


class _Trial:
    """One trial's patients: entry day, dose (0-based), day of DLT (inf: none)."""

    def __init__(self, max_n: int) -> None:
        self.entry = np.zeros(max_n)
        self.dose = np.zeros(max_n, np.int64)
        self.dlt = np.full(max_n, np.inf)
        self.m = 0


def _decide(
    design: TITEBOIN, trial: _Trial, now: float, d: int, elim_min: Any
) -> tuple[int | None, str, float]:
    """``(next dose 0-based, action, next event day)`` at day ``now``, current dose ``d``.

    ``action`` is ``stop-select``, ``stop-none``, ``suspend`` or the rule's action; the
    next event day (the earliest resolution of a pending patient) matters for suspend.
    """
    k, m, window = design.num_doses, trial.m, design.window
    entry, dose, dlt = trial.entry[:m], trial.dose[:m], trial.dlt[:m]
    seen = dlt <= now
    n = np.bincount(dose, minlength=k)
    y = np.bincount(dose, weights=seen, minlength=k).astype(np.int64)
    hit = np.flatnonzero(y >= elim_min[n])
    first_elim = int(hit[0]) + 1 if hit.size else k + 1
    if n[d] >= design.n_earlystop:
        return None, "stop-select", now
    if first_elim == 1:
        return None, "stop-none", now
    days = now - entry
    pending = (dose == d) & ~seen & (days < window - _EPS)
    c = int(pending.sum())
    ess = n[d] - c + float(days[pending].sum()) / window
    nxt, action = design.rule(d + 1, int(n[d]), int(y[d]), c, ess, first_elim)
    if nxt is None:
        resolve = np.minimum(dlt[pending], entry[pending] + window)
        return None, action, float(resolve.min())
    return nxt - 1, action, now


def simulate_tite(
    design: TITEBOIN,
    *,
    true_tox: Sequence[float],
    n_trials: int = 2000,
    cohort_size: int = 3,
    max_n: int = 36,
    accrual_per_month: float = 2.0,
    accrual: str = "poisson",
    late_onset: float = 0.5,
    wait_for_follow_up: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
    label: str = "scenario",
) -> TimedOperatingCharacteristics:
    """Operating characteristics of TITE-BOIN by event-driven trials in calendar time.

    Parameters
    ----------
    design
        The :class:`TITEBOIN` design; its ``dlt_window_days`` is the DLT window.
    true_tox
        True probability of a DLT within the window, per dose level.
    n_trials
        Number of simulated trials.
    cohort_size
        Patients per cohort (one dose decision per cohort).
    max_n
        Maximum sample size (``max_n // cohort_size`` cohorts).
    accrual_per_month
        Mean patients arriving per month of 30.44 days.
    accrual
        ``poisson`` (exponential gaps between arrivals) or ``fixed`` (equal gaps).
    late_onset
        Share of DLTs in the second half of the window; DLT days are uniform within
        each half (0.5: uniform over the whole window). Ours: a piecewise-uniform
        stand-in for the late-onset settings of published simulations, not their
        distribution.
    wait_for_follow_up
        True: no patient is treated until every earlier patient has completed the
        window, i.e. plain BOIN in calendar time (the comparator for trial duration).
    seed
        Seed of the numpy random generator.
    progress
        Called as ``progress(trials_done, n_trials)``.
    label
        Scenario name carried into the result.

    Returns
    -------
    TimedOperatingCharacteristics
        Selection, patients per dose, toxicity rate, early stop and mean duration.

    References
    ----------
    .. [1] Yuan Y, Lin R, Li D, Nie L, Warren KE (2018). Time-to-event Bayesian optimal
       interval design to accelerate phase I trials. Clin Cancer Res 24:4921-4930
       (simulation set-up: cohorts of 3, accrual in patients per month, DLT times
       within the assessment window, accrual suspended by the rule).
    """
    tox = _probabilities(true_tox, "true_tox")
    if tox.size != design.num_doses:
        msg = f"{tox.size} toxicity probabilities for a {design.num_doses}-dose design"
        raise InvalidInputError(msg, field="true_tox")
    check_run_size(n_trials, cohort_size, max_n)
    if max_n < cohort_size:
        msg = f"max_n {max_n} is smaller than one cohort ({cohort_size})"
        raise InvalidInputError(msg, field="max_n")
    if not (math.isfinite(accrual_per_month) and accrual_per_month > 0):
        msg = f"the accrual rate must be a positive number, not {accrual_per_month}"
        raise InvalidInputError(msg, field="accrual_per_month")
    if accrual not in ("poisson", "fixed"):
        msg = f"accrual must be 'poisson' or 'fixed', not {accrual!r}"
        raise InvalidInputError(msg, field="accrual")
    if not 0 <= late_onset <= 1:
        msg = f"late_onset {late_onset!r} is not a share in [0, 1]"
        raise InvalidInputError(msg, field="late_onset")

    k, window = design.num_doses, design.window
    cohorts = max_n // cohort_size
    elim_min = np.asarray(_elimination_min(design.target, design.cutoff_eliminate, max_n))
    gap = DAYS_PER_MONTH / accrual_per_month
    rng = np.random.default_rng(seed)
    state = _State(np.zeros((n_trials, k), np.int64), np.zeros((n_trials, k), np.int64), None)
    none = np.zeros(n_trials, bool)
    early = np.zeros(n_trials, bool)
    duration = np.zeros(n_trials)
    for t in range(n_trials):
        gaps = rng.exponential(gap, max_n) if accrual == "poisson" else np.full(max_n, gap)
        toxic = rng.random(max_n)
        onset = _dlt_times(rng, max_n, window, late_onset)
        trial = _Trial(max_n)
        now, d, ended = 0.0, design.start_dose - 1, None
        for step in range(cohorts):
            if step:
                now = trial.entry[trial.m - 1] + gaps[trial.m]
                if wait_for_follow_up:
                    now = max(now, trial.entry[trial.m - 1] + window)
                while True:
                    nxt, action, event = _decide(design, trial, now, d, elim_min)
                    if action != "suspend":
                        break
                    now = max(now, event)
                if nxt is None:
                    ended = action
                    break
                d = nxt
            for _ in range(cohort_size):
                i = trial.m
                if i:
                    now = max(now, trial.entry[i - 1] + gaps[i]) if i % cohort_size else now
                trial.entry[i], trial.dose[i] = now, d
                if toxic[i] < tox[d]:
                    trial.dlt[i] = now + onset[i]
                trial.m += 1
        m = trial.m
        state.n[t] = np.bincount(trial.dose[:m], minlength=k)
        state.tox[t] = np.bincount(
            trial.dose[:m], weights=np.isfinite(trial.dlt[:m]), minlength=k
        ).astype(np.int64)
        none[t] = ended == "stop-none"
        early[t] = ended is not None
        duration[t] = now if ended == "stop-none" else trial.entry[m - 1] + window
        if progress is not None and ((t + 1) % 100 == 0 or t + 1 == n_trials):
            progress(t + 1, n_trials)
    base = _summarise(
        design, state, none, early, (n_trials, cohort_size, max_n, seed), (tox, None, None), label
    )
    return TimedOperatingCharacteristics(
        **base.__dict__,
        mean_duration_months=float(duration.mean() / DAYS_PER_MONTH),
        accrual_per_month=float(accrual_per_month),
        dlt_window_days=window,
        late_onset=float(late_onset),
    )

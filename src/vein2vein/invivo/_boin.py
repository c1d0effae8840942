"""BOIN: the Bayesian optimal interval design (Liu & Yuan 2015)."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats  # type: ignore[import-untyped]

from ..errors import InvalidInputError
from ._isotonic import isotonic_rows
from ._outcomes import CohortOutcomes, DoseDecision, parse_outcomes

__all__ = ["BOIN", "boin_boundaries", "check_probability"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def check_probability(value: float, field: str, *, open_interval: bool = True) -> float:
    """``value`` as a float in (0, 1) (or [0, 1]); InvalidInputError naming ``field``."""
    number = float(value)
    ok = 0 < number < 1 if open_interval else 0 <= number <= 1
    if not ok or math.isnan(number):
        interval = "(0, 1)" if open_interval else "[0, 1]"
        msg = f"{number!r} is not a probability in {interval}"
        raise InvalidInputError(msg, field=field)
    return number


def boin_boundaries(
    target: float, *, p_saf: float | None = None, p_tox: float | None = None
) -> tuple[float, float]:
    """BOIN escalation and de-escalation boundaries ``(lambda_e, lambda_d)``.

    Parameters
    ----------
    target
        Target toxicity probability phi.
    p_saf
        Highest toxicity probability deemed sub-therapeutic (phi1); 0.6 * target.
    p_tox
        Lowest toxicity probability deemed overly toxic (phi2); 1.4 * target.

    Returns
    -------
    tuple of float
        ``lambda_e = log((1-phi1)/(1-phi)) / log(phi(1-phi1) / (phi1(1-phi)))`` and
        ``lambda_d = log((1-phi)/(1-phi2)) / log(phi2(1-phi) / (phi(1-phi2)))``.

    References
    ----------
    .. [1] Liu S, Yuan Y (2015). Bayesian optimal interval designs for phase I clinical
       trials. J R Stat Soc C 64:507-523, equation (2) and Table 1.

    Examples
    --------
    >>> [round(b, 3) for b in boin_boundaries(0.3)]
    [0.236, 0.359]
    """
    phi = check_probability(target, "target")
    phi1 = check_probability(0.6 * phi if p_saf is None else p_saf, "p_saf")
    phi2 = check_probability(1.4 * phi if p_tox is None else p_tox, "p_tox")
    if not phi1 < phi < phi2:
        msg = f"need p_saf < target < p_tox, got {phi1} < {phi} < {phi2}"
        raise InvalidInputError(msg, field="p_saf")
    lambda_e = math.log((1 - phi1) / (1 - phi)) / math.log(phi * (1 - phi1) / (phi1 * (1 - phi)))
    lambda_d = math.log((1 - phi) / (1 - phi2)) / math.log(phi2 * (1 - phi) / (phi * (1 - phi2)))
    return lambda_e, lambda_d


@cache
def _elimination_min(target: float, cutoff: float, n_max: int) -> tuple[int, ...]:
    """Smallest toxicity count eliminating a dose, for n = 0..n_max (n_max + 1 if none)."""
    out = []
    for n in range(n_max + 1):
        y = np.arange(n + 1)
        post = stats.beta.sf(target, y + 1, n - y + 1)
        hit = np.flatnonzero(post > cutoff)
        out.append(int(hit[0]) if n >= 3 and hit.size else n_max + 1)
    return tuple(out)


class BOIN:
    """The Bayesian optimal interval design for the maximum tolerated dose.

    Escalate when the observed toxicity rate at the current dose is at most
    ``lambda_e``, de-escalate when it is at least ``lambda_d``, stay otherwise; a dose
    with ``P(p > target | data) > cutoff_eliminate`` under a Beta(1, 1) prior and at least
    3 patients is eliminated with all higher doses, and the trial stops when the lowest
    dose is eliminated. The MTD is selected by isotonic regression of the Beta(0.05,
    0.05) posterior means (weights 1/variance), the dose closest to the target, ties
    going to the higher dose below the target and the lower dose above it (the R
    package ``BOIN``'s ``select.mtd``).

    Parameters
    ----------
    num_doses
        Number of dose levels.
    target
        Target toxicity probability.
    p_saf, p_tox
        phi1 and phi2 of the boundaries (default 0.6 and 1.4 times the target).
    cutoff_eliminate
        Posterior probability above which a dose is eliminated (0.95).
    n_earlystop
        Stop (and select the MTD) when this many patients have been treated at the
        current dose (100, as in the R package: effectively off).
    max_n
        Stop (and select the MTD) when this many patients have been treated in all.
    start_dose
        Dose level (1-based) of the first cohort.

    References
    ----------
    .. [1] Liu S, Yuan Y (2015). Bayesian optimal interval designs for phase I clinical
       trials. J R Stat Soc C 64:507-523.
    .. [2] Yuan Y, Hess KR, Hilsenbeck SG, Gilbert MR (2016). Bayesian optimal interval
       design: a simple and well-performing design for phase I oncology trials. Clin
       Cancer Res 22:4291-4301 (Table 1: the boundary table).
    .. [3] Yan F, Zhang L, Zhou Y, Pan H, Liu S, Yuan Y (2020). BOIN: an R package for
       designing single-agent and drug-combination dose-finding trials using Bayesian
       optimal interval designs. J Stat Softw 94(13) (``get.boundary``, ``select.mtd``).

    Examples
    --------
    >>> BOIN(5, 0.3).next_dose("1NNN 2NTT")
    1
    """

    name = "BOIN"
    uses_efficacy = False

    def __init__(
        self,
        num_doses: int,
        target: float,
        *,
        p_saf: float | None = None,
        p_tox: float | None = None,
        cutoff_eliminate: float = 0.95,
        n_earlystop: int = 100,
        max_n: int | None = None,
        start_dose: int = 1,
    ) -> None:
        if int(num_doses) < 1:
            msg = f"num_doses must be at least 1, not {num_doses}"
            raise InvalidInputError(msg, field="num_doses")
        self.num_doses = int(num_doses)
        self.target = check_probability(target, "target")
        self.lambda_e, self.lambda_d = boin_boundaries(self.target, p_saf=p_saf, p_tox=p_tox)
        self.cutoff_eliminate = check_probability(cutoff_eliminate, "cutoff_eliminate")
        self.n_earlystop = int(n_earlystop)
        self.max_n = max_n
        if not 1 <= start_dose <= self.num_doses:
            msg = f"start_dose {start_dose} is outside 1..{self.num_doses}"
            raise InvalidInputError(msg, field="start_dose")
        self.start_dose = int(start_dose)

    def __repr__(self) -> str:
        return f"BOIN(num_doses={self.num_doses}, target={self.target})"

    def boundaries(self) -> tuple[float, float]:
        """The escalation and de-escalation boundaries ``(lambda_e, lambda_d)``."""
        return self.lambda_e, self.lambda_d

    def decision_table(self, max_n: int = 12) -> pd.DataFrame:
        """The ``get.boundary`` table for n = 1..max_n patients at a dose.

        Columns ``n``, ``escalate_max`` (escalate if DLTs <= this), ``deescalate_min``
        (de-escalate if DLTs >= this) and ``eliminate_min`` (eliminate if DLTs >= this;
        missing for n < 3 or when no count eliminates).
        """
        elim = _elimination_min(self.target, self.cutoff_eliminate, max_n)
        rows = []
        for n in range(1, max_n + 1):
            rows.append(
                {
                    "n": n,
                    "escalate_max": math.floor(self.lambda_e * n),
                    "deescalate_min": math.floor(self.lambda_d * n) + 1,
                    "eliminate_min": elim[n] if elim[n] <= n else None,
                }
            )
        return pd.DataFrame(rows).astype({"eliminate_min": "Int64"})

    # ------------------------------------------------------------------ one trial

    def _parse(self, outcomes: str | CohortOutcomes) -> CohortOutcomes:
        if isinstance(outcomes, CohortOutcomes):
            return outcomes
        return parse_outcomes(outcomes, num_doses=self.num_doses)

    def eliminated(self, outcomes: str | CohortOutcomes) -> tuple[int, ...]:
        """Dose levels (1-based) eliminated for toxicity by the data so far."""
        n, tox, _ = self._parse(outcomes).counts()
        mask = self._eliminated(n[None, :], tox[None, :])[0]
        return tuple(int(i) + 1 for i in np.flatnonzero(mask))

    def select_mtd(self, outcomes: str | CohortOutcomes) -> int | None:
        """The MTD (1-based) by isotonic regression; None if the lowest dose is too toxic."""
        n, tox, _ = self._parse(outcomes).counts()
        chosen = int(self._select(n[None, :], tox[None, :], None)[0])
        return None if chosen < 0 else chosen + 1

    def next_dose(self, outcomes: str) -> int | None:
        """Dose level (1-based) for the next cohort, or None when the trial stops."""
        return self.decide(outcomes).next_dose

    def decide(self, outcomes: str | CohortOutcomes) -> DoseDecision:
        """The decision after ``outcomes``, with reasons."""
        data = self._parse(outcomes)
        if data.num_patients == 0:
            reason = f"no patients yet: start at dose {self.start_dose}"
            return DoseDecision(self.name, self.start_dose, "start", (reason,), None)
        n, tox, _ = data.counts()
        d = int(data.dose[-1]) - 1
        eliminated = self.eliminated(data)
        selected = self.select_mtd(data)
        reasons = [
            f"dose {d + 1}: {tox[d]}/{n[d]} DLT = {tox[d] / n[d]:.3f}; "
            f"lambda_e = {self.lambda_e:.3f}, lambda_d = {self.lambda_d:.3f}"
        ]
        if eliminated:
            reasons.append(
                f"dose(s) {', '.join(map(str, eliminated))} eliminated: "
                f"P(p > {self.target} | data) > {self.cutoff_eliminate}"
            )
        if n[d] >= self.n_earlystop:
            reasons.append(f"{n[d]} patients at dose {d + 1} >= n_earlystop {self.n_earlystop}")
            return DoseDecision(self.name, None, "stop", tuple(reasons), selected, eliminated)
        if 1 in eliminated:
            reasons.append("the lowest dose is eliminated: stop, no dose selected")
            return DoseDecision(self.name, None, "stop", tuple(reasons), None, eliminated)
        if self.max_n is not None and data.num_patients >= self.max_n:
            reasons.append(f"maximum sample size {self.max_n} reached")
            return DoseDecision(self.name, None, "stop", tuple(reasons), selected, eliminated)
        step = self._step(n[None, :], tox[None, :], np.array([d]))[0]
        action = {1: "escalate", 0: "stay", -1: "de-escalate"}[int(np.sign(step - d))]
        return DoseDecision(self.name, int(step) + 1, action, tuple(reasons), selected, eliminated)

    # ------------------------------------------------------------------ many trials

    def _eliminated(self, n: IntArray, tox: IntArray) -> BoolArray:
        table = np.asarray(
            _elimination_min(self.target, self.cutoff_eliminate, int(n.max(initial=0)))
        )
        hit: BoolArray = tox >= table[n]
        return np.asarray(np.logical_or.accumulate(hit, axis=1), dtype=bool)

    def _step(self, n: IntArray, tox: IntArray, dose: IntArray) -> IntArray:
        """Next dose (0-based) from the current ``dose`` by the BOIN boundaries."""
        rows = np.arange(n.shape[0])
        nd, yd = n[rows, dose], tox[rows, dose]
        elim = self._eliminated(n, tox)
        up = np.minimum(dose + 1, self.num_doses - 1)
        can_up = (dose < self.num_doses - 1) & ~elim[rows, up]
        escalate = (yd <= np.floor(self.lambda_e * nd)) & can_up
        deescalate = yd >= np.floor(self.lambda_d * nd) + 1
        out = np.where(escalate, dose + 1, np.where(deescalate, np.maximum(dose - 1, 0), dose))
        # Never stay at or move into an eliminated dose: go below the first eliminated one.
        first_elim = np.where(elim.any(axis=1), elim.argmax(axis=1), self.num_doses)
        clamped: IntArray = np.minimum(out, np.maximum(first_elim - 1, 0)).astype(np.int64)
        return clamped

    def _batch_next(
        self, n: IntArray, tox: IntArray, joint: IntArray | None, dose: IntArray
    ) -> tuple[IntArray, BoolArray, BoolArray]:
        """Next dose, stop with a selection, stop without one (the ``get.oc`` loop)."""
        rows = np.arange(n.shape[0])
        stop_select = n[rows, dose] >= self.n_earlystop
        stop_none = ~stop_select & self._eliminated(n, tox)[:, 0]
        return self._step(n, tox, dose), stop_select, stop_none

    def _select(self, n: IntArray, tox: IntArray, joint: IntArray | None) -> IntArray:
        """Selected MTD (0-based) per row, -1 for none (``select.mtd``)."""
        elim = self._eliminated(n, tox)
        adm = (n > 0) & ~elim
        phat = (tox + 0.05) / (n + 0.1)
        var = (tox + 0.05) * (n - tox + 0.05) / ((n + 0.1) ** 2 * (n + 0.1 + 1))
        fit = isotonic_rows(phat, 1.0 / var, mask=adm)
        fit = fit + np.cumsum(adm, axis=1) * 1e-10
        dist = np.where(adm, np.abs(fit - self.target), np.inf)
        chosen = dist.argmin(axis=1)
        none = elim[:, 0] | ~adm.any(axis=1)
        return np.where(none, -1, chosen).astype(np.int64)

"""BOIN12: utility-based phase I/II dose finding (Lin, Zhou, Yan, Li & Yuan 2020)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special, stats  # type: ignore[import-untyped]

from ..errors import InvalidInputError
from ._boin import boin_boundaries, check_probability
from ._isotonic import isotonic_rows
from ._outcomes import CohortOutcomes, DoseDecision, parse_outcomes

__all__ = ["BOIN12"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class BOIN12:
    """BOIN12: the optimal biological dose by toxicity, efficacy and their utility.

    Each patient's outcome scores a utility: 100 for efficacy without toxicity (u1),
    ``u00`` for neither (u2, 40), ``u11`` for both (u3, 60) and 0 for toxicity without
    efficacy (u4). A dose's data give the quasi-binomial count
    ``x = sum(u * count) / 100`` of ``n`` and the desirability score is
    ``P(u > u_b | data)`` under Beta(1 + x, 1 + n - x), with the benchmark
    ``u_b = u_bar + (100 - u_bar) / 2`` and ``u_bar`` the utility of a dose at
    ``(phi_e, phi_t)``. A dose is inadmissible when ``P(p_T > phi_t) > c_t`` (it and the
    doses above it) or ``P(p_E < phi_e) > c_e`` (Beta(1, 1) priors). Decisions at the
    current dose d (the paper's Table 2 and the dose-exploration rule of its Data
    Supplement, as implemented by the R package ``escalation``):

    * at least 9 patients at d, observed toxicity below ``lambda_d`` and d + 1 untried:
      escalate (exploration);
    * observed toxicity >= ``lambda_d`` (the BOIN boundary for ``phi_t``): de-escalate;
    * ``lambda_e`` < observed toxicity < ``lambda_d`` and ``n >= n_star``: the more
      desirable of d - 1 and d;
    * otherwise the most desirable admissible dose among d - 1, d, d + 1 (ties: the
      higher).

    The trial stops when the lowest dose is too toxic, when no neighbouring dose is
    admissible, when ``n_earlystop`` patients have been treated at the current dose or
    ``max_n`` in all. The optimal biological dose: the MTD by isotonic regression of the
    observed toxicity rates (closest to ``phi_t``, ties to the higher dose), then the
    most desirable admissible treated dose at or below it.

    Parameters
    ----------
    num_doses
        Number of dose levels.
    phi_t
        Highest acceptable toxicity probability (0.35).
    phi_e
        Lowest acceptable efficacy probability (0.25).
    u11
        Utility of efficacy with toxicity (60).
    u00
        Utility of neither efficacy nor toxicity (40).
    n_star
        Patients at a dose after which the stay region no longer allows escalation (6).
    c_t, c_e
        Posterior cut-offs of the toxicity and efficacy admissibility rules (0.95, 0.9).
    n_earlystop
        Stop when this many patients have been treated at the current dose (12).
    max_n
        Stop when this many patients have been treated in all (None: no limit).
    start_dose
        Dose level (1-based) of the first cohort.

    References
    ----------
    .. [1] Lin R, Zhou Y, Yan F, Li D, Yuan Y (2020). BOIN12: Bayesian optimal interval
       phase I/II trial design for utility-based dose finding in immunotherapy and
       targeted therapies. JCO Precis Oncol 4:1393-1402 (Table 2: decision rules;
       Table 3: rank-based desirability scores).
    .. [2] Brock K et al. R package ``escalation``: ``get_boin12``, ``boin12_rds``,
       ``select_boin12_obd``.

    Examples
    --------
    >>> BOIN12(5).next_dose("1NNN 2ENT 3ETT 2EEN")
    2
    """

    name = "BOIN12"
    uses_efficacy = True

    def __init__(
        self,
        num_doses: int,
        phi_t: float = 0.35,
        phi_e: float = 0.25,
        *,
        u11: float = 60.0,
        u00: float = 40.0,
        n_star: int = 6,
        c_t: float = 0.95,
        c_e: float = 0.9,
        n_earlystop: int = 12,
        max_n: int | None = None,
        start_dose: int = 1,
    ) -> None:
        if int(num_doses) < 1:
            msg = f"num_doses must be at least 1, not {num_doses}"
            raise InvalidInputError(msg, field="num_doses")
        self.num_doses = int(num_doses)
        self.phi_t = check_probability(phi_t, "phi_t")
        self.phi_e = check_probability(phi_e, "phi_e")
        for value, field in ((u11, "u11"), (u00, "u00")):
            if not 0 <= value <= 100:
                msg = f"utility {value} is outside 0..100"
                raise InvalidInputError(msg, field=field)
        self.utilities = np.array([100.0, float(u00), float(u11), 0.0])
        self.lambda_e, self.lambda_d = boin_boundaries(self.phi_t)
        self.n_star = int(n_star)
        self.c_t = check_probability(c_t, "c_t")
        self.c_e = check_probability(c_e, "c_e")
        self.n_earlystop = int(n_earlystop)
        self.max_n = max_n
        if not 1 <= start_dose <= self.num_doses:
            msg = f"start_dose {start_dose} is outside 1..{self.num_doses}"
            raise InvalidInputError(msg, field="start_dose")
        self.start_dose = int(start_dose)
        u_bar = (
            100 * self.phi_e * (1 - self.phi_t)
            + u00 * (1 - self.phi_t) * (1 - self.phi_e)
            + u11 * self.phi_t * self.phi_e
        )
        self.u_bar = float(u_bar)
        self.u_b = float(u_bar + (100 - u_bar) / 2)

    def __repr__(self) -> str:
        return f"BOIN12(num_doses={self.num_doses}, phi_t={self.phi_t}, phi_e={self.phi_e})"

    # ------------------------------------------------------------------ scores

    def _prob_benchmark(self, n: FloatArray, x: FloatArray) -> FloatArray:
        """``P(u > u_b)`` under Beta(1 + x, 1 + n - x)."""
        return np.asarray(1.0 - special.betainc(1 + x, 1 + n - x, self.u_b / 100), float)

    def desirability_table(self, sample_sizes: Sequence[int] = (0, 3, 6, 9)) -> pd.DataFrame:
        """The rank-based desirability scores by patients, toxicities and efficacies.

        Only the marginal counts are known, so the quasi-count is
        ``x = (u11 * n_eff + u00 * (n - n_tox)) / 100`` (exact when u11 + u00 = 100, as
        with the defaults). Admissible combinations are ranked by ``P(u > u_b)`` (ties
        averaged); inadmissible ones get no score.

        Returns
        -------
        pandas.DataFrame
            Columns ``n``, ``n_tox``, ``n_eff``, ``admissible``, ``probability``, ``score``.
        """
        rows = [(n, t, e) for n in sample_sizes for t in range(n + 1) for e in range(n + 1)]
        frame = pd.DataFrame(rows, columns=["n", "n_tox", "n_eff"])
        n, t, e = (frame[c].to_numpy(float) for c in ("n", "n_tox", "n_eff"))
        safety = stats.beta.sf(self.phi_t, 1 + t, 1 + n - t)
        futility = stats.beta.cdf(self.phi_e, 1 + e, 1 + n - e)
        frame["admissible"] = (safety < self.c_t) & (futility < self.c_e)
        u11, u00 = self.utilities[2], self.utilities[1]
        frame["probability"] = self._prob_benchmark(n, (u11 * e + u00 * (n - t)) / 100)
        ranks = stats.rankdata(frame.loc[frame["admissible"], "probability"], method="average")
        frame["score"] = np.nan
        frame.loc[frame["admissible"], "score"] = ranks
        return frame

    def desirability(
        self, n: int, n_tox: int, n_eff: int, *, sample_sizes: Sequence[int] = (0, 3, 6, 9)
    ) -> float | None:
        """The rank-based desirability score of one cell of :meth:`desirability_table`.

        Returns None where the combination is inadmissible (the paper's "E").
        """
        if n not in sample_sizes or not (0 <= n_tox <= n and 0 <= n_eff <= n):
            msg = f"(n={n}, n_tox={n_tox}, n_eff={n_eff}) is not in the table for {sample_sizes}"
            raise InvalidInputError(msg, field="n")
        table = self.desirability_table(sample_sizes)
        row = table[(table.n == n) & (table.n_tox == n_tox) & (table.n_eff == n_eff)].iloc[0]
        return None if not row["admissible"] else float(row["score"])

    # ------------------------------------------------------------------ many trials

    def _probs(self, n: IntArray, joint: IntArray) -> FloatArray:
        x = (joint * self.utilities).sum(axis=-1) / 100.0
        return self._prob_benchmark(n.astype(float), x)

    def _admissible(self, n: IntArray, tox: IntArray, eff: IntArray) -> tuple[BoolArray, BoolArray]:
        """(admissible, toxic) per dose; toxic doses eliminate all higher doses too."""
        too_toxic = special.betainc(1 + tox, 1 + n - tox, self.phi_t) < 1 - self.c_t
        toxic = np.logical_or.accumulate(too_toxic, axis=1)
        futile = special.betainc(1 + eff, 1 + n - eff, self.phi_e) > self.c_e
        return ~toxic & ~futile, toxic

    def _batch_next(
        self, n: IntArray, tox: IntArray, joint: IntArray | None, dose: IntArray
    ) -> tuple[IntArray, BoolArray, BoolArray]:
        if joint is None:
            msg = "BOIN12 needs the efficacy probability per dose (joint outcome counts)"
            raise InvalidInputError(msg, field="true_eff")
        k, rows = self.num_doses, np.arange(n.shape[0])
        eff = joint[..., 0] + joint[..., 2]
        adm, toxic = self._admissible(n, tox, eff)
        probs = self._probs(n, joint)
        nd = n[rows, dose]
        pt = tox[rows, dose] / np.maximum(nd, 1)
        up = np.minimum(dose + 1, k - 1)
        down = np.maximum(dose - 1, 0)
        explore = (nd > 8) & (pt < self.lambda_d) & (dose < k - 1) & (n[rows, up] == 0)
        deesc = pt >= self.lambda_d
        stay_region = (pt > self.lambda_e) & (pt < self.lambda_d) & (nd >= self.n_star)
        # candidates: d - 1, d, d + 1 (columns 0, 1, 2), admissible and in range
        cand = np.stack([down, dose, up], axis=1)
        valid = np.stack([dose > 0, np.ones_like(deesc), dose < k - 1], axis=1)
        cand_adm = adm[rows[:, None], cand] & valid
        score = np.where(cand_adm, probs[rows[:, None], cand], -np.inf)
        # general rule: highest score, ties to the higher dose
        best3 = 2 - np.argmax(score[:, ::-1], axis=1)
        general = cand[rows, best3]
        none3 = ~cand_adm.any(axis=1)
        # stay region with n >= n_star: d - 1 or d (ties to the lower, as which.max)
        both = cand_adm[:, 0] & cand_adm[:, 1]
        pick2 = np.where(score[:, 0] >= score[:, 1], down, dose)
        fallback = np.where(cand_adm[:, 0], down, np.where(cand_adm[:, 1], dose, 0))
        stay_choice = np.where(both, pick2, fallback)
        out = np.where(
            explore,
            dose + 1,
            np.where(deesc, down, np.where(stay_region, stay_choice, general)),
        )
        stop_none = toxic[:, 0] | (~explore & ~deesc & ~stay_region & none3)
        stop_select = ~stop_none & (nd >= self.n_earlystop)
        return out.astype(np.int64), stop_select, stop_none

    def _select(self, n: IntArray, tox: IntArray, joint: IntArray | None) -> IntArray:
        """Optimal biological dose (0-based) per row, -1 for none."""
        if joint is None:
            msg = "BOIN12 needs the efficacy probability per dose (joint outcome counts)"
            raise InvalidInputError(msg, field="true_eff")
        tried = n > 0
        rate = tox / np.maximum(n, 1)
        fit = isotonic_rows(rate, np.ones_like(rate), mask=tried)
        dist = np.where(tried, np.abs(fit - self.phi_t), np.inf)
        # the closest to phi_t, ties to the higher dose
        k = self.num_doses
        mtd = k - 1 - np.argmin(dist[:, ::-1] + 0.0, axis=1)
        eff = joint[..., 0] + joint[..., 2]
        adm, toxic = self._admissible(n, tox, eff)
        ok = tried & adm & (np.arange(k)[None, :] <= mtd[:, None])
        score = np.where(ok, self._probs(n, joint), -np.inf)
        chosen = np.argmax(score, axis=1)
        none = ~ok.any(axis=1) | toxic[:, 0]
        return np.where(none, -1, chosen).astype(np.int64)

    # ------------------------------------------------------------------ one trial

    def _parse(self, outcomes: str | CohortOutcomes) -> CohortOutcomes:
        if isinstance(outcomes, CohortOutcomes):
            return outcomes
        return parse_outcomes(outcomes, num_doses=self.num_doses, efficacy=True)

    def select_obd(self, outcomes: str | CohortOutcomes) -> int | None:
        """The optimal biological dose (1-based) on the data; None if none is acceptable."""
        data = self._parse(outcomes)
        n, tox, _ = data.counts()
        chosen = int(self._select(n[None, :], tox[None, :], data.joint_counts()[None])[0])
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
        n, tox, eff = data.counts()
        joint = data.joint_counts()
        d = int(data.dose[-1]) - 1
        nxt, stop_select, stop_none = self._batch_next(
            n[None, :], tox[None, :], joint[None], np.array([d])
        )
        adm, _ = self._admissible(n[None, :], tox[None, :], eff[None, :])
        probs = self._probs(n, joint)
        eliminated = tuple(int(i) + 1 for i in np.flatnonzero(~adm[0] & (n > 0)))
        selected = self.select_obd(data)
        reasons = [
            f"dose {d + 1}: {tox[d]}/{n[d]} toxicity, {eff[d]}/{n[d]} efficacy; "
            f"lambda_e = {self.lambda_e:.3f}, lambda_d = {self.lambda_d:.3f}",
            "100 x P(utility > benchmark {:.1f}) by dose: {}".format(
                self.u_b, ", ".join(f"{p * 100:.1f}" for p in probs)
            ),
        ]
        if eliminated:
            reasons.append(f"inadmissible: dose(s) {', '.join(map(str, eliminated))}")
        if stop_none[0]:
            reasons.append("no admissible dose (or the lowest dose is too toxic): stop")
            return DoseDecision(self.name, None, "stop", tuple(reasons), None, eliminated)
        if stop_select[0]:
            reasons.append(f"{n[d]} patients at dose {d + 1} >= n_earlystop {self.n_earlystop}")
            return DoseDecision(self.name, None, "stop", tuple(reasons), selected, eliminated)
        if self.max_n is not None and data.num_patients >= self.max_n:
            reasons.append(f"maximum sample size {self.max_n} reached")
            return DoseDecision(self.name, None, "stop", tuple(reasons), selected, eliminated)
        step = int(nxt[0])
        action = {1: "escalate", 0: "stay", -1: "de-escalate"}[int(np.sign(step - d))]
        return DoseDecision(self.name, step + 1, action, tuple(reasons), selected, eliminated)

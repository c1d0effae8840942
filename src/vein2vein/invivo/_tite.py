"""TITE-BOIN: BOIN with pending toxicity data (Yuan, Lin, Li, Nie & Warren 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidInputError
from ._boin import BOIN
from ._outcomes import CohortOutcomes, DoseDecision

__all__ = ["TITEBOIN"]


class TITEBOIN(BOIN):
    """Time-to-event BOIN for toxicity that can appear late in a long DLT window.

    A patient without a DLT whose follow-up is shorter than the DLT window is *pending*.
    Under a uniform time-to-DLT over the window, pending patient i contributes
    ``t_i / W`` of a patient: with ``c`` pending patients at the current dose, the
    standardized total follow-up time ``STFT = sum(t_i) / W`` and the effective sample
    size ``ESS = n - c + STFT``, the toxicity estimate is ``y / ESS``; it is compared
    with the BOIN boundaries. Accrual is suspended while more than half the patients at
    the current dose are pending, unless the DLTs already seen (``y / n >= lambda_d``)
    force de-escalation whatever the pending patients show. Elimination uses the DLTs
    seen and all ``n`` patients treated (as in BOIN); the MTD is selected as in BOIN
    once follow-up is complete.

    Parameters
    ----------
    num_doses
        Number of dose levels.
    target
        Target toxicity probability.
    dlt_window_days
        Length W of the DLT assessment window in days (28).
    **kwargs
        Options of :class:`BOIN` (``cutoff_eliminate``, ``n_earlystop``, ``max_n``,
        ``start_dose``, ``p_saf``, ``p_tox``).

    References
    ----------
    .. [1] Yuan Y, Lin R, Li D, Nie L, Warren KE (2018). Time-to-event Bayesian optimal
       interval design to accelerate phase I trials. Clin Cancer Res 24:4921-4930
       (the STFT/ESS rule and Table 1, the decision table with pending patients).

    Examples
    --------
    >>> TITEBOIN(5, 0.2).next_dose("1NNN", follow_up=[28, 28, 10])
    2
    >>> TITEBOIN(5, 0.2).next_dose("1NNN", follow_up=[28, 10, 10]) is None  # suspend
    True
    """

    name = "TITE-BOIN"

    def __init__(
        self,
        num_doses: int,
        target: float,
        *,
        dlt_window_days: float = 28.0,
        **kwargs: float | int | None,
    ) -> None:
        super().__init__(num_doses, target, **kwargs)  # type: ignore[arg-type]
        if not dlt_window_days > 0:
            msg = f"the DLT window must be positive, not {dlt_window_days}"
            raise InvalidInputError(msg, field="dlt_window_days")
        self.window = float(dlt_window_days)

    def __repr__(self) -> str:
        return f"TITEBOIN(num_doses={self.num_doses}, target={self.target}, window={self.window})"

    def next_dose(self, outcomes: str, *, follow_up: Sequence[float] | None = None) -> int | None:
        """Dose level for the next patient; None when the trial stops or accrual waits.

        ``follow_up`` gives each patient's days of follow-up so far, in the order of
        ``outcomes``; without it every patient counts as fully followed (plain BOIN).
        """
        return self.decide(outcomes, follow_up=follow_up).next_dose

    def decide(
        self, outcomes: str | CohortOutcomes, *, follow_up: Sequence[float] | None = None
    ) -> DoseDecision:
        """The decision with pending patients; ``action`` is ``suspend`` while waiting."""
        data = self._parse(outcomes)
        base = super().decide(data)
        if follow_up is None or data.num_patients == 0 or base.stop:
            return DoseDecision(self.name, *_fields(base))
        days = np.asarray([float(v) for v in follow_up], dtype=float)
        if days.size != data.num_patients:
            msg = f"{days.size} follow-up times for {data.num_patients} patients"
            raise InvalidInputError(msg, field="follow_up")
        if np.any(~np.isfinite(days)) or np.any(days < 0):
            msg = "follow-up times must be non-negative numbers of days"
            raise InvalidInputError(msg, field="follow_up")
        dose = np.asarray(data.dose)
        tox = np.asarray(data.tox)
        d = int(dose[-1])
        here = dose == d
        pending = here & ~tox & (days < self.window)
        n, y, c = int(here.sum()), int((here & tox).sum()), int(pending.sum())
        stft = float(np.minimum(days[pending], self.window).sum() / self.window)
        ess = n - c + stft
        reasons = [
            f"dose {d}: {y} DLT in {n} treated, {c} pending; STFT = {stft:.3f}, "
            f"ESS = {ess:.3f}; lambda_e = {self.lambda_e:.3f}, lambda_d = {self.lambda_d:.3f}"
        ]
        if base.eliminated:
            reasons.append(f"eliminated: dose(s) {', '.join(map(str, base.eliminated))}")
        first_elim = min(base.eliminated, default=self.num_doses + 1)
        nxt, action = self.rule(d, n, y, c, ess, first_elim)
        if action == "suspend":
            reasons.append(f"{c} of {n} patients at dose {d} pending (more than half): suspend")
            return DoseDecision(self.name, None, "suspend", tuple(reasons), None, base.eliminated)
        p_hat = y / ess if ess > 0 else 0.0
        reasons.append(f"estimated toxicity y / ESS = {p_hat:.3f}")
        return DoseDecision(self.name, nxt, action, tuple(reasons), None, base.eliminated)

    def rule(
        self, d: int, n: int, y: int, c: int, ess: float, first_elim: int
    ) -> tuple[int | None, str]:
        """The TITE-BOIN step at dose ``d`` (1-based) once BOIN's stopping rules pass.

        ``n`` treated, ``y`` DLTs seen, ``c`` pending, effective sample size ``ess`` at
        dose ``d``; ``first_elim`` the lowest eliminated dose (``num_doses + 1`` if none).
        Returns ``(next dose, action)``, ``(None, "suspend")`` while accrual waits. The
        pure rule behind :meth:`decide`, also used by the trial simulation.
        """
        if y / n < self.lambda_d and c > n / 2:
            return None, "suspend"
        p_hat = y / ess if ess > 0 else 0.0
        if p_hat <= self.lambda_e and d < self.num_doses and d + 1 < first_elim:
            return d + 1, "escalate"
        if p_hat >= self.lambda_d and d > 1:
            return d - 1, "de-escalate"
        return min(d, first_elim - 1), "stay"


def _fields(
    base: DoseDecision,
) -> tuple[int | None, str, tuple[str, ...], int | None, tuple[int, ...]]:
    return base.next_dose, base.action, base.reasons, base.selected_dose, base.eliminated

"""Result objects of batch MSPC: the online monitoring record and contribution wording."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ...errors import InvalidInputError

__all__ = ["MonitoringResult", "top_contributors"]

CompletionMethod = Literal["current", "zero", "projection"]


@dataclass(frozen=True, slots=True, eq=False)
class MonitoringResult:
    """T² and SPE of one running batch at each elapsed grid time, with their limits.

    Attributes
    ----------
    batch
        The batch identifier.
    method
        The trajectory-completion method: ``"current"`` (current deviations),
        ``"zero"`` (zero deviations) or ``"projection"`` (missing data).
    frame
        One row per elapsed grid time: ``time, T2, SPE, T2_limit_95, T2_limit_99,
        SPE_limit_95, SPE_limit_99, T2_alarm_95, T2_alarm_99, SPE_alarm_95,
        SPE_alarm_99``. T² limits are the Phase II (F) limits; SPE is the
        instantaneous SPE of the time point and its limits are time-resolved.
    n_grid
        Number of grid times K of the model (``len(frame) < n_grid`` while running).
    """

    batch: Hashable
    method: CompletionMethod
    frame: pd.DataFrame
    n_grid: int

    @property
    def complete(self) -> bool:
        """Whether the batch has reached the end of the grid."""
        return len(self.frame) == self.n_grid

    def first_alarm(
        self,
        *,
        level: float = 0.99,
        statistic: Literal["T2", "SPE", "any"] = "any",
        consecutive: int = 1,
    ) -> float | None:
        """The first grid time at which a statistic is beyond its limit.

        Parameters
        ----------
        level
            0.95 or 0.99.
        statistic
            ``"T2"``, ``"SPE"`` or ``"any"`` (either of them).
        consecutive
            Number of consecutive grid times beyond the limit needed (a run rule that
            trades delay for fewer false alarms); the time of the last of them is
            returned.

        Returns
        -------
        float or None
            The time in hours, or None if there is no alarm.
        """
        if level not in (0.95, 0.99):
            msg = f"alarms are recorded at levels 0.95 and 0.99, not {level!r}"
            raise InvalidInputError(msg, field="level")
        if consecutive < 1:
            msg = f"consecutive must be at least 1, got {consecutive!r}"
            raise InvalidInputError(msg, field="consecutive")
        pct = round(level * 100)
        names = ["T2", "SPE"] if statistic == "any" else [statistic]
        alarm = np.zeros(len(self.frame), dtype=bool)
        for name in names:
            alarm |= self.frame[f"{name}_alarm_{pct}"].to_numpy(dtype=bool)
        run = 0
        for idx, flag in enumerate(alarm):
            run = run + 1 if flag else 0
            if run >= consecutive:
                return float(self.frame["time"].iloc[idx])
        return None


def top_contributors(contributions: pd.DataFrame, n: int = 3) -> list[str]:
    """Say in words which parameters at which times contribute most to a statistic.

    Parameters
    ----------
    contributions
        A frame from :meth:`~vein2vein.process.mspc.BatchMSPC.contributions` (columns
        ``statistic, parameter, time, contribution, percent``).
    n
        How many to name.

    Returns
    -------
    list of str
        The ``n`` largest contributions, largest first, e.g.
        ``"pH at 36 h: contribution 41 % of SPE"``.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"statistic": "SPE", "parameter": ["pH", "DO"], "time": [36.0, 12.0],
    ...                   "contribution": [4.1, 0.9], "percent": [41.0, 9.0]})
    >>> top_contributors(c, 1)
    ['pH at 36 h: contribution 41 % of SPE']
    """
    needed = ("statistic", "parameter", "time", "contribution", "percent")
    for col in needed:
        if col not in contributions.columns:
            msg = f"the contribution frame lacks the column {col!r}"
            raise InvalidInputError(msg, field=col)
    if n < 1:
        msg = f"n must be at least 1, got {n!r}"
        raise InvalidInputError(msg, field="n")
    top = contributions.sort_values("contribution", ascending=False, kind="stable").head(n)
    return [
        f"{row.parameter} at {round(float(row.time), 1):g} h: contribution "
        f"{float(row.percent):.0f} % of {row.statistic}"
        for row in top.itertuples(index=False)
    ]

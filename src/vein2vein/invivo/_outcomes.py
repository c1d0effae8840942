"""The cohort notation of the R ``escalation`` package: ``"1NNN 2NTN"``.

Each cohort is a dose level (1-based) followed by one letter per patient. Toxicity-only
designs take ``N`` (no event) and ``T`` (toxicity); efficacy designs also take ``E``
(efficacy only) and ``B`` (both efficacy and toxicity). Cohorts are separated by spaces.

References
----------
.. [1] Brock K (2019). trialr: Bayesian clinical trial designs in R and Stan.
   arXiv:1907.00161 (``parse_phase1_outcomes``, ``parse_phase1_2_outcomes``); the R
   ``escalation`` package uses the same notation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInputError

__all__ = ["CohortOutcomes", "DoseDecision", "parse_outcomes"]

_COHORT = re.compile(r"(\d+)([A-Za-z]*)")
TOX_LETTERS = frozenset("NT")
EFF_LETTERS = frozenset("NTEB")


@dataclass(frozen=True)
class CohortOutcomes:
    """Patients in the order treated: dose level (1-based), toxicity, efficacy, cohort.

    Attributes
    ----------
    num_doses
        Number of dose levels of the design the outcomes were parsed for.
    dose
        Dose level of each patient (1-based).
    tox
        Whether each patient had a toxicity (DLT).
    eff
        Whether each patient had an efficacy response (always False for ``N``/``T``).
    cohort
        Cohort number of each patient (1-based).
    """

    num_doses: int
    dose: tuple[int, ...]
    tox: tuple[bool, ...]
    eff: tuple[bool, ...]
    cohort: tuple[int, ...]

    @property
    def num_patients(self) -> int:
        """Number of patients treated."""
        return len(self.dose)

    @property
    def last_dose(self) -> int | None:
        """Dose level given to the last cohort, None before the first."""
        return self.dose[-1] if self.dose else None

    def counts(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Patients, toxicities and efficacies per dose level (arrays of ``num_doses``)."""
        index = np.asarray(self.dose, dtype=np.int64) - 1
        n = np.bincount(index, minlength=self.num_doses).astype(np.int64)
        tox = np.bincount(index, weights=np.asarray(self.tox, float), minlength=self.num_doses)
        eff = np.bincount(index, weights=np.asarray(self.eff, float), minlength=self.num_doses)
        return n, tox.astype(np.int64), eff.astype(np.int64)

    def joint_counts(self) -> npt.NDArray[np.int64]:
        """Per dose, counts of (efficacy no tox, neither, both, toxicity no efficacy).

        An array of shape ``(num_doses, 4)`` in the order of the BOIN12 utilities
        u1 (E, no T), u2 (no E, no T), u3 (E and T), u4 (T, no E).
        """
        out = np.zeros((self.num_doses, 4), dtype=np.int64)
        for d, t, e in zip(self.dose, self.tox, self.eff, strict=True):
            column = (0 if e else 1) if not t else (2 if e else 3)
            out[d - 1, column] += 1
        return out


def _first_bad(token: str) -> int:
    """Index of the first character that breaks ``dose + letters`` in ``token``."""
    if not token[0].isdigit():
        return 0
    digits = len(token) - len(token.lstrip("0123456789"))
    return next(i for i, ch in enumerate(token) if i >= digits and not ch.isalpha())


def parse_outcomes(text: str, *, num_doses: int, efficacy: bool = False) -> CohortOutcomes:
    """Parse the ``escalation`` cohort notation (``"1NNN 2NTN"``).

    Parameters
    ----------
    text
        Cohorts separated by whitespace; each a dose level (1-based) then one letter per
        patient. An empty string means no patient has been treated yet.
    num_doses
        Number of dose levels of the design; dose levels above it are refused.
    efficacy
        Whether the design uses efficacy: letters ``N T E B`` instead of ``N T``.

    Returns
    -------
    CohortOutcomes
        The patients in the order treated.

    Raises
    ------
    InvalidInputError
        Field ``outcomes``: a cohort that does not read as dose + letters, a dose level
        out of range, or a letter the design does not allow; the message names the
        cohort and the character position (1-based) in ``text``.

    Examples
    --------
    >>> parse_outcomes("1NNN 2NTN", num_doses=5).counts()[1].tolist()
    [0, 1, 0, 0, 0]
    """
    if num_doses < 1:
        msg = f"num_doses must be at least 1, not {num_doses}"
        raise InvalidInputError(msg, field="num_doses")
    allowed = EFF_LETTERS if efficacy else TOX_LETTERS
    dose: list[int] = []
    tox: list[bool] = []
    eff: list[bool] = []
    cohort: list[int] = []
    for number, match in enumerate(re.finditer(r"\S+", text), start=1):
        token, start = match.group(), match.start()
        parsed = _COHORT.fullmatch(token)
        if parsed is None:
            bad = _first_bad(token)
            msg = (
                f"cohort {number} ({token!r}) at character {start + bad + 1}: expected a dose "
                f"level then one letter per patient, such as '2NTN'"
            )
            raise InvalidInputError(msg, field="outcomes")
        level, letters = int(parsed.group(1)), parsed.group(2)
        if not 1 <= level <= num_doses:
            msg = (
                f"cohort {number} ({token!r}) at character {start + 1}: dose level {level} "
                f"is outside 1..{num_doses}"
            )
            raise InvalidInputError(msg, field="outcomes")
        if not letters:
            msg = f"cohort {number} ({token!r}) at character {start + 1}: no patient outcomes"
            raise InvalidInputError(msg, field="outcomes")
        offset = start + len(parsed.group(1))
        for i, letter in enumerate(letters):
            if letter not in allowed:
                kind = "efficacy" if efficacy else "toxicity-only"
                msg = (
                    f"cohort {number} ({token!r}) at character {offset + i + 1}: letter "
                    f"{letter!r} is not one of {' '.join(sorted(allowed))} allowed by this "
                    f"{kind} design"
                )
                raise InvalidInputError(msg, field="outcomes")
            dose.append(level)
            tox.append(letter in "TB")
            eff.append(letter in "EB")
            cohort.append(number)
    return CohortOutcomes(num_doses, tuple(dose), tuple(tox), tuple(eff), tuple(cohort))


@dataclass(frozen=True)
class DoseDecision:
    """What a design says after the outcomes so far.

    Attributes
    ----------
    design
        Name of the design (``BOIN``, ``BOIN12``, ``TITE-BOIN``, ``EffTox``).
    next_dose
        Dose level (1-based) for the next cohort; None when no patient may be dosed
        (the trial stops, or, for TITE-BOIN, accrual is suspended: see ``action``).
    action
        ``start``, ``escalate``, ``stay``, ``de-escalate``, ``suspend`` or ``stop``.
    reasons
        Why, in words (boundaries, posterior probabilities, eliminated doses).
    selected_dose
        The dose the design would select (MTD or optimal biological dose) on the data so
        far; None when no dose is acceptable or nobody has been treated.
    eliminated
        Dose levels (1-based) no longer allowed.
    """

    design: str
    next_dose: int | None
    action: str
    reasons: tuple[str, ...]
    selected_dose: int | None
    eliminated: tuple[int, ...] = ()

    @property
    def stop(self) -> bool:
        """Whether the trial stops."""
        return self.action == "stop"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "design": self.design,
            "next_dose": self.next_dose,
            "action": self.action,
            "stop": self.stop,
            "reasons": list(self.reasons),
            "selected_dose": self.selected_dose,
            "eliminated": list(self.eliminated),
        }

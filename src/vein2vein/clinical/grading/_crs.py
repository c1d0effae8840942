"""Cytokine release syndrome (CRS) graded by the ASTCT 2019 consensus.

The consensus grades CRS by fever plus the more severe of two organ axes (Lee et al.
2019 [1]_, section "CRS grading" and the table "ASTCT CRS Consensus Grading"):

=====  ============  ======================================  ======================================
grade  fever         hypotension                             hypoxia
=====  ============  ======================================  ======================================
1      >= 38.0 C     none                                    none
2      >= 38.0 C     not requiring vasopressors              low-flow nasal cannula (<= 6 L/min)
                                                             or blow-by
3      >= 38.0 C     one vasopressor with or without         high-flow nasal cannula (> 6 L/min),
                     vasopressin                             facemask, non-rebreather or Venturi
4      >= 38.0 C     multiple vasopressors (excluding        positive pressure: CPAP, BiPAP,
                     vasopressin)                            intubation and mechanical ventilation
=====  ============  ======================================  ======================================

Grade 5 is death due to CRS in which no other cause is the principal factor.

The table's footnotes fix the details this module implements: fever is >= 38 C not
attributable to any other cause; once antipyretic or anti-cytokine therapy (for example
tocilizumab or steroids) has been given, fever is no longer required and the grade is
driven by hypotension and hypoxia; the grade is set by the more severe of hypotension
and hypoxia (the footnote's example: a febrile patient, 39.5 C, on one vasopressor and
low-flow nasal cannula is grade 3);
low-flow nasal cannula is <= 6 L/min and high-flow > 6 L/min. Organ toxicities may be
graded by CTCAE v5.0 but do not change the CRS grade.

Decisions where the consensus is silent, fixed here and tested:

* **Vasopressors imply hypotension requiring them.** A listed vasopressor grades the
  hypotension axis (3 or 4) whatever ``hypotension`` says: on pressors the measured
  pressure may be normal *because* of them. ``hypotension=True`` without a vasopressor
  is grade 2.
* **Vasopressin alone is one vasopressor (grade 3).** The consensus excludes vasopressin
  only from *multiple* ("multiple vasopressors (excluding vasopressin)"), and grade 2 is
  "not requiring vasopressors", so hypotension treated with vasopressin alone requires a
  vasopressor: grade 3. One vasopressor plus vasopressin is grade 3, not 4; two
  non-vasopressin vasopressors are grade 4.
* **No fever and no antipyretic/anti-cytokine therapy: grade 0**, even with
  hypotension or hypoxia; CRS is not diagnosed without fever.
* **Treated, afebrile, no hypotension and no oxygen: grade 0** (nothing left to grade).
* **Death** (``death_from_crs=True``) is grade 5 whatever else is recorded; attributing
  the death to CRS is the clinician's decision.
* **Nasal cannula needs its flow.** ``oxygen="nasal_cannula"`` without
  ``oxygen_flow_l_min`` is refused (it cannot be told low from high flow); above
  6 L/min it counts as high flow. ``high_flow_nasal_cannula`` is grade 3 whatever
  flow is recorded (the device is high flow; infants run it below 6 L/min).
* **Vasopressor names** are checked against a list (synonyms accepted, case and
  punctuation ignored) so that a typo or a non-vasopressor cannot change the count;
  duplicates count once. Doses are not considered (the consensus does not use them).
  Terlipressin, a vasopressin analogue the consensus does not mention, is counted as a
  vasopressor (the more severe reading).

"Not attributable to any other cause" (infection, sedation, bleeding) is a clinical
judgement: the caller records only findings attributed to CRS.

References
----------
.. [1] Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine
   Release Syndrome and Neurologic Toxicity Associated with Immune Effector Cells.
   Biol Blood Marrow Transplant. 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import Field, field_validator, model_validator

from ...errors import InvalidInputError
from .._observation import ObservationModel, check_celsius

__all__ = [
    "CRS_FEVER_C",
    "LOW_FLOW_MAX_L_MIN",
    "OXYGEN_MODES",
    "VASOPRESSORS",
    "CRSObservation",
    "grade_crs",
]

CRS_FEVER_C: Final = 38.0
"""Fever threshold of the consensus: temperature >= 38.0 C."""

LOW_FLOW_MAX_L_MIN: Final = 6.0
"""Low-flow nasal cannula delivers <= 6 L/min; above it is high flow."""

MAX_FLOW_L_MIN: Final = 100.0

OxygenMode = Literal[
    "none",
    "blow_by",
    "nasal_cannula",
    "high_flow_nasal_cannula",
    "facemask",
    "non_rebreather",
    "venturi",
    "cpap",
    "bipap",
    "mechanical_ventilation",
]

#: The hypoxia-axis grade of each oxygen mode (nasal cannula: by its flow).
_OXYGEN_GRADE: Final[dict[str, int]] = {
    "none": 0,
    "blow_by": 2,
    "nasal_cannula": 2,
    "high_flow_nasal_cannula": 3,
    "facemask": 3,
    "non_rebreather": 3,
    "venturi": 3,
    "cpap": 4,
    "bipap": 4,
    "mechanical_ventilation": 4,
}
OXYGEN_MODES: Final[tuple[str, ...]] = tuple(_OXYGEN_GRADE)
"""The accepted ``oxygen`` values, least to most support."""

_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "norepinephrine": ("norepinephrine", "noradrenaline", "levophed", "levarterenol"),
    "epinephrine": ("epinephrine", "adrenaline"),
    "phenylephrine": ("phenylephrine", "neosynephrine", "neo synephrine"),
    "dopamine": ("dopamine",),
    "vasopressin": (
        "vasopressin",
        "arginine vasopressin",
        "argipressin",
        "avp",
        "pitressin",
        "vasostrict",
    ),
    "angiotensin ii": ("angiotensin ii", "angiotensin 2", "giapreza"),
    "metaraminol": ("metaraminol",),
    "ephedrine": ("ephedrine",),
    "terlipressin": ("terlipressin",),
}
_CANONICAL: Final[dict[str, str]] = {
    alias: name for name, aliases in _SYNONYMS.items() for alias in aliases
}
VASOPRESSORS: Final[tuple[str, ...]] = tuple(_SYNONYMS)
"""Canonical vasopressor names; synonyms (noradrenaline, AVP, ...) map onto them."""

_VASOPRESSIN: Final = "vasopressin"


def _normalise_drug(name: str) -> str:
    key = re.sub(r"[\s_\-]+", " ", name.strip().lower())
    try:
        return _CANONICAL[key]
    except KeyError:
        msg = (
            f"{name!r} is not a recognised vasopressor; use one of {', '.join(VASOPRESSORS)} "
            "(or a synonym such as noradrenaline or adrenaline). Inotropes such as "
            "dobutamine or milrinone are not vasopressors for CRS grading"
        )
        raise InvalidInputError(msg, field="vasopressors") from None


class CRSObservation(ObservationModel):
    """One assessment of a patient for cytokine release syndrome.

    Parameters
    ----------
    temperature_c
        Highest body temperature of the assessment, degrees Celsius (25-45; a value
        that looks like Fahrenheit is refused with the conversion).
    hypotension
        Hypotension attributed to CRS is present (for adults usually systolic
        pressure < 90 mmHg; for children below the age-appropriate norm).
    vasopressors
        Vasopressors running for that hypotension, by drug name (see
        :data:`VASOPRESSORS`; synonyms accepted). Stored as sorted canonical names,
        each once. Vasopressin never counts toward "multiple".
    oxygen
        Oxygen support for hypoxia attributed to CRS: one of :data:`OXYGEN_MODES`.
    oxygen_flow_l_min
        Oxygen flow in L/min; required for ``nasal_cannula`` (above 6 L/min counts as
        high flow), allowed for other devices, refused with ``oxygen="none"``.
    fever_treated
        Antipyretic or anti-cytokine therapy (tocilizumab, steroids) has been given for
        this CRS, so fever is no longer required to grade it.
    death_from_crs
        The patient died of CRS (no other principal cause): grade 5.

    Examples
    --------
    >>> obs = CRSObservation(temperature_c=39.5, hypotension=True,
    ...                      vasopressors=["Noradrenaline"], oxygen="nasal_cannula",
    ...                      oxygen_flow_l_min=2, fever_treated=False)
    >>> obs.vasopressors
    ('norepinephrine',)
    >>> grade_crs(obs)
    3
    """

    temperature_c: float
    hypotension: Annotated[bool, Field(strict=True)]
    vasopressors: tuple[str, ...] = ()
    oxygen: OxygenMode
    oxygen_flow_l_min: float | None = None
    fever_treated: Annotated[bool, Field(strict=True)]
    death_from_crs: Annotated[bool, Field(strict=True)] = False

    @field_validator("temperature_c", mode="before")
    @classmethod
    def _celsius(cls, value: object) -> float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                msg = f"{value!r} is not a number of degrees Celsius"
                raise InvalidInputError(msg, field="temperature_c") from None
        return check_celsius(value, field="temperature_c")

    @field_validator("vasopressors", mode="before")
    @classmethod
    def _drugs(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            msg = "give a list of drug names, not one string"
            raise InvalidInputError(msg, field="vasopressors")
        if not isinstance(value, list | tuple | set | frozenset):
            msg = f"expected a list of drug names, got {type(value).__name__}"
            raise InvalidInputError(msg, field="vasopressors")
        names = set()
        for item in value:
            if not isinstance(item, str) or not item.strip():
                msg = f"{item!r} is not a drug name"
                raise InvalidInputError(msg, field="vasopressors")
            names.add(_normalise_drug(item))
        return tuple(sorted(names))

    @field_validator("oxygen_flow_l_min")
    @classmethod
    def _flow(cls, value: float | None) -> float | None:
        if value is None:
            return None
        if not 0.0 < value <= MAX_FLOW_L_MIN:
            msg = f"{value!r} L/min is outside the accepted (0, {MAX_FLOW_L_MIN:g}] L/min"
            raise InvalidInputError(msg, field="oxygen_flow_l_min")
        return value

    @model_validator(mode="after")
    def _flow_fits_device(self) -> CRSObservation:
        if self.oxygen == "nasal_cannula" and self.oxygen_flow_l_min is None:
            msg = (
                "required with oxygen='nasal_cannula': <= 6 L/min is low flow (grade 2), "
                "> 6 L/min is high flow (grade 3)"
            )
            raise InvalidInputError(msg, field="oxygen_flow_l_min")
        if self.oxygen == "none" and self.oxygen_flow_l_min is not None:
            msg = f"a flow of {self.oxygen_flow_l_min:g} L/min is recorded with oxygen='none'"
            raise InvalidInputError(msg, field="oxygen_flow_l_min")
        return self

    @property
    def febrile(self) -> bool:
        """Temperature >= 38.0 C."""
        return self.temperature_c >= CRS_FEVER_C

    @property
    def hypotension_grade(self) -> int:
        """Grade of the hypotension axis alone (0, 2, 3 or 4)."""
        counted = [d for d in self.vasopressors if d != _VASOPRESSIN]
        if len(counted) >= 2:
            return 4
        if self.vasopressors:
            return 3
        return 2 if self.hypotension else 0

    @property
    def hypoxia_grade(self) -> int:
        """Grade of the hypoxia axis alone (0, 2, 3 or 4)."""
        if self.oxygen == "nasal_cannula":
            flow = self.oxygen_flow_l_min
            if flow is None:  # pragma: no cover - refused by the model validator
                msg = "required with oxygen='nasal_cannula'"
                raise InvalidInputError(msg, field="oxygen_flow_l_min")
            return 2 if flow <= LOW_FLOW_MAX_L_MIN else 3
        return _OXYGEN_GRADE[self.oxygen]


def grade_crs(obs: CRSObservation) -> int:
    """Grade cytokine release syndrome by the ASTCT 2019 consensus.

    Parameters
    ----------
    obs
        The assessment.

    Returns
    -------
    int
        0 (no CRS) to 5 (death): 5 if ``death_from_crs``; 0 without fever unless
        ``fever_treated``; otherwise the more severe of the hypotension and hypoxia
        axes, or 1 for fever alone.

    References
    ----------
    .. [1] Lee DW, Santomasso BD, Locke FL, et al. Biol Blood Marrow Transplant.
       2019;25(4):625-638, table "ASTCT CRS Consensus Grading" and its footnotes.

    Examples
    --------
    >>> base = dict(hypotension=False, oxygen="none", fever_treated=False)
    >>> grade_crs(CRSObservation(temperature_c=38.0, **base))
    1
    >>> grade_crs(CRSObservation(temperature_c=37.9, **base))
    0
    """
    if obs.death_from_crs:
        return 5
    if not obs.febrile and not obs.fever_treated:
        return 0
    organ = max(obs.hypotension_grade, obs.hypoxia_grade)
    if organ:
        return organ
    return 1 if obs.febrile else 0

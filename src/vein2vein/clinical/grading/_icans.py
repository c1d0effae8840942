"""Immune effector cell-associated neurotoxicity syndrome (ICANS), ASTCT 2019 consensus.

The grade is the most severe of five domains not attributable to any other cause
(Lee et al. 2019 [1]_, tables "ASTCT ICANS Consensus Grading for Adults" and
"ASTCT ICANS Consensus Grading for Children"):

===============================  =========  ==========  ==================  ===================
domain                           grade 1    grade 2     grade 3             grade 4
===============================  =========  ==========  ==================  ===================
ICE score (age >= 12)            7-9        3-6         0-2                 0, unarousable and
                                                                            unable to perform ICE
CAPD score (age < 12)            1-8        1-8         >= 9                unable to perform
                                                                            CAPD
depressed level of               awakens    awakens to  awakens only to     unarousable, or needs
consciousness                    spontan-   voice       tactile stimulus    vigorous or repetitive
                                 eously                                     tactile stimuli; stupor
                                                                            or coma
seizure                          -          -           any clinical        life-threatening
                                                        seizure resolving   prolonged (> 5 min) or
                                                        rapidly, or non-    repetitive clinical or
                                                        convulsive on EEG   electrical seizures
                                                        resolving with      without return to
                                                        intervention        baseline in between
motor findings                   -          -           -                   deep focal motor
                                                                            weakness (hemiparesis,
                                                                            paraparesis)
elevated ICP / cerebral edema    -          -           focal/local edema   diffuse edema on
                                                        on neuroimaging     neuroimaging;
                                                                            decerebrate or
                                                                            decorticate posturing;
                                                                            cranial nerve VI palsy;
                                                                            papilledema; Cushing's
                                                                            triad
===============================  =========  ==========  ==================  ===================

Grade 5 is death due to ICANS (no other principal cause). The adult table's footnotes
give the worked examples the tests reproduce: "a patient with an ICE score of 3 who has
a generalized seizure is classified as grade 3 ICANS", and "a patient with an ICE score
of 0 may be classified as grade 3 ICANS if awake with global aphasia, but ... grade 4
ICANS if unarousable".

How the tables are read here:

* **Which tool.** ICE for age >= 12, CAPD (Cornell Assessment of Pediatric Delirium,
  0-32, higher is worse, >= 9 screens positive for delirium) for age < 12 and for
  older patients with developmental delay (``developmental_delay=True``), as the paper
  recommends. Giving the other tool's score is refused; so is a missing score when the
  patient could be assessed.
* **CAPD 1-8 is grade 1.** The children's table lists CAPD 1-8 under both grade 1 and
  grade 2: the score itself gives grade 1 and the level of consciousness (awakens to
  voice) makes it grade 2. CAPD 0 adds nothing; >= 9 is grade 3; unable to perform CAPD
  is grade 4, as printed.
* **ICE 0 or not performed.** ICE 0 is grade 3 (awake with global aphasia); it is grade
  4 only with ``consciousness="unarousable"``, which is grade 4 on its own.
  ``able_to_perform_assessment=False`` is read as ICE 0 (it may record ``ice_score=0``
  or none). An ICE score above 0 for an unarousable patient is refused.
* **Raised ICP signs** (``decerebrate_or_decorticate_posturing``,
  ``cranial_nerve_vi_palsy``, ``papilledema``, ``cushings_triad``) count as diffuse
  edema (grade 4) whatever ``cerebral_edema`` says.
* **Excluded findings** are recorded but do not grade: ``tremor`` and ``myoclonus``
  (grade them with CTCAE v5.0) and ``intracranial_hemorrhage`` with or without edema.
  Findings due to another cause (sedating medication, infection, stroke) must not be
  entered in the grading fields; that attribution is the clinician's.

References
----------
.. [1] Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine
   Release Syndrome and Neurologic Toxicity Associated with Immune Effector Cells.
   Biol Blood Marrow Transplant. 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758
.. [2] Traube C, Silver G, Kearney J, et al. Cornell Assessment of Pediatric Delirium:
   a valid, rapid, observational tool for screening delirium in the PICU. Crit Care Med.
   2014;42(3):656-663. doi:10.1097/CCM.0b013e3182a66b76
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, field_validator, model_validator

from ...errors import InvalidInputError
from ...support import QUANTITIES, check_quantity
from .._observation import ObservationModel

__all__ = [
    "CAPD_DELIRIUM_MIN",
    "ICE_MIN_AGE_YEARS",
    "ICANSObservation",
    "grade_icans",
]

ICE_MIN_AGE_YEARS: Final = 12.0
"""ICE is used from age 12; younger children are assessed with CAPD."""

CAPD_DELIRIUM_MIN: Final = 9
"""A CAPD score >= 9 screens positive for delirium (grade 3)."""

MAX_AGE_YEARS: Final = QUANTITIES["age"].high
"""Oldest age accepted (the declared ``age`` quantity of :mod:`vein2vein.support`)."""

Consciousness = Literal[
    "awake", "awakens_spontaneously", "awakens_to_voice", "awakens_to_touch", "unarousable"
]
Seizure = Literal["none", "rapidly_resolving", "prolonged_or_repetitive"]
MotorWeakness = Literal["none", "deep_focal"]
CerebralEdema = Literal["none", "focal", "diffuse"]

_CONSCIOUSNESS_GRADE: Final[dict[str, int]] = {
    "awake": 0,
    "awakens_spontaneously": 1,
    "awakens_to_voice": 2,
    "awakens_to_touch": 3,
    "unarousable": 4,
}
_SEIZURE_GRADE: Final[dict[str, int]] = {
    "none": 0,
    "rapidly_resolving": 3,
    "prolonged_or_repetitive": 4,
}
_MOTOR_GRADE: Final[dict[str, int]] = {"none": 0, "deep_focal": 4}
_EDEMA_GRADE: Final[dict[str, int]] = {"none": 0, "focal": 3, "diffuse": 4}

_StrictBool = Annotated[bool, Field(strict=True)]


def _ice_grade(score: int) -> int:
    if score == 10:
        return 0
    if score >= 7:
        return 1
    if score >= 3:
        return 2
    return 3


def _capd_grade(score: int) -> int:
    if score >= CAPD_DELIRIUM_MIN:
        return 3
    return 1 if score >= 1 else 0


class ICANSObservation(ObservationModel):
    """One neurological assessment for ICANS.

    Parameters
    ----------
    age_years
        Age at the assessment (0-120); decides between ICE and CAPD.
    ice_score
        Immune effector cell-associated encephalopathy score, 0-10 (10 is normal), for
        age >= 12 without developmental delay.
    capd_score
        Cornell Assessment of Pediatric Delirium, 0-32 (0 is normal), for age < 12 or
        with developmental delay.
    developmental_delay
        Assess with CAPD although age >= 12.
    able_to_perform_assessment
        False when the patient cannot perform ICE or be scored by CAPD; leave the score
        empty (or ``ice_score=0``).
    consciousness
        Depressed level of consciousness not due to another cause (for example no
        sedating medication): ``awake`` (alert), ``awakens_spontaneously``,
        ``awakens_to_voice``, ``awakens_to_touch`` or ``unarousable`` (also: needs
        vigorous or repetitive tactile stimuli; stupor; coma).
    seizure
        ``none``, ``rapidly_resolving`` (any clinical seizure resolving rapidly, or
        non-convulsive seizures on EEG resolving with intervention) or
        ``prolonged_or_repetitive`` (life-threatening > 5 min, or repetitive without
        return to baseline in between).
    motor_weakness
        ``none`` or ``deep_focal`` (hemiparesis, paraparesis).
    cerebral_edema
        ``none``, ``focal`` (focal/local edema on neuroimaging) or ``diffuse``.
    decerebrate_or_decorticate_posturing, cranial_nerve_vi_palsy, papilledema, cushings_triad
        Signs of raised intracranial pressure; each counts as diffuse edema (grade 4).
    tremor, myoclonus, intracranial_hemorrhage
        Recorded for completeness; **ignored** by the grading, as the consensus says.
    death_from_icans
        The patient died of ICANS (no other principal cause): grade 5.

    Examples
    --------
    >>> obs = ICANSObservation(age_years=54, ice_score=3, consciousness="awake",
    ...                        seizure="rapidly_resolving", motor_weakness="none",
    ...                        cerebral_edema="none")
    >>> grade_icans(obs)
    3
    """

    age_years: float = Field(allow_inf_nan=False)
    ice_score: Annotated[int, Field(strict=True, ge=0, le=10)] | None = None
    capd_score: Annotated[int, Field(strict=True, ge=0, le=32)] | None = None
    developmental_delay: _StrictBool = False
    able_to_perform_assessment: _StrictBool = True
    consciousness: Consciousness
    seizure: Seizure
    motor_weakness: MotorWeakness
    cerebral_edema: CerebralEdema
    decerebrate_or_decorticate_posturing: _StrictBool = False
    cranial_nerve_vi_palsy: _StrictBool = False
    papilledema: _StrictBool = False
    cushings_triad: _StrictBool = False
    tremor: _StrictBool = False
    myoclonus: _StrictBool = False
    intracranial_hemorrhage: _StrictBool = False
    death_from_icans: _StrictBool = False

    @field_validator("age_years")
    @classmethod
    def _age(cls, value: float) -> float:
        return check_quantity("age", value, field="age_years")

    @model_validator(mode="after")
    def _tool_fits_age(self) -> ICANSObservation:
        age = f"{self.age_years:g}"
        if self.assessment_tool == "capd":
            why = (
                "developmental delay"
                if self.age_years >= ICE_MIN_AGE_YEARS
                else f"age {age} < {ICE_MIN_AGE_YEARS:g}"
            )
            if self.ice_score is not None:
                msg = (
                    f"ICE is not used with {why}; record capd_score (CAPD 0-32) instead, "
                    "as the ASTCT consensus does for children < 12 years"
                )
                raise InvalidInputError(msg, field="ice_score")
            if self.able_to_perform_assessment and self.capd_score is None:
                msg = (
                    f"required with {why} (or set able_to_perform_assessment=False, "
                    "which is grade 4)"
                )
                raise InvalidInputError(msg, field="capd_score")
            if not self.able_to_perform_assessment and self.capd_score is not None:
                msg = "a CAPD score is recorded but able_to_perform_assessment=False"
                raise InvalidInputError(msg, field="capd_score")
            return self
        if self.capd_score is not None:
            msg = (
                f"CAPD is for children < {ICE_MIN_AGE_YEARS:g} years or with developmental "
                f"delay; at age {age} record ice_score (0-10) or set developmental_delay=True"
            )
            raise InvalidInputError(msg, field="capd_score")
        if self.able_to_perform_assessment and self.ice_score is None:
            msg = (
                f"required at age {age} (or set able_to_perform_assessment=False when the "
                "patient cannot perform ICE)"
            )
            raise InvalidInputError(msg, field="ice_score")
        if not self.able_to_perform_assessment and self.ice_score not in (None, 0):
            msg = (
                f"an ICE score of {self.ice_score} is recorded but "
                "able_to_perform_assessment=False (record 0 or nothing)"
            )
            raise InvalidInputError(msg, field="ice_score")
        if self.consciousness == "unarousable" and (self.ice_score or 0) > 0:
            msg = f"an unarousable patient cannot score {self.ice_score} on ICE"
            raise InvalidInputError(msg, field="ice_score")
        return self

    @property
    def assessment_tool(self) -> Literal["ice", "capd"]:
        """``"capd"`` below age 12 or with developmental delay, else ``"ice"``."""
        if self.age_years < ICE_MIN_AGE_YEARS or self.developmental_delay:
            return "capd"
        return "ice"

    @property
    def effective_cerebral_edema(self) -> CerebralEdema:
        """``cerebral_edema``, raised to ``"diffuse"`` by any sign of raised ICP."""
        if (
            self.decerebrate_or_decorticate_posturing
            or self.cranial_nerve_vi_palsy
            or self.papilledema
            or self.cushings_triad
        ):
            return "diffuse"
        return self.cerebral_edema

    @property
    def domain_grades(self) -> dict[str, int]:
        """The grade of each domain: encephalopathy, consciousness, seizure, motor, edema."""
        return {
            "encephalopathy": self._encephalopathy_grade(),
            "consciousness": _CONSCIOUSNESS_GRADE[self.consciousness],
            "seizure": _SEIZURE_GRADE[self.seizure],
            "motor": _MOTOR_GRADE[self.motor_weakness],
            "cerebral_edema": _EDEMA_GRADE[self.effective_cerebral_edema],
        }

    def _encephalopathy_grade(self) -> int:
        if self.assessment_tool == "capd":
            if not self.able_to_perform_assessment or self.capd_score is None:
                return 4
            return _capd_grade(self.capd_score)
        if not self.able_to_perform_assessment or self.ice_score is None or self.ice_score == 0:
            return 4 if self.consciousness == "unarousable" else 3
        return _ice_grade(self.ice_score)


def grade_icans(obs: ICANSObservation) -> int:
    """Grade ICANS by the ASTCT 2019 consensus: the most severe domain wins.

    Parameters
    ----------
    obs
        The assessment.

    Returns
    -------
    int
        0 (no ICANS) to 5 (death due to ICANS).

    References
    ----------
    .. [1] Lee DW, Santomasso BD, Locke FL, et al. Biol Blood Marrow Transplant.
       2019;25(4):625-638, tables "ASTCT ICANS Consensus Grading for Adults" and
       "... for Children" with their footnotes.

    Examples
    --------
    >>> child = dict(age_years=5, consciousness="awakens_to_voice", seizure="none",
    ...              motor_weakness="none", cerebral_edema="none")
    >>> grade_icans(ICANSObservation(capd_score=4, **child))
    2
    >>> grade_icans(ICANSObservation(capd_score=9, **child))
    3
    """
    if obs.death_from_icans:
        return 5
    return max(obs.domain_grades.values())

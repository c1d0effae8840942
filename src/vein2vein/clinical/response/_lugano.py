"""Lymphoma response by the Lugano classification 2014 (Cheson et al. [1]_, Table 3).

PET-CT based response (five-point Deauville scale, 5PS), as implemented:

=====  ==========================================================================
call   rule
=====  ==========================================================================
PD     progressive metabolic disease: score 4 or 5 with increased uptake from
       baseline, or new FDG-avid foci consistent with lymphoma, or new or
       recurrent FDG-avid marrow involvement
CR     complete metabolic response: score 1, 2 or 3 with or without a residual
       mass, and no FDG-avid disease in the marrow
PR     partial metabolic response: score 4 or 5 with reduced uptake compared with
       baseline (residual mass of any size), or marrow uptake still above normal
       but reduced from baseline
SD     no metabolic response: score 4 or 5 with no significant change in uptake,
       or unchanged marrow uptake
=====  ==========================================================================

CT based response (up to six target nodes and extranodal lesions, sizes in cm):

=====  ==========================================================================
call   rule
=====  ==========================================================================
PD     any of: a target lesion with LDi > 1.5 cm whose PPD rose >= 50 % from its
       nadir *and* whose LDi or SDi rose from nadir by >= 0.5 cm (nadir LDi
       <= 2 cm) or >= 1.0 cm (nadir LDi > 2 cm); a new node > 1.5 cm in any axis;
       a new extranodal site > 1.0 cm in any axis (or smaller and proven
       lymphoma); spleen: with splenomegaly at baseline, length beyond normal
       (13 cm) grown by > 50 % of its prior extent beyond normal, without it an
       increase of >= 2 cm from baseline; clear progression of non-measured
       lesions; new or recurrent marrow involvement
CR     every target node <= 1.5 cm LDi, no extranodal target left (0 x 0),
       non-measured lesions absent, spleen normal (<= 13 cm), marrow normal,
       no new lesions
PR     >= 50 % decrease from baseline in the SPD of the targets, no new lesions,
       non-measured lesions not increased, and with splenomegaly at baseline the
       length beyond normal regressed by > 50 %
SD     none of the above
=====  ==========================================================================

Simplifications, fixed here and tested: lesions "too small to measure" must be given
as 0.5 x 0.5 cm and vanished ones as 0 x 0 (the paper's default values) by the caller;
"nadir" is the smallest PPD recorded for that lesion, supplied by the caller (defaults
to baseline); the 0.5/1.0 cm step is chosen by the lesion's LDi at nadir; the
increments are read as ">=" (the table gives the bare numbers); the spleen's "prior
increase" is taken from its smallest recorded length (``spleen_nadir_cm``); Deauville X
(uninterpretable) is not accepted; PET and CT are assessed separately (the combined
rule "PET-CT preferred for FDG-avid histologies" is the caller's choice of modality).

References
----------
.. [1] Cheson BD, Fisher RI, Barrington SF, et al. Recommendations for initial
   evaluation, staging, and response assessment of Hodgkin and non-Hodgkin lymphoma:
   the Lugano classification. J Clin Oncol. 2014;32(27):3059-3068.
   doi:10.1200/JCO.2013.54.8800
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from ...errors import InvalidInputError
from .._observation import ObservationModel
from ._call import ResponseCall

__all__ = [
    "LUGANO_MAX_TARGETS",
    "SPLEEN_NORMAL_CM",
    "LuganoAssessment",
    "TargetLesion",
    "assess_lugano",
]

LUGANO_MAX_TARGETS: Final = 6
"""At most six target lesions (nodes and extranodal sites) are measured."""
SPLEEN_NORMAL_CM: Final = 13.0
"""Upper limit of normal spleen length (vertical), cm."""
NODE_NORMAL_LDI_CM: Final = 1.5
PR_SPD_DECREASE: Final = 0.5
PD_PPD_INCREASE: Final = 0.5

Cm = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]


class TargetLesion(ObservationModel):
    """One target lesion: longest (LDi) and perpendicular (SDi) diameters in cm.

    ``nadir_*`` is the smallest measurement recorded before now (defaults to baseline).
    """

    site: Literal["node", "extranodal"] = "node"
    baseline_ldi_cm: Cm
    baseline_sdi_cm: Cm
    current_ldi_cm: Cm
    current_sdi_cm: Cm
    nadir_ldi_cm: Cm | None = None
    nadir_sdi_cm: Cm | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TargetLesion:
        for when in ("baseline", "current", "nadir"):
            ldi = getattr(self, f"{when}_ldi_cm")
            sdi = getattr(self, f"{when}_sdi_cm")
            if ldi is not None and sdi is not None and sdi > ldi:
                msg = f"SDi {sdi:g} cm exceeds LDi {ldi:g} cm; SDi is the shorter axis"
                raise InvalidInputError(msg, field=f"{when}_sdi_cm")
        if (self.nadir_ldi_cm is None) != (self.nadir_sdi_cm is None):
            msg = "give both nadir diameters or neither"
            raise InvalidInputError(msg, field="nadir_sdi_cm")
        if self.nadir_ppd > self.baseline_ppd:
            msg = "the nadir PPD exceeds the baseline PPD; nadir is the smallest recorded"
            raise InvalidInputError(msg, field="nadir_ldi_cm")
        return self

    @property
    def baseline_ppd(self) -> float:
        """Product of the perpendicular diameters at baseline, cm²."""
        return self.baseline_ldi_cm * self.baseline_sdi_cm

    @property
    def current_ppd(self) -> float:
        """Product of the perpendicular diameters now, cm²."""
        return self.current_ldi_cm * self.current_sdi_cm

    @property
    def nadir_ldi(self) -> float:
        """LDi at nadir (baseline when no nadir is given)."""
        return self.baseline_ldi_cm if self.nadir_ldi_cm is None else self.nadir_ldi_cm

    @property
    def nadir_sdi(self) -> float:
        """SDi at nadir (baseline when no nadir is given)."""
        return self.baseline_sdi_cm if self.nadir_sdi_cm is None else self.nadir_sdi_cm

    @property
    def nadir_ppd(self) -> float:
        """PPD at nadir, cm²."""
        return self.nadir_ldi * self.nadir_sdi

    def progressed(self) -> str | None:
        """The Lugano single-lesion progression rule; the reason in words, or ``None``."""
        if self.current_ldi_cm <= NODE_NORMAL_LDI_CM:
            return None
        if self.current_ppd <= self.nadir_ppd:
            return None
        if self.nadir_ppd > 0 and self.current_ppd < (1 + PD_PPD_INCREASE) * self.nadir_ppd:
            return None
        step = 0.5 if self.nadir_ldi <= 2.0 else 1.0
        grew = max(self.current_ldi_cm - self.nadir_ldi, self.current_sdi_cm - self.nadir_sdi)
        if grew < step - 1e-9:
            return None
        return (
            f"LDi {self.current_ldi_cm:g} cm > 1.5 cm, PPD {self.current_ppd:g} cm² vs nadir "
            f"{self.nadir_ppd:g} cm² (>= 50 % increase) and a diameter up {grew:g} cm "
            f"(>= {step:g} cm required)"
        )


class LuganoAssessment(ObservationModel):
    """One Lugano 2014 response assessment, PET-CT or CT based.

    Parameters
    ----------
    modality
        ``"pet_ct"`` (Deauville score decides) or ``"ct"`` (sizes decide).
    deauville
        5PS score 1-5 of the worst residual site (PET-CT only).
    uptake_vs_baseline
        For a score of 4 or 5: ``"reduced"``, ``"unchanged"`` or ``"increased"``.
    new_fdg_avid_lesions
        New FDG-avid foci consistent with lymphoma (PET-CT).
    marrow_fdg
        ``"none"`` (no FDG-avid marrow disease), ``"reduced"`` (above normal but
        reduced from baseline), ``"unchanged"``, ``"new_or_recurrent"``.
    target_lesions
        One to six :class:`TargetLesion` (CT only).
    new_node_ldi_cm, new_extranodal_ldi_cm
        Longest axis of each new node / new extranodal site (CT).
    new_lesion_proven_lymphoma
        A new extranodal site <= 1.0 cm was shown to be lymphoma.
    nonmeasured_lesions
        ``"absent"``, ``"regressed"``, ``"stable"`` or ``"progressed"`` (CT).
    spleen_baseline_cm, spleen_nadir_cm, spleen_current_cm
        Spleen length (CT), optional; nadir defaults to baseline.
    marrow
        CT arm: ``"normal"``, ``"involved"``, ``"new_or_recurrent"``.

    Examples
    --------
    >>> a = LuganoAssessment(modality="pet_ct", deauville=3)
    >>> call = assess_lugano(a)
    >>> str(call), call.reason.split(':')[0]
    ('CR', 'complete metabolic response')
    """

    modality: Literal["pet_ct", "ct"]
    deauville: Annotated[int, Field(strict=True, ge=1, le=5)] | None = None
    uptake_vs_baseline: Literal["reduced", "unchanged", "increased"] | None = None
    new_fdg_avid_lesions: Annotated[bool, Field(strict=True)] = False
    marrow_fdg: Literal["none", "reduced", "unchanged", "new_or_recurrent"] = "none"
    target_lesions: tuple[TargetLesion, ...] = ()
    new_node_ldi_cm: tuple[Cm, ...] = ()
    new_extranodal_ldi_cm: tuple[Cm, ...] = ()
    new_lesion_proven_lymphoma: Annotated[bool, Field(strict=True)] = False
    nonmeasured_lesions: Literal["absent", "regressed", "stable", "progressed"] = "absent"
    spleen_baseline_cm: Annotated[float, Field(gt=0.0, le=50.0, allow_inf_nan=False)] | None = None
    spleen_nadir_cm: Annotated[float, Field(gt=0.0, le=50.0, allow_inf_nan=False)] | None = None
    spleen_current_cm: Annotated[float, Field(gt=0.0, le=50.0, allow_inf_nan=False)] | None = None
    marrow: Literal["normal", "involved", "new_or_recurrent"] = "normal"

    @model_validator(mode="after")
    def _fits_modality(self) -> LuganoAssessment:
        if self.modality == "pet_ct":
            if self.deauville is None:
                msg = "required for a PET-CT assessment"
                raise InvalidInputError(msg, field="deauville")
            if self.deauville >= 4 and self.uptake_vs_baseline is None:
                msg = (
                    f"required with Deauville {self.deauville}: 'reduced' (partial), "
                    "'unchanged' (no response) or 'increased' (progression)"
                )
                raise InvalidInputError(msg, field="uptake_vs_baseline")
            return self
        if self.deauville is not None:
            msg = "a Deauville score belongs to a PET-CT assessment, not modality='ct'"
            raise InvalidInputError(msg, field="deauville")
        if not 1 <= len(self.target_lesions) <= LUGANO_MAX_TARGETS:
            msg = f"give 1 to {LUGANO_MAX_TARGETS} target lesions, got {len(self.target_lesions)}"
            raise InvalidInputError(msg, field="target_lesions")
        spleen = (self.spleen_baseline_cm, self.spleen_current_cm)
        if (spleen[0] is None) != (spleen[1] is None):
            msg = "give both baseline and current spleen length or neither"
            raise InvalidInputError(msg, field="spleen_current_cm")
        if self.spleen_nadir_cm is not None and self.spleen_baseline_cm is None:
            msg_0 = "a nadir needs a baseline"
            raise InvalidInputError(msg_0, field="spleen_nadir_cm")
        return self


def _pet(a: LuganoAssessment) -> ResponseCall:
    score = a.deauville
    if score is None:  # pragma: no cover - refused by the model validator
        msg = "required for a PET-CT assessment"
        raise InvalidInputError(msg, field="deauville")
    if a.new_fdg_avid_lesions:
        return ResponseCall("PD", "progressive metabolic disease: new FDG-avid foci")
    if a.marrow_fdg == "new_or_recurrent":
        return ResponseCall("PD", "progressive metabolic disease: new or recurrent FDG-avid marrow")
    if score >= 4 and a.uptake_vs_baseline == "increased":
        return ResponseCall(
            "PD", f"progressive metabolic disease: Deauville {score} with increased uptake"
        )
    if score <= 3:
        if a.marrow_fdg == "none":
            return ResponseCall(
                "CR",
                f"complete metabolic response: Deauville {score} (1-3 with or without a "
                "residual mass), no FDG-avid marrow disease, no new lesions",
            )
        if a.marrow_fdg == "reduced":
            return ResponseCall(
                "PR", f"Deauville {score} but marrow uptake still above normal, reduced"
            )
        return ResponseCall("SD", f"Deauville {score} but marrow uptake unchanged from baseline")
    if a.uptake_vs_baseline == "reduced" and a.marrow_fdg != "unchanged":
        return ResponseCall(
            "PR", f"partial metabolic response: Deauville {score} with reduced uptake"
        )
    return ResponseCall("SD", f"no metabolic response: Deauville {score}, uptake not reduced")


def _spleen_pd(a: LuganoAssessment) -> str | None:
    base, now = a.spleen_baseline_cm, a.spleen_current_cm
    if base is None or now is None:
        return None
    nadir = base if a.spleen_nadir_cm is None else a.spleen_nadir_cm
    if nadir > SPLEEN_NORMAL_CM:
        prior = nadir - SPLEEN_NORMAL_CM
        if now - SPLEEN_NORMAL_CM > 1.5 * prior:
            return (
                f"spleen {now:g} cm: beyond normal grew by > 50 % of its prior {prior:g} cm extent"
            )
        return None
    if now - base >= 2.0 and now > SPLEEN_NORMAL_CM:
        return f"new splenomegaly: spleen {now:g} cm, >= 2 cm above baseline {base:g} cm"
    return None


def _ct(a: LuganoAssessment) -> ResponseCall:
    targets = a.target_lesions
    for i, lesion in enumerate(targets):
        why = lesion.progressed()
        if why is not None:
            return ResponseCall("PD", f"target lesion {i + 1}: {why}")
    for size in a.new_node_ldi_cm:
        if size > NODE_NORMAL_LDI_CM:
            return ResponseCall("PD", f"new node {size:g} cm > 1.5 cm in any axis")
    for size in a.new_extranodal_ldi_cm:
        if size > 1.0 or a.new_lesion_proven_lymphoma:
            return ResponseCall(
                "PD", f"new extranodal site {size:g} cm (> 1.0 cm or proven lymphoma)"
            )
    spleen = _spleen_pd(a)
    if spleen is not None:
        return ResponseCall("PD", spleen)
    if a.nonmeasured_lesions == "progressed":
        return ResponseCall("PD", "clear progression of non-measured lesions")
    if a.marrow == "new_or_recurrent":
        return ResponseCall("PD", "new or recurrent marrow involvement")

    new_small = bool(a.new_node_ldi_cm or a.new_extranodal_ldi_cm)
    spleen_normal = a.spleen_current_cm is None or a.spleen_current_cm <= SPLEEN_NORMAL_CM
    nodes_normal = all(t.current_ldi_cm <= NODE_NORMAL_LDI_CM for t in targets if t.site == "node")
    extranodal_gone = all(t.current_ppd == 0 for t in targets if t.site == "extranodal")
    if (
        nodes_normal
        and extranodal_gone
        and a.nonmeasured_lesions == "absent"
        and spleen_normal
        and a.marrow == "normal"
        and not new_small
    ):
        return ResponseCall(
            "CR",
            "complete radiologic response: target nodes <= 1.5 cm LDi, no extranodal "
            "disease, non-measured lesions absent, spleen and marrow normal",
        )
    base_spd = sum(t.baseline_ppd for t in targets)
    now_spd = sum(t.current_ppd for t in targets)
    if base_spd == 0:
        msg = "the target lesions' baseline SPD is 0; targets must be measurable at baseline"
        raise InvalidInputError(msg, field="target_lesions")
    decrease = (base_spd - now_spd) / base_spd
    spleen_ok = True
    if a.spleen_baseline_cm is not None and a.spleen_baseline_cm > SPLEEN_NORMAL_CM:
        now = a.spleen_current_cm if a.spleen_current_cm is not None else a.spleen_baseline_cm
        excess0 = a.spleen_baseline_cm - SPLEEN_NORMAL_CM
        spleen_ok = max(now - SPLEEN_NORMAL_CM, 0.0) < 0.5 * excess0
    pct = f"{100 * decrease:.1f} %"
    if decrease >= PR_SPD_DECREASE - 1e-12 and not new_small and spleen_ok:
        return ResponseCall("PR", f"SPD decreased by {pct} from baseline (>= 50 %)")
    if decrease >= PR_SPD_DECREASE - 1e-12:
        return ResponseCall(
            "SD", f"SPD decreased by {pct} but spleen or new lesions bar a partial response"
        )
    return ResponseCall("SD", f"SPD changed by {-100 * decrease:+.1f} % (< 50 % decrease), no PD")


def assess_lugano(assessment: LuganoAssessment) -> ResponseCall:
    """Classify one assessment by the Lugano classification 2014.

    Parameters
    ----------
    assessment
        The PET-CT or CT findings.

    Returns
    -------
    ResponseCall
        ``"CR"``, ``"PR"``, ``"SD"`` or ``"PD"`` with ``reason``. For PET-CT these are
        complete/partial/no metabolic response and progressive metabolic disease.

    References
    ----------
    .. [1] Cheson BD et al. J Clin Oncol. 2014;32:3059-3068, Table 3.
    """
    return _pet(assessment) if assessment.modality == "pet_ct" else _ct(assessment)

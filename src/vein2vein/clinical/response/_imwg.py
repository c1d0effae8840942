"""Myeloma response and MRD by the IMWG 2016 consensus (Kumar et al. [1]_, Panel/Table 3).

Standard response, as implemented (decided in this order; "nadir" is the lowest
confirmed value, supplied by the caller, defaulting to baseline):

=====  ==========================================================================
call   rule
=====  ==========================================================================
PD     >= 25 % increase from nadir in: serum M-protein with an absolute increase
       >= 0.5 g/dL (>= 1 g/dL when the nadir was >= 5 g/dL); urine M-protein with
       an absolute increase >= 200 mg/24 h; only without measurable serum and
       urine M-protein, the involved-uninvolved FLC difference (absolute increase
       > 10 mg/dL); only without any of these measurable, marrow plasma cells
       (absolute increase >= 10 percentage points); or new bone lesions /
       soft-tissue plasmacytomas or growth of existing ones
sCR    CR plus a normal FLC ratio and no clonal plasma cells in the marrow
CR     negative serum and urine immunofixation, no soft-tissue plasmacytoma,
       < 5 % marrow plasma cells
VGPR   serum and urine M-protein detectable by immunofixation but not by
       electrophoresis, or >= 90 % serum M-protein reduction with urine
       < 100 mg/24 h; FLC-only disease: >= 90 % decrease of the FLC difference
PR     >= 50 % serum M-protein reduction and urine reduced >= 90 % or to
       < 200 mg/24 h; FLC-only disease: >= 50 % decrease of the FLC difference;
       neither measurable: >= 50 % marrow plasma-cell reduction if baseline >= 30 %;
       plasmacytomas present at baseline must shrink >= 50 %
MR     25-49 % serum M-protein reduction and 50-89 % urine reduction;
       plasmacytomas present at baseline must shrink >= 25 %
SD     none of the above
=====  ==========================================================================

Measurable disease (baseline): serum M-protein >= 1 g/dL, urine M-protein
>= 200 mg/24 h, involved FLC >= 10 mg/dL with an abnormal ratio.

MRD (requires CR; Kumar 2016, "IMWG MRD criteria"): flow MRD-negative (next-generation
flow, NGF) and sequencing MRD-negative (NGS) each need an assay of minimum sensitivity
1 in 10^5 nucleated cells or better; imaging-plus MRD-negative adds a PET-CT with every
area of increased baseline uptake resolved; sustained MRD-negative is marrow and imaging
negativity confirmed a minimum of one year apart. A negative result at 10^-4 does not
qualify, and the reason says so.

Simplifications: one soft-tissue plasmacytoma summary (``plasmacytoma``); confirmation by
two consecutive assessments (required by IMWG for every category) is the caller's job;
circulating plasma cells and hypercalcaemia-driven PD are not modelled; for sustained
negativity the imaging is taken from the current assessment only.

References
----------
.. [1] Kumar S, Paiva B, Anderson KC, et al. International Myeloma Working Group
   consensus criteria for response and minimal residual disease assessment in
   multiple myeloma. Lancet Oncol. 2016;17(8):e328-e346.
   doi:10.1016/S1470-2045(16)30206-6
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final, Literal

from pydantic import Field, field_validator, model_validator

from ...errors import InvalidInputError
from .._observation import ObservationModel
from ._call import ResponseCall

__all__ = [
    "IMWG_MIN_MRD_SENSITIVITY",
    "MRD_SENSITIVITIES",
    "IMWGAssessment",
    "MRDResult",
    "MyelomaLabs",
    "assess_imwg",
    "imwg_mrd_status",
]

MRD_SENSITIVITIES: Final[tuple[float, ...]] = (1e-4, 1e-5, 1e-6)
"""Accepted assay sensitivities (one abnormal cell in 10^4, 10^5, 10^6)."""
IMWG_MIN_MRD_SENSITIVITY: Final = 1e-5
"""IMWG 2016: MRD negativity needs a sensitivity of 1 in 10^5 or better."""
SUSTAINED_MIN_DAYS: Final = 365

_SENSITIVITY_TEXT: Final[dict[str, float]] = {
    "10^-4": 1e-4,
    "10^-5": 1e-5,
    "10^-6": 1e-6,
    "1e-4": 1e-4,
    "1e-5": 1e-5,
    "1e-6": 1e-6,
}

NonNeg = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class MyelomaLabs(ObservationModel):
    """Disease measurements at one time point (each optional)."""

    serum_m_g_dl: NonNeg | None = None
    urine_m_mg_24h: NonNeg | None = None
    involved_flc_mg_dl: NonNeg | None = None
    uninvolved_flc_mg_dl: NonNeg | None = None
    marrow_plasma_cells_pct: Annotated[float, Field(ge=0.0, le=100.0)] | None = None

    @property
    def dflc(self) -> float | None:
        """Involved minus uninvolved FLC, mg/dL."""
        if self.involved_flc_mg_dl is None or self.uninvolved_flc_mg_dl is None:
            return None
        return self.involved_flc_mg_dl - self.uninvolved_flc_mg_dl


class MRDResult(ObservationModel):
    """One marrow MRD result, always with the sensitivity of the assay.

    ``sensitivity`` accepts 1e-4, 1e-5, 1e-6 or the strings ``"10^-5"``/``"1e-5"``.
    """

    tested_on: dt.date
    method: Literal["ngf", "ngs"]
    result: Literal["negative", "positive"]
    sensitivity: float

    @field_validator("sensitivity", mode="before")
    @classmethod
    def _sensitivity(cls, value: object) -> float:
        if isinstance(value, str) and value.strip() in _SENSITIVITY_TEXT:
            return _SENSITIVITY_TEXT[value.strip()]
        if isinstance(value, float) and not isinstance(value, bool):
            for known in MRD_SENSITIVITIES:
                if abs(value - known) <= 1e-9 * known:
                    return known
        msg = f"{value!r} is not a supported assay sensitivity; use 10^-4, 10^-5 or 10^-6"
        raise InvalidInputError(msg, field="sensitivity")

    @property
    def qualifies(self) -> bool:
        """A negative result at the IMWG minimum sensitivity (10^-5) or better."""
        return self.result == "negative" and self.sensitivity <= IMWG_MIN_MRD_SENSITIVITY


class IMWGAssessment(ObservationModel):
    """One IMWG 2016 response assessment.

    Parameters
    ----------
    baseline, current
        :class:`MyelomaLabs` before treatment and now.
    nadir
        Lowest confirmed values since treatment (defaults to baseline) for PD.
    serum_ife_negative, urine_ife_negative
        Immunofixation negative (``None``: not done).
    m_protein_only_on_ife
        Serum and urine M-protein detectable by immunofixation but not by electrophoresis.
    flc_ratio_normal, marrow_clonal_cells_absent
        For sCR.
    plasmacytoma
        ``"none"`` (none at baseline), ``"disappeared"``, ``"reduced_50"`` (>= 50 %),
        ``"reduced_25"`` (25-49 %), ``"not_reduced"``, ``"progressed"``.
    new_bone_lesions
        Definite new bone lesions.
    mrd
        :class:`MRDResult` records, any order.
    pet_ct_negative
        PET-CT with every baseline area of increased uptake resolved (imaging-plus).
    """

    baseline: MyelomaLabs
    current: MyelomaLabs
    nadir: MyelomaLabs | None = None
    serum_ife_negative: Annotated[bool, Field(strict=True)] | None = None
    urine_ife_negative: Annotated[bool, Field(strict=True)] | None = None
    m_protein_only_on_ife: Annotated[bool, Field(strict=True)] = False
    flc_ratio_normal: Annotated[bool, Field(strict=True)] | None = None
    marrow_clonal_cells_absent: Annotated[bool, Field(strict=True)] | None = None
    plasmacytoma: Literal[
        "none", "disappeared", "reduced_50", "reduced_25", "not_reduced", "progressed"
    ] = "none"
    new_bone_lesions: Annotated[bool, Field(strict=True)] = False
    mrd: tuple[MRDResult, ...] = ()
    pet_ct_negative: Annotated[bool, Field(strict=True)] | None = None

    @model_validator(mode="after")
    def _measurable(self) -> IMWGAssessment:
        b = self.baseline
        if not (
            _serum_measurable(b)
            or _urine_measurable(b)
            or _flc_measurable(b)
            or (b.marrow_plasma_cells_pct is not None)
        ):
            msg = (
                "no measurable disease at baseline (serum M >= 1 g/dL, urine M >= 200 mg/24 h, "
                "involved FLC >= 10 mg/dL) and no marrow plasma-cell percentage"
            )
            raise InvalidInputError(msg, field="baseline")
        return self


def _serum_measurable(labs: MyelomaLabs) -> bool:
    return labs.serum_m_g_dl is not None and labs.serum_m_g_dl >= 1.0


def _urine_measurable(labs: MyelomaLabs) -> bool:
    return labs.urine_m_mg_24h is not None and labs.urine_m_mg_24h >= 200.0


def _flc_measurable(labs: MyelomaLabs) -> bool:
    return labs.involved_flc_mg_dl is not None and labs.involved_flc_mg_dl >= 10.0


def _reduction(before: float | None, now: float | None) -> float | None:
    if before is None or now is None or before <= 0:
        return None
    return (before - now) / before


def _pd(a: IMWGAssessment) -> str | None:
    lo = a.nadir if a.nadir is not None else a.baseline
    now, base = a.current, a.baseline
    if a.new_bone_lesions:
        return "definite new bone lesions"
    if a.plasmacytoma == "progressed":
        return "new or growing soft-tissue plasmacytoma"
    if lo.serum_m_g_dl is not None and now.serum_m_g_dl is not None:
        rise = now.serum_m_g_dl - lo.serum_m_g_dl
        need = 1.0 if lo.serum_m_g_dl >= 5.0 else 0.5
        if rise >= 0.25 * lo.serum_m_g_dl and rise >= need - 1e-12:
            return f"serum M-protein up {rise:g} g/dL from nadir (>= 25 %, >= {need:g} g/dL)"
    if lo.urine_m_mg_24h is not None and now.urine_m_mg_24h is not None:
        rise = now.urine_m_mg_24h - lo.urine_m_mg_24h
        if rise >= 0.25 * lo.urine_m_mg_24h and rise >= 200.0:
            return f"urine M-protein up {rise:g} mg/24 h from nadir (>= 25 %, >= 200)"
    heavy = _serum_measurable(base) or _urine_measurable(base)
    lo_d, now_d = lo.dflc, now.dflc
    if not heavy and lo_d is not None and now_d is not None:
        rise = now_d - lo_d
        if rise >= 0.25 * max(lo_d, 0.0) and rise > 10.0:
            return f"FLC difference up {rise:g} mg/dL from nadir (>= 25 %, > 10 mg/dL)"
    if not heavy and not _flc_measurable(base):
        lo_p, now_p = lo.marrow_plasma_cells_pct, now.marrow_plasma_cells_pct
        if lo_p is not None and now_p is not None:
            rise = now_p - lo_p
            if rise >= 0.25 * lo_p and rise >= 10.0:
                return f"marrow plasma cells up {rise:g} points from nadir (>= 10)"
    return None


def _plasmacytoma_ok(a: IMWGAssessment, *, need: str) -> bool:
    order = ["not_reduced", "reduced_25", "reduced_50", "disappeared"]
    if a.plasmacytoma == "none":
        return True
    return a.plasmacytoma in order and order.index(a.plasmacytoma) >= order.index(need)


def assess_imwg(assessment: IMWGAssessment) -> ResponseCall:
    """Classify a myeloma assessment by the IMWG 2016 standard response criteria.

    Returns
    -------
    ResponseCall
        ``"sCR"``, ``"CR"``, ``"VGPR"``, ``"PR"``, ``"MR"``, ``"SD"`` or ``"PD"``.
        MRD is reported separately by :func:`imwg_mrd_status`.

    Examples
    --------
    >>> a = IMWGAssessment(baseline=MyelomaLabs(serum_m_g_dl=4.0, urine_m_mg_24h=0),
    ...                    current=MyelomaLabs(serum_m_g_dl=2.0, urine_m_mg_24h=0))
    >>> str(assess_imwg(a))
    'PR'
    """
    a = assessment
    why = _pd(a)
    if why is not None:
        return ResponseCall("PD", why)
    base, now = a.baseline, a.current
    pct = now.marrow_plasma_cells_pct
    if (
        a.serum_ife_negative is True
        and a.urine_ife_negative is True
        and a.plasmacytoma in ("none", "disappeared")
        and pct is not None
        and pct < 5.0
    ):
        if a.flc_ratio_normal is True and a.marrow_clonal_cells_absent is True:
            return ResponseCall(
                "sCR", "CR plus normal FLC ratio and no clonal plasma cells in the marrow"
            )
        return ResponseCall(
            "CR",
            f"negative serum and urine immunofixation, no plasmacytoma, {pct:g} % < 5 % "
            "marrow plasma cells",
        )
    serum_r = _reduction(base.serum_m_g_dl, now.serum_m_g_dl)
    urine_now = now.urine_m_mg_24h
    urine_r = _reduction(base.urine_m_mg_24h, urine_now)
    heavy = _serum_measurable(base) or _urine_measurable(base)
    flc_r = _reduction(base.dflc, now.dflc)
    eps = 1e-12

    def urine_ok(limit: float, reduce: float | None) -> bool:
        if not _urine_measurable(base):
            return urine_now is None or urine_now < limit
        return urine_now is not None and (
            urine_now < limit or (reduce is not None and urine_r is not None and urine_r >= reduce)
        )

    def serum_at_least(frac: float) -> bool:
        if not _serum_measurable(base):
            return True
        return serum_r is not None and serum_r >= frac - eps

    if heavy:
        if a.m_protein_only_on_ife or (serum_at_least(0.9) and urine_ok(100.0, None)):
            return ResponseCall(
                "VGPR",
                "M-protein only on immunofixation, or serum >= 90 % "
                "reduced with urine < 100 mg/24 h",
            )
        if serum_at_least(0.5) and urine_ok(200.0, 0.9) and _plasmacytoma_ok(a, need="reduced_50"):
            return ResponseCall(
                "PR", "serum M-protein >= 50 % reduced and urine >= 90 % reduced or < 200 mg/24 h"
            )
        urine_mr = (not _urine_measurable(base)) or (urine_r is not None and urine_r >= 0.5 - eps)
        if serum_at_least(0.25) and urine_mr and _plasmacytoma_ok(a, need="reduced_25"):
            return ResponseCall("MR", "serum M-protein 25-49 % reduced, urine 50-89 % reduced")
        return ResponseCall("SD", "criteria for MR or better, and for PD, not met")
    if _flc_measurable(base):
        if flc_r is not None and flc_r >= 0.9 - eps:
            return ResponseCall("VGPR", f"FLC difference {100 * flc_r:.1f} % reduced (>= 90 %)")
        if flc_r is not None and flc_r >= 0.5 - eps and _plasmacytoma_ok(a, need="reduced_50"):
            return ResponseCall("PR", f"FLC difference {100 * flc_r:.1f} % reduced (>= 50 %)")
        return ResponseCall("SD", "FLC difference reduced < 50 %, PD not met")
    b_pct = base.marrow_plasma_cells_pct
    pc_r = _reduction(b_pct, pct)
    if b_pct is not None and b_pct >= 30.0 and pc_r is not None and pc_r >= 0.5 - eps:
        return ResponseCall(
            "PR",
            f"marrow plasma cells {100 * pc_r:.1f} % reduced from {b_pct:g} % (baseline >= 30 %)",
        )
    return ResponseCall("SD", "no measurable parameter met PR, PD not met")


def imwg_mrd_status(assessment: IMWGAssessment) -> ResponseCall:
    """IMWG 2016 MRD category of an assessment, from its dated MRD results.

    Returns
    -------
    ResponseCall
        ``"sustained MRD-negative"``, ``"imaging-plus MRD-negative"``,
        ``"sequencing MRD-negative"``, ``"flow MRD-negative"``, ``"MRD-positive"``,
        ``"not evaluable"`` (MRD negativity requires CR; no results; or a negative
        result below the minimum sensitivity 10^-5, which the reason states).
    """
    response = assess_imwg(assessment)
    if response not in ("CR", "sCR"):
        return ResponseCall("not evaluable", f"MRD categories require CR; response is {response}")
    if not assessment.mrd:
        return ResponseCall("not evaluable", "no MRD result")
    by_date = sorted(assessment.mrd, key=lambda r: r.tested_on)
    last_day = by_date[-1].tested_on
    latest = [r for r in by_date if r.tested_on == last_day]
    positive = [r for r in latest if r.result == "positive"]
    if positive:
        r = positive[0]
        return ResponseCall(
            "MRD-positive", f"{r.method.upper()} positive on {r.tested_on.isoformat()}"
        )
    qualifying = [r for r in latest if r.qualifies]
    if not qualifying:
        sens = ", ".join(f"{r.sensitivity:.0e}" for r in latest)
        return ResponseCall(
            "not evaluable",
            f"negative only at sensitivity {sens}; IMWG requires a minimum of 10^-5 "
            "(1 in 10^5 nucleated cells) for MRD negativity",
        )
    methods = sorted({r.method for r in qualifying})
    # The run of qualifying negatives, unbroken by a positive result, ending now.
    first = last_day
    for r in reversed(by_date):
        if r.result == "positive":
            break
        if r.qualifies:
            first = r.tested_on
    span = (last_day - first).days
    names = " and ".join("NGF" if m == "ngf" else "NGS" for m in methods)
    if assessment.pet_ct_negative is True and span >= SUSTAINED_MIN_DAYS:
        return ResponseCall(
            "sustained MRD-negative",
            f"marrow ({names}) negative at <= 10^-5 from {first.isoformat()} to "
            f"{last_day.isoformat()} ({span} days >= 1 year) and PET-CT negative",
        )
    if assessment.pet_ct_negative is True:
        return ResponseCall(
            "imaging-plus MRD-negative", f"{names} negative at <= 10^-5 and PET-CT negative"
        )
    category = "sequencing MRD-negative" if "ngs" in methods else "flow MRD-negative"
    return ResponseCall(category, f"{names} negative at <= 10^-5 on {last_day.isoformat()}")

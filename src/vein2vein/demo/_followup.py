"""Synthetic clinical follow-up of infused patients (labelled synthetic).

Each released lot is infused into its patient, three weeks after manufacture started
and never before the lot's release. CAR transgene kinetics follow the Stein et al. 2019
typical patient, with an expansion that grows with the lot's CAR expression; CRS and
ICANS severity grow with the expansion; the chance of response grows with CAR
expression (a planted signal that the outcomes report should find), and responders
progress later than non-responders.

The signal is sized so that the demo's cohort (about 30 infused patients) shows it:
the odds of response multiply by e for every 3 points of CAR expression. With the
demo's spread of CAR expression (SD about 7 points) the response model's permutation
test rejects chance (p < 0.05) for about 9 in 10 follow-up seeds at that size, and
always at 120 patients (``tests/clinical/test_followup_signal.py``).
:func:`synthetic_patient_table` draws the same follow-up without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from ..clinical import (
    TYPICAL_PATIENT,
    CRSObservation,
    ICANSObservation,
    nca,
    outcomes_report,
    patient_outcomes,
    patient_table,
    record_infusion,
    record_kinetics,
    record_response,
    record_toxicity,
    stein_curve,
)
from ..records import Actor, Batch, BatchStatus, Database, Disposition, get_record
from ..support import SYNTHETIC_LABEL, write_csv

__all__ = ["run_followup"]

Progress = Callable[[str, int, int], None]
SAMPLE_DAYS = (0.0, 1.0, 4.0, 7.0, 10.0, 14.0, 21.0, 28.0, 60.0, 90.0)
ASSESSMENT_DAYS = (28, 90, 180, 365)
LLOQ = 50.0
#: Logistic scale of the planted signal: the odds of response multiply by e for every
#: RESPONSE_SCALE percentage points of CAR expression (50 % at 30 %).
RESPONSE_SCALE = 3.0


@dataclass(frozen=True, slots=True)
class _Patient:
    batch: str
    patient: str
    car_expression: float
    expansion: float  # multiplier on the typical patient's Cmax


def _crs(grade: int) -> CRSObservation:
    if grade == 0:
        return CRSObservation(
            temperature_c=37.0,
            hypotension=False,
            vasopressors=[],
            oxygen="none",
            fever_treated=False,
        )
    if grade == 1:
        return CRSObservation(
            temperature_c=38.6,
            hypotension=False,
            vasopressors=[],
            oxygen="none",
            fever_treated=False,
        )
    if grade == 2:
        return CRSObservation(
            temperature_c=38.9,
            hypotension=True,
            vasopressors=[],
            oxygen="nasal_cannula",
            oxygen_flow_l_min=2.0,
            fever_treated=False,
        )
    return CRSObservation(
        temperature_c=39.3,
        hypotension=True,
        vasopressors=["norepinephrine"],
        oxygen="nasal_cannula",
        oxygen_flow_l_min=4.0,
        fever_treated=False,
    )


def _icans(ice: int) -> ICANSObservation:
    return ICANSObservation(
        age_years=45.0,
        ice_score=ice,
        consciousness="awake",
        seizure="none",
        motor_weakness="none",
        cerebral_edema="none",
    )


@dataclass(frozen=True, slots=True)
class _Plan:
    """One patient's synthetic follow-up, drawn before anything is recorded."""

    dose_cells: float
    onset: int  # first day of CRS
    crs_max: int
    ice_min: int
    days: np.ndarray
    levels: np.ndarray  # CAR transgene copies/ug on SAMPLE_DAYS
    responder: bool  # drawn; the recorded best response may still be PD (early progression)
    assessments: tuple[tuple[int, str], ...]  # (day, Lugano response) up to the first PD


def _plan(car_expression: float, expansion: float, rng: np.random.Generator) -> _Plan:
    """Draw one patient's follow-up; the draws are in the order the demo has always used."""
    params = replace(TYPICAL_PATIENT, cmax=TYPICAL_PATIENT.cmax * expansion)
    days = np.array(SAMPLE_DAYS)
    levels = stein_curve(days, params) * np.exp(rng.normal(0, 0.25, days.size))
    levels[0] = 0.0
    severity = np.log(expansion) + rng.normal(0, 0.6)
    crs_max = int(np.clip(np.round(1.2 + severity), 0, 3))
    ice_min = int(np.clip(np.round(9 - 3 * max(severity, 0) + rng.normal(0, 1)), 3, 10))
    # The planted signal: the chance of response rises with CAR expression.
    responder = bool(rng.random() < 1 / (1 + np.exp(-(car_expression - 30) / RESPONSE_SCALE)))
    progression = rng.exponential(500 if responder else 90)
    dose = float(rng.uniform(0.5, 2.5)) * 1e8
    onset = int(rng.integers(1, 4))
    assessments: list[tuple[int, str]] = []
    for day in ASSESSMENT_DAYS:
        if day >= progression:
            assessments.append((day, "PD"))
            break
        assessments.append((day, ("CR" if day >= 90 else "PR") if responder else "SD"))
    return _Plan(dose, onset, crs_max, ice_min, days, levels, responder, tuple(assessments))


def _expansion(car_expression: float, rng: np.random.Generator) -> float:
    """Multiplier on the typical patient's Cmax: higher CAR expression, more expansion."""
    return float(np.exp(0.05 * (car_expression - 30) + rng.normal(0, 0.35)))


@dataclass(frozen=True, slots=True)
class _Assessment:
    day: int
    response: str


def synthetic_patient_table(
    car_expression: Sequence[float], *, seed: int, extra_noise_attribute: bool = True
) -> pd.DataFrame:
    """The demo's follow-up generator, without a database: one row per patient.

    The same draws as :func:`run_followup` (:func:`_plan`), read back with the same
    rules as :func:`~vein2vein.clinical.patient_table`
    (:func:`~vein2vein.clinical.patient_outcomes`; ``cmax`` of the qPCR profile with the
    samples below the LLOQ as 0). With ``extra_noise_attribute`` a ``vcn`` column
    unrelated to the outcome is added, as a release attribute with no signal.
    SYNTHETIC data: the frame's ``attrs["label"]`` says so.
    """
    rng = np.random.default_rng(seed + 7)
    expansions = [_expansion(c, rng) for c in car_expression]
    rows = []
    for k, (car, expansion) in enumerate(zip(car_expression, expansions, strict=True)):
        plan = _plan(car, expansion, rng)
        levels = np.where(plan.levels < LLOQ, 0.0, plan.levels)
        rows.append(
            {
                "patient_id": f"SYN-{k + 1:04d}",
                "car_expression": float(car),
                "cmax": nca(plan.days, levels, unit="copies/ug").cmax,
                "max_crs": plan.crs_max,
                **patient_outcomes([_Assessment(d, r) for d, r in plan.assessments]),
            }
        )
    table = pd.DataFrame(rows)
    if extra_noise_attribute:
        table.insert(2, "vcn", np.round(rng.normal(1.6, 0.4, len(table)).clip(0.3), 2))
    table.attrs["label"] = SYNTHETIC_LABEL
    return table


def run_followup(
    db: Database,
    out_dir: Path,
    *,
    clinician: Actor,
    car_expression: dict[str, float],
    seed: int,
    report: Progress,
) -> dict[str, Any]:
    """Infuse every released lot, record its follow-up, and write the outcomes report."""
    rng = np.random.default_rng(seed + 7)
    with db.read() as session:
        lots = [(code, get_record(session, Batch, code)) for code in sorted(car_expression)]
        patients = [
            _Patient(
                code,
                b.patient.patient_code,
                car_expression[code],
                _expansion(car_expression[code], rng),
            )
            for code, b in lots
            if b.status in (BatchStatus.released, BatchStatus.released_at_risk)
        ]
        # Three weeks after the start, and never before the lot's release.
        infused = {code: b.started_at + timedelta(days=21) for code, b in lots}
        for code, released_at in session.execute(
            select(Batch.batch_code, func.min(Disposition.decided_at))
            .join(Disposition, Disposition.batch_id == Batch.id)
            .where(Disposition.disposition.in_(("released", "released_at_risk")))
            .group_by(Batch.batch_code)
        ).all():
            if code in infused:
                infused[code] = max(infused[code], released_at)
    for k, p in enumerate(patients, start=1):
        plan = _plan(p.car_expression, p.expansion, rng)
        with db.unit_of_work(clinician) as uow:
            record_infusion(
                uow,
                batch=p.batch,
                patient=p.patient,  # identified at the bedside
                infused_at=infused[p.batch],
                dose_cells=plan.dose_cells,
                indication="LBCL",
            )
            onset, crs_max = plan.onset, plan.crs_max
            for day in range(1, 15):
                active = onset <= day < onset + 5
                grade = (
                    crs_max if active and day >= onset + 1 else (min(crs_max, 1) if active else 0)
                )
                record_toxicity(
                    uow,
                    patient=p.patient,
                    kind="crs",
                    day=day,
                    observation=_crs(grade),
                    tocilizumab=active and grade >= 2,
                )
                ice = plan.ice_min if active and day >= onset + 2 else 10
                record_toxicity(
                    uow,
                    patient=p.patient,
                    kind="icans",
                    day=day,
                    observation=_icans(ice),
                    steroids=ice < 7,
                )
            record_kinetics(
                uow,
                patient=p.patient,
                days=list(plan.days),
                values=list(plan.levels),
                unit="copies/ug",
                method="qpcr",
                lloq=LLOQ,
            )
            for day, response in plan.assessments:
                record_response(
                    uow,
                    patient=p.patient,
                    day=day,
                    criteria="lugano",
                    response=response,
                    reason="synthetic: new lesion" if response == "PD" else "synthetic assessment",
                )
        report("clinical follow-up recorded", k, len(patients))
    with db.read() as session:
        table = patient_table(session)
    folder = out_dir / "clinical"
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(table, folder / "patients.csv")
    attributes = [a for a in ("car_expression", "vcn", "viability", "cmax") if a in table]
    counts = table["responder"].value_counts() if "responder" in table else {}
    path: Path | None = None
    note = ""
    # Cross-validated models need a few patients of each outcome.
    if min(counts.get(0, 0), counts.get(1, 0)) >= 5:
        path = outcomes_report(
            table,
            attributes=attributes,
            out_dir=folder,
            label=SYNTHETIC_LABEL,
            endpoints=("pfs",),
            n_permutations=99,
            seed=seed,
        )
    else:
        note = "too few responders or non-responders for an outcomes report"
    return {
        "label": SYNTHETIC_LABEL,
        "patients": len(patients),
        "responders": int(table["responder"].sum()) if "responder" in table else 0,
        "max_crs_grades": {str(g): int(n) for g, n in table["max_crs"].value_counts().items()}
        if "max_crs" in table
        else {},
        "report": str(path) if path else None,
        "note": note,
    }

"""Synthetic clinical follow-up of infused patients (labelled synthetic).

Each released lot is infused. CAR transgene kinetics follow the Stein et al. 2019
typical patient, with an expansion that grows with the lot's CAR expression; CRS and
ICANS severity grow with the expansion; the chance of response grows with CAR
expression (a planted signal that the outcomes report should find), and responders
progress later than non-responders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ..clinical import (
    TYPICAL_PATIENT,
    CRSObservation,
    ICANSObservation,
    outcomes_report,
    patient_table,
    record_infusion,
    record_kinetics,
    record_response,
    record_toxicity,
    stein_curve,
)
from ..records import Actor, Batch, BatchStatus, Database, get_record
from ._network import SYNTHETIC_LABEL

__all__ = ["run_followup"]

Progress = Callable[[str, int, int], None]
SAMPLE_DAYS = (0.0, 1.0, 4.0, 7.0, 10.0, 14.0, 21.0, 28.0, 60.0, 90.0)
ASSESSMENT_DAYS = (28, 90, 180, 365)
LLOQ = 50.0


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
                float(np.exp(0.05 * (car_expression[code] - 30) + rng.normal(0, 0.35))),
            )
            for code, b in lots
            if b.status in (BatchStatus.released, BatchStatus.released_at_risk)
        ]
        started = {code: b.started_at for code, b in lots}
    for k, p in enumerate(patients, start=1):
        cmax_scale = p.expansion
        params = replace(TYPICAL_PATIENT, cmax=TYPICAL_PATIENT.cmax * cmax_scale)
        days = np.array(SAMPLE_DAYS)
        levels = stein_curve(days, params) * np.exp(rng.normal(0, 0.25, days.size))
        levels[0] = 0.0
        severity = np.log(cmax_scale) + rng.normal(0, 0.6)
        crs_max = int(np.clip(np.round(1.2 + severity), 0, 3))
        ice_min = int(np.clip(np.round(9 - 3 * max(severity, 0) + rng.normal(0, 1)), 3, 10))
        responder = rng.random() < 1 / (1 + np.exp(-(p.car_expression - 30) / 5))
        progression = rng.exponential(500 if responder else 90)
        with db.unit_of_work(clinician) as uow:
            record_infusion(
                uow,
                batch=p.batch,
                infused_at=started[p.batch] + timedelta(days=21),
                dose_cells=float(rng.uniform(0.5, 2.5)) * 1e8,
                indication="LBCL",
            )
            onset = int(rng.integers(1, 4))
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
                ice = ice_min if active and day >= onset + 2 else 10
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
                days=list(days),
                values=list(levels),
                unit="copies/ug",
                method="qpcr",
                lloq=LLOQ,
            )
            for day in ASSESSMENT_DAYS:
                if day >= progression:
                    record_response(
                        uow,
                        patient=p.patient,
                        day=day,
                        criteria="lugano",
                        response="PD",
                        reason="synthetic: new lesion",
                    )
                    break
                response = ("CR" if day >= 90 else "PR") if responder else "SD"
                record_response(
                    uow,
                    patient=p.patient,
                    day=day,
                    criteria="lugano",
                    response=response,
                    reason="synthetic assessment",
                )
        report("clinical follow-up recorded", k, len(patients))
    with db.read() as session:
        table = patient_table(session)
    folder = out_dir / "clinical"
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "patients.csv", index=False)
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

"""A synthetic (labelled) in vivo CAR-T program: lot, BOIN12 escalation, kinetics, report.

One lentiviral vector lot is registered and released by QA against the shipped
``invivo-vector-lot-release`` specification. Cohorts of three patients are dosed at
five dose levels, the next level chosen by :class:`~vein2vein.invivo.BOIN12` from the
cohorts so far (toxicity = grade >= 3 CRS, efficacy = response). CAR+ kinetics come
from the dose-to-CAR+ model (with per-patient variation, neutralizing titres and assay
noise). A typical patient's chance of grade >= 3 CRS per dose level is
:data:`TRUE_CRS3` (rising to 0.45 at the top dose) and of response
:data:`TRUE_RESPONSE` (rising, then a plateau); a patient's log-odds move with the log
of their Cmax relative to the typical Cmax at that dose, so exposure (and with it the
neutralizing titre) drives both. The in vivo report is written at the end.
Everything is labelled synthetic.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np

from .. import identity
from ..clinical import CRSObservation, ICANSObservation, record_kinetics, record_response
from ..clinical import record_toxicity as _record_toxicity
from ..invivo import (
    BOIN12,
    TYPICAL_LENTIVIRAL,
    invivo_curve,
    invivo_report,
    record_dosing,
    register_invivo_lot,
    release_invivo_lot,
)
from ..records import Actor, Database, Site
from ..support import SYNTHETIC_LABEL

__all__ = ["run_invivo_program"]

DOSE_LEVELS: Final = (1e6, 3e6, 1e7, 3e7, 1e8)  # TU/kg
TRUE_CRS3: Final = (0.02, 0.05, 0.12, 0.25, 0.45)
"""P(grade >= 3 CRS) of a typical patient per dose level (the planted toxicity)."""
TRUE_RESPONSE: Final = (0.10, 0.30, 0.50, 0.60, 0.62)
"""P(response) of a typical patient per dose level: rises, then plateaus."""
EXPOSURE_SLOPE: Final = 1.0
"""Log-odds per unit of log(Cmax / the typical patient's Cmax at that dose)."""
SAMPLE_DAYS: Final = (0.0, 1.0, 3.0, 7.0, 10.0, 14.0, 21.0, 28.0, 42.0, 60.0, 90.0)
LOT_RESULTS: Final = {
    "functional_titer": "3.2e8",
    "infectious_physical_ratio": "0.012",
    "potency": "27",
    "particle_size": "118",
    "endotoxin": "<0.5",
    "sterility": "negative",
    "mycoplasma": "not detected",
    "rcl": "not detected",
}
_START: Final = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def _crs(grade: int) -> CRSObservation:
    fever = grade >= 1
    return CRSObservation(
        temperature_c=38.9 if fever else 37.0,
        hypotension=grade >= 2,
        vasopressors=["norepinephrine"] if grade >= 3 else [],
        oxygen="nasal_cannula"
        if grade == 2
        else ("high_flow_nasal_cannula" if grade >= 3 else "none"),
        oxygen_flow_l_min=2.0 if grade == 2 else (20.0 if grade >= 3 else None),
        fever_treated=False,
    )


def _icans(ice: int) -> ICANSObservation:
    return ICANSObservation(
        age_years=58,
        ice_score=ice,
        consciousness="awake",
        seizure="none",
        motor_weakness="none",
        cerebral_edema="none",
    )


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def run_invivo_program(
    db: Database,
    out_dir: Path,
    *,
    clinician: Actor,
    qa: Actor,
    operator: Actor,
    password: str,
    seed: int = 0,
    report: bool = True,
    cohorts: int = 10,
) -> dict[str, Any]:
    """Run a synthetic in vivo dose-escalation program into ``db`` and write its report.

    Parameters
    ----------
    db
        A migrated database with at least one site.
    out_dir
        Folder for the report.
    clinician, qa, operator
        The actors who dose and follow up, release the lot, and register it.
    password
        The QA reviewer's password (the release is e-signed).
    seed
        Seed of every random draw.
    report
        Whether to write the in vivo report.
    cohorts
        Number of cohorts of three (BOIN12 may stop earlier): 30 patients at most.

    Returns
    -------
    dict
        ``lot``, ``patients``, ``sequence`` (the cohort notation), ``obd`` (the dose
        level BOIN12 selects, 1-based, or None), and ``report`` (the report summary, or
        None). All labelled synthetic.
    """
    rng = np.random.default_rng(seed)
    with db.read() as session:
        site = session.query(Site.code).order_by(Site.id).first()
    if site is None:
        msg = "the database has no site; run the demo network first"
        raise ValueError(msg)
    lot = f"SYN-LV-{seed:03d}"
    with db.unit_of_work(operator) as uow:
        register_invivo_lot(
            uow,
            lot_code=lot,
            product=f"anti-CD19 CAR lentiviral vector ({SYNTHETIC_LABEL})",
            platform="lentiviral",
            titre=3.2e8,
            titre_unit="TU/mL",
            site=site[0],
            manufactured_at=_START - timedelta(days=40),
        )
    with db.unit_of_work(qa) as uow:
        release_invivo_lot(uow, lot=lot, results=LOT_RESULTS, password=password)
    design = BOIN12(len(DOSE_LEVELS))
    sequence: list[str] = []
    level: int | None = 1
    n = 0
    days = np.array(SAMPLE_DAYS)
    typical = [
        float(invivo_curve(days, dose=d, params=TYPICAL_LENTIVIRAL).max()) for d in DOSE_LEVELS
    ]
    for cohort in range(cohorts):
        if level is None:
            break
        letters = ""
        for _ in range(3):
            n += 1
            code = f"SYN-IV-{seed:03d}-{n:03d}"
            dose = DOSE_LEVELS[level - 1]
            titre = float(rng.choice([0.0, 0.0, 20.0, 200.0]))
            params = replace(
                TYPICAL_LENTIVIRAL,
                efficiency=TYPICAL_LENTIVIRAL.efficiency * math.exp(rng.normal(0, 0.4)),
                rho=TYPICAL_LENTIVIRAL.rho * math.exp(rng.normal(0, 0.1)),
            )
            clean = invivo_curve(days, dose=dose, params=params, titre=titre)
            levels = clean * np.exp(rng.normal(0, 0.2, days.size))
            # the planted signal: the dose level's probabilities, moved by exposure
            z = math.log(max(float(clean.max()), 1e-12) / typical[level - 1])
            p_tox = _expit(_logit(TRUE_CRS3[level - 1]) + EXPOSURE_SLOPE * z)
            p_eff = _expit(_logit(TRUE_RESPONSE[level - 1]) + EXPOSURE_SLOPE * z)
            tox = bool(rng.random() < p_tox)
            responder = bool(rng.random() < p_eff)
            crs = int(rng.choice([3, 3, 3, 4])) if tox else int(rng.choice([0, 1, 1, 2]))
            ice = int(np.clip(np.round(9.5 - 4.0 * tox + rng.normal(0, 1)), 0, 10))
            dosed_at = _START + timedelta(days=21 * cohort, hours=n)
            with db.unit_of_work(clinician) as uow:
                identity.register_patient(uow, patient_code=code, treating_site=site[0])
                record_dosing(
                    uow,
                    patient=code,
                    lot=lot,
                    dosed_at=dosed_at,
                    dose=dose,
                    dose_unit="TU/kg",
                    dose_level=level,
                    lymphodepletion=False,
                    indication="LBCL",
                    weight_kg=float(rng.uniform(55, 95)),
                    baseline_alc=float(rng.uniform(600, 1800)),
                    baseline_cd3=float(rng.uniform(400, 1200)),
                    baseline_cd8=float(rng.uniform(150, 500)),
                    tumour_burden=float(rng.uniform(5, 60)),
                    anti_vector_titre=titre,
                )
                for day in (1, 3, 7):
                    _record_toxicity(
                        uow,
                        patient=code,
                        kind="crs",
                        day=day,
                        observation=_crs(crs if day == 3 else 0),
                    )
                _record_toxicity(uow, patient=code, kind="icans", day=7, observation=_icans(ice))
                record_kinetics(
                    uow,
                    patient=code,
                    days=list(days),
                    values=[float(v) for v in levels],
                    unit="cells/uL",
                    method="flow",
                    lloq=0.01,
                )
                record_response(
                    uow,
                    patient=code,
                    day=28,
                    criteria="lugano",
                    response="CR" if responder else "SD",
                    reason=SYNTHETIC_LABEL,
                )
            eff = responder
            letters += "B" if tox and eff else "T" if tox else "E" if eff else "N"
        sequence.append(f"{level}{letters}")
        level = design.next_dose(" ".join(sequence))
    outcomes = " ".join(sequence)
    obd = design.select_obd(outcomes)
    summary = None
    if report:
        marks = [("BOIN12 OBD", DOSE_LEVELS[obd - 1])] if obd else []
        with db.read() as session:
            summary = invivo_report(
                session, out_dir, recommendations=marks, label=SYNTHETIC_LABEL, synthetic=True
            )
    return {
        "label": SYNTHETIC_LABEL,
        "lot": lot,
        "patients": n,
        "sequence": outcomes,
        "obd": obd,
        "report": summary,
    }

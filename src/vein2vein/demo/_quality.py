"""The demo's QA team: every deviation and investigation of a lot closed or assessed first.

Before QA decides a lot, it works through what stands against it, as a real QA team
would, each step e-signed with a reason (synthetic wording):

- the wrong-bag scan (critical chain-of-identity deviation) is investigated and closed
  with its root cause and CAPA before the lot can be released;
- the starting material accepted outside its specification is closed (physician's
  documented request, the lot tested in full);
- the transit temperature excursion is assessed as having no impact on this lot (the
  shipper's stability data), and stays open for the courier's CAPA;
- each process-monitoring signal is closed with its cause (probe drift, a set-point
  error, a dissolved-oxygen dip, or no assignable cause);
- an OOS investigation of the lot's own result is closed as confirmed; the lot is then
  rejected (:func:`close_oos_as_confirmed`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ..records import (
    Actor,
    Batch,
    Database,
    Deviation,
    Reauthentication,
    assess_impact,
    close_deviation,
    close_investigation,
    get_problem,
    get_record,
)
from ..release import lot_problems

__all__ = ["clear_lot", "close_oos_as_confirmed"]

Proof = Callable[[Actor], Reauthentication]

#: How QA closes a deviation, by category (synthetic wording).
_RESOLUTIONS: Final = {
    "chain_of_identity": "investigated: the receiving operator scanned the neighbouring bag "
    "on the bench; the right bag was scanned and accepted 4 minutes later, and its DIN and "
    "patient labels were verified by a second person. Root cause: two bags on the bench. "
    "CAPA: one bag on the bench at a time (SOP revised, operators retrained).",
    "starting_material": "accepted on the treating physician's documented request (no "
    "further apheresis possible); manufacture proceeded and the lot was tested in full "
    "against its release specification. No CAPA: a patient-specific decision.",
}
#: How QA closes a process-monitoring signal, by the parameter it is about.
_SIGNALS: Final = {
    "ph": "investigated: in-line pH probe drift at the hub, confirmed against the offline "
    "blood-gas reference (culture pH 7.15-7.25 throughout); probe replaced and the "
    "calibration interval shortened. No impact on the culture.",
    "dissolved_oxygen": "investigated: sparger flow controller stuck for several hours; "
    "dissolved oxygen stayed above the validated minimum of 15 %; viability and potency "
    "of the lot meet their specification. Controller replaced.",
    "temperature": "investigated: incubator set point entered as 37.9 °C instead of 37.0 "
    "°C; within the validated 36-38 °C range; set point corrected and a second-person "
    "check of set points added.",
}
_NO_CAUSE: Final = (
    "reviewed with the batch record: no assignable cause, the values stayed within the "
    "validated process range (a false alarm of the run rules); no impact."
)
_NO_IMPACT: Final = {
    "temperature_excursion": "11.4 °C for under 30 minutes in transit; the shipper's "
    "stability data cover up to 15 °C for 2 hours and viability at receipt meets its "
    "specification: no impact on this lot. Deviation stays open for the courier's CAPA.",
}


def _signal_parameter(db: Database, code: str) -> str:
    with db.read() as session:
        problem = get_problem(session, code)
        # An investigation has no monitoring source; only a deviation names one.
        source = (problem.source or "") if isinstance(problem, Deviation) else ""
    # Monitoring names its source spc:<parameter>:<rule>.
    return source.split(":")[1] if source.count(":") >= 2 else ""


def clear_lot(db: Database, batch: str, *, qa: Actor, proof: Proof) -> list[str]:
    """QA closes or assesses every problem that keeps ``batch`` from release; what it did."""
    with db.read() as session:
        problems = lot_problems(session, get_record(session, Batch, batch))
    done: list[str] = []
    for p in problems:
        if p.status == "closed" or (p.assessment == "no_impact" and p.assessment_current):
            continue
        if p.kind == "deviation" and p.category in _NO_IMPACT:
            signed = proof(qa)  # re-authentication before the write lock
            with db.unit_of_work(qa) as uow:
                assess_impact(
                    uow,
                    problem=p.code,
                    batch=batch,
                    conclusion="no_impact",
                    reason=_NO_IMPACT[p.category],
                    password=signed,
                )
            done.append(f"{p.code} assessed: no impact on {batch}")
            continue
        if p.kind == "deviation":
            resolution = _RESOLUTIONS.get(p.category)
            if resolution is None and p.category == "process_signal":
                resolution = _SIGNALS.get(_signal_parameter(db, p.code), _NO_CAUSE)
            signed = proof(qa)
            with db.unit_of_work(qa) as uow:
                close_deviation(uow, p.code, password=signed, resolution=resolution or _NO_CAUSE)
            done.append(f"{p.code} closed")
    return done


def close_oos_as_confirmed(
    db: Database, batch: str, *, qa: Actor, proof: Proof, conclusion: str
) -> list[str]:
    """QA closes the OOS investigations of the lot's own results as confirmed."""
    with db.read() as session:
        problems = lot_problems(session, get_record(session, Batch, batch))
    codes = [p.code for p in problems if p.own_result and p.status != "closed"]
    for code in codes:
        signed = proof(qa)
        with db.unit_of_work(qa) as uow:
            close_investigation(
                uow, code, outcome="confirmed", conclusion=conclusion, password=signed
            )
    return [f"{code} closed: confirmed" for code in codes]

"""Patient outcomes and the product attributes behind them ("you can only correlate backwards").

* ``_times``: best overall response, duration of response, progression-free and overall
  survival from dated response calls (:func:`outcome_frame`);
* ``_patient_table``: the follow-up read back from the system of record, one row per
  patient with the lot's attributes (:func:`patient_table`), or read from a CSV file
  (:func:`read_patient_table`);
* ``_survival``: :func:`kaplan_meier_by` (Kaplan-Meier plus log-rank), :func:`cox_model`
  (Cox proportional hazards with the proportional-hazards check);
* ``_response_model``: :func:`response_model` (cross-validated AUROC, permutation test,
  calibration);
* ``_report``: :func:`outcomes_report` (the HTML report), :func:`holm_adjust`.

Imports: ``clinical._observation``, ``kinetics`` (the NCA of each patient's levels),
``records`` and ``comparability`` (reading lots back), ``support`` (the report renderer
and figure helper), ``errors``; never ``followup``:
outcomes read the system of record, they do not write it.
``docs/validation/outcomes.md`` lists what each method is checked against.
"""

from __future__ import annotations

from ._patient_table import (
    PATIENT_COLUMNS,
    patient_outcomes,
    patient_table,
    product_attributes,
    read_patient_table,
)
from ._report import holm_adjust, outcomes_report
from ._response_model import ResponseModelResult, response_model
from ._survival import MIN_EVENTS, CoxResult, KaplanMeierResult, cox_model, kaplan_meier_by
from ._times import (
    RESPONSE_ORDER,
    DatedResponse,
    OutcomeTime,
    PatientCourse,
    best_overall_response,
    duration_of_response,
    outcome_frame,
    overall_survival,
    progression_free_survival,
)

__all__ = [
    "MIN_EVENTS",
    "PATIENT_COLUMNS",
    "RESPONSE_ORDER",
    "CoxResult",
    "DatedResponse",
    "KaplanMeierResult",
    "OutcomeTime",
    "PatientCourse",
    "ResponseModelResult",
    "best_overall_response",
    "cox_model",
    "duration_of_response",
    "holm_adjust",
    "kaplan_meier_by",
    "outcome_frame",
    "outcomes_report",
    "overall_survival",
    "patient_outcomes",
    "patient_table",
    "product_attributes",
    "progression_free_survival",
    "read_patient_table",
    "response_model",
]

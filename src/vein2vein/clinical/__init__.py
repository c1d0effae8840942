"""Clinical follow-up: toxicity grading (ASTCT CRS/ICANS, CTCAE), cellular kinetics.

Grading
    :func:`grade_crs`, :func:`grade_icans` (Lee et al. 2019 ASTCT consensus),
    :func:`grade_neutropenia`, :func:`grade_febrile_neutropenia` (CTCAE v5.0),
    :func:`grade_observations` and :func:`toxicity_episodes` for daily observations.
Response
    :func:`assess_lugano` (Lugano 2014), :func:`assess_imwg` and
    :func:`imwg_mrd_status` (IMWG 2016, MRD with its assay sensitivity),
    :func:`assess_iwcll` (iwCLL 2018); :func:`best_overall_response`, duration of
    response, progression-free and overall survival (:func:`outcome_frame`).
Outcomes linked to the product
    :func:`kaplan_meier_by` (with log-rank), :func:`cox_model`, :func:`response_model`
    (patient-level cross-validation, permutation test, calibration),
    :func:`outcomes_report`.
Records
    :func:`record_infusion`, :func:`record_toxicity`, :func:`record_response`,
    :func:`record_kinetics` write the follow-up to the system of record;
    :func:`import_toxicity`, :func:`import_responses`, :func:`import_kinetics` store a
    CSV file of them all or nothing (read by :func:`read_observations_csv`,
    :func:`read_responses_csv`, :func:`read_kinetics_csv`);
    :func:`patient_table` reads it back, one row per patient with the lot's attributes.
Kinetics
    :func:`nca` (Cmax, Tmax, AUC0-28, Clast, Tlast, persistence), the Stein et al. 2019
    expansion-contraction-persistence model (:func:`stein_curve`, :func:`fit_stein`,
    :data:`TYPICAL_PATIENT`), and :func:`exposure_by_response` per indication.

``docs/validation/grading.md`` and ``docs/validation/kinetics.md`` list what each
method is checked against.
"""

from __future__ import annotations

from ._crs import (
    CRS_FEVER_C,
    LOW_FLOW_MAX_L_MIN,
    OXYGEN_MODES,
    VASOPRESSORS,
    CRSObservation,
    grade_crs,
)
from ._csv import (
    KINETICS_COLUMNS,
    RESPONSE_COLUMNS,
    read_kinetics_csv,
    read_levels_csv,
    read_observations_csv,
    read_responses_csv,
)
from ._ctcae import DEFAULT_ANC_LLN_PER_MM3, grade_febrile_neutropenia, grade_neutropenia
from ._episodes import (
    EPISODE_COLUMNS,
    DatedObservation,
    grade_observations,
    toxicity_episodes,
)
from ._icans import CAPD_DELIRIUM_MIN, ICE_MIN_AGE_YEARS, ICANSObservation, grade_icans
from ._imports import RecordedFile, import_kinetics, import_responses, import_toxicity
from ._imwg import (
    IMWG_MIN_MRD_SENSITIVITY,
    MRD_SENSITIVITIES,
    IMWGAssessment,
    MRDResult,
    MyelomaLabs,
    assess_imwg,
    imwg_mrd_status,
)
from ._iwcll import IwCLLAssessment, assess_iwcll
from ._kinetics import (
    TYPICAL_PATIENT,
    NCAResult,
    SteinFit,
    SteinParameters,
    exposure_by_response,
    fit_stein,
    nca,
    plot_kinetics,
    stein_curve,
)
from ._lugano import (
    LUGANO_MAX_TARGETS,
    SPLEEN_NORMAL_CM,
    LuganoAssessment,
    TargetLesion,
    assess_lugano,
)
from ._outcome_times import (
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
from ._outcomes import (
    MIN_EVENTS,
    CoxResult,
    KaplanMeierResult,
    ResponseModelResult,
    cox_model,
    holm_adjust,
    kaplan_meier_by,
    outcomes_report,
    response_model,
)
from ._patient_table import (
    PATIENT_COLUMNS,
    patient_outcomes,
    patient_table,
    product_attributes,
)
from ._records import (
    RESPONSE_CATEGORIES,
    record_infusion,
    record_kinetics,
    record_response,
    record_toxicity,
)
from ._response import ResponseCall

__all__ = [
    "CAPD_DELIRIUM_MIN",
    "CRS_FEVER_C",
    "DEFAULT_ANC_LLN_PER_MM3",
    "EPISODE_COLUMNS",
    "ICE_MIN_AGE_YEARS",
    "IMWG_MIN_MRD_SENSITIVITY",
    "KINETICS_COLUMNS",
    "LOW_FLOW_MAX_L_MIN",
    "LUGANO_MAX_TARGETS",
    "MIN_EVENTS",
    "MRD_SENSITIVITIES",
    "OXYGEN_MODES",
    "PATIENT_COLUMNS",
    "RESPONSE_CATEGORIES",
    "RESPONSE_COLUMNS",
    "RESPONSE_ORDER",
    "SPLEEN_NORMAL_CM",
    "TYPICAL_PATIENT",
    "VASOPRESSORS",
    "CRSObservation",
    "CoxResult",
    "DatedObservation",
    "DatedResponse",
    "ICANSObservation",
    "IMWGAssessment",
    "IwCLLAssessment",
    "KaplanMeierResult",
    "LuganoAssessment",
    "MRDResult",
    "MyelomaLabs",
    "NCAResult",
    "OutcomeTime",
    "PatientCourse",
    "RecordedFile",
    "ResponseCall",
    "ResponseModelResult",
    "SteinFit",
    "SteinParameters",
    "TargetLesion",
    "assess_imwg",
    "assess_iwcll",
    "assess_lugano",
    "best_overall_response",
    "cox_model",
    "duration_of_response",
    "exposure_by_response",
    "fit_stein",
    "grade_crs",
    "grade_febrile_neutropenia",
    "grade_icans",
    "grade_neutropenia",
    "grade_observations",
    "holm_adjust",
    "import_kinetics",
    "import_responses",
    "import_toxicity",
    "imwg_mrd_status",
    "kaplan_meier_by",
    "nca",
    "outcome_frame",
    "outcomes_report",
    "overall_survival",
    "patient_outcomes",
    "patient_table",
    "plot_kinetics",
    "product_attributes",
    "progression_free_survival",
    "read_kinetics_csv",
    "read_levels_csv",
    "read_observations_csv",
    "read_responses_csv",
    "record_infusion",
    "record_kinetics",
    "record_response",
    "record_toxicity",
    "response_model",
    "stein_curve",
    "toxicity_episodes",
]

"""Clinical follow-up: toxicity grading (ASTCT CRS/ICANS, CTCAE), cellular kinetics.

One subpackage per concept; every public name is also public here.

Grading (:mod:`.grading`)
    :func:`grade_crs`, :func:`grade_icans` (Lee et al. 2019 ASTCT consensus),
    :func:`grade_neutropenia`, :func:`grade_febrile_neutropenia` (CTCAE v5.0),
    :func:`grade_observations` and :func:`toxicity_episodes` for daily observations.
Response (:mod:`.response`) and outcome times (:mod:`.outcomes`)
    :func:`assess_lugano` (Lugano 2014), :func:`assess_imwg` and
    :func:`imwg_mrd_status` (IMWG 2016, MRD with its assay sensitivity),
    :func:`assess_iwcll` (iwCLL 2018); :func:`best_overall_response`, duration of
    response, progression-free and overall survival (:func:`outcome_frame`).
Outcomes linked to the product (:mod:`.outcomes`)
    :func:`kaplan_meier_by` (with log-rank), :func:`cox_model`, :func:`response_model`
    (patient-level cross-validation, permutation test, calibration),
    :func:`outcomes_report`.
Follow-up records (:mod:`.followup`)
    :func:`record_infusion`, :func:`record_toxicity`, :func:`record_response`,
    :func:`record_kinetics` write the follow-up to the system of record;
    :func:`import_toxicity`, :func:`import_responses`, :func:`import_kinetics` store a
    CSV file of them all or nothing (read by :func:`read_observations_csv`,
    :func:`read_responses_csv`, :func:`read_kinetics_csv`);
    :func:`patient_table` (:mod:`.outcomes`) reads it back, one row per patient with the
    lot's attributes.
Kinetics (:mod:`.kinetics`)
    :func:`nca` (Cmax, Tmax, AUC0-28, Clast, Tlast, persistence), the Stein et al. 2019
    expansion-contraction-persistence model (:func:`stein_curve`, :func:`fit_stein`,
    :data:`TYPICAL_PATIENT`), and :func:`exposure_by_response` per indication.

``docs/validation/grading.md`` and ``docs/validation/kinetics.md`` list what each
method is checked against. What each subpackage may import is in its docstring;
``_observation`` holds the base model they share.
"""

from __future__ import annotations

from .followup import (
    KINETICS_COLUMNS,
    RESPONSE_CATEGORIES,
    RESPONSE_COLUMNS,
    RecordedFile,
    import_kinetics,
    import_responses,
    import_toxicity,
    read_kinetics_csv,
    read_levels_csv,
    read_observations_csv,
    read_responses_csv,
    record_infusion,
    record_kinetics,
    record_response,
    record_toxicity,
)
from .grading import (
    CAPD_DELIRIUM_MIN,
    CRS_FEVER_C,
    DEFAULT_ANC_LLN_PER_MM3,
    EPISODE_COLUMNS,
    ICE_MIN_AGE_YEARS,
    LOW_FLOW_MAX_L_MIN,
    OXYGEN_MODES,
    VASOPRESSORS,
    CRSObservation,
    DatedObservation,
    ICANSObservation,
    grade_crs,
    grade_febrile_neutropenia,
    grade_icans,
    grade_neutropenia,
    grade_observations,
    toxicity_episodes,
)
from .kinetics import (
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
from .outcomes import (
    MIN_EVENTS,
    PATIENT_COLUMNS,
    RESPONSE_ORDER,
    CoxResult,
    DatedResponse,
    KaplanMeierResult,
    OutcomeTime,
    PatientCourse,
    ResponseModelResult,
    best_overall_response,
    cox_model,
    duration_of_response,
    holm_adjust,
    kaplan_meier_by,
    outcome_frame,
    outcomes_report,
    overall_survival,
    patient_outcomes,
    patient_table,
    product_attributes,
    progression_free_survival,
    response_model,
)
from .response import (
    IMWG_MIN_MRD_SENSITIVITY,
    LUGANO_MAX_TARGETS,
    MRD_SENSITIVITIES,
    SPLEEN_NORMAL_CM,
    IMWGAssessment,
    IwCLLAssessment,
    LuganoAssessment,
    MRDResult,
    MyelomaLabs,
    ResponseCall,
    TargetLesion,
    assess_imwg,
    assess_iwcll,
    assess_lugano,
    imwg_mrd_status,
)

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

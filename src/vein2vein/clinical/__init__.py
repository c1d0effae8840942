"""Clinical follow-up: toxicity grading (ASTCT CRS/ICANS, CTCAE), cellular kinetics.

Grading
    :func:`grade_crs`, :func:`grade_icans` (Lee et al. 2019 ASTCT consensus),
    :func:`grade_neutropenia`, :func:`grade_febrile_neutropenia` (CTCAE v5.0),
    :func:`grade_observations` and :func:`toxicity_episodes` for daily observations.
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
from ._ctcae import DEFAULT_ANC_LLN_PER_MM3, grade_febrile_neutropenia, grade_neutropenia
from ._episodes import (
    EPISODE_COLUMNS,
    DatedObservation,
    grade_observations,
    read_observations_csv,
    toxicity_episodes,
)
from ._icans import CAPD_DELIRIUM_MIN, ICE_MIN_AGE_YEARS, ICANSObservation, grade_icans
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

__all__ = [
    "CAPD_DELIRIUM_MIN",
    "CRS_FEVER_C",
    "DEFAULT_ANC_LLN_PER_MM3",
    "EPISODE_COLUMNS",
    "ICE_MIN_AGE_YEARS",
    "LOW_FLOW_MAX_L_MIN",
    "OXYGEN_MODES",
    "TYPICAL_PATIENT",
    "VASOPRESSORS",
    "CRSObservation",
    "DatedObservation",
    "ICANSObservation",
    "NCAResult",
    "SteinFit",
    "SteinParameters",
    "exposure_by_response",
    "fit_stein",
    "grade_crs",
    "grade_febrile_neutropenia",
    "grade_icans",
    "grade_neutropenia",
    "grade_observations",
    "nca",
    "plot_kinetics",
    "read_observations_csv",
    "stein_curve",
    "toxicity_episodes",
]

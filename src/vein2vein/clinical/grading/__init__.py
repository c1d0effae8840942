"""Toxicity grading: ASTCT CRS and ICANS, CTCAE neutropenia, daily series and episodes.

Holds one module per grading system (``_crs``, ``_icans``, ``_ctcae``), the daily series
and their episodes (``_episodes``), and the conversion of CSV cells and frame values into
observations (``_cells``), which the follow-up CSV readers share.

Imports: ``clinical._observation``, ``support`` and ``errors`` only; never the system of
record, ``followup`` or ``outcomes`` (grading is pure computation).
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
from ._episodes import EPISODE_COLUMNS, DatedObservation, grade_observations, toxicity_episodes
from ._icans import CAPD_DELIRIUM_MIN, ICE_MIN_AGE_YEARS, ICANSObservation, grade_icans

__all__ = [
    "CAPD_DELIRIUM_MIN",
    "CRS_FEVER_C",
    "DEFAULT_ANC_LLN_PER_MM3",
    "EPISODE_COLUMNS",
    "ICE_MIN_AGE_YEARS",
    "LOW_FLOW_MAX_L_MIN",
    "OXYGEN_MODES",
    "VASOPRESSORS",
    "CRSObservation",
    "DatedObservation",
    "ICANSObservation",
    "grade_crs",
    "grade_febrile_neutropenia",
    "grade_icans",
    "grade_neutropenia",
    "grade_observations",
    "toxicity_episodes",
]

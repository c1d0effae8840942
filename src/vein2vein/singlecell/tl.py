"""CAR+ cells, cell states, signature scores, clonotypes, diversity, tracking."""

from __future__ import annotations

from ._car import car_positive
from ._clonotypes import CLONOTYPE_DEFINITIONS, EXPANSION_CLASSES, define_clonotypes
from ._diversity import DIVERSITY_METRICS, diversity
from ._signatures import score_signatures, shipped_signatures
from ._tracking import TrackingResult, timepoint_months, track_clones

__all__: list[str] = [
    "CLONOTYPE_DEFINITIONS",
    "DIVERSITY_METRICS",
    "EXPANSION_CLASSES",
    "TrackingResult",
    "car_positive",
    "define_clonotypes",
    "diversity",
    "score_signatures",
    "shipped_signatures",
    "timepoint_months",
    "track_clones",
]

"""CAR+ cells, cell states, signature scores, clonotypes, diversity, tracking."""

from __future__ import annotations

from ._car import car_positive
from ._diversity import DIVERSITY_METRICS, diversity
from ._signatures import score_signatures, shipped_signatures

__all__: list[str] = [
    "DIVERSITY_METRICS",
    "car_positive",
    "diversity",
    "score_signatures",
    "shipped_signatures",
]

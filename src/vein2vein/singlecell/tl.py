"""CAR+ cells, cell states, signature scores, clonotypes, diversity, tracking."""

from __future__ import annotations

from ._diversity import DIVERSITY_METRICS, diversity

__all__: list[str] = ["DIVERSITY_METRICS", "diversity"]

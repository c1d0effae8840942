"""CAR+ cells, cell states, signature scores, clonotypes, diversity, tracking."""

from __future__ import annotations

__all__: list[str] = []

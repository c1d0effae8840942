"""Plots of profiles: UMAPs, signature distributions, clone sizes, tracking."""

from __future__ import annotations

__all__: list[str] = []

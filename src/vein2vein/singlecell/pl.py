"""Plots of profiles: UMAPs, signature distributions, clone sizes, tracking."""

from __future__ import annotations

from ._plots import signature_violins, umap_states
from ._plots_clones import clone_size_distribution, clonotype_tracking

__all__: list[str] = [
    "clone_size_distribution",
    "clonotype_tracking",
    "signature_violins",
    "umap_states",
]

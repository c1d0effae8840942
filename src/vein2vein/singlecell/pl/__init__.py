"""Plots of profiles: UMAPs, signature distributions, clone sizes, tracking.

``_states`` draws cells (UMAP by state, signature violins), ``_clones`` clone sizes and
clone tracking. Plots draw only: no analysis, matplotlib imported lazily.

Imports: ``tl`` (clonotype tables and the tracking result), ``errors``.
"""

from __future__ import annotations

from ._clones import clone_size_distribution, clonotype_tracking
from ._states import signature_violins, umap_states

__all__: list[str] = [
    "clone_size_distribution",
    "clonotype_tracking",
    "signature_violins",
    "umap_states",
]

"""The single-cell product profile: a standard scRNA-seq + TCR pipeline for CAR-T products.

Built on anndata, scanpy, scirpy and mudata, in their style: ``io`` reads Cell Ranger and
AIRR files and sample sheets; ``pp`` is quality control and the embedding; ``tl`` flags
CAR+ cells, calls cell states by fixed rules, scores signatures, defines clonotypes,
measures diversity and tracks clones over time; ``pl`` plots; ``profile`` condenses a
sample into a versioned :class:`ProductProfile`.
"""

from __future__ import annotations

from . import io, pl, pp, profile, tl
from .profile import ProductProfile

__all__ = ["ProductProfile", "io", "pl", "pp", "profile", "tl"]

"""Quality control, normalization and the embedding, every parameter recorded.

``_qc`` filters cells and genes and records the library versions; ``_embedding``
normalizes, selects genes, and builds the PCA, neighbours, UMAP and clusters.

Imports: the count-matrix helpers of ``tl`` (signatures), the backend choice of
``profile`` (lazily), ``errors``; never ``pl``.
"""

from __future__ import annotations

from ._embedding import embed, embedding_agreement
from ._qc import QC_DEFAULTS, library_versions, qc

__all__: list[str] = ["QC_DEFAULTS", "embed", "embedding_agreement", "library_versions", "qc"]

"""Quality control, normalization and the embedding, every parameter recorded."""

from __future__ import annotations

from ._embedding import embed, embedding_agreement
from ._qc import QC_DEFAULTS, library_versions, qc

__all__: list[str] = ["QC_DEFAULTS", "embed", "embedding_agreement", "library_versions", "qc"]

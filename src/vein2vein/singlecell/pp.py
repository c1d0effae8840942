"""Quality control, normalization and the embedding, every parameter recorded."""

from __future__ import annotations

__all__: list[str] = []

"""Specifications and the decisions made against them."""

from __future__ import annotations

from ._decision import Decision, Outcome

__all__ = ["Decision", "Outcome"]

"""Apheresis starting-material acceptance: characterization in, decision on the donation."""

from __future__ import annotations

from ._import import (
    Characterization,
    IntakeOutcome,
    decide_intake,
    import_intake,
    read_characterizations,
)

__all__ = [
    "Characterization",
    "IntakeOutcome",
    "decide_intake",
    "import_intake",
    "read_characterizations",
]

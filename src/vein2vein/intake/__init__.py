"""Apheresis starting-material acceptance: characterization in, decision on the donation."""

from __future__ import annotations

from ._correct import correct_intake, latest_intake_evaluation
from ._import import (
    Characterization,
    IntakeOutcome,
    decide_intake,
    import_intake,
    read_characterizations,
    record_intake_decision,
)

__all__ = [
    "Characterization",
    "IntakeOutcome",
    "correct_intake",
    "decide_intake",
    "import_intake",
    "latest_intake_evaluation",
    "read_characterizations",
    "record_intake_decision",
]

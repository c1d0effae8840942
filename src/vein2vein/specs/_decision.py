"""Decisions: an outcome with its reasons in words, the currency of every guard and spec."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["Decision", "Outcome"]


class Outcome(enum.StrEnum):
    """The outcome of a check: a spec item, a whole specification, or a guard."""

    passed = "pass"
    failed = "fail"
    pending = "pending"
    invalid = "invalid"


@dataclass(frozen=True, slots=True)
class Decision:
    """An outcome and the reasons for it, each a sentence a reviewer can read.

    Examples
    --------
    >>> Decision.refuse("scanned DIN does not match").ok
    False
    >>> Decision.allow().outcome
    <Outcome.passed: 'pass'>
    """

    outcome: Outcome
    reasons: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the outcome is a pass."""
        return self.outcome is Outcome.passed

    @classmethod
    def allow(cls, *reasons: str) -> Decision:
        """A passing decision."""
        return cls(Outcome.passed, reasons)

    @classmethod
    def refuse(cls, *reasons: str) -> Decision:
        """A failing decision; give at least one reason."""
        if not reasons:
            msg = "a refusal needs a reason"
            raise ValueError(msg)
        return cls(Outcome.failed, reasons)

    @classmethod
    def combine(cls, *decisions: Decision) -> Decision:
        """Fail if any fails, else pending if any is pending, else pass; reasons joined."""
        order = [Outcome.invalid, Outcome.failed, Outcome.pending, Outcome.passed]
        outcome = min((d.outcome for d in decisions), key=order.index, default=Outcome.passed)
        return cls(outcome, tuple(r for d in decisions for r in d.reasons))

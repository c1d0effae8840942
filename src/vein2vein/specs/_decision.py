"""Decisions: an outcome with its reasons in words, the currency of every guard and spec."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Decision", "ItemDecision", "Outcome"]


class Outcome(enum.StrEnum):
    """The outcome of a check: a spec item, a whole specification, or a guard."""

    passed = "pass"
    failed = "fail"
    pending = "pending"
    invalid = "invalid"


@dataclass(frozen=True, slots=True)
class ItemDecision:
    """The decision on one specification item.

    Attributes
    ----------
    analyte
        The item's key in the specification (e.g. ``"viability"``).
    name
        The item's name for people.
    outcome
        Pass, fail, pending or invalid.
    reason
        The decision in words, e.g. ``"viability 72 % < 80 %"``.
    result_text
        The result as reported (value and unit), or ``None`` when there is none.
    criterion_text
        The acceptance criterion for people, e.g. ``"≥ 80 %"`` or ``"negative"``.
    value
        The numeric result in the item's unit (the bound for a censored result such as
        ``<0.5``), or ``None`` for qualitative and missing results.
    unit
        The item's unit, ``None`` for qualitative items.
    required
        Whether the item gates the overall decision.
    conditional
        Whether the item may still be pending at a release at risk (e.g. 14-day sterility).
    qualifier
        ``"<"``, ``"<="``, ``">"`` or ``">="`` when the result was censored, else ``None``.
    basis
        How the reported result became ``value`` when its unit differs from the item's,
        for people: ``"2 EU/mL × 68 mL ÷ 20 kg = 6.8 EU/kg"`` (a per-kg limit shows the
        patient weight and dose volume it used); ``None`` otherwise.
    """

    analyte: str
    name: str
    outcome: Outcome
    reason: str
    result_text: str | None
    criterion_text: str
    value: float | None = None
    unit: str | None = None
    required: bool = True
    conditional: bool = False
    qualifier: str | None = None
    basis: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The item as JSON-ready data."""
        return {
            "analyte": self.analyte,
            "name": self.name,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "result_text": self.result_text,
            "criterion_text": self.criterion_text,
            "value": self.value,
            "qualifier": self.qualifier,
            "unit": self.unit,
            "required": self.required,
            "conditional": self.conditional,
            "basis": self.basis,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """An outcome and the reasons for it, each a sentence a reviewer can read.

    A decision made against a specification also carries the per-item decisions and
    the identity of the specification (id, version and SHA-256 of its file), so that
    a record of the decision says exactly which document it was made against.

    Examples
    --------
    >>> Decision.refuse("scanned DIN does not match").ok
    False
    >>> Decision.allow().outcome
    <Outcome.passed: 'pass'>
    """

    outcome: Outcome
    reasons: tuple[str, ...] = field(default=())
    items: tuple[ItemDecision, ...] = field(default=())
    spec_id: str | None = None
    spec_version: str | None = None
    spec_sha256: str | None = None

    @property
    def ok(self) -> bool:
        """True when the outcome is a pass."""
        return self.outcome is Outcome.passed

    @property
    def only_conditional_pending(self) -> bool:
        """True when the decision is pending only on conditional items.

        This is the situation of a release at risk: every required item has passed
        except conditional ones (such as the compendial 14-day sterility test) whose
        results are still outstanding.
        """
        if self.outcome is not Outcome.pending:
            return False
        pending = [i for i in self.items if i.required and i.outcome is Outcome.pending]
        return bool(pending) and all(i.conditional for i in pending)

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
        """The worst outcome wins (invalid, fail, pending, pass); reasons and items joined."""
        order = [Outcome.invalid, Outcome.failed, Outcome.pending, Outcome.passed]
        outcome = min((d.outcome for d in decisions), key=order.index, default=Outcome.passed)
        return cls(
            outcome,
            tuple(r for d in decisions for r in d.reasons),
            tuple(i for d in decisions for i in d.items),
        )

    def to_dict(self) -> dict[str, Any]:
        """The decision as JSON-ready data (for ``--json``, the API and audit images).

        Examples
        --------
        >>> Decision.refuse("too cold").to_dict()["outcome"]
        'fail'
        """
        return {
            "outcome": self.outcome.value,
            "ok": self.ok,
            "reasons": list(self.reasons),
            "only_conditional_pending": self.only_conditional_pending,
            "spec_id": self.spec_id,
            "spec_version": self.spec_version,
            "spec_sha256": self.spec_sha256,
            "items": [i.to_dict() for i in self.items],
        }

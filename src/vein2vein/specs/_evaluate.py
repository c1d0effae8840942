"""Evaluation: a specification and results in, a decision with reasons out (pure).

Rules (see ``docs/validation/specs.md``):

- Each item is decided on its own: pass, fail, pending or invalid.
- A numeric result is an interval in the item's unit: ``72`` is [72, 72], ``<0.5`` is
  [0, 0.5), ``<=0.5`` is [0, 0.5], ``>1e6`` is (10⁶, ∞), ``below LOQ`` is [0, loq).
  It passes when the whole interval lies inside the acceptance set, fails when none of
  it does, and otherwise cannot be decided (invalid, with a reason saying so).
- Overall: invalid if any item is invalid; else fail if a required item fails; else
  pending if a required item is pending; else pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..errors import InvalidInputError
from ._decision import Decision, ItemDecision, Outcome
from ._inputs import CONTEXT_KEYS, as_results, check_context, match_results
from ._model import QUALITATIVE, Specification, SpecItem
from ._units import (
    UnitProblem,
    convert,
    format_number,
    parse_unit,
    pretty_unit,
    registry,
    round_sig,
)
from ._values import ParsedValue, Result, UnreadableValue, parse_value

__all__ = ["CONTEXT_KEYS", "evaluate"]

_NEGATED = {">=": "<", "<=": ">", ">": "≤", "<": "≥"}
_SEVERITY = (Outcome.invalid, Outcome.failed, Outcome.pending)
Verdict = Literal["pass", "fail", "undecided"]


class _Invalid(Exception):
    """An item that cannot be decided; carries the reason."""


class _Decided(Protocol):
    """Makes the :class:`ItemDecision` for the item at hand."""

    def __call__(
        self,
        outcome: Outcome,
        reason: str,
        *,
        value: float | None = None,
        qualifier: str | None = None,
        basis: str | None = None,
    ) -> ItemDecision: ...


@dataclass(frozen=True, slots=True)
class _Interval:
    lo: float
    hi: float
    lo_closed: bool = field(default=True, kw_only=True)
    hi_closed: bool = field(default=True, kw_only=True)

    def within(self, other: _Interval) -> bool:
        low_ok = self.lo > other.lo or (
            self.lo == other.lo and (other.lo_closed or not self.lo_closed)
        )
        high_ok = self.hi < other.hi or (
            self.hi == other.hi and (other.hi_closed or not self.hi_closed)
        )
        return low_ok and high_ok

    def disjoint(self, other: _Interval) -> bool:
        def before(a: _Interval, b: _Interval) -> bool:
            return a.hi < b.lo or (a.hi == b.lo and not (a.hi_closed and b.lo_closed))

        return before(self, other) or before(other, self)


def evaluate(
    spec: Specification,
    results: Iterable[Result] | Mapping[str, Result | str | float],
    *,
    context: Mapping[str, float] | None = None,
    stage: str | None = None,
) -> Decision:
    """Decide results against a specification.

    Parameters
    ----------
    spec
        The specification.
    results
        The results: :class:`Result` objects, or a mapping of analyte to a
        :class:`Result` or a bare value (text or number, in the item's unit).
    context
        Facts that dose-based limits need: ``patient_weight_kg`` and
        ``dose_volume_ml`` (to express EU/mL as EU/kg, or a total cell count as
        cells/kg).
    stage
        Decide only the items of this stage (e.g. ``"in_process"``).

    Returns
    -------
    Decision
        The overall outcome, its reasons, one :class:`ItemDecision` per item, and the
        specification's id, version and SHA-256.

    Raises
    ------
    SpecError
        When two results are given for one analyte.
    InvalidInputError
        When ``context`` holds an unknown key or a value that is not a positive number,
        or ``stage`` matches no item.

    Examples
    --------
    >>> from vein2vein.specs import shipped_spec
    >>> spec = shipped_spec("anti-cd19-cart-release")
    >>> d = evaluate(spec, {"viability": "72"}, stage="final_product")
    >>> d.outcome.value
    'fail'
    >>> next(i.reason for i in d.items if i.analyte == "viability")
    'viability 72 % < 80 %'
    """
    facts = check_context(context)
    items = [item for item in spec.items if stage is None or item.stage == stage]
    if not items:
        stages = sorted({str(item.stage) for item in spec.items})
        msg = f"specification {spec.id} has no items for stage {stage!r}; its stages: {stages}"
        raise InvalidInputError(msg, field="stage")
    chosen, notes = match_results(spec, as_results(results), stage)
    decisions = tuple(_decide(item, chosen.get(item.analyte), facts) for item in items)
    outcome = _overall(decisions)
    counts = ", ".join(
        f"{sum(d.outcome is o for d in decisions)} {o.value}"
        for o in (Outcome.passed, Outcome.failed, Outcome.pending, Outcome.invalid)
    )
    summary = f"{spec.title} v{spec.version}: {outcome.value} ({counts})"
    flagged = sorted(
        (d for d in decisions if d.outcome in _SEVERITY),
        key=lambda d: (_SEVERITY.index(d.outcome), not d.required),
    )
    reasons = [summary]
    reasons += [d.reason if d.required else f"{d.reason} (optional item)" for d in flagged]
    reasons += notes
    return Decision(
        outcome,
        tuple(reasons),
        decisions,
        spec_id=spec.id,
        spec_version=spec.version,
        spec_sha256=spec.sha256 or None,
    )


def _overall(decisions: tuple[ItemDecision, ...]) -> Outcome:
    if any(d.outcome is Outcome.invalid for d in decisions):
        return Outcome.invalid
    for outcome in (Outcome.failed, Outcome.pending):
        if any(d.required and d.outcome is outcome for d in decisions):
            return outcome
    return Outcome.passed


def _decide(item: SpecItem, result: Result | None, facts: dict[str, float]) -> ItemDecision:
    def decided(
        outcome: Outcome,
        reason: str,
        *,
        value: float | None = None,
        qualifier: str | None = None,
        basis: str | None = None,
    ) -> ItemDecision:
        return ItemDecision(
            analyte=item.analyte,
            name=item.name,
            outcome=outcome,
            reason=reason,
            result_text=None if result is None else result.text,
            criterion_text=item.criterion_text,
            unit=item.unit,
            required=item.required,
            conditional=item.conditional,
            value=value,
            qualifier=qualifier,
            basis=basis,
        )

    kind = item.criterion.kind
    if result is None:
        if kind == "report":
            return decided(Outcome.passed, f"{item.name} not reported (report only)")
        if not item.required:
            return decided(Outcome.passed, f"{item.name} not tested (optional)")
        return decided(Outcome.pending, f"{item.name}: no result")
    if kind == "equals" and isinstance(item.criterion.value, str):
        return _decide_text(item, result, decided)
    try:
        parsed = parse_value(result.value)
    except UnreadableValue as exc:
        if kind == "report" and item.unit is None:
            return decided(Outcome.passed, f"{item.name} {result.text} (reported)")
        return decided(Outcome.invalid, f"{item.name}: {exc}")
    if parsed.kind == "pending":
        return decided(Outcome.pending, f"{item.name} pending")
    try:
        if kind in QUALITATIVE:
            return _decide_quality(item, result, parsed, decided)
        return _decide_number(item, result, parsed, facts, decided)
    except _Invalid as exc:
        return decided(Outcome.invalid, str(exc))


def _decide_text(item: SpecItem, result: Result, decided: _Decided) -> ItemDecision:
    got = " ".join(str(result.value).split())
    if got.casefold() in ("", "pending", "in progress"):
        return decided(Outcome.pending, f"{item.name} pending")
    want = str(item.criterion.value)
    if got.casefold() == " ".join(want.split()).casefold():
        return decided(Outcome.passed, f"{item.name} {got} (required: {want})")
    return decided(Outcome.failed, f"{item.name} {got}; required: {want}")


def _decide_quality(
    item: SpecItem, result: Result, parsed: ParsedValue, decided: _Decided
) -> ItemDecision:
    wanted = "conforms" if item.criterion.kind == "conforms" else "negative"
    opposite = "not_conforms" if wanted == "conforms" else "positive"
    text, required = result.text, item.criterion_text
    if parsed.quality == wanted:
        return decided(Outcome.passed, f"{item.name} {text} (required: {required})")
    if parsed.quality == opposite:
        return decided(Outcome.failed, f"{item.name} {text}; required: {required}")
    msg = f"{item.name}: {text!r} is not a result for a test that must be {required}"
    raise _Invalid(msg)


def _decide_number(
    item: SpecItem,
    result: Result,
    parsed: ParsedValue,
    facts: dict[str, float],
    decided: _Decided,
) -> ItemDecision:
    name, kind = item.name, item.criterion.kind
    if parsed.kind == "qualitative":
        msg = f"{name}: {result.text!r} is qualitative; {item.criterion_text} needs a number"
        raise _Invalid(msg)
    if result.unit and parsed.unit and result.unit.strip() != parsed.unit:
        msg = f"{name}: the value {result.value!r} carries a unit and the unit column another"
        raise _Invalid(msg)
    unit = (result.unit or parsed.unit or "").strip() or None
    interval, shown, value, qualifier, basis = _interval(item, result, parsed, unit, facts)
    if kind == "report":
        return decided(
            Outcome.passed,
            f"{name} {shown} (reported)",
            value=value,
            qualifier=qualifier,
            basis=basis,
        )
    verdict: Verdict
    accept = _acceptance(item)
    if interval.within(accept):
        verdict = "pass"
    elif interval.disjoint(accept):
        verdict = "fail"
    else:
        verdict = "undecided"
    criterion = item.criterion_text
    if verdict == "undecided":
        msg = (
            f"{name} {shown} cannot be judged against {criterion}: a censored result "
            "decides only when all values it allows lie on one side of the limit"
        )
        raise _Invalid(msg)
    if verdict == "pass":
        outcome = Outcome.passed
        reason = f"{name} {shown} within {criterion}" if kind == "range" else ""
        reason = reason or f"{name} {shown} {criterion}"
    else:
        outcome = Outcome.failed
        tail = f" {pretty_unit(item.unit)}".rstrip()
        limit = item.criterion.value
        limit_text = format_number(limit) if isinstance(limit, float) else str(limit)
        if kind == "range":
            reason = f"{name} {shown} outside {criterion}"
        elif kind == "equals":
            reason = f"{name} {shown} ≠ {limit_text}{tail}"
        else:
            reason = f"{name} {shown} {_NEGATED[kind]} {limit_text}{tail}"
    return decided(outcome, reason, value=value, qualifier=qualifier, basis=basis)


def _acceptance(item: SpecItem) -> _Interval:
    c = item.criterion
    inf = math.inf
    if c.kind == "range" and c.low is not None and c.high is not None:
        return _Interval(c.low, c.high)
    limit = c.value if isinstance(c.value, float) else math.nan
    return {
        ">=": _Interval(limit, inf, hi_closed=False),
        ">": _Interval(limit, inf, lo_closed=False, hi_closed=False),
        "<=": _Interval(-inf, limit, lo_closed=False),
        "<": _Interval(-inf, limit, lo_closed=False, hi_closed=False),
    }.get(c.kind, _Interval(limit, limit))


def _interval(
    item: SpecItem,
    result: Result,
    parsed: ParsedValue,
    unit: str | None,
    facts: dict[str, float],
) -> tuple[_Interval, str, float | None, str | None, str | None]:
    """The result as an interval in the item's unit, its text for people, value, qualifier.

    The last value is the conversion into the item's unit, for people (``None`` when the
    result is in the item's unit already), e.g. ``"2 EU/mL × 68 mL ÷ 20 kg = 6.8 EU/kg"``.
    """
    name, shown_unit = item.name, pretty_unit(item.unit)
    inf = math.inf
    if parsed.kind in ("below_loq", "above_uloq"):
        bound = item.loq if parsed.kind == "below_loq" else item.uloq
        if bound is None:
            which = "LOQ" if parsed.kind == "below_loq" else "ULOQ"
            msg = f"{name}: reported {result.text!r} but the specification gives no {which}"
            raise _Invalid(msg)
        op = "<" if parsed.kind == "below_loq" else ">"
        shown = f"{result.text} ({op} {format_number(bound)} {shown_unit})".replace(" )", ")")
        if op == "<":
            return _Interval(0.0, bound, hi_closed=False), shown, bound, op, None
        return _Interval(bound, inf, lo_closed=False, hi_closed=False), shown, bound, op, None
    number, factors = _to_item_unit(parsed.number or 0.0, unit, item, facts)
    value_text = result.value.strip() if isinstance(result.value, str) else f"{result.value:g}"
    if parsed.unit and not result.unit:
        shown = value_text  # the unit is written in the value
    else:
        shown = f"{value_text} {pretty_unit(unit or item.unit)}".rstrip()
    if unit is not None and unit != item.unit:
        op = parsed.qualifier or ""
        converted = f"{op}{format_number(number)} {shown_unit}".rstrip()
        # A per-kg conversion shows the weight (and volume) it used, as the CoA prints it.
        step = f"{factors} = {converted}" if factors else f"= {converted}"
        basis = f"{shown} {step}"
        shown = f"{shown} ({step})"
    else:
        basis = None
    qualifier = parsed.qualifier
    interval = {
        None: _Interval(number, number),
        "<": _Interval(0.0, number, hi_closed=False),
        "<=": _Interval(0.0, number),
        ">": _Interval(number, inf, lo_closed=False, hi_closed=False),
        ">=": _Interval(number, inf, hi_closed=False),
    }[qualifier]
    return interval, shown, number, qualifier, basis


def _to_item_unit(
    x: float, unit: str | None, item: SpecItem, facts: dict[str, float]
) -> tuple[float, str | None]:
    """Express ``x`` (in ``unit``; ``None`` means the item's own) in the item's unit.

    The second value says which dose facts a per-kg conversion used, e.g.
    ``"× 68 mL ÷ 20 kg"`` (``None`` when none were needed).
    """
    if unit is None or unit == item.unit:
        return x, None
    try:
        return convert(x, unit, item.unit), None
    except UnitProblem as exc:
        if item.per != "kg":
            msg = f"{item.name}: {exc}"
            raise _Invalid(msg) from None
        direct = exc
    ureg = registry()
    try:
        source, target = parse_unit(unit), parse_unit(item.unit)
    except UnitProblem as exc:
        msg = f"{item.name}: {exc}"
        raise _Invalid(msg) from None
    quantity = ureg.Quantity(x * source.scale, source.units)
    needed: tuple[str, ...]
    if (quantity / ureg.kilogram).dimensionality == target.units.dimensionality:
        needed = ("patient_weight_kg",)
    elif (quantity * ureg.milliliter / ureg.kilogram).dimensionality == (
        target.units.dimensionality
    ):
        needed = ("dose_volume_ml", "patient_weight_kg")
    else:
        msg = f"{item.name}: {direct}"
        raise _Invalid(msg)
    missing = [key for key in needed if key not in facts]
    if missing:
        msg = (
            f"{item.name}: expressing {unit} as {item.unit} needs "
            f"{' and '.join(missing)} in the context"
        )
        raise _Invalid(msg)
    weight = facts["patient_weight_kg"]
    per_kg = quantity / (weight * ureg.kilogram)
    factors = f"÷ {format_number(weight)} kg"
    if "dose_volume_ml" in needed:
        volume = facts["dose_volume_ml"]
        per_kg = per_kg * volume * ureg.milliliter
        factors = f"× {format_number(volume)} mL {factors}"
    return round_sig(float(per_kg.to(target.units).magnitude) / target.scale), factors

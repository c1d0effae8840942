"""The inputs of an evaluation: context facts and results, checked and matched to items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import InvalidInputError, SpecError
from ..support import check_quantity
from ._model import Specification
from ._values import Result

__all__ = ["CONTEXT_KEYS", "as_results", "check_context", "match_results"]

CONTEXT_KEYS = ("dose_volume_ml", "patient_weight_kg")
"""The facts that dose-based limits may need."""
_QUANTITY = {"dose_volume_ml": "volume", "patient_weight_kg": "body_weight"}


def check_context(context: Mapping[str, float] | None) -> dict[str, float]:
    """The context as checked numbers; bad keys or values are bad input."""
    facts: dict[str, float] = {}
    for key, given in (context or {}).items():
        value: object = given  # checked: callers outside mypy pass anything
        if key not in CONTEXT_KEYS:
            msg = f"unknown context key {key!r}; known: {', '.join(CONTEXT_KEYS)}"
            raise InvalidInputError(msg, field=f"context.{key}")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"{key} must be a number, not {value!r}"
            raise InvalidInputError(msg, field=f"context.{key}")
        facts[key] = check_quantity(_QUANTITY[key], value, field=f"context.{key}")
    return facts


def as_results(
    results: Iterable[Result] | Mapping[str, Result | str | float],
) -> list[Result]:
    """The results as a list of :class:`Result` (a mapping's bare values wrapped)."""
    if not isinstance(results, Mapping):
        given: list[object] = list(results)
        for result in given:
            if not isinstance(result, Result):
                msg = f"expected a Result, got {result!r}"
                raise InvalidInputError(msg, field="results")
        return [r for r in given if isinstance(r, Result)]
    out = []
    for key, value in results.items():
        if isinstance(value, Result):
            if value.analyte.strip().casefold() != str(key).strip().casefold():
                msg = f"result under key {key!r} is for analyte {value.analyte!r}"
                raise InvalidInputError(msg, field=str(key))
            out.append(value)
        else:
            out.append(Result(str(key), value))
    return out


def match_results(
    spec: Specification, results: list[Result], stage: str | None
) -> tuple[dict[str, Result], list[str]]:
    """One result per item key, and notes on the results that are not used."""
    items = {item.analyte: item for item in spec.items}
    chosen: dict[str, Result] = {}
    notes: list[str] = []
    for result in results:
        key = result.analyte.strip().casefold()
        item = items.get(key)
        if item is None:
            notes.append(f"result for {result.analyte!r} ignored: not an item of {spec.id}")
            continue
        if stage is not None and item.stage != stage:
            notes.append(f"result for {key!r} ignored: the item is tested at {item.stage}")
            continue
        if result.stage is not None and result.stage != item.stage:
            notes.append(
                f"result for {key!r} ignored: taken at {result.stage}, the item is for {item.stage}"
            )
            continue
        if key in chosen:
            msg = (
                f"two results for {key!r} ({chosen[key].text!r} and {result.text!r}); "
                "give one result per analyte"
            )
            raise SpecError(msg, field=key)
        chosen[key] = result
    return chosen, notes

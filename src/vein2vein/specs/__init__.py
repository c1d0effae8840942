"""Specifications and the decisions made against them.

One engine serves apheresis intake, in-process limits and lot release: a versioned
:class:`Specification` (YAML) is evaluated against :class:`Result` objects by
:func:`evaluate`, which returns a :class:`Decision` with reasons in words and one
:class:`ItemDecision` per item. The engine computes on plain data; only
:func:`store_decision` writes, through the :class:`~vein2vein.records.UnitOfWork` it is
given (it never opens one). :func:`convert` and :class:`UnitProblem` are the one unit
conversion of vein2vein (pint), used wherever a value is read with its unit.

Examples
--------
>>> from vein2vein.specs import Result, evaluate, shipped_spec
>>> spec = shipped_spec("anti-cd19-cart-release")
>>> decision = evaluate(spec, [Result("vcn", "6.2", "copies/cell")], stage="final_product")
>>> decision.outcome.value
'fail'
"""

from __future__ import annotations

from ._decision import Decision, ItemDecision, Outcome
from ._evaluate import CONTEXT_KEYS, evaluate
from ._load import load_spec, load_spec_text, shipped_spec, shipped_specs
from ._model import SCHEMA_VERSION, Criterion, Specification, SpecItem
from ._quantity import check_result_value, quantity_for
from ._record import store_decision
from ._results_io import read_results_csv
from ._units import UnitProblem, convert
from ._values import Result, UnreadableValue, parse_value

__all__ = [
    "CONTEXT_KEYS",
    "SCHEMA_VERSION",
    "Criterion",
    "Decision",
    "ItemDecision",
    "Outcome",
    "Result",
    "SpecItem",
    "Specification",
    "UnitProblem",
    "UnreadableValue",
    "check_result_value",
    "convert",
    "evaluate",
    "load_spec",
    "load_spec_text",
    "parse_value",
    "quantity_for",
    "read_results_csv",
    "shipped_spec",
    "shipped_specs",
    "store_decision",
]

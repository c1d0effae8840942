"""Which physical quantity a measured value is, and whether the value is possible.

The quantities and their possible ranges are declared once, in
:data:`vein2vein.support.QUANTITIES`; this module maps a value to one of them by its
unit (pint knows the dimension) and, for the one quantity that has no unit, by name:

- a name ``ph`` (an analyte or a sensor parameter) is pH (0-14);
- a temperature unit (``degC``, ``K``, ``degF``) is a temperature, converted to °C
  and at least absolute zero;
- ``%`` is a share of a whole (0-100 %) for a laboratory result; for a sensor it is
  a saturation (dissolved oxygen, % air saturation, exceeds 100 % under oxygen
  enrichment) and only its lower bound 0 holds;
- a unit built from counts (cells, copies, EU, TU, vg, vp, IU, CFU), mass, length
  and amount of substance (``cells/uL``, ``pg/mL``, ``copies/cell``, ``nm``,
  ``10^6 cells/kg``) is an amount: never negative;
- anything else (a pure number, mV, mbar, a rate) need only be finite.
"""

from __future__ import annotations

import math
from typing import Final

from ..errors import InvalidInputError
from ..support import QUANTITIES, Quantity, check_finite, check_quantity
from ._model import Specification
from ._units import UnitProblem, convert, parse_unit
from ._values import NonFiniteValue, Result, UnreadableValue, parse_value

__all__ = ["check_result_value", "quantity_for"]

_NAMED: Final = {"ph": "ph"}
_AMOUNT_DIMENSIONS: Final = frozenset(
    {
        "[cell]",
        "[nucleic_acid_copy]",
        "[endotoxin]",
        "[transduction]",
        "[vector_genome]",
        "[viral_particle]",
        "[international_unit]",
        "[colony_forming]",
        "[mass]",
        "[length]",
        "[substance]",
    }
)
_PERCENT: Final = frozenset({"%", "percent"})


def quantity_for(
    unit: str | None, *, name: str | None = None, share: bool = True
) -> Quantity | None:
    """The declared quantity a value in ``unit`` (of a thing called ``name``) measures.

    Parameters
    ----------
    unit
        The value's unit (pint syntax, a scale allowed: ``10^6 cells/kg``).
    name
        The analyte or parameter name (``ph`` is pH whatever its unit).
    share
        Whether ``%`` means a share of a whole (laboratory results: 0-100 %) rather
        than a saturation (sensors: 0 and above).

    Returns
    -------
    Quantity or None
        None when the unit says nothing about a possible range (any finite number).

    Examples
    --------
    >>> quantity_for("degF").name, quantity_for("%").name, quantity_for("cells/uL").name
    ('temperature', 'percent', 'amount')
    >>> quantity_for("%", share=False).name, quantity_for(None, name="pH").name
    ('amount', 'ph')
    >>> quantity_for("mV") is None
    True
    """
    if name is not None and name.strip().casefold() in _NAMED:
        return QUANTITIES[_NAMED[name.strip().casefold()]]
    if unit is None or not unit.strip():
        return None
    if unit.strip() in _PERCENT:
        return QUANTITIES["percent" if share else "amount"]
    try:
        dimensions = dict(parse_unit(unit).units.dimensionality)
    except UnitProblem:
        return None  # the evaluation reports an unknown unit
    if dimensions == {"[temperature]": 1}:
        return QUANTITIES["temperature"]
    if dimensions and set(dimensions) <= _AMOUNT_DIMENSIONS:
        return QUANTITIES["amount"]
    return None


def check_measured(
    value: float,
    unit: str | None,
    quantity: Quantity | None,
    *,
    field: str,
    file: str | None = None,
    line: int | None = None,
) -> float:
    """Check a finite ``value`` in ``unit`` against ``quantity`` (temperatures in °C)."""
    number = check_finite(value, field=field, file=file, line=line)
    if quantity is None:
        return number
    if quantity.name == "temperature" and unit is not None:
        try:
            celsius = convert(number, unit, "degC")
        except UnitProblem:
            return number  # not a temperature unit after all: nothing to check
        check_quantity(quantity, celsius, field=field, file=file, line=line)
        return number
    return check_quantity(quantity, number, field=field, file=file, line=line)


def _non_finite_text(value: str | float) -> bool:
    if not isinstance(value, str):
        return isinstance(value, float) and not math.isfinite(value)
    try:
        return not math.isfinite(float(value.strip()))
    except ValueError:
        return False


def check_result_value(
    spec: Specification,
    result: Result,
    *,
    file: str | None = None,
    line: int | None = None,
    field: str = "value",
) -> None:
    """Refuse a result whose number is not finite or not possible for its quantity.

    The quantity comes from the result's unit (or, when it gives none, the unit
    written after the number, else the item's unit) and the analyte's name (see the
    module documentation). The bound of a censored value (``<0.5``, ``>150 %``) is
    checked too. Text that is not a number (``negative``, ``pending``, a typo) is left
    to the evaluation, which decides it or calls it invalid.

    Parameters
    ----------
    spec
        The specification the result is for (results for other analytes are not
        checked here).
    result
        The result as reported.
    file, line, field
        Where the result came from, for the error.

    Raises
    ------
    InvalidInputError
        NaN, an infinity (``1e400``), or an impossible value (viability 150 %,
        -500 °C, a negative count), naming the file, line and field.

    Examples
    --------
    >>> from vein2vein.specs import shipped_spec
    >>> spec = shipped_spec("anti-cd19-cart-release")
    >>> check_result_value(spec, Result("viability", "85", "%"))
    >>> try:
    ...     check_result_value(spec, Result("viability", "150", "%"), file="qc.csv", line=3)
    ... except InvalidInputError as exc:
    ...     print(exc.reason)
    line 3: viability: 150 % is not a possible percent (0 to 100 %: a share of a whole)
    """
    where = "" if line is None else f"line {line}: "
    key = result.analyte.strip().casefold()
    item = next((i for i in spec.items if i.analyte == key), None)
    try:
        parsed = parse_value(result.value)
    except UnreadableValue as exc:
        if isinstance(exc, NonFiniteValue) or _non_finite_text(result.value):
            msg = f"{where}{result.analyte}: {result.value!r} is not a finite number"
            raise InvalidInputError(msg, file=file, field=field) from None
        return  # not a number: the evaluation decides it or calls it invalid
    if parsed.number is None:
        return
    unit = result.unit or parsed.unit or (item.unit if item is not None else None)
    try:
        check_measured(parsed.number, unit, quantity_for(unit, name=key), field=field)
    except InvalidInputError as exc:
        msg = f"{where}{result.analyte}: {exc.reason}"
        raise InvalidInputError(msg, file=file, field=field) from None

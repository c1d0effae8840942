"""Physical quantities, declared once: their unit and the range a real value can take.

Every numeric input of vein2vein (a release result, a custody temperature, a patient's
weight, a sensor reading, a study day, a probability) is checked against the quantity
it measures before anything is stored or computed: the value must be a finite number
(not NaN, not infinite; ``1e400`` reads as infinite) inside the quantity's possible
range. A value outside it is not an out-of-specification result but an impossible one
(a unit or typing error): it is bad input, and the caller stores nothing.

The ranges are physical or physiological limits, not acceptance limits:

=====================  =====  ==================  ==========================================
quantity               unit   possible range      why
=====================  =====  ==================  ==========================================
``temperature``        °C     -273.15 to 150      absolute zero; nothing a cell-therapy
                                                  site measures (LN2 vapour, a shipper, a
                                                  bioreactor, steam sterilisation at 121-134
                                                  °C) is hotter than 150 °C
``body_temperature``   °C     25 to 45            a living patient: below 25 °C is deep
                                                  accidental hypothermia, above 45 °C is not
                                                  survived; 77-113 is Fahrenheit
``percent``            %      0 to 100            a share of a whole (viability, CAR+ cells,
                                                  purity): no more than all of it
``ph``                 pH     0 to 14             the aqueous pH scale
``body_weight``        kg     above 0, to 700     the heaviest person recorded weighed about
                                                  635 kg
``volume``             mL     above 0             a volume of material (a collection, a dose)
``cell_dose``          cells  above 0             an infused dose has cells
``amount``             any    0 and above         counts, concentrations, titres, copy
                                                  numbers, masses, sizes: never negative
``age``                years  0 to 120            no living person is older than 120 years
``study_day``          days   -36525 to 36525     a century either side of day 0 (infusion)
``probability``        1      0 to 1              a probability
=====================  =====  ==================  ==========================================

This module imports nothing of vein2vein but :mod:`vein2vein.errors`; unit conversion
(pint) is the caller's business: a value is checked in the quantity's own unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ..errors import InvalidInputError

__all__ = ["QUANTITIES", "Quantity", "check_finite", "check_quantity"]


@dataclass(frozen=True, slots=True)
class Quantity:
    """A physical quantity and the range a real value of it can take.

    Attributes
    ----------
    name
        The key in :data:`QUANTITIES`, e.g. ``"temperature"``.
    unit
        The unit the bounds are in, as people write it (``"°C"``); empty when the
        bounds hold in any unit of the kind (``amount``: zero is zero in every unit).
    low, high
        The lowest and highest possible value; ``None`` where there is no bound.
    low_open
        The value must be strictly above ``low`` (a weight of 0 kg is impossible).
    why
        Where the bounds come from, in words.

    Examples
    --------
    >>> QUANTITIES["percent"].contains(100.0), QUANTITIES["percent"].contains(150.0)
    (True, False)
    """

    name: str
    unit: str
    low: float | None
    high: float | None
    low_open: bool = False
    why: str = ""

    def contains(self, value: float) -> bool:
        """Whether ``value`` (finite, in :attr:`unit`) is possible."""
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or value <= self.high

    @property
    def range_text(self) -> str:
        """The possible range in words, e.g. ``"-273.15 to 150 °C"``."""
        unit = f" {self.unit}" if self.unit else ""
        if self.low is not None and self.high is not None:
            start = f"above {self.low:g}" if self.low_open else f"{self.low:g}"
            return f"{start} to {self.high:g}{unit}"
        if self.low is not None:
            return f"{'above' if self.low_open else 'at least'} {self.low:g}{unit}"
        if self.high is not None:
            return f"at most {self.high:g}{unit}"
        return "any finite number"


def _q(
    name: str,
    unit: str,
    low: float | None,
    high: float | None,
    why: str,
    *,
    low_open: bool = False,
) -> tuple[str, Quantity]:
    return name, Quantity(name, unit, low, high, low_open=low_open, why=why)


QUANTITIES: Final = MappingProxyType(
    dict(
        [
            _q(
                "temperature",
                "°C",
                -273.15,
                150.0,
                "nothing is colder than absolute zero, and no site measurement (LN2 "
                "vapour, shipper, bioreactor, steam sterilisation) is above 150 °C",
            ),
            _q(
                "body_temperature",
                "°C",
                25.0,
                45.0,
                "a living patient (deep accidental hypothermia is below 25 °C)",
            ),
            _q("percent", "%", 0.0, 100.0, "a share of a whole"),
            _q("ph", "pH", 0.0, 14.0, "the aqueous pH scale"),
            _q(
                "body_weight",
                "kg",
                0.0,
                700.0,
                "the heaviest person recorded weighed about 635 kg",
                low_open=True,
            ),
            _q("volume", "mL", 0.0, None, "a volume of material", low_open=True),
            _q("cell_dose", "cells", 0.0, None, "an infused dose has cells", low_open=True),
            _q("amount", "", 0.0, None, "counts, concentrations and sizes are never negative"),
            _q("age", "years", 0.0, 120.0, "no living person is older than 120 years"),
            _q("study_day", "days", -36525.0, 36525.0, "a century either side of day 0"),
            _q("probability", "", 0.0, 1.0, "a probability"),
        ]
    )
)
"""Every declared quantity by name (read-only)."""


def _where(line: int | None) -> str:
    return "" if line is None else f"line {line}: "


def check_finite(
    value: object, *, field: str, file: str | None = None, line: int | None = None
) -> float:
    """Return ``value`` as a finite float, or raise naming the file, line and field.

    Parameters
    ----------
    value
        A number, or its text (``"85.2"``, ``"1e400"``); ``bool`` is not a number.
    field
        The field (column, option, key) the value came from.
    file, line
        Where it came from, if from a file.

    Raises
    ------
    InvalidInputError
        NaN, an infinity, or not a number at all.

    Examples
    --------
    >>> check_finite(2, field="n")
    2.0
    >>> try:
    ...     check_finite(float("1e400"), field="value", line=3)
    ... except InvalidInputError as exc:
    ...     print(exc.reason)
    line 3: inf is not a finite number
    """
    if isinstance(value, bool | bytes):
        msg = f"{_where(line)}{value!r} is not a number"
        raise InvalidInputError(msg, file=file, field=field)
    try:
        number = float(value)  # type: ignore[arg-type]  # text, numpy scalars, Decimal
    except OverflowError:  # an integer beyond the float range
        number = math.inf
    except (TypeError, ValueError):
        msg = f"{_where(line)}{value!r} is not a number"
        raise InvalidInputError(msg, file=file, field=field) from None
    if not math.isfinite(number):
        msg = f"{_where(line)}{number!r} is not a finite number"
        raise InvalidInputError(msg, file=file, field=field)
    return number


def check_quantity(
    quantity: str | Quantity,
    value: object,
    *,
    field: str,
    file: str | None = None,
    line: int | None = None,
) -> float:
    """Return ``value`` as a float if it is a possible value of ``quantity``; else raise.

    Parameters
    ----------
    quantity
        A :class:`Quantity` or its name in :data:`QUANTITIES`.
    value
        The value (a number or its text), in the quantity's unit.
    field
        The field (column, option, key) the value came from.
    file, line
        Where it came from, if from a file.

    Raises
    ------
    InvalidInputError
        NaN, an infinity, not a number, or outside the quantity's possible range;
        the message names the file, the line, the field and the range.

    Examples
    --------
    >>> check_quantity("temperature", 4.8, field="temperature")
    4.8
    >>> try:
    ...     check_quantity("percent", 150, field="viability", file="qc.csv", line=4)
    ... except InvalidInputError as exc:
    ...     print(exc.reason)
    line 4: 150 % is not a possible percent (0 to 100 %: a share of a whole)
    """
    declared = QUANTITIES[quantity] if isinstance(quantity, str) else quantity
    number = check_finite(value, field=field, file=file, line=line)
    if not declared.contains(number):
        unit = f" {declared.unit}" if declared.unit else ""
        label = declared.name.replace("_", " ")
        msg = (
            f"{_where(line)}{number:g}{unit} is not a possible {label} "
            f"({declared.range_text}: {declared.why})"
        )
        raise InvalidInputError(msg, file=file, field=field)
    return number

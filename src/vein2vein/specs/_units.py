"""Units of measure: one pint registry with the counting units cell therapy needs.

The registry knows, besides SI and pint's defaults, these counting units, each a
dimension of its own so that nothing converts into something it is not:

=====================  ============  ===========================================
unit                   symbol        what it counts
=====================  ============  ===========================================
``cell``               ``cells``     cells (``cells/uL``, ``10^6 cells/kg``)
``copy``               ``copies``    nucleic-acid copies (``copies/cell``)
``endotoxin_unit``     ``EU``        USP endotoxin units (``EU/mL``, ``EU/kg``)
``transducing_unit``   ``TU``        functional vector particles (``TU/mL``)
``vector_genome``      ``vg``        vector genomes (``vg/mL``)
``viral_particle``     ``vp``        physical particles (``vp/mL``)
``international_unit`` ``IU``        WHO international units
``colony_forming_unit``  ``CFU``     colony-forming units
=====================  ============  ===========================================

A unit text may carry a scale in front: ``10^6 cells/kg``, ``x10^9 cells``,
``× 10⁶ cells/kg`` and ``1e6 cells/kg`` all mean a million cells per kilogram.
``%`` is ``percent`` (0.01). pint is imported on first use, so importing
:mod:`vein2vein.specs` stays cheap.
"""

from __future__ import annotations

import math
import re
import tokenize
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..support import format_number, round_sig

__all__ = [
    "ScaledUnit",
    "UnitProblem",
    "compatible",
    "convert",
    "desuperscript",
    "format_number",
    "parse_unit",
    "pretty_unit",
    "registry",
    "round_sig",
]

_DEFINITIONS = (
    "cell = [cell] = cells",
    "copy = [nucleic_acid_copy] = copies",
    "endotoxin_unit = [endotoxin] = EU",
    "transducing_unit = [transduction] = TU",
    "vector_genome = [vector_genome] = vg",
    "viral_particle = [viral_particle] = vp",
    "international_unit = [international_unit] = IU",
    "colony_forming_unit = [colony_forming] = CFU",
)

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_POWER = re.compile(r"([0-9A-Za-z)\]])([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)")
_TO_SUPERSCRIPT = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")
# "x10^6", "× 10⁶", "*10**6", "10^6" or "1e6" in front of the unit proper.
_SCALE = re.compile(
    r"""^\s*
    (?:
        (?:[x×*·]\s*)?10\s*(?:\^|\*\*)\s*(?P<exp>[+-]?\d+)
      | (?P<sci>\d+(?:\.\d*)?[eE][+-]?\d+)
    )
    (?:\s+|(?=[/(])|$)(?P<rest>.*)$""",
    re.VERBOSE,
)
# What pint raises on text it cannot read, besides its own errors.
_PARSE_ERRORS: tuple[type[BaseException], ...] = (
    AssertionError,
    AttributeError,
    KeyError,
    SyntaxError,
    TypeError,
    ValueError,
    ZeroDivisionError,
    tokenize.TokenError,
)


class UnitProblem(ValueError):
    """A unit that is unknown, or a conversion between incompatible units."""


@cache
def registry() -> Any:
    """The one unit registry of vein2vein, a ``pint.UnitRegistry`` (created on first use)."""
    import pint  # deferred: pint costs ~0.3 s to import and build

    ureg: Any = pint.UnitRegistry(on_redefinition="raise")
    for line in _DEFINITIONS:
        ureg.define(line)
    return ureg


@dataclass(frozen=True, slots=True)
class ScaledUnit:
    """A unit with a numeric scale in front, such as ``10^6 cells/kg``.

    Attributes
    ----------
    text
        The unit as written.
    scale
        The number in front (``1e6`` for ``10^6 cells/kg``).
    units
        The pint unit proper (``cell / kilogram``).
    """

    text: str
    scale: float
    units: Any  # pint.Unit

    @property
    def dimensionality(self) -> str:
        """The dimensions in pint's notation, e.g. ``[cell] / [mass]``."""
        return str(self.units.dimensionality)


def desuperscript(text: str) -> str:
    """Write superscript powers with a caret: ``10⁶`` → ``10^6``, ``m²`` → ``m^2``."""
    return _SUPERSCRIPT_POWER.sub(lambda m: f"{m[1]}^{m[2].translate(_SUPERSCRIPTS)}", text)


def _normalise(text: str) -> str:
    out = desuperscript(text.strip()).replace("%", " percent ")
    out = out.replace("µ", "u").replace("μ", "u")  # micro sign and Greek mu
    return " ".join(out.split())


@cache
def parse_unit(text: str | None) -> ScaledUnit:
    """Read a unit text; ``None`` or empty means a pure number.

    Parameters
    ----------
    text
        The unit, e.g. ``"cells/uL"``, ``"%"``, ``"10^6 cells/kg"``, ``"EU/mL"``.

    Raises
    ------
    UnitProblem
        When the text is not a unit the registry knows.

    Examples
    --------
    >>> u = parse_unit("10^6 cells/kg")
    >>> u.scale, str(u.units)
    (1000000.0, 'cell / kilogram')
    >>> parse_unit("%").dimensionality
    'dimensionless'
    """
    ureg = registry()
    raw = "" if text is None else text
    body = _normalise(raw)
    scale = 1.0
    match = _SCALE.match(body)
    if match:
        try:
            scale = float(match["sci"]) if match["sci"] else 10.0 ** int(match["exp"])
        except OverflowError:  # 10^400 is beyond the float range
            scale = math.inf
        if not (math.isfinite(scale) and scale > 0):
            msg = f"unit {raw!r} has a scale that is not a positive finite number"
            raise UnitProblem(msg)
        body = match["rest"].strip()
    if not body:
        return ScaledUnit(raw, scale, ureg.dimensionless)
    try:
        parsed = ureg.parse_expression(body)
    except _PARSE_ERRORS as exc:  # pint's own errors derive from these too
        detail = str(exc).strip() or type(exc).__name__
        msg = f"unknown unit {raw!r} ({detail})"
        raise UnitProblem(msg) from None
    if not isinstance(parsed, ureg.Quantity):
        return ScaledUnit(raw, scale * float(parsed), ureg.dimensionless)
    magnitude = float(parsed.magnitude)
    if not math.isfinite(magnitude) or magnitude <= 0:
        msg = f"unit {raw!r} has a scale that is not a positive number"
        raise UnitProblem(msg)
    return ScaledUnit(raw, scale * magnitude, parsed.units)


def convert(value: float, from_unit: str | None, to_unit: str | None) -> float:
    """Express ``value`` given in ``from_unit`` in ``to_unit``.

    Results are rounded to 12 significant digits so that a conversion such as
    0.8 (fraction) → 80 % does not land at 79.99999999999999 and flip a decision.

    Raises
    ------
    UnitProblem
        When either unit is unknown or the two are not of the same kind.

    Examples
    --------
    >>> convert(1.5, "cells/uL", "cells/mL")
    1500.0
    >>> convert(0.8, None, "%")
    80.0
    >>> convert(2.1e8, "cells", "10^6 cells")
    210.0
    """
    from pint.errors import DimensionalityError

    source = parse_unit(from_unit)
    target = parse_unit(to_unit)
    ureg = registry()
    try:
        quantity = ureg.Quantity(value * source.scale, source.units).to(target.units)
    except DimensionalityError:
        msg = (
            f"{_show(from_unit)} ({source.dimensionality}) cannot be expressed in "
            f"{_show(to_unit)} ({target.dimensionality})"
        )
        raise UnitProblem(msg) from None
    return round_sig(float(quantity.magnitude) / target.scale)


def compatible(a: str | None, b: str | None) -> bool:
    """Whether a value in unit ``a`` can be expressed in unit ``b``."""
    return bool(parse_unit(a).units.dimensionality == parse_unit(b).units.dimensionality)


def _show(unit: str | None) -> str:
    return repr(unit) if unit else "a pure number"


def pretty_unit(unit: str | None) -> str:
    """The unit for people: ``10^6 cells/kg`` → ``× 10⁶ cells/kg``, ``%`` stays ``%``.

    Examples
    --------
    >>> pretty_unit("10^6 cells/kg")
    '× 10⁶ cells/kg'
    >>> pretty_unit(None)
    ''
    """
    if not unit:
        return ""
    text = " ".join(unit.split())
    match = _SCALE.match(desuperscript(text))
    if match and match["exp"] is not None:
        exp = str(int(match["exp"])).translate(_TO_SUPERSCRIPT)
        rest = match["rest"].strip()
        return f"× 10{exp} {rest}".rstrip()
    return text

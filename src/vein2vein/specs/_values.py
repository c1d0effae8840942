"""Results as laboratories report them, and how their text is read.

A result's value is text (or a number) in one of these forms:

- a number: ``72``, ``0.25``, ``1.2e6``, ``1.2 x 10^6``, ``1.2×10^6``, ``1.2 × 10⁶``;
  a unit may follow the number when the result gives none (``72 %``);
- a censored number: ``<0.5``, ``<=0.5``, ``≤0.5``, ``>1e6``, ``>=1e6``;
- below or above the assay's quantitation range: ``below LOQ``, ``<LOQ``, ``BLQ``,
  ``<LLOQ``; ``above ULOQ``, ``>ULOQ`` (the item's ``loq`` / ``uloq`` give the bound);
- qualitative: ``negative``, ``not detected``, ``no growth``, ``non-reactive``,
  ``absent`` (all negative); ``positive``, ``detected``, ``growth``, ``reactive``,
  ``present``; ``conforms``, ``complies``; ``does not conform``, ``does not comply``;
- pending: empty, ``pending``, ``in progress``.

Anything else cannot be read, and the item it belongs to is invalid.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from ._units import desuperscript

__all__ = ["ParsedValue", "Result", "parse_value"]

Kind = Literal["number", "censored", "below_loq", "above_uloq", "qualitative", "pending"]
Qualifier = Literal["<", "<=", ">", ">="]
Quality = Literal["negative", "positive", "conforms", "not_conforms"]


@dataclass(frozen=True, slots=True)
class Result:
    """One reported result.

    Parameters
    ----------
    analyte
        The specification item the result is for (its ``analyte`` key).
    value
        The value as reported: a number, or text such as ``"<0.5"``, ``"1.2 x 10^6"``,
        ``"not detected"`` or ``"pending"``.
    unit
        The unit of the value, e.g. ``"cells/uL"`` or ``"EU/mL"``; ``None`` means the
        item's own unit (or a unit written after the number in ``value``).
    method
        The method that produced the result, if recorded.
    stage
        The stage the sample was taken at (``apheresis``, ``final_product`` ...), if
        recorded; a result for another stage than its item's is not used.

    Examples
    --------
    >>> Result("viability", "85", "%").unit
    '%'
    """

    analyte: str
    value: str | float
    unit: str | None = None
    method: str | None = None
    stage: str | None = None

    @property
    def text(self) -> str:
        """The value and unit as reported, e.g. ``"<0.5 EU/mL"``."""
        value = self.value if isinstance(self.value, str) else f"{self.value:g}"
        return f"{value.strip()} {self.unit}".strip() if self.unit else value.strip()


@dataclass(frozen=True, slots=True)
class ParsedValue:
    """What a result's value text says.

    Attributes
    ----------
    kind
        ``number``, ``censored``, ``below_loq``, ``above_uloq``, ``qualitative`` or
        ``pending``.
    number
        The number (the bound, for a censored value).
    qualifier
        The censoring operator (``<``, ``<=``, ``>``, ``>=``) of a censored value.
    quality
        ``negative``, ``positive``, ``conforms`` or ``not_conforms`` for a qualitative value.
    unit
        A unit written after the number in the value text, if any.
    """

    kind: Kind
    number: float | None = None
    qualifier: Qualifier | None = None
    quality: Quality | None = None
    unit: str | None = None


class UnreadableValue(ValueError):
    """A value text that is none of the accepted forms."""


class NonFiniteValue(UnreadableValue):
    """A number that is NaN or infinite (``1e400`` overflows to infinity)."""


_QUALITIES: dict[str, Quality] = {
    **dict.fromkeys(
        [
            "negative",
            "neg",
            "not detected",
            "none detected",
            "no growth",
            "no growth detected",
            "non-reactive",
            "nonreactive",
            "non reactive",
            "absent",
        ],
        "negative",
    ),
    **dict.fromkeys(["positive", "pos", "detected", "growth", "reactive", "present"], "positive"),
    **dict.fromkeys(["conforms", "conform", "complies", "conforming"], "conforms"),
    **dict.fromkeys(
        [
            "does not conform",
            "not conforming",
            "non-conforming",
            "nonconforming",
            "does not comply",
        ],
        "not_conforms",
    ),
}
_PENDING = {"", "pending", "in progress", "not yet available", "awaiting result"}
_BELOW_LOQ = {"below loq", "<loq", "blq", "<lloq", "below lloq", "below the loq"}
_ABOVE_ULOQ = {"above uloq", ">uloq", "above the uloq"}
_OPS: dict[str, Qualifier] = {"<": "<", "<=": "<=", "≤": "<=", ">": ">", ">=": ">=", "≥": ">="}
_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_POW = r"10\s*(?:\^|\*\*)\s*(?P<{name}>[+-]?\d+)"
_VALUE = re.compile(
    rf"""^(?P<op><=|>=|≤|≥|<|>)?\s*
    (?:
        {_POW.format(name="p2")}
      | (?P<mant>{_NUM})
        (?:\s*[eE](?P<e>[+-]?\d+)|\s*[x×*·]\s*{_POW.format(name="p")})?
    )
    \s*(?P<unit>[A-Za-z%µμ/°(].*)?$""",
    re.VERBOSE,
)


def _words(text: str) -> str:
    return " ".join(text.replace("_", " ").casefold().split()).rstrip(".")


def parse_value(value: str | float) -> ParsedValue:
    """Read a result's value.

    Raises
    ------
    UnreadableValue
        When the text is none of the accepted forms (see the module documentation).

    Examples
    --------
    >>> parse_value("1.2 x 10^6").number
    1200000.0
    >>> parse_value("<0.5").qualifier
    '<'
    >>> parse_value("No Growth").quality
    'negative'
    >>> parse_value("").kind
    'pending'
    """
    if isinstance(value, bool):
        msg = f"{value!r} is not a result value"
        raise UnreadableValue(msg)
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            msg = f"{value!r} is not a finite number"
            raise NonFiniteValue(msg)
        return ParsedValue("number", number)
    words = _words(value)
    if words in _PENDING:
        return ParsedValue("pending")
    if words in _QUALITIES:
        return ParsedValue("qualitative", quality=_QUALITIES[words])
    squeezed = re.sub(r"^([<>])\s+", r"\1", words)
    if squeezed in _BELOW_LOQ:
        return ParsedValue("below_loq")
    if squeezed in _ABOVE_ULOQ:
        return ParsedValue("above_uloq")
    match = _VALUE.match(desuperscript(value.strip()))
    if match is None:
        msg = f"cannot read {value!r} as a result"
        raise UnreadableValue(msg)
    try:
        if match["mant"] is None:
            number = 10.0 ** int(match["p2"])
        else:
            number = float(match["mant"])
            if match["e"] is not None:
                number = float(f"{match['mant']}e{match['e']}")
            elif match["p"] is not None:
                number *= 10.0 ** int(match["p"])
    except OverflowError:  # 10^400 is beyond the float range
        number = math.inf
    if not math.isfinite(number):
        msg = f"{value!r} is not a finite number"
        raise NonFiniteValue(msg)
    unit = match["unit"].strip() if match["unit"] else None
    if match["op"]:
        return ParsedValue("censored", number, qualifier=_OPS[match["op"]], unit=unit)
    return ParsedValue("number", number, unit=unit)

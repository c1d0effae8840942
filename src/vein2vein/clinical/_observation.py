"""What the clinical observation models share: a base model and the body-temperature check.

A pydantic base model whose validation errors become
:class:`~vein2vein.errors.InvalidInputError` naming the field (the observations of
:mod:`.grading`, the assessments of :mod:`.response` and the dated calls of
:mod:`.outcomes` derive from it), and, for grading, the toxicity kinds and the
temperature check that catches Fahrenheit passed as Celsius.

Imports: ``support`` and ``errors`` only, so that every clinical subpackage may use it.

References
----------
.. [1] Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine
   Release Syndrome and Neurologic Toxicity Associated with Immune Effector Cells.
   Biol Blood Marrow Transplant. 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758
.. [2] National Cancer Institute. Common Terminology Criteria for Adverse Events
   (CTCAE) Version 5.0. U.S. Department of Health and Human Services; 27 Nov 2017.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import InvalidInputError
from ..support import QUANTITIES, check_finite, check_quantity

__all__: list[str] = []

Kind = Literal["crs", "icans"]
"""Which toxicity a daily series describes."""

KINDS: Final[tuple[str, ...]] = ("crs", "icans")

MIN_CELSIUS: Final = QUANTITIES["body_temperature"].low
"""Lowest body temperature accepted (deep accidental hypothermia is below it)."""
MAX_CELSIUS: Final = QUANTITIES["body_temperature"].high
"""Highest body temperature accepted."""
assert MIN_CELSIUS is not None and MAX_CELSIUS is not None  # declared in support
_FAHRENHEIT_MIN: Final = MIN_CELSIUS * 9 / 5 + 32  # 77 F
_FAHRENHEIT_MAX: Final = MAX_CELSIUS * 9 / 5 + 32  # 113 F


def check_celsius(value: object, *, field: str) -> float:
    """Return a body temperature in degrees Celsius, or raise naming ``field``.

    Accepts the possible range of :data:`vein2vein.support.QUANTITIES`
    ``["body_temperature"]`` (25-45 C). A value that fits 77-113 (the same range in
    Fahrenheit) is refused with the converted value in the message, since 101.3 means
    101.3 F.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{value!r} is not a number of degrees Celsius"
        raise InvalidInputError(msg, field=field)
    value = check_finite(value, field=field)
    if _FAHRENHEIT_MIN <= value <= _FAHRENHEIT_MAX:
        celsius = (value - 32.0) * 5.0 / 9.0
        msg = (
            f"{value:g} is outside {MIN_CELSIUS:g}-{MAX_CELSIUS:g} degrees Celsius and looks "
            f"like Fahrenheit ({value:g} F = {celsius:.1f} C); convert with (F - 32) * 5 / 9"
        )
        raise InvalidInputError(msg, field=field)
    return check_quantity("body_temperature", value, field=field)


def invalid_input_from(exc: ValidationError, *, model: str) -> InvalidInputError:
    """Turn a pydantic :class:`~pydantic.ValidationError` into one error naming the field.

    The first problem becomes the error; the others are attached as notes. A check
    that already raised :class:`~vein2vein.errors.InvalidInputError` (with its field)
    is passed through unchanged.
    """
    converted: list[InvalidInputError] = []
    for err in exc.errors():
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, InvalidInputError):
            converted.append(original)
            continue
        field = ".".join(str(part) for part in err["loc"]) or None
        if err["type"] == "extra_forbidden":
            reason = f"{model} has no field {field!r}"
        elif err["type"] == "missing":
            reason = f"{model} requires {field!r}"
        else:
            reason = f"{err['msg']} (got {err.get('input')!r})"
        converted.append(InvalidInputError(reason, field=field))
    first = converted[0]
    for other in converted[1:]:
        first.add_note(str(other))
    return first


class ObservationModel(BaseModel):
    """Base of the observation models: frozen, unknown fields refused, errors named.

    Constructing a subclass raises :class:`~vein2vein.errors.InvalidInputError`
    (a :class:`ValueError`) whose ``field`` names the offending field, never a bare
    pydantic error. (``model_validate`` is pydantic's own and raises
    :class:`pydantic.ValidationError`, also a :class:`ValueError`.)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise invalid_input_from(exc, model=type(self).__name__) from None

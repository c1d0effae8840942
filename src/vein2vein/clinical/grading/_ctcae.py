"""CTCAE v5.0 grades of "Neutrophil count decreased" and "Febrile neutropenia".

From the CTCAE v5.0 term list [1]_ (Investigations, and Blood and lymphatic system
disorders):

===========================  =============================================================
term                         grades
===========================  =============================================================
Neutrophil count decreased   1: < LLN - 1500/mm3; 2: < 1500 - 1000/mm3;
                             3: < 1000 - 500/mm3; 4: < 500/mm3
Febrile neutropenia          3: ANC < 1000/mm3 with a single temperature > 38.3 C (101 F)
                             or a sustained temperature >= 38 C (100.4 F) for more than
                             one hour; 4: life-threatening consequences, urgent
                             intervention indicated; 5: death
===========================  =============================================================

Each CTCAE range includes its upper end exclusively: grade 2 is 1000 <= ANC < 1500,
grade 1 is 1500 <= ANC < LLN. Febrile neutropenia has no grade 1 or 2.

The lower limit of normal (LLN) belongs to the reporting laboratory; the default,
2000/mm3 (2.0 x 10^9/L), is a common adult reference limit and only a default. With an
LLN of 1500/mm3 or less, grade 1 is empty.

Counts are per mm3 (= per microlitre). A count below 100 with a fractional part (1.2)
is refused as probably given in 10^9/L.

References
----------
.. [1] National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
   Version 5.0. U.S. Department of Health and Human Services; 27 Nov 2017.
"""

from __future__ import annotations

import math
from typing import Final

from ...errors import InvalidInputError
from .._observation import check_celsius

__all__ = [
    "DEFAULT_ANC_LLN_PER_MM3",
    "grade_febrile_neutropenia",
    "grade_neutropenia",
]

DEFAULT_ANC_LLN_PER_MM3: Final = 2000.0
"""Default lower limit of normal of the neutrophil count, per mm3; pass your laboratory's."""

_LLN_RANGE: Final = (1000.0, 5000.0)
_FN_ANC_BELOW: Final = 1000.0
_FN_SINGLE_ABOVE_C: Final = 38.3
_FN_SUSTAINED_C: Final = 38.0
_FN_SUSTAINED_HOURS: Final = 1.0


def _anc(value: object, *, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{value!r} is not a neutrophil count"
        raise InvalidInputError(msg, field=field)
    anc = float(value)
    if not math.isfinite(anc) or anc < 0:
        msg = f"{value!r} is not a count per mm3 (a finite number >= 0)"
        raise InvalidInputError(msg, field=field)
    if anc < 100 and not anc.is_integer():
        msg = (
            f"{anc:g}/mm3 has a fraction; counts are per mm3 (cells per microlitre). "
            f"If it is in 10^9/L, multiply by 1000 ({anc * 1000:g}/mm3)"
        )
        raise InvalidInputError(msg, field=field)
    return anc


def grade_neutropenia(anc_per_mm3: float, *, lln: float = DEFAULT_ANC_LLN_PER_MM3) -> int:
    """CTCAE v5.0 grade of "Neutrophil count decreased".

    Parameters
    ----------
    anc_per_mm3
        Absolute neutrophil count per mm3 (cells per microlitre).
    lln
        The laboratory's lower limit of normal per mm3 (1000-5000); default
        :data:`DEFAULT_ANC_LLN_PER_MM3`.

    Returns
    -------
    int
        0 (ANC >= LLN) to 4 (ANC < 500).

    Raises
    ------
    InvalidInputError
        A negative or non-finite count, a count that looks like 10^9/L, or an LLN
        outside 1000-5000/mm3.

    References
    ----------
    .. [1] CTCAE v5.0 (2017), Investigations: Neutrophil count decreased.

    Examples
    --------
    >>> [grade_neutropenia(n) for n in (2000, 1999, 1500, 1499, 1000, 999, 500, 499)]
    [0, 1, 1, 2, 2, 3, 3, 4]
    >>> grade_neutropenia(1700, lln=1500)
    0
    """
    anc = _anc(anc_per_mm3, field="anc_per_mm3")
    if isinstance(lln, bool) or not isinstance(lln, int | float) or not math.isfinite(lln):
        msg = f"{lln!r} is not a count per mm3"
        raise InvalidInputError(msg, field="lln")
    if not _LLN_RANGE[0] <= lln <= _LLN_RANGE[1]:
        msg = (
            f"{lln:g}/mm3 is outside the accepted {_LLN_RANGE[0]:g}-{_LLN_RANGE[1]:g}/mm3 "
            "(an LLN in 10^9/L must be multiplied by 1000)"
        )
        raise InvalidInputError(msg, field="lln")
    if anc < 500:
        return 4
    if anc < 1000:
        return 3
    if anc < 1500:
        return 2
    if anc < lln:
        return 1
    return 0


def grade_febrile_neutropenia(
    anc_per_mm3: float,
    *,
    max_temperature_c: float,
    hours_at_or_above_38c: float = 0.0,
    life_threatening: bool = False,
    death: bool = False,
) -> int:
    """CTCAE v5.0 grade of "Febrile neutropenia" (0 when the definition is not met).

    Parameters
    ----------
    anc_per_mm3
        Absolute neutrophil count per mm3.
    max_temperature_c
        Highest single temperature, degrees Celsius (a Fahrenheit value is refused).
    hours_at_or_above_38c
        How long the temperature stayed >= 38.0 C, in hours; more than 1 hour meets the
        "sustained" criterion.
    life_threatening
        Life-threatening consequences; urgent intervention indicated (grade 4).
    death
        Death due to febrile neutropenia (grade 5).

    Returns
    -------
    int
        0 when ANC >= 1000 or neither temperature criterion is met; else 3, 4 or 5.

    Raises
    ------
    InvalidInputError
        Bad count or temperature; a duration at >= 38 C with a maximum below 38 C; or
        ``life_threatening``/``death`` for an episode that does not meet the definition.

    References
    ----------
    .. [1] CTCAE v5.0 (2017), Blood and lymphatic system disorders: Febrile neutropenia.

    Examples
    --------
    >>> grade_febrile_neutropenia(800, max_temperature_c=38.4)
    3
    >>> grade_febrile_neutropenia(800, max_temperature_c=38.3)
    0
    >>> grade_febrile_neutropenia(800, max_temperature_c=38.1, hours_at_or_above_38c=1.5)
    3
    """
    anc = _anc(anc_per_mm3, field="anc_per_mm3")
    temp = check_celsius(max_temperature_c, field="max_temperature_c")
    hours = hours_at_or_above_38c
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours):
        msg = f"{hours!r} is not a number of hours"
        raise InvalidInputError(msg, field="hours_at_or_above_38c")
    if hours < 0:
        msg = f"{hours:g} hours is negative"
        raise InvalidInputError(msg, field="hours_at_or_above_38c")
    if hours > 0 and temp < _FN_SUSTAINED_C:
        msg = f"{hours:g} hours at >= 38 C is recorded but the highest temperature is {temp:g} C"
        raise InvalidInputError(msg, field="hours_at_or_above_38c")
    flags: tuple[tuple[str, object], ...] = (
        ("life_threatening", life_threatening),
        ("death", death),
    )
    for name, flag in flags:
        if not isinstance(flag, bool):
            msg = f"{flag!r} is not true or false"
            raise InvalidInputError(msg, field=name)
    febrile = temp > _FN_SINGLE_ABOVE_C or hours > _FN_SUSTAINED_HOURS
    meets = anc < _FN_ANC_BELOW and febrile
    if not meets:
        if death or life_threatening:
            flag_name = "death" if death else "life_threatening"
            msg = (
                "set, but the episode does not meet the CTCAE definition of febrile "
                f"neutropenia (ANC {anc:g}/mm3 must be < 1000 with a single temperature "
                "> 38.3 C or >= 38 C for more than one hour)"
            )
            raise InvalidInputError(msg, field=flag_name)
        return 0
    if death:
        return 5
    return 4 if life_threatening else 3

"""Cell conversion and located errors shared by the clinical CSV readers.

Private helpers: a CSV cell (text) or a frame value becomes a bool, number, whole
number, drug list or study day, or a ``ValueError`` with the reason; the readers turn
that into an :class:`~vein2vein.errors.InvalidInputError` naming the line and field.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from ...errors import InvalidInputError
from ...support import QUANTITIES
from .._observation import KINDS
from ._crs import CRSObservation, grade_crs
from ._icans import ICANSObservation, grade_icans

__all__: list[str] = []

SERIES_COLUMNS: Final[tuple[str, ...]] = ("patient_id", "day", "tocilizumab", "steroids")
COMMENT_COLUMN: Final = "comment"

_TRUE: Final = frozenset({"true", "t", "yes", "y", "1"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0"})

_Model = type[CRSObservation] | type[ICANSObservation]
_MODELS: Final[dict[str, _Model]] = {"crs": CRSObservation, "icans": ICANSObservation}
_GRADERS: Final[dict[str, Callable[[Any], int]]] = {"crs": grade_crs, "icans": grade_icans}


# ----------------------------------------------------------------- cell conversion


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating) and math.isnan(float(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _to_bool(value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer) and int(value) in (0, 1):
        return bool(int(value))
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    msg = f"{value!r} is not true or false (write true/false, yes/no or 1/0)"
    raise ValueError(msg)


def _to_float(value: object) -> float:
    if isinstance(value, bool | np.bool_):
        msg = f"{value!r} is not a number"
        raise ValueError(msg)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    msg = f"{value!r} is not a number"
    raise ValueError(msg)


def _to_int(value: object) -> int:
    if isinstance(value, bool | np.bool_):
        msg = f"{value!r} is not a whole number"
        raise ValueError(msg)
    if isinstance(value, int | np.integer):
        return int(value)
    number = _to_float(value)
    if not (math.isfinite(number) and number.is_integer()):
        msg = f"{value!r} is not a whole number"
        raise ValueError(msg)
    return int(number)


def _to_str(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    msg = f"{value!r} is not text"
    raise ValueError(msg)


def _to_drugs(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    if isinstance(value, list | tuple | np.ndarray):
        return tuple(str(v) for v in value)
    msg = f"{value!r} is not a list of drug names (separate names with ';')"
    raise ValueError(msg)


_CONVERTERS: Final[dict[str, dict[str, Callable[[object], object]]]] = {
    "crs": {
        "temperature_c": _to_float,
        "hypotension": _to_bool,
        "vasopressors": _to_drugs,
        "oxygen": _to_str,
        "oxygen_flow_l_min": _to_float,
        "fever_treated": _to_bool,
        "death_from_crs": _to_bool,
    },
    "icans": {
        "age_years": _to_float,
        "ice_score": _to_int,
        "capd_score": _to_int,
        "developmental_delay": _to_bool,
        "able_to_perform_assessment": _to_bool,
        "consciousness": _to_str,
        "seizure": _to_str,
        "motor_weakness": _to_str,
        "cerebral_edema": _to_str,
        "decerebrate_or_decorticate_posturing": _to_bool,
        "cranial_nerve_vi_palsy": _to_bool,
        "papilledema": _to_bool,
        "cushings_triad": _to_bool,
        "tremor": _to_bool,
        "myoclonus": _to_bool,
        "intracranial_hemorrhage": _to_bool,
        "death_from_icans": _to_bool,
    },
}


def _required_fields(kind: str) -> tuple[str, ...]:
    model = _MODELS[kind]
    return tuple(name for name, info in model.model_fields.items() if info.is_required())


def _check_kind(kind: object) -> str:
    if kind not in KINDS:
        msg = f"{kind!r} is not a toxicity kind; use one of {', '.join(KINDS)}"
        raise InvalidInputError(msg, field="kind")
    return str(kind)


def _observation(kind: str, cells: Mapping[str, object]) -> CRSObservation | ICANSObservation:
    """Build the model from raw cells; missing optional cells take the model default."""
    data: dict[str, object] = {}
    for name, convert in _CONVERTERS[kind].items():
        if name not in cells or _is_missing(cells[name]):
            continue
        try:
            data[name] = convert(cells[name])
        except ValueError as exc:
            raise InvalidInputError(str(exc), field=name) from None
    return _MODELS[kind](**data)


def _day(value: object) -> int | dt.date:
    if isinstance(value, dt.datetime):  # pandas.Timestamp too
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return _possible_day(int(text))
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        msg = f"{value!r} is neither a study day (integer) nor a date (YYYY-MM-DD)"
        raise ValueError(msg)
    return _possible_day(_to_int(value))


def _possible_day(day: int) -> int:
    """A study day inside the declared ``study_day`` range (a century around day 0)."""
    span = QUANTITIES["study_day"]
    if not span.contains(day):
        msg = f"{day} is not a possible study day ({span.range_text}: {span.why})"
        raise ValueError(msg)
    return day


def _where(frame: pd.DataFrame, label: object) -> str:
    return f"line {label}" if frame.index.name == "line" else f"row {label!r}"


def _located(exc: InvalidInputError, where: str, *, file: str | None = None) -> InvalidInputError:
    located = InvalidInputError(f"{where}: {exc.reason}", file=file, field=exc.field)
    for note in getattr(exc, "__notes__", ()):
        located.add_note(f"{where}: {note}")
    return located

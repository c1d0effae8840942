"""Reading clinical follow-up CSV files: toxicity series, response assessments, kinetics.

Every reader validates every row before returning and raises one
:class:`~vein2vein.errors.InvalidInputError` naming the file, the line and the field
of the first problem (up to 20 more are attached as notes), so a caller that writes
what was read never writes half a file. Files are UTF-8 (an optional BOM is
skipped); header names are case-insensitive; blank lines are skipped; a column that
is not expected is refused, so a misspelt optional column is not ignored silently.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import pandas as pd

from ...errors import InvalidInputError
from ...support import Column, TableSchema, check_quantity, read_table
from ..grading._cells import (
    _CONVERTERS,
    COMMENT_COLUMN,
    SERIES_COLUMNS,
    _check_kind,
    _day,
    _is_missing,
    _observation,
    _required_fields,
    _to_bool,
    _to_float,
)

__all__ = [
    "KINETICS_COLUMNS",
    "RESPONSE_COLUMNS",
    "read_kinetics_csv",
    "read_levels_csv",
    "read_observations_csv",
    "read_responses_csv",
]

RESPONSE_COLUMNS: Final[tuple[str, ...]] = (
    "patient_id",
    "day",
    "criteria",
    "response",
    "reason",
    "mrd_result",
    "mrd_sensitivity",
    "mrd_method",
)
"""Columns of a response CSV; the first four are required, the MRD ones go together."""

KINETICS_COLUMNS: Final[tuple[str, ...]] = (
    "patient_id",
    "day",
    "value",
    "method",
    "unit",
    "below_lloq",
    "lloq",
)
"""Columns of a kinetics CSV; all but ``below_lloq`` and ``lloq`` are required."""

_MRD_COLUMNS: Final = ("mrd_result", "mrd_sensitivity", "mrd_method")


def _read_rows(
    path: str | Path,
    *,
    required: Iterable[str],
    optional: Iterable[str],
    what: str,
    parse: Callable[[dict[str, str]], dict[str, object]],
) -> tuple[str, pd.DataFrame]:
    """The file name and its rows parsed by ``parse``, indexed by ``line``.

    The header and the shape of the rows are checked by the tabular-input layer; the
    cells are converted and validated by ``parse``, whose messages know the clinical
    meaning of each column; every problem is collected, in line order.
    """
    schema = TableSchema(
        (
            *(Column(c, blank=True) for c in required),
            *(Column(c, required=False, blank=True) for c in optional),
        ),
        what=what,
    )

    def cells_of(record: dict[str, Any]) -> dict[str, object]:
        return parse({c: "" if v is None else str(v) for c, v in record.items()})

    return str(path), read_table(path, schema, row=cells_of)


def _text(cells: dict[str, str], column: str, *, lower: bool = False) -> str:
    value = cells.get(column, "").strip()
    if not value:
        msg = f"empty {column}"
        raise InvalidInputError(msg, field=column)
    return value.lower() if lower else value


def _convert(cells: dict[str, str], column: str, convert: Callable[[object], object]) -> object:
    value = _text(cells, column)
    try:
        return convert(value)
    except ValueError as exc:
        raise InvalidInputError(str(exc), field=column) from None


def _study_day(value: object) -> int:
    day = _day(value)
    if isinstance(day, dt.date):
        msg = f"{value!r}: give the study day (days since infusion, an integer), not a date"
        raise ValueError(msg)
    if day < 0:
        msg = f"{value!r}: follow-up days count from the infusion (day 0), so must be >= 0"
        raise ValueError(msg)
    return day


def _refuse_repeats(frame: pd.DataFrame, keys: list[str], name: str, *, field: str) -> None:
    repeated = frame[frame.duplicated(keys, keep="first")]
    if repeated.empty:
        return
    line = int(repeated.index[0])
    key = repeated.iloc[0]
    first = int(frame[(frame[keys] == key[keys]).all(axis=1)].index[0])
    described = ", ".join(f"{k} {key[k]}" for k in keys)
    msg = f"line {line}: {described} repeats line {first}; one record each"
    raise InvalidInputError(msg, file=name, field=field)


def _fields_of(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    required = (*SERIES_COLUMNS, *_required_fields(kind))
    optional = (*(c for c in _CONVERTERS[kind] if c not in required), COMMENT_COLUMN)
    return required, optional


def read_observations_csv(path: str | Path, *, kind: str) -> pd.DataFrame:
    r"""Read a daily CRS or ICANS series from CSV (UTF-8, optional BOM), validating every row.

    Parameters
    ----------
    path
        The CSV file. Required columns: ``patient_id``, ``day`` (integer study day or
        ``YYYY-MM-DD``), ``tocilizumab``, ``steroids`` and the required fields of the
        observation model; optional: its other fields and ``comment``. Other columns
        are refused (a misspelt optional column would otherwise be ignored silently).
        Booleans are ``true/false``, ``yes/no`` or ``1/0``; ``vasopressors`` are
        separated by ``;``; an empty optional cell takes the model default.
    kind
        ``"crs"`` or ``"icans"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by the file's line number (index name ``line``), with ``patient_id``,
        ``day``, ``tocilizumab``, ``steroids``, every model field (validated and
        normalised, defaults filled) and ``comment`` when present. Ready for
        :func:`grade_observations` and :func:`toxicity_episodes`, whose errors then
        name the line.

    Raises
    ------
    InvalidInputError
        Naming the file, the line and the field: an unreadable or empty file, a bad
        header, a row with the wrong number of fields, a cell that does not convert or
        validate, study days mixed with dates, or a patient assessed twice on one day
        (one row per patient-day: the grade of a day is its worst assessment). The
        first problem is raised; the others (up to 20) are attached as notes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from vein2vein.clinical import grade_observations
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "crs.csv"
    >>> _ = path.write_text(
    ...     "patient_id,day,tocilizumab,steroids,temperature_c,hypotension,vasopressors,"
    ...     "oxygen,oxygen_flow_l_min,fever_treated\n"
    ...     "P1,1,false,false,38.9,yes,norepinephrine;vasopressin,nasal_cannula,4,no\n")
    >>> frame = read_observations_csv(path, kind="crs")
    >>> frame.loc[2, "vasopressors"], grade_observations(frame, kind="crs").loc[2, "grade"]
    (('norepinephrine', 'vasopressin'), np.int64(3))
    """
    kind = _check_kind(kind)
    required, optional = _fields_of(kind)
    name, frame = _read_rows(
        path,
        required=required,
        optional=optional,
        what="observations",
        parse=lambda cells: _csv_row(kind, cells),
    )
    dated = frame["day"].map(lambda d: isinstance(d, dt.date))
    if dated.nunique() > 1:
        line = int(dated.index[int((dated != dated.iloc[0]).to_numpy().argmax())])
        msg = (
            f"line {line}: the file mixes study days (integers) and calendar dates "
            "(YYYY-MM-DD); use one or the other"
        )
        raise InvalidInputError(msg, file=name, field="day")
    _refuse_repeats(frame, ["patient_id", "day"], name, field="day")
    if kind == "icans":
        for column in ("ice_score", "capd_score"):
            frame[column] = frame[column].astype("Int64")
    return frame


def _csv_row(kind: str, cells: dict[str, str]) -> dict[str, object]:
    row: dict[str, object] = {"patient_id": _text(cells, "patient_id")}
    row["day"] = _convert(cells, "day", _day)
    for column in ("tocilizumab", "steroids"):
        row[column] = _convert(cells, column, _to_bool)
    observation = _observation(kind, cells)
    row.update(observation.model_dump())
    if COMMENT_COLUMN in cells:
        row[COMMENT_COLUMN] = cells[COMMENT_COLUMN].strip()
    return row


def _response_row(cells: dict[str, str]) -> dict[str, object]:
    from ._writers import RESPONSE_CATEGORIES

    row: dict[str, object] = {
        "patient_id": _text(cells, "patient_id"),
        "day": _convert(cells, "day", _study_day),
        "criteria": _text(cells, "criteria", lower=True),
    }
    allowed = RESPONSE_CATEGORIES.get(str(row["criteria"]))
    if allowed is None:
        msg = f"{row['criteria']!r} is not a criteria set; one of: {', '.join(RESPONSE_CATEGORIES)}"
        raise InvalidInputError(msg, field="criteria")
    response = _text(cells, "response")
    by_case = {c.lower(): c for c in allowed}
    if response.lower() not in by_case:
        msg = f"{response!r} is not a {row['criteria']} response; one of: {', '.join(allowed)}"
        raise InvalidInputError(msg, field="response")
    row["response"] = by_case[response.lower()]
    row["reason"] = cells.get("reason", "").strip()
    given = [c for c in _MRD_COLUMNS if not _is_missing(cells.get(c, ""))]
    if given and len(given) < len(_MRD_COLUMNS):
        absent = next(c for c in _MRD_COLUMNS if c not in given)
        msg = "an MRD result needs mrd_result, mrd_sensitivity and mrd_method together"
        raise InvalidInputError(msg, field=absent)
    for column in _MRD_COLUMNS:
        row[column] = cells[column].strip().lower() if given else None
    return row


def read_responses_csv(path: str | Path) -> pd.DataFrame:
    r"""Read disease response assessments from CSV, validating every row.

    Parameters
    ----------
    path
        The CSV file. Required columns: ``patient_id``, ``day`` (days since infusion,
        integer >= 0), ``criteria`` (``lugano``, ``imwg`` or ``iwcll``) and ``response``
        (a category of that set, e.g. ``CR``, ``PR``, ``SD``, ``PD``; ``sCR``, ``VGPR``,
        ``MR`` for IMWG; case-insensitive). Optional: ``reason`` and a marrow MRD result
        as ``mrd_result`` (``negative``/``positive``), ``mrd_sensitivity`` (``10^-4``,
        ``10^-5``, ``10^-6`` or ``1e-5``) and ``mrd_method`` (``ngf``/``ngs``), all three
        or none. The MRD values are checked when the row is recorded
        (:class:`MRDResult`).

    Returns
    -------
    pandas.DataFrame
        Indexed by line (``line``), with the columns of :data:`RESPONSE_COLUMNS`
        (MRD columns None where no MRD was done).

    Raises
    ------
    InvalidInputError
        Naming the file, line and field: a bad header, an unknown criteria set or
        category, a day that is not a whole number >= 0, half an MRD result, or a
        patient assessed twice on one day under one criteria set.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "responses.csv"
    >>> _ = path.write_text("patient_id,day,criteria,response\nP1,28,lugano,cr\n")
    >>> read_responses_csv(path).loc[2, ["criteria", "response"]].tolist()
    ['lugano', 'CR']
    """
    name, frame = _read_rows(
        path,
        required=RESPONSE_COLUMNS[:4],
        optional=RESPONSE_COLUMNS[4:],
        what="responses",
        parse=_response_row,
    )
    _refuse_repeats(frame, ["patient_id", "day", "criteria"], name, field="day")
    return frame


def _kinetics_row(cells: dict[str, str]) -> dict[str, object]:
    row: dict[str, object] = {"patient_id": _text(cells, "patient_id")}
    for column, quantity in (("day", "study_day"), ("value", "amount")):
        number = check_quantity(quantity, _convert(cells, column, _to_float), field=column)
        if number < 0:
            msg = f"{cells[column]!r} must be a finite number >= 0"
            raise InvalidInputError(msg, field=column)
        row[column] = number
    row["method"] = _text(cells, "method", lower=True)
    row["unit"] = _text(cells, "unit")
    flag = cells.get("below_lloq", "")
    row["below_lloq"] = False if _is_missing(flag) else _convert(cells, "below_lloq", _to_bool)
    limit = cells.get("lloq", "")
    row["lloq"] = None
    if not _is_missing(limit):
        lloq = _to_float(_convert(cells, "lloq", _to_float))
        if not (0 < lloq < math.inf):
            msg = f"{limit!r} must be a positive finite number"
            raise InvalidInputError(msg, field="lloq")
        row["lloq"] = lloq
    return row


def read_kinetics_csv(path: str | Path) -> pd.DataFrame:
    r"""Read CAR transgene levels (qPCR or flow) from CSV, validating every row.

    Parameters
    ----------
    path
        The CSV file. Required columns: ``patient_id``, ``day`` (days since infusion,
        >= 0, fractions allowed), ``value`` (>= 0), ``method`` (e.g. ``qpcr``, ``flow``;
        lower-cased) and ``unit`` (e.g. ``copies/ug``, ``cells/uL``). Optional:
        ``below_lloq`` (true/false; the laboratory's flag that the sample was below
        its lower limit of quantification; empty means false) and ``lloq`` (that
        limit, in the row's unit; empty means not given).

    Returns
    -------
    pandas.DataFrame
        Indexed by line (``line``), with the columns of :data:`KINETICS_COLUMNS`.

    Raises
    ------
    InvalidInputError
        Naming the file, line and field: a bad header, a day or value that is not a
        finite number >= 0, a day repeated for one patient and method (average the
        replicates first), or two units for one patient and method.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pk.csv"
    >>> _ = path.write_text("patient_id,day,value,method,unit\nP1,7,1200,qPCR,copies/ug\n")
    >>> row = read_kinetics_csv(path).loc[2]
    >>> row["method"], float(row["value"]), bool(row["below_lloq"])
    ('qpcr', 1200.0, False)
    """
    name, frame = _read_rows(
        path,
        required=KINETICS_COLUMNS[:5],
        optional=KINETICS_COLUMNS[5:],
        what="kinetics",
        parse=_kinetics_row,
    )
    _refuse_repeats(frame, ["patient_id", "method", "day"], name, field="day")
    units = frame.groupby(["patient_id", "method"], sort=False)["unit"].transform("first")
    mixed = frame[frame["unit"] != units]
    if not mixed.empty:
        line = int(mixed.index[0])
        row = mixed.iloc[0]
        msg = (
            f"line {line}: unit {row['unit']!r} differs from {units[line]!r} used earlier for "
            f"patient {row['patient_id']} by {row['method']}; one unit per patient and method"
        )
        raise InvalidInputError(msg, file=name, field="unit")
    return frame


def _levels_row(cells: dict[str, str]) -> dict[str, object]:
    row: dict[str, object] = {"patient_id": _text(cells, "patient_id")}
    for column, quantity in (("day", "study_day"), ("value", "amount")):
        number = check_quantity(quantity, _convert(cells, column, _to_float), field=column)
        if number < 0:
            msg = f"{cells[column]!r} must be a finite number >= 0"
            raise InvalidInputError(msg, field=column)
        row[column] = number
    row["unit"] = cells.get("unit", "").strip() or None
    return row


def read_levels_csv(path: str | Path) -> pd.DataFrame:
    r"""Read one transgene level series per patient (for NCA) from CSV, validating every row.

    Parameters
    ----------
    path
        The CSV file. Required columns: ``patient_id``, ``day`` (days since infusion,
        >= 0, fractions allowed) and ``value`` (>= 0); optional: ``unit``.

    Returns
    -------
    pandas.DataFrame
        Indexed by line (``line``), with ``patient_id``, ``day``, ``value`` and ``unit``
        (None where the file gives none).

    Raises
    ------
    InvalidInputError
        Naming the file, line and field: a bad header, a day or value that is not a
        finite, possible number >= 0, a day repeated for one patient, or one patient's
        values in two units (the series would mix scales; the message names the
        patient, both units and their lines).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pk.csv"
    >>> _ = path.write_text("patient_id,day,value,unit\nP1,0,0,copies/ug\nP1,7,9,cells/uL\n")
    >>> try:
    ...     read_levels_csv(path)
    ... except InvalidInputError as exc:
    ...     print(exc.reason.split(";")[0])
    line 3: patient P1 has values in 'cells/uL' here and in 'copies/ug' on line 2
    """
    name, frame = _read_rows(
        path,
        required=("patient_id", "day", "value"),
        optional=("unit",),
        what="levels",
        parse=_levels_row,
    )
    _refuse_repeats(frame, ["patient_id", "day"], name, field="day")
    for patient, group in frame.groupby("patient_id", sort=False):
        units = group["unit"].fillna("")
        if units.nunique() > 1:
            line = int(units.index[int((units != units.iloc[0]).to_numpy().argmax())])
            first = int(units.index[0])
            msg = (
                f"line {line}: patient {patient} has values in {units[line] or 'no unit'!r} "
                f"here and in {units[first] or 'no unit'!r} on line {first}; "
                "one unit per patient"
            )
            raise InvalidInputError(msg, file=name, field="unit")
    return frame

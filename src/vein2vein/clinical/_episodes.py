"""Daily toxicity series: grading rows, reading them from CSV, and summarising episodes.

A *series* is one row per assessment: ``patient_id`` (optional in frames), ``day``,
``tocilizumab`` and ``steroids`` (given that day, true/false) and the fields of
:class:`~vein2vein.clinical.CRSObservation` or
:class:`~vein2vein.clinical.ICANSObservation`. ``day`` is either an integer study day
(day 0 = cell infusion, negative before it) or a calendar date, the same for the
whole series.

How episodes are cut (:func:`toxicity_episodes`), decisions fixed here and tested:

* Several assessments on one day count as that day's **worst** grade; tocilizumab or
  steroids on any of them count for the day.
* An episode **starts** on the first day with grade >= 1 and **continues** over every
  later observed day with grade >= 1. It **ends** only at an observed day with grade 0:
  that day is the ``resolution_day``. A missing day (no assessment) neither ends nor
  extends an episode; the missing days between onset and the last day with toxicity are
  counted in ``missing_days``. Several unobserved days before the resolution show as
  ``resolution_day - last_day`` > 1.
* After a resolution, a new day with grade >= 1 starts a **new episode** (numbered
  1, 2, ... per patient), as re-occurrence.
* An episode still open at the last assessment is **unresolved** (``resolved`` False,
  ``resolution_day`` empty). A grade 5 day ends the series; an assessment after it is
  refused.
* ``duration_days`` = last day with grade >= 1 - onset + 1 (days known to be toxic).
* Tocilizumab and steroid timing: the first day from onset up to the day before
  resolution (or the last assessment) on which the drug was given, absolute
  (``tocilizumab_day``) and relative to onset (``tocilizumab_days_from_onset``, 0 = on the
  onset day). Doses before onset (prophylaxis) or on the resolution day are not
  attributed to the episode.

CRS grading needs ``fever_treated`` on every row: set it once antipyretic or
anti-cytokine therapy has been given for the episode (the consensus then stops requiring
fever). It is not derived from the ``tocilizumab``/``steroids`` columns because
antipyretics also count and are not recorded here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final

import numpy as np
import pandas as pd
from pydantic import Field

from ..errors import InvalidInputError
from ._crs import CRSObservation, grade_crs
from ._grading import KINDS, ObservationModel
from ._icans import ICANSObservation, grade_icans

__all__ = [
    "EPISODE_COLUMNS",
    "DatedObservation",
    "grade_observations",
    "read_observations_csv",
    "toxicity_episodes",
]

SERIES_COLUMNS: Final[tuple[str, ...]] = ("patient_id", "day", "tocilizumab", "steroids")
COMMENT_COLUMN: Final = "comment"
EPISODE_COLUMNS: Final[tuple[str, ...]] = (
    "patient_id",
    "kind",
    "episode",
    "onset_day",
    "max_grade",
    "max_grade_day",
    "last_day",
    "duration_days",
    "resolution_day",
    "resolved",
    "missing_days",
    "tocilizumab_day",
    "tocilizumab_days_from_onset",
    "steroids_day",
    "steroids_days_from_onset",
)
"""Columns of the frame :func:`toxicity_episodes` returns, in order."""

_MAX_NOTES: Final = 20
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
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        msg = f"{value!r} is neither a study day (integer) nor a date (YYYY-MM-DD)"
        raise ValueError(msg)
    return _to_int(value)


def _where(frame: pd.DataFrame, label: object) -> str:
    return f"line {label}" if frame.index.name == "line" else f"row {label!r}"


def _raise_collected(problems: list[InvalidInputError]) -> None:
    if not problems:
        return
    first = problems[0]
    for other in problems[1 : _MAX_NOTES + 1]:
        first.add_note(str(other))
    if len(problems) > _MAX_NOTES + 1:
        first.add_note(f"... and {len(problems) - _MAX_NOTES - 1} more")
    raise first


def _located(exc: InvalidInputError, where: str, *, file: str | None = None) -> InvalidInputError:
    located = InvalidInputError(f"{where}: {exc.reason}", file=file, field=exc.field)
    for note in getattr(exc, "__notes__", ()):
        located.add_note(f"{where}: {note}")
    return located


# ----------------------------------------------------------------- grading a frame


def grade_observations(frame: pd.DataFrame, *, kind: str) -> pd.DataFrame:
    """Grade every row of a series: a copy of ``frame`` with an integer ``grade`` column.

    Parameters
    ----------
    frame
        One row per assessment with the fields of :class:`CRSObservation`
        (``kind="crs"``) or :class:`ICANSObservation` (``kind="icans"``) as columns;
        optional fields may be absent or empty (NaN/None) and take their defaults.
        ``vasopressors`` may be a list or one string separated by ``;``. Other columns
        are kept unchanged.
    kind
        ``"crs"`` (graded by :func:`grade_crs`) or ``"icans"`` (:func:`grade_icans`).

    Returns
    -------
    pandas.DataFrame
        The rows of ``frame`` with ``grade`` (0-5) added.

    Raises
    ------
    InvalidInputError
        An unknown ``kind``, a missing required column, a frame that already has a
        ``grade`` column, or a row that does not validate; the message names the row
        (the line for a frame from :func:`read_observations_csv`) and the field, and
        every further bad row is attached as a note.

    Examples
    --------
    >>> frame = pd.DataFrame({"temperature_c": [38.5, 37.0], "hypotension": [True, False],
    ...                       "oxygen": ["none", "none"], "fever_treated": [False, True]})
    >>> grade_observations(frame, kind="crs")["grade"].tolist()
    [2, 0]
    """
    kind = _check_kind(kind)
    if "grade" in frame.columns:
        msg = "the frame already has a 'grade' column; drop it to grade again"
        raise InvalidInputError(msg, field="grade")
    missing = [c for c in _required_fields(kind) if c not in frame.columns]
    if missing:
        msg = f"the frame lacks column(s) {', '.join(missing)} needed to grade {kind}"
        raise InvalidInputError(msg, field=missing[0])
    grader = _GRADERS[kind]
    columns = [c for c in _CONVERTERS[kind] if c in frame.columns]
    grades: list[int] = []
    problems: list[InvalidInputError] = []
    records = frame[columns].to_dict("records")
    for label, cells in zip(frame.index, records, strict=True):
        try:
            grades.append(grader(_observation(kind, cells)))
        except InvalidInputError as exc:
            problems.append(_located(exc, _where(frame, label)))
    _raise_collected(problems)
    out = frame.copy()
    out["grade"] = np.asarray(grades, dtype=np.int64)
    return out


# ----------------------------------------------------------------- episodes


class DatedObservation(ObservationModel):
    """One dated assessment of one patient, for :func:`toxicity_episodes`.

    Parameters
    ----------
    patient_id
        The patient.
    day
        Study day (integer, day 0 = infusion) or calendar date.
    observation
        The CRS or ICANS assessment.
    tocilizumab, steroids
        Whether the drug was given that day.

    Examples
    --------
    >>> obs = CRSObservation(temperature_c=38.6, hypotension=False, oxygen="none",
    ...                      fever_treated=False)
    >>> DatedObservation(patient_id="P1", day=1, observation=obs, tocilizumab=False,
    ...                  steroids=False).day
    1
    """

    patient_id: str = Field(min_length=1)
    day: int | dt.date
    observation: CRSObservation | ICANSObservation
    tocilizumab: Annotated[bool, Field(strict=True)]
    steroids: Annotated[bool, Field(strict=True)]


@dataclass
class _Episode:
    onset: int
    max_grade: int
    max_day: int
    last: int
    observed: set[int] = field(default_factory=set)
    resolution: int | None = None
    tocilizumab: int | None = None
    steroids: int | None = None


def _series_from_records(records: Sequence[DatedObservation], kind: str) -> pd.DataFrame:
    expected = _MODELS[kind]
    grader = _GRADERS[kind]
    rows = []
    items: Sequence[object] = records
    for i, record in enumerate(items):
        if not isinstance(record, DatedObservation):
            msg = f"item {i}: expected a DatedObservation, got {type(record).__name__}"
            raise InvalidInputError(msg, field="observations")
        if not isinstance(record.observation, expected):
            msg = (
                f"item {i}: a {type(record.observation).__name__} in a {kind} series "
                f"(expected {expected.__name__})"
            )
            raise InvalidInputError(msg, field="observation")
        rows.append(
            {
                "patient_id": record.patient_id,
                "day": record.day,
                "tocilizumab": record.tocilizumab,
                "steroids": record.steroids,
                "grade": grader(record.observation),
            }
        )
    return pd.DataFrame(rows, columns=[*SERIES_COLUMNS, "grade"])


def _normalise_series(frame: pd.DataFrame, kind: str) -> tuple[pd.DataFrame, bool]:
    """patient_id, ordinal day, booleans and grade; and whether days are dates."""
    for column in ("day", "tocilizumab", "steroids"):
        if column not in frame.columns:
            msg = f"the series lacks column {column!r}"
            raise InvalidInputError(msg, field=column)
    graded = frame if "grade" in frame.columns else grade_observations(frame, kind=kind)
    problems: list[InvalidInputError] = []
    out: dict[str, list[Any]] = {"patient_id": [], "day": [], "tocilizumab": [], "steroids": []}
    grades: list[int] = []
    kinds_of_day: set[bool] = set()
    has_patient = "patient_id" in graded.columns
    for label, row in zip(graded.index, graded.to_dict("records"), strict=True):
        where = _where(graded, label)
        try:
            patient = row["patient_id"] if has_patient else None
            if has_patient and (_is_missing(patient) or not str(patient).strip()):
                msg = "empty patient_id"
                raise InvalidInputError(msg, field="patient_id")
            name = "day"
            if _is_missing(row["day"]):
                msg = "empty day"
                raise InvalidInputError(msg, field="day")
            try:
                day = _day(row["day"])
                name = "tocilizumab"
                toci = _to_bool(row["tocilizumab"])
                name = "steroids"
                ster = _to_bool(row["steroids"])
                name = "grade"
                grade = _to_int(row["grade"])
            except ValueError as exc:
                raise InvalidInputError(str(exc), field=name) from None
            if not 0 <= grade <= 5:
                msg = f"grade {grade} is outside 0-5"
                raise InvalidInputError(msg, field="grade")
        except InvalidInputError as exc:
            problems.append(_located(exc, where))
            continue
        is_date = isinstance(day, dt.date)
        kinds_of_day.add(is_date)
        out["patient_id"].append(None if patient is None else str(patient).strip())
        out["day"].append(day.toordinal() if isinstance(day, dt.date) else day)
        out["tocilizumab"].append(toci)
        out["steroids"].append(ster)
        grades.append(grade)
    _raise_collected(problems)
    if len(kinds_of_day) > 1:
        msg = "the series mixes study days (integers) and calendar dates"
        raise InvalidInputError(msg, field="day")
    series = pd.DataFrame(out)
    series["grade"] = grades
    return series, kinds_of_day == {True}


def _episodes_of(days: pd.DataFrame) -> list[_Episode]:
    """Cut one patient's per-day series (sorted, one row per day) into episodes."""
    episodes: list[_Episode] = []
    current: _Episode | None = None
    for day, grade, toci, ster in days[["day", "grade", "tocilizumab", "steroids"]].itertuples(
        index=False
    ):
        day, grade = int(day), int(grade)
        if current is None:
            if grade == 0:
                continue
            current = _Episode(onset=day, max_grade=grade, max_day=day, last=day)
            episodes.append(current)
        elif grade == 0:
            current.resolution = day
            current = None
            continue
        current.last = day
        current.observed.add(day)
        if grade > current.max_grade:
            current.max_grade, current.max_day = grade, day
        if toci and current.tocilizumab is None:
            current.tocilizumab = day
        if ster and current.steroids is None:
            current.steroids = day
    return episodes


def toxicity_episodes(
    observations: pd.DataFrame | Sequence[DatedObservation], *, kind: str
) -> pd.DataFrame:
    """Summarise each patient's daily grades into toxicity episodes.

    Parameters
    ----------
    observations
        A series frame (``patient_id`` optional, ``day``, ``tocilizumab``,
        ``steroids``, and either a ``grade`` column or the observation fields, which are
        then graded by :func:`grade_observations`), or a list of
        :class:`DatedObservation`.
    kind
        ``"crs"`` or ``"icans"``.

    Returns
    -------
    pandas.DataFrame
        One row per episode with the columns :data:`EPISODE_COLUMNS`: ``patient_id``
        (None when the frame has none), ``kind``, ``episode`` (1, 2, ... per patient),
        ``onset_day``, ``max_grade``, ``max_grade_day`` (first day at the maximum),
        ``last_day`` (last day with grade >= 1), ``duration_days``, ``resolution_day``
        (first day graded 0 afterwards; empty if unresolved), ``resolved``,
        ``missing_days``, and first ``tocilizumab_day``/``steroids_day`` with their
        ``..._days_from_onset``. Days come back as given: integers (nullable ``Int64``)
        or dates.

    Raises
    ------
    InvalidInputError
        A missing column, a row that does not validate (named by row or line and
        field), study days mixed with dates, or an assessment after a grade 5 day.

    Examples
    --------
    >>> series = pd.DataFrame({"patient_id": "P1", "day": [0, 1, 2, 3, 4, 5],
    ...                        "grade": [0, 1, 2, 0, 1, 0],
    ...                        "tocilizumab": [False, False, True, False, False, False],
    ...                        "steroids": False})
    >>> ep = toxicity_episodes(series, kind="crs")
    >>> ep["onset_day"].tolist(), ep["max_grade"].tolist(), ep["resolution_day"].tolist()
    ([1, 4], [2, 1], [3, 5])
    >>> ep["tocilizumab_days_from_onset"].tolist()
    [1, <NA>]
    """
    kind = _check_kind(kind)
    if isinstance(observations, pd.DataFrame):
        series, dated = _normalise_series(observations, kind)
    elif isinstance(observations, Sequence) and not isinstance(observations, str):
        series, dated = _normalise_series(_series_from_records(observations, kind), kind)
    else:
        msg = "expected a pandas DataFrame or a list of DatedObservation"
        raise InvalidInputError(msg, field="observations")

    rows: list[dict[str, Any]] = []
    key = series["patient_id"].fillna("")
    for patient, group in series.groupby(key, sort=True):
        daily = group.groupby("day", sort=True).agg(
            grade=("grade", "max"), tocilizumab=("tocilizumab", "any"), steroids=("steroids", "any")
        )
        daily = daily.reset_index()
        deaths = daily.loc[daily["grade"] == 5, "day"]
        if not deaths.empty and int(daily["day"].max()) > int(deaths.min()):
            who = f"patient {patient}: " if patient else ""
            death_day = _show(int(deaths.min()), dated=dated)
            msg = f"{who}an assessment follows the grade 5 (death) day {death_day}"
            raise InvalidInputError(msg, field="day")
        for number, ep in enumerate(_episodes_of(daily), start=1):
            span = ep.last - ep.onset + 1
            rows.append(
                {
                    "patient_id": patient or None,
                    "kind": kind,
                    "episode": number,
                    "onset_day": ep.onset,
                    "max_grade": ep.max_grade,
                    "max_grade_day": ep.max_day,
                    "last_day": ep.last,
                    "duration_days": span,
                    "resolution_day": ep.resolution,
                    "resolved": ep.resolution is not None,
                    "missing_days": span - len(ep.observed),
                    "tocilizumab_day": ep.tocilizumab,
                    "tocilizumab_days_from_onset": _offset(ep.tocilizumab, ep.onset),
                    "steroids_day": ep.steroids,
                    "steroids_days_from_onset": _offset(ep.steroids, ep.onset),
                }
            )
    return _episode_frame(rows, dated=dated)


def _offset(day: int | None, onset: int) -> int | None:
    return None if day is None else day - onset


def _show(day: int, *, dated: bool) -> str:
    return dt.date.fromordinal(day).isoformat() if dated else str(day)


_DAY_COLUMNS: Final = (
    "onset_day",
    "max_grade_day",
    "last_day",
    "resolution_day",
    "tocilizumab_day",
    "steroids_day",
)
_INT_COLUMNS: Final = ("episode", "max_grade", "duration_days", "missing_days")
_OFFSET_COLUMNS: Final = ("tocilizumab_days_from_onset", "steroids_days_from_onset")


def _episode_frame(rows: list[dict[str, Any]], *, dated: bool) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))
    frame["patient_id"] = frame["patient_id"].astype(object)
    frame["kind"] = frame["kind"].astype(object)
    for column in _INT_COLUMNS:
        frame[column] = frame[column].astype(np.int64)
    frame["resolved"] = frame["resolved"].astype(bool)
    for column in _OFFSET_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    for column in _DAY_COLUMNS:
        if dated:
            frame[column] = pd.Series(
                [None if _is_missing(v) else dt.date.fromordinal(int(v)) for v in frame[column]],
                index=frame.index,
                dtype=object,
            )
        else:
            frame[column] = frame[column].astype("Int64")
    return frame


# ----------------------------------------------------------------- CSV


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
        validate, or study days mixed with dates. The first problem is raised; the
        others (up to 20) are attached as notes.

    Examples
    --------
    >>> import tempfile, pathlib
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
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        msg = f"cannot read the file: {exc.strerror or exc}"
        raise InvalidInputError(msg, file=name) from None
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start})"
        raise InvalidInputError(msg, file=name) from None

    required, optional = _fields_of(kind)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        msg = f"line 1: the file is empty; expected a header with {','.join(required)}"
        raise InvalidInputError(msg, file=name)
    columns = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in columns]
    if missing:
        msg = f"line 1: the header lacks column(s) {', '.join(missing)} needed for {kind}"
        raise InvalidInputError(msg, file=name, field=missing[0])
    unknown = [c for c in columns if c not in required and c not in optional]
    if unknown:
        msg = (
            f"line 1: unknown column(s) {', '.join(unknown)} for {kind}; "
            f"allowed: {', '.join((*required, *optional))}"
        )
        raise InvalidInputError(msg, file=name, field=unknown[0])
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        msg = f"line 1: column(s) {', '.join(repeated)} appear more than once"
        raise InvalidInputError(msg, file=name, field=repeated[0])

    problems: list[InvalidInputError] = []
    rows: list[dict[str, object]] = []
    lines: list[int] = []
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(columns):
            msg = f"line {line}: {len(fields)} fields, the header has {len(columns)}"
            problems.append(InvalidInputError(msg, file=name))
            continue
        cells = dict(zip(columns, fields, strict=True))
        try:
            rows.append(_csv_row(kind, cells))
            lines.append(line)
        except InvalidInputError as exc:
            problems.append(_located(exc, f"line {line}", file=name))
    _raise_collected(problems)
    if not rows:
        msg = "no observations below the header"
        raise InvalidInputError(msg, file=name)
    if len({isinstance(r["day"], dt.date) for r in rows}) > 1:
        msg = "the file mixes study days (integers) and calendar dates (YYYY-MM-DD)"
        raise InvalidInputError(msg, file=name, field="day")
    frame = pd.DataFrame(rows, index=pd.Index(lines, name="line"))
    if kind == "icans":
        for column in ("ice_score", "capd_score"):
            frame[column] = frame[column].astype("Int64")
    return frame


def _csv_row(kind: str, cells: Mapping[str, str]) -> dict[str, object]:
    row: dict[str, object] = {}
    patient = cells["patient_id"].strip()
    if not patient:
        msg = "empty patient_id"
        raise InvalidInputError(msg, field="patient_id")
    row["patient_id"] = patient
    for column in ("day", "tocilizumab", "steroids"):
        value = cells[column]
        if not value.strip():
            msg = f"empty {column}"
            raise InvalidInputError(msg, field=column)
        try:
            row[column] = _day(value) if column == "day" else _to_bool(value)
        except ValueError as exc:
            raise InvalidInputError(str(exc), field=column) from None
    observation = _observation(kind, cells)
    row.update(observation.model_dump())
    if COMMENT_COLUMN in cells:
        row[COMMENT_COLUMN] = cells[COMMENT_COLUMN].strip()
    return row

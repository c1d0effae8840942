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

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

import numpy as np
import pandas as pd
from pydantic import Field

from ...errors import InvalidInputError
from ...support import raise_collected
from .._observation import ObservationModel
from ._cells import (
    _CONVERTERS,
    _GRADERS,
    _MODELS,
    SERIES_COLUMNS,
    _check_kind,
    _day,
    _is_missing,
    _located,
    _observation,
    _required_fields,
    _to_bool,
    _to_int,
    _where,
)
from ._crs import CRSObservation
from ._icans import ICANSObservation

__all__ = [
    "EPISODE_COLUMNS",
    "DatedObservation",
    "grade_observations",
    "toxicity_episodes",
]

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
    raise_collected(problems)
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
    raise_collected(problems)
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

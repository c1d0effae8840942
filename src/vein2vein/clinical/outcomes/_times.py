"""Outcome times from dated response assessments, ready for Kaplan-Meier fitting.

Rules (fixed here and tested):

* **Ordering**: sCR > CR > VGPR > PR > MR > SD > PD (Lugano/iwCLL use the subset
  CR > PR > SD > PD).
* **Best overall response** is the best response recorded from the start until the
  first PD (later assessments are ignored). With ``confirm_days`` set, a response
  better than SD counts only when confirmed by a later assessment at least that many
  days after it, at the worse of the two (CR then PR confirms PR); an unconfirmed
  response falls back to SD (a PD as confirming assessment confirms nothing).
* **PFS**: from ``start`` (e.g. CAR-T infusion) to the first PD or death, whichever is
  first (event); otherwise censored at the last assessment (last adequate assessment).
* **Duration of response**: from the first CR/PR-or-better to PD or death (event);
  otherwise censored at the last assessment; ``None`` for non-responders.
* **OS**: from ``start`` to death (event), otherwise censored at ``last_contact``.

Times are in days. :func:`outcome_frame` gives one row per patient with
``<endpoint>_days`` and ``<endpoint>_event`` columns, which
``lifelines.KaplanMeierFitter().fit(df["pfs_days"], df["pfs_event"])`` takes directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Final, Literal, NamedTuple

import pandas as pd
from pydantic import Field, model_validator

from ...errors import InvalidInputError
from .._observation import ObservationModel

__all__ = [
    "RESPONSE_ORDER",
    "DatedResponse",
    "OutcomeTime",
    "PatientCourse",
    "best_overall_response",
    "duration_of_response",
    "outcome_frame",
    "overall_survival",
    "progression_free_survival",
]

RESPONSE_ORDER: Final[tuple[str, ...]] = ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD")
"""Best first."""
_RANK: Final = {name: i for i, name in enumerate(RESPONSE_ORDER)}
_RESPONDER: Final = _RANK["PR"]

Category = Literal["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD"]


class DatedResponse(ObservationModel):
    """One assessment's overall response on a date."""

    assessed_on: dt.date
    response: Category


class PatientCourse(ObservationModel):
    """A patient's dated assessments, start date, last contact and death (if any)."""

    patient_id: Annotated[str, Field(min_length=1)]
    start: dt.date
    assessments: tuple[DatedResponse, ...] = ()
    last_contact: dt.date
    death_on: dt.date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> PatientCourse:
        prev = self.start
        for i, a in enumerate(self.assessments):
            if a.assessed_on < prev or (i and a.assessed_on == prev):
                msg = (
                    f"assessment {i} on {a.assessed_on.isoformat()} is not after "
                    f"{prev.isoformat()}; give assessments in date order, after start"
                )
                raise InvalidInputError(msg, field=f"assessments.{i}.assessed_on")
            prev = a.assessed_on
        if self.last_contact < prev:
            msg = f"last contact {self.last_contact.isoformat()} is before {prev.isoformat()}"
            raise InvalidInputError(msg, field="last_contact")
        if self.death_on is not None and self.death_on < prev:
            msg = f"death {self.death_on.isoformat()} is before {prev.isoformat()}"
            raise InvalidInputError(msg, field="death_on")
        return self


class OutcomeTime(NamedTuple):
    """Time to event in days and whether the event happened (False: censored)."""

    days: int
    event: bool


def _until_pd(course: PatientCourse) -> list[DatedResponse]:
    out = []
    for a in course.assessments:
        out.append(a)
        if a.response == "PD":
            break
    return out


def best_overall_response(course: PatientCourse, *, confirm_days: int | None = None) -> str:
    """Best response from start to first PD; ``"NE"`` with no assessment.

    Examples
    --------
    >>> c = PatientCourse(patient_id="p1", start=dt.date(2024, 1, 1),
    ...     assessments=[DatedResponse(assessed_on=dt.date(2024, 2, 1), response="PR"),
    ...                  DatedResponse(assessed_on=dt.date(2024, 4, 1), response="CR")],
    ...     last_contact=dt.date(2024, 5, 1))
    >>> best_overall_response(c)
    'CR'
    """
    seq = _until_pd(course)
    if not seq:
        return "NE"
    best = "PD"
    for i, a in enumerate(seq):
        call: str = a.response
        if confirm_days is not None and _RANK[call] < _RANK["SD"]:
            # Confirmed at the worse of the two assessments (CR then PR: PR).
            levels = [
                max(_RANK[call], _RANK[b.response])
                for b in seq[i + 1 :]
                if (b.assessed_on - a.assessed_on).days >= confirm_days
            ]
            level = min(levels, default=_RANK["SD"])
            call = RESPONSE_ORDER[min(level, _RANK["SD"])]
        if _RANK[call] < _RANK[best]:
            best = call
    return best


def _first_pd(course: PatientCourse) -> dt.date | None:
    return next((a.assessed_on for a in course.assessments if a.response == "PD"), None)


def _last_assessed(course: PatientCourse) -> dt.date:
    return course.assessments[-1].assessed_on if course.assessments else course.start


def progression_free_survival(course: PatientCourse) -> OutcomeTime:
    """Days from start to first PD or death (event), else to the last assessment."""
    ends = [d for d in (_first_pd(course), course.death_on) if d is not None]
    if ends:
        return OutcomeTime((min(ends) - course.start).days, event=True)
    return OutcomeTime((_last_assessed(course) - course.start).days, event=False)


def duration_of_response(course: PatientCourse) -> OutcomeTime | None:
    """Days from the first PR-or-better to PD or death; ``None`` for non-responders."""
    first = next(
        (a.assessed_on for a in _until_pd(course) if _RANK[a.response] <= _RESPONDER), None
    )
    if first is None:
        return None
    ends = [d for d in (_first_pd(course), course.death_on) if d is not None]
    if ends:
        return OutcomeTime((min(ends) - first).days, event=True)
    return OutcomeTime((_last_assessed(course) - first).days, event=False)


def overall_survival(course: PatientCourse) -> OutcomeTime:
    """Days from start to death (event), else to last contact (censored)."""
    if course.death_on is not None:
        return OutcomeTime((course.death_on - course.start).days, event=True)
    return OutcomeTime((course.last_contact - course.start).days, event=False)


def outcome_frame(
    courses: Iterable[PatientCourse], *, confirm_days: int | None = None
) -> pd.DataFrame:
    """One row per patient: best response, PFS, DOR and OS times (days) and events.

    Columns: ``patient_id``, ``best_overall_response``, ``pfs_days``, ``pfs_event``,
    ``dor_days``, ``dor_event`` (missing for non-responders), ``os_days``, ``os_event``.
    """
    rows = []
    seen: set[str] = set()
    for course in courses:
        if course.patient_id in seen:
            msg = f"patient {course.patient_id!r} appears twice"
            raise InvalidInputError(msg, field="patient_id")
        seen.add(course.patient_id)
        pfs = progression_free_survival(course)
        dor = duration_of_response(course)
        os_ = overall_survival(course)
        rows.append(
            {
                "patient_id": course.patient_id,
                "best_overall_response": best_overall_response(course, confirm_days=confirm_days),
                "pfs_days": pfs.days,
                "pfs_event": pfs.event,
                "dor_days": None if dor is None else dor.days,
                "dor_event": None if dor is None else dor.event,
                "os_days": os_.days,
                "os_event": os_.event,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "patient_id",
            "best_overall_response",
            "pfs_days",
            "pfs_event",
            "dor_days",
            "dor_event",
            "os_days",
            "os_event",
        ],
    )
    frame["dor_days"] = frame["dor_days"].astype("Int64")
    frame["dor_event"] = frame["dor_event"].astype("boolean")
    return frame

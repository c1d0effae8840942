"""Recording a CSV file of follow-up into the system of record, all or nothing.

Each importer first reads and validates the whole file (:mod:`._csv`), then stores
it row by row through the record writers in one unit of work. Any problem, in the
file or against what is stored (unknown patient, no infusion, an assessment already
recorded), raises an error naming the file, the line and the field; the caller's
unit of work then rolls back, so one bad row means nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InvalidInputError, RecordConflictError, RecordNotFoundError
from ...records import UnitOfWork
from ..grading._cells import _MODELS, _check_kind
from ..response._imwg import MRDResult
from ._csv import read_kinetics_csv, read_observations_csv, read_responses_csv
from ._writers import _infused_patient, record_kinetics, record_response, record_toxicity

__all__ = ["RecordedFile", "import_kinetics", "import_responses", "import_toxicity"]

#: ``progress(done, total)``, called after each stored row (or group of kinetics rows).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RecordedFile:
    """What an import stored.

    Attributes
    ----------
    file
        The file read.
    what
        ``"crs"``, ``"icans"``, ``"responses"`` or ``"kinetics"``.
    rows
        Data rows in the file (all stored: an import is all or nothing).
    patients
        Rows stored per patient code.
    max_grade
        Toxicity imports: the highest ASTCT grade stored per patient; empty otherwise.
    """

    file: str
    what: str
    rows: int
    patients: dict[str, int] = field(default_factory=dict)
    max_grade: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {
            "file": self.file,
            "what": self.what,
            "rows": self.rows,
            "stored": self.rows,
            "patients": dict(self.patients),
            "max_grade": dict(self.max_grade),
        }


@contextmanager
def _at(name: str, line: int, field: str) -> Iterator[None]:
    """Name the file, line and field on any error raised while storing one row."""
    try:
        yield
    except InvalidInputError as exc:
        msg = f"line {line}: {exc.reason}"
        raise InvalidInputError(msg, file=name, field=exc.field or field) from None
    except RecordNotFoundError as exc:
        msg = f"line {line}: {exc}"
        raise InvalidInputError(msg, file=name, field=field) from None
    except RecordConflictError as exc:
        msg = f"file {name}, line {line}, field {field!r}: {exc}"
        raise RecordConflictError(msg) from None


def _plain(value: Any) -> Any:
    """A frame cell as a plain Python value (missing -> None, numpy scalar -> item)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _sensitivity(text: str) -> float | str:
    """``"1e-5"``, ``"0.00001"`` -> float; ``"10^-5"`` stays text for :class:`MRDResult`."""
    try:
        return float(text)
    except ValueError:
        return text


def _counts(frame: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame["patient_id"].value_counts(sort=False).items()}


def import_toxicity(
    uow: UnitOfWork,
    path: str | Path,
    *,
    kind: str,
    progress: Progress | None = None,
) -> RecordedFile:
    """Store a CSV of daily CRS or ICANS observations, one assessment per row.

    Parameters
    ----------
    uow
        The unit of work; its actor must be a clinician. Roll it back (let the error
        propagate out of ``with``) to store nothing when this raises.
    path
        The CSV file, with the columns :func:`read_observations_csv` reads; ``day``
        must be the study day (days since infusion, >= 0), not a date. One row per
        patient and day.
    kind
        ``"crs"`` or ``"icans"``.
    progress
        Called as ``progress(done, total)`` after each stored row.

    Returns
    -------
    RecordedFile

    Raises
    ------
    InvalidInputError
        Naming the file, line and field: anything :func:`read_observations_csv`
        refuses, a date instead of a study day, a patient repeated on one day, an
        unknown patient or one without a recorded infusion.
    RecordConflictError
        The patient already has a ``kind`` assessment stored for that day.
    """
    kind = _check_kind(kind)
    frame = read_observations_csv(path, kind=kind)
    name = str(path)
    for line, day in frame["day"].items():
        if isinstance(day, dt.date) or int(day) < 0:
            msg = (
                f"line {line}: {day} is not a study day >= 0; recording needs the day "
                "counted from the infusion (day 0)"
            )
            raise InvalidInputError(msg, file=name, field="day")
    repeated = frame[frame.duplicated(["patient_id", "day"])]
    if not repeated.empty:
        line = int(repeated.index[0])
        msg = f"line {line}: patient {repeated.iloc[0]['patient_id']} is already assessed on day "
        msg += f"{repeated.iloc[0]['day']} in this file; one {kind} assessment per day"
        raise InvalidInputError(msg, file=name, field="day")
    model = _MODELS[kind]
    fields = list(model.model_fields)
    max_grade: dict[str, int] = {}
    for done, (line, row) in enumerate(frame.iterrows(), start=1):
        with _at(name, int(str(line)), "patient_id"):
            observation = model(**{f: _plain(row[f]) for f in fields if f in row.index})
            stored = record_toxicity(
                uow,
                patient=str(row["patient_id"]),
                kind=kind,
                day=int(row["day"]),
                observation=observation,
                tocilizumab=bool(row["tocilizumab"]),
                steroids=bool(row["steroids"]),
            )
        patient = str(row["patient_id"])
        max_grade[patient] = max(max_grade.get(patient, 0), stored.grade)
        if progress is not None:
            progress(done, len(frame))
    return RecordedFile(name, kind, len(frame), _counts(frame), max_grade)


def import_responses(
    uow: UnitOfWork,
    path: str | Path,
    *,
    progress: Progress | None = None,
) -> RecordedFile:
    """Store a CSV of disease response assessments (with MRD results), one per row.

    Parameters
    ----------
    uow
        The unit of work; its actor must be a clinician.
    path
        The CSV file, with the columns :func:`read_responses_csv` reads. An MRD
        result is dated on the assessment day (infusion date plus ``day``) and must
        state its assay sensitivity.
    progress
        Called as ``progress(done, total)`` after each stored row.

    Returns
    -------
    RecordedFile

    Raises
    ------
    InvalidInputError
        Naming the file, line and field: anything :func:`read_responses_csv`
        refuses, an unsupported MRD sensitivity or method, an unknown patient or one
        without a recorded infusion.
    """
    frame = read_responses_csv(path)
    name = str(path)
    for done, (line, row) in enumerate(frame.iterrows(), start=1):
        patient = str(row["patient_id"])
        with _at(name, int(str(line)), "patient_id"):
            mrd: MRDResult | None = None
            if row["mrd_result"] is not None:
                _, day0 = _infused_patient(uow, patient)
                tested_on = (day0 + timedelta(days=int(row["day"]))).date()
                try:
                    mrd = MRDResult(
                        tested_on=tested_on,
                        method=row["mrd_method"],
                        result=row["mrd_result"],
                        sensitivity=_sensitivity(str(row["mrd_sensitivity"])),
                    )
                except InvalidInputError as exc:
                    raise InvalidInputError(exc.reason, field=f"mrd_{exc.field}") from None
            record_response(
                uow,
                patient=patient,
                day=int(row["day"]),
                criteria=str(row["criteria"]),
                response=str(row["response"]),
                reason=str(row["reason"]),
                mrd=mrd,
            )
        if progress is not None:
            progress(done, len(frame))
    return RecordedFile(name, "responses", len(frame), _counts(frame))


def import_kinetics(
    uow: UnitOfWork,
    path: str | Path,
    *,
    lloq: float | None = None,
    progress: Progress | None = None,
) -> RecordedFile:
    """Store a CSV of CAR transgene levels, one sample per row.

    Parameters
    ----------
    uow
        The unit of work; its actor must be a clinician.
    path
        The CSV file, with the columns :func:`read_kinetics_csv` reads.
    lloq
        Lower limit of quantification for the rows whose ``lloq`` cell is empty, in
        their unit. A value below its row's limit is stored flagged ``below_lloq``, as
        is a row whose ``below_lloq`` is true and a value of 0.
    progress
        Called as ``progress(done, total)`` (rows) after each patient and method.

    Returns
    -------
    RecordedFile

    Raises
    ------
    InvalidInputError
        Naming the file, line and field: anything :func:`read_kinetics_csv` refuses,
        an unknown patient or one without a recorded infusion (the first line of that
        patient's samples is named).
    RecordConflictError
        A sample of that patient, day and method is already stored.
    """
    frame = read_kinetics_csv(path)
    name = str(path)
    if lloq is not None and not (0 < lloq < math.inf):
        msg = f"the LLOQ must be a positive finite number, not {lloq!r}"
        raise InvalidInputError(msg, field="lloq")
    limits = frame["lloq"].where(frame["lloq"].notna(), lloq)
    frame["flag"] = frame["below_lloq"].astype(bool) | (
        limits.notna() & (frame["value"] < limits.astype(float))
    )
    done = 0
    for (patient, method), group in frame.groupby(["patient_id", "method"], sort=False):
        with _at(name, int(group.index[0]), "patient_id"):
            record_kinetics(
                uow,
                patient=str(patient),
                days=group["day"].tolist(),
                values=group["value"].tolist(),
                unit=str(group["unit"].iloc[0]),
                method=str(method),
                below_lloq=[bool(b) for b in group["flag"]],
            )
        done += len(group)
        if progress is not None:
            progress(done, len(frame))
    return RecordedFile(name, "kinetics", len(frame), _counts(frame))

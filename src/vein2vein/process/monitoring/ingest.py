"""Ingest of sensor and in-process readings: validated whole, stored in bulk, append-only.

A file (CSV or Parquet) has the columns ``batch, parameter, timestamp, value, unit``.
Validation happens before anything is written, and either every row is stored or
none is:

- an unknown batch or parameter, a unit that cannot be expressed in the parameter's
  unit, a value that is empty, NaN or infinite, a timestamp without a UTC offset, a
  timestamp before its batch started or later than now (beyond
  :data:`~vein2vein.records.CLOCK_SKEW`), or a (batch, parameter, timestamp) that
  appears twice in the file or is already stored is an error naming the file, the line
  (CSV line number, or Parquet row + 2) and the column;
- values in a compatible unit are converted to the parameter's unit (pint);
- a value its parameter's quantity cannot take (pH -7, -500 °C, a negative
  concentration; :func:`vein2vein.specs.quantity_for`) is an error naming the line;
- out-of-order timestamps are accepted and stored sorted by time; the report says so.

Rows go in with one multi-row INSERT per chunk on SQLite (one transaction) and with
``COPY`` on PostgreSQL. The :class:`~vein2vein.records.Ingest` row (audited) keeps
the file's SHA-256, who ingested it and when, and the SHA-256 of the readings as
stored (:func:`~vein2vein.records.readings_sha256`, computed from the validated rows
that are inserted), which ``audit verify`` recomputes; readings themselves are
append-only. Times are kept to the microsecond, the resolution both databases store.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ...errors import InvalidInputError, RecordConflictError
from ...records import (
    CLOCK_SKEW,
    Batch,
    BatchStatus,
    Ingest,
    ProcessParameter,
    Reading,
    UnitOfWork,
    readings_sha256,
    require,
    utcnow,
)
from ...specs import UnitProblem, convert, quantity_for
from ...support import check_quantity

__all__ = ["COLUMNS", "IngestReport", "ingest_readings", "read_readings", "register_parameter"]

COLUMNS = ("batch", "parameter", "timestamp", "value", "unit")
_CHUNK = 5000
#: The time of an ISO 8601 timestamp ends with its UTC offset: Z, +01:00, +0100 or +01.
_HAS_OFFSET = re.compile(r"^\S+[T ]\S.*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest stored."""

    ingest_id: int
    source: str
    sha256: str
    n_readings: int
    n_batches: int
    n_parameters: int
    resorted: bool
    converted_units: tuple[str, ...]


def register_parameter(
    uow: UnitOfWork, *, name: str, unit: str, step: str, description: str | None = None
) -> ProcessParameter:
    """Register a monitored parameter with its unit (pint syntax) and process step."""
    require(uow.actor, "process.configure")
    try:
        convert(1.0, unit, unit)
    except UnitProblem as exc:
        raise InvalidInputError(str(exc), field="unit") from None
    if not name.strip() or not step.strip():
        msg = "a parameter needs a name and the process step it belongs to"
        raise InvalidInputError(msg, field="name" if not name.strip() else "step")
    clash = uow.session.scalars(select(ProcessParameter).where(ProcessParameter.name == name))
    if clash.first() is not None:
        msg = f"parameter {name!r} already exists"
        raise RecordConflictError(msg)
    return uow.add(ProcessParameter(name=name, unit=unit, step=step, description=description))


def _line(frame: pd.DataFrame, position: int) -> int:
    """The file line of data row ``position``, blank lines counted (header is line 1).

    Worked out only for a message: the bulk reader does not track lines while it reads.
    """
    raw = frame.attrs.get("csv_bytes")
    row = int(frame.index[position])
    if not isinstance(raw, bytes):
        return row + 2
    lines = [n for n, text in enumerate(raw.splitlines(), start=1) if text.strip()]
    return lines[row + 1] if row + 1 < len(lines) else row + 2


def read_readings(path: str | Path) -> tuple[pd.DataFrame, str]:
    """Read a CSV or Parquet file of readings; returns the frame and the file's SHA-256."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read: {exc.strerror}"
        raise InvalidInputError(msg, file=source) from None
    digest = hashlib.sha256(raw).hexdigest()
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(io.BytesIO(raw))
        else:
            frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    except (ValueError, OSError) as exc:
        msg = f"not a readable {path.suffix or 'CSV'} file: {exc}"
        raise InvalidInputError(msg, file=source) from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        msg = f"missing column(s) {', '.join(missing)}; found: {', '.join(frame.columns)}"
        raise InvalidInputError(msg, file=source, field=missing[0])
    if frame.empty:
        msg = "no readings in the file"
        raise InvalidInputError(msg, file=source)
    frame = frame.reset_index(drop=True)
    if "csv_bytes" not in frame.attrs and path.suffix.lower() not in (".parquet", ".pq"):
        frame.attrs["csv_bytes"] = raw  # for the line of a message (:func:`_line`)
    return frame, digest


def _validate(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for column in ("batch", "parameter"):
        values = frame[column].astype(str).str.strip()
        blank = values.eq("") | frame[column].isna()
        if blank.any():
            line = _line(frame, int(np.flatnonzero(blank.to_numpy())[0]))
            msg = f"line {line}: {column} is empty"
            raise InvalidInputError(msg, file=source, field=column)
        out[column] = values
    numbers = pd.to_numeric(frame["value"], errors="coerce")
    bad = ~np.isfinite(numbers.to_numpy(dtype=float))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"line {_line(frame, i)}: value {frame['value'].iloc[i]!r} is not a finite number"
        raise InvalidInputError(msg, file=source, field="value")
    out["value"] = numbers.astype(float)
    out["timestamp"] = _timestamps(frame, source)
    out["unit"] = frame["unit"].fillna("").astype(str).str.strip()
    key = ["batch", "parameter", "timestamp"]
    dup = out.duplicated(key, keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        r = out.iloc[i]
        msg = (
            f"line {_line(frame, i)}: {r['batch']} / {r['parameter']} at "
            f"{r['timestamp'].isoformat()} appears twice in the file"
        )
        raise InvalidInputError(msg, file=source, field="timestamp")
    return out


def _timestamps(frame: pd.DataFrame, source: str) -> pd.Series:
    """The timestamp column as UTC instants; every value must carry its UTC offset.

    Offsets may differ between rows (a historian's export across a daylight-saving
    change has +01:00 and +02:00); a value without one is refused, not guessed.
    """
    column = frame["timestamp"]
    if isinstance(column.dtype, pd.DatetimeTZDtype):  # Parquet with a time zone
        return column.dt.tz_convert(UTC)
    if pd.api.types.is_datetime64_dtype(column.dtype):  # Parquet without one
        msg = (
            f"line {_line(frame, 0)}: timestamp {column.iloc[0]} has no UTC offset; store "
            "the column with a time zone (UTC)"
        )
        raise InvalidInputError(msg, file=source, field="timestamp")
    text = column.fillna("").astype(str).str.strip()
    stamps = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    no_offset = ~text.str.match(_HAS_OFFSET.pattern, flags=re.IGNORECASE).astype(bool)
    bad = (stamps.isna() | no_offset).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "has no UTC offset" if not pd.isna(stamps.iloc[i]) else "is not an ISO 8601 time"
        msg = (
            f"line {_line(frame, i)}: timestamp {text.iloc[i]!r} {what}; write it with its "
            "offset, e.g. 2026-03-02T08:00:00Z or 2026-03-02T09:00:00+01:00"
        )
        raise InvalidInputError(msg, file=source, field="timestamp")
    return stamps


def ingest_readings(
    uow: UnitOfWork, path: str | Path, *, allow_closed: bool = False
) -> IngestReport:
    """Validate a whole file of readings, then store every row (or none).

    Parameters
    ----------
    uow
        The unit of work (its actor is recorded on the :class:`Ingest`).
    path
        CSV or Parquet with columns ``batch, parameter, timestamp, value, unit``.
    allow_closed
        Accept readings for batches that are no longer in process (back-filling).
    """
    require(uow.actor, "process.ingest")
    source = str(path)
    frame, digest = read_readings(path)
    data = _validate(frame, source)
    session = uow.session
    wanted = [str(b) for b in data["batch"].unique()]
    batches: dict[str, int] = dict(
        session.execute(
            select(Batch.batch_code, Batch.id).where(Batch.batch_code.in_(wanted))
        ).all()
    )
    params = {p.name: p for p in session.scalars(select(ProcessParameter))}
    unknown_batch = ~data["batch"].isin(list(batches))
    if unknown_batch.any():
        i = int(np.flatnonzero(unknown_batch.to_numpy())[0])
        msg = f"line {_line(frame, i)}: no batch {data['batch'].iloc[i]!r}"
        raise InvalidInputError(msg, file=source, field="batch")
    unknown_param = ~data["parameter"].isin(list(params))
    if unknown_param.any():
        i = int(np.flatnonzero(unknown_param.to_numpy())[0])
        known = ", ".join(sorted(params)) or "none registered"
        msg = f"line {_line(frame, i)}: no parameter {data['parameter'].iloc[i]!r} ({known})"
        raise InvalidInputError(msg, file=source, field="parameter")
    if not allow_closed:
        closed = dict(
            session.execute(
                select(Batch.batch_code, Batch.status).where(
                    Batch.id.in_(list(batches.values())), Batch.status != BatchStatus.in_process
                )
            ).all()
        )
        if closed:
            i = int(np.flatnonzero(data["batch"].isin(list(closed)).to_numpy())[0])
            code = str(data["batch"].iloc[i])
            msg = (
                f"line {_line(frame, i)}: batch {code} is {closed[code]}, no longer in process; "
                "readings are for live batches (back-fill with allow_closed)"
            )
            raise InvalidInputError(msg, file=source, field="batch")
    _refuse_out_of_time(session, data, frame, batches, source)
    converted = _convert_units(data, frame, params, source)
    _refuse_impossible(data, frame, params, source)
    # What both databases store; the readings hash covers exactly the stored values.
    data["timestamp"] = data["timestamp"].dt.floor("us")
    was_sorted = bool(data["timestamp"].is_monotonic_increasing)
    data = data.sort_values(["timestamp", "batch", "parameter"], kind="stable")
    data["batch_id"] = data["batch"].map(batches)
    data["parameter_id"] = data["parameter"].map({n: p.id for n, p in params.items()})
    names = {
        "batch": {v: k for k, v in batches.items()},
        "parameter": {p.id: n for n, p in params.items()},
    }
    _refuse_stored(uow, data, names, source)
    ingest = uow.add(
        Ingest(
            source=Path(path).name,
            sha256=digest,
            n_readings=len(data),
            n_batches=int(data["batch_id"].nunique()),
            first_at=data["timestamp"].min().to_pydatetime(),
            last_at=data["timestamp"].max().to_pydatetime(),
            ingested_by_id=uow.actor.user_id,
            readings_sha256=readings_sha256(
                batch_id=data["batch_id"].to_numpy(),
                parameter_id=data["parameter_id"].to_numpy(),
                measured_at=data["timestamp"].dt.tz_localize(None).to_numpy(),
                value=data["value"].to_numpy(),
            ),
        )
    )
    _bulk_insert(uow, data, ingest.id)
    return IngestReport(
        ingest_id=ingest.id,
        source=source,
        sha256=digest,
        n_readings=len(data),
        n_batches=ingest.n_batches,
        n_parameters=int(data["parameter_id"].nunique()),
        resorted=not was_sorted,
        converted_units=tuple(converted),
    )


def _refuse_out_of_time(
    session: Session,
    data: pd.DataFrame,
    frame: pd.DataFrame,
    batches: dict[str, int],
    source: str,
) -> None:
    """A reading before its batch started, or in the future, is an error naming the line.

    A reading dated before the batch existed belongs to another batch or carries a
    wrong clock; one dated in the future cannot have been measured. Either would put
    the data of one lot into another's record (21 CFR 211.188, EU GMP Chapter 4.8).
    """
    started = {
        code: pd.Timestamp(at)
        for code, at in session.execute(
            select(Batch.batch_code, Batch.started_at).where(Batch.id.in_(list(batches.values())))
        ).all()
    }
    start = data["batch"].map(started)
    latest = pd.Timestamp(utcnow() + CLOCK_SKEW)
    early = (data["timestamp"] < start).to_numpy()
    late = (data["timestamp"] > latest).to_numpy()
    bad = early | late
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    row = data.iloc[i]
    at = row["timestamp"].isoformat()
    if early[i]:
        msg = (
            f"line {_line(frame, i)}: timestamp {at} is before batch {row['batch']} "
            f"started ({started[row['batch']].isoformat()})"
        )
    else:
        msg = (
            f"line {_line(frame, i)}: timestamp {at} is in the future (now is "
            f"{utcnow().isoformat(timespec='seconds')})"
        )
    raise InvalidInputError(msg, file=source, field="timestamp")


def _convert_units(
    data: pd.DataFrame, frame: pd.DataFrame, params: dict[str, ProcessParameter], source: str
) -> list[str]:
    notes = []
    for (name, unit), rows in data.groupby(["parameter", "unit"], sort=True):
        target = params[str(name)].unit
        if unit == target or (unit in ("", "1") and target in ("", "1")):
            continue
        try:
            # Affine (temperature offsets): y = a + b x from two points.
            a = convert(0.0, str(unit) or None, target or None)
            b = convert(1.0, str(unit) or None, target or None) - a
        except UnitProblem as exc:
            i = data.index.get_loc(rows.index[0])
            msg = f"line {_line(frame, int(i))}: {name} in {unit!r}: {exc}"
            raise InvalidInputError(msg, file=source, field="unit") from None
        data.loc[rows.index, "value"] = a + b * rows["value"]
        notes.append(f"{name}: {unit} -> {target}")
    return notes


def _refuse_impossible(
    data: pd.DataFrame, frame: pd.DataFrame, params: dict[str, ProcessParameter], source: str
) -> None:
    """Refuse a reading that its parameter's quantity cannot take (pH -7, -500 °C).

    Values are in the parameter's unit by now. ``%`` is a saturation here (dissolved
    oxygen exceeds 100 % air saturation under oxygen enrichment), so only 0 bounds it.
    The first impossible reading in file order is named.
    """
    checked = pd.Series(data["value"].to_numpy(dtype=float), index=data.index)
    bad = pd.Series(np.zeros(len(data), dtype=bool), index=data.index)
    quantities = {}
    for name, rows in data.groupby("parameter", sort=False):
        param = params[str(name)]
        quantity = quantity_for(param.unit or None, name=str(name), share=False)
        if quantity is None:
            continue
        quantities[str(name)] = quantity
        values = checked[rows.index]
        if quantity.name == "temperature":
            a = convert(0.0, param.unit, "degC")  # affine: y = a + b x
            values = a + (convert(1.0, param.unit, "degC") - a) * values
            checked[rows.index] = values
        if quantity.low is not None:
            bad[rows.index] |= (
                values <= quantity.low if quantity.low_open else values < quantity.low
            )
        if quantity.high is not None:
            bad[rows.index] |= values > quantity.high
    if not bad.any():
        return
    first = int(np.flatnonzero(bad.to_numpy())[0])
    name = str(data["parameter"].iloc[first])
    try:
        check_quantity(quantities[name], float(checked.iloc[first]), field="value")
    except InvalidInputError as exc:
        msg = f"line {_line(frame, first)}: {name}: {exc.reason}"
        raise InvalidInputError(msg, file=source, field="value") from None


def _refuse_stored(
    uow: UnitOfWork, data: pd.DataFrame, names: dict[str, dict[int, str]], source: str
) -> None:
    # One range query per (batch, parameter) on the unique index, then intersect in
    # memory: the cost follows the file, not the size of the readings table.
    for (batch_id, parameter_id), rows in data.groupby(["batch_id", "parameter_id"]):
        first, last = rows["timestamp"].min(), rows["timestamp"].max()
        have = uow.session.scalars(
            select(Reading.measured_at).where(
                Reading.batch_id == int(batch_id),
                Reading.parameter_id == int(parameter_id),
                Reading.measured_at >= first.to_pydatetime(),
                Reading.measured_at <= last.to_pydatetime(),
            )
        ).all()
        if not have:
            continue
        clash = set(pd.to_datetime(list(have), utc=True)) & set(rows["timestamp"])
        stored = (int(batch_id), int(parameter_id), min(clash).to_pydatetime()) if clash else None
        if stored is not None:
            at = pd.Timestamp(stored[2])
            row = data.index[
                (data["batch_id"] == stored[0])
                & (data["parameter_id"] == stored[1])
                & (data["timestamp"] == at)
            ]
            line = f"line {int(row[0]) + 2}: " if len(row) else ""
            msg = (
                f"file {source}, {line}{names['batch'][stored[0]]} / "
                f"{names['parameter'][stored[1]]} at {stored[2].isoformat()} is already "
                "stored; readings are never replaced"
            )
            raise RecordConflictError(msg)


def _bulk_insert(uow: UnitOfWork, data: pd.DataFrame, ingest_id: int) -> None:
    conn = uow.session.connection()
    rows: list[tuple[Any, ...]] = list(
        zip(
            data["batch_id"].astype(int).tolist(),
            data["parameter_id"].astype(int).tolist(),
            [t.to_pydatetime() for t in data["timestamp"]],
            data["value"].astype(float).tolist(),
            [ingest_id] * len(data),
            strict=True,
        )
    )
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.driver_connection  # a psycopg 3 connection
        with (
            raw.cursor() as cur,
            cur.copy(
                "COPY readings (batch_id, parameter_id, measured_at, value, ingest_id) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    names = ("batch_id", "parameter_id", "measured_at", "value", "ingest_id")
    for start in range(0, len(rows), _CHUNK):
        chunk = [dict(zip(names, r, strict=True)) for r in rows[start : start + _CHUNK]]
        conn.execute(insert(Reading), chunk)

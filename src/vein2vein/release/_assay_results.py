"""Release-testing results: entry, instrument-export import, and the batch's current set."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidInputError, RecordConflictError
from ..records import (
    AssayResult,
    Batch,
    BatchStatus,
    Sample,
    UnitOfWork,
    canonical_json,
    require,
    sha256_hex,
    user_id_of,
    utcnow,
)
from ..specs import Result, Specification, UnreadableValue, check_result_value, parse_value
from ..support import Column, TableSchema, read_table

__all__ = [
    "ResultRow",
    "batch_context",
    "check_row_values",
    "current_results",
    "read_release_csv",
    "results_sha256",
    "store_result",
    "undecided_values",
]

_CLOSED = (BatchStatus.rejected, BatchStatus.infused)


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One result to enter for a batch (from the CLI or one row of an instrument export)."""

    batch: str
    analyte: str
    value: str
    unit: str | None = None
    method: str | None = None
    sample: str | None = None
    stage: str = "final_product"
    #: The line of the file the row was read from (``None`` when entered by hand).
    line: int | None = None


def store_result(uow: UnitOfWork, row: ResultRow) -> tuple[Batch, AssayResult]:
    """Store one result on its batch's sample (made on first use), audited."""
    require(uow.actor, "result.enter")
    entered_by = user_id_of(uow.actor)
    batch = uow.get(Batch, row.batch)
    if batch.status in _CLOSED:
        msg = f"batch {batch.batch_code} is {batch.status}; no more results can be entered"
        raise RecordConflictError(msg)
    if not row.analyte.strip():
        msg = "the analyte is blank"
        raise InvalidInputError(msg, field="analyte")
    if not row.value.strip():
        msg = f"the value of {row.analyte!r} is blank (write 'pending' if not yet known)"
        raise InvalidInputError(msg, field="value")
    code = row.sample or f"{batch.batch_code}-{row.stage.upper().replace('_', '-')}"
    sample = uow.session.scalars(select(Sample).where(Sample.sample_code == code)).first()
    if sample is None:
        sample = uow.add(
            Sample(sample_code=code, batch_id=batch.id, stage=row.stage, collected_at=utcnow())
        )
    elif sample.batch_id != batch.id:
        msg = f"sample {code} belongs to another batch"
        raise InvalidInputError(msg, field="sample")
    number: float | None
    try:
        number = float(row.value)
    except ValueError:
        number = None
    if number is not None and not math.isfinite(number):
        msg = f"the value of {row.analyte!r}, {row.value!r}, is not a finite number"
        raise InvalidInputError(msg, field="value")
    result = uow.add(
        AssayResult(
            sample_id=sample.id,
            analyte=row.analyte.strip(),
            method=row.method,
            value_text=row.value.strip(),
            value=number,
            unit=row.unit,
            entered_by_id=entered_by,
        )
    )
    return batch, result


def check_row_values(spec: Specification, rows: list[ResultRow], *, source: str | None) -> None:
    """Refuse rows whose numbers are not finite or not possible (before anything is stored).

    Each value is checked against the physical quantity its unit (or its item's unit)
    measures: viability 150 %, -500 °C, NaN or ``1e400`` are bad input, naming the
    file, the line and the field ``value``.
    """
    for row in rows:
        result = Result(analyte=row.analyte, value=row.value, unit=row.unit, stage=row.stage)
        check_result_value(spec, result, file=source, line=row.line, field="value")


def undecided_values(rows: list[ResultRow]) -> list[str]:
    """Why each stored row that no decision can use is so: its value is pending or unreadable.

    Such a row is stored as reported (the record keeps what the laboratory said), but
    the item stays pending, or its evaluation invalid, until a readable final result
    is entered; the shells say so and exit non-zero, so that scripts notice.

    Examples
    --------
    >>> undecided_values([ResultRow("B1", "vcn", "pending"), ResultRow("B1", "rcl", "n.d.?")])
    ["vcn: 'pending' is pending", "rcl: 'n.d.?' cannot be read as a result (invalid)"]
    """
    notes = []
    for row in rows:
        where = "" if row.line is None else f"line {row.line}: "
        try:
            parsed = parse_value(row.value)
        except UnreadableValue:
            notes.append(
                f"{where}{row.analyte}: {row.value!r} cannot be read as a result (invalid)"
            )
            continue
        if parsed.kind == "pending":
            notes.append(f"{where}{row.analyte}: {row.value!r} is pending")
    return notes


def _batch_results(session: Session, batch: Batch) -> list[AssayResult]:
    return list(
        session.scalars(
            select(AssayResult)
            .join(Sample, Sample.id == AssayResult.sample_id)
            .where(Sample.batch_id == batch.id, AssayResult.status != "invalidated")
            .order_by(AssayResult.id)
        )
    )


def current_results(session: Session, batch: Batch) -> list[AssayResult]:
    """The latest valid result of each analyte (a retest supersedes the earlier result)."""
    latest: dict[str, AssayResult] = {}
    for r in _batch_results(session, batch):
        latest[r.analyte] = r
    return sorted(latest.values(), key=lambda r: r.analyte)


def as_spec_results(rows: list[AssayResult]) -> list[Result]:
    """Stored results in the form the specification engine takes."""
    return [
        Result(analyte=r.analyte, value=r.value_text, unit=r.unit, method=r.method) for r in rows
    ]


def results_sha256(rows: list[AssayResult], context: Mapping[str, float] | None = None) -> str:
    """A fingerprint of a result set: any change or addition changes it.

    ``context`` is the dosing context (:func:`batch_context`) the results are judged
    with: per-kg limits depend on it, so a change of patient weight or dose volume
    after a review makes the review stale too.
    """
    payload: Any = [[r.id, r.analyte, r.value_text, r.unit, r.status] for r in rows]
    if context:
        payload = {"results": payload, "context": dict(sorted(context.items()))}
    return sha256_hex(canonical_json(payload))


def batch_context(batch: Batch) -> dict[str, float]:
    """Dose context for per-kg limits (patient weight, dose volume), where recorded."""
    context: dict[str, float] = {}
    if batch.patient_weight_kg is not None:
        context["patient_weight_kg"] = batch.patient_weight_kg
    if batch.dose_volume_ml is not None:
        context["dose_volume_ml"] = batch.dose_volume_ml
    return context


_COLUMNS = ("batch", "analyte", "value")
_OPTIONAL = ("unit", "method", "sample", "stage")
_SCHEMA: Final = TableSchema(
    (
        *(Column(name) for name in _COLUMNS),
        *(Column(name, required=False, blank=True) for name in _OPTIONAL),
    ),
    what="result rows",
    short_rows="pad",  # instrument exports leave trailing optional cells out
)


def read_release_csv(path: str | Path) -> list[ResultRow]:
    """Read an instrument export: columns ``batch,analyte,value[,unit,method,sample,stage]``.

    Column names are matched without regard to case. Every error names the file, the
    line and the column; nothing is returned unless every row is well formed. An
    unknown column, or a row with more fields than the header, is refused rather than
    dropped: a lost unit column would judge the value in the wrong unit.
    """
    frame = read_table(path, _SCHEMA)
    return [
        ResultRow(
            batch=record["batch"],
            analyte=record["analyte"],
            value=record["value"],
            unit=record.get("unit"),
            method=record.get("method"),
            sample=record.get("sample"),
            stage=record.get("stage") or "final_product",
            line=line,
        )
        for line, record in zip(frame.index.tolist(), frame.to_dict("records"), strict=True)
    ]

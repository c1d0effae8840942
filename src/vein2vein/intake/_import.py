"""Import an apheresis characterization and decide each donation against the intake spec.

The file holds one donation per row (CSV) or per object (JSON list): a ``din``
column, one column per analyte of the specification (optionally with the unit in
brackets, ``cd3_count [cells/uL]``), and an optional ``accept_with_deviation``
column whose text is the documented justification for accepting a donation that
fails its specification (for example a physician's request for a patient with no
other collection possible). A failing donation without one is rejected.

The whole file is one unit of work: any bad row stores nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select

from ..errors import IdentityError, InvalidInputError, RecordConflictError
from ..identity import parse_din
from ..records import (
    Deviation,
    Donation,
    DonationStatus,
    UnitOfWork,
    open_deviation,
    require,
)
from ..specs import (
    Decision,
    Outcome,
    Result,
    Specification,
    check_result_value,
    evaluate,
    store_decision,
)
from ..support import Column, TableSchema, read_table

__all__ = [
    "Characterization",
    "IntakeOutcome",
    "decide_intake",
    "import_intake",
    "read_characterizations",
    "record_intake_decision",
]

_RESERVED = {"din", "accept_with_deviation", "patient", "site", "notes"}
# The analyte columns are named by the specification, so they are kept as the file writes
# them; a donation without a row is not there, so trailing cells may be left out.
_CSV_SCHEMA: Final = TableSchema(
    tuple(Column(name, required=False, blank=True) for name in sorted(_RESERVED)),
    what="donations",
    extra="keep",
    short_rows="pad",
)
_HEADER = re.compile(r"^\s*(?P<analyte>[^\[\]]+?)\s*(?:\[(?P<unit>[^\]]+)\])?\s*$")


@dataclass(frozen=True, slots=True)
class Characterization:
    """One donation's characterization as read from the file."""

    din: str
    results: tuple[Result, ...]
    accept_with_deviation: str | None
    line: int  # the line of a CSV file, the item number of a JSON list


@dataclass(frozen=True, slots=True)
class IntakeOutcome:
    """The decision taken on one donation."""

    din: str
    status: DonationStatus
    decision: Decision
    evaluation_id: int
    deviation: str | None


def _where(n: int, *, is_json: bool) -> str:
    return f"item {n}" if is_json else f"line {n}"


def _columns(
    rows: list[tuple[int, dict[str, Any]]], spec: Specification, source: str, *, is_json: bool
) -> dict[str, tuple[str, str | None]]:
    analytes = {i.analyte for i in spec.items}
    columns: dict[str, tuple[str, str | None]] = {}
    for n, row in rows:
        for raw in row:
            if raw in _RESERVED or raw in columns:
                continue
            m = _HEADER.match(raw)
            analyte = m.group("analyte").strip() if m else raw
            if analyte not in analytes:
                # CSV: the header (line 1) names the column; JSON: the first item that has it.
                where = _where(n, is_json=True) if is_json else "line 1"
                msg = (
                    f"{where}: column {raw!r} is not a test of {spec.id}; "
                    f"one of: {', '.join(sorted(analytes))}"
                )
                raise InvalidInputError(msg, file=source, field=raw)
            columns[raw] = (analyte, m.group("unit").strip() if m and m.group("unit") else None)
    return columns


def _key(raw: str) -> str:
    # Reserved columns are matched without regard to case or surrounding blanks.
    key = raw.strip()
    return key.lower() if key.lower() in _RESERVED else key


def _rows_from_file(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The file's rows, each with its line (CSV) or item number (JSON)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read: {exc}"
        raise InvalidInputError(msg, file=str(path)) from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"line {exc.lineno}: not valid JSON: {exc.msg}"
            raise InvalidInputError(msg, file=str(path)) from None
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            msg = "expected a JSON list of objects, one per donation"
            raise InvalidInputError(msg, file=str(path))
        return [(n, {_key(str(k)): v for k, v in d.items()}) for n, d in enumerate(data, start=1)]
    frame = read_table(path, _CSV_SCHEMA, text=text)
    return [
        (line, {key: value for key, value in record.items() if value is not None})
        for line, record in zip(frame.index.tolist(), frame.to_dict("records"), strict=True)
    ]


def read_characterizations(path: str | Path, spec: Specification) -> list[Characterization]:
    """Read and validate a characterization file (CSV or JSON) against ``spec``'s analytes.

    Errors name the file, the row (line for CSV, item for JSON) and the column. A
    number that is not finite (NaN, ``1e400``) or not possible for its quantity
    (viability 150 %, a negative count) is refused here, before anything is stored.
    """
    path = Path(path)
    source = str(path)
    rows = _rows_from_file(path)
    if not rows:
        msg = "no donations in the file"
        raise InvalidInputError(msg, file=source)
    is_json = path.suffix.lower() == ".json"
    header = list(dict.fromkeys(k for _, r in rows for k in r))
    if "din" not in header:
        where = _where(1, is_json=is_json)
        msg = f"{where}: no 'din' column; found: {', '.join(header)}"
        raise InvalidInputError(msg, file=source, field="din")
    columns = _columns(rows, spec, source, is_json=is_json)
    out: list[Characterization] = []
    seen: set[str] = set()
    for n, row in rows:
        where = _where(n, is_json=is_json)
        try:
            din = parse_din(str(row.get("din") or "")).din13
        except IdentityError as exc:
            msg = f"{where}: {exc.reason}"
            raise IdentityError(msg, file=source, field="din") from None
        if din in seen:
            msg = f"{where}: DIN {din} appears twice"
            raise InvalidInputError(msg, file=source, field="din")
        seen.add(din)
        results = []
        for raw, (analyte, unit) in columns.items():
            value = row.get(raw)
            if value is None or str(value).strip() == "":
                continue  # not reported: the spec decides whether that is pending
            result = Result(analyte=analyte, value=str(value).strip(), unit=unit)
            try:
                check_result_value(spec, result, field=raw)
            except InvalidInputError as exc:
                msg = f"{where}: {exc.reason}"
                raise InvalidInputError(msg, file=source, field=raw) from None
            results.append(result)
        justification = str(row.get("accept_with_deviation") or "").strip() or None
        out.append(Characterization(din, tuple(results), justification, n))
    return out


def decide_intake(uow: UnitOfWork, item: Characterization, spec: Specification) -> IntakeOutcome:
    """Evaluate one donation and record the decision (status, evaluation, deviation).

    A donation is decided once: a decided one is refused ("already decided"); a value
    found wrong afterwards is corrected with :func:`~vein2vein.intake.correct_intake`.
    """
    require(uow.actor, "intake.decide")
    donation = uow.get(Donation, item.din)
    if donation.status is not DonationStatus.registered:
        msg = (
            f"donation {donation.din} was already decided ({donation.status}); correct a "
            "wrong value with `vein2vein intake correct`"
        )
        raise RecordConflictError(msg)
    return record_intake_decision(
        uow, donation, item.results, spec=spec, accept_with_deviation=item.accept_with_deviation
    )


def record_intake_decision(
    uow: UnitOfWork,
    donation: Donation,
    results: Sequence[Result],
    *,
    spec: Specification,
    accept_with_deviation: str | None,
    label: str = "intake",
) -> IntakeOutcome:
    """Evaluate ``results`` against ``spec`` and set the donation's status by the decision.

    The evaluation is stored (spec id, version, SHA-256, every item); a failing donation
    with a documented ``accept_with_deviation`` is accepted with a major deviation,
    without one it is rejected; pending or invalid results leave it ``registered``.
    The status change is audited with ``label`` and the reasons.
    """
    decision = evaluate(spec, list(results), stage="apheresis")
    evaluation = store_decision(uow, donation, decision, purpose="intake")
    deviation: Deviation | None = None
    if decision.outcome is Outcome.passed:
        status = DonationStatus.accepted
        reason = "meets the intake specification"
    elif decision.outcome is Outcome.failed and accept_with_deviation:
        status = DonationStatus.accepted_with_deviation
        reason = f"accepted with deviation: {accept_with_deviation}"
        deviation = open_deviation(
            uow,
            category="starting_material",
            severity="major",
            description=f"donation {donation.din} accepted outside its specification ("
            + "; ".join(decision.reasons)
            + f"); justification: {accept_with_deviation}",
            donation=donation,
        )
    elif decision.outcome is Outcome.failed:
        status = DonationStatus.rejected
        reason = "; ".join(decision.reasons)
    else:  # pending or invalid: no decision yet
        status = DonationStatus.registered
        reason = "; ".join(decision.reasons) or "no decision"
    if status is not donation.status:
        uow.change(donation, status=status, reason=f"{label} ({spec.id} v{spec.version}): {reason}")
    return IntakeOutcome(
        din=donation.din,
        status=status,
        decision=decision,
        evaluation_id=evaluation.id,
        deviation=deviation.code if deviation else None,
    )


def import_intake(uow: UnitOfWork, path: str | Path, spec: Specification) -> list[IntakeOutcome]:
    """Read a characterization file and decide every donation in it, in one unit of work."""
    items = read_characterizations(path, spec)
    known = set(
        uow.session.scalars(select(Donation.din).where(Donation.din.in_([i.din for i in items])))
    )
    is_json = Path(path).suffix.lower() == ".json"
    for item in items:
        if item.din not in known:
            msg = f"{_where(item.line, is_json=is_json)}: DIN {item.din} is not registered"
            raise InvalidInputError(msg, file=str(path), field="din")
    return [decide_intake(uow, item, spec) for item in items]

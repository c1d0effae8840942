"""The readings hash of an ingest: SHA-256 over its readings in canonical form.

Readings are stored in bulk and not audited row by row, so their
:class:`~vein2vein.records.Ingest` (audited) carries this hash, and ``audit verify``
recomputes it from the readings as stored: a reading inserted, deleted or changed in
the database is found. The form of one reading is
:func:`~vein2vein.records._statements.reading_line`; the lines are taken in the order
of (batch id, parameter id, time), the order of the readings' unique index.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from ._findings import VerifyReport
from ._schema import Reading
from ._statements import reading_line

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = ["check_readings", "readings_sha256"]

_CHUNK = 50_000
_READINGS_CHUNK = 20_000


def readings_sha256(
    *,
    batch_id: npt.ArrayLike,
    parameter_id: npt.ArrayLike,
    measured_at: npt.ArrayLike,
    value: npt.ArrayLike,
) -> str:
    """The readings hash of the given readings, as they will be stored.

    Parameters
    ----------
    batch_id, parameter_id
        Integer ids, one per reading.
    measured_at
        UTC instants as ``datetime64`` without a time zone; kept to the microsecond
        (what both databases store), so finer parts must already be dropped.
    value
        The values as doubles.

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import UTC, datetime
    >>> from vein2vein.records._statements import reading_line
    >>> t = np.array(["2026-03-02T08:00:00"], dtype="datetime64[us]")
    >>> line = reading_line(3, 1, datetime(2026, 3, 2, 8, tzinfo=UTC), 37.0)
    >>> digest = readings_sha256(batch_id=[3], parameter_id=[1], measured_at=t, value=[37.0])
    >>> digest == hashlib.sha256(line.encode()).hexdigest()
    True
    """
    batches = np.asarray(batch_id, dtype=np.int64)
    parameters = np.asarray(parameter_id, dtype=np.int64)
    stamps = np.asarray(measured_at).astype("datetime64[us]")
    values = np.asarray(value, dtype=np.float64) + 0.0  # -0.0 is written as 0.0
    order = np.lexsort((stamps, parameters, batches))
    digest = hashlib.sha256()
    for start in range(0, len(order), _CHUNK):
        rows = order[start : start + _CHUNK]
        lines = zip(
            batches[rows].tolist(),
            parameters[rows].tolist(),
            np.datetime_as_string(stamps[rows], unit="us").tolist(),
            values[rows].tolist(),
            strict=True,
        )
        digest.update("".join(f"{b},{p},{t}+00:00,{v!r}\n" for b, p, t, v in lines).encode())
    return digest.hexdigest()


def check_readings(
    session: Session, ingests: dict[int, tuple[str | None, int]], report: VerifyReport
) -> None:
    """Recompute every ingest's readings hash from the readings as stored, in one pass.

    ``ingests`` maps each ingest id to its recorded hash and number of readings.
    Findings: ``readings`` (hash differs; readings of no ingest), ``unhashed``.
    """
    hashers: dict[int, _Hash] = {}
    counts: Counter[int] = Counter()
    stmt = (
        select(
            Reading.ingest_id,
            Reading.batch_id,
            Reading.parameter_id,
            Reading.measured_at,
            Reading.value,
        )
        .order_by(Reading.batch_id, Reading.parameter_id, Reading.measured_at)
        .execution_options(yield_per=_READINGS_CHUNK)
    )
    for ingest_id, batch_id, parameter_id, measured_at, value in session.execute(stmt):
        hasher = hashers.get(ingest_id)
        if hasher is None:
            hasher = hashers[ingest_id] = hashlib.sha256()
        hasher.update(reading_line(batch_id, parameter_id, measured_at, value).encode("utf-8"))
        counts[ingest_id] += 1
    report.n_readings = sum(counts.values())
    for ingest_id, (expected, n_ingested) in sorted(ingests.items()):
        where = f"ingests:{ingest_id}"
        hasher = hashers.pop(ingest_id, None)
        found = (hasher or hashlib.sha256()).hexdigest()
        if expected is None:
            report.add(
                "unhashed", None, where, "carries no readings hash: its readings are unsealed"
            )
        elif found != expected:
            report.add(
                "readings",
                None,
                where,
                f"its readings differ from what was ingested ({counts[ingest_id]} stored, "
                f"{n_ingested} ingested; SHA-256 {found[:12]}... recorded {expected[:12]}...): "
                "readings were inserted, deleted or changed behind the application's back",
            )
    for ingest_id in sorted(hashers):
        report.add(
            "readings",
            None,
            f"ingests:{ingest_id}",
            f"{counts[ingest_id]} reading(s) belong to ingest {ingest_id}, which does not exist",
        )

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

import numpy as np
import numpy.typing as npt

__all__ = ["readings_sha256"]

_CHUNK = 50_000


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

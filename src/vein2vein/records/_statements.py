"""What each Ed25519 signature of the service key covers, in one place.

Each statement is a dict of JSON values; the key signs its canonical JSON
(:func:`~vein2vein.records.canonical_json`) as UTF-8. Timestamps are ISO 8601 UTC
with microseconds, as in the audit trail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._canonical import to_jsonable

__all__ = ["checkpoint_statement", "key_statement", "reading_line", "signature_statement"]


def checkpoint_statement(
    *, first_seq: int, seq: int, hash: str, key_id: str, signed_at: datetime | str
) -> dict[str, Any]:
    """A checkpoint: the application wrote entries ``first_seq``..``seq``; the head is ``hash``."""
    return {
        "first_seq": first_seq,
        "seq": seq,
        "hash": hash,
        "key_id": key_id,
        "signed_at": to_jsonable(signed_at),
    }


def signature_statement(
    *,
    record_table: str,
    record_id: int,
    user_id: int,
    printed_name: str,
    meaning: str,
    signed_at: datetime | str,
    content_hash: str,
    key_id: str,
) -> dict[str, Any]:
    """An electronic signature: which record, who, what it means, when, over what content."""
    return {
        "record_table": record_table,
        "record_id": record_id,
        "user_id": user_id,
        "printed_name": printed_name,
        "meaning": to_jsonable(meaning),
        "signed_at": to_jsonable(signed_at),
        "content_hash": content_hash,
        "key_id": key_id,
    }


def key_statement(
    *, key_id: str, public_key: str, activated_at: datetime | str, endorsed_by: str | None
) -> dict[str, Any]:
    """A key's record: signed by the key it succeeds (``endorsed_by``), or by itself."""
    return {
        "key_id": key_id,
        "public_key": public_key,
        "activated_at": to_jsonable(activated_at),
        "endorsed_by": endorsed_by,
    }


def reading_line(batch_id: int, parameter_id: int, measured_at: datetime, value: float) -> str:
    r"""One reading in the canonical form that an ingest's readings hash covers.

    ``batch_id,parameter_id,measured_at,value`` and a newline; the time as ISO 8601
    UTC with microseconds, the value as Python's shortest round-trip ``repr`` of the
    double (``-0.0`` written as ``0.0``, since SQLite may store it as integer 0).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> reading_line(3, 1, datetime(2026, 3, 2, 8, 0, tzinfo=UTC), 37.0)
    '3,1,2026-03-02T08:00:00.000000+00:00,37.0\n'
    """
    return f"{batch_id},{parameter_id},{to_jsonable(measured_at)},{float(value) + 0.0!r}\n"

"""The hash chain of the audit trail: what each entry's hash covers.

``hash = SHA-256(prev_hash + canonical JSON of the entry)``, with ``prev_hash`` of
the first entry :data:`GENESIS_HASH` (64 zeros).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._canonical import canonical_json, sha256_hex, to_jsonable

__all__ = ["GENESIS_HASH", "entry_hash", "entry_payload"]

GENESIS_HASH = "0" * 64


def entry_payload(
    *,
    seq: int,
    recorded_at: datetime | str,
    user_id: int | None,
    username: str,
    user_role: str,
    action: str,
    record_table: str,
    record_id: int,
    changes: dict[str, Any],
    after_image: dict[str, Any],
    reason: str | None,
) -> dict[str, Any]:
    """The fields of an entry that its hash covers, as JSON values."""
    return {
        "seq": seq,
        "recorded_at": to_jsonable(recorded_at),
        "user_id": user_id,
        "username": username,
        "user_role": user_role,
        "action": action,
        "record_table": record_table,
        "record_id": record_id,
        "changes": to_jsonable(changes),
        "after_image": to_jsonable(after_image),
        "reason": reason,
    }


def entry_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    """``SHA-256(prev_hash + canonical_json(payload))`` as 64 hex digits."""
    return sha256_hex(prev_hash + canonical_json(payload))

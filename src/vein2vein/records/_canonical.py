"""Canonical JSON and record images: the bytes that audit hashes and signatures cover."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

__all__ = ["canonical_json", "content_hash", "record_image", "sha256_hex", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Convert a column value to a JSON value that round-trips through both databases."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    msg = f"cannot put a value of type {type(value).__name__} into an audit image"
    raise TypeError(msg)


def canonical_json(payload: Any) -> str:
    """Serialise with sorted keys and no whitespace, so equal content gives equal bytes.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [True, None, 1.5]})
    '{"a":[true,null,1.5],"b":1}'
    """
    return json.dumps(
        to_jsonable(payload),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 bytes of ``text``, as 64 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_image(obj: object) -> dict[str, Any]:
    """The full after-image of a mapped object: every column, by attribute name.

    Columns a model lists in ``__redacted__`` (password hashes) are replaced by the
    SHA-256 of their value.
    """
    mapper = inspect(type(obj))
    redacted: frozenset[str] = getattr(obj, "__redacted__", frozenset())
    image = {}
    for attr in mapper.column_attrs:
        value = to_jsonable(getattr(obj, attr.key))
        if attr.key in redacted and value is not None:
            # Secrets never enter the trail; their digest still shows any change.
            value = "sha256:" + sha256_hex(str(value))
        image[attr.key] = value
    return image


def content_hash(obj: object) -> str:
    """SHA-256 over the canonical JSON of a record's image: what a signature covers.

    Empty (``None``) fields are left out, so a later migration that adds a nullable
    column does not invalidate signatures made before it. Fields a model lists in
    ``__unsigned__`` (a workflow status that later steps move on, such as a deviation
    going from acknowledged to closed) are not covered: those steps carry signatures
    of their own.
    """
    unsigned: frozenset[str] = getattr(obj, "__unsigned__", frozenset())
    image = {k: v for k, v in record_image(obj).items() if v is not None and k not in unsigned}
    return sha256_hex(canonical_json(image))

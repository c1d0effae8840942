"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["CLOCK_SKEW", "UTCDateTime", "utcnow"]

#: How far ahead of this machine's clock a reported time may be (another instrument's or
#: workstation's clock) before it counts as in the future and is refused.
CLOCK_SKEW: Final = timedelta(minutes=5)


def utcnow() -> datetime:
    """Now, timezone-aware UTC, with microseconds (the resolution both databases keep)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zones and returns naive values; PostgreSQL's ``timestamptz``
    returns aware ones. Normalising both to aware UTC keeps audit hashes identical
    on either database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"naive datetime {value.isoformat()} given; use a timezone-aware UTC time"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        # SQLite stores the text as given; keep it naive UTC so ordering is lexical.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return aware UTC whatever the driver gave."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            msg = f"the database driver returned {type(value).__name__}, not a datetime"
            raise TypeError(msg)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

"""Logging with the ``start = log.info(...)`` / ``finished (elapsed)`` idiom.

Examples
--------
>>> from vein2vein import logging as v2vlog
>>> start = v2vlog.info("loading")
>>> v2vlog.info("finished", time=start) is not None
True
"""

from __future__ import annotations

import logging as _logging
from datetime import UTC, datetime

__all__ = ["get_logger", "info", "warning"]

_LOGGER = _logging.getLogger("vein2vein")


def get_logger() -> _logging.Logger:
    """The package logger, ``vein2vein``."""
    return _LOGGER


def _elapsed(start: datetime) -> str:
    seconds = (datetime.now(UTC) - start).total_seconds()
    return f"{seconds:.2f}s" if seconds < 60 else f"{seconds / 60:.1f}min"


def info(msg: str, *, time: datetime | None = None) -> datetime:
    """Log ``msg`` at INFO; with ``time`` append the elapsed time. Returns now (UTC)."""
    if time is not None:
        msg = f"{msg} ({_elapsed(time)})"
    _LOGGER.info(msg)
    return datetime.now(UTC)


def warning(msg: str) -> datetime:
    """Log ``msg`` at WARNING. Returns now (UTC)."""
    _LOGGER.warning(msg)
    return datetime.now(UTC)

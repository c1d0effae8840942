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

from .errors import Vein2veinWarning

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


def warning(msg: str, *, category: type[Vein2veinWarning] = Vein2veinWarning) -> datetime:
    """Log ``msg`` at WARNING with its domain warning class. Returns now (UTC).

    The class is on the log record as ``record.category`` (a subclass of
    :class:`~vein2vein.errors.Vein2veinWarning`), so handlers can filter by kind.
    """
    _LOGGER.warning(msg, extra={"category": category})
    return datetime.now(UTC)

"""Test helpers shipped with vein2vein: factories and assertions, and a pytest plugin.

The plugin (:mod:`vein2vein.testing._plugin`) is registered as a pytest entry point
and provides the ``db``, ``admin``, ``network`` fixtures. The factories work on any
:class:`~vein2vein.records.Database`, so users can test their own extensions against
a real system of record.
"""

from __future__ import annotations

from ._cli import Cli, CliResult, assert_ok
from ._factories import (
    PASSING_INTAKE,
    PASSING_RELEASE,
    PASSWORD,
    Network,
    accept_donations,
    assert_records_equal,
    make_batch,
    make_donation,
    make_network,
)

__all__ = [
    "PASSING_INTAKE",
    "PASSING_RELEASE",
    "PASSWORD",
    "Cli",
    "CliResult",
    "Network",
    "accept_donations",
    "assert_ok",
    "assert_records_equal",
    "make_batch",
    "make_donation",
    "make_network",
]

"""Shared fixtures come from the vein2vein.testing pytest plugin (db, any_db, network).

Tests that need the real data sets of ``../shared/data`` (beside the repository, see the
README) skip when they are absent, with a reason that starts with
:data:`SHARED_DATA_SKIP`; the run's summary then says how many skipped and which data
sets were missing, so that a run without the data does not pass for a full one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

#: How every skip for want of ``../shared/data`` begins its reason.
SHARED_DATA_SKIP = "shared data folder missing"
_DATA_SET = re.compile(r"shared/data/([\w.-]+)")


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def shared_data_summary(reports: Iterable[pytest.TestReport]) -> str | None:
    """The summary line for the skips for want of ``../shared/data``; None without any."""
    reasons = [_reason(r) for r in reports]
    missing = [r for r in reasons if SHARED_DATA_SKIP in r]
    if not missing:
        return None
    sets = sorted({m.group(1) for r in missing for m in _DATA_SET.finditer(r)})
    which = f" ({', '.join(sets)})" if sets else ""
    return (
        f"{len(missing)} tests skipped: ../shared/data is absent{which}; "
        "see the README, 'Two commands'"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests skipped because ``../shared/data`` is absent, and why."""
    line = shared_data_summary(terminalreporter.stats.get("skipped", []))
    if line is not None:
        terminalreporter.write_sep("=", line, yellow=True)

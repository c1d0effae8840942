"""How a CLI test authenticates: log the users in, then ``vein2vein -u NAME ...``.

``cli_sessions`` points ``VEIN2VEIN_SESSION_DIR`` at a folder of the test and returns
``login(database, *usernames)``; after ``login(url)`` (every active user) or
``login(url, "operator")``, ``vein2vein -u NAME ...`` acts with NAME's session, as after
``vein2vein -u NAME login``. Module-scoped templates call
:func:`vein2vein.cli.sessions.open_cli_sessions` with a folder of their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vein2vein.cli.sessions import CliSessions, open_cli_sessions
from vein2vein.records import Database


@pytest.fixture
def cli_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliSessions:
    """Log users in for this test's CLI calls: ``cli_sessions(url)`` logs in everyone."""
    folder = tmp_path / "cli-sessions"
    monkeypatch.setenv("VEIN2VEIN_SESSION_DIR", str(folder))

    def login(database: Database | str, *usernames: str) -> list[str]:
        return open_cli_sessions(database, *usernames, folder=folder)

    return login

"""How a CLI test runs a command and authenticates its user.

``cli`` runs ``vein2vein.cli.main`` in-process from the test's folder and returns a
:class:`~vein2vein.testing.CliResult`. ``cli_sessions`` points ``VEIN2VEIN_SESSION_DIR``
at a folder of the test and returns ``login(database, *usernames)``; after
``login(url)`` (every active user) or ``login(url, "operator")``, ``vein2vein -u NAME
...`` acts with NAME's session, as after ``vein2vein -u NAME login``. Module-scoped templates call
:func:`vein2vein.cli.sessions.open_cli_sessions` with a folder of their own.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from vein2vein.cli import main
from vein2vein.cli.sessions import CliSessions, open_cli_sessions
from vein2vein.records import Database
from vein2vein.testing import Cli, CliResult

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """``cli("-u", "qa-reviewer", "release", ..., stdin="pw\\n")``: run ``main`` and capture.

    It runs in the test's folder (no stray ``vein2vein.toml`` or ``vein2vein.db`` is
    picked up) without ``VEIN2VEIN_USER`` or ``VEIN2VEIN_CONFIG`` from the caller's shell.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VEIN2VEIN_USER", raising=False)
    monkeypatch.delenv("VEIN2VEIN_CONFIG", raising=False)

    def run(*args: str, stdin: str | None = None) -> CliResult:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin or ""))
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return CliResult(code, _ANSI.sub("", out), _ANSI.sub("", err))

    return run


@pytest.fixture
def cli_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliSessions:
    """Log users in for this test's CLI calls: ``cli_sessions(url)`` logs in everyone."""
    folder = tmp_path / "cli-sessions"
    monkeypatch.setenv("VEIN2VEIN_SESSION_DIR", str(folder))

    def login(database: Database | str, *usernames: str) -> list[str]:
        return open_cli_sessions(database, *usernames, folder=folder)

    return login

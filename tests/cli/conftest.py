"""Fixtures for driving the ``vein2vein`` CLI in-process against a real SQLite file."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vein2vein.cli import main

ADMIN_PW = "admin-password-1"
OP_PW = "operator-password-1"
QC_PW = "qc-analyst-password-1"

# DINs with their ISBT 128 keyboard check characters (ST-001 ISO/IEC 7064 MOD 37-2).
DIN1 = "W0000 26 000001 00 F"
DIN1_13 = "W000026000001"
DIN2 = "W0000 26 000002 00 D"
DIN2_13 = "W000026000002"
BATCH1 = f"HUB-A-{DIN1_13}"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Result:
    """Exit code and output of one CLI call."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """stdout and stderr with rich's line wrapping undone (whitespace collapsed)."""
        return " ".join(f"{self.out}\n{self.err}".split())

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Result]


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A not-yet-created SQLite file that the CLI uses through VEIN2VEIN_DATABASE_URL."""
    path = tmp_path / "v2v.db"
    monkeypatch.chdir(tmp_path)  # no stray vein2vein.toml or vein2vein.db is picked up
    monkeypatch.delenv("VEIN2VEIN_USER", raising=False)
    monkeypatch.delenv("VEIN2VEIN_CONFIG", raising=False)
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("audit", "verify", stdin="pw\\n")``: run ``vein2vein.cli.main`` and capture."""

    def run(*args: str, stdin: str | None = None) -> Result:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin or ""))
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, _ANSI.sub("", out), _ANSI.sub("", err))

    return run


def ok(result: Result) -> Result:
    """Assert a CLI call succeeded (showing its output if not)."""
    assert result.code == 0, result.text
    return result


@pytest.fixture
def world(db_path: Path, cli: Cli) -> Path:
    """Initialised database: admin, sites HUB-A (W0000) and HUB-B (A9999), users op
    (operator at HUB-A) and qc (qc_analyst), patient PT-1, donation DIN1 and its batch."""
    ok(cli("init", "--admin", "admin", "--password-stdin", stdin=f"{ADMIN_PW}\n"))
    ok(cli("-u", "admin", "site", "add", "HUB-A", "--name", "Hub A", "--fin", "W0000"))
    ok(cli("-u", "admin", "site", "add", "HUB-B", "--name", "Hub B", "--fin", "A9999"))
    for username, name, role, pw, site in (
        ("op", "Otto Operator", "operator", OP_PW, ["--site", "HUB-A"]),
        ("qc", "Quincy Analyst", "qc_analyst", QC_PW, []),
    ):
        ok(
            cli(
                *("-u", "admin", "user", "add", username, "--name", name, "--role", role),
                *site,
                "--password-stdin",
                stdin=f"{pw}\n",
            )
        )
    ok(cli("-u", "op", "patient", "add", "PT-1", "--site", "HUB-A"))
    ok(
        cli(
            *("-u", "op", "donation", "register", DIN1, "--patient", "PT-1", "--site", "HUB-A"),
            *("--collected-at", "2026-03-02T08:00:00Z", "--volume-ml", "250"),
        )
    )
    ok(
        cli(
            *("-u", "op", "batch", "start", DIN1_13, "--site", "HUB-A"),
            *("--product", "anti-CD19 CAR-T", "--started-at", "2026-03-02T10:00:00Z"),
        )
    )
    return db_path


def table_counts(path: Path) -> dict[str, int]:
    """Rows in every table of the SQLite file, read behind the application's back."""
    with closing(sqlite3.connect(path)) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def execute(path: Path, *statements: str) -> None:
    """Run SQL on the SQLite file directly (a tamperer's view) and commit."""
    with closing(sqlite3.connect(path)) as con:
        for sql in statements:
            con.execute(sql)
        con.commit()


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as con:
        return con.execute(sql, params).fetchall()

"""The `process` and `deviation` commands, run in-process against a real SQLite file.

Templates are built once per module and copied per test: ``world`` (users, six
batches, reading files), ``configured`` (+ parameters, through the CLI) and ``loaded``
(+ readings and Phase I limits, through the CLI).
"""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vein2vein.cli import main
from vein2vein.cli.sessions import CliSessions, open_cli_sessions
from vein2vein.records import Database
from vein2vein.simulate._sensors import Fault, synthetic_trajectories
from vein2vein.testing import PASSWORD, Cli, assert_ok, make_batch, make_network

LIVE_START = datetime(2026, 3, 10, tzinfo=UTC)


@dataclass(frozen=True)
class Files:
    """Batch codes and the reading files the tests ingest."""

    baseline: list[str]
    clean: str
    faulty: str  # a temperature step from 12 h
    readings: Path  # every batch, temperature, CSV
    kelvin: Path  # two more hours of the clean batch, in kelvin


def _env(mp: pytest.MonkeyPatch, path: Path) -> None:
    mp.chdir(path.parent)  # no stray vein2vein.toml or vein2vein.db is picked up
    mp.delenv("VEIN2VEIN_USER", raising=False)
    mp.delenv("VEIN2VEIN_CONFIG", raising=False)
    mp.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{path}")


def _copy(source: Path, target: Path) -> Path:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return target


def _build(source: Path | None, target: Path, steps: Sequence[tuple[str, ...]]) -> Path:
    """Copy ``source`` to ``target`` and run CLI ``steps`` (argv tuples) on it."""
    if source is not None:
        _copy(source, target)
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, target)
        sessions = target.parent / f"{target.stem}-sessions"
        mp.setenv("VEIN2VEIN_SESSION_DIR", str(sessions))
        open_cli_sessions(f"sqlite:///{target}", folder=sessions)  # -u NAME: NAME's session
        for argv in steps:
            mp.setattr("sys.stdin", io.StringIO(""))
            assert main(list(argv)) == 0, argv
    return target


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Files]:
    """The world: users (password PASSWORD), six batches and reading files."""
    folder = tmp_path_factory.mktemp("process-cli")
    path = folder / "world.db"
    db = Database(f"sqlite:///{path}")
    try:
        net = make_network(db)
        codes = [make_batch(net).batch_code for _ in range(6)]
    finally:
        db.dispose()
    baseline, clean, faulty = codes[:4], codes[4], codes[5]
    starts = [(c, LIVE_START - timedelta(days=7)) for c in baseline]
    starts += [(clean, LIVE_START), (faulty, LIVE_START)]
    data = synthetic_trajectories(
        starts, seed=3, hours=36, faults={faulty: Fault("temp_step", start_h=12.0, size=0.6)}
    )
    data = data[data["parameter"] == "temperature"].copy()
    data["timestamp"] = data["timestamp"].map(lambda t: t.isoformat())
    data.to_csv(folder / "readings.csv", index=False)
    kelvin = folder / "kelvin.csv"
    kelvin.write_text(
        "batch,parameter,timestamp,value,unit\n"
        f"{clean},temperature,2026-03-11T13:00:00Z,310.16,K\n"
        f"{clean},temperature,2026-03-11T12:30:00Z,310.14,K\n",
        encoding="utf-8",
    )
    return path, Files(baseline, clean, faulty, folder / "readings.csv", kelvin)


_ADD = ("-u", "qa-reviewer", "process", "parameter", "add")
PARAMETERS = [
    (*_ADD, "temperature", "--unit", "degC", "--step", "expansion"),
    (*_ADD, "ph", "--unit", "", "--step", "expansion"),
]


@pytest.fixture(scope="module")
def configured(files: tuple[Path, Files]) -> Path:
    world, _ = files
    return _build(world, world.parent / "configured.db", PARAMETERS)


@pytest.fixture(scope="module")
def loaded(files: tuple[Path, Files], configured: Path) -> Path:
    _, f = files
    batches = ",".join(f.baseline)
    return _build(
        configured,
        configured.parent / "loaded.db",
        [
            ("-u", "operator", "process", "ingest", str(f.readings)),
            (
                "-u",
                "qa-reviewer",
                "process",
                "baseline",
                "set",
                "temperature",
                "--batches",
                batches,
            ),
        ],
    )


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_sessions: CliSessions) -> Path:
    """This test's SQLite file, used by the CLI through VEIN2VEIN_DATABASE_URL."""
    path = tmp_path / "v2v.db"
    _env(monkeypatch, path)
    return path


def from_template(template: Path, db_path: Path) -> Path:
    """Copy a template into this test's file; every user is logged in (``-u NAME``)."""
    _copy(template, db_path)
    open_cli_sessions(f"sqlite:///{db_path}", folder=Path(os.environ["VEIN2VEIN_SESSION_DIR"]))
    return db_path


def counts(path: Path) -> dict[str, int]:
    """Rows of the process records and their audit entries.

    Password attempts (access events, the user's failure count) are left out: a
    refused command still records its failed or reset attempt.
    """
    tables = (
        "audit_entries WHERE record_table NOT IN ('users', 'access_events')",
        "readings",
        "ingests",
        "process_parameters",
        "control_limit_sets",
        "deviations",
        "signatures",
    )
    with closing(sqlite3.connect(path)) as conn:
        return {
            t.split()[0]: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables
        }


# ---------------------------------------------------------------- parameters, ingest


def test_parameter_add(cli: Cli, db_path: Path, files: tuple[Path, Files]) -> None:
    from_template(files[0], db_path)
    r = assert_ok(cli(*PARAMETERS[0]))
    assert "parameter temperature [degC] (expansion) registered" in r.text
    before = counts(db_path)
    add = ("process", "parameter", "add")
    for argv, code in [
        (PARAMETERS[0], 2),  # already exists
        (("-u", "qa-reviewer", *add, "co2", "--unit", "furlongs/^", "--step", "expansion"), 2),
        (("-u", "qa-reviewer", *add, "co2", "--unit", "%", "--step", " "), 2),
        (("-u", "operator", *add, "co2", "--unit", "%", "--step", "expansion"), 3),
    ]:
        r = cli(*argv)
        assert r.code == code, r.text
        assert "error:" in r.err
    assert counts(db_path) == before


def test_ingest(cli: Cli, db_path: Path, files: tuple[Path, Files], configured: Path) -> None:
    from_template(configured, db_path)
    f = files[1]
    r = assert_ok(cli("-u", "operator", "process", "ingest", str(f.readings), "--json"))
    payload = r.json()
    assert payload["sha256"] == hashlib.sha256(f.readings.read_bytes()).hexdigest()
    assert (payload["readings"], payload["batches"], payload["parameters"]) == (6 * 73, 6, 1)
    assert payload["resorted"] is True  # the file runs batch by batch
    assert payload["converted_units"] == []

    r = assert_ok(cli("-u", "qc-analyst", "process", "ingest", str(f.kelvin)))
    assert "2 readings of 1 parameter(s) for 1 batch(es) stored (rows re-sorted by time)" in r.text
    assert "converted temperature: K -> degC" in r.text
    with closing(sqlite3.connect(db_path)) as conn:
        ingests = conn.execute("SELECT source, sha256 FROM ingests ORDER BY id").fetchall()
    assert ingests == [
        ("readings.csv", payload["sha256"]),
        ("kelvin.csv", hashlib.sha256(f.kelvin.read_bytes()).hexdigest()),
    ]


def test_ingest_refused(
    cli: Cli, db_path: Path, files: tuple[Path, Files], configured: Path, tmp_path: Path
) -> None:
    from_template(configured, db_path)
    f = files[1]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "batch,parameter,timestamp,value,unit\n"
        f"{f.clean},temperature,2026-03-11T13:00:00Z,37.0,degC\n"
        f"{f.clean},temperature,2026-03-11T14:00:00,37.1,degC\n",
        encoding="utf-8",
    )
    before = counts(db_path)

    r = cli("-u", "operator", "process", "ingest", str(bad), "--json")
    assert r.code == 2, r.text
    assert f"file {bad}" in r.text
    assert "field 'timestamp': line 3:" in r.text
    assert r.out == ""
    r = cli("-u", "admin", "process", "ingest", str(f.readings))
    assert r.code == 3, r.text
    r = cli("-u", "operator", "process", "ingest", str(tmp_path / "absent.csv"))
    assert r.code == 2, r.text
    assert counts(db_path) == before


# ---------------------------------------------------------------- limits, monitor, chart


def test_baseline_set(cli: Cli, db_path: Path, files: tuple[Path, Files], loaded: Path) -> None:
    from_template(loaded, db_path)  # holds version 1, set in the template
    f = files[1]
    batches = ",".join(f.baseline[:3])
    argv = ("-u", "qa-reviewer", "process", "baseline", "set", "temperature", "--batches")
    limits = assert_ok(cli(*argv, batches, "--json")).json()
    assert (limits["version"], limits["active"]) == (2, True)
    assert limits["baseline_batches"] == f.baseline[:3]
    assert limits["params"]["window"] == "1h"
    assert limits["lcl"] < limits["center"] < limits["ucl"]
    r = assert_ok(cli(*argv, f"{batches},{f.baseline[3]}", "--window", "2h"))
    assert "temperature limits v3: center" in r.text
    assert "from 4 batches" in r.text

    before = counts(db_path)
    for args, code in [
        ((*argv, f.baseline[0]), 2),  # one batch is not a baseline
        ((*argv, f"{f.baseline[0]},HUB-A-NOPE"), 2),
        ((*argv, batches, "--window", "soon"), 2),
        ((*argv[:2], "process", "baseline", "set", "glucose", "--batches", batches), 2),
        (("-u", "operator", *argv[2:], batches), 3),
    ]:
        r = cli(*args)
        assert r.code == code, (args, r.text)
    assert counts(db_path) == before


def test_monitor(
    cli: Cli, db_path: Path, files: tuple[Path, Files], loaded: Path, tmp_path: Path
) -> None:
    from_template(loaded, db_path)
    f = files[1]
    severity = tmp_path / "severity.yaml"
    severity.write_text("temperature:\n  N1: major\n", encoding="utf-8")

    payload = assert_ok(
        cli("-u", "operator", "process", "monitor", "--severity", str(severity), "--json")
    ).json()

    assert payload["batches"] == 6
    assert payload["series"] == 2  # the baseline batches' readings are older than 48 h
    [new] = payload["new_deviations"]
    assert (new["batch"], new["parameter"], new["rule"]) == (f.faulty, "temperature", "N1")
    start = datetime.fromisoformat(new["window"][0])
    assert start >= LIVE_START + timedelta(hours=12)
    listed = assert_ok(cli("-u", "operator", "deviation", "list", "--json")).json()
    assert [(d["code"], d["severity"], d["status"]) for d in listed] == [
        (new["deviation"], "major", "open")
    ]
    assert listed[0]["source"] == "spc:temperature:N1"

    before = counts(db_path)
    again = assert_ok(cli("-u", "qc-analyst", "process", "monitor", "--json")).json()
    assert again["new_deviations"] == []
    r = assert_ok(cli("-u", "qa-reviewer", "process", "monitor"))
    assert "6 live batches, 2 series checked" in r.text
    bad = tmp_path / "bad.yaml"
    bad.write_text("N1: urgent\n", encoding="utf-8")
    for args, code in [
        (("-u", "operator", "process", "monitor", "--severity", str(bad)), 2),
        (("-u", "admin", "process", "monitor"), 3),
    ]:
        r = cli(*args)
        assert r.code == code, r.text
    assert counts(db_path) == before


def test_chart(
    cli: Cli, db_path: Path, files: tuple[Path, Files], loaded: Path, tmp_path: Path
) -> None:
    from_template(loaded, db_path)
    f = files[1]
    out = tmp_path / "chart.png"
    r = assert_ok(
        cli("-u", "operator", "process", "chart", f.faulty, "temperature", "--out", str(out))
    )
    assert "chart written to" in r.text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "chart.svg"
    assert_ok(cli("process", "chart", f.clean, "temperature", "--out", str(svg)))
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    for batch, parameter in [(f.faulty, "ph"), ("HUB-A-NOPE", "temperature"), (f.clean, "co2")]:
        missing = tmp_path / f"{parameter}.png"
        r = cli("process", "chart", batch, parameter, "--out", str(missing))
        assert r.code == 2, r.text
        assert not missing.exists()


# ---------------------------------------------------------------- deviations


@pytest.fixture
def signalled(cli: Cli, db_path: Path, loaded: Path) -> Iterator[str]:
    """A copy of ``loaded`` after one monitoring tick; yields the deviation's code."""
    from_template(loaded, db_path)
    [new] = assert_ok(cli("-u", "operator", "process", "monitor", "--json")).json()[
        "new_deviations"
    ]
    yield new["deviation"]


def status(cli: Cli, code: str) -> str:
    rows = assert_ok(cli("-u", "operator", "deviation", "list", "--json")).json()
    return str(next(d["status"] for d in rows if d["code"] == code))


def test_deviation_acknowledge_and_close(cli: Cli, db_path: Path, signalled: str) -> None:
    code = signalled
    ack = ("deviation", "ack", code, "--comment", "probe checked", "--password-stdin")
    close = ("deviation", "close", code, "--resolution", "probe replaced", "--password-stdin")
    before = counts(db_path)
    for args, stdin, exit_code in [
        (("-u", "operator", *ack), "wrong password\n", 3),
        (("-u", "admin", *ack), f"{PASSWORD}\n", 3),
        (("-u", "operator", *ack[:3], "--comment", " ", "--password-stdin"), f"{PASSWORD}\n", 2),
        (("-u", "operator", *ack), "", 2),  # no password on stdin
        (("-u", "operator", "deviation", "ack", "DEV-999999", *ack[3:]), f"{PASSWORD}\n", 2),
    ]:
        r = cli(*args, stdin=stdin)
        assert r.code == exit_code, (args, r.text)
    assert counts(db_path) == before
    assert status(cli, code) == "open"

    r = assert_ok(cli("-u", "operator", *ack, stdin=f"{PASSWORD}\n"))
    assert f"{code} acknowledged by operator" in r.text
    assert status(cli, code) == "acknowledged"
    listed = assert_ok(cli("deviation", "list", "--status", "acknowledged", "--json")).json()
    assert [d["code"] for d in listed] == [code]

    before = counts(db_path)
    for args, stdin, exit_code in [
        (("-u", "operator", *close), f"{PASSWORD}\n", 3),
        (("-u", "qa-reviewer", *close), "wrong password\n", 3),
        (
            ("-u", "qa-reviewer", *close[:3], "--resolution", "", "--password-stdin"),
            f"{PASSWORD}\n",
            2,
        ),
    ]:
        r = cli(*args, stdin=stdin)
        assert r.code == exit_code, (args, r.text)
    assert counts(db_path) == before

    r = assert_ok(cli("-u", "qa-reviewer", *close, stdin=f"{PASSWORD}\n"))
    assert f"{code} closed by qa-reviewer" in r.text
    assert status(cli, code) == "closed"
    r = cli("-u", "qa-reviewer", *close, stdin=f"{PASSWORD}\n")
    assert r.code == 2
    assert "already closed" in r.text
    shown = assert_ok(cli("audit", "show", f"deviation:{code}", "--json")).json()
    assert [s["meaning"] for s in shown["signatures"]] == ["reviewed", "approved"]
    assert shown["signatures"][1]["valid"] is True


def test_deviation_list(cli: Cli, db_path: Path, signalled: str) -> None:
    r = assert_ok(cli("deviation", "list"))
    assert signalled in r.text
    assert "process_signal" in r.text
    assert assert_ok(cli("deviation", "list", "--status", "closed", "--json")).json() == []
    r = cli("deviation", "list", "--status", "pending")
    assert r.code == 2
    assert "unknown status 'pending'" in r.text

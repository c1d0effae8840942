"""The `vein2vein` command line, run in-process against a real SQLite file."""

from __future__ import annotations

import io
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from vein2vein.cli import main
from vein2vein.cli.sessions import CliSessions
from vein2vein.errors import ReasonRequiredError
from vein2vein.records import Database, Donation
from vein2vein.testing import PASSING_INTAKE, Cli, assert_ok

ADMIN_PW = "stapler-orbit-41x"
OP_PW = "bench-tulip-radio-7"
QC_PW = "quiet-harbor-lamp-9"

# DINs with their ISBT 128 keyboard check characters (ST-001 ISO/IEC 7064 MOD 37-2).
DIN1 = "W0000 26 000001 00 F"
DIN1_13 = "W000026000001"
DIN2 = "W0000 26 000002 00 D"
DIN2_13 = "W000026000002"
BATCH1 = f"HUB-A-{DIN1_13}"


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_sessions: CliSessions) -> Path:
    """A not-yet-created SQLite file that the CLI uses through VEIN2VEIN_DATABASE_URL.

    Login sessions go to a folder of this test (``cli_sessions`` sets it).
    """
    path = tmp_path / "v2v.db"
    monkeypatch.chdir(tmp_path)  # no stray vein2vein.toml or vein2vein.db is picked up
    monkeypatch.delenv("VEIN2VEIN_USER", raising=False)
    monkeypatch.delenv("VEIN2VEIN_CONFIG", raising=False)
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{path}")
    return path


def write_intake(path: Path, *dins: str) -> Path:
    """A characterization file that meets the intake specification for ``dins``."""
    header = ["din"] + [f"{a} [{u}]" if u else a for a, (_, u) in PASSING_INTAKE.items()]
    rows = [[din] + [v for v, _ in PASSING_INTAKE.values()] for din in dins]
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def build_world(run: Callable[..., int]) -> None:
    """Admin, sites HUB-A (W0000) and HUB-B (A9999), users op (operator at HUB-A) and qc
    (qc_analyst), patient PT-1, donation DIN1 (accepted at intake) and its batch BATCH1,
    all through the CLI (in the working folder), each user logged in with their password."""
    write_intake(Path("intake-din1.csv"), DIN1_13)
    steps = [
        ("init --admin admin --password-stdin", f"{ADMIN_PW}\n"),
        ("-u admin login --password-stdin", f"{ADMIN_PW}\n"),
        ("-u admin site add HUB-A --name 'Hub A' --fin W0000", ""),
        ("-u admin site add HUB-B --name 'Hub B' --fin A9999", ""),
        (
            "-u admin user add op --name 'Otto Operator' --role operator --site HUB-A"
            " --password-stdin",
            f"{OP_PW}\n",
        ),
        (
            "-u admin user add qc --name 'Quincy Analyst' --role qc_analyst --password-stdin",
            f"{QC_PW}\n",
        ),
        ("-u op login --password-stdin", f"{OP_PW}\n"),
        ("-u op patient add PT-1 --site HUB-A", ""),
        (
            f"-u op donation register '{DIN1}' --patient PT-1 --site HUB-A"
            " --collected-at 2026-03-02T08:00:00Z --volume-ml 250",
            "",
        ),
        ("-u qc login --password-stdin", f"{QC_PW}\n"),
        ("-u qc intake import intake-din1.csv", ""),
        (
            f"-u op batch start {DIN1_13} --site HUB-A --product 'anti-CD19 CAR-T'"
            " --started-at 2026-03-02T10:00:00Z",
            "",
        ),
    ]
    for command, stdin in steps:
        assert run(*shlex.split(command), stdin=stdin) == 0, command


@pytest.fixture(scope="module")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world, built once per module (password hashing is deliberately slow)."""
    path = tmp_path_factory.mktemp("world") / "template.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(path.parent)
        mp.delenv("VEIN2VEIN_USER", raising=False)
        mp.delenv("VEIN2VEIN_CONFIG", raising=False)
        mp.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{path}")
        mp.setenv("VEIN2VEIN_SESSION_DIR", str(path.parent / "sessions"))

        def run(*argv: str, stdin: str) -> int:
            mp.setattr("sys.stdin", io.StringIO(stdin))
            return main(list(argv))

        build_world(run)
    return path


@pytest.fixture
def world(db_path: Path, world_template: Path, cli_sessions: CliSessions) -> Path:
    """A fresh copy of the world in this test's own SQLite file, its users logged in.

    ``-u NAME`` then acts with NAME's session (admin, op and qc).
    """
    with (
        closing(sqlite3.connect(world_template)) as src,
        closing(sqlite3.connect(db_path)) as dst,
    ):
        src.backup(dst)
    cli_sessions(f"sqlite:///{db_path}")
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


def audit_entries(path: Path) -> int:
    return query(path, "SELECT count(*) FROM audit_entries")[0][0]


# ---------------------------------------------------------------- the whole flow


def test_full_flow_from_init_to_audit(db_path: Path, cli: Cli) -> None:
    r = assert_ok(cli("init", "--admin", "admin", "--password-stdin", stdin=f"{ADMIN_PW}\n"))
    assert "first administrator 'admin' registered" in r.text
    r = assert_ok(cli("-u", "admin", "login", "--password-stdin", stdin=f"{ADMIN_PW}\n"))
    assert "logged in as admin (admin)" in r.text

    site = assert_ok(
        cli("-u", "admin", "site", "add", "HUB-A", "--name", "Hub A", "--fin", "w0000", "--json")
    ).json()
    assert (site["code"], site["name"], site["facility_id"]) == ("HUB-A", "Hub A", "W0000")
    assert_ok(cli("-u", "admin", "site", "add", "HUB-B", "--name", "Hub B", "--fin", "A9999"))
    sites = assert_ok(cli("site", "list", "--json")).json()
    assert [(s["code"], s["facility_id"]) for s in sites] == [
        ("HUB-A", "W0000"),
        ("HUB-B", "A9999"),
    ]

    user = assert_ok(
        cli(
            *("-u", "admin", "user", "add", "op", "--name", "Otto Operator"),
            *("--role", "operator", "--site", "HUB-A", "--password-stdin", "--json"),
            stdin=f"{OP_PW}\n",
        )
    ).json()
    assert (user["username"], user["role"], user["site_id"]) == ("op", "operator", site["id"])
    assert "password_hash" not in user
    r = assert_ok(
        cli(
            *("-u", "admin", "user", "add", "qc", "--name", "Quincy Analyst"),
            *("--role", "qc_analyst", "--password-stdin"),
            stdin=f"{QC_PW}\n",
        )
    )
    assert "user qc (qc_analyst) registered" in r.text
    users = assert_ok(cli("user", "list", "--json")).json()
    assert {(u["username"], u["role"]) for u in users} == {
        ("admin", "admin"),
        ("op", "operator"),
        ("qc", "qc_analyst"),
    }
    assert_ok(cli("-u", "op", "login", "--password-stdin", stdin=f"{OP_PW}\n"))

    patient = assert_ok(
        cli("-u", "op", "patient", "add", "PT-1", "--site", "HUB-A", "--json")
    ).json()
    assert patient["patient_code"] == "PT-1"

    # Eye-readable DIN as printed on the label: spaces, flags and check character.
    donation = assert_ok(
        cli(
            *("-u", "op", "donation", "register", DIN1, "--patient", "PT-1", "--site", "HUB-A"),
            *("--collected-at", "2026-03-02T08:00:00+01:00", "--volume-ml", "250", "--json"),
        )
    ).json()
    assert donation["din"] == DIN1_13
    assert donation["flags"] == "00"
    assert donation["eye_readable"] == DIN1
    assert donation["collected_at"].startswith("2026-03-02T07:00:00")  # stored in UTC
    assert donation["volume_ml"] == 250.0
    assert donation["status"] == "registered"
    r = assert_ok(
        cli(
            *("-u", "op", "donation", "register", DIN2, "--patient", "PT-1", "--site", "HUB-A"),
            *("--collected-at", "2026-03-03T08:00:00Z"),
        )
    )
    assert f"donation {DIN2} registered for PT-1" in r.text

    # No batch from a donation without an accepting intake decision (exit 2, naming din).
    undecided = cli("-u", "op", "batch", "start", DIN1_13, "--site", "HUB-A", "--product", "x")
    assert undecided.code == 2, undecided.text
    assert "field 'din'" in undecided.text and "no accepting intake decision" in undecided.text
    assert_ok(cli("-u", "qc", "login", "--password-stdin", stdin=f"{QC_PW}\n"))
    intake = assert_ok(
        cli("-u", "qc", "intake", "import", str(write_intake(Path("c.csv"), DIN1_13)), "--json")
    ).json()
    assert [d["status"] for d in intake["donations"]] == ["accepted"]

    batch = assert_ok(
        cli(
            *("-u", "op", "batch", "start", DIN1_13, "--site", "HUB-A"),
            *("--product", "anti-CD19 CAR-T", "--started-at", "2026-03-02T10:00:00Z", "--json"),
        )
    ).json()
    assert batch["batch_code"] == BATCH1
    assert batch["custodian"] == "HUB-A"
    assert batch["status"] == "in_process"

    # Accepted hand-off: the bar code as scanned ('=' data identifier and flags).
    r = cli(
        *("-u", "op", "custody", "log", BATCH1, "--from", "HUB-A", "--to", "courier"),
        *("--scan", f"={DIN1_13}00", "--patient", "PT-1", "--temperature", "5"),
        *("--condition", "refrigerated", "--at", "2026-03-02T11:00:00Z"),
    )
    assert r.code == 0, r.text
    assert f"custody of {BATCH1} passed to courier" in r.text

    before = audit_entries(db_path)
    # The courier hands over and the hub scans the other bag on the bench: refused.
    r = cli(
        *("-u", "op", "custody", "log", BATCH1, "--from", "courier", "--to", "HUB-B"),
        *("--scan", DIN2_13, "--patient", "PT-1", "--temperature", "5"),
        *("--condition", "refrigerated", "--at", "2026-03-02T12:00:00Z"),
    )
    assert r.code == 1, r.text
    assert "REFUSED" in r.text
    assert f"scanned DIN {DIN2_13} does not match the batch DIN {DIN1_13}" in r.text
    assert "DEV-000001" in r.text
    assert audit_entries(db_path) > before  # the refusal itself is on the record

    shown = assert_ok(cli("batch", "show", BATCH1, "--json")).json()
    assert shown["custodian"] == "courier"  # unchanged by the refused hand-off
    assert (shown["din"], shown["patient"], shown["site"]) == (DIN1_13, "PT-1", "HUB-A")
    assert [e["accepted"] for e in shown["custody"]] == [True, False]
    refused = shown["custody"][1]
    assert (refused["from_party"], refused["to_party"]) == ("courier", "HUB-B")
    assert refused["scanned_din"] == DIN2_13
    assert DIN2_13 in refused["refusal_reason"]
    [deviation] = shown["deviations"]
    assert deviation["code"] == "DEV-000001"
    assert (deviation["category"], deviation["severity"]) == ("chain_of_identity", "critical")
    assert deviation["status"] == "open"
    assert refused["deviation_id"] == deviation["id"]

    r = assert_ok(cli("audit", "verify"))
    assert "audit trail intact" in r.text
    report = assert_ok(cli("audit", "verify", "--json")).json()
    assert report["ok"] is True
    assert report["entries"] == audit_entries(db_path)
    assert report["first_bad_seq"] is None
    assert report["findings"] == []

    history = assert_ok(cli("audit", "show", f"batch:{BATCH1}", "--json")).json()
    assert history["record"] == f"batch:{batch['id']}"
    assert history["current"]["custodian"] == "courier"
    entries = history["history"]
    assert [e["action"] for e in entries] == ["create", "update"]
    assert all((e["user"], e["role"]) == ("op", "operator") for e in entries)
    assert entries[0]["changes"]["batch_code"] == [None, BATCH1]
    assert entries[1]["changes"] == {"custodian": ["HUB-A", "courier"]}
    assert entries[1]["reason"] == "custody to courier"
    assert entries[0]["seq"] < entries[1]["seq"]
    assert history["signatures"] == []

    # The refused attempt is a record of its own, with its audit entry.
    event = assert_ok(cli("audit", "show", f"custody_event:{refused['id']}", "--json")).json()
    assert event["current"]["accepted"] is False
    assert [e["action"] for e in event["history"]] == ["create"]


def test_audit_show_text_lists_who_did_what(world: Path, cli: Cli) -> None:
    r = assert_ok(cli("audit", "show", f"donation:{DIN1_13}"))
    # Registered by the operator, accepted at intake by the QC analyst.
    assert "(operator)" in r.text and "(qc_analyst)" in r.text
    assert "create" in r.text


def test_batch_show_text(world: Path, cli: Cli) -> None:
    r = assert_ok(cli("batch", "show", BATCH1))
    assert BATCH1 in r.text
    assert "held by HUB-A" in r.text
    assert "patient PT-1" in r.text


def test_acting_user_from_environment(
    world: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VEIN2VEIN_USER", "op")
    assert_ok(cli("patient", "add", "PT-2", "--site", "HUB-B"))
    history = assert_ok(cli("audit", "show", "patient:PT-2", "--json")).json()["history"]
    assert [(e["user"], e["role"], e["action"]) for e in history] == [("op", "operator", "create")]


# ---------------------------------------------------------------- bad input: exit 2, no write

AT = ("--collected-at", "2026-03-02T08:00:00Z")
REGISTER = ("-u", "op", "donation", "register")
ON_PT1 = ("--patient", "PT-1", "--site", "HUB-A")
CUSTODY = ("-u", "op", "custody", "log", BATCH1, "--from", "HUB-A", "--to", "courier")
ADD_USER = ("-u", "admin", "user", "add", "eve", "--name", "Eve", "--password-stdin")
START2 = ("-u", "op", "batch", "start", DIN2_13, "--site", "HUB-A", "--product", "x")
ADD_SITE = ("-u", "admin", "site", "add", "HUB-C", "--name", "Hub C")

BAD_INPUT = [
    # (id, argv, stdin, field named in the message, fragment of the message)
    (
        "wrong-check-character",
        (*REGISTER, "W0000 26 000002 00 E", *ON_PT1, *AT),
        None,
        "din",
        "check character 'E' does not match the computed 'D'",
    ),
    (
        "din-of-another-sites-facility",
        (*REGISTER, "A9999 26 000001 00 8", *ON_PT1, *AT),
        None,
        "din",
        "assigned by facility A9999, but the collection site HUB-A is facility W0000",
    ),
    (
        "din-wrong-length",
        (*REGISTER, "W0000 26 00002", *ON_PT1, *AT),
        None,
        "din",
        "has 12 characters",
    ),
    (
        "naive-collection-time",
        (*REGISTER, DIN2, *ON_PT1, "--collected-at", "2026-03-02T08:00:00"),
        None,
        "collected_at",
        "no UTC offset",
    ),
    (
        "unparseable-collection-time",
        (*REGISTER, DIN2, *ON_PT1, "--collected-at", "yesterday"),
        None,
        "collected_at",
        "not an ISO 8601 time",
    ),
    (
        "negative-volume",
        (*REGISTER, DIN2, *ON_PT1, *AT, "--volume-ml", "-5"),
        None,
        "volume_ml",
        "-5 mL is not a possible volume",
    ),
    (
        "naive-batch-start",
        (*START2, "--started-at", "2026-03-02T10:00:00"),
        None,
        "started_at",
        "no UTC offset",
    ),
    (
        "naive-hand-off-time",
        (*CUSTODY, "--scan", DIN1_13, "--at", "2026-03-02T11:00:00"),
        None,
        "at",
        "no UTC offset",
    ),
    (
        "unknown-shipping-condition",
        (*CUSTODY, "--scan", DIN1_13, "--condition", "lukewarm", "--temperature", "5"),
        None,
        "condition",
        "unknown shipping condition 'lukewarm'",
    ),
    (
        "unknown-role",
        (*ADD_USER, "--role", "wizard"),
        "long-enough-password\n",
        "role",
        "unknown role 'wizard'",
    ),
    (
        "short-password",
        (*ADD_USER, "--role", "operator"),
        "short\n",
        "password",
        "at least 12 characters",
    ),
    (
        "common-password",
        (*ADD_USER, "--role", "operator"),
        "password1234\n",
        "password",
        "commonly used passwords",
    ),
    (
        "password-contains-username",
        (*ADD_USER, "--role", "operator"),
        "steve-and-eve-forever\n",
        "password",
        "may not contain the username",
    ),
    (
        "no-password-on-stdin",
        (*ADD_USER, "--role", "operator"),
        "",
        "password",
        "no password on standard input",
    ),
    ("fin-too-short", (*ADD_SITE, "--fin", "W00"), None, "facility_id", "has 3 characters"),
    (
        "fin-bad-first-character",
        (*ADD_SITE, "--fin", "O1234"),
        None,
        "facility_id",
        "starts with 'O'",
    ),
    (
        "site-code-with-space",
        ("-u", "admin", "site", "add", "HUB C", "--name", "Hub C", "--fin", "G1234"),
        None,
        "code",
        "must be 1-64 letters",
    ),
    (
        "patient-code-with-space",
        ("-u", "op", "patient", "add", "PT 2", "--site", "HUB-A"),
        None,
        "patient",
        "must be 1-64 letters",
    ),
    (
        "unknown-record-kind",
        ("audit", "show", "bag:1"),
        None,
        "record",
        "unknown record kind 'bag'",
    ),
]


@pytest.mark.parametrize(
    ("argv", "stdin", "field", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUT],
)
def test_bad_input_exits_2_names_the_field_and_writes_nothing(
    world: Path, cli: Cli, argv: tuple[str, ...], stdin: str | None, field: str, fragment: str
) -> None:
    before = table_counts(world)

    r = cli(*argv, stdin=stdin)

    assert r.code == 2, r.text
    assert f"error: field '{field}':" in r.text
    assert fragment in r.text
    assert r.out == ""  # the error goes to stderr; nothing claims success
    assert table_counts(world) == before


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        pytest.param(
            (*REGISTER, DIN1, *ON_PT1, *AT), f"DIN {DIN1_13} is already registered", id="dup-din"
        ),
        pytest.param(
            (*REGISTER, DIN2, "--patient", "PT-9", "--site", "HUB-A", *AT),
            "no patient 'PT-9'",
            id="unknown-patient",
        ),
        pytest.param(
            ("-u", "admin", "site", "add", "HUB-C", "--name", "C", "--fin", "A9999"),
            "a site with facility_id 'A9999' already exists (HUB-B)",
            id="dup-fin",
        ),
        pytest.param(("batch", "show", "NO-SUCH-BATCH"), "no batch 'NO-SUCH-BATCH'", id="no-batch"),
    ],
)
def test_conflicts_and_unknown_records_exit_2_and_write_nothing(
    world: Path, cli: Cli, argv: tuple[str, ...], fragment: str
) -> None:
    before = table_counts(world)
    r = cli(*argv)
    assert r.code == 2, r.text
    assert fragment in r.text
    assert table_counts(world) == before


def test_unusable_database_url_is_bad_input(cli: Cli, db_path: Path) -> None:
    r = cli("--db", "this is not a url", "audit", "verify")
    assert r.code == 2, r.text
    assert "field 'db'" in r.text


def test_missing_required_option_is_a_usage_error(world: Path, cli: Cli) -> None:
    before = table_counts(world)
    r = cli("-u", "admin", "site", "add", "HUB-C", "--fin", "G1234")
    assert r.code == 2
    assert "--name" in r.text
    assert table_counts(world) == before


# ---------------------------------------------------------------- permissions


def test_operator_may_not_add_a_site(world: Path, cli: Cli) -> None:
    before = table_counts(world)
    r = cli("-u", "op", "site", "add", "HUB-C", "--name", "Hub C", "--fin", "G1234")
    assert r.code == 3, r.text
    assert "op (operator) may not site.add" in r.text
    assert table_counts(world) == before


def test_qc_analyst_may_not_start_a_batch(world: Path, cli: Cli) -> None:
    assert_ok(cli("-u", "op", "donation", "register", DIN2, *ON_PT1, *AT))
    before = table_counts(world)
    r = cli("-u", "qc", "batch", "start", DIN2_13, "--site", "HUB-A", "--product", "x")
    assert r.code == 3, r.text
    assert "qc (qc_analyst) may not batch.start" in r.text
    assert table_counts(world) == before


def test_write_without_acting_user_among_several_sessions_exits_2_naming_user(
    world: Path, cli: Cli
) -> None:
    before = table_counts(world)
    r = cli("patient", "add", "PT-2", "--site", "HUB-A")
    assert r.code == 2, r.text
    assert "field 'user'" in r.text
    assert "several users are logged in on this database (admin, op, qc)" in r.text
    assert "--user" in r.text
    assert table_counts(world) == before


def test_second_init_cannot_register_another_first_admin(world: Path, cli: Cli) -> None:
    before = table_counts(world)
    r = cli("init", "--admin", "mallory", "--password-stdin", stdin="a long passphrase 7\n")
    assert r.code == 3, r.text
    assert table_counts(world) == before


# ---------------------------------------------------------------- tampering


def seq_of(path: Path, table: str, record_id: int) -> int:
    """The seq of the audit entry that created a record."""
    [(seq,)] = query(
        path,
        "SELECT seq FROM audit_entries WHERE record_table = ? AND record_id = ? AND action = ?",
        table,
        record_id,
        "create",
    )
    return int(seq)


def test_audit_entries_cannot_be_updated_or_deleted_while_the_triggers_stand(world: Path) -> None:
    with pytest.raises(sqlite3.DatabaseError, match="append-only: UPDATE refused"):
        execute(world, "UPDATE audit_entries SET reason = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only: DELETE refused"):
        execute(world, "DELETE FROM audit_entries WHERE seq = 1")


@pytest.mark.parametrize(
    "assignment",
    [
        pytest.param("reason = 'routine edit'", id="reason"),
        pytest.param("""changes = '{"name": [null, "Hub X"]}'""", id="changes"),
        pytest.param("username = 'qc'", id="username"),
    ],
)
def test_verify_finds_an_edited_audit_entry(world: Path, cli: Cli, assignment: str) -> None:
    assert_ok(cli("audit", "verify"))
    n = seq_of(world, "sites", 2)
    assert 1 < n < audit_entries(world)  # neither the first nor the last entry
    execute(
        world,
        "DROP TRIGGER audit_entries_no_update",
        f"UPDATE audit_entries SET {assignment} WHERE seq = {n}",
    )

    r = cli("audit", "verify")
    assert r.code == 1, r.text
    assert f"audit trail broken at entry {n}" in r.text
    assert f"entry {n}: stored hash does not match the entry content" in r.text

    report = cli("audit", "verify", "--json")
    assert report.code == 1
    data = report.json()
    assert data["ok"] is False
    assert data["first_bad_seq"] == n
    # Only that entry: the chain links after it still hold, every record still matches.
    assert [(f["kind"], f["seq"], f["record"]) for f in data["findings"]] == [
        ("hash", n, "sites:2")
    ]
    assert cli("audit", "verify", "--chain-only").code == 1


def test_verify_finds_a_deleted_audit_entry(world: Path, cli: Cli) -> None:
    n = seq_of(world, "patients", 1)
    execute(
        world, "DROP TRIGGER audit_entries_no_delete", f"DELETE FROM audit_entries WHERE seq = {n}"
    )
    data = cli("audit", "verify", "--json").json()
    assert data["ok"] is False
    assert data["first_bad_seq"] == n  # its signed checkpoint names the entry that is gone
    kinds = {(f["kind"], f["seq"]) for f in data["findings"]}
    assert ("checkpoint", n) in kinds
    assert ("gap", n + 1) in kinds
    assert ("link", n + 1) in kinds


def test_verify_finds_a_data_row_changed_behind_the_apps_back(world: Path, cli: Cli) -> None:
    # The tamperer's text is shown literally (it is not console markup).
    execute(world, "UPDATE sites SET name = '[/evil] Hub' WHERE code = 'HUB-A'")

    r = cli("audit", "verify")
    assert r.code == 1, r.text
    assert "sites:1: differs from its last audited image" in r.text
    assert "field 'name'" in r.text
    assert "'[/evil] Hub'" in r.text
    assert "broken at entry" not in r.text  # the chain itself is intact

    data = cli("audit", "verify", "--json").json()
    assert data["ok"] is False
    assert data["first_bad_seq"] is None
    assert [(f["kind"], f["seq"], f["record"]) for f in data["findings"]] == [
        ("record", None, "sites:1")
    ]
    # The hash chain alone does not see it; the record check does.
    assert cli("audit", "verify", "--chain-only").code == 0


# ---------------------------------------------------------------- signatures


SIGN = ("-u", "qc", "sign", f"donation:{DIN1_13}", "--password-stdin")


def signature_rows(path: Path) -> int:
    return query(path, "SELECT count(*) FROM signatures")[0][0]


def test_qc_analyst_signs_a_donation(world: Path, cli: Cli) -> None:
    r = cli(*SIGN, "--meaning", "reviewed", stdin=f"{QC_PW}\n")
    assert r.code == 0, r.text
    assert f"signed donation:{DIN1_13}" in r.text
    assert "Quincy Analyst (qc)" in r.text
    assert r.text.endswith("reviewed")
    assert signature_rows(world) == 1

    shown = assert_ok(cli("audit", "show", f"donation:{DIN1_13}", "--json")).json()
    [sig] = shown["signatures"]
    assert sig["valid"] is True
    assert sig["meaning"] == "reviewed"
    assert sig["manifestation"].startswith("Quincy Analyst (qc), ")
    assert "INVALID" not in sig["manifestation"]
    assert_ok(cli("audit", "verify"))


def test_wrong_password_is_refused_and_signs_nothing(world: Path, cli: Cli) -> None:
    before = table_counts(world)
    r = cli(*SIGN, "--meaning", "reviewed", stdin="not-the-password\n")
    assert r.code == 3, r.text
    assert "re-authentication failed for 'qc'" in r.text
    assert signature_rows(world) == 0
    after = table_counts(world)
    # Only the failed attempt is written: an access event and the user's count, audited.
    assert after.pop("access_events") == before.pop("access_events") + 1
    assert after.pop("audit_entries") == before.pop("audit_entries") + 2
    assert after.pop("audit_checkpoints") == before.pop("audit_checkpoints") + 1  # its seal
    assert after == before
    [(count,)] = query(world, "SELECT failed_attempts FROM users WHERE username = 'qc'")
    assert count == 1


def test_unknown_signature_meaning_is_bad_input(world: Path, cli: Cli) -> None:
    r = cli(*SIGN, "--meaning", "liked", stdin=f"{QC_PW}\n")
    assert r.code == 2, r.text
    assert "field 'meaning'" in r.text
    assert signature_rows(world) == 0


def test_signature_shows_invalid_after_the_record_changes(world: Path, cli: Cli) -> None:
    assert_ok(cli(*SIGN, "--meaning", "reviewed", stdin=f"{QC_PW}\n"))
    db = Database(f"sqlite:///{world}")
    try:
        # A signed record cannot change silently...
        with pytest.raises(ReasonRequiredError), db.unit_of_work(db.actor("op")) as uow:
            uow.change(uow.get(Donation, DIN1_13), volume_ml=260.0)
        # ...only with a reason, which the trail keeps.
        with db.unit_of_work(db.actor("op")) as uow:
            uow.change(
                uow.get(Donation, DIN1_13), reason="scale print-out says 260 mL", volume_ml=260.0
            )
    finally:
        db.dispose()

    shown = assert_ok(cli("audit", "show", f"donation:{DIN1_13}", "--json")).json()
    [sig] = shown["signatures"]
    assert sig["valid"] is False
    assert "INVALID: record changed after signing" in sig["manifestation"]
    last = shown["history"][-1]
    assert (last["user"], last["role"], last["action"]) == ("op", "operator", "update")
    assert last["changes"] == {"volume_ml": [250.0, 260.0]}
    assert last["reason"] == "scale print-out says 260 mL"
    text = assert_ok(cli("audit", "show", f"donation:{DIN1_13}")).text
    assert "INVALID: record changed after signing" in text
    # The change went through the application, so the trail is intact.
    assert_ok(cli("audit", "verify"))


# ---------------------------------------------------------------- schema check


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("audit", "verify"), id="read"),
        pytest.param(
            ("-u", "admin", "site", "add", "S", "--name", "S", "--fin", "W0000"), id="write"
        ),
    ],
)
def test_database_without_schema_asks_for_init(
    cli: Cli, tmp_path: Path, db_path: Path, argv: tuple[str, ...]
) -> None:
    fresh = tmp_path / "never-initialised.db"
    r = cli("--db", f"sqlite:///{fresh}", *argv)
    assert r.code == 4, r.text
    assert "has no schema" in r.text
    assert "vein2vein init" in r.text
    assert table_counts(fresh) == {}  # not even alembic's version table was created


def test_init_creates_the_schema_and_is_idempotent(cli: Cli, db_path: Path) -> None:
    assert cli("audit", "verify").code == 4
    r = assert_ok(cli("init"))
    head = Database(f"sqlite:///{db_path}").head_revision()
    assert f"at schema {head}" in r.text
    assert_ok(cli("init"))
    data = assert_ok(cli("audit", "verify", "--json")).json()
    # One entry: the signing key's registration, sealed by one checkpoint.
    assert (data["ok"], data["entries"], data["checkpoints"]) == (True, 1, 1)


# ---------------------------------------------------------------- console output is literal


def test_user_supplied_text_is_printed_literally(world: Path, cli: Cli) -> None:
    r = cli(
        *("-u", "op", "custody", "log", BATCH1, "--from", "HUB-A", "--to", "[/courier]"),
        *("--scan", DIN1_13, "--at", "2026-03-02T11:00:00Z"),
    )
    assert r.code == 0, r.text
    assert f"custody of {BATCH1} passed to [/courier]" in r.text
    assert "[/courier]" in assert_ok(cli("batch", "show", BATCH1)).text

    r = cli(*shlex.split("-u admin user add eve --name Eve --role [red]boss[/red] --no-password"))
    assert r.code == 2
    assert "unknown role '[red]boss[/red]'" in r.text


# ---------------------------------------------------------------- console script


def test_module_runs_as_a_console_program(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEIN2VEIN_")} | {
        "VEIN2VEIN_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "COLUMNS": "200",
        "PYTHONIOENCODING": "utf-8",
    }
    shown = subprocess.run(
        [sys.executable, "-m", "vein2vein.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "Usage: vein2vein" in shown.stdout
    listed = set(re.findall(r"^\S ([a-z]+) {2,}\S", shown.stdout, flags=re.MULTILINE))
    assert listed == {
        *("init", "login", "logout", "whoami", "password", "token"),
        *("sign", "demo", "site", "user", "patient"),
        *("donation", "batch", "custody", "audit", "spec", "intake", "release"),
        *("process", "deviation", "investigation", "comparability", "clinical", "invivo", "sc"),
        "keys",
    }

    # The exit code of the documented error classes reaches the shell.
    script = Path(sys.executable).with_name("vein2vein")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "vein2vein.cli"]
    unready = subprocess.run(
        [*argv, "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert unready.returncode == 4, unready.stderr
    assert "vein2vein init" in " ".join(unready.stderr.split())
    assert "Traceback" not in unready.stderr

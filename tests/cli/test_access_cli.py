"""Identity and access on the command line (21 CFR 11.10(d), 11.300), SQLite and PostgreSQL.

The adversary claims a name with ``-u``, guesses passwords, forges or replays
sessions and tokens, and acts after being deactivated; every attempt exits 3 and
writes nothing but the record of the attempt.

How a test authenticates a CLI call: the ``cli_sessions`` fixture (tests/cli/conftest.py)
points ``VEIN2VEIN_SESSION_DIR`` at a folder of the test;
``cli_sessions(url)`` logs every user of that database in, and ``vein2vein -u NAME
...`` then acts with NAME's session. Tests of the login itself use the real
``vein2vein login --password-stdin``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text, update

from vein2vein.cli.sessions import CliSessions
from vein2vein.records import AccessEvent, ApiToken, Database, User, UserSession
from vein2vein.testing import PASSWORD, Cli, CliResult, assert_ok, make_network

NEW_PASSWORD = "a fresh and long passphrase"
QA_ADD = ("user", "add", "mallory", "--name", "Mallory", "--role", "qa_reviewer")


@dataclass
class World:
    """A network (admin, operator, qc-analyst, qa-reviewer, clinician; password PASSWORD)."""

    db: Database
    url: str
    sessions: Path


@pytest.fixture
def world(
    any_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_sessions: CliSessions
) -> World:
    make_network(any_db)
    url = any_db.url.render_as_string(hide_password=False)
    monkeypatch.chdir(tmp_path)
    for name in ("VEIN2VEIN_USER", "VEIN2VEIN_CONFIG", "VEIN2VEIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", url)
    return World(any_db, url, Path(os.environ["VEIN2VEIN_SESSION_DIR"]))


def refused(result: CliResult, fragment: str) -> CliResult:
    assert result.code == 3, result.text
    assert fragment in result.text
    assert result.out == ""
    return result


def counts(db: Database) -> dict[str, int]:
    """Rows in every table, read behind the application's back."""
    with db.engine.connect() as conn:
        names = inspect(conn).get_table_names()
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in names}


def events(db: Database, username: str) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.execute(
            select(AccessEvent.kind, AccessEvent.context)
            .where(AccessEvent.username == username)
            .order_by(AccessEvent.id)
        ).all()
    return [(kind, context) for kind, context in rows]


def login(cli: Cli, user: str, password: str = PASSWORD) -> CliResult:
    return cli("-u", user, "login", "--password-stdin", stdin=f"{password}\n")


# ---------------------------------------------------------------- claimed identity


def test_claiming_admin_without_authentication_is_refused(world: World, cli: Cli) -> None:
    before = counts(world.db)
    refused(
        cli("-u", "admin", *QA_ADD, "--password-stdin", stdin="a long passphrase 1\n"),
        "not logged in as 'admin' on this database",
    )
    refused(cli("patient", "add", "PT-9", "--site", "HUB-A"), "not logged in on this database")
    assert counts(world.db) == before


def test_a_qa_reviewer_created_by_a_non_admin_is_refused(
    world: World, cli: Cli, cli_sessions: CliSessions
) -> None:
    cli_sessions(world.url, "operator")
    before = counts(world.db)
    refused(
        cli("-u", "operator", *QA_ADD, "--password-stdin", stdin="a long passphrase 1\n"),
        "operator (operator) may not user.add",
    )
    assert counts(world.db) == before


def test_login_then_act_then_logout(world: World, cli: Cli) -> None:
    add = ("process", "parameter", "add", "ph", "--unit", "", "--step", "expansion")
    r = assert_ok(login(cli, "qa-reviewer"))
    assert "logged in as qa-reviewer (qa_reviewer)" in r.text
    [path] = world.sessions.iterdir()
    assert path.stat().st_mode & 0o777 == 0o600
    assert world.sessions.stat().st_mode & 0o777 == 0o700
    who = assert_ok(cli("whoami", "--json")).json()
    assert (who["username"], who["role"], who["name"]) == (
        "qa-reviewer",
        "qa_reviewer",
        "Quinn Reviewer",
    )
    assert_ok(cli("-u", "qa-reviewer", *add))
    assert "logged out qa-reviewer" in assert_ok(cli("logout")).text
    assert not any(world.sessions.iterdir())
    refused(cli("-u", "qa-reviewer", *add[:3], "do", *add[4:]), "not logged in")
    assert events(world.db, "qa-reviewer") == [("login", "login"), ("logout", "login")]


def test_a_username_that_is_no_username_names_no_file(world: World, cli: Cli) -> None:
    r = cli("-u", "../../etc/x", "patient", "add", "PT-9", "--site", "HUB-A")
    assert r.code == 2, r.text
    assert "field 'user'" in r.text


def test_u_selects_whose_session_acts(world: World, cli: Cli, cli_sessions: CliSessions) -> None:
    cli_sessions(world.url, "operator", "clinician")
    assert_ok(cli("-u", "clinician", "patient", "add", "PT-7", "--site", "HUB-A"))
    with world.db.read() as session:
        [(who,)] = session.execute(
            text("SELECT username FROM audit_entries WHERE record_table = 'patients'")
        ).all()
    assert who == "clinician"


# ---------------------------------------------------------------- forged, stale, ended sessions


def _session_file(world: World) -> Path:
    [path] = world.sessions.iterdir()
    return path


def test_a_forged_session_file_is_refused(world: World, cli: Cli) -> None:
    assert_ok(login(cli, "operator"))
    path = _session_file(world)
    data = json.loads(path.read_text())
    data["token"] = data["token"][:-4] + "AAAA"
    path.write_text(json.dumps(data))
    before = counts(world.db)
    refused(cli("-u", "operator", "patient", "add", "PT-9", "--site", "HUB-A"), "not valid")
    assert counts(world.db) == before


def test_a_session_file_others_can_read_is_refused(world: World, cli: Cli) -> None:
    assert_ok(login(cli, "operator"))
    _session_file(world).chmod(0o644)
    refused(
        cli("-u", "operator", "patient", "add", "PT-9", "--site", "HUB-A"),
        "can be read by others",
    )


@pytest.mark.parametrize(
    ("column", "fragment"),
    [
        pytest.param("last_used_at", "timed out after 30 minutes", id="idle"),
        pytest.param("expires_at", "reached its lifetime", id="lifetime"),
    ],
)
def test_a_stale_session_is_refused(world: World, cli: Cli, column: str, fragment: str) -> None:
    assert_ok(login(cli, "operator"))
    with world.db.engine.begin() as conn:
        conn.execute(update(UserSession).values({column: datetime.now(UTC) - timedelta(hours=13)}))
    before = counts(world.db)
    refused(cli("-u", "operator", "patient", "add", "PT-9", "--site", "HUB-A"), fragment)
    assert counts(world.db) == before
    assert not any(world.sessions.iterdir())  # the dead session's file is cleared


def test_a_session_does_not_replace_the_signing_password(world: World, cli: Cli) -> None:
    assert_ok(login(cli, "qa-reviewer"))
    r = cli("-u", "qa-reviewer", "sign", "site:HUB-A", "--meaning", "reviewed", "--password-stdin")
    assert r.code == 2, r.text
    assert "no password on standard input" in r.text


# ---------------------------------------------------------------- password for one command


def test_a_password_for_one_command(world: World, cli: Cli) -> None:
    assert_ok(
        cli(
            *("-u", "operator", "--auth-password-stdin", "patient", "add", "PT-8"),
            *("--site", "HUB-A"),
            stdin=f"{PASSWORD}\n",
        )
    )
    before = counts(world.db)
    refused(
        cli(
            *("-u", "operator", "--auth-password-stdin", "patient", "add", "PT-9"),
            *("--site", "HUB-A"),
            stdin="not the password at all\n",
        ),
        "unknown user or wrong password",
    )
    assert counts(world.db)["patients"] == before["patients"]
    assert events(world.db, "operator") == [("failed_attempt", "command")]


# ---------------------------------------------------------------- lockout


def test_lockout_after_five_failed_logins_then_an_admin_unlocks(
    world: World, cli: Cli, cli_sessions: CliSessions
) -> None:
    for _ in range(4):
        refused(login(cli, "operator", "wrong password here"), "unknown user or wrong password")
    refused(login(cli, "operator", "wrong password here"), "now locked after 5")
    refused(login(cli, "operator"), "is locked since")
    assert [k for k, _ in events(world.db, "operator")] == [
        *(["failed_attempt"] * 5),
        "lockout",
        "failed_attempt",
    ]
    listed = {u["username"]: u for u in assert_ok(cli("user", "list", "--json")).json()}
    assert (listed["operator"]["locked"], listed["operator"]["failed_attempts"]) == (True, 5)

    cli_sessions(world.url, "admin", "qa-reviewer")
    refused(
        cli("-u", "qa-reviewer", "user", "unlock", "operator", "--reason", "me"),
        "may not user.manage",
    )
    assert_ok(cli("-u", "admin", "user", "unlock", "operator", "--reason", "identity confirmed"))
    assert_ok(login(cli, "operator"))
    history = assert_ok(cli("audit", "show", "user:operator", "--json")).json()["history"]
    assert history[-1]["reason"] == "identity confirmed"
    assert history[-1]["user"] == "admin"
    assert_ok(cli("audit", "verify"))


# ---------------------------------------------------------------- expiry and change


def test_an_admin_set_password_forces_a_change(
    world: World, cli: Cli, cli_sessions: CliSessions
) -> None:
    cli_sessions(world.url, "admin")
    assert_ok(
        cli(
            *("-u", "admin", "user", "reset-password", "operator", "--reason", "forgotten"),
            "--password-stdin",
            stdin="temporary passphrase 1\n",
        )
    )
    refused(login(cli, "operator", "temporary passphrase 1"), "only serves to change it")
    r = cli(
        "-u", "operator", "password", "change", "--password-stdin",
        stdin="temporary passphrase 1\npassword1234\n",
    )  # fmt: skip
    assert r.code == 2, r.text
    assert "field 'password': that password is on the list of commonly used" in r.text
    r = assert_ok(
        cli(
            "-u", "operator", "password", "change", "--password-stdin",
            stdin=f"temporary passphrase 1\n{NEW_PASSWORD}\n",
        )
    )  # fmt: skip
    assert "log in again" in r.text
    assert_ok(login(cli, "operator", NEW_PASSWORD))


def test_an_expired_password_forces_a_change(
    world: World, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_ok(login(cli, "operator"))
    with world.db.engine.begin() as conn:  # as if set 91 days ago
        conn.execute(
            update(User)
            .where(User.username == "operator")
            .values(password_changed_at=datetime.now(UTC) - timedelta(days=91))
        )
    refused(cli("-u", "operator", "patient", "add", "PT-9", "--site", "HUB-A"), "has expired")
    refused(login(cli, "operator"), "only serves to change it")
    monkeypatch.setenv("VEIN2VEIN_PASSWORD_MAX_AGE_DAYS", "0")  # no expiry
    assert_ok(login(cli, "operator"))


# ---------------------------------------------------------------- deactivation


def test_a_deactivated_user_exits_3(world: World, cli: Cli, cli_sessions: CliSessions) -> None:
    cli_sessions(world.url, "admin", "operator")
    assert_ok(cli("-u", "admin", "user", "deactivate", "operator", "--reason", "left the site"))
    before = counts(world.db)
    refused(
        cli("-u", "operator", "patient", "add", "PT-9", "--site", "HUB-A"),
        "session has ended (user deactivated)",
    )
    refused(login(cli, "operator"), "user 'operator' is deactivated")
    refused(
        cli(
            *("-u", "operator", "--auth-password-stdin", "patient", "add", "PT-9"),
            *("--site", "HUB-A"),
            stdin=f"{PASSWORD}\n",
        ),
        "user 'operator' is deactivated",
    )
    after = counts(world.db)
    assert after["patients"] == before["patients"]
    refused(cli("-u", "admin", "user", "deactivate", "admin", "--reason", "x"), "their own account")
    assert_ok(cli("-u", "admin", "user", "reactivate", "operator", "--reason", "back"))
    assert_ok(login(cli, "operator"))


# ---------------------------------------------------------------- API tokens


def _token(cli: Cli, *scopes: str, user: str = "operator") -> str:
    args = [a for s in scopes for a in ("--scope", s)]
    created = assert_ok(
        cli("-u", "admin", "token", "create", "--user", user, *args, "--label", "x", "--json")
    ).json()
    assert created["token"].startswith("v2vt_")
    return str(created["token"])


def test_token_scopes_limit_what_it_may_do(
    world: World, cli: Cli, cli_sessions: CliSessions
) -> None:
    cli_sessions(world.url, "admin")
    token = _token(cli, "patient.register")
    with world.db.read() as session:
        stored = session.scalars(select(ApiToken)).one()
        assert token not in stored.token_hash
        assert stored.token_hash not in json.dumps(
            session.execute(text("SELECT after_image FROM audit_entries")).scalars().all(),
            default=str,
        )
    who = assert_ok(cli("--token-stdin", "whoami", "--json", stdin=f"{token}\n")).json()
    assert who == {"username": "operator", "role": "operator", "scopes": ["patient.register"]}
    assert_ok(cli("--token-stdin", "patient", "add", "PT-5", "--site", "HUB-A", stdin=f"{token}\n"))
    refused(
        cli(
            *("--token-stdin", "batch", "start", "W000026000001", "--site", "HUB-A"),
            *("--product", "x"),
            stdin=f"{token}\n",
        ),
        "does not allow batch.start",
    )
    refused(
        cli("-u", "admin", "--token-stdin", "patient", "add", "PT-6", "--site", "HUB-A",
            stdin=f"{token}\n"),
        "acts as 'operator', not as 'admin'",
    )  # fmt: skip
    with world.db.read() as session:
        patient_entries = session.execute(
            text("SELECT username FROM audit_entries WHERE record_table = 'patients'")
        ).all()
    assert [u for (u,) in patient_entries] == ["operator"]


@pytest.mark.parametrize(
    ("scope", "fragment"),
    [
        pytest.param("lot.disposition", "operator (operator) may not lot.disposition", id="role"),
        pytest.param("user.add", "cannot be given to a token", id="admin-scope"),
        pytest.param("everything", "is not an action", id="unknown"),
    ],
)
def test_token_scopes_are_checked_at_creation(
    world: World, cli: Cli, cli_sessions: CliSessions, scope: str, fragment: str
) -> None:
    cli_sessions(world.url, "admin")
    before = counts(world.db)
    r = cli(
        "-u", "admin", "token", "create", "--user", "operator", "--scope", scope, "--label", "x"
    )
    assert r.code == 2, r.text
    assert "field 'scope'" in r.text
    assert fragment in r.text
    assert counts(world.db) == before


def test_forged_revoked_and_expired_tokens_are_refused(
    world: World, cli: Cli, cli_sessions: CliSessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_sessions(world.url, "admin", "operator")
    refused(
        cli("--token-stdin", "patient", "add", "PT-5", "--site", "HUB-A", stdin="v2vt_forged\n"),
        "API token is not valid",
    )
    token = _token(cli, "patient.register")
    refused(
        cli("-u", "operator", "token", "revoke", "1", "--reason", "mine"),
        "may not token.manage",
    )
    assert_ok(cli("-u", "admin", "token", "revoke", "1", "--reason", "script retired"))
    monkeypatch.setenv("VEIN2VEIN_TOKEN", token)
    refused(cli("patient", "add", "PT-5", "--site", "HUB-A"), "was revoked")
    monkeypatch.delenv("VEIN2VEIN_TOKEN")

    token = _token(cli, "patient.register")
    with world.db.engine.begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == 2).values(expires_at=datetime.now(UTC)))
    refused(
        cli("--token-stdin", "patient", "add", "PT-5", "--site", "HUB-A", stdin=f"{token}\n"),
        "expired at",
    )
    listed = assert_ok(cli("token", "list", "--json")).json()
    assert [(t["id"], t["revoked_at"] is not None) for t in listed] == [(1, True), (2, False)]
    assert all("token" not in t for t in listed)
    with world.db.read() as session:
        assert session.execute(select(func.count()).select_from(AccessEvent)).scalar_one() >= 2


def test_deactivation_revokes_the_users_tokens(
    world: World, cli: Cli, cli_sessions: CliSessions
) -> None:
    cli_sessions(world.url, "admin")
    token = _token(cli, "patient.register")
    assert_ok(cli("-u", "admin", "user", "deactivate", "operator", "--reason", "left"))
    refused(
        cli("--token-stdin", "patient", "add", "PT-5", "--site", "HUB-A", stdin=f"{token}\n"),
        "was revoked",
    )

"""Who is acting, proven: passwords with lockout, sessions, expiry (21 CFR 11.10(d), 11.300).

Each test runs on SQLite and PostgreSQL (``network``). The adversary claims a name,
guesses passwords, replays or forges session tokens, and waits for a session to go
stale; every one of those is refused and the attempts are on the audit trail.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from vein2vein.cli import exit_code_for
from vein2vein.errors import (
    AccountDisabledError,
    AccountLockedError,
    AuthenticationError,
    InvalidInputError,
    PasswordExpiredError,
    PermissionDeniedError,
    SignatureError,
)
from vein2vein.records import (
    AccessEvent,
    AccessPolicy,
    AuditEntry,
    Database,
    User,
    UserSession,
    audit,
    authenticate_password,
    change_password,
    deactivate_user,
    end_session,
    login,
    reactivate_user,
    reauthenticate,
    reset_password,
    resume_session,
    unlock_user,
)
from vein2vein.testing import PASSWORD, Network

WRONG = "not the password at all"
NEW_PASSWORD = "a fresh and long passphrase"


def _events(db: Database, username: str) -> list[tuple[str, str | None]]:
    with db.read() as session:
        rows = session.execute(
            select(AccessEvent.kind, AccessEvent.detail)
            .where(AccessEvent.username == username)
            .order_by(AccessEvent.id)
        ).all()
    return [(kind, detail) for kind, detail in rows]


def _user(db: Database, username: str) -> User:
    with db.read() as session:
        return session.scalars(select(User).where(User.username == username)).one()


def _n_entries(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def _verify(db: Database) -> None:
    with db.read() as session:
        report = audit.verify(session)
    assert report.ok, report.findings


# ---------------------------------------------------------------- sessions


def test_login_opens_a_session_that_acts_as_its_user(network: Network) -> None:
    db = network.db
    grant = login(db, "operator", PASSWORD)
    active = resume_session(db, grant.token)
    assert active.actor == network.actor("operator")
    assert active.session_id == grant.session_id
    assert grant.token.startswith("v2vs_")
    with db.read() as session:
        row = session.get(UserSession, grant.session_id)
        assert row is not None
        assert grant.token not in row.token_hash  # only the digest is stored
        assert len(row.token_hash) == 64
        entries = audit.history(session, "access_events", 1)
    assert [kind for kind, _ in _events(db, "operator")] == ["login"]
    assert [(e.action, e.username) for e in entries] == [("create", "operator")]
    _verify(db)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda t: t + "x", id="altered"),
        pytest.param(lambda t: "v2vs_" + "A" * 43, id="made-up"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_forged_session_token_is_refused(network: Network, forge: object) -> None:
    grant = login(network.db, "operator", PASSWORD)
    with pytest.raises(AuthenticationError, match="not valid"):
        resume_session(network.db, forge(grant.token))  # type: ignore[operator]


def test_session_ends_at_logout_and_the_logout_is_audited(network: Network) -> None:
    db = network.db
    grant = login(db, "operator", PASSWORD)
    assert end_session(db, grant.token)
    assert not end_session(db, grant.token)  # once
    with pytest.raises(AuthenticationError, match=r"ended \(logout\)"):
        resume_session(db, grant.token)
    assert [kind for kind, _ in _events(db, "operator")] == ["login", "logout"]
    _verify(db)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        pytest.param("last_used_at", "timed out after 30 minutes", id="idle"),
        pytest.param("expires_at", "reached its lifetime", id="lifetime"),
    ],
)
def test_stale_session_is_refused(network: Network, column: str, message: str) -> None:
    db = network.db
    grant = login(db, "operator", PASSWORD)
    with db.engine.begin() as conn:  # the session store is not audited: age it in place
        old = datetime.now(UTC) - timedelta(hours=13)
        conn.execute(
            update(UserSession).where(UserSession.id == grant.session_id).values({column: old})
        )
    with pytest.raises(AuthenticationError, match=message):
        resume_session(db, grant.token)


def test_using_a_session_moves_its_idle_time_out(network: Network) -> None:
    db = network.db
    grant = login(db, "operator", PASSWORD)
    first = resume_session(db, grant.token)
    time.sleep(0.01)
    second = resume_session(db, grant.token)
    assert second.idle_expires_at > first.idle_expires_at
    assert second.expires_at == first.expires_at  # the lifetime does not move


# ---------------------------------------------------------------- lockout


def test_lockout_after_five_failures_is_audited_and_an_admin_unlocks(network: Network) -> None:
    db = network.db
    for _ in range(4):
        with pytest.raises(AuthenticationError, match="unknown user or wrong password"):
            login(db, "operator", WRONG)
    with pytest.raises(AccountLockedError, match="now locked after 5"):
        login(db, "operator", WRONG)
    # The right password no longer helps, and the attempt is still recorded.
    with pytest.raises(AccountLockedError, match="is locked since"):
        login(db, "operator", PASSWORD)
    with pytest.raises(AccountLockedError):
        db.actor("operator")

    events = _events(db, "operator")
    assert events == [
        *(("failed_attempt", f"wrong password, {n} of 5 consecutive") for n in range(1, 6)),
        ("lockout", "wrong password, 5 of 5 consecutive"),
        ("failed_attempt", "account locked"),
    ]
    user = _user(db, "operator")
    assert (user.failed_attempts, user.locked_at is not None) == (5, True)
    with db.read() as session:
        reasons = [e.reason for e in audit.history(session, "users", user.id)][1:]
    assert reasons == [
        *(["failed password attempt (login)"] * 5),
        "locked after 5 consecutive failed password attempts",
    ]

    with db.unit_of_work(network.actor("admin")) as uow:
        unlock_user(uow, "operator", reason="identity confirmed by phone")
    login(db, "operator", PASSWORD)
    assert _user(db, "operator").failed_attempts == 0
    _verify(db)


def test_a_correct_password_resets_the_count(network: Network) -> None:
    db = network.db
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            login(db, "operator", WRONG)
    login(db, "operator", PASSWORD)
    assert _user(db, "operator").failed_attempts == 0
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            login(db, "operator", WRONG)
    assert _user(db, "operator").locked_at is None


def test_signing_passwords_count_towards_the_lockout(network: Network) -> None:
    db, qa = network.db, network.actor("qa_reviewer")
    policy = AccessPolicy(lockout_attempts=3)
    for _ in range(2):
        with pytest.raises(SignatureError, match="re-authentication failed"):
            reauthenticate(db, qa, WRONG, policy=policy)
    with pytest.raises(AccountLockedError):
        reauthenticate(db, qa, WRONG, policy=policy)
    with pytest.raises(AccountLockedError):
        reauthenticate(db, qa, PASSWORD, policy=policy)
    contexts = {detail for kind, detail in _events(db, "qa-reviewer") if kind == "lockout"}
    assert contexts == {"wrong password, 3 of 3 consecutive"}


def test_unknown_names_are_recorded_but_lock_no_one(network: Network) -> None:
    db = network.db
    for _ in range(6):
        with pytest.raises(AuthenticationError, match="unknown user or wrong password"):
            authenticate_password(db, "mallory", WRONG, context="command")
    assert _events(db, "mallory") == [("failed_attempt", "unknown user")] * 6


def test_an_admin_needs_to_be_an_admin_to_unlock(network: Network) -> None:
    with (
        pytest.raises(PermissionDeniedError, match=r"may not user\.manage"),
        network.db.unit_of_work(network.actor("qa_reviewer")) as uow,
    ):
        unlock_user(uow, "operator", reason="I am QA")


_ATTEMPT = """
import sys, time
from vein2vein.errors import PermissionDeniedError
from vein2vein.records import AccessPolicy, Database, authenticate_password
url, start, limit = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
db = Database(url)
with db.read():
    pass  # connect before the start line
while time.time() < start:
    time.sleep(0.001)
try:
    authenticate_password(db, "operator", "wrong guess number one",
                          context="login", policy=AccessPolicy(lockout_attempts=limit))
except PermissionDeniedError as exc:
    print(type(exc).__name__)
"""


def _parallel_attempts(db: Database, n: int, limit: int) -> list[str]:
    url = db.url.render_as_string(hide_password=False)
    start = time.time() + 6.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ATTEMPT, url, str(start), str(limit)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        outcomes.append(out.strip())
    return outcomes


@pytest.mark.slow
def test_parallel_failed_attempts_are_each_counted(network: Network) -> None:
    outcomes = _parallel_attempts(network.db, n=6, limit=100)
    assert outcomes == ["AuthenticationError"] * 6
    assert _user(network.db, "operator").failed_attempts == 6  # no lost update
    _verify(network.db)


@pytest.mark.slow
def test_parallel_failed_attempts_lock_exactly_once(network: Network) -> None:
    outcomes = _parallel_attempts(network.db, n=6, limit=3)
    events = _events(network.db, "operator")
    counted = [d for k, d in events if k == "failed_attempt" and d and d.startswith("wrong")]
    assert [k for k, _ in events].count("lockout") == 1
    assert [k for k, _ in events].count("failed_attempt") == 6
    # Attempts counted before the lock run 1, 2, 3, ... with no number twice.
    assert counted == [f"wrong password, {i} of 3 consecutive" for i in range(1, len(counted) + 1)]
    assert _user(network.db, "operator").failed_attempts == len(counted) >= 3
    assert outcomes.count("AccountLockedError") == 6 - outcomes.count("AuthenticationError")
    assert outcomes.count("AuthenticationError") == 2


# ---------------------------------------------------------------- password policy and expiry


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        pytest.param("short-pw-1", "at least 12 characters", id="too-short"),
        pytest.param("x" * 257, "at most 256 characters", id="too-long"),
        pytest.param("Password1234", "commonly used passwords", id="common"),
        pytest.param("i-am-the-OPERATOR-here", "may not contain the username", id="username"),
        pytest.param("my vein2vein secret", "name of the system", id="system-name"),
        pytest.param(PASSWORD, "same as the current one", id="unchanged"),
    ],
)
def test_password_policy_refuses_and_writes_nothing(
    network: Network, password: str, fragment: str
) -> None:
    db = network.db
    before = _n_entries(db)
    with pytest.raises(InvalidInputError, match=fragment) as info:
        change_password(db, "operator", current=PASSWORD, new=password)
    assert info.value.field == "password"
    assert _n_entries(db) == before


def test_password_change_ends_sessions_and_the_new_password_works(network: Network) -> None:
    db = network.db
    grant = login(db, "operator", PASSWORD)
    change_password(db, "operator", current=PASSWORD, new=NEW_PASSWORD)
    with pytest.raises(AuthenticationError, match="password changed"):
        resume_session(db, grant.token)
    with pytest.raises(AuthenticationError):
        login(db, "operator", PASSWORD)
    login(db, "operator", NEW_PASSWORD)
    with db.read() as session:
        history = audit.history(session, "users", network.actor("operator").user_id or 0)
    [change] = [e for e in history if e.reason == "password changed by its user"]
    assert change.username == "operator"
    assert set(change.changes) >= {"password_hash", "password_changed_at"}


def test_an_expired_password_only_serves_to_change_it(network: Network) -> None:
    db = network.db
    grant = login(db, "operator", PASSWORD)
    expired = AccessPolicy(password_max_age=timedelta(microseconds=1))
    with pytest.raises(PasswordExpiredError, match="only serves to change it"):
        login(db, "operator", PASSWORD, policy=expired)
    with pytest.raises(PasswordExpiredError):
        resume_session(db, grant.token, policy=expired)
    with pytest.raises(PasswordExpiredError):
        reauthenticate(db, network.actor("operator"), PASSWORD, policy=expired)
    change_password(db, "operator", current=PASSWORD, new=NEW_PASSWORD, policy=expired)
    login(db, "operator", NEW_PASSWORD)  # a fresh password under the normal policy


def test_an_admin_set_password_must_be_changed_at_first_use(network: Network) -> None:
    db = network.db
    grant = login(db, "operator", PASSWORD)
    with db.unit_of_work(network.actor("admin")) as uow:
        reset_password(uow, "operator", password="temporary passphrase 1", reason="forgotten")
    with pytest.raises(AuthenticationError, match="password reset"):
        resume_session(db, grant.token)
    with pytest.raises(PasswordExpiredError):
        login(db, "operator", "temporary passphrase 1")
    change_password(db, "operator", current="temporary passphrase 1", new=NEW_PASSWORD)
    login(db, "operator", NEW_PASSWORD)


# ---------------------------------------------------------------- deactivation


def test_a_deactivated_user_is_refused_everywhere_until_reactivated(network: Network) -> None:
    db, admin = network.db, network.actor("admin")
    grant = login(db, "operator", PASSWORD)
    with db.unit_of_work(admin) as uow:
        deactivate_user(uow, "operator", reason="left the site")
    with pytest.raises(AuthenticationError, match=r"ended \(user deactivated\)"):
        resume_session(db, grant.token)
    with pytest.raises(AccountDisabledError, match="deactivated") as info:
        db.actor("operator")
    assert exit_code_for(info.value) == 3
    with pytest.raises(AccountDisabledError):
        login(db, "operator", PASSWORD)
    with pytest.raises(AccountDisabledError):
        reauthenticate(db, network.actor("operator"), PASSWORD)
    assert _events(db, "operator")[-1] == ("failed_attempt", "account deactivated")

    with db.unit_of_work(admin) as uow:
        reactivate_user(uow, "operator", reason="back from leave")
    login(db, "operator", PASSWORD)
    with db.read() as session:
        reasons = [e.reason for e in audit.history(session, "users", grant.actor.user_id or 0)]
    assert reasons[-2:] == ["left the site", "back from leave"]


def test_an_admin_cannot_deactivate_themselves_nor_a_non_admin_anyone(network: Network) -> None:
    db = network.db
    with (
        pytest.raises(PermissionDeniedError, match="their own account"),
        db.unit_of_work(network.actor("admin")) as uow,
    ):
        deactivate_user(uow, "admin", reason="oops")
    with (
        pytest.raises(PermissionDeniedError, match=r"may not user\.manage"),
        db.unit_of_work(network.actor("qa_reviewer")) as uow,
    ):
        deactivate_user(uow, "operator", reason="I am QA")
    with (
        pytest.raises(InvalidInputError) as info,
        db.unit_of_work(network.actor("admin")) as uow,
    ):
        deactivate_user(uow, "operator", reason="  ")
    assert info.value.field == "reason"


def test_account_errors_exit_3() -> None:
    for error in (
        AuthenticationError("x"),
        PasswordExpiredError("x"),
        AccountDisabledError("x"),
        AccountLockedError("x"),
    ):
        assert exit_code_for(error) == 3


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        pytest.param("VEIN2VEIN_LOCKOUT_ATTEMPTS", "many", "valid integer", id="not-a-number"),
        pytest.param("VEIN2VEIN_LOCKOUT_ATTEMPTS", "0", "at least 1", id="no-lockout"),
        pytest.param("VEIN2VEIN_PASSWORD_MIN_LENGTH", "6", "at least 8", id="below-nist"),
    ],
)
def test_settings_out_of_range_are_bad_input_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidInputError, match=fragment) as info:
        AccessPolicy.from_settings()
    assert info.value.field == variable.removeprefix("VEIN2VEIN_").lower()

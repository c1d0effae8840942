"""The service key: created by init, adopted by old databases, rotated; PostgreSQL roles."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from vein2vein.cli import main
from vein2vein.errors import AuditIntegrityError, PermissionDeniedError, SigningKeyError
from vein2vein.identity import register_patient
from vein2vein.process.monitoring.ingest import ingest_readings, register_parameter
from vein2vein.records import (
    AuditCheckpoint,
    AuditEntry,
    Batch,
    Database,
    Donation,
    Signature,
    Signer,
    audit,
    keys,
    readings_sha256,
    sign,
    signatures_of,
)
from vein2vein.records._statements import checkpoint_statement, reading_line
from vein2vein.records._types import utcnow
from vein2vein.testing import PASSWORD, Network, make_batch, make_donation, make_network

ARCHIVE = Path(__file__).parents[1] / "data" / "archives" / "v0.1" / "records.db"
APP_URL_ENV = "VEIN2VEIN_TEST_POSTGRES_APP_URL"


def _verify(db: Database) -> audit.VerifyReport:
    with db.read() as session:
        return audit.verify(session)


def _url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def _cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: str = "",
) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, " ".join(f"{out}\n{err}".split())


def _no_key_configured(monkeypatch: pytest.MonkeyPatch, config: Path) -> None:
    monkeypatch.delenv("VEIN2VEIN_SIGNING_KEY", raising=False)
    monkeypatch.delenv("VEIN2VEIN_WITNESS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))


# ---------------------------------------------------------------------- init


def test_init_creates_a_key_when_none_is_configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_key_configured(monkeypatch, tmp_path / "config")
    db_url = f"sqlite:///{tmp_path / 'records.db'}"
    code, said = _cli(
        capsys,
        monkeypatch,
        *("--db", db_url, "init", "--admin", "admin", "--password-stdin"),
        stdin=f"{PASSWORD}\n",
    )
    assert code == 0, said
    key = tmp_path / "config" / "vein2vein" / "signing-key.pem"
    assert f"created: {key}" in said
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    (witness,) = (key.parent / "witness").glob("*.jsonl")
    assert stat.S_IMODE(witness.stat().st_mode) == 0o600
    heads = [json.loads(line) for line in witness.read_text().splitlines()]
    assert [h["seq"] for h in heads] == [1, 2]  # the key's registration, the first admin

    code, said = _cli(capsys, monkeypatch, "--db", db_url, "init")
    assert code == 0
    assert f"{Signer.load(key).key_id} in use: {key}" in said
    code, said = _cli(capsys, monkeypatch, "--db", db_url, "audit", "verify", "--json")
    data = json.loads(said)
    assert (code, data["ok"], data["entries"], data["witnessed_seq"]) == (0, True, 2, 2)


def test_init_makes_the_configured_key_of_a_new_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # VEIN2VEIN_SIGNING_KEY names a file still to be made, as in the README's tour.
    key = tmp_path / "service" / "signing-key.pem"
    monkeypatch.setenv("VEIN2VEIN_SIGNING_KEY", str(key))
    monkeypatch.delenv("VEIN2VEIN_WITNESS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    db_url = f"sqlite:///{tmp_path / 'records.db'}"
    code, said = _cli(
        capsys,
        monkeypatch,
        *("--db", db_url, "init", "--admin", "admin", "--password-stdin"),
        stdin=f"{PASSWORD}\n",
    )
    assert code == 0, said
    assert f"created: {key}" in said
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert not (tmp_path / "config").exists()  # not the default path
    code, said = _cli(capsys, monkeypatch, "--db", db_url, "audit", "verify", "--json")
    data = json.loads(said)
    assert (code, data["ok"], data["witnessed_seq"], data["notes"]) == (0, True, 2, [])


def test_init_makes_no_new_key_for_a_database_that_has_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "signing-key.pem"
    monkeypatch.setenv("VEIN2VEIN_SIGNING_KEY", str(key))
    db_url = f"sqlite:///{tmp_path / 'records.db'}"
    assert _cli(capsys, monkeypatch, "--db", db_url, "init")[0] == 0
    key.unlink()  # the key file is lost: the database needs it back, not a new one
    code, said = _cli(capsys, monkeypatch, "--db", db_url, "init")
    assert code == 4
    assert f"cannot read the signing key {key}" in said
    assert not key.exists()


def test_a_configured_key_is_made_only_while_the_database_has_none(
    any_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "signing-key.pem"
    monkeypatch.setenv("VEIN2VEIN_SIGNING_KEY", str(missing))
    assert keys.create_configured_key(any_db) is None  # it has the key of its upgrade
    assert not missing.exists()
    empty = Database(f"sqlite:///{tmp_path / 'new.db'}")  # no schema yet: no key
    try:
        made = keys.create_configured_key(empty)
    finally:
        empty.dispose()
    assert made is not None and made.key_id == Signer.load(missing).key_id
    assert keys.create_configured_key(any_db) is None  # the file exists now


# ---------------------------------------------------------------------- adoption


def test_an_archived_trail_is_adopted_as_it_stands(tmp_path: Path) -> None:
    copy = tmp_path / "records.db"
    shutil.copy(ARCHIVE, copy)
    db = Database(f"sqlite:///{copy}")
    db.upgrade()
    with db.read() as session:
        (key,) = keys.list_keys(session)
        (checkpoint,) = session.scalars(select(AuditCheckpoint)).all()
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        signatures = session.scalars(select(Signature)).all()
    assert key.endorsed_by is None
    assert last is not None
    assert (checkpoint.first_seq, checkpoint.seq) == (1, last.seq)
    assert last.reason is not None and last.reason.startswith("tamper evidence adopted")
    assert signatures and all(s.key_id == key.key_id for s in signatures)
    assert _verify(db).ok
    db.upgrade()  # idempotent: the key is registered once
    with db.read() as session:
        assert len(keys.list_keys(session)) == 1
    db.dispose()


def test_a_tampered_archived_trail_is_not_adopted(tmp_path: Path) -> None:
    copy = tmp_path / "records.db"
    shutil.copy(ARCHIVE, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE sites SET name = 'forged' WHERE id = 1")
    db = Database(f"sqlite:///{copy}")
    with pytest.raises(AuditIntegrityError, match=r"sites:1: differs from its last audited image"):
        db.upgrade()
    with db.read() as session:
        assert keys.list_keys(session) == []
    db.dispose()


# ---------------------------------------------------------------------- rotation


@pytest.fixture
def own(any_db: Database, signing_key_file: Path) -> Iterator[Network]:
    """A network whose database was made with a key of this test's own (not the session's)."""
    db = Database(any_db.url, signing_key=signing_key_file)
    db.downgrade("base")
    net = make_network(db)
    yield net
    db.dispose()


def test_rotation_keeps_what_the_old_key_signed_and_seals_with_the_new(
    own: Network, signing_key_file: Path
) -> None:
    db = own.db
    donation = make_donation(own)
    with db.unit_of_work(own.actor("qc_analyst")) as uow:
        first = sign(uow, uow.get(Donation, donation.din), password=PASSWORD, meaning="reviewed")
    old = Signer.load(signing_key_file)
    other = Database(db.url, signing_key=signing_key_file)  # another process, key already read
    assert other.seal.signer().key_id == old.key_id
    stale = Database(db.url, signing_key=Signer.from_private_key(old.private_key))

    with pytest.raises(PermissionDeniedError, match="admin"):
        keys.rotate_key(db, own.actor("operator"))
    record = keys.rotate_key(db, own.actor("admin"), reason="annual rotation")

    new = Signer.load(signing_key_file)
    assert (record.key_id, record.endorsed_by) == (new.key_id, old.key_id)
    assert new.key_id != old.key_id
    assert stat.S_IMODE(signing_key_file.stat().st_mode) == 0o600
    assert not signing_key_file.with_name(signing_key_file.name + ".new").exists()
    with db.read() as session:
        listed = [(k.key_id, k.retired_at is None) for k in keys.list_keys(session)]
    assert listed == [(old.key_id, False), (new.key_id, True)]

    with db.unit_of_work(own.actor("qa_reviewer")) as uow:
        second = sign(uow, uow.get(Donation, donation.din), password=PASSWORD, meaning="approved")
    assert (first.key_id, second.key_id) == (old.key_id, new.key_id)
    with other.unit_of_work(own.actor("operator")) as uow:  # it reads the new key file
        register_patient(uow, patient_code="PT-OTHER", treating_site="HUB-A")
    assert other.seal.signer().key_id == new.key_id
    with (
        pytest.raises(SigningKeyError, match=f"{old.key_id} was retired"),
        stale.unit_of_work(own.actor("operator")) as uow,
    ):
        register_patient(uow, patient_code="PT-STALE", treating_site="HUB-A")

    report = _verify(db)
    assert report.ok, report.findings
    with db.read() as session:
        statuses = signatures_of(session, session.get(Donation, donation.id))
    assert [s.valid for s in statuses] == [True, True]
    other.dispose()
    stale.dispose()


def test_a_retired_key_cannot_sign_after_its_retirement(
    own: Network, signing_key_file: Path
) -> None:
    """Someone who kept a copy of the old key re-seals the head with it, dated now."""
    db = own.db
    make_batch(own)
    old = Signer.load(signing_key_file)
    keys.rotate_key(db, own.actor("admin"))
    with db.read() as session:
        sealed = session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
        ).one()
    seq, now = sealed.seq, utcnow()
    statement = checkpoint_statement(
        first_seq=sealed.first_seq, seq=seq, hash=sealed.hash, key_id=old.key_id, signed_at=now
    )
    if db.backend == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_checkpoints_no_delete"))
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints WHERE seq = :s"), {"s": seq})
        conn.execute(
            insert(AuditCheckpoint).values(
                {**statement, "signed_at": now, "signature": old.sign(statement)}
            )
        )
    report = _verify(db)
    assert [(f.kind, f.seq) for f in report.findings] == [
        ("checkpoint", seq),
        *(("unsealed", s) for s in range(sealed.first_seq, seq + 1)),
    ]
    assert f"after key {old.key_id} was retired" in report.findings[0].message


def test_keys_rotate_and_list_through_the_cli(
    tmp_path: Path,
    signing_key_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VEIN2VEIN_SIGNING_KEY", str(signing_key_file))
    db_url = f"sqlite:///{tmp_path / 'records.db'}"
    code, said = _cli(
        capsys,
        monkeypatch,
        *("--db", db_url, "init", "--admin", "admin", "--password-stdin"),
        stdin=f"{PASSWORD}\n",
    )
    assert code == 0, said
    old = Signer.load(signing_key_file).key_id
    monkeypatch.setenv("VEIN2VEIN_SESSION_DIR", str(tmp_path / "sessions"))
    code, said = _cli(
        capsys,
        monkeypatch,
        *("--db", db_url, "-u", "admin", "login", "--password-stdin"),
        stdin=f"{PASSWORD}\n",
    )
    assert code == 0, said
    code, said = _cli(capsys, monkeypatch, "--db", db_url, "-u", "admin", "keys", "rotate")
    assert code == 0, said
    new = Signer.load(signing_key_file).key_id
    assert f"signing key rotated: {old} retired, {new} active" in said
    code, said = _cli(capsys, monkeypatch, "--db", db_url, "keys", "list", "--json")
    listed = json.loads(said)
    assert listed["configured"] == new
    assert [(k["key_id"], k["endorsed_by"]) for k in listed["keys"]] == [(old, None), (new, old)]
    code, said = _cli(capsys, monkeypatch, "--db", db_url, "audit", "verify")
    assert code == 0, said
    assert "audit trail intact" in said


# ---------------------------------------------------------------------- readings hash


def test_the_readings_hash_is_the_documented_line_form() -> None:
    t = datetime(2026, 3, 2, 8, 0, 0, 5, tzinfo=UTC)
    rows = [
        (2, 1, t, -0.0),
        (1, 3, t, 0.1 + 0.2),
        (1, 1, t.replace(hour=9), 1e22),
        (1, 1, t, 1e-300),
        (10, 1, t, 37.0),
    ]
    canonical = sorted(rows, key=lambda r: (r[0], r[1], r[2]))
    expected = hashlib.sha256("".join(reading_line(*r) for r in canonical).encode()).hexdigest()
    got = readings_sha256(
        batch_id=[r[0] for r in rows],
        parameter_id=[r[1] for r in rows],
        measured_at=np.array([r[2].replace(tzinfo=None) for r in rows], dtype="datetime64[us]"),
        value=[r[3] for r in rows],
    )
    assert got == expected
    assert reading_line(2, 1, t, -0.0) == "2,1,2026-03-02T08:00:00.000005+00:00,0.0\n"


# ---------------------------------------------------------------------- PostgreSQL roles


def _app_url() -> str:
    url = os.environ.get(APP_URL_ENV)
    if not url:
        if os.environ.get("VEIN2VEIN_REQUIRE_POSTGRES"):
            pytest.fail(f"VEIN2VEIN_REQUIRE_POSTGRES is set but {APP_URL_ENV} is not")
        pytest.skip(f"set {APP_URL_ENV} (a second login role) to test role separation")
    return url


@pytest.mark.postgres
def test_the_application_role_works_but_cannot_touch_the_trail(
    postgres_db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app_url = make_url(_app_url())
    role = app_url.username or ""
    owner = postgres_db
    net = make_network(owner)
    code, said = _cli(capsys, monkeypatch, "--db", _url(owner), "init", "--app-role", role)
    assert code == 0, said
    assert f"application role {role!r} granted" in said

    app = Database(app_url.update_query_dict({"options": owner.url.query["options"]}))
    try:
        _daily_work(app, net, tmp_path)
        report = _verify(app)
        assert report.ok, report.findings
        assert report.n_readings == 2

        refused = [
            "UPDATE audit_entries SET reason = 'x'",
            "DELETE FROM audit_entries",
            "TRUNCATE audit_entries",
            "ALTER TABLE audit_entries DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_entries_no_update_delete ON audit_entries",
            "UPDATE audit_checkpoints SET first_seq = 1",
            "DELETE FROM audit_checkpoints",
            "ALTER TABLE audit_checkpoints DISABLE TRIGGER ALL",
            "UPDATE readings SET value = 0",
            "DELETE FROM readings",
            "TRUNCATE readings",
            "DELETE FROM signatures",
        ]
        for statement in refused:
            with (
                pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
                app.engine.begin() as conn,
            ):
                conn.execute(text(statement))
        with app.engine.connect() as conn:  # it may append (rolled back, to keep the trail)
            trans = conn.begin()
            conn.execute(insert(AuditEntry).values(_junk_entry()))
            trans.rollback()
    finally:
        app.dispose()
    assert _verify(owner).ok


def _daily_work(app: Database, net: Network, tmp_path: Path) -> None:
    """Register, start a batch, ingest readings (COPY) and sign, as the application role."""
    with app.unit_of_work(app.actor("operator")) as uow:
        register_patient(uow, patient_code="PT-APP", treating_site="HUB-A")
    batch = make_batch(Network(db=app, sites=net.sites, actors=net.actors))
    with app.unit_of_work(app.actor("qa-reviewer")) as uow:
        register_parameter(uow, name="ph", unit="", step="expansion")
        sign(uow, uow.get(Batch, batch.id), password=PASSWORD, meaning="reviewed")
    readings = tmp_path / "ph.csv"
    readings.write_text(
        "batch,parameter,timestamp,value,unit\n"
        f"{batch.batch_code},ph,2026-01-06T08:00:00Z,7.2,\n"
        f"{batch.batch_code},ph,2026-01-06T09:00:00Z,7.1,\n"
    )
    with app.unit_of_work(app.actor("operator")) as uow:
        ingest_readings(uow, readings)


def _junk_entry() -> dict[str, Any]:
    return {
        "seq": 10**9,
        "recorded_at": datetime.now(UTC),
        "user_id": None,
        "username": "x",
        "user_role": "x",
        "action": "create",
        "record_table": "x",
        "record_id": 0,
        "changes": {},
        "after_image": {},
        "reason": None,
        "prev_hash": "0" * 64,
        "hash": "f" * 64,
    }


def test_an_application_role_is_refused_on_sqlite(
    db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, said = _cli(capsys, monkeypatch, "--db", _url(db), "init", "--app-role", "app")
    assert code == 2
    assert "field 'app_role'" in said

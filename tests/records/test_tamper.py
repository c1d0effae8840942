"""Tamper evidence: what a database-level attacker does behind the application's back,
and how ``audit verify`` names it (kind, record, message) and exits 1.

Every test tampers with SQL on the real database (a SQLite file, a PostgreSQL schema)
as the schema owner, who can drop or disable the append-only triggers.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select, text

from vein2vein.cli import main
from vein2vein.cli.sessions import open_cli_sessions
from vein2vein.identity import register_patient
from vein2vein.process.monitoring.ingest import ingest_readings, register_parameter
from vein2vein.records import (
    AssayResult,
    AuditEntry,
    Batch,
    Database,
    Infusion,
    Ingest,
    Reading,
    Sample,
    Signature,
    Signer,
    SigningKey,
    audit,
    content_hash,
    record_image,
    sign,
)
from vein2vein.records._statements import key_statement, signature_statement
from vein2vein.records._types import utcnow
from vein2vein.records.audit import entry_hash, entry_payload
from vein2vein.testing import PASSWORD, Network, make_batch

# ---------------------------------------------------------------------- the world


@dataclass
class World:
    """A network with a released-looking batch: a QA signature, a result, an infusion,
    and an ingest of sensor readings, all written through the application."""

    net: Network
    batch: Batch
    signature_id: int
    assay_result_id: int
    infusion_id: int
    ingest_id: int

    @property
    def db(self) -> Database:
        return self.net.db


@pytest.fixture
def world(network: Network, tmp_path: Path) -> World:
    db = network.db
    batch = make_batch(network)
    with db.unit_of_work(network.actor("qa_reviewer")) as uow:
        signature = sign(uow, uow.get(Batch, batch.id), password=PASSWORD, meaning="released")
    qc = network.actor("qc_analyst")
    with db.unit_of_work(qc) as uow:
        sample = uow.add(
            Sample(
                sample_code="S-REL-1",
                batch_id=batch.id,
                stage="release",
                collected_at=batch.started_at + timedelta(days=9),
            )
        )
        result = uow.add(
            AssayResult(
                sample_id=sample.id,
                analyte="viability",
                value_text="92",
                value=92.0,
                unit="%",
                entered_by_id=qc.user_id or 0,
            )
        )
    with db.unit_of_work(network.actor("clinician")) as uow:
        infusion = uow.add(
            Infusion(
                patient_id=batch.patient_id,
                batch_id=batch.id,
                din=batch.batch_code[-13:],
                infused_at=batch.started_at + timedelta(days=14),
                dose_cells=2.0e8,
                indication="ALL",
            )
        )
    with db.unit_of_work(network.actor("qa_reviewer")) as uow:
        register_parameter(uow, name="temperature", unit="degC", step="expansion")
    readings = tmp_path / "readings.csv"
    readings.write_text(
        "batch,parameter,timestamp,value,unit\n"
        + "".join(
            f"{batch.batch_code},temperature,2026-01-06T0{h}:00:00.1234567Z,{36.5 + h / 10},degC\n"
            for h in range(5)
        )
    )
    with db.unit_of_work(network.actor("operator")) as uow:
        ingest_id = ingest_readings(uow, readings).ingest_id
    assert _verify(db).findings == []
    return World(network, batch, signature.id, result.id, infusion.id, ingest_id)


# ---------------------------------------------------------------------- helpers


def _verify(db: Database) -> audit.VerifyReport:
    with db.read() as session:
        return audit.verify(session)


def _found(report: audit.VerifyReport) -> set[tuple[str, str | None]]:
    return {(f.kind, f.record) for f in report.findings}


def _url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def _cli_verify(db: Database, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """``vein2vein --db URL audit verify --json``: its exit code and report."""
    capsys.readouterr()
    code = main(["--db", _url(db), "audit", "verify", "--json"])
    return code, json.loads(capsys.readouterr().out)


def _cli_names(
    db: Database, capsys: pytest.CaptureFixture[str], kind: str, record: str | None
) -> str:
    """Assert the CLI exits 1 and names the finding; return its message."""
    code, data = _cli_verify(db, capsys)
    assert code == 1
    messages = [
        f["message"] for f in data["findings"] if (f["kind"], f["record"]) == (kind, record)
    ]
    assert messages, data["findings"]
    return messages[0]


def _sql(db: Database, *statements: str, **params: Any) -> None:
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def _allow_changes(db: Database, table: str) -> None:
    """What the owner of the tables can do: switch off the append-only triggers."""
    if db.backend == "postgresql":
        _sql(db, f"ALTER TABLE {table} DISABLE TRIGGER USER")
    else:
        _sql(db, f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete")


def _head(db: Database) -> tuple[int, str]:
    with db.read() as session:
        row = session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).one()
    return int(row[0]), str(row[1])


def _append_entry(db: Database, row: Any, *, action: str, who: tuple[int, str, str]) -> int:
    """Append a correctly hashed audit entry for ``row``, as someone who knows the formula."""
    seq, prev = _head(db)
    image = record_image(row)
    now = utcnow()
    payload = entry_payload(
        seq=seq + 1,
        recorded_at=now,
        user_id=who[0],
        username=who[1],
        user_role=who[2],
        action=action,
        record_table=type(row).__table__.name,
        record_id=row.id,
        changes={k: [None, v] for k, v in image.items() if v is not None},
        after_image=image,
        reason=None,
    )
    with db.engine.begin() as conn:
        conn.execute(
            insert(AuditEntry).values(
                {
                    **payload,
                    "recorded_at": now,
                    "prev_hash": prev,
                    "hash": entry_hash(prev, payload),
                }
            )
        )
    return seq + 1


def _write_something(net: Network, code: str) -> None:
    with net.db.unit_of_work(net.actor("operator")) as uow:
        register_patient(uow, patient_code=code, treating_site="HUB-A")


# ---------------------------------------------------------------------- deleted rows


@pytest.mark.parametrize(
    ("table", "attribute"),
    [
        pytest.param("signatures", "signature_id", id="qa-release-signature"),
        pytest.param("infusions", "infusion_id", id="infusion"),
        pytest.param("assay_results", "assay_result_id", id="assay-result"),
    ],
)
def test_a_deleted_data_row_is_named(
    world: World, capsys: pytest.CaptureFixture[str], table: str, attribute: str
) -> None:
    record_id = getattr(world, attribute)
    _sql(world.db, f"DELETE FROM {table} WHERE id = :id", id=record_id)

    report = _verify(world.db)
    assert _found(report) == {("missing", f"{table}:{record_id}")}
    assert report.first_bad_seq is None  # the chain itself is intact
    message = _cli_names(world.db, capsys, "missing", f"{table}:{record_id}")
    assert "has an audit history" in message
    assert "no row" in message
    # Without --json, each finding is one line: kind, record, message.
    assert main(["--db", _url(world.db), "audit", "verify"]) == 1
    printed = " ".join(capsys.readouterr().out.split())
    assert f"missing {table}:{record_id}: has an audit history" in printed


def test_a_row_without_history_is_named(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    with world.db.engine.begin() as conn:
        conn.execute(
            insert(Sample).values(
                sample_code="S-FORGED",
                batch_id=world.batch.id,
                stage="release",
                collected_at=world.batch.started_at,
            )
        )
    with world.db.read() as session:
        forged = session.scalars(select(Sample.id).where(Sample.sample_code == "S-FORGED")).one()
    assert _found(_verify(world.db)) == {("unaudited", f"samples:{forged}")}
    assert "no audit history" in _cli_names(world.db, capsys, "unaudited", f"samples:{forged}")


# ---------------------------------------------------------------------- a deleted tail


def _delete_tail(net: Network, *, checkpoints: bool) -> int:
    """Write a patient, then delete its entries, its row and (optionally) its checkpoint."""
    _write_something(net, "PT-TAIL")
    seq, _ = _head(net.db)
    _allow_changes(net.db, "audit_entries")
    statements = ["DELETE FROM audit_entries WHERE seq >= :seq"]
    if checkpoints:
        _allow_changes(net.db, "audit_checkpoints")
        statements.append("DELETE FROM audit_checkpoints WHERE seq >= :seq")
    _sql(net.db, *statements, "DELETE FROM patients WHERE patient_code = 'PT-TAIL'", seq=seq)
    return seq


def test_a_deleted_tail_with_its_rows_and_checkpoints_is_caught_by_the_witness(
    network: Network, capsys: pytest.CaptureFixture[str]
) -> None:
    seq = _delete_tail(network, checkpoints=True)

    report = _verify(network.db)
    assert _found(report) == {("witness", None)}
    assert report.witnessed_seq == seq
    message = _cli_names(network.db, capsys, "witness", None)
    assert f"the witness saw entry {seq}" in message
    assert f"the chain ends at entry {seq - 1}: its tail was deleted" in message


def test_without_the_witness_a_deleted_tail_goes_unseen(
    network: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit stated in docs/records.md: the key alone does not catch truncation."""
    _delete_tail(network, checkpoints=True)
    elsewhere = Database(network.db.url, witness_dir=tmp_path / "another-witness")
    report = _verify(elsewhere)
    elsewhere.dispose()
    assert report.ok
    assert any("seen no commit" in n for n in report.notes)


def test_a_deleted_tail_that_leaves_its_checkpoint_is_named(network: Network) -> None:
    seq = _delete_tail(network, checkpoints=False)
    report = _verify(network.db)
    assert ("checkpoint", None) in _found(report)
    assert any(
        f.kind == "checkpoint" and f.seq == seq and "sealed entries were deleted" in f.message
        for f in report.findings
    )


# ---------------------------------------------------------------------- readings


def _first_reading(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.min(Reading.id))) or 0)


@pytest.mark.parametrize("change", ["inserted", "deleted", "changed"])
def test_a_tampered_sensor_reading_is_named(
    world: World, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    db = world.db
    if change == "inserted":
        with db.engine.begin() as conn:
            parameter_id = conn.execute(text("SELECT min(parameter_id) FROM readings")).scalar()
            conn.execute(
                insert(Reading).values(
                    batch_id=world.batch.id,
                    parameter_id=parameter_id,
                    measured_at=world.batch.started_at + timedelta(days=1),
                    value=37.0,
                    ingest_id=world.ingest_id,
                )
            )
    else:
        _allow_changes(db, "readings")
        statement = {
            "deleted": "DELETE FROM readings WHERE id = :id",
            "changed": "UPDATE readings SET value = value + 0.5 WHERE id = :id",
        }[change]
        _sql(db, statement, id=_first_reading(db))

    assert _found(_verify(db)) == {("readings", f"ingests:{world.ingest_id}")}
    message = _cli_names(db, capsys, "readings", f"ingests:{world.ingest_id}")
    stored = {"inserted": 6, "deleted": 4, "changed": 5}[change]
    assert f"({stored} stored, 5 ingested;" in message
    assert "behind the application's back" in message


def test_a_reading_of_no_ingest_is_named(world: World) -> None:
    db = world.db
    row = (world.batch.id, world.batch.started_at + timedelta(days=2), 9999)
    if db.backend == "postgresql":
        _sql(db, "ALTER TABLE readings DROP CONSTRAINT fk_readings_ingest_id_ingests")
        with db.engine.begin() as conn:
            parameter_id = conn.execute(text("SELECT min(parameter_id) FROM readings")).scalar()
            conn.execute(
                insert(Reading).values(
                    batch_id=row[0],
                    parameter_id=parameter_id,
                    measured_at=row[1],
                    value=1.0,
                    ingest_id=row[2],
                )
            )
    else:
        with sqlite3.connect(db.url.database or "") as conn:  # foreign keys are off by default
            conn.execute(
                "INSERT INTO readings (batch_id, parameter_id, measured_at, value, ingest_id) "
                "SELECT batch_id, parameter_id, ?, 1.0, 9999 FROM readings LIMIT 1",
                (row[1].replace(tzinfo=None).isoformat(sep=" "),),
            )
    report = _verify(db)
    assert _found(report) == {("readings", "ingests:9999")}
    assert "which does not exist" in report.findings[0].message


def test_ingest_records_the_hash_of_the_readings_as_stored(world: World) -> None:
    from vein2vein.records.keys import stored_readings_sha256

    with world.db.read() as session:
        ingest = session.get(Ingest, world.ingest_id)
        assert ingest is not None
        assert ingest.readings_sha256 == stored_readings_sha256(session, ingest.id)
        stamps = session.scalars(select(Reading.measured_at).order_by(Reading.id)).all()
    # Sub-microsecond digits are dropped before storing (what both databases keep).
    assert {t.microsecond for t in stamps} == {123456}


# ---------------------------------------------------------------------- forgeries


def _forge_signature(world: World, *, key: Signer, key_id: str) -> int:
    """A QA release signature inserted with a correctly hashed audit entry."""
    qa = world.net.actor("qa_reviewer")
    with world.db.read() as session:
        batch = session.get(Batch, world.batch.id)
        assert batch is not None
        fields = {
            "record_table": "batches",
            "record_id": batch.id,
            "user_id": qa.user_id or 0,
            "printed_name": "Quinn Reviewer",
            "meaning": "approved",
            "signed_at": utcnow(),
            "content_hash": content_hash(batch),
            "key_id": key_id,
        }
    forged = key.sign(signature_statement(**fields))
    with world.db.engine.begin() as conn:
        conn.execute(insert(Signature).values(**fields, key_signature=forged))
    with world.db.read() as session:
        row = session.scalars(select(Signature).order_by(Signature.id.desc()).limit(1)).one()
    _append_entry(world.db, row, action="sign", who=(qa.user_id or 0, qa.username, qa.role))
    return row.id


def test_a_forged_signature_with_a_correctly_hashed_entry_is_named(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attacker knows the hash formula and the key id, not the private key."""
    with world.db.read() as session:
        active = session.scalars(select(SigningKey.key_id)).one()
    mallory = Signer.from_private_key(Ed25519PrivateKey.generate())
    forged = _forge_signature(world, key=mallory, key_id=active)
    seq, _ = _head(world.db)
    _write_something(world.net, "PT-AFTER")  # the application goes on writing

    report = _verify(world.db)
    where = f"signatures:{forged}"
    assert _found(report) == {("unsealed", where), ("signature", where)}
    assert report.first_bad_seq == seq
    message = _cli_names(world.db, capsys, "signature", where)
    assert f"does not verify under key {active}: forged" in message
    assert "written outside the application" in _cli_names(world.db, capsys, "unsealed", where)


def test_a_forged_key_record_does_not_make_forgeries_valid(world: World) -> None:
    """The attacker adds their own key (with a hashed entry) and signs with it."""
    mallory = Signer.from_private_key(Ed25519PrivateKey.generate())
    with world.db.read() as session:
        current = session.scalars(select(SigningKey)).one()
    now = utcnow()
    statement = key_statement(
        key_id=mallory.key_id,
        public_key=mallory.public_key,
        activated_at=now,
        endorsed_by=current.key_id,
    )
    _allow_changes(world.db, "audit_entries")  # nothing needs it, but an attacker would
    with world.db.engine.begin() as conn:
        conn.execute(
            insert(SigningKey).values(
                key_id=mallory.key_id,
                public_key=mallory.public_key,
                activated_at=now,
                endorsed_by=current.key_id,
                endorsement=mallory.sign(statement),  # not the current key's signature
            )
        )
    with world.db.read() as session:
        forged_key = session.scalars(select(SigningKey).order_by(SigningKey.id.desc())).first()
    assert forged_key is not None
    _append_entry(world.db, forged_key, action="create", who=(0, "admin", "admin"))
    forged = _forge_signature(world, key=mallory, key_id=mallory.key_id)

    found = _found(_verify(world.db))
    assert ("key", f"signing_keys:{forged_key.id}") in found
    assert ("signature", f"signatures:{forged}") in found
    assert ("unsealed", f"signatures:{forged}") in found
    assert ("unsealed", f"signing_keys:{forged_key.id}") in found


def test_a_rewritten_and_rehashed_chain_is_caught_by_the_checkpoints(world: World) -> None:
    """Edit an old entry and recompute every hash after it: the chain is consistent
    again, but the signed checkpoints and the witness remember the true heads."""
    db = world.db
    _allow_changes(db, "audit_entries")
    with db.read() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    start = len(entries) // 2
    prev = entries[start - 1].hash
    with db.engine.begin() as conn:
        for i, e in enumerate(entries[start:]):
            payload = entry_payload(
                seq=e.seq,
                recorded_at=e.recorded_at,
                user_id=e.user_id,
                username="mallory" if i == 0 else e.username,
                user_role=e.user_role,
                action=e.action,
                record_table=e.record_table,
                record_id=e.record_id,
                changes=e.changes,
                after_image=e.after_image,
                reason=e.reason,
            )
            digest = entry_hash(prev, payload)
            conn.execute(
                text(
                    "UPDATE audit_entries SET username = :u, prev_hash = :p, hash = :h "
                    "WHERE seq = :s"
                ),
                {"u": payload["username"], "p": prev, "h": digest, "s": e.seq},
            )
            prev = digest
    report = _verify(db)
    kinds = {f.kind for f in report.findings}
    assert not kinds & {"gap", "link", "hash"}  # the chain alone looks intact
    assert {"checkpoint", "witness"} <= kinds
    assert any("signed a different head hash" in f.message for f in report.findings)


# ---------------------------------------------------------------------- no key, wrong key


def _no_key_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No signing key in the environment, and none at the default path."""
    monkeypatch.delenv("VEIN2VEIN_SIGNING_KEY", raising=False)
    monkeypatch.delenv("VEIN2VEIN_WITNESS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_without_a_key_nothing_is_written_and_nothing_is_signed(
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from vein2vein.errors import SigningKeyError

    # Logged in while the key was configured (a login is an audit entry).
    monkeypatch.setenv("VEIN2VEIN_SESSION_DIR", str(tmp_path / "sessions"))
    open_cli_sessions(world.db, "qa-reviewer", folder=tmp_path / "sessions")
    _no_key_configured(monkeypatch, tmp_path)
    db = Database(world.db.url)
    entries, signatures = _count(db, AuditEntry), _count(db, Signature)
    with (
        pytest.raises(SigningKeyError, match="no signing key is configured"),
        db.unit_of_work(world.net.actor("operator")) as uow,
    ):
        register_patient(uow, patient_code="PT-NOKEY", treating_site="HUB-A")
    with (
        pytest.raises(SigningKeyError, match="no signing key is configured"),
        db.unit_of_work(world.net.actor("qa_reviewer")) as uow,
    ):
        sign(uow, uow.get(Batch, world.batch.id), password=PASSWORD, meaning="approved")
    assert (_count(db, AuditEntry), _count(db, Signature)) == (entries, signatures)

    # The CLI says so and exits 4.
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(f"{PASSWORD}\n"))
    capsys.readouterr()
    code = main(
        [
            *("--db", _url(db), "-u", "qa-reviewer", "sign", f"batch:{world.batch.batch_code}"),
            *("--meaning", "approved", "--password-stdin"),
        ]
    )
    assert code == 4
    assert "no signing key is configured" in " ".join(capsys.readouterr().err.split())
    assert _count(db, Signature) == signatures
    db.dispose()


def test_a_key_this_database_does_not_know_is_refused(
    network: Network, signing_key_file: Path
) -> None:
    from vein2vein.errors import SigningKeyError

    stranger = Database(network.db.url, signing_key=signing_key_file)
    with (
        pytest.raises(SigningKeyError, match="is not this database's key"),
        stranger.unit_of_work(network.actor("operator")) as uow,
    ):
        register_patient(uow, patient_code="PT-STRANGER", treating_site="HUB-A")
    stranger.dispose()

"""The audit trail: complete, chained, append-only, atomic with the data it describes."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from vein2vein.errors import ReasonRequiredError, RecordConflictError
from vein2vein.identity import register_patient, register_site
from vein2vein.records import AuditEntry, Database, Patient, Site, add_user, audit
from vein2vein.records.audit import GENESIS_HASH
from vein2vein.testing import Network, make_batch


def _entries(db: Database) -> list[AuditEntry]:
    with db.read() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_create_writes_entry_with_who_when_what(network: Network) -> None:
    admin = network.actor("admin")
    before = len(_entries(network.db))
    with network.db.unit_of_work(admin) as uow:
        site = register_site(uow, code="HUB-Z", name="Hub Z", facility_id="B1234")
    entries = _entries(network.db)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert (entry.user_id, entry.username, entry.user_role) == (admin.user_id, "admin", "admin")
    assert (entry.action, entry.record_table, entry.record_id) == ("create", "sites", site.id)
    assert entry.changes["facility_id"] == [None, "B1234"]
    assert entry.after_image["name"] == "Hub Z"
    assert entry.recorded_at.tzinfo is not None


def test_update_records_old_and_new_with_reason(network: Network) -> None:
    with network.db.unit_of_work(network.actor("admin")) as uow:
        site = uow.get(Site, "HUB-A")
        uow.change(site, name="Hub A (renamed)", reason="site merged")
    entry = _entries(network.db)[-1]
    assert entry.action == "update"
    assert entry.changes == {"name": ["HUB-A cell therapy unit", "Hub A (renamed)"]}
    assert entry.reason == "site merged"
    assert entry.after_image["name"] == "Hub A (renamed)"


def test_hash_chain_follows_the_documented_formula(network: Network) -> None:
    entries = _entries(network.db)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    prev = GENESIS_HASH
    for e in entries:
        payload = {
            "seq": e.seq,
            "recorded_at": e.recorded_at.isoformat(timespec="microseconds"),
            "user_id": e.user_id,
            "username": e.username,
            "user_role": e.user_role,
            "action": e.action,
            "record_table": e.record_table,
            "record_id": e.record_id,
            "changes": e.changes,
            "after_image": e.after_image,
            "reason": e.reason,
        }
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        expected = hashlib.sha256((prev + canonical).encode()).hexdigest()
        assert e.prev_hash == prev
        assert e.hash == expected
        prev = e.hash


def test_verify_passes_on_an_intact_trail(network: Network) -> None:
    make_batch(network)
    with network.db.read() as session:
        report = audit.verify(session)
    assert report.ok, report.findings
    assert report.n_entries == len(_entries(network.db))
    assert report.first_bad_seq is None


def test_triggers_refuse_update_and_delete_of_audit_rows(any_db: Database) -> None:
    with any_db.unit_of_work(any_db.system) as uow:
        add_user(uow, username="root", full_name="Root", role="admin", password="trail-test-pw-9")
    n = len(_entries(any_db))
    for statement in (
        "UPDATE audit_entries SET reason = 'x'",
        "DELETE FROM audit_entries",
        "UPDATE audit_checkpoints SET first_seq = 1",
        "DELETE FROM audit_checkpoints",
    ):
        with pytest.raises(DBAPIError, match="append-only"), any_db.engine.begin() as conn:
            conn.execute(text(statement))
    assert len(_entries(any_db)) == n == 2  # the signing key's registration, the user


def _drop_triggers(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.backend == "postgresql":
            conn.execute(text("DROP TRIGGER audit_entries_no_update_delete ON audit_entries"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            conn.execute(text("DROP TRIGGER audit_entries_no_delete"))


def test_tampered_entry_is_found_and_named(network: Network) -> None:
    make_batch(network)
    n = len(_entries(network.db))
    target = n // 2
    _drop_triggers(network.db)  # what an attacker with database rights could do
    with network.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_entries SET username = 'mallory' WHERE seq = :s"), {"s": target}
        )
    with network.db.read() as session:
        report = audit.verify(session, check_records=False)
    assert not report.ok
    assert report.first_bad_seq == target
    assert any(f.kind == "hash" and f.seq == target for f in report.findings)


def test_deleted_entry_breaks_the_chain(network: Network) -> None:
    n = len(_entries(network.db))
    _drop_triggers(network.db)
    with network.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = :s"), {"s": n - 1})
    with network.db.read() as session:
        report = audit.verify(session, check_records=False)
    assert report.first_bad_seq == n
    assert {f.kind for f in report.findings} >= {"gap", "link"}


def test_data_row_changed_behind_the_back_is_found(network: Network) -> None:
    with network.db.engine.begin() as conn:
        conn.execute(text("UPDATE sites SET name = 'forged' WHERE code = 'HUB-B'"))
    with network.db.read() as session:
        report = audit.verify(session)
        site_id = session.scalars(select(Site.id).where(Site.code == "HUB-B")).one()
    assert not report.ok
    assert report.first_bad_seq is None  # the chain itself is intact
    (finding,) = report.findings
    assert finding.record == f"sites:{site_id}"
    assert "'name'" in finding.message
    assert "forged" in finding.message


def test_failure_mid_write_leaves_neither_data_nor_audit(network: Network) -> None:
    entries, patients = len(_entries(network.db)), _count(network.db, Patient)

    class Interrupted(Exception):
        pass

    with (
        pytest.raises(Interrupted),
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        register_patient(uow, patient_code="PT-ATOMIC", treating_site="HUB-A")
        assert _count_in(uow.session, Patient) == patients + 1  # flushed in the transaction
        raise Interrupted
    assert _count(network.db, Patient) == patients
    assert len(_entries(network.db)) == entries


def test_constraint_failure_in_second_write_rolls_back_the_first(network: Network) -> None:
    entries, patients = len(_entries(network.db)), _count(network.db, Patient)
    with (
        pytest.raises(RecordConflictError),
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        register_patient(uow, patient_code="PT-NEW", treating_site="HUB-A")
        uow.add(Patient(patient_code="PT-NEW", treating_site_id=1))  # duplicate code
    assert _count(network.db, Patient) == patients
    assert len(_entries(network.db)) == entries


def _count_in(session: object, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())  # type: ignore[attr-defined]


def test_records_are_never_deleted(network: Network) -> None:
    with (
        pytest.raises(RecordConflictError, match="never deleted"),
        network.db.unit_of_work(network.actor("admin")) as uow,
    ):
        uow.session.delete(uow.get(Site, "HUB-B"))
        uow.flush()
    assert _count(network.db, Site) == 2


def test_change_to_released_batch_needs_a_reason(network: Network) -> None:
    batch = make_batch(network)
    with network.db.unit_of_work(network.actor("qa_reviewer"), reason="lot released") as uow:
        uow.change(uow.get(type(batch), batch.id), status="released")
    with (
        pytest.raises(ReasonRequiredError, match="it is released"),
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        uow.change(uow.get(type(batch), batch.id), product="something else")
    with network.db.unit_of_work(network.actor("operator")) as uow:
        uow.change(uow.get(type(batch), batch.id), product="renamed", reason="typo in label")
    assert _entries(network.db)[-1].reason == "typo in label"


def test_blank_reason_is_refused(network: Network) -> None:
    with (
        pytest.raises(ReasonRequiredError, match="blank"),
        network.db.unit_of_work(network.actor("admin")) as uow,
    ):
        uow.change(uow.get(Site, "HUB-A"), name="x", reason="   ")


def test_concurrent_writers_keep_one_unbroken_chain(network: Network) -> None:
    operator = network.actor("operator")
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(8):
                with network.db.unit_of_work(operator) as uow:
                    register_patient(uow, patient_code=f"PT-{worker}-{i}", treating_site="HUB-A")
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with network.db.read() as session:
        report = audit.verify(session)
    assert report.ok, report.findings
    assert _count(network.db, Patient) == 32


def test_rolled_back_savepoint_does_not_break_the_chain(network: Network) -> None:
    with network.db.unit_of_work(network.actor("operator")) as uow:
        register_patient(uow, patient_code="PT-KEEP-1", treating_site="HUB-A")
        savepoint = uow.session.begin_nested()
        register_patient(uow, patient_code="PT-DROPPED", treating_site="HUB-A")
        savepoint.rollback()
        register_patient(uow, patient_code="PT-KEEP-2", treating_site="HUB-A")
    with network.db.read() as session:
        report = audit.verify(session)
        codes = set(session.scalars(select(Patient.patient_code)))
    assert report.ok, report.findings
    assert {"PT-KEEP-1", "PT-KEEP-2"} <= codes
    assert "PT-DROPPED" not in codes


def test_many_records_in_one_flush_are_each_audited(network: Network) -> None:
    before = len(_entries(network.db))
    with network.db.unit_of_work(network.actor("operator")) as uow:
        uow.add_all(Patient(patient_code=f"PT-BULK-{i}", treating_site_id=1) for i in range(25))
    entries = _entries(network.db)[before:]
    assert len(entries) == 25
    assert {e.after_image["patient_code"] for e in entries} == {f"PT-BULK-{i}" for i in range(25)}
    with network.db.read() as session:
        assert audit.verify(session).ok

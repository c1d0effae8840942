"""Readers beside writers, and a writer that waits too long gets a clear error.

On SQLite (WAL) a read is a deferred transaction on a query-only connection: it reads a
snapshot while another process holds the write lock, and a long read (``audit verify``)
does not hold writers up. A writer that cannot get the lock within ``lock_timeout_s``
raises :class:`DatabaseBusyError` (the CLI's exit 4), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from vein2vein.cli import main
from vein2vein.cli.sessions import open_cli_sessions
from vein2vein.errors import DatabaseBusyError
from vein2vein.identity import register_patient
from vein2vein.records import AuditEntry, Database, Patient, audit
from vein2vein.testing import Network, make_batch, make_network


@contextmanager
def writer_holding_the_lock(db: Database) -> Iterator[None]:
    """Another process's writer, mid-transaction, seen from outside the application."""
    if db.backend == "sqlite":
        with closing(sqlite3.connect(db.url.database, isolation_level=None)) as con:
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO alembic_version VALUES ('uncommitted')")
            yield
            con.execute("ROLLBACK")
        return
    engine = create_engine(db.url)
    try:
        with engine.begin() as conn:
            conn.execute(audit._LOCK, {"k": audit._PG_CHAIN_LOCK})
            yield
    finally:
        engine.dispose()


@pytest.fixture
def net(any_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Network]:
    made = make_network(any_db)
    # Reopened with a short lock time-out once the network is made.
    monkeypatch.setenv("VEIN2VEIN_LOCK_TIMEOUT_S", "0.5")
    db = Database(any_db.url)
    yield Network(db=db, sites=made.sites, actors=made.actors)
    db.dispose()


def test_a_reader_does_not_wait_for_a_writer(net: Network) -> None:
    batch = make_batch(net)
    with writer_holding_the_lock(net.db), net.db.read() as session:
        n = session.execute(select(func.count()).select_from(Patient)).scalar_one()
        code = session.get(type(batch), batch.id).batch_code  # type: ignore[union-attr]
    assert (n, code) == (1, batch.batch_code)


def test_a_writer_that_waits_too_long_gets_a_clear_error(net: Network) -> None:
    with net.db.read() as s:
        before = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    with (
        writer_holding_the_lock(net.db),
        pytest.raises(
            DatabaseBusyError,
            match=r"busy: another writer held its lock for more "
            r"than 0.5 s; nothing was written",
        ),
        net.db.unit_of_work(net.actor("operator")) as uow,
    ):
        register_patient(uow, patient_code="PT-LOCKED", treating_site="HUB-A")
    with net.db.read() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before


def test_a_long_read_does_not_hold_writers_up(net: Network) -> None:
    with net.db.read() as session:
        # The read transaction is open (it has read), as during a long `audit verify`.
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        with net.db.unit_of_work(net.actor("operator")) as uow:
            register_patient(uow, patient_code="PT-WRITTEN", treating_site="HUB-A")
        # The reader still sees its snapshot.
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == len(
            entries
        )
    with net.db.read() as s:
        assert s.scalars(select(Patient.patient_code)).all() == ["PT-WRITTEN"]


def test_a_read_session_cannot_write_on_sqlite(db: Database) -> None:
    with db.read() as session, pytest.raises(OperationalError, match="readonly"):
        session.execute(text("DELETE FROM alembic_version"))


def test_the_cli_reads_beside_a_writer_and_a_blocked_write_exits_4(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VEIN2VEIN_LOCK_TIMEOUT_S", "0.5")
    url = f"sqlite:///{tmp_path / 'records.db'}"
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", url)
    net = make_network(Database(url))
    batch = make_batch(net)
    monkeypatch.setenv("VEIN2VEIN_SESSION_DIR", str(tmp_path / "sessions"))
    open_cli_sessions(url, "operator", folder=tmp_path / "sessions")

    with writer_holding_the_lock(net.db):
        capsys.readouterr()
        assert main(["batch", "show", batch.batch_code, "--json"]) == 0
        assert batch.batch_code in capsys.readouterr().out
        assert main(["audit", "verify"]) == 0
        capsys.readouterr()
        code = main(["-u", "operator", "patient", "add", "PT-9", "--site", "HUB-A"])
        err = capsys.readouterr().err
    assert code == 4, err
    assert "the database is busy" in err
    assert "Traceback" not in err

"""The schema: migrations equal the models, both backends, archived databases still load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from vein2vein.errors import Vein2veinError
from vein2vein.records import Base, Batch, Database, Donation, audit, signatures_of

ARCHIVES = Path(__file__).parents[1] / "data" / "archives"


def test_migrations_produce_exactly_the_models(any_db: Database) -> None:
    with any_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert any_db.current_revision() == any_db.head_revision()


def test_downgrade_and_upgrade_round_trip(any_db: Database) -> None:
    any_db.downgrade("base")
    assert any_db.current_revision() is None
    any_db.upgrade()
    assert any_db.current_revision() == any_db.head_revision()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_unmigrated_database_is_refused_with_advice(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(Vein2veinError, match="vein2vein init"):
        db.check_schema()


@pytest.mark.parametrize(
    "archive", sorted(ARCHIVES.glob("v*/records.db")), ids=lambda p: p.parent.name
)
def test_archived_database_loads_migrates_and_verifies(archive: Path, tmp_path: Path) -> None:
    copy = tmp_path / "records.db"
    shutil.copy(archive, copy)
    db = Database(f"sqlite:///{copy}")
    db.upgrade()
    db.check_schema()
    with db.read() as session:
        report = audit.verify(session)
        assert report.ok, report.findings
        batch = session.scalars(select(Batch)).first()
        assert batch is not None
        donation = session.get(Donation, batch.donation_id)
        assert donation is not None
        statuses = signatures_of(session, donation)
    assert statuses
    assert all(s.valid for s in statuses)


def test_there_is_an_archive_for_the_current_release() -> None:
    from vein2vein import __version__

    major_minor = ".".join(__version__.split(".")[:2])
    assert (ARCHIVES / f"v{major_minor}" / "records.db").exists()

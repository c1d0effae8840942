"""pytest plugin: real databases for tests.

``db`` is a fresh, migrated SQLite database in a temporary folder. With
``VEIN2VEIN_TEST_POSTGRES_URL`` set (CI sets it), tests marked ``postgres`` and the
``any_db`` fixture also run against a real PostgreSQL server, each test in a fresh
schema of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..records import Database
from ._factories import Network, make_network

POSTGRES_ENV = "VEIN2VEIN_TEST_POSTGRES_URL"


def _postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'records.db'}")
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def postgres_db() -> Iterator[Database]:
    url = _postgres_url()
    if url is None:
        if os.environ.get("VEIN2VEIN_REQUIRE_POSTGRES"):
            pytest.fail(f"VEIN2VEIN_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not")
        pytest.skip(f"set {POSTGRES_ENV} to run against PostgreSQL")
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    db = Database(f"{url}{sep}options=-csearch_path%3D{schema}")
    db.upgrade()
    try:
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest) -> Database:
    """The same test on SQLite and on PostgreSQL (skipped there without a server)."""
    name = "sqlite_db" if request.param == "sqlite" else "postgres_db"
    db: Database = request.getfixturevalue(name)
    return db


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    return sqlite_db


@pytest.fixture
def network(any_db: Database) -> Network:
    """Two sites and one user per role, on SQLite and PostgreSQL."""
    return make_network(any_db)

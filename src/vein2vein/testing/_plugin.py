"""pytest plugin: real databases for tests.

``db`` is a fresh, migrated SQLite database in a temporary folder. With
``VEIN2VEIN_TEST_POSTGRES_URL`` set (CI sets it), tests marked ``postgres`` and the
``any_db`` fixture also run against a real PostgreSQL server, each test in a fresh
schema of its own.

Every database needs the service's signing key to write. For the test session the
plugin makes a temporary key and witness folder and points ``VEIN2VEIN_SIGNING_KEY``
and ``VEIN2VEIN_WITNESS_DIR`` at them (replacing any the environment had, so tests
never touch a real key), so every :class:`~vein2vein.records.Database` a test opens,
and every CLI subprocess it starts, has one. ``signing_key_file`` gives a test a key
of its own.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from ..records import Database, Signer
from ._factories import Network, make_network

POSTGRES_ENV = "VEIN2VEIN_TEST_POSTGRES_URL"
_KEY_ENVS = ("VEIN2VEIN_SIGNING_KEY", "VEIN2VEIN_WITNESS_DIR")
_SESSION_KEYS = pytest.StashKey[tuple[Path, dict[str, str | None]]]()


def pytest_configure(config: pytest.Config) -> None:
    """Give the test session a temporary signing key and witness folder."""
    folder = Path(tempfile.mkdtemp(prefix="vein2vein-test-key-"))
    Signer.generate(folder / "signing-key.pem")
    saved = {name: os.environ.get(name) for name in _KEY_ENVS}
    config.stash[_SESSION_KEYS] = (folder, saved)
    os.environ["VEIN2VEIN_SIGNING_KEY"] = str(folder / "signing-key.pem")
    os.environ["VEIN2VEIN_WITNESS_DIR"] = str(folder / "witness")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Restore the environment and remove the session's key."""
    folder, saved = config.stash.get(_SESSION_KEYS, (None, {}))
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new signing key file of this test's own (its witness goes to ``witness/`` beside)."""
    path = tmp_path_factory.mktemp("key") / "signing-key.pem"
    Signer.generate(path)
    return path


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


@pytest.fixture(scope="session")
def network_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Network]:
    """A SQLite network made once per test session (Argon2 hashing is deliberately slow)."""
    path = tmp_path_factory.mktemp("network") / "template.db"
    db = Database(f"sqlite:///{path}")
    try:
        return path, make_network(db)
    finally:
        db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def network(
    request: pytest.FixtureRequest, tmp_path: Path, network_template: tuple[Path, Network]
) -> Iterator[Network]:
    """Two sites and one user per role, on SQLite and PostgreSQL.

    On SQLite each test gets a fresh copy of the session's template (the same records,
    users and passwords as :func:`~vein2vein.testing.make_network` makes).
    """
    if request.param == "postgresql":
        yield make_network(request.getfixturevalue("postgres_db"))
        return
    template, made = network_template
    path = tmp_path / "records.db"
    with closing(sqlite3.connect(template)) as src, closing(sqlite3.connect(path)) as dst:
        src.backup(dst)
    db = Database(f"sqlite:///{path}")
    yield Network(db=db, sites=dict(made.sites), actors=dict(made.actors))
    db.dispose()

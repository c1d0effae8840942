"""``network`` for the release tests: on SQLite, a copy of sites and users made once per module."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from vein2vein.records import Database
from vein2vein.testing import Network, make_network


@pytest.fixture(scope="module")
def network_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Network]:
    """Sites and one user per role, made once (Argon2 hashing is deliberately slow)."""
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
    """The plugin's ``network``; on SQLite a fresh copy of the module's template."""
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

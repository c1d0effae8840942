"""Scaffolding shared by the ``bench_*.py`` scripts: backends, run metadata, output.

Not a benchmark itself (``make bench`` runs ``benchmarks/bench_*.py`` only). The scripts
are run as files (``.venv/bin/python benchmarks/bench_x.py``), so Python puts this
folder first on ``sys.path`` and they import this module as plain ``_common``; no
package, no path set-up.

* :class:`SQLiteBackend` / :class:`PostgresBackend` hand out fresh, migrated
  databases: SQLite files in a temporary folder (WAL, as :class:`Database` sets up),
  PostgreSQL schemas (``options=-csearch_path=<schema>``) dropped again on close. A
  script that needs more of a backend (a reference insert, a lock probe) subclasses
  them.
* :func:`postgres_url` finds the PostgreSQL URL (``--postgres-url``, then
  ``VEIN2VEIN_BENCH_POSTGRES_URL``, then ``VEIN2VEIN_TEST_POSTGRES_URL``);
  :func:`add_backend_args` adds ``--backend`` and ``--postgres-url`` to a parser.
* :func:`run_metadata` is the ``metadata`` object every script prints,
  :func:`verify_trail` the audit-trail check, :func:`print_json` the output.
* Audited writes need the service's signing key: importing this module gives the run a
  temporary key and witness folder (``VEIN2VEIN_SIGNING_KEY``, ``VEIN2VEIN_WITNESS_DIR``),
  never the user's own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

import vein2vein
from vein2vein.records import Database, Signer, audit

POSTGRES_ENVS = ("VEIN2VEIN_BENCH_POSTGRES_URL", "VEIN2VEIN_TEST_POSTGRES_URL")
POSTGRES_SKIPPED = {"skipped": f"set {' or '.join(POSTGRES_ENVS)} (or --postgres-url)"}
BACKENDS = ("sqlite", "postgresql")
# The start of every script's ``metadata.note``; each adds what to compare.
NOISE_NOTE = "Wall-clock seconds on a shared machine (often 2 cores) are noisy; "

_KEYS = tempfile.TemporaryDirectory(prefix="v2v-bench-key-")
Signer.generate(Path(_KEYS.name) / "signing-key.pem")
os.environ["VEIN2VEIN_SIGNING_KEY"] = str(Path(_KEYS.name) / "signing-key.pem")
os.environ["VEIN2VEIN_WITNESS_DIR"] = str(Path(_KEYS.name) / "witness")


# ---------------------------------------------------------------------- backends


class Backend:
    """Hands out fresh, migrated databases of one kind and cleans them up."""

    name = ""

    def new_database(self) -> Database:
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SQLiteBackend(Backend):
    """Each database is a file in one temporary folder, removed on :meth:`close`."""

    name = "sqlite"
    # PRAGMAs reported by :meth:`info`, in order (a script may add to them).
    pragmas: tuple[str, ...] = ("journal_mode", "synchronous")

    def __init__(self, prefix: str = "v2v-bench-") -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=prefix)
        self.folder = Path(self._tmp.name)
        self._dbs: list[Database] = []

    def new_database(self) -> Database:
        db = Database(f"sqlite:///{self.folder / f'records-{len(self._dbs)}.db'}")
        self._dbs.append(db)
        return db

    def info(self) -> dict[str, Any]:
        db = self._dbs[0] if self._dbs else self.new_database()
        with db.engine.connect() as conn:
            return {
                "server_version": conn.exec_driver_sql("SELECT sqlite_version()").scalar(),
                **{p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in self.pragmas},
                "location": "file in a temporary folder",
            }

    def close(self) -> None:
        for db in self._dbs:
            db.dispose()
        self._tmp.cleanup()


class PostgresBackend(Backend):
    """Each database is a fresh schema, dropped again on :meth:`close`."""

    name = "postgresql"

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url: URL = parsed
        self._admin: Engine = create_engine(parsed)
        self._schemas: list[str] = []
        self._dbs: list[Database] = []

    def new_database(self) -> Database:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with self._admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self._schemas.append(schema)
        db = Database(self.url.update_query_dict({"options": f"-csearch_path={schema}"}))
        self._dbs.append(db)
        return db

    def info(self) -> dict[str, Any]:
        with self._admin.connect() as conn:
            return {
                "server_version": conn.exec_driver_sql("SHOW server_version").scalar(),
                "synchronous_commit": conn.exec_driver_sql("SHOW synchronous_commit").scalar(),
                "fsync": conn.exec_driver_sql("SHOW fsync").scalar(),
                "url": self.url.render_as_string(hide_password=True),
            }

    def close(self) -> None:
        for db in self._dbs:
            db.dispose()
        try:
            with self._admin.begin() as conn:
                for schema in self._schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            self._admin.dispose()


B = TypeVar("B", bound=Backend)


@contextmanager
def open_backend(backend: B) -> Iterator[B]:
    """Yield ``backend`` and close it (temporary folder / schemas) however the run ends."""
    try:
        yield backend
    finally:
        backend.close()


# ---------------------------------------------------------------------- arguments


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    """``--backend`` (sqlite, postgresql or all) and ``--postgres-url``."""
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all", help="which to run")
    parser.add_argument(
        "--postgres-url",
        default=None,
        help=f"PostgreSQL URL (default: ${POSTGRES_ENVS[0]} or ${POSTGRES_ENVS[1]})",
    )


def postgres_url(arg: str | None) -> tuple[str | None, str | None]:
    """The PostgreSQL URL to use and where it came from, or ``(None, None)``."""
    if arg:
        return arg, "--postgres-url"
    for env in POSTGRES_ENVS:
        if os.environ.get(env):
            return os.environ[env], env
    return None, None


# ---------------------------------------------------------------------- metadata


def package_versions(*names: str) -> dict[str, str]:
    """Installed distribution versions by name (``not installed`` where missing)."""
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except Exception:  # noqa: BLE001 - metadata only
            out[name] = "not installed"
    return out


def cpus() -> dict[str, Any]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu_count": os.cpu_count(), "usable_cpus": usable}


def run_metadata(versions: dict[str, str], note: str, **extra: Any) -> dict[str, Any]:
    """Timestamp, versions, platform and CPUs, then ``extra``, then ``note``."""
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "vein2vein": vein2vein.__version__,
        **versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        **cpus(),
        **extra,
        "note": note,
    }


# ---------------------------------------------------------------------- checks, output


def verify_trail(db: Database, *, bypassed: tuple[str, ...] = ()) -> dict[str, Any]:
    """:func:`vein2vein.records.audit.verify` on ``db``, as a JSON-ready summary.

    ``bypassed`` names records (``"ingests:3"``) that the benchmark wrote behind the
    application's back on purpose (a raw-insert reference): their findings are listed
    as expected and do not make the trail fail; any other finding does.
    """
    start = time.perf_counter()
    with db.read() as session:
        report = audit.verify(session)
    expected = [f for f in report.findings if f.record in bypassed]
    other = [f for f in report.findings if f.record not in bypassed]
    return {
        "ok": report.ok or (not other and bool(expected)),
        "n_entries": report.n_entries,
        "n_records": report.n_records,
        "n_checkpoints": report.n_checkpoints,
        "first_bad_seq": report.first_bad_seq,
        "findings": [f"{f.kind} {f.seq} {f.record}: {f.message}" for f in other[:5]],
        "n_findings": len(other),
        "expected_findings": [f"{f.kind} {f.record}: {f.message}" for f in expected[:5]],
        "seconds": round(time.perf_counter() - start, 4),
    }


def print_json(out: dict[str, Any]) -> None:
    """The script's result: one JSON object on stdout."""
    print(json.dumps(out, indent=2, default=str))

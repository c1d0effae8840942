"""Audited record writes per second, next to plain inserts of the same rows.

For each backend (SQLite in a temporary folder, WAL; PostgreSQL when
``VEIN2VEIN_BENCH_POSTGRES_URL`` or ``VEIN2VEIN_TEST_POSTGRES_URL`` is set) and each
mode, N ``Patient`` records are written twice, side by side in this process:

* audited: ``uow.add(Patient(...))`` through ``Database.unit_of_work``, so the flush
  hook writes a hash-chained audit entry in the same transaction;
* plain: SQLAlchemy Core ``insert(patients)`` into the same table of a second, fresh
  database (or schema) with the same sites and users, no audit hook involved.

Modes: ``per_transaction`` (one record per unit of work, the realistic GMP path;
audited and plain run interleaved in chunks so machine noise hits both alike) and
``batched`` (all N records in one unit of work / one executemany; ``uow.add`` flushes
each record, so the audited side is N flushes). Batched also reports, as a diagnostic,
N more audited records added in one unit of work with a single flush
(``audited_one_flush_writes_per_s``). At the end each audited trail is checked with
:func:`vein2vein.records.audit.verify`.

Prints one JSON object on stdout; progress goes to stderr. Exits 1 if a trail does
not verify. Run: ``.venv/bin/python benchmarks/bench_audit_writes.py [--n 2000]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import sqlalchemy
from sqlalchemy import func, insert, select

# benchmarks/_common.py: run as a file, this script's folder is first on sys.path.
from _common import (
    NOISE_NOTE,
    POSTGRES_SKIPPED,
    Backend,
    PostgresBackend,
    SQLiteBackend,
    add_backend_args,
    open_backend,
    postgres_url,
    print_json,
    run_metadata,
    verify_trail,
)
from vein2vein.records import Actor, AuditEntry, Database, Patient, Site
from vein2vein.testing import make_network

MODES = ("per_transaction", "batched")
NOTE = NOISE_NOTE + (
    "the ratio plain/audited, measured side by side in one process, is the figure to compare."
)


def _log(msg: str) -> None:
    print(f"[bench_audit_writes] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- one run


class Pair:
    """An audited database and a plain one, each with the same sites and users."""

    def __init__(self, backend: Backend, tag: str) -> None:
        self.tag = tag
        self.audited = backend.new_database()
        self.plain = backend.new_database()
        net = make_network(self.audited)
        make_network(self.plain)
        self.actor: Actor = net.actor("operator")
        self.site_id = self._site_id(self.audited)
        if self._site_id(self.plain) != self.site_id:
            msg = "the two networks differ; the plain rows would not match the audited ones"
            raise RuntimeError(msg)
        self.table = Patient.metadata.tables["patients"]
        self._next = 0

    @staticmethod
    def _site_id(db: Database) -> int:
        with db.read() as session:
            return session.scalars(select(Site.id).order_by(Site.id).limit(1)).one()

    def rows(self, k: int) -> list[dict[str, Any]]:
        out = [
            {
                "patient_code": f"BENCH-{self.tag}-{self._next + i:07d}",
                "treating_site_id": self.site_id,
            }
            for i in range(k)
        ]
        self._next += k
        return out

    # Audited: the public unit-of-work path, one flush (and audit entry) per add.
    def audited_per_transaction(self, rows: list[dict[str, Any]]) -> float:
        start = time.perf_counter()
        for row in rows:
            with self.audited.unit_of_work(self.actor) as uow:
                uow.add(Patient(**row))
        return time.perf_counter() - start

    def audited_batched(self, rows: list[dict[str, Any]]) -> float:
        start = time.perf_counter()
        with self.audited.unit_of_work(self.actor) as uow:
            for row in rows:
                uow.add(Patient(**row))
        return time.perf_counter() - start

    # Diagnostic: the same batch in ONE flush (what an ``add_all`` would do), to
    # separate the per-flush overhead of ``uow.add`` from the per-entry audit cost.
    def audited_one_flush(self, rows: list[dict[str, Any]]) -> float:
        start = time.perf_counter()
        with self.audited.unit_of_work(self.actor) as uow:
            uow.session.add_all([Patient(**row) for row in rows])
            uow.flush()
        return time.perf_counter() - start

    # Plain: Core inserts on the same engine (same pragmas / BEGIN IMMEDIATE on SQLite).
    def plain_per_transaction(self, rows: list[dict[str, Any]]) -> float:
        stmt = insert(self.table)
        start = time.perf_counter()
        for row in rows:
            with self.plain.engine.begin() as conn:
                conn.execute(stmt, [row])
        return time.perf_counter() - start

    def plain_batched(self, rows: list[dict[str, Any]]) -> float:
        stmt = insert(self.table)
        start = time.perf_counter()
        with self.plain.engine.begin() as conn:
            conn.execute(stmt, rows)
        return time.perf_counter() - start

    def count(self, db: Database, what: Any) -> int:
        with db.read() as session:
            return int(session.scalar(select(func.count()).select_from(what)) or 0)


def run_mode(pair: Pair, mode: str, n: int, chunk: int) -> dict[str, Any]:
    patients_before = pair.count(pair.audited, Patient)
    entries_before = pair.count(pair.audited, AuditEntry)
    plain_before = pair.count(pair.plain, Patient)
    audited_s = plain_s = 0.0
    extra: dict[str, Any] = {}
    expected = n
    if mode == "per_transaction":
        # Interleave in chunks, alternating which goes first, so drift and noisy
        # neighbours on the machine fall on both sides alike.
        for k, start in enumerate(range(0, n, chunk)):
            size = min(chunk, n - start)
            rows = pair.rows(size)  # the same rows go into both databases
            if k % 2 == 0:
                audited_s += pair.audited_per_transaction(rows)
                plain_s += pair.plain_per_transaction(rows)
            else:
                plain_s += pair.plain_per_transaction(rows)
                audited_s += pair.audited_per_transaction(rows)
    else:
        rows = pair.rows(n)
        plain_s = pair.plain_batched(rows)
        audited_s = pair.audited_batched(rows)
        one_flush_s = pair.audited_one_flush(pair.rows(n))
        expected = 2 * n
        extra["one_flush_seconds"] = round(one_flush_s, 4)
        extra["audited_one_flush_writes_per_s"] = round(n / one_flush_s, 1)
    written = pair.count(pair.audited, Patient) - patients_before
    entries = pair.count(pair.audited, AuditEntry) - entries_before
    plain_written = pair.count(pair.plain, Patient) - plain_before
    if not (written == entries == expected and plain_written == n):
        msg = (
            f"{mode}: expected {expected} audited rows and entries and {n} plain rows; "
            f"got {written} audited rows, {entries} audit entries, {plain_written} plain rows"
        )
        raise RuntimeError(msg)
    audited_rate = n / audited_s
    plain_rate = n / plain_s
    return {
        "n": n,
        "seconds": round(audited_s, 4),
        "plain_seconds": round(plain_s, 4),
        "audited_writes_per_s": round(audited_rate, 1),
        "plain_inserts_per_s": round(plain_rate, 1),
        "ratio": round(plain_rate / audited_rate, 2),
        "audit_entries_written": entries,
        **extra,
    }


def bench_backend(backend: Backend, n: int, chunk: int, modes: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for mode in modes:
        _log(f"{backend.name} {mode}: setting up two fresh databases")
        pair = Pair(backend, tag=mode[:1].upper())
        _log(f"{backend.name} {mode}: writing {n} records audited and {n} plain")
        result[mode] = run_mode(pair, mode, n, chunk)
        result[mode]["audit_verify"] = verify_trail(pair.audited)
        _log(f"{backend.name} {mode}: {json.dumps(result[mode], default=str)}")
    result["backend"] = backend.info()
    return result


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="records per backend and mode")
    parser.add_argument(
        "--chunk",
        type=int,
        default=100,
        help="per_transaction mode: records per interleaved audited/plain chunk",
    )
    parser.add_argument("--mode", choices=[*MODES, "all"], default="all")
    add_backend_args(parser)
    args = parser.parse_args(argv)
    if args.n < 1 or args.chunk < 1:
        parser.error("--n and --chunk must be positive")
    modes = list(MODES) if args.mode == "all" else [args.mode]

    t0 = time.perf_counter()
    out: dict[str, Any] = {
        "benchmark": "audit_writes",
        "metadata": run_metadata(
            {"sqlalchemy": sqlalchemy.__version__},
            NOTE,
            record="Patient (audited: uow.add, one flush per record; plain: Core insert)",
        ),
        "results": {},
    }
    if args.backend in ("sqlite", "all"):
        with open_backend(SQLiteBackend()) as backend:
            out["results"]["sqlite"] = bench_backend(backend, args.n, args.chunk, modes)
    if args.backend in ("postgresql", "all"):
        url, source = postgres_url(args.postgres_url)
        if url is None:
            out["results"]["postgresql"] = dict(POSTGRES_SKIPPED)
        else:
            with open_backend(PostgresBackend(url)) as pg:
                out["results"]["postgresql"] = bench_backend(pg, args.n, args.chunk, modes)
                out["results"]["postgresql"]["backend"]["url_from"] = source
    out["metadata"]["total_seconds"] = round(time.perf_counter() - t0, 2)
    ok = all(
        r["audit_verify"]["ok"]
        for backend in out["results"].values()
        for mode, r in backend.items()
        if mode in MODES
    )
    out["audit_trails_intact"] = ok
    print_json(out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Ingest of readings on real databases: validated whole, converted, sorted, append-only."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from vein2vein.errors import InvalidInputError, PermissionDeniedError, RecordConflictError
from vein2vein.process import IngestReport, ingest_readings, register_parameter
from vein2vein.records import (
    AuditEntry,
    Batch,
    BatchStatus,
    Database,
    Ingest,
    ProcessParameter,
    Reading,
)
from vein2vein.simulate import PARAMETERS, synthetic_trajectories
from vein2vein.testing import Network, make_batch, make_network

HEADER = "batch,parameter,timestamp,value,unit"
B1 = "HUB-A-A999926000001"
B2 = "HUB-A-A999926000002"
B3 = "HUB-A-A999926000003"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def prepare(net: Network) -> None:
    """The six expansion parameters and three live batches (B1, B2, B3)."""
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        for name, (unit, step, description) in PARAMETERS.items():
            register_parameter(uow, name=name, unit=unit, step=step, description=description)
    assert [make_batch(net).batch_code for _ in range(3)] == [B1, B2, B3]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Network]:
    """The prepared network, made once (Argon2 hashing is deliberately slow)."""
    path = tmp_path_factory.mktemp("ingest") / "template.db"
    db = Database(f"sqlite:///{path}")
    try:
        net = make_network(db)
        prepare(net)
        return path, net
    finally:
        db.dispose()


@pytest.fixture
def sqlite_net(tmp_path: Path, template: tuple[Path, Network]) -> Iterator[Network]:
    """A fresh SQLite copy of the module's template."""
    source, made = template
    path = tmp_path / "records.db"
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(path)) as dst:
        src.backup(dst)
    db = Database(f"sqlite:///{path}")
    yield Network(db, dict(made.sites), dict(made.actors), _donations=made._donations)
    db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def net(request: pytest.FixtureRequest) -> Network:
    """The prepared network on SQLite (a template copy) and on PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        made: Network = request.getfixturevalue("sqlite_net")
        return made
    made = make_network(request.getfixturevalue("postgres_db"))
    prepare(made)
    return made


def counts(db: Database) -> dict[str, int]:
    """How many readings, ingests and audit entries are stored."""
    with db.read() as session:
        return {
            model.__tablename__: session.execute(
                select(func.count()).select_from(model)
            ).scalar_one()
            for model in (Reading, Ingest, AuditEntry)
        }


def write_csv(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def ingest(net: Network, path: Path, role: str = "operator", **kwargs: bool) -> IngestReport:
    with net.db.unit_of_work(net.actor(role)) as uow:
        return ingest_readings(uow, path, **kwargs)


def stored(net: Network, batch: str, parameter: str) -> list[tuple[datetime, float]]:
    """(measured_at, value) of one series, in the order the rows were inserted."""
    with net.db.read() as session:
        rows = session.execute(
            select(Reading.measured_at, Reading.value)
            .join(Batch, Batch.id == Reading.batch_id)
            .join(ProcessParameter, ProcessParameter.id == Reading.parameter_id)
            .where(Batch.batch_code == batch, ProcessParameter.name == parameter)
            .order_by(Reading.id)
        ).all()
    return [(at, value) for at, value in rows]


# ---------------------------------------------------------------- good files


def test_csv_is_converted_sorted_and_audited(net: Network, tmp_path: Path) -> None:
    # Out of order, two UTC offsets (a daylight-saving change), temperature in kelvin.
    path = write_csv(
        tmp_path / "historian.csv",
        f"{B1},ph,2026-03-02T10:00:00+01:00,7.21,",
        f"{B1},ph,2026-03-02T08:00:00Z,7.20,",
        f"{B1},temperature,2026-03-02T08:00:00Z,310.15,K",
        f"{B2},temperature,2026-03-02T09:30:00+02:00,37.1,degC",
        f"{B1},temperature,2026-03-02T09:00:00Z,310.25,K",
        f"{B2},ph,2026-03-02T08:30:00Z,7.19,",
    )
    report = ingest(net, path)

    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (report.n_readings, report.n_batches, report.n_parameters) == (6, 2, 2)
    assert report.resorted is True
    assert report.converted_units == ("temperature: K -> degC",)
    assert stored(net, B1, "ph") == [(T0, 7.20), (T0 + timedelta(hours=1), 7.21)]
    temps = stored(net, B1, "temperature")
    assert [at for at, _ in temps] == [T0, T0 + timedelta(hours=1)]
    assert [v for _, v in temps] == pytest.approx([37.0, 37.1])  # stored in degC
    assert stored(net, B2, "temperature") == [(T0 - timedelta(minutes=30), 37.1)]
    with net.db.read() as session:
        times = session.scalars(select(Reading.measured_at).order_by(Reading.id)).all()
        assert times == sorted(times)  # stored in time order
        row = session.scalars(select(Ingest)).one()
        assert row.id == report.ingest_id
        assert (row.source, row.sha256, row.n_readings, row.n_batches) == (
            "historian.csv",
            report.sha256,
            6,
            2,
        )
        assert (row.first_at, row.last_at) == (T0 - timedelta(minutes=30), T0 + timedelta(hours=1))
        assert row.ingested_by_id == net.actor("operator").user_id
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.record_table == "ingests", AuditEntry.record_id == row.id
            )
        ).one()
        assert (entry.action, entry.username, entry.user_role) == ("create", "operator", "operator")
        assert entry.after_image["sha256"] == report.sha256
        # Readings are not audited row by row: their Ingest carries the provenance.
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.record_table == "readings")
        ).all()


def test_parquet_with_time_zone(net: Network, tmp_path: Path) -> None:
    frame = synthetic_trajectories([(B3, T0)], seed=5, hours=6)
    assert str(frame["timestamp"].dt.tz) == "UTC"
    path = tmp_path / "historian.parquet"
    frame.to_parquet(path, index=False)

    report = ingest(net, path)

    assert report.n_readings == len(frame) == 6 * 13
    # The frame runs parameter by parameter, so the file is not in time order.
    assert (report.n_batches, report.n_parameters, report.resorted) == (1, 6, True)
    assert report.converted_units == ()
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    for name in PARAMETERS:
        series = frame[frame["parameter"] == name]
        assert stored(net, B3, name) == [
            (t.to_pydatetime(), v)
            for t, v in zip(series["timestamp"], series["value"], strict=True)
        ]


def test_parquet_with_text_timestamps_and_conversion(sqlite_net: Network, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "batch": [B1, B1],
            "parameter": ["temperature", "temperature"],
            "timestamp": ["2026-03-02T09:00:00+01:00", "2026-03-02T08:30:00Z"],
            "value": [98.6, 99.5],
            "unit": ["degF", "degF"],
        }
    )
    path = tmp_path / "readings.pq"
    frame.to_parquet(path, index=False)

    report = ingest(sqlite_net, path)

    assert report.resorted is False  # 08:00Z then 08:30Z
    assert report.converted_units == ("temperature: degF -> degC",)
    values = [v for _, v in stored(sqlite_net, B1, "temperature")]
    assert values == pytest.approx([37.0, 37.5])


def test_readings_are_append_only_at_the_database(net: Network, tmp_path: Path) -> None:
    ingest(net, write_csv(tmp_path / "r.csv", f"{B1},ph,2026-03-02T08:00:00Z,7.2,"))
    for statement in ("UPDATE readings SET value = 6.0", "DELETE FROM readings"):
        with pytest.raises(DBAPIError, match="append-only"), net.db.engine.begin() as conn:
            conn.execute(text(statement))
    assert stored(net, B1, "ph") == [(T0, 7.2)]


# ---------------------------------------------------------------- bad files

OK_ROW = f"{B1},ph,2026-03-02T08:00:00Z,7.20,"
BAD_FILES = {
    # case: (second data row, field, reason)
    "unknown batch": (f"{B1[:-1]}9,ph,2026-03-02T09:00:00Z,7.2,", "batch", "no batch"),
    "blank batch": (",ph,2026-03-02T09:00:00Z,7.2,", "batch", "batch is empty"),
    "unknown parameter": (f"{B1},pH,2026-03-02T09:00:00Z,7.2,", "parameter", "no parameter"),
    "incompatible unit": (
        f"{B1},temperature,2026-03-02T09:00:00Z,37,g/L",
        "unit",
        "cannot be expressed in 'degC'",
    ),
    "unknown unit": (f"{B1},temperature,2026-03-02T09:00:00Z,37,furlongs", "unit", "furlongs"),
    "NaN": (f"{B1},ph,2026-03-02T09:00:00Z,nan,", "value", "not a finite number"),
    "infinite": (f"{B1},ph,2026-03-02T09:00:00Z,inf,", "value", "not a finite number"),
    "1e400 overflows": (f"{B1},ph,2026-03-02T09:00:00Z,1e400,", "value", "not a finite number"),
    # Impossible values (bad input, not process signals): the quantity's range says so.
    "pH -7": (f"{B1},ph,2026-03-02T09:00:00Z,-7,", "value", "not a possible ph"),
    "pH 15": (f"{B1},ph,2026-03-02T09:00:00Z,15,", "value", "not a possible ph"),
    "below absolute zero": (
        f"{B1},temperature,2026-03-02T09:00:00Z,-500,degC",
        "value",
        "-500 °C is not a possible temperature",
    ),
    "minus a million degrees": (
        f"{B1},temperature,2026-03-02T09:00:00Z,-1000000,degC",
        "value",
        "not a possible temperature",
    ),
    "below absolute zero in kelvin": (
        f"{B1},temperature,2026-03-02T09:00:00Z,-5,K",
        "value",
        "not a possible temperature",
    ),
    "negative glucose": (
        f"{B1},glucose,2026-03-02T09:00:00Z,-1.5,g/L",
        "value",
        "not a possible amount",
    ),
    "negative oxygen saturation": (
        f"{B1},dissolved_oxygen,2026-03-02T09:00:00Z,-3,%",
        "value",
        "not a possible amount",
    ),
    "empty value": (f"{B1},ph,2026-03-02T09:00:00Z,,", "value", "not a finite number"),
    "not a number": (f"{B1},ph,2026-03-02T09:00:00Z,seven,", "value", "'seven'"),
    "no UTC offset": (f"{B1},ph,2026-03-02T09:00:00,7.2,", "timestamp", "no UTC offset"),
    "date only": (f"{B1},ph,2026-03-02,7.2,", "timestamp", "no UTC offset"),
    "not a time": (f"{B1},ph,yesterday,7.2,", "timestamp", "not an ISO 8601 time"),
    # The same instant written with two offsets is the same reading twice.
    "duplicate": (f"{B1},ph,2026-03-02T09:00:00+01:00,7.3,", "timestamp", "appears twice"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_row_stores_nothing(sqlite_net: Network, tmp_path: Path, case: str) -> None:
    row, field, reason = BAD_FILES[case]
    path = write_csv(tmp_path / "bad.csv", OK_ROW, f"{B2},ph,2026-03-02T08:00:00Z,7.1,", row)
    before = counts(sqlite_net.db)

    with pytest.raises(InvalidInputError) as caught:
        ingest(sqlite_net, path)

    err = caught.value
    assert (err.file, err.field) == (str(path), field)
    assert "line 4:" in str(err)
    assert reason in str(err)
    assert counts(sqlite_net.db) == before


def test_the_line_of_a_bad_row_counts_blank_lines(sqlite_net: Network, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gaps.csv", OK_ROW, "", "", f"{B1},ph,2026-03-02T09:00:00Z,x,")
    with pytest.raises(InvalidInputError, match="line 5: value 'x'"):
        ingest(sqlite_net, path)


def test_an_impossible_reading_stores_nothing_on_either_database(
    net: Network, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "impossible.csv",
        OK_ROW,
        f"{B2},temperature,2026-03-02T08:00:00Z,-1000000,degC",
        f"{B2},ph,2026-03-02T08:00:00Z,-7,",
    )
    before = counts(net.db)
    with pytest.raises(InvalidInputError) as caught:
        ingest(net, path)
    assert (caught.value.file, caught.value.field) == (str(path), "value")
    assert "line 3: temperature: -1e+06 °C is not a possible temperature" in str(caught.value)
    assert counts(net.db) == before


def test_all_timestamps_without_offset(sqlite_net: Network, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "naive.csv", f"{B1},ph,2026-03-02T08:00:00,7.2,")
    with pytest.raises(InvalidInputError, match=r"line 2: .* no UTC offset") as caught:
        ingest(sqlite_net, path)
    assert caught.value.field == "timestamp"


def test_naive_parquet_timestamps(sqlite_net: Network, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "batch": [B1],
            "parameter": ["ph"],
            "timestamp": [pd.Timestamp("2026-03-02T08:00:00")],
            "value": [7.2],
            "unit": [""],
        }
    )
    path = tmp_path / "naive.parquet"
    frame.to_parquet(path, index=False)
    before = counts(sqlite_net.db)
    with pytest.raises(InvalidInputError, match=r"line 2: .* no UTC offset") as caught:
        ingest(sqlite_net, path)
    assert (caught.value.file, caught.value.field) == (str(path), "timestamp")
    assert counts(sqlite_net.db) == before


@pytest.mark.parametrize(
    ("name", "content", "field", "reason"),
    [
        ("missing.csv", "batch,parameter,timestamp,value\n", "unit", "missing column(s) unit"),
        ("header-only.csv", HEADER + "\n", None, "no readings"),
        ("empty.csv", "", None, "not a readable"),
        ("broken.parquet", "not parquet", None, "not a readable"),
    ],
)
def test_unusable_file_stores_nothing(
    sqlite_net: Network, tmp_path: Path, name: str, content: str, field: str | None, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    before = counts(sqlite_net.db)
    with pytest.raises(InvalidInputError) as caught:
        ingest(sqlite_net, path)
    assert (caught.value.file, caught.value.field) == (str(path), field)
    assert reason in str(caught.value)
    assert counts(sqlite_net.db) == before


def test_missing_file(sqlite_net: Network, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read") as caught:
        ingest(sqlite_net, tmp_path / "absent.csv")
    assert caught.value.file == str(tmp_path / "absent.csv")


def test_reading_already_stored_is_a_conflict(net: Network, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "first.csv", OK_ROW, f"{B1},ph,2026-03-02T09:00:00Z,7.21,")
    ingest(net, first)
    before = counts(net.db)
    # The second file repeats 09:00Z (written as 10:00+01:00) between two new readings.
    again = write_csv(
        tmp_path / "again.csv",
        f"{B1},ph,2026-03-02T09:30:00Z,7.22,",
        f"{B1},ph,2026-03-02T10:00:00+01:00,7.3,",
        f"{B2},ph,2026-03-02T09:00:00Z,7.1,",
    )

    with pytest.raises(RecordConflictError) as caught:
        ingest(net, again)

    message = str(caught.value)
    assert str(again) in message
    assert "line 3:" in message
    assert "already stored" in message
    assert counts(net.db) == before
    assert stored(net, B1, "ph") == [(T0, 7.20), (T0 + timedelta(hours=1), 7.21)]


def test_batch_no_longer_in_process(net: Network, tmp_path: Path) -> None:
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        uow.change(uow.get(Batch, B2), status=BatchStatus.quarantine, reason="manufacture done")
    path = write_csv(tmp_path / "late.csv", OK_ROW, f"{B2},ph,2026-03-02T08:00:00Z,7.1,")
    before = counts(net.db)

    with pytest.raises(InvalidInputError, match=r"line 3: batch .* is quarantine") as caught:
        ingest(net, path)
    assert (caught.value.file, caught.value.field) == (str(path), "batch")
    assert counts(net.db) == before

    report = ingest(net, path, allow_closed=True)  # back-filling is explicit
    assert report.n_readings == 2
    assert stored(net, B2, "ph") == [(T0, 7.1)]


# ---------------------------------------------------------------- permissions, parameters


@pytest.mark.parametrize("role", ["admin", "qa_reviewer", "clinician"])
def test_only_operators_and_analysts_ingest(sqlite_net: Network, tmp_path: Path, role: str) -> None:
    path = write_csv(tmp_path / "r.csv", OK_ROW)
    before = counts(sqlite_net.db)
    with pytest.raises(PermissionDeniedError):
        ingest(sqlite_net, path, role=role)
    assert counts(sqlite_net.db) == before
    assert ingest(sqlite_net, path, role="qc_analyst").n_readings == 1


def test_register_parameter(sqlite_net: Network) -> None:
    db = sqlite_net.db
    with db.unit_of_work(sqlite_net.actor("admin")) as uow:
        p = register_parameter(uow, name="osmolality", unit="mmol/kg", step="expansion")
    with db.read() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.record_table == "process_parameters", AuditEntry.record_id == p.id
            )
        ).one()
        assert (entry.action, entry.username) == ("create", "admin")
    before = counts(db)
    refused: list[tuple[str, dict[str, str], type[Exception] | None, str | None]] = [
        ("qa_reviewer", {"name": "ph", "unit": "", "step": "x"}, RecordConflictError, None),
        ("qa_reviewer", {"name": "co2", "unit": "parsecs/fortnight^", "step": "x"}, None, "unit"),
        ("qa_reviewer", {"name": "co2", "unit": "%", "step": " "}, None, "step"),
        ("qa_reviewer", {"name": " ", "unit": "%", "step": "x"}, None, "name"),
        ("operator", {"name": "co2", "unit": "%", "step": "x"}, PermissionDeniedError, None),
    ]
    for role, fields, error, field in refused:
        with (
            pytest.raises(error or InvalidInputError) as caught,
            db.unit_of_work(sqlite_net.actor(role)) as uow,
        ):
            register_parameter(uow, **fields)
        if field is not None:
            assert getattr(caught.value, "field", None) == field
    assert counts(db) == before

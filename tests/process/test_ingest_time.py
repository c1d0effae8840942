"""Readings dated before their batch started, or in the future, are refused (nothing stored)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from vein2vein.errors import InvalidInputError
from vein2vein.process import ingest_readings, register_parameter
from vein2vein.records import CLOCK_SKEW, Batch, Ingest, Reading
from vein2vein.testing import Network, make_batch

HEADER = "batch,parameter,timestamp,value,unit"


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def live(network: Network) -> tuple[Network, str, datetime]:
    """A network with the pH parameter and one live batch: (network, batch, its start)."""
    with network.db.unit_of_work(network.actor("qa_reviewer")) as uow:
        register_parameter(uow, name="ph", unit="", step="expansion")
    batch = make_batch(network)
    return network, batch.batch_code, batch.started_at


def write(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def refused(net: Network, path: Path) -> InvalidInputError:
    with (
        pytest.raises(InvalidInputError) as caught,
        net.db.unit_of_work(net.actor("operator")) as uow,
    ):
        ingest_readings(uow, path)
    with net.db.read() as session:
        assert session.execute(select(func.count()).select_from(Reading)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Ingest)).scalar_one() == 0
    return caught.value


def test_a_reading_before_the_batch_started_names_file_line_and_field(
    live: tuple[Network, str, datetime], tmp_path: Path
) -> None:
    net, batch, started = live
    path = write(
        tmp_path / "early.csv",
        f"{batch},ph,{stamp(started + timedelta(hours=1))},7.20,",
        f"{batch},ph,{stamp(started - timedelta(minutes=1))},7.21,",
    )
    error = refused(net, path)
    assert (error.file, error.field) == (str(path), "timestamp")
    assert error.reason.startswith("line 3: ")
    assert f"is before batch {batch} started" in error.reason


def test_a_reading_in_the_future_is_refused(
    live: tuple[Network, str, datetime], tmp_path: Path
) -> None:
    net, batch, started = live
    ahead = datetime.now(UTC) + CLOCK_SKEW + timedelta(minutes=10)
    path = write(
        tmp_path / "future.csv",
        f"{batch},ph,{stamp(started + timedelta(hours=1))},7.20,",
        f"{batch},ph,{stamp(started + timedelta(hours=2))},7.21,",
        f"{batch},ph,{stamp(ahead)},7.22,",
    )
    error = refused(net, path)
    assert (error.file, error.field) == (str(path), "timestamp")
    assert error.reason.startswith("line 4: ") and "is in the future" in error.reason


def test_readings_from_the_start_to_now_are_stored(
    live: tuple[Network, str, datetime], tmp_path: Path
) -> None:
    net, batch, started = live
    path = write(
        tmp_path / "ok.csv",
        f"{batch},ph,{stamp(started)},7.20,",
        f"{batch},ph,{stamp(datetime.now(UTC))},7.21,",
    )
    with net.db.unit_of_work(net.actor("operator")) as uow:
        assert ingest_readings(uow, path).n_readings == 2
    with net.db.read() as session:
        lot = session.scalars(select(Batch).where(Batch.batch_code == batch)).one()
        first = session.scalars(
            select(Reading.measured_at).where(Reading.batch_id == lot.id).order_by(Reading.id)
        ).first()
    assert first == started

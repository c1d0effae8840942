"""Deviations from monitoring: acknowledge and close with e-signatures, on a real database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from vein2vein.errors import (
    InvalidInputError,
    PermissionDeniedError,
    ReasonRequiredError,
    RecordConflictError,
    SignatureError,
)
from vein2vein.process import ingest_readings, monitor, register_parameter, set_baseline
from vein2vein.records import (
    AuditEntry,
    Batch,
    BatchStatus,
    Database,
    Deviation,
    DeviationStatus,
    Signature,
    acknowledge_deviation,
    close_deviation,
    get_record,
    open_deviation,
    reauthenticate,
    signatures_of,
)
from vein2vein.records.signatures import SignatureStatus
from vein2vein.simulate import Fault, synthetic_trajectories
from vein2vein.testing import PASSWORD, Network, make_batch, make_network

LIVE_START = datetime(2026, 3, 10, tzinfo=UTC)
COMMENT = "heater alarm seen on the bioreactor; QA informed"
RESOLUTION = "heater PID retuned; CAPA-0042; product impact assessed as none"


@dataclass(frozen=True)
class World:
    path: Path
    net: Network
    live: str
    signal: str  # the deviation the monitor opened for the live batch's temperature step
    manual: str  # a deviation opened by hand
    rest: Path  # hours 48-72 of the live batch: the step goes on


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Four baseline batches, one live batch with a temperature step, one monitoring tick."""
    folder = tmp_path_factory.mktemp("deviations")
    db = Database(f"sqlite:///{folder / 'template.db'}")
    try:
        net = make_network(db)
        with db.unit_of_work(net.actor("qa_reviewer")) as uow:
            register_parameter(uow, name="temperature", unit="degC", step="expansion")
        codes = [make_batch(net).batch_code for _ in range(5)]
        baseline, live = codes[:4], codes[4]
        starts = [(c, LIVE_START - timedelta(days=7)) for c in baseline] + [(live, LIVE_START)]
        data = synthetic_trajectories(
            starts, seed=7, hours=72, faults={live: Fault("temp_step", start_h=24.0, size=0.6)}
        )
        data = data[data["parameter"] == "temperature"].copy()
        late = data["timestamp"] >= LIVE_START + timedelta(hours=48)
        data["timestamp"] = data["timestamp"].map(lambda t: t.isoformat())
        data[~late].to_csv(folder / "first.csv", index=False)
        data[late].to_csv(folder / "rest.csv", index=False)
        with db.unit_of_work(net.actor("operator")) as uow:
            ingest_readings(uow, folder / "first.csv")
        with db.unit_of_work(net.actor("qa_reviewer")) as uow:
            set_baseline(uow, parameter="temperature", baseline_batches=baseline)
            for code in baseline:
                uow.change(uow.get(Batch, code), status=BatchStatus.released, reason="released")
        with db.unit_of_work(net.actor("operator")) as uow:
            [signal] = monitor(uow).new_deviations
            manual = open_deviation(
                uow,
                category="procedure",
                severity="minor",
                description="  media bag label smudged; identity confirmed by second person ",
                batch=uow.get(Batch, live),
            )
        assert signal.batch == live
        return World(
            folder / "template.db", net, live, signal.deviation, manual.code, folder / "rest.csv"
        )
    finally:
        db.dispose()


@pytest.fixture
def net(tmp_path: Path, world: World) -> Iterator[Network]:
    """A fresh copy of the world in this test's own SQLite file."""
    path = tmp_path / "records.db"
    with closing(sqlite3.connect(world.path)) as src, closing(sqlite3.connect(path)) as dst:
        src.backup(dst)
    db = Database(f"sqlite:///{path}")
    made = world.net
    yield Network(db, dict(made.sites), dict(made.actors), _donations=made._donations)
    db.dispose()


def state(net: Network, code: str) -> tuple[Deviation, list[SignatureStatus], int]:
    """The deviation, its signatures as displayed, and the length of the audit trail."""
    with net.db.read() as session:
        dev = get_record(session, Deviation, code)
        n = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        return dev, signatures_of(session, dev), n


def ack(net: Network, code: str, role: str = "operator", **kwargs: str) -> Deviation:
    fields = {"password": PASSWORD, "comment": COMMENT, **kwargs}
    with net.db.unit_of_work(net.actor(role)) as uow:
        return acknowledge_deviation(uow, code, **fields)


def close(net: Network, code: str, role: str = "qa_reviewer", **kwargs: str) -> Deviation:
    fields = {"password": PASSWORD, "resolution": RESOLUTION, **kwargs}
    with net.db.unit_of_work(net.actor(role)) as uow:
        return close_deviation(uow, code, **fields)


def test_opened_deviations(net: Network, world: World) -> None:
    signal, _, _ = state(net, world.signal)
    manual, _, _ = state(net, world.manual)
    assert (signal.code, manual.code) == ("DEV-000001", "DEV-000002")
    assert manual.description == "media bag label smudged; identity confirmed by second person"
    assert manual.status is DeviationStatus.open
    with net.db.read() as session:
        batch = get_record(session, Batch, world.live)
    assert (manual.batch_id, manual.donation_id) == (batch.id, batch.donation_id)
    assert (signal.source, signal.severity) == ("spc:temperature:N1", "critical")
    with (
        pytest.raises(InvalidInputError) as caught,
        net.db.unit_of_work(net.actor("operator")) as uow,
    ):
        open_deviation(uow, category="x", severity="catastrophic", description="y")
    assert caught.value.field == "severity"
    with (
        pytest.raises(InvalidInputError) as caught,
        net.db.unit_of_work(net.actor("operator")) as uow,
    ):
        open_deviation(uow, category="x", severity="minor", description="  ")
    assert caught.value.field == "description"


def test_acknowledge(net: Network, world: World) -> None:
    code = world.signal
    _, _, before = state(net, code)
    refused: list[tuple[dict[str, str], str, type[Exception]]] = [
        ({"comment": "  "}, "operator", InvalidInputError),
        ({"password": "wrong password"}, "operator", SignatureError),
        ({}, "admin", PermissionDeniedError),
    ]
    for kwargs, role, error in refused:
        with pytest.raises(error):
            ack(net, code, role=role, **kwargs)
        dev, sigs, n = state(net, code)
        assert (dev.status, sigs, n) == (DeviationStatus.open, [], before)
    # A re-authentication is the signer's own.
    qc = reauthenticate(net.db, net.actor("qc_analyst"), PASSWORD)
    with (
        pytest.raises(SignatureError, match="not 'operator'"),
        net.db.unit_of_work(net.actor("operator")) as uow,
    ):
        acknowledge_deviation(uow, code, password=qc, comment=COMMENT)
    with pytest.raises(SignatureError):
        reauthenticate(net.db, net.actor("operator"), "wrong password")
    assert state(net, code)[0].status is DeviationStatus.open

    proof = reauthenticate(net.db, net.actor("operator"), PASSWORD)
    with net.db.unit_of_work(net.actor("operator")) as uow:
        acknowledge_deviation(uow, code, password=proof, comment=f"  {COMMENT} ")

    dev, [sig], _ = state(net, code)
    assert dev.status is DeviationStatus.acknowledged
    assert (sig.meaning, sig.valid, sig.username) == ("reviewed", True, "operator")
    assert sig.manifestation.startswith("Otto Operator (operator), ")
    with net.db.read() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.record_table == "deviations", AuditEntry.record_id == dev.id)
            .order_by(AuditEntry.seq)
        ).all()
    assert (entries[-1].action, entries[-1].reason) == ("state_change", COMMENT)
    assert entries[-1].changes["status"] == ["open", "acknowledged"]
    with pytest.raises(RecordConflictError, match="acknowledged"):
        ack(net, code)


def test_close(net: Network, world: World) -> None:
    code = world.signal
    ack(net, code)
    _, _, before = state(net, code)
    refused: list[tuple[dict[str, str], str, type[Exception]]] = [
        ({}, "operator", PermissionDeniedError),
        ({}, "qc_analyst", PermissionDeniedError),
        ({"resolution": " "}, "qa_reviewer", InvalidInputError),
        ({"password": "wrong password"}, "qa_reviewer", SignatureError),
    ]
    for kwargs, role, error in refused:
        with pytest.raises(error):
            close(net, code, role=role, **kwargs)
        dev, sigs, n = state(net, code)
        assert (dev.status, len(sigs), n) == (DeviationStatus.acknowledged, 1, before)

    close(net, code)

    dev, sigs, _ = state(net, code)
    assert dev.status is DeviationStatus.closed
    approved = sigs[-1]
    assert (approved.meaning, approved.valid, approved.username) == (
        "approved",
        True,
        "qa-reviewer",
    )
    with pytest.raises(RecordConflictError, match="already closed"):
        close(net, code)
    with pytest.raises(RecordConflictError):
        ack(net, code)
    # A closed deviation is locked: any change needs a reason.
    with pytest.raises(ReasonRequiredError), net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        uow.change(uow.get(Deviation, code), severity="minor")
    with net.db.read() as session:
        assert session.execute(select(func.count()).select_from(Signature)).scalar_one() == 2


def test_close_without_acknowledgement(net: Network, world: World) -> None:
    close(net, world.manual, resolution="relabelled under supervision")
    dev, [sig], _ = state(net, world.manual)
    assert dev.status is DeviationStatus.closed
    assert (sig.meaning, sig.valid) == ("approved", True)


def test_closing_keeps_the_acknowledgement_valid(net: Network, world: World) -> None:
    # A deviation's status is a workflow step with its own signature, not signed content.
    ack(net, world.signal)
    close(net, world.signal)
    reviewed, approved = state(net, world.signal)[1]
    assert approved.valid
    assert reviewed.valid


def test_acknowledged_deviation_whose_excursion_goes_on(net: Network, world: World) -> None:
    """The window grows: the acknowledgement no longer covers it, so review is due again.

    The monitor extends the deviation's window and returns it to open (audited, with the
    reason); the earlier acknowledgement shows INVALID (it signed the shorter window);
    a new acknowledgement signs the whole excursion.
    """
    code = world.signal
    ack(net, code)
    acked, _, _ = state(net, code)
    with net.db.unit_of_work(net.actor("operator")) as uow:
        ingest_readings(uow, world.rest)

    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        report = monitor(uow)

    assert report.new_deviations == []
    dev, [reviewed], _ = state(net, code)
    assert dev.status is DeviationStatus.open
    assert dev.window_start == acked.window_start
    assert acked.window_end is not None
    assert dev.window_end == LIVE_START + timedelta(hours=72) > acked.window_end
    assert not reviewed.valid
    assert "[INVALID: record changed after signing]" in reviewed.manifestation
    with net.db.read() as session:
        last = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.record_table == "deviations", AuditEntry.record_id == dev.id)
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert last is not None
    assert (last.action, last.username) == ("state_change", "qc-analyst")
    assert last.reason is not None and last.reason.startswith("excursion continues")
    assert last.changes["status"] == ["acknowledged", "open"]
    assert "window_end" in last.changes

    ack(net, code, comment="step continues; batch on hold pending QA")
    dev, (old, new), _ = state(net, code)
    assert dev.status is DeviationStatus.acknowledged
    assert (old.valid, new.valid, new.meaning) == (False, True, "reviewed")

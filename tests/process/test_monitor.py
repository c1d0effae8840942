"""Phase I limits and the monitoring tick on a real database, with synthetic bioreactors.

Ten clean baseline batches (released) set the limits. Nine live batches run for 48 h:
six clean, one with a slow pH drift, one with a dissolved-oxygen excursion and one with
a temperature step. Two more batches with large faults are released or rejected and
must not be monitored. A second file holds hours 48-72 of the live batches, for the
excursions that continue.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from vein2vein.errors import InvalidInputError, PermissionDeniedError, RecordNotFoundError
from vein2vein.process import (
    DEFAULT_SEVERITY,
    MonitorReport,
    active_limits,
    chart_frame,
    draw_batch_chart,
    ingest_readings,
    load_severity,
    monitor,
    plot_control_chart,
    register_parameter,
    set_baseline,
)
from vein2vein.records import (
    AuditEntry,
    Batch,
    BatchStatus,
    ControlLimitSet,
    Database,
    Deviation,
    DeviationStatus,
    ProcessParameter,
    close_deviation,
)
from vein2vein.simulate import PARAMETERS, Fault, synthetic_trajectories
from vein2vein.testing import PASSWORD, Network, make_batch, make_network

CHARTED = ("ph", "dissolved_oxygen", "temperature")
BASELINE_START = datetime(2026, 3, 1, tzinfo=UTC)
LIVE_START = datetime(2026, 3, 10, tzinfo=UTC)
FAULT_PARAMETER = {"ph_drift": "ph", "do_excursion": "dissolved_oxygen", "temp_step": "temperature"}
SEVERITY_YAML = "N1: minor\ntemperature:\n  N1: critical\ndissolved_oxygen:\n  N1: major\n"


@dataclass(frozen=True)
class World:
    """What the module's template holds."""

    path: Path
    net: Network
    baseline: list[str]
    clean: list[str]
    faults: dict[str, Fault]  # live faulty batches
    closed: dict[str, BatchStatus]  # faulty batches no longer in process
    rest: Path  # hours 48-72 of the live batches

    @property
    def live(self) -> list[str]:
        return [*self.clean, *self.faults]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Built once: network, parameters, readings, limits v1 (Argon2 is deliberately slow)."""
    folder = tmp_path_factory.mktemp("monitor")
    db = Database(f"sqlite:///{folder / 'template.db'}")
    try:
        net = make_network(db)
        with db.unit_of_work(net.actor("qa_reviewer")) as uow:
            for name in CHARTED:
                unit, step, description = PARAMETERS[name]
                register_parameter(uow, name=name, unit=unit, step=step, description=description)
        codes = [make_batch(net).batch_code for _ in range(21)]
        baseline, clean, faulty, closed = codes[:10], codes[10:16], codes[16:19], codes[19:]
        faults = {
            faulty[0]: Fault("ph_drift", start_h=12.0, size=0.15),
            faulty[1]: Fault("do_excursion", start_h=20.0, size=25.0),
            faulty[2]: Fault("temp_step", start_h=30.0, size=0.5),
        }
        big = {
            closed[0]: Fault("temp_step", start_h=10.0, size=0.8),
            closed[1]: Fault("ph_drift", start_h=10.0, size=0.2),
        }
        starts = [(c, BASELINE_START) for c in baseline]
        starts += [(c, LIVE_START) for c in [*clean, *faulty, *closed]]
        data = synthetic_trajectories(starts, seed=1, hours=72, faults={**faults, **big})
        data = data[data["parameter"].isin(CHARTED)].copy()
        late = data["batch"].isin(clean + faulty + closed) & (
            data["timestamp"] >= LIVE_START + timedelta(hours=48)
        )
        data["timestamp"] = data["timestamp"].map(lambda t: t.isoformat())
        data[~late].to_csv(folder / "first.csv", index=False)
        rest = data[late & ~data["batch"].isin(closed)]
        rest.to_csv(folder / "rest.csv", index=False)
        with db.unit_of_work(net.actor("operator")) as uow:
            ingest_readings(uow, folder / "first.csv")
        status = {closed[0]: BatchStatus.released, closed[1]: BatchStatus.rejected}
        with db.unit_of_work(net.actor("qa_reviewer")) as uow:
            for name in CHARTED:
                set_baseline(uow, parameter=name, baseline_batches=baseline)
            for code in baseline:
                uow.change(uow.get(Batch, code), status=BatchStatus.released, reason="released")
            for code, new in status.items():
                uow.change(uow.get(Batch, code), status=new, reason="disposition")
        return World(
            folder / "template.db", net, baseline, clean, faults, status, folder / "rest.csv"
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


def tick(net: Network, role: str = "operator", **kwargs: Any) -> MonitorReport:
    with net.db.unit_of_work(net.actor(role)) as uow:
        return monitor(uow, **kwargs)


def deviations(net: Network) -> list[dict[str, Any]]:
    """Every deviation with its batch code and parameter name."""
    with net.db.read() as session:
        rows = session.execute(
            select(Deviation, Batch.batch_code, ProcessParameter.name)
            .join(Batch, Batch.id == Deviation.batch_id)
            .join(ProcessParameter, ProcessParameter.id == Deviation.parameter_id)
            .order_by(Deviation.id)
        ).all()
        return [{"row": d, "batch": b, "parameter": p} for d, b, p in rows]


def history(net: Network, table: str, record_id: int) -> list[AuditEntry]:
    with net.db.read() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.record_table == table, AuditEntry.record_id == record_id)
                .order_by(AuditEntry.seq)
            )
        )


def n_audit(net: Network) -> int:
    with net.db.read() as session:
        return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def ingest_rest(net: Network, world: World) -> None:
    with net.db.unit_of_work(net.actor("operator")) as uow:
        ingest_readings(uow, world.rest)


def the(net: Network, batch: str, parameter: str) -> list[Deviation]:
    return [d["row"] for d in deviations(net) if (d["batch"], d["parameter"]) == (batch, parameter)]


def span(dev: Deviation) -> tuple[datetime, datetime]:
    """A monitoring deviation's data window."""
    assert dev.window_start is not None and dev.window_end is not None
    return dev.window_start, dev.window_end


def info(dev: Deviation) -> dict[str, Any]:
    """A monitoring deviation's details."""
    assert dev.details is not None
    return dev.details


# ---------------------------------------------------------------- Phase I limits


def test_baseline_limits_are_versioned_and_audited(net: Network, world: World) -> None:
    qa = net.actor("qa_reviewer")
    chosen = world.baseline[:6]
    with net.db.unit_of_work(qa) as uow:
        v2 = set_baseline(uow, parameter="ph", baseline_batches=chosen, width=3.0)

    with net.db.read() as session:
        ph = session.scalars(select(ProcessParameter).where(ProcessParameter.name == "ph")).one()
        sets = session.scalars(
            select(ControlLimitSet)
            .where(ControlLimitSet.parameter_id == ph.id)
            .order_by(ControlLimitSet.version)
        ).all()
        active = [lim for lim in active_limits(session) if lim.parameter_id == ph.id]
    assert [(s.version, s.active) for s in sets] == [(1, False), (2, True)]
    assert [a.id for a in active] == [v2.id]
    v1 = sets[0]
    assert v1.baseline_batches == world.baseline
    assert v2.baseline_batches == chosen
    assert v1.set_by_id == v2.set_by_id == qa.user_id
    assert v2.params["window"] == "1h"
    # The limits are the mean and SD of the hourly means of the chosen batches.
    frame = pd.read_csv(world.path.parent / "first.csv")
    frame = frame[(frame["parameter"] == "ph") & frame["batch"].isin(chosen)]
    hours = pd.to_datetime(frame["timestamp"], utc=True).dt.floor("1h")
    means = frame.groupby([frame["batch"], hours])["value"].mean()
    assert v2.center == pytest.approx(means.mean())
    assert v2.sigma == pytest.approx(means.std(ddof=1))
    assert (v2.lcl, v2.ucl) == pytest.approx((v2.center - 3 * v2.sigma, v2.center + 3 * v2.sigma))
    # Who set them from which batches, and the superseding, are in the audit trail.
    [created] = history(net, "control_limit_sets", v2.id)
    assert (created.action, created.username) == ("create", "qa-reviewer")
    assert created.after_image["baseline_batches"] == chosen
    superseded = history(net, "control_limit_sets", v1.id)[-1]
    assert superseded.changes["active"] == [True, False]
    assert superseded.reason == "superseded by version 2"

    # Limits for one site are versioned on their own; the network's stay active.
    with net.db.unit_of_work(qa) as uow:
        site = set_baseline(uow, parameter="ph", baseline_batches=chosen, site="HUB-B")
    assert (site.version, site.active) == (1, True)
    with net.db.read() as session:
        assert {lim.id for lim in active_limits(session) if lim.parameter_id == ph.id} == {
            v2.id,
            site.id,
        }


def test_default_width_keeps_clean_batches_quiet(world: World, net: Network) -> None:
    with net.db.read() as session:
        lim = next(lim for lim in active_limits(session) if lim.version == 1)
    # 48 hourly means a batch: Bonferroni over the run, wider than 3 sigma.
    assert lim.params["width"] > 3.0
    assert lim.ucl - lim.center == pytest.approx(lim.params["width"] * lim.sigma)


@pytest.mark.parametrize(
    ("batches", "kwargs", "error", "field"),
    [
        ("one", {}, InvalidInputError, "baseline_batches"),
        ("twice", {}, InvalidInputError, "baseline_batches"),  # one batch, named twice
        ("unknown", {}, RecordNotFoundError, None),
        ("no readings", {}, InvalidInputError, "baseline_batches"),
        ("all", {"parameter": "glucose"}, RecordNotFoundError, None),
        ("all", {"window": "soon"}, InvalidInputError, "window"),
        ("all", {"window": "-1h"}, InvalidInputError, "window"),
        ("all", {"width": 0.0}, InvalidInputError, "width"),
        ("all", {"role": "operator"}, PermissionDeniedError, None),
    ],
)
def test_bad_baselines_are_refused(
    net: Network,
    world: World,
    batches: str,
    kwargs: dict[str, Any],
    error: type[Exception],
    field: str | None,
) -> None:
    first = world.baseline[0]
    codes = {
        "one": lambda: [first],
        "twice": lambda: [first, first],
        "unknown": lambda: [first, "HUB-A-NOPE"],
        "no readings": lambda: [first, make_batch(net).batch_code],
        "all": lambda: world.baseline,
    }[batches]()
    role = kwargs.pop("role", "qa_reviewer")
    before = n_audit(net)
    with pytest.raises(error) as caught, net.db.unit_of_work(net.actor(role)) as uow:
        set_baseline(uow, **{"parameter": "ph", "baseline_batches": codes, **kwargs})
    if field is not None:
        assert getattr(caught.value, "field", None) == field
    assert n_audit(net) == before


# ---------------------------------------------------------------- the monitoring tick


def test_monitor_opens_deviations_for_faulty_batches_only(
    net: Network, world: World, tmp_path: Path
) -> None:
    table_file = tmp_path / "severity.yaml"
    table_file.write_text(SEVERITY_YAML, encoding="utf-8")

    report = tick(net, severity=load_severity(table_file))

    assert report.batches == len(world.live)  # released and rejected ones are not charted
    assert report.series == len(world.live) * len(CHARTED)
    found = deviations(net)
    assert [d["row"].code for d in found] == [s.deviation for s in report.new_deviations]
    batches = {d["batch"] for d in found}
    assert not batches & set(world.closed)  # large faults, but no longer in process
    assert not batches & set(world.baseline)
    false_alarms = [d for d in found if d["batch"] in world.clean]
    assert len(false_alarms) <= 1, false_alarms  # rare, by the limits' design
    with net.db.read() as session:
        limits = {lim.parameter_id: lim for lim in active_limits(session)}
    severity = {"ph": "minor", "dissolved_oxygen": "major", "temperature": "critical"}
    for code, fault in world.faults.items():
        name = FAULT_PARAMETER[fault.kind]
        [dev] = the(net, code, name)
        assert dev.parameter_id is not None
        lim = limits[dev.parameter_id]
        assert dev.source == f"spc:{name}:N1"
        assert (dev.category, dev.status, dev.severity) == (
            "process_signal",
            DeviationStatus.open,
            severity[name],
        )
        assert dev.opened_by_id == net.actor("operator").user_id
        fault_at = LIVE_START + timedelta(hours=fault.start_h)
        start, end = span(dev)
        assert fault_at <= start < end < LIVE_START + timedelta(hours=48)
        assert info(dev)["rule"] == "N1"
        assert info(dev)["limits"] == f"control_limits:{lim.id} v1"
        assert info(dev)["window"] == "1h"
        assert all(not lim.lcl <= v <= lim.ucl for v in info(dev)["values"])
        assert f"limits v1: {lim.lcl:.4g} to {lim.ucl:.4g}" in dev.description
        [created] = history(net, "deviations", dev.id)
        assert (created.action, created.username) == ("create", "operator")
    # The drift and the step go on to the end of the data; the excursion lasts 6 h.
    excursion = next(c for c, f in world.faults.items() if f.kind == "do_excursion")
    [do] = the(net, excursion, "dissolved_oxygen")
    assert span(do)[1] - span(do)[0] < timedelta(hours=7)


def test_monitor_is_idempotent(net: Network, world: World) -> None:
    first = tick(net)
    before = n_audit(net)
    opened = [d["row"].code for d in deviations(net)]

    again = tick(net)

    assert again.new_deviations == []
    assert {s.deviation for s in again.signals} == {s.deviation for s in first.signals}
    assert [d["row"].code for d in deviations(net)] == opened
    assert n_audit(net) == before  # nothing was rewritten either


def test_continuing_excursion_extends_its_deviation(net: Network, world: World) -> None:
    tick(net)
    step = next(c for c, f in world.faults.items() if f.kind == "temp_step")
    [dev] = the(net, step, "temperature")
    n_values = len(info(dev)["values"])

    ingest_rest(net, world)
    report = tick(net)

    assert not [s for s in report.new_deviations if s.batch in world.faults]
    [grown] = the(net, step, "temperature")
    assert grown.code == dev.code
    assert grown.window_start == dev.window_start
    assert grown.window_end == LIVE_START + timedelta(hours=72)
    assert len(info(grown)["values"]) > n_values
    update = history(net, "deviations", dev.id)[-1]
    assert (update.action, update.reason) == ("update", "excursion continues")
    assert update.changes["window_end"][1] == span(grown)[1].isoformat(timespec="microseconds")
    # The pH drift continues too; the 6-hour excursion ended and is left alone.
    drift = next(c for c, f in world.faults.items() if f.kind == "ph_drift")
    assert the(net, drift, "ph")[0].window_end == LIVE_START + timedelta(hours=72)
    excursion = next(c for c, f in world.faults.items() if f.kind == "do_excursion")
    [do] = the(net, excursion, "dissolved_oxygen")
    assert len(history(net, "deviations", do.id)) == 1

    before = n_audit(net)
    assert tick(net).new_deviations == []
    assert n_audit(net) == before


def test_closed_deviation_is_not_reopened(net: Network, world: World) -> None:
    tick(net)
    step = next(c for c, f in world.faults.items() if f.kind == "temp_step")
    [dev] = the(net, step, "temperature")
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        close_deviation(uow, dev.code, password=PASSWORD, resolution="heater PID retuned")
    before = n_audit(net)

    assert tick(net).new_deviations == []  # the same, already reported window
    [same] = the(net, step, "temperature")
    assert (same.status, same.window_end) == (DeviationStatus.closed, dev.window_end)
    assert n_audit(net) == before

    # The excursion goes on after closure: a new deviation that says what it continues.
    ingest_rest(net, world)
    report = tick(net)
    closed, new = the(net, step, "temperature")
    assert (closed.code, closed.status, closed.window_end) == (
        dev.code,
        DeviationStatus.closed,
        dev.window_end,
    )
    assert new.code in {s.deviation for s in report.new_deviations}
    assert new.status is DeviationStatus.open
    assert info(new)["continues"] == dev.code
    assert new.window_end == LIVE_START + timedelta(hours=72)


def test_limits_window_is_the_monitored_window(net: Network, world: World) -> None:
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        lim = set_baseline(uow, parameter="ph", baseline_batches=world.baseline, window="4h")
    drift = next(c for c, f in world.faults.items() if f.kind == "ph_drift")

    report = tick(net)

    [dev] = the(net, drift, "ph")
    assert info(dev)["window"] == "4h"
    assert info(dev)["limits"] == f"control_limits:{lim.id} v2"
    assert span(dev)[0].hour % 4 == 0
    assert any(s.deviation == dev.code for s in report.new_deviations)
    with net.db.read() as session:
        frame, used = chart_frame(session, batch=drift, parameter="ph")
    assert used is not None and used.id == lim.id
    assert len(frame) == 12  # 48 h of 4-hour means
    assert set(frame["window_start"].diff().dropna()) == {pd.Timedelta(hours=4)}


def test_chart_frame_and_plot(net: Network, world: World, tmp_path: Path) -> None:
    step = next(c for c, f in world.faults.items() if f.kind == "temp_step")
    with net.db.read() as session:
        frame, limits = chart_frame(session, batch=step, parameter="temperature")
        with pytest.raises(RecordNotFoundError):
            chart_frame(session, batch="HUB-A-NOPE", parameter="temperature")
    assert limits is not None and limits.version == 1
    assert list(frame.columns) == ["window_start", "value", "n", "window_end"]
    assert len(frame) == 48
    assert set(frame["n"]) == {2}
    out = tmp_path / "chart.png"
    plot_control_chart(
        frame,
        center=limits.center,
        lcl=limits.lcl,
        ucl=limits.ucl,
        title="temperature",
        unit="degC",
        flagged=[40, 41],
        out=out,
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_batch_chart_flags_the_step_and_refuses_a_batch_without_readings(
    net: Network, world: World, tmp_path: Path
) -> None:
    step = next(c for c, f in world.faults.items() if f.kind == "temp_step")
    clean = world.clean[0]
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        register_parameter(uow, name="co2", unit="%", step="expansion", description="CO2")
    with net.db.read() as session:
        out = draw_batch_chart(
            session, batch=step, parameter="temperature", out=tmp_path / "step.svg"
        )
        calm = draw_batch_chart(
            session, batch=clean, parameter="temperature", out=tmp_path / "clean.svg"
        )
        with pytest.raises(InvalidInputError, match="no co2 readings") as caught:
            draw_batch_chart(session, batch=step, parameter="co2", out=tmp_path / "x.png")
    assert caught.value.field == "parameter"
    # Points that complete a rule violation are drawn in red: the step has them.
    assert out.read_text().startswith("<?xml") and "#c00000" in out.read_text()
    assert "#c00000" not in calm.read_text()
    assert not (tmp_path / "x.png").exists()


def test_severity_tables(tmp_path: Path) -> None:
    assert load_severity(None) == DEFAULT_SEVERITY
    good = tmp_path / "good.yaml"
    good.write_text(SEVERITY_YAML, encoding="utf-8")
    table = load_severity(good)
    assert table["temperature"] == {"N1": "critical"}
    assert table["N1"] == "minor"
    for name, content, field in [
        ("level.yaml", "temperature:\n  N1: catastrophic\n", "temperature.N1"),
        ("rule.yaml", "N1: high\n", "N1"),
        ("list.yaml", "- N1\n", None),
        ("broken.yaml", "N1: [minor\n", None),
    ]:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(InvalidInputError) as caught:
            load_severity(path)
        assert (caught.value.file, caught.value.field) == (str(path), field)


def test_monitor_permissions_and_rules(net: Network) -> None:
    before = n_audit(net)
    for role in ("admin", "clinician"):
        with pytest.raises(PermissionDeniedError):
            tick(net, role=role)
    with pytest.raises(InvalidInputError) as caught:
        tick(net, rules=("N1", "N42"))
    assert caught.value.field == "rules"
    assert n_audit(net) == before

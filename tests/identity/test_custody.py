"""Chain of custody: matched hand-offs pass custody; mismatches are refused and recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from vein2vein.errors import InvalidInputError, PermissionDeniedError
from vein2vein.identity import Handoff, check_handoff, log_custody, new_din
from vein2vein.records import Batch, CustodyEvent, Deviation
from vein2vein.specs import Outcome
from vein2vein.testing import Network, make_batch

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def _handoff(batch: Batch, **overrides: object) -> Handoff:
    values: dict[str, object] = {
        "from_party": "HUB-A",
        "to_party": "courier",
        "occurred_at": T0,
        "scanned_din": batch.donation.din,
        "scanned_patient": batch.patient.patient_code,
        "temperature_c": 4.5,
        "condition": "refrigerated",
    }
    values.update(overrides)
    return Handoff(**values)  # type: ignore[arg-type]


def _load(net: Network, batch_id: int) -> Batch:
    with net.db.read() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        _ = (batch.donation.din, batch.patient.patient_code)
        return batch


def _log(net: Network, batch: Batch, handoff: Handoff):  # type: ignore[no-untyped-def]
    with net.db.unit_of_work(net.actor("operator")) as uow:
        return log_custody(uow, batch=batch.batch_code, handoff=handoff)


def test_matching_handoff_passes_custody(network: Network) -> None:
    batch = _load(network, make_batch(network).id)
    result = _log(network, batch, _handoff(batch, scanned_din=_eye(batch.donation.din)))
    assert result.accepted
    assert result.decision.outcome is Outcome.passed
    assert result.deviation is None
    assert _load(network, batch.id).custodian == "courier"


def _eye(din13: str) -> str:
    return new_din(din13[:5], din13[5:7], din13[7:]).eye_readable


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"scanned_din": "A999926999999"}, "does not match the batch DIN"),
        ({"scanned_patient": "PT-9999"}, "does not match the batch patient"),
        ({"from_party": "HUB-B"}, "held by 'HUB-A'"),
        ({"scanned_din": "not a label"}, "is not a valid DIN"),
    ],
)
def test_mismatch_is_refused_and_recorded_as_deviation(
    network: Network, override: dict[str, object], reason: str
) -> None:
    batch = _load(network, make_batch(network).id)
    result = _log(network, batch, _handoff(batch, **override))
    assert not result.accepted
    assert result.decision.outcome is Outcome.failed
    assert any(reason in r for r in result.decision.reasons)
    assert _load(network, batch.id).custodian == "HUB-A"  # custody did not move
    with network.db.read() as session:
        event = session.scalars(select(CustodyEvent).where(CustodyEvent.batch_id == batch.id)).one()
        deviation = session.scalars(select(Deviation).where(Deviation.batch_id == batch.id)).one()
    assert event.accepted is False
    assert reason in (event.refusal_reason or "")
    assert event.deviation_id == deviation.id
    assert (deviation.category, deviation.severity) == ("chain_of_identity", "critical")
    assert batch.batch_code in deviation.description


def test_temperature_excursion_moves_custody_and_opens_a_deviation(network: Network) -> None:
    batch = _load(network, make_batch(network).id)
    result = _log(network, batch, _handoff(batch, temperature_c=9.1))
    assert result.accepted
    assert result.decision.outcome is Outcome.failed
    assert result.deviation is not None
    assert result.deviation.category == "temperature_excursion"
    assert "9.1 °C is outside the refrigerated range" in result.deviation.description
    assert _load(network, batch.id).custodian == "courier"


def test_cryopreserved_range_is_open_below(network: Network) -> None:
    batch = _load(network, make_batch(network).id)
    ok = _log(network, batch, _handoff(batch, condition="cryopreserved", temperature_c=-180.0))
    assert ok.deviation is None
    warm = _log(
        network,
        batch,
        _handoff(
            batch,
            from_party="courier",
            to_party="HUB-B",
            condition="cryopreserved",
            temperature_c=-120.0,
            occurred_at=T0 + timedelta(hours=2),
        ),
    )
    assert warm.deviation is not None


def test_a_chain_of_handoffs(network: Network) -> None:
    batch = _load(network, make_batch(network).id)
    hops = [("HUB-A", "courier"), ("courier", "HUB-B"), ("HUB-B", "infusion ward")]
    for i, (giver, taker) in enumerate(hops):
        handoff = _handoff(
            batch, from_party=giver, to_party=taker, occurred_at=T0 + timedelta(hours=i)
        )
        assert _log(network, batch, handoff).accepted
    assert _load(network, batch.id).custodian == "infusion ward"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"condition": "warm"}, "condition"),
        ({"temperature_c": None}, "temperature_c"),
        ({"occurred_at": datetime(2026, 2, 1, 9, 0)}, "occurred_at"),
        # Not finite, or not a possible temperature: bad input, not an excursion.
        ({"temperature_c": float("nan")}, "temperature_c"),
        ({"temperature_c": float("inf")}, "temperature_c"),
        ({"temperature_c": float("1e400")}, "temperature_c"),
        ({"temperature_c": -500.0, "condition": "cryopreserved"}, "temperature_c"),
        ({"temperature_c": -1_000_000.0, "condition": None}, "temperature_c"),
        ({"temperature_c": 1_000.0}, "temperature_c"),
    ],
)
def test_bad_handoff_input_is_rejected_and_nothing_stored(
    network: Network, override: dict[str, object], field: str
) -> None:
    batch = _load(network, make_batch(network).id)
    with pytest.raises(InvalidInputError) as info:
        _log(network, batch, _handoff(batch, **override))
    assert info.value.field == field
    with network.db.read() as session:
        assert session.scalars(select(CustodyEvent)).first() is None


def test_clinician_may_log_but_admin_may_not(network: Network) -> None:
    batch = _load(network, make_batch(network).id)
    with (
        pytest.raises(PermissionDeniedError),
        network.db.unit_of_work(network.actor("admin")) as uow,
    ):
        log_custody(uow, batch=batch.batch_code, handoff=_handoff(batch))


def test_check_handoff_is_pure_and_lists_every_reason() -> None:
    handoff = Handoff(
        from_party="X",
        to_party="X",
        occurred_at=T0,
        scanned_din="A999926000002",
        scanned_patient="PT-2",
    )
    decision = check_handoff(handoff, din13="A999926000001", patient_code="PT-1", custodian="Y")
    assert not decision.ok
    assert len(decision.reasons) == 4

"""Registration: sites by FIN, donations by DIN, batches from one donation each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vein2vein.errors import IdentityError, InvalidInputError, RecordConflictError
from vein2vein.identity import new_din, register_donation, register_site, start_batch
from vein2vein.records import Batch, Donation, DonationStatus, ProcessStep
from vein2vein.testing import Network, accept_donations, make_batch, make_donation

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def test_donation_din_must_belong_to_collection_site(network: Network) -> None:
    make_donation(network)  # registers PT-0001
    foreign = new_din("W0000", 2026, 77)  # HUB-B's facility
    with (
        pytest.raises(IdentityError, match="collection site HUB-A is facility A9999"),
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        register_donation(
            uow, din=foreign, patient="PT-0001", collection_site="HUB-A", collected_at=T0
        )


def test_bad_check_character_is_refused(network: Network) -> None:
    make_donation(network)
    din = new_din("A9999", 2026, 78)
    wrong = "0" if din.check != "0" else "1"
    with (
        pytest.raises(IdentityError, match="check character"),
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        register_donation(
            uow,
            din=din.din13 + din.flags + wrong,
            patient="PT-0001",
            collection_site="HUB-A",
            collected_at=T0,
        )


def test_a_din_is_registered_once(network: Network) -> None:
    donation = make_donation(network)
    with (
        pytest.raises(RecordConflictError, match="already registered"),
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        register_donation(
            uow, din=donation.din, patient="PT-0001", collection_site="HUB-A", collected_at=T0
        )


def test_batch_takes_the_donation_patient_and_opens_receipt_step(network: Network) -> None:
    batch = make_batch(network, site="HUB-B")
    with network.db.read() as session:
        stored = session.get(Batch, batch.id)
        assert stored is not None
        donation = session.get(Donation, stored.donation_id)
        assert donation is not None
        assert stored.patient_id == donation.patient_id
        assert stored.custodian == "HUB-B"
        assert stored.batch_code == f"HUB-B-{donation.din}"
        steps = session.query(ProcessStep).filter_by(batch_id=batch.id).all()
    assert [s.name for s in steps] == ["starting material receipt"]


def test_one_batch_per_donation_and_none_from_rejected(network: Network) -> None:
    batch = make_batch(network)
    with network.db.read() as session:
        din = session.get(Donation, batch.donation_id).din  # type: ignore[union-attr]
    with (
        pytest.raises(RecordConflictError, match="already started"),
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        start_batch(uow, din=din, site="HUB-A", product="x", started_at=T0)
    rejected = make_donation(network)
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        uow.change(uow.get(Donation, rejected.din), status=DonationStatus.rejected)
    with (
        pytest.raises(InvalidInputError, match="rejected at intake") as caught,
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        start_batch(uow, din=rejected.din, site="HUB-A", product="x", started_at=T0)
    assert caught.value.field == "din"


def test_a_batch_needs_an_accepting_intake_decision(network: Network) -> None:
    """A registered donation, never decided at intake, does not start a batch."""
    undecided = make_donation(network)
    with (
        pytest.raises(InvalidInputError, match="no accepting intake decision") as caught,
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        start_batch(uow, din=undecided.din, site="HUB-A", product="x", started_at=T0)
    assert caught.value.field == "din"
    assert "registered" in str(caught.value)
    with network.db.read() as session:
        assert session.query(Batch).count() == 0
    accept_donations(network, undecided.din)
    with network.db.unit_of_work(network.actor("operator")) as uow:
        batch = start_batch(uow, din=undecided.din, site="HUB-A", product="x", started_at=T0)
    assert batch.status == "in_process"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"facility_id": "O1234"}, "facility_id"),
        ({"facility_id": "A99"}, "facility_id"),
        ({"code": "bad code"}, "code"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_site_fields(network: Network, kwargs: dict, field: str) -> None:
    args = {"code": "HUB-Q", "name": "Hub Q", "facility_id": "B0001"}
    with (
        pytest.raises(InvalidInputError) as info,
        network.db.unit_of_work(network.actor("admin")) as uow,
    ):
        register_site(uow, **{**args, **kwargs})
    assert info.value.field == field


def test_naive_collection_time_is_refused(network: Network) -> None:
    make_donation(network)
    with (
        pytest.raises(InvalidInputError, match="no time zone") as info,
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        register_donation(
            uow,
            din=new_din("A9999", 2026, 79),
            patient="PT-0001",
            collection_site="HUB-A",
            collected_at=datetime(2026, 1, 1),
        )
    assert info.value.field == "collected_at"

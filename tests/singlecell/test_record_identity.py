"""A profile recorded on a batch belongs to that batch's patient and product (both databases)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from vein2vein.errors import InvalidInputError
from vein2vein.records import AssayResult
from vein2vein.singlecell.profile import ProductProfile, record_profile
from vein2vein.testing import Network, make_batch

PROFILE = ProductProfile(
    sample="S-PRODUCT",
    patient="PT-0001",
    timepoint="M0",
    package_version="0",
    n_cells=300,
    car_positive_fraction=0.4,
)


def n_results(net: Network) -> int:
    with net.db.read() as session:
        return int(session.execute(select(func.count()).select_from(AssayResult)).scalar_one())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"patient": "PT-0002"}, "patient"),
        ({"timepoint": "M6"}, "timepoint"),
        ({"timepoint": "M0.5"}, "timepoint"),
    ],
    ids=["another patient", "six months after infusion", "two weeks after infusion"],
)
def test_a_profile_of_another_patient_or_a_later_timepoint_is_refused(
    network: Network, changes: dict[str, Any], field: str
) -> None:
    batch = make_batch(network).batch_code  # patient PT-0001
    with (
        pytest.raises(InvalidInputError) as caught,
        network.db.unit_of_work(network.actor("qc_analyst")) as uow,
    ):
        record_profile(uow, PROFILE.model_copy(update=changes), batch=batch)
    assert caught.value.field == field
    assert n_results(network) == 0
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        stored = record_profile(uow, PROFILE, batch=batch)
    assert len(stored) == n_results(network) > 0

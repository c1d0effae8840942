"""A profile recorded on a batch belongs to that batch's patient and product (both databases)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from vein2vein.errors import InvalidInputError
from vein2vein.records import AssayResult, Batch
from vein2vein.singlecell.profile import ProductProfile, record_profile, record_spec_header
from vein2vein.specs import Specification
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


def test_the_report_only_specification_comes_from_the_shipped_definition(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The effective date is data (``profile_spec.yaml``) or the caller's, never code."""
    import vein2vein.release

    seen: list[Specification] = []
    enter = vein2vein.release.enter_results

    def spy(uow: Any, rows: Any, *, spec: Specification, source: str | None = None) -> Any:
        seen.append(spec)
        return enter(uow, rows, spec=spec, source=source)

    monkeypatch.setattr(vein2vein.release, "enter_results", spy)
    header = record_spec_header()
    assert header["effective_date"] == dt.date(2026, 1, 1)
    for given in (None, dt.date(2027, 3, 1)):
        batch = make_batch(network).batch_code
        with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
            patient = uow.get(Batch, batch).patient.patient_code
            mine = PROFILE.model_copy(update={"patient": patient})
            record_profile(uow, mine, batch=batch, effective_date=given)
        spec = seen[-1]
        assert spec.effective_date == (given or header["effective_date"])
        assert (spec.id, spec.title, spec.product) == (
            header["id"],
            header["title"],
            header["product"],
        )
        assert {item.criterion.kind for item in spec.items} == {"report"}

"""Factories that build a small, valid network of records through the public API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import identity
from ..records import SYSTEM, Actor, Batch, Database, Donation, add_user, record_image

__all__ = [
    "PASSING_INTAKE",
    "PASSING_RELEASE",
    "PASSWORD",
    "Network",
    "accept_donations",
    "assert_records_equal",
    "make_batch",
    "make_donation",
    "make_network",
]

#: The password of every user the factories make.
PASSWORD = "correct horse battery"

_BASE_TIME = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

#: A lot-release result set that meets the shipped anti-CD19 CAR-T release
#: specification (the dose per kg as reported): analyte -> (value, unit).
PASSING_RELEASE: dict[str, tuple[str, str | None]] = {
    "appearance": ("conforms", None),
    "car_expression": ("25", "%"),
    "viability": ("92", "%"),
    "car_t_dose": ("2.0", "10^6 cells/kg"),
    "vcn": ("1.8", "copies/cell"),
    "ifng_release": ("2400", "pg/mL"),
    "endotoxin": ("<0.5", "EU/mL"),
    "sterility_rapid": ("no growth", None),
    "sterility_14d": ("no growth", None),
    "mycoplasma": ("not detected", None),
    "rcl": ("not detected", None),
}

#: A characterization that meets the shipped apheresis intake specification:
#: analyte -> (value, unit).
PASSING_INTAKE: dict[str, tuple[str, str | None]] = {
    "tnc": ("3.2", "10^9 cells"),
    "cd3_count": ("1.5", "10^9 cells"),
    "cd3_percent": ("45", "%"),
    "viability": ("95", "%"),
    "cd4_cd8_ratio": ("1.4", None),
    "hematocrit": ("3", "%"),
    "granulocytes": ("5", "%"),
    "monocytes": ("25", "%"),
    "hiv_1_2": ("non-reactive", None),
    "hbv": ("negative", None),
    "hcv": ("non-reactive", None),
    "htlv_1_2": ("negative", None),
    "syphilis": ("non-reactive", None),
}


@dataclass
class Network:
    """A system of record with sites and one user per role, ready for a test."""

    db: Database
    sites: dict[str, str] = field(default_factory=dict)  # code -> FIN
    actors: dict[str, Actor] = field(default_factory=dict)  # role -> actor
    _donations: int = 0

    def actor(self, role: str) -> Actor:
        """The network's user with ``role``."""
        return self.actors[role]


def make_network(db: Database, *, sites: dict[str, str] | None = None) -> Network:
    """Migrate ``db`` and register sites and one user per role (password :data:`PASSWORD`).

    Parameters
    ----------
    db
        An empty database.
    sites
        Site code to ISBT 128 FIN; two sites by default.
    """
    sites = sites or {"HUB-A": "A9999", "HUB-B": "W0000"}
    db.upgrade()
    with db.unit_of_work(SYSTEM) as uow:
        add_user(uow, username="admin", full_name="Ada Admin", role="admin", password=PASSWORD)
    net = Network(db=db, sites=dict(sites))
    net.actors["admin"] = db.actor("admin")
    with db.unit_of_work(net.actors["admin"]) as uow:
        for code, fin in sites.items():
            identity.register_site(
                uow, code=code, name=f"{code} cell therapy unit", facility_id=fin
            )
        for role, name in (
            ("operator", "Otto Operator"),
            ("qc_analyst", "Quincy Analyst"),
            ("qa_reviewer", "Quinn Reviewer"),
            ("clinician", "Clara Clinician"),
        ):
            add_user(
                uow, username=role.replace("_", "-"), full_name=name, role=role, password=PASSWORD
            )
    for role in ("operator", "qc_analyst", "qa_reviewer", "clinician"):
        net.actors[role] = db.actor(role.replace("_", "-"))
    return net


def make_donation(net: Network, *, site: str | None = None, patient: str | None = None) -> Donation:
    """Register a patient (if new) and a donation with a fresh valid DIN at ``site``."""
    site = site or next(iter(net.sites))
    net._donations += 1
    n = net._donations
    patient = patient or f"PT-{n:04d}"
    din = identity.new_din(net.sites[site], 2026, n)
    with net.db.unit_of_work(net.actor("operator")) as uow:
        from sqlalchemy import select

        from ..records import Patient

        if (
            uow.session.scalars(select(Patient).where(Patient.patient_code == patient)).first()
            is None
        ):
            identity.register_patient(uow, patient_code=patient, treating_site=site)
        return identity.register_donation(
            uow,
            din=din,
            patient=patient,
            collection_site=site,
            collected_at=_BASE_TIME + timedelta(hours=n),
            volume_ml=250.0,
        )


def accept_donations(net: Network, *dins: str) -> None:
    """Decide the intake of registered donations on :data:`PASSING_INTAKE` (QC analyst).

    A batch starts only from an accepted donation; this is the decision that
    :func:`make_batch` takes for its donation.
    """
    from ..intake import Characterization, decide_intake
    from ..specs import Result, shipped_spec

    spec = shipped_spec("apheresis-intake")
    results = tuple(Result(a, v, u) for a, (v, u) in PASSING_INTAKE.items())
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        for line, din in enumerate(dins, start=2):
            decide_intake(uow, Characterization(din, results, None, line), spec)


def make_batch(net: Network, *, site: str | None = None, product: str = "anti-CD19 CAR-T") -> Batch:
    """A donation, its accepting intake decision, and the batch started from it at ``site``."""
    donation = make_donation(net, site=site)
    accept_donations(net, donation.din)
    with net.db.unit_of_work(net.actor("operator")) as uow:
        return identity.start_batch(
            uow,
            din=donation.din,
            site=site or next(iter(net.sites)),
            product=product,
            started_at=donation.collected_at + timedelta(hours=6),
        )


def assert_records_equal(left: Any, right: Any, *, ignore: tuple[str, ...] = ()) -> None:
    """Assert two records (or lists of them) have equal images, ignoring some fields."""
    if isinstance(left, list | tuple):
        assert isinstance(right, list | tuple), f"list vs {type(right).__name__}"
        assert len(left) == len(right), f"{len(left)} records vs {len(right)}"
        for a, b in zip(left, right, strict=True):
            assert_records_equal(a, b, ignore=ignore)
        return
    a = {k: v for k, v in record_image(left).items() if k not in ignore}
    b = {k: v for k, v in record_image(right).items() if k not in ignore}
    diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    assert not diff, f"records differ: {diff}"

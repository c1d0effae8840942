"""A synthetic network of sites, patients and apheresis donations (labelled synthetic)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

__all__ = ["PlannedDonation", "PlannedSite", "synthetic_network"]

# ICCBBA's own example FINs from ISBT 128 ST-001 (not real collection facilities).
_SITES = (
    ("HUB-A", "Hub A point-of-care cell therapy unit", "A9999"),
    ("HUB-B", "Hub B point-of-care cell therapy unit", "W0000"),
    ("HUB-C", "Hub C central manufacturing facility", "G1234"),
)


@dataclass(frozen=True, slots=True)
class PlannedSite:
    """A site to register."""

    code: str
    name: str
    facility_id: str


@dataclass(frozen=True, slots=True)
class PlannedDonation:
    """A donation to register and manufacture: who, where collected, where made, when."""

    patient: str
    collection_site: str
    manufacturing_site: str
    sequence: int
    collected_at: datetime
    volume_ml: float
    transit_temperature_c: float


def synthetic_network(
    *, donations_per_site: int = 12, seed: int = 0, start: datetime | None = None
) -> tuple[list[PlannedSite], list[PlannedDonation]]:
    """Three sites and ``donations_per_site`` donations collected at each.

    Collections are spread over four weeks; a third of the donations are made at a
    different hub from the one that collected them (a hub-and-spoke network). Transit
    temperatures are drawn around 5 °C (refrigerated shipping).
    """
    rng = np.random.default_rng(seed)
    start = start or datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    sites = [PlannedSite(*s) for s in _SITES]
    codes = [s.code for s in sites]
    donations: list[PlannedDonation] = []
    for i, site in enumerate(sites):
        for j in range(donations_per_site):
            n = i * donations_per_site + j + 1
            elsewhere = rng.random() < 1 / 3
            made_at = codes[(i + 1) % len(codes)] if elsewhere else site.code
            donations.append(
                PlannedDonation(
                    patient=f"SYN-{site.code[-1]}{j + 1:03d}",
                    collection_site=site.code,
                    manufacturing_site=made_at,
                    sequence=n,
                    collected_at=start + timedelta(hours=float(rng.uniform(0, 24 * 28))),
                    volume_ml=round(float(rng.normal(280, 40)), 1),
                    transit_temperature_c=round(float(rng.normal(5.0, 0.8)), 1),
                )
            )
    donations.sort(key=lambda d: d.collected_at)
    return sites, donations

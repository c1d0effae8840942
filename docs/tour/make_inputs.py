"""Write the synthetic CSV files of the README's tour (run it to remake them exactly).

SYNTHETIC data, made up for the tour; no patient, site or instrument produced them.

- ``bioreactor.csv``: pH of batches HUB-A-A999926000002..4, every 15 minutes for the
  first 24 hours after their start (2026-03-09 10:00 UTC); noise only, except batch 4,
  whose pH drifts up by 0.012 an hour from hour 12 (the monitor's catch).
- ``bioreactor-late.csv``: hours 24 to 30 of batch 3, clean (sent by the export client).
- ``site-lots.csv``: release results of 10 HUB-A and 8 HUB-B lots (viability,
  CAR expression), HUB-B's viability a little lower (the comparability report's case).
- ``cohort.csv``: 40 infused patients with two product attributes, progression-free
  survival and response; higher CAR expression goes with longer survival.

Usage: ``python docs/tour/make_inputs.py [FOLDER]`` (default: this file's folder).
"""

from __future__ import annotations

import csv
import math
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)


def _ph(rng: random.Random, batch: str, hours: float) -> float:
    drift = 0.012 * (hours - 12) if batch.endswith("4") and hours > 12 else 0.0
    return round(7.10 + drift + rng.gauss(0, 0.02), 3)


def _readings(rng: random.Random, batches: list[str], first: int, last: int) -> list[list[str]]:
    rows = []
    for batch in batches:
        for k in range(first, last + 1):
            at = START + k * STEP
            stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            rows.append([batch, "ph", stamp, f"{_ph(rng, batch, k / 4):.3f}", ""])
    return rows


def _lots(rng: random.Random) -> list[list[str]]:
    rows = []
    for site, n, viability in (("HUB-A", 10, 92.0), ("HUB-B", 8, 90.5)):
        for i in range(1, n + 1):
            lot = f"{site}-L{i:02d}"
            rows.append([lot, site, "viability", f"{viability + rng.gauss(0, 1.5):.1f}"])
            rows.append([lot, site, "car_expression", f"{24 + rng.gauss(0, 4):.1f}"])
    return rows


def _cohort(rng: random.Random) -> list[list[str]]:
    rows = []
    for i in range(1, 41):
        car = rng.gauss(25, 6)
        vcn = rng.gauss(2.0, 0.4)
        pfs = rng.expovariate(1 / (300 * math.exp((car - 25) / 10)))
        event = int(pfs < 365)
        responder = int(car + rng.gauss(0, 5) > 24)
        pfs_time = f"{min(pfs, 365):.0f}"
        rows.append([f"S{i:03d}", f"{car:.1f}", f"{vcn:.2f}", pfs_time, str(event), str(responder)])
    return rows


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(folder: Path) -> None:
    """Write the four files into ``folder``."""
    rng = random.Random(2026)
    batches = [f"HUB-A-A99992600000{n}" for n in (2, 3, 4)]
    columns = ["batch", "parameter", "timestamp", "value", "unit"]
    _write(folder / "bioreactor.csv", columns, _readings(rng, batches, 1, 96))
    _write(folder / "bioreactor-late.csv", columns, _readings(rng, batches[1:2], 97, 120))
    _write(folder / "site-lots.csv", ["lot", "site", "cqa", "value"], _lots(rng))
    header = ["patient_id", "car_expression", "vcn", "pfs_time", "pfs_event", "responder"]
    _write(folder / "cohort.csv", header, _cohort(rng))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)

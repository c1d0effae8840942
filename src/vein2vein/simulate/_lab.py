"""Synthetic laboratory results: apheresis characterizations and release-test exports.

Values are drawn around typical published ranges of autologous CAR-T manufacturing;
they are labelled synthetic wherever they are written, and never stand for real data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "INTAKE_COLUMNS",
    "RELEASE_COLUMNS",
    "synthetic_characterization",
    "synthetic_release_results",
]

INTAKE_COLUMNS = (
    "din",
    "tnc [10^9 cells]",
    "cd3_count [10^9 cells]",
    "cd3_percent [%]",
    "viability [%]",
    "cd4_cd8_ratio",
    "hematocrit [%]",
    "granulocytes [%]",
    "monocytes [%]",
    "hiv_1_2",
    "hbv",
    "hcv",
    "htlv_1_2",
    "syphilis",
    "accept_with_deviation",
)
RELEASE_COLUMNS = ("batch", "analyte", "value", "unit", "method")


def synthetic_characterization(
    dins: Sequence[str],
    *,
    seed: int,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> list[dict[str, str]]:
    """One apheresis characterization row per DIN; ``overrides[din]`` replaces values."""
    rng = np.random.default_rng(seed)
    rows = []
    for din in dins:
        cd3 = float(np.clip(rng.lognormal(np.log(2.5), 0.4), 0.7, 9.0))
        cd3_pct = float(np.clip(rng.normal(48, 12), 15, 85))
        row = {
            "din": din,
            "tnc [10^9 cells]": f"{cd3 / (cd3_pct / 100):.2f}",
            "cd3_count [10^9 cells]": f"{cd3:.2f}",
            "cd3_percent [%]": f"{cd3_pct:.1f}",
            "viability [%]": f"{float(np.clip(rng.normal(96, 1.8), 85, 99.9)):.1f}",
            "cd4_cd8_ratio": f"{float(rng.lognormal(np.log(1.6), 0.35)):.2f}",
            "hematocrit [%]": f"{float(np.clip(rng.normal(3.5, 1.2), 0.5, 9)):.1f}",
            "granulocytes [%]": f"{float(np.clip(rng.normal(6, 3), 0.5, 18)):.1f}",
            "monocytes [%]": f"{float(np.clip(rng.normal(22, 7), 3, 45)):.1f}",
            "hiv_1_2": "non-reactive",
            "hbv": "negative",
            "hcv": "non-reactive",
            "htlv_1_2": "negative",
            "syphilis": "non-reactive",
            "accept_with_deviation": "",
        }
        row.update((overrides or {}).get(din, {}))
        rows.append(row)
    return rows


def synthetic_release_results(
    batches: Sequence[str],
    *,
    seed: int,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> list[dict[str, str]]:
    """A full release-test export (instrument rows) for each batch, passing by default."""
    rng = np.random.default_rng(seed)
    rows = []
    for batch in batches:
        values = {
            "appearance": ("conforms", "", "visual inspection"),
            "car_expression": (f"{rng.normal(32, 8):.1f}", "%", "flow cytometry"),
            "viability": (f"{np.clip(rng.normal(91, 3), 82, 99):.1f}", "%", "flow cytometry 7-AAD"),
            "car_t_dose": (
                f"{np.clip(rng.normal(2.2, 0.8), 0.5, 4.8):.2f}",
                "10^6 cells/kg",
                "flow cytometry count",
            ),
            "vcn": (
                f"{np.clip(rng.lognormal(np.log(1.6), 0.3), 0.5, 4.5):.2f}",
                "copies/cell",
                "ddPCR",
            ),
            "ifng_release": (
                f"{rng.lognormal(np.log(2500), 0.4):.0f}",
                "pg/mL",
                "co-culture with CD19+ targets, ELISA",
            ),
            "endotoxin": ("<0.5", "EU/mL", "kinetic chromogenic LAL"),
            "sterility_rapid": ("no growth", "", "BacT/ALERT 7-day"),
            "sterility_14d": ("no growth", "", "USP <71> 14-day"),
            "mycoplasma": ("not detected", "", "qPCR (Ph. Eur. 2.6.7)"),
            "rcl": ("not detected", "", "VSV-G qPCR"),
        }
        for analyte, value in (overrides or {}).get(batch, {}).items():
            values[analyte] = (value, *values[analyte][1:])
        for analyte, (value, unit, method) in values.items():
            rows.append(
                {"batch": batch, "analyte": analyte, "value": value, "unit": unit, "method": method}
            )
    return rows

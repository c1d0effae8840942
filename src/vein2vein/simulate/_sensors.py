"""Synthetic bioreactor sensor trajectories for the expansion step (labelled synthetic).

Each batch gets pH, dissolved oxygen, temperature, glucose, lactate and viable cell
density over the expansion step, sampled every ``every`` minutes: set-point controlled
parameters wander around their set point (AR(1) noise); metabolites and cell density
follow logistic growth with batch-to-batch variation. Faults can be injected per batch:
a slow pH drift, a dissolved-oxygen excursion and a temperature step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

__all__ = ["PARAMETERS", "Fault", "synthetic_trajectories"]

#: name -> (unit, process step, description)
PARAMETERS: dict[str, tuple[str, str, str]] = {
    "ph": ("", "expansion", "culture pH (in-line probe)"),
    "dissolved_oxygen": ("%", "expansion", "dissolved oxygen, % air saturation"),
    "temperature": ("degC", "expansion", "culture temperature"),
    "glucose": ("g/L", "expansion", "glucose (at-line analyser)"),
    "lactate": ("g/L", "expansion", "lactate (at-line analyser)"),
    "viable_cell_density": ("1e6 cells/mL", "expansion", "viable cell density"),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault injected into one batch: ``kind`` is ph_drift, do_excursion or temp_step."""

    kind: str
    start_h: float
    size: float


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    e = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    x = np.empty(n)
    x[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def synthetic_trajectories(
    batches: Sequence[tuple[str, datetime]],
    *,
    seed: int,
    hours: float = 192.0,
    every: int = 30,
    faults: Mapping[str, Fault] | None = None,
) -> pd.DataFrame:
    """Long frame ``batch, parameter, timestamp, value, unit`` for each (batch, start)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, hours + 1e-9, every / 60.0)
    frames = []
    for code, start in batches:
        k = rng.normal(0.045, 0.004)  # growth rate, 1/h
        cap = rng.normal(6.0, 0.6)  # carrying capacity, 1e6 cells/mL
        vcd = cap / (1 + (cap / 0.3 - 1) * np.exp(-k * t))
        vcd *= np.exp(rng.normal(0, 0.03, t.size))
        glucose = np.clip(4.5 - 0.42 * (vcd - 0.3) + rng.normal(0, 0.05, t.size), 0.2, None)
        lactate = np.clip(0.1 + 0.33 * (vcd - 0.3) + rng.normal(0, 0.04, t.size), 0.0, None)
        series = {
            # Controlled at their set points: small batch offsets, autocorrelated noise.
            "ph": 7.20 + rng.normal(0, 0.004) + _ar1(rng, t.size, 0.9, 0.02),
            "dissolved_oxygen": 50.0 + rng.normal(0, 0.4) + _ar1(rng, t.size, 0.85, 2.0),
            "temperature": 37.0 + rng.normal(0, 0.01) + _ar1(rng, t.size, 0.8, 0.05),
            "glucose": glucose,
            "lactate": lactate,
            "viable_cell_density": vcd,
        }
        fault = (faults or {}).get(code)
        if fault is not None:
            after = t >= fault.start_h
            if fault.kind == "ph_drift":  # size: pH units per 24 h
                series["ph"] = series["ph"] - after * (t - fault.start_h) * fault.size / 24.0
            elif fault.kind == "do_excursion":  # size: % points for 6 h
                window = after & (t < fault.start_h + 6.0)
                series["dissolved_oxygen"] = series["dissolved_oxygen"] - window * fault.size
            elif fault.kind == "temp_step":  # size: degC, sustained
                series["temperature"] = series["temperature"] + after * fault.size
            else:
                msg = f"unknown fault kind {fault.kind!r}"
                raise ValueError(msg)
        stamps = pd.Timestamp(start) + pd.to_timedelta(t, unit="h")
        for name, values in series.items():
            frames.append(
                pd.DataFrame(
                    {
                        "batch": code,
                        "parameter": name,
                        "timestamp": stamps,
                        "value": np.round(values, 4),
                        "unit": PARAMETERS[name][0],
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)

"""Synthetic generators for the demo and benchmarks. Everything made here is labelled synthetic."""

from __future__ import annotations

from ._demo import DemoSummary, run_demo
from ._network import SYNTHETIC_LABEL, PlannedDonation, PlannedSite, synthetic_network

__all__ = [
    "SYNTHETIC_LABEL",
    "DemoSummary",
    "PlannedDonation",
    "PlannedSite",
    "run_demo",
    "synthetic_network",
]

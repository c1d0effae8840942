"""Synthetic generators for the demo and benchmarks. Everything made here is labelled synthetic."""

from __future__ import annotations

from ._demo import DemoSummary, run_demo
from ._invivo import run_invivo_program
from ._network import SYNTHETIC_LABEL, PlannedDonation, PlannedSite, synthetic_network
from ._singlecell import SyntheticProduct, synthetic_product, write_10x_h5
from ._singlecell_demo import run_singlecell_demo

__all__ = [
    "SYNTHETIC_LABEL",
    "DemoSummary",
    "PlannedDonation",
    "PlannedSite",
    "SyntheticProduct",
    "run_demo",
    "run_invivo_program",
    "run_singlecell_demo",
    "synthetic_network",
    "synthetic_product",
    "write_10x_h5",
]

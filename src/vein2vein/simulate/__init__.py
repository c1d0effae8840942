"""Synthetic generators for the demo, the tests and the benchmarks.

Generators only: everything made here is labelled synthetic (:data:`SYNTHETIC_LABEL`).
The demo that runs them through the platform is :mod:`vein2vein.demo`.

- :func:`synthetic_network`: sites, patients and apheresis donations;
- :func:`synthetic_characterization`, :func:`synthetic_release_results`: laboratory
  exports (apheresis characterization, release tests);
- :func:`synthetic_trajectories`: bioreactor sensor streams with an injected :class:`Fault`;
- :func:`synthetic_product`, :func:`write_10x_h5`: single-cell products with clonotypes.

Nothing here opens a database: the demo's programs that record a synthetic follow-up
or in vivo trial are in :mod:`vein2vein.demo`.
"""

from __future__ import annotations

from ..support import SYNTHETIC_LABEL
from ._lab import (
    INTAKE_COLUMNS,
    RELEASE_COLUMNS,
    synthetic_characterization,
    synthetic_release_results,
)
from ._network import PlannedDonation, PlannedSite, synthetic_network
from ._sensors import PARAMETERS, Fault, synthetic_trajectories
from ._singlecell import SyntheticProduct, synthetic_product, write_10x_h5

__all__ = [
    "INTAKE_COLUMNS",
    "PARAMETERS",
    "RELEASE_COLUMNS",
    "SYNTHETIC_LABEL",
    "Fault",
    "PlannedDonation",
    "PlannedSite",
    "SyntheticProduct",
    "synthetic_characterization",
    "synthetic_network",
    "synthetic_product",
    "synthetic_release_results",
    "synthetic_trajectories",
    "write_10x_h5",
]

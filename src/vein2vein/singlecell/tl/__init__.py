"""CAR+ cells, cell states, signature scores, clonotypes, diversity, tracking.

One module per tool: ``_car``, ``_states``, ``_signatures`` (with the shipped gene sets
in ``singlecell/data``), ``_clonotypes``, ``_diversity``, ``_tracking`` with its
result (``_tracking_result``) and overlap indices (``_overlap``).

Imports: ``io`` (the receptor-data helpers), ``pl`` (lazily, for a result's plot),
``support`` and ``errors``; never ``profile``.
"""

from __future__ import annotations

from ._car import car_positive
from ._clonotypes import CLONOTYPE_DEFINITIONS, EXPANSION_CLASSES, define_clonotypes
from ._diversity import DIVERSITY_METRICS, diversity
from ._signatures import score_signatures, shipped_signatures
from ._states import StateRule, call_states, shipped_state_rule, state_fractions
from ._tracking import timepoint_months, track_clones
from ._tracking_result import TrackingResult

__all__: list[str] = [
    "CLONOTYPE_DEFINITIONS",
    "DIVERSITY_METRICS",
    "EXPANSION_CLASSES",
    "StateRule",
    "TrackingResult",
    "call_states",
    "car_positive",
    "define_clonotypes",
    "diversity",
    "score_signatures",
    "shipped_signatures",
    "shipped_state_rule",
    "state_fractions",
    "timepoint_months",
    "track_clones",
]

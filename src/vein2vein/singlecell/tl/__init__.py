"""CAR+ cells, cell states, signature scores, clonotypes, diversity, tracking.

One module per tool: ``_car``, ``_states``, ``_signatures`` (with the shipped gene sets
in ``singlecell/data``), ``_clonotypes``, ``_diversity``, ``_tracking`` with its
result (``_tracking_result``) and overlap indices (``_overlap``).

Conventions (scanpy's and scirpy's, held for every ``pp``/``tl`` function by
``tests/singlecell/test_conventions.py``): the AnnData or MuData comes first, options are
keyword-only. A function that annotates writes into it and returns ``None``, or, with
``copy=True``, returns an annotated copy and leaves its input as it was; it writes only the
keys its docstring names. Where it has ``key_added``, that names everything it writes:
``obs[key_added]``, columns beside it ``obs[f"{key_added}_<what>"]`` and its record
``uns[f"v2v_{key_added}"]``; keys fixed by vein2vein carry the ``v2v_`` prefix, those of
scanpy and scirpy steps keep their names. A function that summarises (:func:`state_fractions`,
:func:`track_clones`) returns its result and writes nothing; :func:`clone_diversity` works
on clone counts without an AnnData.

Imports: ``io`` (the receptor-data helpers), ``pl`` (lazily, for a result's plot),
``support`` and ``errors``; never ``profile``.
"""

from __future__ import annotations

from ._car import car_positive
from ._clonotypes import CLONOTYPE_DEFINITIONS, EXPANSION_CLASSES, define_clonotypes
from ._diversity import DIVERSITY_METRICS, clone_diversity, diversity
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
    "clone_diversity",
    "define_clonotypes",
    "diversity",
    "score_signatures",
    "shipped_signatures",
    "shipped_state_rule",
    "state_fractions",
    "timepoint_months",
    "track_clones",
]

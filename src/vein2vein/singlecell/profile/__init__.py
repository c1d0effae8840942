"""The product profile: one sample condensed into a versioned :class:`ProductProfile`.

:func:`profile_sample` runs the whole pipeline on a sample-sheet row;
:func:`build_profile` condenses an analysed AnnData/MuData, reading the documented keys
of the ``pp``/``tl`` functions (``obs["car_positive"]``, ``obs["v2v_state"]``,
``obs["v2v_lineage"]``, ``obs["v2v_score_<name>"]``, ``obs["clone_id"]``,
``uns["v2v_diversity"]``, ``uns["v2v_qc"]``); :func:`compare_cohort` compares profiles
between outcome groups at the patient level; :func:`profile_report` writes the HTML
report; :func:`record_profile` stores the numbers as report-only results on a batch.

``_model`` is the versioned profile itself, ``_build`` condenses an analysed sample into
one, ``_pipeline`` is the standard run of ``io``/``pp``/``tl`` on one sample, ``_scale``
the same over many samples (Dask, GPU when present), ``_cohort`` the patient-level
comparison, ``_report`` the HTML report and ``_record`` the recording on a batch, under
the report-only specification whose header ships in ``singlecell/data/profile_spec.yaml``.

Imports: ``io``, ``pp``, ``tl``, ``pl``; ``support`` (the synthetic label, the report
renderer and figure helper); ``records``, ``release`` and ``specs`` for
:func:`record_profile`, which receives the unit of work it writes in.
"""

from __future__ import annotations

from ._build import build_profile, profile_sample
from ._cohort import AGGREGATION_RULE, CohortComparison, compare_cohort, read_groups
from ._model import (
    CAR_CAVEAT,
    PROFILE_SCHEMA_VERSION,
    InputFile,
    ProductProfile,
    ScoreSummary,
    load_profile,
    profiles_table,
    save_profile,
)
from ._pipeline import ProfileParams, track_patient
from ._record import RECORD_METHOD, record_profile, record_spec_header
from ._report import profile_report
from ._scale import profile_samples

__all__ = [
    "AGGREGATION_RULE",
    "CAR_CAVEAT",
    "PROFILE_SCHEMA_VERSION",
    "RECORD_METHOD",
    "CohortComparison",
    "InputFile",
    "ProductProfile",
    "ProfileParams",
    "ScoreSummary",
    "build_profile",
    "compare_cohort",
    "load_profile",
    "profile_report",
    "profile_sample",
    "profile_samples",
    "profiles_table",
    "read_groups",
    "record_profile",
    "record_spec_header",
    "save_profile",
    "track_patient",
]

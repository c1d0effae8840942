"""Response assessment by indication: Lugano 2014, IMWG 2016 (with MRD), iwCLL 2018.

Every ``assess_*`` function returns a :class:`ResponseCall` (``_call``): the category as a
``str`` that also carries the rule that decided it. One module per criteria set
(``_lugano``, ``_imwg``, ``_iwcll``); best overall response and the outcome times built
from dated calls are in :mod:`vein2vein.clinical.outcomes`.

Imports: ``clinical._observation`` and ``errors`` only; never ``grading``, ``followup``
or the system of record.
"""

from __future__ import annotations

from ._call import ResponseCall
from ._imwg import (
    IMWG_MIN_MRD_SENSITIVITY,
    MRD_SENSITIVITIES,
    IMWGAssessment,
    MRDResult,
    MyelomaLabs,
    assess_imwg,
    imwg_mrd_status,
)
from ._iwcll import IwCLLAssessment, assess_iwcll
from ._lugano import (
    LUGANO_MAX_TARGETS,
    SPLEEN_NORMAL_CM,
    LuganoAssessment,
    TargetLesion,
    assess_lugano,
)

__all__ = [
    "IMWG_MIN_MRD_SENSITIVITY",
    "LUGANO_MAX_TARGETS",
    "MRD_SENSITIVITIES",
    "SPLEEN_NORMAL_CM",
    "IMWGAssessment",
    "IwCLLAssessment",
    "LuganoAssessment",
    "MRDResult",
    "MyelomaLabs",
    "ResponseCall",
    "TargetLesion",
    "assess_imwg",
    "assess_iwcll",
    "assess_lugano",
    "imwg_mrd_status",
]

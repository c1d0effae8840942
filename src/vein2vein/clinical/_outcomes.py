"""Product attributes against patient outcomes ("you can only correlate backwards").

The implementation lives in three modules; this one gathers their public names:

* :mod:`._survival`: :func:`kaplan_meier_by` (Kaplan-Meier plus log-rank),
  :func:`cox_model` (Cox proportional hazards with the proportional-hazards check);
* :mod:`._response_model`: :func:`response_model` (cross-validated AUROC, permutation
  test, calibration);
* :mod:`._outcomes_report`: :func:`outcomes_report` (the HTML report), :func:`holm_adjust`.

``docs/validation/outcomes.md`` lists what each method is checked against.
"""

from __future__ import annotations

from ._outcomes_report import holm_adjust, outcomes_report
from ._response_model import ResponseModelResult, response_model
from ._survival import MIN_EVENTS, CoxResult, KaplanMeierResult, cox_model, kaplan_meier_by

__all__ = [
    "MIN_EVENTS",
    "CoxResult",
    "KaplanMeierResult",
    "ResponseModelResult",
    "cox_model",
    "holm_adjust",
    "kaplan_meier_by",
    "outcomes_report",
    "response_model",
]

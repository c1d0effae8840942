"""CLL response by the iwCLL 2018 guidelines (Hallek et al. [1]_, Table 4), core table.

Group A (tumour load): lymph nodes (sum of products), liver and spleen size, circulating
lymphocytes, marrow. Group B (marrow function): platelets, haemoglobin.

* **PD**: at least one of: nodes, liver or spleen, or lymphocytes up >= 50 % (from
  baseline); platelets down >= 50 % from baseline, or haemoglobin down >= 2 g/dL from
  baseline, *secondary to CLL* (the caller states the attribution).
* **CR**: all of: no node >= 1.5 cm, spleen < 13 cm and liver normal, lymphocytes
  < 4 x 10^9/L, no constitutional symptoms, platelets >= 100 x 10^9/L, haemoglobin
  >= 11.0 g/dL (untransfused), neutrophils >= 1.5 x 10^9/L, marrow normocellular without
  CLL cells or B-lymphoid nodules.
* **PR**: at least two group-A parameters improved >= 50 % (only one when only one was
  abnormal before therapy) and one group-B parameter: platelets >= 100 x 10^9/L or
  up >= 50 %, haemoglobin >= 11.0 g/dL or up >= 50 %.
* **SD**: none of the above. Constitutional symptoms alone do not define PD.

Not implemented: CRi, the PR with lymphocytosis of kinase inhibitors, Richter
transformation, MRD. The 2018 thresholds (">=") differ from the 2008 table (">");
the 2008 table was confirmed from a reproduction, the 2018 wording is as recalled
from the paper and must be checked (docs/validation/response.md).

References
----------
.. [1] Hallek M, Cheson BD, Catovsky D, et al. iwCLL guidelines for diagnosis,
   indications for treatment, response assessment, and supportive management of CLL.
   Blood. 2018;131(25):2745-2760. doi:10.1182/blood-2017-09-806398
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

from .._observation import ObservationModel
from ._call import ResponseCall

__all__ = ["IwCLLAssessment", "assess_iwcll"]

Pos = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
CR_NODE_CM: Final = 1.5
CR_SPLEEN_CM: Final = 13.0
CR_LYMPHOCYTES: Final = 4.0
CR_PLATELETS: Final = 100.0
CR_HB: Final = 11.0
CR_NEUTROPHILS: Final = 1.5


class IwCLLAssessment(ObservationModel):
    """Baseline and current findings; counts in 10^9/L, haemoglobin in g/dL.

    ``nodes_spd_cm2`` is the sum of the products of the measured nodes; ``largest_node_cm``
    the longest diameter of the largest node now; ``liver_normal`` refers to now.
    """

    baseline_nodes_spd_cm2: Pos
    nodes_spd_cm2: Pos
    largest_node_cm: Pos
    baseline_spleen_cm: Pos
    spleen_cm: Pos
    liver_normal: Annotated[bool, Field(strict=True)]
    baseline_lymphocytes: Pos
    lymphocytes: Pos
    baseline_platelets: Pos
    platelets: Pos
    baseline_hemoglobin_g_dl: Annotated[float, Field(gt=0.0, le=25.0)]
    hemoglobin_g_dl: Annotated[float, Field(gt=0.0, le=25.0)]
    neutrophils: Pos
    marrow_normal: Annotated[bool, Field(strict=True)] | None = None
    constitutional_symptoms: Annotated[bool, Field(strict=True)] = False
    cytopenia_due_to_cll: Annotated[bool, Field(strict=True)] = False


def _up(before: float, now: float) -> bool:
    return before > 0 and now >= 1.5 * before - 1e-12


def _down(before: float, now: float) -> bool:
    return before > 0 and now <= 0.5 * before + 1e-12


def assess_iwcll(assessment: IwCLLAssessment) -> ResponseCall:
    """Classify a CLL assessment by the iwCLL 2018 core response table.

    Examples
    --------
    >>> a = IwCLLAssessment(baseline_nodes_spd_cm2=20, nodes_spd_cm2=8, largest_node_cm=2,
    ...     baseline_spleen_cm=16, spleen_cm=14, liver_normal=True, baseline_lymphocytes=80,
    ...     lymphocytes=30, baseline_platelets=90, platelets=120, baseline_hemoglobin_g_dl=10,
    ...     hemoglobin_g_dl=10.5, neutrophils=2)
    >>> str(assess_iwcll(a))
    'PR'
    """
    a = assessment
    if _up(a.baseline_nodes_spd_cm2, a.nodes_spd_cm2):
        return ResponseCall("PD", "lymph nodes (SPD) increased >= 50 %")
    if a.baseline_spleen_cm > CR_SPLEEN_CM and _up(
        a.baseline_spleen_cm - CR_SPLEEN_CM, a.spleen_cm - CR_SPLEEN_CM
    ):
        return ResponseCall("PD", "splenomegaly increased >= 50 %")
    if _up(a.baseline_lymphocytes, a.lymphocytes):
        return ResponseCall("PD", "blood lymphocytes increased >= 50 % over baseline")
    if a.cytopenia_due_to_cll and _down(a.baseline_platelets, a.platelets):
        return ResponseCall("PD", "platelets decreased >= 50 % from baseline, due to CLL")
    if a.cytopenia_due_to_cll and a.baseline_hemoglobin_g_dl - a.hemoglobin_g_dl >= 2.0:
        return ResponseCall("PD", "haemoglobin decreased >= 2 g/dL from baseline, due to CLL")
    if (
        a.largest_node_cm < CR_NODE_CM
        and a.spleen_cm < CR_SPLEEN_CM
        and a.liver_normal
        and a.lymphocytes < CR_LYMPHOCYTES
        and not a.constitutional_symptoms
        and a.platelets >= CR_PLATELETS
        and a.hemoglobin_g_dl >= CR_HB
        and a.neutrophils >= CR_NEUTROPHILS
        and a.marrow_normal is True
    ):
        return ResponseCall("CR", "all CR criteria of groups A and B met")
    abnormal_a = [
        ("nodes", a.baseline_nodes_spd_cm2 > 0, _down(a.baseline_nodes_spd_cm2, a.nodes_spd_cm2)),
        (
            "spleen",
            a.baseline_spleen_cm > CR_SPLEEN_CM,
            _down(a.baseline_spleen_cm - CR_SPLEEN_CM, max(a.spleen_cm - CR_SPLEEN_CM, 0.0)),
        ),
        (
            "lymphocytes",
            a.baseline_lymphocytes >= CR_LYMPHOCYTES,
            _down(a.baseline_lymphocytes, a.lymphocytes),
        ),
    ]
    was_abnormal = [name for name, abn, _ in abnormal_a if abn]
    improved_a = [name for name, abn, better in abnormal_a if abn and better]
    need_a = min(2, len(was_abnormal))
    improved_b = []
    if a.platelets >= CR_PLATELETS or _up(a.baseline_platelets, a.platelets):
        improved_b.append("platelets")
    if a.hemoglobin_g_dl >= CR_HB or _up(a.baseline_hemoglobin_g_dl, a.hemoglobin_g_dl):
        improved_b.append("haemoglobin")
    if need_a and len(improved_a) >= need_a and improved_b:
        return ResponseCall(
            "PR",
            f"group A improved >= 50 %: {', '.join(improved_a)}; group B: {', '.join(improved_b)}",
        )
    return ResponseCall("SD", "neither CR, PR nor PD criteria met")

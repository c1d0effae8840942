"""Release testing, lot disposition (release, release at risk, reject) and the CoA."""

from __future__ import annotations

from ._assay_results import (
    ResultRow,
    current_results,
    read_release_csv,
    results_sha256,
    undecided_values,
)
from ._barcode import code128_svg, code128_values
from ._batch_summary import batch_summary
from ._certificate import certificate
from ._coa import (
    CertificateOfAnalysis,
    CoaProblem,
    CoaRow,
    CoaSignature,
    render_coa_html,
    write_coa_html,
    write_coa_pdf,
)
from ._problems import ProblemReport, lot_problems, problem_report
from ._workflow import (
    DISPOSITIONS,
    EntryOutcome,
    decide,
    enter_results,
    latest_evaluation,
    release_facts,
    review,
)
from .guards import (
    EvaluatedItem,
    LotProblem,
    ReleaseFacts,
    guard_open_problems,
    guard_reject,
    guard_release,
    guard_release_at_risk,
    guard_review,
    guard_segregation,
    problem_blocks,
)

__all__ = [
    "DISPOSITIONS",
    "CertificateOfAnalysis",
    "CoaProblem",
    "CoaRow",
    "CoaSignature",
    "EntryOutcome",
    "EvaluatedItem",
    "LotProblem",
    "ProblemReport",
    "ReleaseFacts",
    "ResultRow",
    "batch_summary",
    "certificate",
    "code128_svg",
    "code128_values",
    "current_results",
    "decide",
    "enter_results",
    "guard_open_problems",
    "guard_reject",
    "guard_release",
    "guard_release_at_risk",
    "guard_review",
    "guard_segregation",
    "latest_evaluation",
    "lot_problems",
    "problem_blocks",
    "problem_report",
    "read_release_csv",
    "release_facts",
    "render_coa_html",
    "results_sha256",
    "review",
    "undecided_values",
    "write_coa_html",
    "write_coa_pdf",
]

"""Assemble a certificate of analysis from the system of record."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import __version__
from ..errors import RecordConflictError
from ..identity import check_character
from ..records import Batch, Disposition, Evaluation, Site, signatures_of
from ..specs import shipped_spec, shipped_specs
from ._assay_results import batch_context, current_results, results_sha256
from ._coa import CertificateOfAnalysis, CoaProblem, CoaRow, CoaSignature
from ._problems import ProblemReport, problem_report
from ._workflow import latest_evaluation

__all__ = ["certificate"]


def _spec_title(spec_id: str) -> str:
    # A site's own spec (not shipped) is shown by its id.
    return shipped_spec(spec_id).title if spec_id in shipped_specs() else spec_id


def _coa_problem(report: ProblemReport) -> CoaProblem:
    f = report.fact
    resolution = report.resolution
    if f.kind == "investigation" and f.outcome:
        resolution = f"{f.outcome}: {resolution}" if resolution else f.outcome
    return CoaProblem(
        code=f.code,
        kind=f.kind,
        severity=f.severity,
        category=f.category,
        description=f.description,
        status=f.status,
        via=f.via,
        resolution=resolution,
        closed_by=report.closed_by.manifestation if report.closed_by else None,
        assessment=f.assessment,
        assessment_reason=f.assessment_reason,
        assessed_by=report.assessed_by.manifestation if report.assessed_by else None,
        assessment_valid=report.assessed_by.valid if report.assessed_by else True,
    )


def certificate(
    session: Session, batch: Batch, *, synthetic: bool = False
) -> CertificateOfAnalysis:
    """The CoA of a batch: its latest review, its disposition and every signature.

    A signature on the review or the disposition shows as invalid when the signed
    record changed, and also when any result changed after the review (the review's
    results fingerprint no longer matches the results now stored). Every deviation and
    OOS investigation of the lot is listed with its status or QA's impact assessment.
    """
    evaluation = latest_evaluation(session, batch)
    if evaluation is None:
        msg = f"{batch.batch_code} has no reviewed results; review them before issuing a CoA"
        raise RecordConflictError(msg)
    disposition = session.scalars(
        select(Disposition)
        .where(Disposition.batch_id == batch.id)
        .order_by(Disposition.id.desc())
        .limit(1)
    ).first()
    results = current_results(session, batch)
    results_current = evaluation.results_sha256 == results_sha256(results, batch_context(batch))
    methods = {r.analyte.lower(): r.method for r in results}
    signatures: list[CoaSignature] = []
    signed: list[Evaluation | Disposition] = [evaluation]
    if disposition is not None:
        signed.append(disposition)
    for record in signed:
        for s in signatures_of(session, record):
            signatures.append(
                CoaSignature(
                    printed_name=s.printed_name,
                    username=s.username,
                    meaning=s.meaning,
                    signed_at=s.signed_at,
                    valid=s.valid and results_current,
                )
            )
    treating = session.get(Site, batch.patient.treating_site_id)
    rows = tuple(
        CoaRow(
            analyte=i["analyte"],
            name=i.get("name") or i["analyte"],
            method=methods.get(i["analyte"].lower()),
            criterion=i.get("criterion_text") or "",
            result=i.get("result_text"),
            unit=None,  # the result text already carries the unit as reported
            outcome=i["outcome"],
            reason=i["reason"],
            conditional=bool(i.get("conditional")),
            basis=i.get("basis"),
        )
        for i in evaluation.items
    )
    title = _spec_title(evaluation.spec_id)
    return CertificateOfAnalysis(
        product=batch.product,
        batch_code=batch.batch_code,
        din=batch.donation.din,
        din_flags=batch.donation.flags,
        din_check=check_character(batch.donation.din),
        patient=batch.patient.patient_code,
        manufacturing_site=batch.site.name,
        treating_site=treating.name if treating else None,
        spec_id=evaluation.spec_id,
        spec_title=title,
        spec_version=evaluation.spec_version,
        spec_sha256=evaluation.spec_sha256,
        rows=rows,
        disposition=disposition.disposition if disposition else "quarantine",
        outcome=evaluation.outcome,
        reasons=tuple(evaluation.reasons),
        justification=disposition.justification if disposition else None,
        signatures=tuple(signatures),
        issued_at=datetime.now(UTC),
        software_version=__version__,
        synthetic=synthetic,
        problems=tuple(_coa_problem(r) for r in problem_report(session, batch)),
    )

"""The certificate of analysis built from the system of record, and its PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from vein2vein.errors import RecordConflictError
from vein2vein.identity import check_character, parse_din
from vein2vein.records import AssayResult, Batch, get_record
from vein2vein.release import (
    CertificateOfAnalysis,
    ResultRow,
    certificate,
    current_results,
    decide,
    enter_results,
    render_coa_html,
    review,
    write_coa_pdf,
)
from vein2vein.specs import shipped_spec
from vein2vein.testing import PASSING_RELEASE, PASSWORD, Network, make_batch

SPEC = shipped_spec("anti-cd19-cart-release")
# The dose as a total count (the CoA shows its per-kg conversion).
PASSING = {**PASSING_RELEASE, "car_t_dose": ("4.0e7", "cells")}
SIGNED = [
    ("Quincy Analyst", "qc-analyst", "reviewed"),
    ("Quinn Reviewer", "qa-reviewer", "released"),
]
INVALID = "INVALID: record changed after signing"
JUSTIFICATION = "rapidly progressing disease; 14-day sterility pending"


def enter(net: Network, code: str, values: dict[str, tuple[str, str | None]]) -> None:
    rows = [ResultRow(code, a, v, u) for a, (v, u) in values.items()]
    with net.db.unit_of_work(net.actor("operator")) as uow:
        enter_results(uow, rows, spec=SPEC)


def decided(
    net: Network, disposition: str = "released", justification: str | None = None, **changes: str
) -> str:
    """A batch whose results were entered, reviewed (QC) and decided (QA)."""
    code = make_batch(net).batch_code
    enter(net, code, {a: ((changes[a], None) if a in changes else vu) for a, vu in PASSING.items()})
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        uow.change(uow.get(Batch, code), patient_weight_kg=20.0, dose_volume_ml=68.0)
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        review(uow, batch=code, spec=SPEC, password=PASSWORD)
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        decide(
            uow,
            batch=code,
            disposition=disposition,
            password=PASSWORD,
            justification=justification,
        )
    return code


def coa_of(net: Network, code: str) -> CertificateOfAnalysis:
    with net.db.read() as s:
        return certificate(s, get_record(s, Batch, code))


def signatures(coa: CertificateOfAnalysis) -> list[tuple[str, str, str, bool]]:
    return [(s.printed_name, s.username, s.meaning, s.valid) for s in coa.signatures]


def test_a_certificate_needs_a_review(network: Network) -> None:
    code = make_batch(network).batch_code
    enter(network, code, PASSING)
    with pytest.raises(RecordConflictError, match="has no reviewed results"):
        coa_of(network, code)


def test_the_certificate_of_a_released_lot(network: Network, tmp_path: Path) -> None:
    code = decided(network)
    coa = coa_of(network, code)

    with network.db.read() as s:
        batch = get_record(s, Batch, code)
        din, patient = batch.donation.din, batch.patient.patient_code
    assert (coa.batch_code, coa.din, coa.din_check, coa.patient) == (
        code,
        din,
        check_character(din),
        patient,
    )
    assert (coa.manufacturing_site, coa.treating_site) == ("HUB-A cell therapy unit",) * 2
    assert (coa.spec_id, coa.spec_version, coa.spec_sha256) == (SPEC.id, SPEC.version, SPEC.sha256)
    assert (coa.disposition, coa.outcome, coa.justification) == ("released", "pass", None)
    rows = {r.analyte: r for r in coa.rows}
    assert list(rows) == list(PASSING)
    assert {r.outcome for r in coa.rows} == {"pass"}
    assert rows["viability"].result_text == "92 %"
    assert rows["car_t_dose"].result_text == "4.0e7 cells"
    assert rows["car_t_dose"].reason == (
        "CAR+ viable T-cell dose 4.0e7 cells (÷ 20 kg = 2 × 10⁶ cells/kg) "
        "within 0.2–5 × 10⁶ cells/kg"
    )
    assert rows["sterility_14d"].conditional
    # The conversions behind the per-kg limits, with the weight and volume they used.
    assert rows["car_t_dose"].basis == "4.0e7 cells ÷ 20 kg = 2 × 10⁶ cells/kg"
    assert rows["endotoxin"].basis == "<0.5 EU/mL × 68 mL ÷ 20 kg = <1.7 EU/kg"
    assert rows["viability"].basis is None
    assert signatures(coa) == [(*s, True) for s in SIGNED]

    pdf = write_coa_pdf(coa, tmp_path / "coa.pdf")
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    assert code in text
    assert din in text and parse_din(din).eye_readable[:-2] in text
    for row in coa.rows:
        assert row.name in text and row.result_text in text
    assert "4.0e7 cells ÷ 20 kg = 2 × 10⁶ cells/kg" in text
    assert "<0.5 EU/mL × 68 mL ÷ 20 kg = <1.7 EU/kg" in text
    for sig in coa.signatures:
        assert sig.manifestation in text
    for name, _, meaning in SIGNED:
        assert name in text and meaning in text
    assert "Released" in text and INVALID not in text


def _retest(net: Network, code: str) -> None:
    enter(net, code, {"viability": ("90", "%")})


def _correction(net: Network, code: str) -> None:
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        result = uow.session.scalars(
            select(AssayResult).where(AssayResult.analyte == "viability")
        ).one()
        uow.change(result, value_text="93", reason="transcription error")


def _new_weight(net: Network, code: str) -> None:
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        uow.change(uow.get(Batch, code), patient_weight_kg=25.0, reason="weighed again")


@pytest.mark.parametrize(
    "change", [_retest, _correction, _new_weight], ids=["retest", "correction", "new weight"]
)
def test_a_change_after_signing_shows_every_signature_invalid(network: Network, change) -> None:
    code = decided(network)
    assert all(s.valid for s in coa_of(network, code).signatures)

    change(network, code)

    coa = coa_of(network, code)
    assert signatures(coa) == [(*s, False) for s in SIGNED]
    html = render_coa_html(coa)
    assert html.count(INVALID) == len(SIGNED)
    with network.db.read() as s:  # the CoA still shows what was reviewed and signed
        assert {r.analyte for r in current_results(s, get_record(s, Batch, code))} == set(PASSING)
    assert next(r for r in coa.rows if r.analyte == "viability").result_text == "92 %"


def test_the_certificate_of_a_lot_released_at_risk(network: Network) -> None:
    code = decided(network, "released_at_risk", JUSTIFICATION, sterility_14d="pending")
    coa = coa_of(network, code)
    assert (coa.disposition, coa.outcome, coa.justification) == (
        "released_at_risk",
        "pending",
        JUSTIFICATION,
    )
    assert [r.analyte for r in coa.pending_at_release] == ["sterility_14d"]
    assert signatures(coa) == [(*s, True) for s in SIGNED]
    assert "the sterility (14-day) result was pending at release" in render_coa_html(coa)

"""Certificate of analysis: HTML escaping and content, the PDF's text, and the DIN bar code.

The Code 128 tests check python-barcode against ISO/IEC 15417, independently of it: the
symbol check character is recomputed here, and the bars it draws are compared with the
bar/space widths of the published Code 128 table typed in below.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from pathlib import Path

import pytest
from barcode import Code128
from pypdf import PdfReader

from vein2vein.errors import IdentityError, InvalidInputError
from vein2vein.identity import check_character
from vein2vein.release._barcode import code128_svg, code128_values
from vein2vein.release._coa import (
    CertificateOfAnalysis,
    CoaProblem,
    CoaRow,
    CoaSignature,
    render_coa_html,
    write_coa_html,
    write_coa_pdf,
)

SVG_NS = "{http://www.w3.org/2000/svg}"
BANNER = "SYNTHETIC DATA - NOT FOR CLINICAL USE"

# ---------------------------------------------------------------- Code 128 (ISO/IEC 15417)

#: ISO/IEC 15417 Table 1: bar, space, bar, space, bar, space widths (in modules) of the
#: symbol values 0-105, then the stop character (value 106, seven elements, 13 modules).
CODE128_TABLE = """\
212222 222122 222221 121223 121322 131222 122213 122312 132212 221213
221312 231212 112232 122132 122231 113222 123122 123221 223211 221132
221231 213212 223112 312131 311222 321122 321221 312212 322112 322211
212123 212321 232121 111323 131123 131321 112313 132113 132311 211313
231113 231311 112133 112331 132131 113123 113321 133121 313121 211331
231131 213113 213311 213131 311123 311321 331121 312113 312311 332111
314111 221411 431111 111224 111422 121124 121421 141122 141221 112214
112412 122114 122411 142112 142211 241211 221114 413111 241112 134111
111242 121142 121241 114212 124112 124211 411212 421112 421211 212141
214121 412121 111143 111341 131141 114113 114311 411113 411311 113141
114131 311141 411131 211412 211214 211232 2331112
"""
CODE128_WIDTHS = CODE128_TABLE.split()
STOP = 106


def modules(widths: str) -> str:
    """Widths '212222' -> '11011001100' (bars 1, spaces 0, starting with a bar)."""
    return "".join(("1" if i % 2 == 0 else "0") * int(w) for i, w in enumerate(widths))


def iso15417_check(values: list[int]) -> int:
    """Symbol check character: (start + sum(position * value)) mod 103, positions from 1."""
    start, *data = values
    return (start + sum(position * value for position, value in enumerate(data, 1))) % 103


def test_code128_table_is_well_formed() -> None:
    assert len(CODE128_WIDTHS) == 107
    assert all(len(w) == 6 and sum(map(int, w)) == 11 for w in CODE128_WIDTHS[:STOP])
    assert sum(map(int, CODE128_WIDTHS[STOP])) == 13


# Hand-computed encodings. Code set B values are ASCII - 32 ("=" 61 -> 29, "A" 65 -> 33,
# "W" 87 -> 55, "P" 80 -> 48, "J" 74 -> 42, "1" 49 -> 17, "C" 67 -> 35, "<" 60 -> 28,
# "E" 69 -> 37, "V" 86 -> 54, "0" 48 -> 16); code set C encodes a digit pair as its number.
#
# Worked example, DIN A9999 26 000001 with flags 00, ISBT 128 data structure 001
# "=A99992600000100": start B (104), "=" 29, "A" 33, then the 14 digits are cheaper in
# code set C, so Code C (99) and the pairs 99 99 26 00 00 01 00. Check character:
#   104 + 1*29 + 2*33 + 3*99 + 4*99 + 5*99 + 6*26 + 7*0 + 8*0 + 9*1 + 10*0
#   = 104 + 29 + 66 + 297 + 396 + 495 + 156 + 0 + 0 + 9 + 0 = 1552
#   1552 = 15 * 103 + 7, so the check character is 7.
#
# "=W00000912345602" (the ST-001 example DIN W0000 09 123456, flags 02):
#   104 + 29 + 2*55 + 3*99 + 4*0 + 5*0 + 6*9 + 7*12 + 8*34 + 9*56 + 10*2 = 1474
#   = 14 * 103 + 32 -> 32.
# "PJJ123C" (three digits stay in code set B):
#   104 + 48 + 2*42 + 3*42 + 4*17 + 5*18 + 6*19 + 7*35 = 879 = 8 * 103 + 55 -> 55.
# "=<E0685V00" (an ISBT 128 product code, data structure 003; python-barcode switches to
# code set C for the four digits and back with Code B (100)):
#   104 + 29 + 2*28 + 3*37 + 4*99 + 5*6 + 6*85 + 7*100 + 8*54 + 9*16 + 10*16 = 2672
#   = 25 * 103 + 97 -> 97.
HAND_COMPUTED = {
    "=A99992600000100": [104, 29, 33, 99, 99, 99, 26, 0, 0, 1, 0, 7],
    "=W00000912345602": [104, 29, 55, 99, 0, 0, 9, 12, 34, 56, 2, 32],
    "PJJ123C": [104, 48, 42, 42, 17, 18, 19, 35, 55],
    "=<E0685V00": [104, 29, 28, 37, 99, 6, 85, 100, 54, 16, 16, 97],
}


@pytest.mark.parametrize(("data", "expected"), HAND_COMPUTED.items())
def test_code128_values_match_hand_computation(data: str, expected: list[int]) -> None:
    values = code128_values(data)
    assert values == expected
    assert values[-1] == iso15417_check(values[:-1])


@pytest.mark.parametrize("data", HAND_COMPUTED)
def test_python_barcode_draws_the_same_symbols(data: str) -> None:
    expected = "".join(modules(CODE128_WIDTHS[v]) for v in [*code128_values(data), STOP])
    (drawn,) = Code128(data).build()
    assert drawn == expected


def _svg_modules(svg: str) -> str:
    """Read the bars of a code128_svg drawing back into a module string."""
    root = ET.fromstring(svg)
    bars = [r for r in root.iter(f"{SVG_NS}rect") if r.get("fill") == "black"]
    mm = [(float(r.get("x", "")[:-2]), float(r.get("width", "")[:-2])) for r in bars]
    module = min(width for _, width in mm)
    origin = mm[0][0]
    line = ["0"] * round((mm[-1][0] + mm[-1][1] - origin) / module)
    for x, width in mm:
        start = round((x - origin) / module)
        line[start : start + round(width / module)] = "1" * round(width / module)
    return "".join(line)


@pytest.mark.parametrize("data", HAND_COMPUTED)
def test_svg_carries_the_symbols(data: str) -> None:
    svg = code128_svg(data)
    expected = "".join(modules(CODE128_WIDTHS[v]) for v in [*code128_values(data), STOP])
    assert _svg_modules(svg) == expected


def test_svg_is_an_embeddable_svg_element() -> None:
    svg = code128_svg("=A99992600000100")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<!--" not in svg
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Code 128 bar code: =A99992600000100"
    assert re.fullmatch(r"\d+\.\d+mm", root.get("width", ""))
    assert not [e for e in root.iter() if e.get("style") or e.get("id")]


@pytest.mark.parametrize("data", ["", "=A9999\n", "é"])
def test_barcode_refuses_unprintable_data(data: str) -> None:
    with pytest.raises(InvalidInputError, match="bar code data"):
        code128_values(data)
    with pytest.raises(InvalidInputError, match="bar code data"):
        code128_svg(data)


# ---------------------------------------------------------------- certificate

DIN13 = "A999926000001"
SIGNED = datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)


def make_coa(**changes: object) -> CertificateOfAnalysis:
    rows = (
        CoaRow(
            "viability",
            "Viability",
            "7-AAD flow cytometry",
            "≥ 70 %",
            "91.3",
            "%",
            "pass",
            "91.3 % meets ≥ 70 %",
        ),
        CoaRow(
            "car_expression",
            "CAR expression",
            "Flow cytometry",
            "≥ 15 % of CD3+",
            "42.7",
            "%",
            "pass",
            "42.7 % meets ≥ 15 %",
        ),
        CoaRow(
            "endotoxin",
            "Endotoxin",
            "Ph. Eur. 2.6.14",
            "< 3.5 EU/mL",
            "0.61",
            "EU/mL",
            "pass",
            "0.61 EU/mL meets < 3.5 EU/mL",
        ),
        CoaRow(
            "sterility_14d",
            "Sterility (14-day)",
            "Ph. Eur. 2.6.27",
            "No growth",
            None,
            None,
            "pending",
            "result due 2026-03-16",
            conditional=True,
        ),
    )
    signatures = (
        CoaSignature(
            "Grace Hopper", "ghopper", "reviewed", SIGNED - timedelta(minutes=10), valid=True
        ),
        # Aware but not UTC: 16:05:09 at +02:00 is 14:05:09 UTC.
        CoaSignature(
            "Ada Lovelace",
            "alovelace",
            "released",
            SIGNED.astimezone(timezone(timedelta(hours=2))),
            valid=True,
        ),
        CoaSignature("Alan Turing", "aturing", "approved", SIGNED - timedelta(days=1), valid=False),
    )
    fields: dict[str, object] = {
        "product": "Exampl-cel <script>alert('x')</script>",
        "batch_code": "B-2026-0042",
        "din": DIN13,
        "din_flags": "00",
        "din_check": check_character(DIN13),
        "patient": "PT-00017",
        "manufacturing_site": "Demo Cell Therapy Facility & Co",
        "treating_site": "University Hospital Example",
        "spec_id": "SPEC-CART-REL",
        "spec_title": "CAR-T drug product release",
        "spec_version": "3",
        "spec_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "rows": rows,
        "disposition": "released_at_risk",
        "outcome": "pending",
        "reasons": ("Sterility (14-day) is pending.",),
        "justification": "Patient deteriorating; 7-day interim sterility read showed no growth.",
        "signatures": signatures,
        "issued_at": datetime(2026, 3, 2, 14, 6, 0, tzinfo=UTC),
        "software_version": "0.1.0",
        "synthetic": True,
    }
    fields.update(changes)
    return CertificateOfAnalysis(**fields)  # type: ignore[arg-type]


def pdf_text(path: Path) -> str:
    """All pages' text with whitespace runs collapsed, so that wrapping does not matter."""
    text = " ".join(page.extract_text() for page in PdfReader(path).pages)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def at_risk_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("coa") / "nested" / "folder" / "coa.pdf"
    assert write_coa_pdf(make_coa(), path) == path
    return path


def test_html_escapes_hostile_text() -> None:
    html = render_coa_html(make_coa())
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Demo Cell Therapy Facility &amp; Co" in html


def test_html_holds_rows_signatures_and_barcode() -> None:
    coa = make_coa()
    html = render_coa_html(coa)
    for row in coa.rows:
        assert row.name in html and row.analyte in html
        assert escape(row.criterion, quote=False) in html
    assert "&lt; 3.5 EU/mL" in html
    assert "91.3 %" in html and "0.61 EU/mL" in html
    assert html.count("&dagger;") == 2  # the conditional row's marker and its footnote
    assert "Grace Hopper (ghopper), 2026-03-02 13:55:09 UTC, reviewed" in html
    assert "Ada Lovelace (alovelace), 2026-03-02 14:05:09 UTC, released" in html
    assert "Alan Turing (aturing), 2026-03-01 14:05:09 UTC, approved" in html
    assert html.count("INVALID: record changed after signing") == 1
    assert code128_svg("=" + DIN13 + "00") in html
    assert "A9999 26 000001 00" in html  # eye-readable DIN, check character boxed after it
    assert f'<span class="check" title="keyboard entry check character">{coa.din_check}<' in html
    assert "the Sterility (14-day) result was pending at release" in html


def test_html_of_a_plain_release() -> None:
    coa = make_coa(
        disposition="released", outcome="pass", justification=None, reasons=(), synthetic=False
    )
    html = render_coa_html(coa)
    assert "Released at risk" not in html and "pending at release" not in html
    assert ">Released<" in html


def test_synthetic_banner_only_when_synthetic(tmp_path: Path) -> None:
    assert BANNER in render_coa_html(make_coa(synthetic=True))
    real = make_coa(synthetic=False)
    assert "SYNTHETIC" not in render_coa_html(real)
    path = write_coa_pdf(real, tmp_path / "real.pdf")
    assert "SYNTHETIC" not in pdf_text(path)


def test_pdf_holds_the_certificate(at_risk_pdf: Path) -> None:
    coa = make_coa()
    assert at_risk_pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(at_risk_pdf)
    assert coa.batch_code in text
    assert DIN13 in text and "A9999 26 000001 00" in text
    for row in coa.rows:
        assert row.name in text
        if row.result is not None:
            assert row.result in text
    assert "Released at risk" in text
    assert "the Sterility (14-day) result was pending at release" in text
    assert coa.justification is not None and coa.justification in text
    for sig in coa.signatures:
        assert sig.printed_name in text
        assert sig.meaning in text
        assert sig.signed_at_utc in text
    assert "INVALID: record changed after signing" in text
    assert BANNER in text
    assert re.search(r"Page 1 of \d", text)
    assert coa.spec_sha256 in text.replace(" ", "")


def test_pdf_metadata(at_risk_pdf: Path) -> None:
    meta = PdfReader(at_risk_pdf).metadata
    assert meta is not None
    assert (
        meta.title == "Certificate of Analysis B-2026-0042 (Exampl-cel <script>alert('x')</script>)"
    )


def test_layout_raises_no_weasyprint_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every CSS property and the inline SVG are understood (WeasyPrint logs what it drops).

    Without Debian's optional libharfbuzz-subset0 WeasyPrint embeds fonts with fontTools
    and says so; that is about font embedding, not layout, so it does not count here.
    """
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        write_coa_pdf(make_coa(rows=()), tmp_path / "empty.pdf")
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if "instead of HarfBuzz-Subset" not in m] == []


def test_write_html(tmp_path: Path) -> None:
    path = write_coa_html(make_coa(), str(tmp_path / "a" / "coa.html"))
    assert path == tmp_path / "a" / "coa.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_type3_flags_are_not_printed() -> None:
    from vein2vein.identity import DIN

    din = DIN("A9999", "26", "000001", "00")
    flags = str(60 + din.check_value)
    coa = make_coa(din_flags=flags)
    assert coa.din_groups == ("A9999", "26", "000001")
    assert coa.barcode_data == f"={DIN13}{flags}"


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        (
            {"din_check": "0" if check_character(DIN13) != "0" else "1"},
            IdentityError,
            "check character",
        ),
        ({"din": "A9999"}, IdentityError, "13-character"),
        ({"din_flags": "I0"}, IdentityError, "flag"),
        ({"disposition": "shipped"}, InvalidInputError, "disposition"),
        ({"outcome": "ok"}, InvalidInputError, "outcome"),
        ({"justification": None}, InvalidInputError, "justification"),
        ({"issued_at": datetime(2026, 3, 2)}, InvalidInputError, "time zone"),
        ({"spec_sha256": "ABC"}, InvalidInputError, "spec_sha256"),
        ({"rows": [object()]}, InvalidInputError, "rows"),
        ({"product": " "}, InvalidInputError, "product"),
    ],
)
def test_certificate_refuses_bad_input(
    changes: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make_coa(**changes)


def test_rows_and_signatures_refuse_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="outcome of viability"):
        CoaRow("viability", "Viability", None, "≥ 70 %", "91", "%", "passed", "")
    with pytest.raises(InvalidInputError, match="meaning"):
        CoaSignature("Ada Lovelace", "alovelace", "witnessed", SIGNED, valid=True)
    with pytest.raises(InvalidInputError, match="time zone"):
        CoaSignature(
            "Ada Lovelace", "alovelace", "released", SIGNED.replace(tzinfo=None), valid=True
        )


def test_dataclasses_are_frozen() -> None:
    coa = make_coa()
    with pytest.raises(AttributeError):
        coa.batch_code = "other"  # type: ignore[misc]
    assert replace(coa, batch_code="B-2").batch_code == "B-2"


# ---------------------------------------------------------------- deviations and investigations


def _problems() -> tuple[CoaProblem, ...]:
    return (
        CoaProblem(
            code="DEV-000002",
            kind="deviation",
            severity="critical",
            category="chain_of_identity",
            description="custody hand-off refused: wrong bag <scanned>",
            status="closed",
            via="batch",
            resolution="right bag re-scanned; CAPA-0012",
            closed_by="Quinn Reviewer (qa-reviewer), 2026-03-03 10:00:00 UTC, approved",
        ),
        CoaProblem(
            code="DEV-000005",
            kind="deviation",
            severity="major",
            category="environmental",
            description="settle plate 7 CFU in CR-2",
            status="open",
            via="room",
            assessment="no_impact",
            assessment_reason="lot filled in CR-1",
            assessed_by="Quinn Reviewer (qa-reviewer), 2026-03-03 10:05:00 UTC, approved",
            assessment_valid=False,
        ),
    )


def test_the_certificate_lists_every_deviation_with_its_status_or_assessment() -> None:
    html = render_coa_html(make_coa(problems=_problems()))
    assert "Deviations and investigations" in html
    assert "DEV-000002" in html and "right bag re-scanned; CAPA-0012" in html
    assert "Closed by Quinn Reviewer (qa-reviewer), 2026-03-03 10:00:00 UTC" in html
    assert "wrong bag &lt;scanned&gt;" in html  # escaped
    assert "QA impact assessment: No impact on this lot" in html
    assert "lot filled in CR-1" in html and "through its room" in html
    assert "INVALID: record changed after signing" in html
    empty = render_coa_html(make_coa())
    assert "No deviation or investigation recorded against this lot." in empty


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "pending"}, "status of DEV-000009"),
        ({"kind": "complaint"}, "kind of DEV-000009"),
        ({"assessment": "maybe"}, "assessment of DEV-000009"),
        ({"description": " "}, "description of problem DEV-000009"),
    ],
)
def test_a_malformed_problem_names_its_field(changes: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "code": "DEV-000009",
        "kind": "deviation",
        "severity": "minor",
        "category": "documentation",
        "description": "late entry",
        "status": "open",
        "via": "batch",
        **changes,
    }
    with pytest.raises(InvalidInputError) as caught:
        CoaProblem(**args)  # type: ignore[arg-type]
    assert caught.value.field == field
    with pytest.raises(InvalidInputError, match="tuple of CoaProblem"):
        make_coa(problems=["DEV-000009"])

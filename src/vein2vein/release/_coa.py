"""The certificate of analysis (CoA): one template for the screen (HTML) and for paper (PDF).

A CoA states, for one batch, each release test with its acceptance criterion
and result, every deviation and OOS investigation of the lot with its status or
QA's impact assessment, the overall outcome against the specification, the
disposition and the electronic signatures behind it. It is built from plain data
(:class:`CertificateOfAnalysis`); nothing here reads the database.

The same Jinja2 template (``templates/coa.html.j2``, autoescaped) gives the
HTML shown on screen and, through WeasyPrint, the A4 PDF with page numbers.
Each signature is shown with its manifestation, the printed name, the date and
time in UTC and the meaning (21 CFR 11.50(a)); a signature whose record changed
after signing is shown struck through and marked INVALID.

The donation identification number is printed eye-readable (ISBT 128 ST-001
section 7.4.1: facility, year, sequence, flags, with the keyboard entry check
character in a box) above its Code 128 bar code (data structure 001).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from markupsafe import Markup

from vein2vein.errors import IdentityError, InvalidInputError
from vein2vein.identity import DIN
from vein2vein.records import SignatureMeaning
from vein2vein.specs import Outcome
from vein2vein.support import render

from ._barcode import code128_svg

__all__ = [
    "CertificateOfAnalysis",
    "CoaProblem",
    "CoaRow",
    "CoaSignature",
    "render_coa_html",
    "write_coa_html",
    "write_coa_pdf",
]

_TEMPLATE: Final = "vein2vein.release:coa.html.j2"
_STAMP: Final = "%Y-%m-%d %H:%M:%S UTC"
_DIN_LENGTH: Final = 13

#: Disposition of the batch, in the words the CoA prints.
_DISPOSITION_WORDS: Final = {
    "released": "Released",
    "released_at_risk": "Released at risk",
    "rejected": "Rejected",
    "quarantine": "Quarantine (not released)",
}
#: Outcome of a test or of the specification, in the words the CoA prints.
_OUTCOME_WORDS: Final = {
    Outcome.passed.value: "Pass",
    Outcome.failed.value: "Fail",
    Outcome.pending.value: "Pending",
    Outcome.invalid.value: "Invalid",
}


def _fail(reason: str, field: str) -> InvalidInputError:
    return InvalidInputError(reason, field=field)


def _require_text(value: object, field: str) -> None:
    if not isinstance(value, str) or not value.strip():
        msg = f"{field} must be non-empty text, got {value!r}"
        raise _fail(msg, field)


def _require_optional_text(value: object, field: str) -> None:
    if value is not None and not isinstance(value, str):
        msg = f"{field} must be text or None, got {type(value).__name__}"
        raise _fail(msg, field)


def _require_aware(value: object, field: str) -> None:
    if not isinstance(value, datetime):
        msg = f"{field} must be a datetime, got {type(value).__name__}"
        raise _fail(msg, field)
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"{field} {value.isoformat()} has no time zone; give an aware (UTC) datetime"
        raise _fail(msg, field)


def _require_choice(value: object, choices: Iterable[str], field: str) -> None:
    allowed = list(choices)
    if value not in allowed:
        msg = f"{field} {value!r} is not one of {', '.join(map(str, allowed))}"
        raise _fail(msg, field)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)


@dataclass(frozen=True, slots=True)
class CoaRow:
    """One release test on the certificate.

    Parameters
    ----------
    analyte
        The specification item's key, e.g. ``"sterility_14d"``.
    name
        The test as printed, e.g. ``"Sterility (14-day)"``.
    method
        The test method (compendial reference or SOP), if recorded.
    criterion
        The acceptance criterion in words, e.g. ``"≥ 70 %"``.
    result
        The reported result, ``None`` while it is not available.
    unit
        The unit of ``result``, if any.
    outcome
        ``"pass"``, ``"fail"``, ``"pending"`` or ``"invalid"``.
    reason
        Why the outcome is what it is, a sentence a reviewer can read.
    conditional
        A test whose result may still be pending at release (release at risk),
        such as 14-day sterility; marked with a footnote.
    basis
        How the result was converted into the criterion's unit, shown under it: for a
        per-kg limit with the patient weight (and dose volume) it used, e.g.
        ``"0.5 EU/mL × 68 mL ÷ 20 kg = 1.7 EU/kg"``.
    """

    analyte: str
    name: str
    method: str | None
    criterion: str
    result: str | None
    unit: str | None
    outcome: str
    reason: str
    conditional: bool = False
    basis: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.analyte, "analyte")
        _require_text(self.name, f"name of {self.analyte}")
        _require_text(self.criterion, f"criterion of {self.analyte}")
        for field in ("method", "result", "unit", "reason", "basis"):
            _require_optional_text(getattr(self, field), f"{field} of {self.analyte}")
        _require_choice(self.outcome, _OUTCOME_WORDS, f"outcome of {self.analyte}")

    @property
    def result_text(self) -> str:
        """The result with its unit, or ``"not available"`` while there is none."""
        if self.result is None or not self.result.strip():
            return "not available"
        return f"{self.result} {self.unit}" if self.unit else self.result


@dataclass(frozen=True, slots=True)
class CoaSignature:
    """One electronic signature on the certificate.

    Parameters
    ----------
    printed_name
        The signer's full printed name.
    username
        The signer's user name.
    meaning
        ``"authored"``, ``"reviewed"``, ``"approved"`` or ``"released"``.
    signed_at
        When the signature was made; aware, shown in UTC.
    valid
        ``False`` when the record changed after signing: the signature is then
        shown struck through and marked INVALID.
    """

    printed_name: str
    username: str
    meaning: str
    signed_at: datetime
    valid: bool

    def __post_init__(self) -> None:
        _require_text(self.printed_name, "printed_name")
        _require_text(self.username, "username")
        _require_choice(self.meaning, (m.value for m in SignatureMeaning), "meaning")
        _require_aware(self.signed_at, "signed_at")

    @property
    def signed_at_utc(self) -> str:
        """``signed_at`` as ``YYYY-MM-DD HH:MM:SS UTC``."""
        return _utc(self.signed_at)

    @property
    def manifestation(self) -> str:
        """Printed name, username, UTC date and time, and meaning (21 CFR 11.50(a)).

        Examples
        --------
        >>> from datetime import UTC, datetime
        >>> when = datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)
        >>> CoaSignature("Ada Lovelace", "alovelace", "released", when, valid=True).manifestation
        'Ada Lovelace (alovelace), 2026-03-02 14:05:09 UTC, released'
        """
        return f"{self.printed_name} ({self.username}), {self.signed_at_utc}, {self.meaning}"


#: A problem's status, in the words the CoA prints.
_STATUS_WORDS: Final = {"open": "Open", "acknowledged": "Open (acknowledged)", "closed": "Closed"}
#: QA's impact assessment, in the words the CoA prints.
_ASSESSMENT_WORDS: Final = {"no_impact": "No impact on this lot", "impact": "Affects this lot"}


@dataclass(frozen=True, slots=True)
class CoaProblem:
    """One deviation or OOS investigation of the lot, as the certificate lists it.

    Parameters
    ----------
    code
        ``DEV-000002`` or ``OOS-000001``.
    kind
        ``deviation`` or ``investigation``.
    severity
        ``minor``, ``major``, ``critical``; ``OOS`` for an investigation.
    category
        The deviation's category or the investigated analyte.
    description
        What it is.
    status
        ``open``, ``acknowledged`` or ``closed``.
    via
        How it reaches the lot (``batch``, ``donation``, ``material``, ``room``,
        ``process``).
    resolution
        How it was closed (resolution, or the investigation's outcome and conclusion).
    closed_by
        The manifestation of the closing signature.
    assessment
        QA's impact assessment for this lot: ``no_impact``, ``impact`` or ``None``.
    assessment_reason
        The reason QA gave.
    assessed_by
        The manifestation of the assessment's signature.
    assessment_valid
        ``False`` when the assessment changed after it was signed.
    """

    code: str
    kind: str
    severity: str
    category: str
    description: str
    status: str
    via: str
    resolution: str | None = None
    closed_by: str | None = None
    assessment: str | None = None
    assessment_reason: str | None = None
    assessed_by: str | None = None
    assessment_valid: bool = True

    def __post_init__(self) -> None:
        for field in ("code", "severity", "category", "description", "via"):
            _require_text(getattr(self, field), f"{field} of problem {self.code}")
        _require_choice(self.kind, ("deviation", "investigation"), f"kind of {self.code}")
        _require_choice(self.status, _STATUS_WORDS, f"status of {self.code}")
        if self.assessment is not None:
            _require_choice(self.assessment, _ASSESSMENT_WORDS, f"assessment of {self.code}")
        for field in ("resolution", "closed_by", "assessment_reason", "assessed_by"):
            _require_optional_text(getattr(self, field), f"{field} of problem {self.code}")

    @property
    def status_words(self) -> str:
        """``Open``, ``Open (acknowledged)`` or ``Closed``."""
        return _STATUS_WORDS[self.status]

    @property
    def assessment_words(self) -> str | None:
        """``No impact on this lot`` or ``Affects this lot``, or ``None``."""
        return None if self.assessment is None else _ASSESSMENT_WORDS[self.assessment]


@dataclass(frozen=True, slots=True)
class CertificateOfAnalysis:
    """Everything a certificate of analysis prints, as plain data.

    Parameters
    ----------
    product
        The product name.
    batch_code
        The batch (lot) code.
    din
        The 13-character ISBT 128 donation identification number.
    din_flags
        The two DIN flag characters, e.g. ``"00"``.
    din_check
        The ISBT 128 keyboard entry check character of ``din``; it must match
        the one computed from ``din`` (ISO/IEC 7064 MOD 37-2).
    patient
        The patient identifier as the CoA may show it.
    manufacturing_site
        The site that made the batch.
    treating_site
        The site that will infuse it, if known.
    spec_id, spec_title, spec_version, spec_sha256
        The specification the results were judged against and the SHA-256 of
        its canonical text.
    rows
        The release tests, in the order to print.
    disposition
        ``"released"``, ``"released_at_risk"``, ``"rejected"`` or ``"quarantine"``.
    outcome
        The overall outcome against the specification (``"pass"``, ``"fail"``,
        ``"pending"``, ``"invalid"``).
    reasons
        The reasons for the overall outcome.
    justification
        Why the batch was released at risk; required for ``"released_at_risk"``.
    signatures
        The electronic signatures, in the order to print.
    problems
        Every deviation and OOS investigation of the lot, with its status or QA's
        impact assessment (none when the lot has none).
    issued_at
        When the certificate was issued; aware, shown in UTC.
    software_version
        The vein2vein version that issued it.
    synthetic
        Whether the data are synthetic: the certificate then carries a
        ``SYNTHETIC DATA - NOT FOR CLINICAL USE`` banner on every page.

    Raises
    ------
    InvalidInputError
        If a field is missing or malformed, naming the field; an
        :class:`~vein2vein.errors.IdentityError` if the DIN, its flags or its
        check character do not validate.
    """

    product: str
    batch_code: str
    din: str
    din_flags: str
    din_check: str
    patient: str
    manufacturing_site: str
    treating_site: str | None
    spec_id: str
    spec_title: str
    spec_version: str
    spec_sha256: str
    rows: tuple[CoaRow, ...]
    disposition: str
    outcome: str
    reasons: tuple[str, ...]
    justification: str | None
    signatures: tuple[CoaSignature, ...]
    issued_at: datetime
    software_version: str
    synthetic: bool = False
    problems: tuple[CoaProblem, ...] = ()

    def __post_init__(self) -> None:
        for field in (
            "product",
            "batch_code",
            "patient",
            "manufacturing_site",
            "spec_id",
            "spec_title",
            "spec_version",
            "software_version",
        ):
            _require_text(getattr(self, field), field)
        _require_optional_text(self.treating_site, "treating_site")
        _require_optional_text(self.justification, "justification")
        self._check_din()
        sha = self.spec_sha256
        if not (
            isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)
        ):
            msg = f"spec_sha256 must be 64 lower-case hexadecimal characters, got {sha!r}"
            raise _fail(msg, "spec_sha256")
        if not isinstance(self.rows, tuple) or not all(isinstance(r, CoaRow) for r in self.rows):
            msg = "rows must be a tuple of CoaRow"
            raise _fail(msg, "rows")
        if not isinstance(self.signatures, tuple) or not all(
            isinstance(s, CoaSignature) for s in self.signatures
        ):
            msg = "signatures must be a tuple of CoaSignature"
            raise _fail(msg, "signatures")
        if not isinstance(self.problems, tuple) or not all(
            isinstance(p, CoaProblem) for p in self.problems
        ):
            msg = "problems must be a tuple of CoaProblem"
            raise _fail(msg, "problems")
        if not isinstance(self.reasons, tuple) or not all(isinstance(r, str) for r in self.reasons):
            msg = "reasons must be a tuple of text"
            raise _fail(msg, "reasons")
        _require_choice(self.disposition, _DISPOSITION_WORDS, "disposition")
        _require_choice(self.outcome, _OUTCOME_WORDS, "outcome")
        if self.disposition == "released_at_risk" and not (self.justification or "").strip():
            msg = "a batch released at risk needs a justification on its certificate"
            raise _fail(msg, "justification")
        _require_aware(self.issued_at, "issued_at")

    def _check_din(self) -> None:
        din = self.din
        if not isinstance(din, str) or len(din) != _DIN_LENGTH:
            msg = f"din must be the 13-character ISBT 128 DIN, got {din!r}"
            raise IdentityError(msg, field="din")
        parsed = self._din()
        if self.din_check != parsed.check:
            msg = (
                f"check character {self.din_check!r} does not belong to DIN {din}; "
                f"ISO/IEC 7064 MOD 37-2 gives {parsed.check!r}"
            )
            raise IdentityError(msg, field="din_check")

    def _din(self) -> DIN:
        return DIN(self.din[:5], self.din[5:7], self.din[7:], self.din_flags)

    @property
    def din_groups(self) -> tuple[str, ...]:
        """The eye-readable DIN groups: facility, year, sequence and flags (ST-001 7.4.1).

        Type 3 flags (60-96) are left out, because ST-001 7.4.1 says they
        shall not be printed. The check character is :attr:`din_check`.
        """
        din = self._din()
        groups = (din.facility, din.year, din.sequence)
        return groups if din.has_type3_flags else (*groups, din.flags)

    @property
    def barcode_data(self) -> str:
        """The Code 128 data: ISBT 128 data structure 001, ``"=" + din + flags``."""
        return self._din().barcode_data

    @property
    def issued_at_utc(self) -> str:
        """``issued_at`` as ``YYYY-MM-DD HH:MM:SS UTC``."""
        return _utc(self.issued_at)

    @property
    def pending_at_release(self) -> tuple[CoaRow, ...]:
        """The tests whose result was pending when the batch was released."""
        pending = tuple(r for r in self.rows if r.outcome == Outcome.pending.value)
        return pending if self.disposition.startswith("released") else ()


def render_coa_html(coa: CertificateOfAnalysis) -> str:
    """Render a certificate of analysis as one self-contained HTML document.

    The page has a header (product, batch code, issue time in UTC, software
    version), the identity block (eye-readable DIN with its boxed check
    character, Code 128 bar code, patient, sites), the specification (id,
    title, version, SHA-256), the results table, the deviations and OOS
    investigations of the lot with their status or impact assessment, the
    decision (disposition, overall outcome, reasons and, for a release at risk,
    the justification and the tests pending at release) and the signatures. The CSS lays it out for
    the screen and for A4 paper with page numbers. All text is HTML-escaped.

    Parameters
    ----------
    coa
        The certificate.

    Returns
    -------
    str
        The HTML document.
    """
    return render(
        _TEMPLATE,
        coa=coa,
        barcode_svg=Markup(code128_svg(coa.barcode_data)),
        disposition_words=_DISPOSITION_WORDS,
        outcome_words=_OUTCOME_WORDS,
    )


def _target(path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def write_coa_html(coa: CertificateOfAnalysis, path: str | Path) -> Path:
    """Write the certificate as an HTML file (UTF-8), creating parent folders.

    Parameters
    ----------
    coa
        The certificate.
    path
        Where to write it.

    Returns
    -------
    Path
        The file written.
    """
    target = _target(path)
    target.write_text(render_coa_html(coa), encoding="utf-8")
    return target


def write_coa_pdf(coa: CertificateOfAnalysis, path: str | Path) -> Path:
    """Write the certificate as an A4 PDF with WeasyPrint, creating parent folders.

    The PDF is the HTML of :func:`render_coa_html` laid out with its print
    style sheet (page numbers in the footer). The document's title, author
    and creation date come from the certificate.

    Parameters
    ----------
    coa
        The certificate.
    path
        Where to write it.

    Returns
    -------
    Path
        The file written.
    """
    from weasyprint import HTML  # type: ignore[import-untyped]

    target = _target(path)
    HTML(string=render_coa_html(coa)).write_pdf(target)
    return target

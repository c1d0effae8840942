"""What ``audit verify`` reports: findings, counts and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OUTSIDE", "AuditFinding", "VerifyReport"]

#: How a finding says that something did not come through the application.
OUTSIDE = "written outside the application"


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """One thing wrong: its kind, the entry (if any), the record, and what is wrong."""

    kind: str
    seq: int | None
    record: str | None
    message: str


@dataclass(slots=True)
class VerifyReport:
    """Result of :func:`verify`.

    ``findings`` is empty when nothing was found wrong; ``notes`` say what could not
    be checked (no witness configured, no service key to anchor the keys).
    """

    n_entries: int = 0
    n_records: int = 0
    n_checkpoints: int = 0
    n_signatures: int = 0
    n_readings: int = 0
    witnessed_seq: int | None = None
    findings: list[AuditFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.findings

    @property
    def first_bad_seq(self) -> int | None:
        """Sequence number of the first entry found wrong, if any."""
        seqs = [f.seq for f in self.findings if f.seq is not None]
        return min(seqs) if seqs else None

    def add(self, kind: str, seq: int | None, record: str | None, message: str) -> None:
        """Record a finding."""
        self.findings.append(AuditFinding(kind, seq, record, message))

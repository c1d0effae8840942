"""``audit verify``: the trail, its seal, and the records, checked in both directions.

What is checked, streaming (``yield_per``) so memory follows the number of records,
not the size of the trail:

1. the hash chain: ``seq`` runs 1, 2, 3... with no gap, each ``prev_hash`` links,
   each hash matches its entry (kinds ``gap``, ``link``, ``hash``);
2. the keys: every signing-key record is endorsed by the key before it (the first by
   itself) and the service's configured key is among them (kind ``key``);
3. the seal: every entry is covered by a checkpoint signed with a valid key, whose
   head hash matches the chain (kinds ``unsealed``, ``checkpoint``); the latest head
   in the witness file is still in the chain (kind ``witness``);
4. records, both directions: every audited row matches the after-image of its last
   entry (``record``), every row has a history (``unaudited``), every history has a
   row (``missing``);
5. electronic signatures: each is bound by the service key to its record, signer,
   meaning, time and content hash (``signature``; ``unbound`` when it carries no
   key signature at all);
6. readings: each ingest's readings, as stored, hash to what the ingest recorded,
   and every reading belongs to an ingest (``readings``; ``unhashed`` for an ingest
   without a readings hash).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._canonical import canonical_json, record_image, to_jsonable
from ._chain import GENESIS_HASH, entry_hash, entry_payload
from ._findings import OUTSIDE, AuditFinding, VerifyReport
from ._keyfile import key_id_of, verify_statement
from ._readings import check_readings
from ._schema import AUDITED_MODELS, AuditEntry, Ingest, Signature
from ._schema_keys import AuditCheckpoint, SigningKey
from ._seal import SEAL_INFO, Seal, WitnessMark
from ._statements import checkpoint_statement, key_statement, signature_statement

__all__ = ["AuditFinding", "VerifyReport", "verify"]

_CHUNK = 2000


def verify(session: Session, *, check_records: bool = True) -> VerifyReport:
    """Check the audit trail, its seal and (optionally) every record; see the module doc.

    The service key and witness are those of the database the session belongs to
    (its :class:`~vein2vein.records._seal.Seal`). ``check_records=False`` checks
    the chain, keys, checkpoints and witness only.
    """
    report = VerifyReport()
    seal = session.info.get(SEAL_INFO)
    keys = _Keys.load(session, seal if isinstance(seal, Seal) else None, report)
    mark = _witness_mark(seal if isinstance(seal, Seal) else None, report)
    index = _walk_chain(session, keys, mark, report)
    if check_records:
        ingests = _check_records(session, index, keys, report)
        check_readings(session, ingests, report)
    return report


# ---------------------------------------------------------------------- keys


@dataclass(frozen=True, slots=True)
class _Key:
    key_id: str
    public_key: str
    activated_at: datetime
    retired_at: datetime | None
    first: bool


class _Keys:
    """The database's signing keys that are endorsed, by key id."""

    def __init__(self, keys: dict[str, _Key]) -> None:
        self.by_id = keys

    @classmethod
    def load(cls, session: Session, seal: Seal | None, report: VerifyReport) -> _Keys:
        valid: dict[str, _Key] = {}
        before: SigningKey | None = None
        rows = session.scalars(select(SigningKey).order_by(SigningKey.id)).all()
        for k in rows:
            where = f"signing_keys:{k.id}"
            endorser = before if before is not None else k
            expected_endorser = before.key_id if before is not None else None
            statement = key_statement(
                key_id=k.key_id,
                public_key=k.public_key,
                activated_at=k.activated_at,
                endorsed_by=k.endorsed_by,
            )
            if key_id_of(k.public_key) != k.key_id:
                report.add("key", None, where, f"key id {k.key_id} is not its public key's id")
            elif k.endorsed_by != expected_endorser:
                report.add(
                    "key",
                    None,
                    where,
                    f"key {k.key_id} says it succeeds {k.endorsed_by}, but the key before it "
                    f"is {expected_endorser}: a key record added behind the application's back",
                )
            elif not verify_statement(endorser.public_key, statement, k.endorsement):
                report.add(
                    "key",
                    None,
                    where,
                    f"key {k.key_id} is not endorsed by {endorser.key_id}: a key record "
                    "added or altered behind the application's back",
                )
            else:
                valid[k.key_id] = _Key(
                    k.key_id, k.public_key, k.activated_at, k.retired_at, first=before is None
                )
            if before is not None and before.retired_at is None:
                report.add("key", None, f"signing_keys:{before.id}", "succeeded but never retired")
            before = k
        if seal is not None and seal.configured:
            anchor = seal.signer().key_id
            if rows and anchor not in valid:
                report.add(
                    "key",
                    None,
                    None,
                    f"the service's signing key {anchor} is not among this database's "
                    "endorsed keys: the key records were replaced, or the service is "
                    "configured for another database",
                )
        elif rows:
            report.notes.append(
                "no service key is configured: the database's keys were checked against "
                "each other, not against the service's key"
            )
        return cls(valid)

    def problem(self, key_id: str | None, when: datetime, *, adopted: bool = False) -> str | None:
        """Why ``key_id`` could not have signed at ``when``; ``None`` if it could.

        ``adopted``: the time is that of something the first key bound when it
        adopted the trail (a signature made before tamper evidence), so it may be
        older than the key.
        """
        key = self.by_id.get(key_id or "")
        if key is None:
            return f"key {key_id} is not an endorsed signing key of this database"
        if when < key.activated_at and not (adopted and key.first):
            return f"signed at {to_jsonable(when)}, before key {key_id} was activated"
        if key.retired_at is not None and when > key.retired_at:
            return f"signed at {to_jsonable(when)}, after key {key_id} was retired"
        return None

    def verifies(self, key_id: str, statement: dict[str, Any], signature: str | None) -> bool:
        """True when the endorsed key ``key_id`` signed ``statement``."""
        key = self.by_id.get(key_id)
        return key is not None and verify_statement(key.public_key, statement, signature)


# ---------------------------------------------------------------------- the chain and its seal


def _witness_mark(seal: Seal | None, report: VerifyReport) -> WitnessMark | None:
    if seal is None or seal.witness is None:
        report.notes.append(
            "no witness is configured: a deleted tail of the trail cannot be detected"
        )
        return None
    mark = seal.witness.latest()
    if mark is None:
        report.notes.append(f"the witness {seal.witness.path} has seen no commit yet")
    else:
        report.witnessed_seq = mark.seq
    return mark


def _checkpoint_problem(cp: AuditCheckpoint, keys: _Keys) -> str | None:
    problem = keys.problem(cp.key_id, cp.signed_at)
    if problem is not None:
        return problem
    statement = checkpoint_statement(
        first_seq=cp.first_seq, seq=cp.seq, hash=cp.hash, key_id=cp.key_id, signed_at=cp.signed_at
    )
    if not keys.verifies(cp.key_id, statement, cp.signature):
        return f"its signature does not verify under key {cp.key_id}: forged or altered"
    return None


class _Checkpoints:
    """The checkpoints in ``seq`` order, walked alongside the entries."""

    def __init__(self, session: Session, keys: _Keys, report: VerifyReport) -> None:
        stmt = select(AuditCheckpoint).order_by(AuditCheckpoint.seq)
        self._rows: Iterator[AuditCheckpoint] = iter(
            session.scalars(stmt.execution_options(yield_per=_CHUNK))
        )
        self._keys = keys
        self._report = report
        self.current: AuditCheckpoint | None = None
        self.current_ok = False
        self._matched = False
        self._next()

    def _next(self) -> None:
        cp = next(self._rows, None)
        self.current, self._matched = cp, False
        if cp is None:
            return
        self._report.n_checkpoints += 1
        problem = _checkpoint_problem(cp, self._keys)
        self.current_ok = problem is None
        if problem is not None:
            self._report.add("checkpoint", cp.seq, None, f"checkpoint at entry {cp.seq}: {problem}")

    def covers(self, e: AuditEntry) -> bool:
        """Advance to the checkpoint that could cover ``e``; True if it does."""
        while self.current is not None and self.current.seq < e.seq:
            self._unmatched()
            self._next()
        cp = self.current
        if cp is None:
            return False
        if cp.seq == e.seq:
            self._matched = True
            if cp.hash != e.hash:
                self._report.add(
                    "checkpoint",
                    e.seq,
                    f"{e.record_table}:{e.record_id}",
                    f"checkpoint at entry {e.seq} signed a different head hash: the chain "
                    "was rewritten after it was sealed",
                )
                return False
        return self.current_ok and cp.first_seq <= e.seq

    def _unmatched(self) -> None:
        if self.current is not None and not self._matched:
            self._report.add(
                "checkpoint",
                self.current.seq,
                None,
                f"checkpoint at entry {self.current.seq}: that entry is not in the chain",
            )

    def finish(self, last_seq: int) -> None:
        """Whatever checkpoints remain seal entries that are gone."""
        while self.current is not None:
            if not self._matched:
                self._report.add(
                    "checkpoint",
                    self.current.seq,
                    None,
                    f"checkpoint at entry {self.current.seq}, but the chain ends at entry "
                    f"{last_seq}: sealed entries were deleted",
                )
            self._next()


def _image_digest(image: dict[str, Any]) -> bytes:
    # Numbers compare by value (a Float column set from an int reads back as a float),
    # and an empty field equals an absent one (a column added by a later migration).
    present = {k: _as_float(v) for k, v in image.items() if v is not None}
    return hashlib.sha256(canonical_json(present).encode("utf-8")).digest()


def _as_float(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {k: _as_float(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_float(v) for v in value]
    return value


def _walk_chain(
    session: Session, keys: _Keys, mark: WitnessMark | None, report: VerifyReport
) -> dict[tuple[str, int], tuple[bytes, int]]:
    """Check chain, checkpoints and witness; return each record's last image digest."""
    checkpoints = _Checkpoints(session, keys, report)
    index: dict[tuple[str, int], tuple[bytes, int]] = {}
    prev, expected_seq, last_seq, chain = GENESIS_HASH, 1, 0, None
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=_CHUNK)
    for e in session.scalars(stmt):
        report.n_entries += 1
        where = f"{e.record_table}:{e.record_id}"
        if e.seq != expected_seq:
            report.add("gap", e.seq, where, f"expected entry {expected_seq}, found {e.seq}")
        if e.prev_hash != prev:
            report.add("link", e.seq, where, "prev_hash does not match the entry before")
        if entry_hash(e.prev_hash, _payload_of(e)) != e.hash:
            report.add("hash", e.seq, where, "stored hash does not match the entry content")
        if not checkpoints.covers(e):
            report.add(
                "unsealed",
                e.seq,
                where,
                f"entry {e.seq} ({e.action} {where}) is covered by no valid signed "
                f"checkpoint: {OUTSIDE}",
            )
        if e.seq == 1:
            chain = e.hash
        if mark is not None and e.seq == mark.seq and e.hash != mark.hash:
            report.add(
                "witness",
                e.seq,
                where,
                f"entry {e.seq} is not the entry the witness saw: the chain was rewritten",
            )
        prev, expected_seq, last_seq = e.hash, e.seq + 1, e.seq
        index[(e.record_table, e.record_id)] = (_image_digest(e.after_image), e.seq)
    checkpoints.finish(last_seq)
    if mark is not None:
        if chain is not None and chain != mark.chain:
            report.add(
                "witness",
                1,
                None,
                "the first entry is not the one the witness saw: the chain was replaced "
                "from the start",
            )
        elif mark.seq > last_seq:
            report.add(
                "witness",
                None,
                None,
                f"the witness saw entry {mark.seq} (at {mark.at}), but the chain ends at "
                f"entry {last_seq}: its tail was deleted",
            )
    return index


def _payload_of(e: AuditEntry) -> dict[str, Any]:
    return entry_payload(
        seq=e.seq,
        recorded_at=e.recorded_at,
        user_id=e.user_id,
        username=e.username,
        user_role=e.user_role,
        action=e.action,
        record_table=e.record_table,
        record_id=e.record_id,
        changes=e.changes,
        after_image=e.after_image,
        reason=e.reason,
    )


# ---------------------------------------------------------------------- records


def _check_records(
    session: Session,
    index: dict[tuple[str, int], tuple[bytes, int]],
    keys: _Keys,
    report: VerifyReport,
) -> dict[int, tuple[str | None, int]]:
    """Rows against their histories (both ways) and signatures; returns the ingests."""
    ingests: dict[int, tuple[str | None, int]] = {}
    for model in AUDITED_MODELS:
        table = model.__table__.name  # type: ignore[attr-defined]
        for obj in session.scalars(select(model).execution_options(yield_per=_CHUNK)):
            report.n_records += 1
            where = f"{table}:{obj.id}"
            seen = index.pop((table, obj.id), None)
            image = record_image(obj)
            if seen is None:
                report.add("unaudited", None, where, f"row has no audit history: {OUTSIDE}")
            elif _image_digest(image) != seen[0]:
                report.add("record", None, where, _difference(session, seen[1], image))
            if isinstance(obj, Signature):
                report.n_signatures += 1
                _check_signature(obj, keys, report)
            elif isinstance(obj, Ingest):
                ingests[obj.id] = (obj.readings_sha256, obj.n_readings)
    for (table, record_id), (_, seq) in sorted(index.items()):
        report.add(
            "missing",
            None,
            f"{table}:{record_id}",
            f"has an audit history (last entry {seq}) but no row: deleted behind the "
            "application's back",
        )
    return ingests


def _difference(session: Session, seq: int, stored: dict[str, Any]) -> str:
    audited: dict[str, Any] = session.scalars(
        select(AuditEntry.after_image).where(AuditEntry.seq == seq)
    ).one()
    diff = sorted(
        k
        for k in stored.keys() | audited.keys()
        if _as_float(stored.get(k)) != _as_float(audited.get(k))
    )
    k = diff[0] if diff else "?"
    return (
        f"differs from its last audited image (field {k!r}: audited "
        f"{audited.get(k)!r}, stored {stored.get(k)!r})"
    )


def _check_signature(sig: Signature, keys: _Keys, report: VerifyReport) -> None:
    where = f"signatures:{sig.id}"
    if sig.key_id is None or sig.key_signature is None:
        report.add("unbound", None, where, f"not bound to a signing key: {OUTSIDE}")
        return
    problem = keys.problem(sig.key_id, sig.signed_at, adopted=True)
    if problem is not None:
        report.add("signature", None, where, problem)
        return
    statement = signature_statement(
        record_table=sig.record_table,
        record_id=sig.record_id,
        user_id=sig.user_id,
        printed_name=sig.printed_name,
        meaning=sig.meaning,
        signed_at=sig.signed_at,
        content_hash=sig.content_hash,
        key_id=sig.key_id,
    )
    if not keys.verifies(sig.key_id, statement, sig.key_signature):
        report.add(
            "signature",
            None,
            where,
            f"its key signature does not verify under key {sig.key_id}: forged, or altered "
            "after signing",
        )

"""The audit trail: append-only, hash-chained after-images of every write.

Each insert or update of an audited record (see :class:`~vein2vein.records.Audited`)
writes one :class:`~vein2vein.records.AuditEntry` in the same transaction as the
data row, from a SQLAlchemy flush hook, so no write path can skip it. An entry holds
who (user id, username, role), when (UTC), which record, what changed (old → new),
the full after-image, and why (a reason, required for changes to signed or released
records).

Entries form a chain: ``hash = SHA-256(prev_hash + canonical JSON of the entry)``,
with ``prev_hash`` of the first entry 64 zeros and ``seq`` counting up from 1 with no
gaps. Writers serialise on the chain head: SQLite transactions begin IMMEDIATE, and
on PostgreSQL a transaction-scoped advisory lock is taken before the head is read.

References
----------
21 CFR 11.10(e): "use of secure, computer-generated, time-stamped audit trails to
independently record the date and time of operator entries and actions that create,
modify, or delete electronic records. Record changes shall not obscure previously
recorded information."
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, UOWTransaction, attributes

from ..errors import ReasonRequiredError, RecordConflictError, Vein2veinError
from ._actor import Actor
from ._canonical import canonical_json, record_image, sha256_hex, to_jsonable
from ._schema import AUDITED_MODELS, Audited, AuditEntry, Signature
from ._types import utcnow

__all__ = [
    "GENESIS_HASH",
    "AuditFinding",
    "VerifyReport",
    "entry_hash",
    "entry_payload",
    "history",
    "verify",
]

GENESIS_HASH = "0" * 64
# Arbitrary constant (an int4) naming the chain-head lock on PostgreSQL.
_PG_CHAIN_LOCK = 0x7632_7632

_INFO_ACTOR = "vein2vein.actor"
_INFO_REASON = "vein2vein.reason"
_INFO_HEAD = "vein2vein.chain_head"


def entry_payload(
    *,
    seq: int,
    recorded_at: datetime | str,
    user_id: int | None,
    username: str,
    user_role: str,
    action: str,
    record_table: str,
    record_id: int,
    changes: dict[str, Any],
    after_image: dict[str, Any],
    reason: str | None,
) -> dict[str, Any]:
    """The fields of an entry that its hash covers, as JSON values."""
    return {
        "seq": seq,
        "recorded_at": to_jsonable(recorded_at),
        "user_id": user_id,
        "username": username,
        "user_role": user_role,
        "action": action,
        "record_table": record_table,
        "record_id": record_id,
        "changes": to_jsonable(changes),
        "after_image": to_jsonable(after_image),
        "reason": reason,
    }


def entry_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    """``SHA-256(prev_hash + canonical_json(payload))`` as 64 hex digits."""
    return sha256_hex(prev_hash + canonical_json(payload))


# ---------------------------------------------------------------------- writing


def bind_actor(session: Session, actor: Actor) -> None:
    """Attach the acting user to a session; every audited flush needs one."""
    session.info[_INFO_ACTOR] = actor


def set_reason(session: Session, reason: str | None) -> None:
    """Set the reason that the next flushes record (``None`` clears it)."""
    if reason is not None and not reason.strip():
        msg = "a reason must say something; it was blank"
        raise ReasonRequiredError(msg)
    session.info[_INFO_REASON] = reason


def _actor(session: Session) -> Actor:
    actor = session.info.get(_INFO_ACTOR)
    if not isinstance(actor, Actor):
        msg = "an audited write needs an actor; open the session with Database.unit_of_work()"
        raise Vein2veinError(msg)
    return actor


def _changed_columns(obj: Audited) -> dict[str, list[Any]]:
    state = attributes.instance_state(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if to_jsonable(old) != to_jsonable(new):
                changes[attr.key] = [to_jsonable(old), to_jsonable(new)]
    return changes


def _value_before_flush(obj: Audited, key: str) -> Any:
    hist = attributes.instance_state(obj).attrs[key].history
    if hist.deleted:
        return hist.deleted[0]
    return getattr(obj, key)


def _is_locked(session: Session, obj: Audited) -> str | None:
    """Why a change to ``obj`` needs a reason, or ``None`` if it does not."""
    if obj.__locked_statuses__ and hasattr(obj, "status"):
        status = to_jsonable(_value_before_flush(obj, "status"))
        if status in {to_jsonable(s) for s in obj.__locked_statuses__}:
            return f"it is {status}"
    if isinstance(obj, Signature):
        return "it is a signature"
    with session.no_autoflush:
        n_signed = session.execute(
            select(func.count())
            .select_from(Signature)
            .where(
                Signature.record_table == type(obj).__table__.name,  # type: ignore[attr-defined]
                Signature.record_id == obj.id,
            )
        ).scalar_one()
    return "it carries an electronic signature" if n_signed else None


def _before_flush(session: Session, _ctx: UOWTransaction, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, Audited):
            msg = (
                f"{obj.__record_kind__}:{obj.id} cannot be deleted: GMP records are never "
                "deleted; void it with a state change and a reason"
            )
            raise RecordConflictError(msg)
    reason = session.info.get(_INFO_REASON)
    for obj in session.dirty:
        if not isinstance(obj, Audited) or not session.is_modified(obj):
            continue
        if not _changed_columns(obj):
            continue
        why_locked = _is_locked(session, obj)
        if why_locked and not reason:
            msg = f"changing {obj.__record_kind__}:{obj.id} needs a reason because {why_locked}"
            raise ReasonRequiredError(msg)


_HEAD = select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
# Keyed by schema too: each schema holds a system of record (and a chain) of its own.
_LOCK = text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))")


def _chain_head(session: Session) -> tuple[int, str]:
    # The head is read once per transaction: the lock (IMMEDIATE on SQLite, the
    # advisory lock on PostgreSQL) is held until commit, so no one else moves it.
    cached = session.info.get(_INFO_HEAD)
    if cached is not None:
        return cast("tuple[int, str]", cached)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # A separate statement, so the head is read in a snapshot taken after the lock.
        conn.execute(_LOCK, {"k": _PG_CHAIN_LOCK})
    row = conn.execute(_HEAD).first()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


def serialize_writers(session: Session) -> None:
    """Take the chain-head lock now, e.g. before reading a counter to number a record.

    On PostgreSQL this takes the transaction's advisory lock (held until commit); on
    SQLite the IMMEDIATE transaction already holds the write lock.
    """
    _chain_head(session)


def _forget_head(session: Session, _transaction: object) -> None:
    session.info.pop(_INFO_HEAD, None)


def _sort_key(obj: Audited) -> tuple[int, int]:
    return (AUDITED_MODELS.index(type(obj)), obj.id)


def _after_flush(session: Session, _ctx: UOWTransaction) -> None:
    pending: list[tuple[str, Audited, dict[str, list[Any]], dict[str, Any]]] = []
    for obj in sorted((o for o in session.new if isinstance(o, Audited)), key=_sort_key):
        image = record_image(obj)
        changes = {k: [None, v] for k, v in image.items() if v is not None}
        action = "sign" if isinstance(obj, Signature) else "create"
        pending.append((action, obj, changes, image))
    for obj in sorted((o for o in session.dirty if isinstance(o, Audited)), key=_sort_key):
        changes = _changed_columns(obj)
        if changes:
            action = "state_change" if "status" in changes else "update"
            pending.append((action, obj, changes, record_image(obj)))
    if not pending:
        return
    actor = _actor(session)
    reason = session.info.get(_INFO_REASON)
    seq, prev = _chain_head(session)
    now = utcnow()
    rows = []
    for action, obj, changes, image in pending:
        seq += 1
        payload = entry_payload(
            seq=seq,
            recorded_at=now,
            user_id=actor.user_id,
            username=actor.username,
            user_role=actor.role,
            action=action,
            record_table=type(obj).__table__.name,  # type: ignore[attr-defined]
            record_id=obj.id,
            changes=changes,
            after_image=image,
            reason=reason,
        )
        digest = entry_hash(prev, payload)
        rows.append({**payload, "recorded_at": now, "prev_hash": prev, "hash": digest})
        prev = digest
    session.connection().execute(insert(AuditEntry), rows)
    session.info[_INFO_HEAD] = (seq, prev)


def install(target: Any) -> None:
    """Install the audit hooks on a ``sessionmaker`` (or ``Session`` class)."""
    from sqlalchemy import event

    event.listen(target, "before_flush", _before_flush)
    event.listen(target, "after_flush", _after_flush)
    # Any end of a transaction or savepoint (commit or rollback) drops the cached head.
    event.listen(target, "after_transaction_end", _forget_head)


# ---------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """One thing wrong with the trail: the entry (or record) and what is wrong."""

    kind: str
    seq: int | None
    record: str | None
    message: str


@dataclass(slots=True)
class VerifyReport:
    """Result of :func:`verify`.

    ``findings`` is empty on an intact trail; ``first_bad_seq`` is the first entry
    whose chain link or hash does not match.
    """

    n_entries: int = 0
    n_records: int = 0
    findings: list[AuditFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.findings

    @property
    def first_bad_seq(self) -> int | None:
        """Sequence number of the first entry that fails the chain, if any."""
        seqs = [f.seq for f in self.findings if f.seq is not None]
        return min(seqs) if seqs else None


def _iter_entries(session: Session) -> Iterator[AuditEntry]:
    yield from session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
    )


def verify(session: Session, *, check_records: bool = True) -> VerifyReport:
    """Check the hash chain and, optionally, that every record matches its last image.

    The chain check recomputes every entry's hash from its stored fields and the
    previous hash, and checks that ``seq`` runs 1, 2, 3... with no gap. The record
    check compares each audited row, as stored now, with the after-image of its last
    audit entry, so a data row changed behind the application's back is found too.
    """
    report = VerifyReport()
    prev = GENESIS_HASH
    expected_seq = 1
    last_image: dict[tuple[str, int], dict[str, Any]] = {}
    for e in _iter_entries(session):
        report.n_entries += 1
        where = f"{e.record_table}:{e.record_id}"
        if e.seq != expected_seq:
            report.findings.append(
                AuditFinding("gap", e.seq, where, f"expected entry {expected_seq}, found {e.seq}")
            )
        if e.prev_hash != prev:
            report.findings.append(
                AuditFinding("link", e.seq, where, "prev_hash does not match the entry before")
            )
        computed = entry_hash(e.prev_hash, _payload_of(e))
        if computed != e.hash:
            report.findings.append(
                AuditFinding("hash", e.seq, where, "stored hash does not match the entry content")
            )
        prev = e.hash
        expected_seq = e.seq + 1
        last_image[(e.record_table, e.record_id)] = e.after_image
    if check_records:
        _check_records(session, last_image, report)
    return report


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


def _check_records(
    session: Session, last_image: dict[tuple[str, int], dict[str, Any]], report: VerifyReport
) -> None:
    for model in AUDITED_MODELS:
        table = model.__table__.name  # type: ignore[attr-defined]
        for obj in session.scalars(select(model).execution_options(yield_per=2000)):
            report.n_records += 1
            where = f"{table}:{obj.id}"
            audited = last_image.get((table, obj.id))
            if audited is None:
                report.findings.append(
                    AuditFinding("record", None, where, "record has no audit entry")
                )
                continue
            stored = record_image(obj)
            diff = sorted(
                k for k in stored.keys() | audited.keys() if stored.get(k) != audited.get(k)
            )
            if diff:
                k = diff[0]
                report.findings.append(
                    AuditFinding(
                        "record",
                        None,
                        where,
                        f"differs from its last audited image (field {k!r}: audited "
                        f"{audited.get(k)!r}, stored {stored.get(k)!r})",
                    )
                )


def history(session: Session, record_table: str, record_id: int) -> list[AuditEntry]:
    """Every audit entry of one record, oldest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.record_table == record_table, AuditEntry.record_id == record_id)
            .order_by(AuditEntry.seq)
        )
    )


def entries(session: Session, *, limit: int | None = None) -> Iterable[AuditEntry]:
    """The newest entries first (``limit`` of them), for display."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))

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

The chain uses no secret, so it is sealed with one: a unit of work that wrote
entries ends, in the same transaction, with an :class:`AuditCheckpoint` signed by
the service's key, saying which entries it wrote and what the head is; once it has
committed, the head goes to the witness file (see :mod:`vein2vein.records._seal`).
:func:`verify` checks all of it.

References
----------
21 CFR 11.10(e): "use of secure, computer-generated, time-stamped audit trails to
independently record the date and time of operator entries and actions that create,
modify, or delete electronic records. Record changes shall not obscure previously
recorded information."
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NoReturn, cast

from sqlalchemy import bindparam, exists, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction, attributes

from ..errors import ReasonRequiredError, RecordConflictError, SigningKeyError, Vein2veinError
from ._actor import Actor
from ._canonical import record_image, to_jsonable
from ._chain import GENESIS_HASH, entry_hash, entry_payload
from ._keyfile import Signer
from ._schema import AUDITED_MODELS, Audited, AuditEntry, Signature
from ._schema_keys import AuditCheckpoint, SigningKey
from ._seal import Witness, WitnessMark, seal_of
from ._statements import checkpoint_statement
from ._types import utcnow
from ._verify import AuditFinding, VerifyReport, verify

__all__ = [
    "GENESIS_HASH",
    "AuditFinding",
    "VerifyReport",
    "current_signer",
    "entry_hash",
    "entry_payload",
    "history",
    "seal_from_start",
    "sign_commit_with",
    "verify",
]

# Arbitrary constant (an int4) naming the chain-head lock on PostgreSQL.
_PG_CHAIN_LOCK = 0x7632_7632

_INFO_ACTOR = "vein2vein.actor"
_INFO_REASON = "vein2vein.reason"
_INFO_HEAD = "vein2vein.chain_head"
# First entry this transaction wrote (the head it found + 1), and the head to witness.
_INFO_FIRST = "vein2vein.first_seq"
_INFO_WITNESS = "vein2vein.witness"
# A key that seals this unit of work instead of the configured one (a key rotation).
_INFO_SIGNER = "vein2vein.signer"


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


def _forget_head(session: Session, transaction: SessionTransaction) -> None:
    session.info.pop(_INFO_HEAD, None)
    if transaction.parent is None:  # the end of the whole unit of work
        session.info.pop(_INFO_FIRST, None)
        session.info.pop(_INFO_SIGNER, None)
        pending = session.info.pop(_INFO_WITNESS, None)
        if pending is not None:  # rolled back after the checkpoint was written
            os.close(pending[0])


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
    session.info.setdefault(_INFO_FIRST, seq + 1)
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


# ---------------------------------------------------------------------- sealing


def seal_from_start(session: Session) -> None:
    """Make this unit of work's checkpoint cover the chain from entry 1.

    Only for adopting a trail written before tamper evidence existed
    (:func:`vein2vein.records.keys.adopt`), after it has verified.
    """
    session.info[_INFO_FIRST] = 1


def sign_commit_with(session: Session, signer: Signer) -> None:
    """Seal this unit of work with ``signer`` (the new key, in a key rotation)."""
    session.info[_INFO_SIGNER] = signer


def current_signer(session: Session) -> Signer:
    """The key that seals this unit of work and binds its signatures.

    Raises
    ------
    SigningKeyError
        No key is configured, or it cannot be read.
    """
    signer = session.info.get(_INFO_SIGNER)
    return signer if isinstance(signer, Signer) else seal_of(session).signer()


def _is_active(key_id: Any) -> Any:
    return exists().where(SigningKey.key_id == key_id, SigningKey.retired_at.is_(None))


_FIRST_HASH = select(AuditEntry.hash).where(AuditEntry.seq == 1).scalar_subquery()
_CHECKPOINT_COLUMNS = list(AuditCheckpoint.__table__.columns)
# Built once: the checkpoint goes in only while its key is active, and the insert
# returns the hash of entry 1, which names the chain in the witness.
_SEAL = (
    insert(AuditCheckpoint)
    .from_select(
        [c.name for c in _CHECKPOINT_COLUMNS],
        select(*(bindparam(c.name, type_=c.type) for c in _CHECKPOINT_COLUMNS)).where(
            _is_active(bindparam("key_id"))
        ),
    )
    .returning(_FIRST_HASH)
)


def _insert_checkpoint(
    conn: Connection, signer: Signer, *, first: int, seq: int, head: str, now: datetime
) -> str | None:
    """Insert the signed checkpoint if ``signer`` is the active key; return the chain id.

    One statement, one round trip; ``None`` when the key is not active (nothing inserted).
    """
    statement = checkpoint_statement(
        first_seq=first, seq=seq, hash=head, key_id=signer.key_id, signed_at=now
    )
    row = {**statement, "signed_at": now, "signature": signer.sign(statement)}
    chain: str | None = conn.execute(_SEAL, row).scalar()
    return chain


def _other_key(session: Session, conn: Connection, signer: Signer) -> Signer:
    """The key to seal with when ``signer`` is not the database's active key.

    A long-running process whose key was rotated by another one reads the key file
    again (rotation replaces the file) and goes on with the new key; else refuse.
    """
    seal = seal_of(session)
    if _INFO_SIGNER not in session.info and seal.key_path is not None:
        reread = Signer.load(seal.key_path)
        if (
            reread.key_id != signer.key_id
            and conn.execute(select(_is_active(reread.key_id))).scalar()
        ):
            seal.use(reread)
            return reread
    return _refuse(conn, signer)


def _refuse(conn: Connection, signer: Signer) -> NoReturn:
    row = conn.execute(
        select(SigningKey.retired_at).where(SigningKey.key_id == signer.key_id)
    ).first()
    active = conn.execute(select(SigningKey.key_id).where(SigningKey.retired_at.is_(None))).scalar()
    if row is not None:
        msg = (
            f"the configured signing key {signer.key_id} was retired at "
            f"{to_jsonable(row.retired_at)}; configure the active key {active}"
        )
    elif active is None:
        msg = (
            "this database has no signing key yet; run `vein2vein init` with the key "
            "configured (it registers the key and adopts the trail)"
        )
    else:
        msg = (
            f"the configured signing key {signer.key_id} is not this database's key "
            f"(its active key is {active}); configure that key, or this is another database"
        )
    raise SigningKeyError(msg)


def _seal_on_commit(session: Session) -> None:
    # Fires for savepoints too; only the unit of work's own commit is sealed.
    if session.in_nested_transaction():
        return
    first = session.info.get(_INFO_FIRST)
    if first is None:
        return
    session.flush()  # what is pending gets its entries before the head is signed
    seq, head = _chain_head(session)
    if seq < first:  # everything it wrote was rolled back with a savepoint
        return
    conn = session.connection()
    signer = current_signer(session)
    now = utcnow()
    chain = _insert_checkpoint(conn, signer, first=first, seq=seq, head=head, now=now)
    if chain is None:  # the key is not the database's active one
        signer = _other_key(session, conn, signer)
        chain = _insert_checkpoint(conn, signer, first=first, seq=seq, head=head, now=now)
        if chain is None:  # _other_key returns the active key or raises
            msg = "the database's active signing key did not take the checkpoint"
            raise SigningKeyError(msg)
    witness = seal_of(session).witness
    if witness is not None:
        # Opened now, so a witness that cannot be written stops the commit.
        fd = witness.open_for_append()
        session.info[_INFO_WITNESS] = (fd, WitnessMark(chain, seq, head, to_jsonable(now)))


def _witness_after_commit(session: Session) -> None:
    pending = session.info.pop(_INFO_WITNESS, None)
    if pending is not None:
        Witness.append(*pending)


def install(target: Any) -> None:
    """Install the audit hooks on a ``sessionmaker`` (or ``Session`` class)."""
    from sqlalchemy import event

    event.listen(target, "before_flush", _before_flush)
    event.listen(target, "after_flush", _after_flush)
    event.listen(target, "before_commit", _seal_on_commit)
    event.listen(target, "after_commit", _witness_after_commit)
    # Any end of a transaction or savepoint (commit or rollback) drops the cached head.
    event.listen(target, "after_transaction_end", _forget_head)


# ---------------------------------------------------------------------- reading


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

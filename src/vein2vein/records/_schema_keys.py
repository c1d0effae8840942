"""Schema of tamper evidence: the public signing keys and the signed chain checkpoints.

The private key is never stored; see :mod:`vein2vein.records.keys` for the model of
what these records prove.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ._schema import Audited, Base
from ._types import utcnow

__all__ = ["AuditCheckpoint", "SigningKey"]


class SigningKey(Audited, Base):
    """The public half of a signing key of the service, and when it was in use.

    ``endorsement`` is the Ed25519 signature of the key's statement (key id, public
    key, activation time, the key it succeeds) made by the key it succeeds
    (``endorsed_by``), or by itself for the first key of a database. So a key
    record added behind the application's back is not endorsed by any real key.
    """

    __tablename__ = "signing_keys"
    __record_kind__ = "signing_key"
    __natural_key__ = "key_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))
    activated_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    endorsed_by: Mapped[str | None] = mapped_column(String(16), default=None)
    endorsement: Mapped[str] = mapped_column(String(128))


class AuditCheckpoint(Base):
    """A signed statement by the application about the entries it wrote.

    "I wrote entries ``first_seq``..``seq``, and the chain head at ``seq`` is ``hash``".

    One is written in the same transaction as every unit of work that wrote audit
    entries. Append-only (database triggers), like the audit trail itself.
    """

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    signed_at: Mapped[datetime]
    signature: Mapped[str] = mapped_column(String(128))

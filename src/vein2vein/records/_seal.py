"""Sealing the audit trail: the service key, signed checkpoints, and the witness file.

A database is opened with a :class:`Seal`: the service's signing key (a file outside
the database) and the witness file of that database. Every unit of work that wrote
audit entries ends, in the same transaction, with a checkpoint signed by the key
(``checkpoint_statement``), and after it commits the new chain head is appended
to the witness. The witness is what catches a deleted tail: the database cannot
forget a head the witness has seen.

Witness file: one JSON line per sealed commit, ``{"at", "chain", "hash", "seq"}``,
where ``chain`` is the hash of the database's first audit entry (it names the chain).
One file per database, ``<witness_dir>/<label>.jsonl``, the label being the first 16
hex digits of the SHA-256 of the database's address (:func:`database_label`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from .._settings import configured_signing_key, get_settings
from ..errors import SigningKeyError, Vein2veinError
from ._canonical import sha256_hex
from ._keyfile import KEY_DIR_MODE, KEY_FILE_MODE, Signer

__all__ = [
    "SEAL_INFO",
    "Seal",
    "Witness",
    "WitnessMark",
    "database_label",
    "seal_of",
]

#: Key of the :class:`Seal` in every session's ``info`` (set by the session factory).
SEAL_INFO = "vein2vein.seal"
# How much of the end of a witness file is read to find the latest head.
_TAIL_BYTES = 64 * 1024


def database_label(url: URL) -> str:
    """A stable name of a database: where it is, without the credentials used to reach it.

    The application role and the schema owner reach the same PostgreSQL database
    with different users, so the user is left out; a SQLite file is named by its
    absolute path.
    """
    if url.get_backend_name() == "sqlite":
        where = str(Path(url.database or ":memory:").resolve())
    else:
        query = "&".join(f"{k}={v}" for k, v in sorted(url.query.items()))
        where = f"{url.host}:{url.port or ''}/{url.database}?{query}"
    return sha256_hex(f"{url.get_backend_name()}:{where}")[:16]


@dataclass(frozen=True, slots=True)
class WitnessMark:
    """One head the witness saw: chain (hash of entry 1), entry number, its hash, when."""

    chain: str
    seq: int
    hash: str
    at: str


@dataclass(frozen=True, slots=True)
class Witness:
    """The append-only file that remembers a database's sealed chain heads."""

    path: Path

    def open_for_append(self) -> int:
        """Open (creating it, mode 0600) for one append; raises if it cannot be written."""
        try:
            if not self.path.parent.exists():
                self.path.parent.mkdir(mode=KEY_DIR_MODE, parents=True)
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, KEY_FILE_MODE)
        except OSError as exc:
            msg = f"cannot write the witness file {self.path}: {exc.strerror}"
            raise SigningKeyError(msg) from None

    @staticmethod
    def append(fd: int, mark: WitnessMark) -> None:
        """Append one head as one line, in one write, and close ``fd``."""
        line = json.dumps(
            {"at": mark.at, "chain": mark.chain, "hash": mark.hash, "seq": mark.seq},
            sort_keys=True,
        )
        try:
            os.write(fd, (line + "\n").encode("ascii"))
        finally:
            os.close(fd)

    def latest(self) -> WitnessMark | None:
        """The newest head: of the chain named by the last line, the highest entry.

        Writers append after they commit, so two of them may append out of order;
        the highest entry among the last lines is the newest head. A database made
        anew at the same address starts a new chain, and its lines come last.
        """
        try:
            with self.path.open("rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - _TAIL_BYTES))
                tail = f.read().decode("ascii", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as exc:
            msg = f"cannot read the witness file {self.path}: {exc.strerror}"
            raise Vein2veinError(msg) from None
        marks = []
        for line in tail.splitlines():
            try:
                d = json.loads(line)
                marks.append(WitnessMark(str(d["chain"]), int(d["seq"]), str(d["hash"]), d["at"]))
            except (ValueError, KeyError, TypeError):
                continue  # the first line of the tail may be cut; a torn last line
        if not marks:
            return None
        chain = marks[-1].chain
        return max((m for m in marks if m.chain == chain), key=lambda m: m.seq)


@dataclass(slots=True)
class Seal:
    """The service's key and this database's witness, as configured.

    The key file is read on first use, so commands that only read never need it.
    """

    key_path: Path | None = None
    witness: Witness | None = None
    _signer: Signer | None = field(default=None, repr=False)

    @classmethod
    def configure(
        cls,
        url: URL,
        *,
        signing_key: str | Path | Signer | None = None,
        witness_dir: str | Path | None = None,
    ) -> Seal:
        """The seal from explicit arguments, else from the settings (see :class:`Settings`)."""
        settings = get_settings()
        signer = signing_key if isinstance(signing_key, Signer) else None
        key_path: Path | None
        if signer is not None:
            key_path = signer.path
        elif isinstance(signing_key, str | Path):
            key_path = Path(signing_key)
        else:
            key_path = configured_signing_key()
        folder = Path(witness_dir) if witness_dir is not None else settings.witness_dir
        if folder is None and key_path is not None:
            folder = key_path.parent / "witness"
        witness = Witness(folder / f"{database_label(url)}.jsonl") if folder else None
        return cls(key_path=key_path, witness=witness, _signer=signer)

    @property
    def configured(self) -> bool:
        """True when a key is configured (it is not read here)."""
        return self._signer is not None or self.key_path is not None

    def signer(self) -> Signer:
        """The signing key, read on first use.

        Raises
        ------
        SigningKeyError
            No key is configured, or the file cannot be read.
        """
        if self._signer is None:
            if self.key_path is None:
                msg = (
                    "no signing key is configured: audited writes and electronic "
                    "signatures are sealed with the service's key. Run `vein2vein init` "
                    "(it creates one) or set VEIN2VEIN_SIGNING_KEY to the key file"
                )
                raise SigningKeyError(msg)
            self._signer = Signer.load(self.key_path)
        return self._signer

    def use(self, signer: Signer) -> None:
        """Sign with ``signer`` from now on (after a key rotation)."""
        self._signer = signer
        self.key_path = signer.path or self.key_path


def seal_of(session: Session) -> Seal:
    """The seal of the database a session belongs to."""
    seal = session.info.get(SEAL_INFO)
    if not isinstance(seal, Seal):
        msg = "this session was not opened by a vein2vein Database; it has no seal"
        raise Vein2veinError(msg)
    return seal

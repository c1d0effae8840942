"""The service's Ed25519 signing key: a PEM file outside the database, and what it signs.

The private key never enters the database. Its public half is recorded there (a
:class:`~vein2vein.records.SigningKey` record), so anyone can verify what the key
signed without holding a secret. A key is named by its *key id*: the first 16 hex
digits of the SHA-256 of the raw 32-byte public key.

Every signed statement is the canonical JSON of a small dict (see
:func:`~vein2vein.records.canonical_json`), signed as UTF-8 bytes.

References
----------
RFC 8032, Edwards-Curve Digital Signature Algorithm (EdDSA), section 5.1 (Ed25519).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import SigningKeyError
from ._canonical import canonical_json, sha256_hex

__all__ = ["Signer", "key_id_of", "verify_statement"]

#: Permissions of a key file (owner read/write only) and of a folder vein2vein makes for it.
KEY_FILE_MODE = 0o600
KEY_DIR_MODE = 0o700


def key_id_of(public_key: str) -> str:
    """The key id of a public key given as 64 hex digits (raw Ed25519 encoding)."""
    return sha256_hex(public_key)[:16]


def verify_statement(public_key: str, statement: Any, signature: str | None) -> bool:
    """True when ``signature`` (hex) is ``public_key``'s Ed25519 signature of ``statement``."""
    if not signature:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), canonical_json(statement).encode("utf-8"))
    except (ValueError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True, slots=True)
class Signer:
    """An Ed25519 private key and its public identity.

    Load one with :meth:`load`, or make a new key file with :meth:`generate`.
    """

    private_key: Ed25519PrivateKey
    public_key: str
    key_id: str
    path: Path | None = None

    @classmethod
    def from_private_key(cls, key: Ed25519PrivateKey, path: Path | None = None) -> Signer:
        """Wrap a private key object (``path`` says where it is kept, if anywhere)."""
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(private_key=key, public_key=raw.hex(), key_id=key_id_of(raw.hex()), path=path)

    @classmethod
    def load(cls, path: str | Path) -> Signer:
        """Read a PEM (PKCS #8, unencrypted) Ed25519 private key.

        Raises
        ------
        SigningKeyError
            The file is missing, unreadable, or not an Ed25519 private key.
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            msg = f"cannot read the signing key {path}: {exc.strerror}"
            raise SigningKeyError(msg) from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            msg = f"{path} is not an unencrypted PEM private key: {exc}"
            raise SigningKeyError(msg) from None
        if not isinstance(key, Ed25519PrivateKey):
            msg = f"{path} holds a {type(key).__name__}; vein2vein signs with Ed25519"
            raise SigningKeyError(msg)
        return cls.from_private_key(key, path)

    @classmethod
    def generate(cls, path: str | Path) -> Signer:
        """Make a new key and write it to ``path`` (mode 0600; a new folder gets 0700).

        Raises
        ------
        SigningKeyError
            ``path`` already exists (a key is never overwritten here).
        """
        path = Path(path)
        if not path.parent.exists():
            path.parent.mkdir(mode=KEY_DIR_MODE, parents=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
        except FileExistsError:
            msg = f"{path} already exists; a signing key is never overwritten"
            raise SigningKeyError(msg) from None
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        return cls.from_private_key(key, path)

    def sign(self, statement: Any) -> str:
        """The Ed25519 signature (hex) of the canonical JSON of ``statement``."""
        return self.private_key.sign(canonical_json(statement).encode("utf-8")).hex()

"""Envelope encryption of payloads: AES-256-GCM data keys wrapped by a master key.

Each disclosure gets a fresh 256-bit data key; the payload is sealed with AES-256-GCM and
the disclosure id as associated data (so a ciphertext cannot be moved to another row), and
the data key is wrapped with the master key (AES key wrap, RFC 3394). Erasure deletes the
wrapped key: without it the ciphertext is noise, and nothing else needs to change
("crypto-shredding").
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

NONCE_BYTES = 12


class PayloadUnavailable(Exception):
    """The payload was erased (its key destroyed) or does not decrypt; nothing is shown."""


@dataclass(frozen=True)
class MasterKey:
    """The key-encryption key; ``key_id`` names it in each row for rotation."""

    key: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"hub-master-key:" + self.key).hexdigest()[:16]


def load_or_create_master_key(path: Path, *, create: bool) -> MasterKey:
    """Read a 32-byte master key file; create one (mode 0600) only when ``create``."""
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"master key missing at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"master key at {path} must be exactly 32 bytes")
    return MasterKey(key)


def seal(master: MasterKey, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """Encrypt under a new data key; return ``(nonce || ciphertext, wrapped data key)``."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)
    return sealed, aes_key_wrap(master.key, data_key)


def seal_with(master: MasterKey, wrapped_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt more data (e.g. an outcome) under an existing disclosure's data key."""
    data_key = _unwrap(master, wrapped_key)
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)


def open_sealed(
    master: MasterKey, sealed: bytes | None, wrapped_key: bytes | None, aad: bytes
) -> bytes:
    """Decrypt, or raise :class:`PayloadUnavailable` (erased, tampered, wrong row)."""
    if sealed is None or wrapped_key is None:
        raise PayloadUnavailable("the payload was erased")
    data_key = _unwrap(master, wrapped_key)
    try:
        return AESGCM(data_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag:
        raise PayloadUnavailable("the payload does not decrypt") from None


def _unwrap(master: MasterKey, wrapped_key: bytes) -> bytes:
    try:
        return aes_key_unwrap(master.key, wrapped_key)
    except InvalidUnwrap:
        raise PayloadUnavailable("the data key does not unwrap") from None

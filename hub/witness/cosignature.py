"""C2SP tlog-cosignature, ``cosignature/v1``: a witness's timestamped Ed25519 note signature.

A cosignature is a signed-note signature line ``— <name> base64(key ID || timestamp ||
signature)`` where the key ID is ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``, the
timestamp a big-endian u64 (POSIX seconds) and the Ed25519 signature is over::

    cosignature/v1
    time <timestamp>
    <the checkpoint's note text: origin, size, root hash, extension lines>

Verifier keys use the signed-note form ``name+hexkeyid+base64(0x04 || public key)``.
Self-contained (``cryptography`` and the standard library) so a partner can copy it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
import struct
import time
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_NAME = re.compile(r"[^\s+]+")
_LINE = re.compile(r"\u2014 (\S+) ([A-Za-z0-9+/=]+)\n")
_SIGNATURE_BYTES = 4 + 8 + 64

__all__ = [
    "ALG_COSIGNATURE_V1",
    "CosignatureError",
    "Cosigner",
    "Cosignature",
    "check_name",
    "cosign",
    "cosigner_key_id",
    "cosigner_verifier_key",
    "parse_cosigner_key",
    "signed_message",
    "verify_cosignatures",
]


class CosignatureError(ValueError):
    """A cosignature or cosigner key is malformed, or a known key's signature fails."""


@dataclasses.dataclass(frozen=True)
class Cosigner:
    """A trusted witness key: its name, 4-byte key ID and Ed25519 public key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @property
    def verifier_key(self) -> str:
        return cosigner_verifier_key(self.name, self.public_key)


@dataclasses.dataclass(frozen=True)
class Cosignature:
    """One verified cosignature: who signed, when (POSIX seconds), and the line itself."""

    name: str
    timestamp: int
    line: str


def _raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def check_name(name: str) -> None:
    """Raise unless ``name`` is a valid note key name (non-empty, no spaces or '+')."""
    if not _NAME.fullmatch(name):
        raise CosignatureError(f"cosigner name {name!r} must be non-empty, without spaces or '+'")


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x04 || public key)[:4]``."""
    prefix = name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1])
    return hashlib.sha256(prefix + public_key).digest()[:4]


def cosigner_verifier_key(name: str, key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The vkey partners configure: ``name+hexkeyid+base64(0x04 || public key)``."""
    check_name(name)
    raw = _raw(key)
    encoded = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + raw).decode()
    return f"{name}+{cosigner_key_id(name, raw).hex()}+{encoded}"


def parse_cosigner_key(text: str) -> Cosigner:
    """Parse a cosignature/v1 vkey, checking its key ID matches its name and key."""
    name, _, rest = text.strip().partition("+")
    hex_id, _, encoded = rest.partition("+")
    if not _NAME.fullmatch(name) or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise CosignatureError("malformed cosigner key")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise CosignatureError("malformed cosigner key") from None
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise CosignatureError("not a cosignature/v1 (Ed25519, type 0x04) key")
    if cosigner_key_id(name, raw[1:]) != bytes.fromhex(hex_id):
        raise CosignatureError("cosigner key ID does not match its public key")
    return Cosigner(name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw[1:]))


def signed_message(note_text: str, timestamp: int) -> bytes:
    """``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint's note text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError("cosignature timestamp out of range")
    if not note_text.endswith("\n"):
        raise CosignatureError("note text must end with a newline")
    return f"{HEADER}time {timestamp}\n{note_text}".encode()


def cosign(
    note_text: str, name: str, key: Ed25519PrivateKey, timestamp: int | None = None
) -> str:
    """A cosignature line (``— name base64(...)\\n``) over ``note_text`` at ``timestamp``.

    The timestamp is never zero (tlog-witness: add-checkpoint cosignatures carry one).
    """
    check_name(name)
    when = int(time.time()) if timestamp is None else timestamp
    if when <= 0:
        raise CosignatureError("a checkpoint cosignature needs a non-zero timestamp")
    signature = key.sign(signed_message(note_text, when))
    blob = cosigner_key_id(name, _raw(key)) + struct.pack(">Q", when) + signature
    return f"\u2014 {name} {base64.b64encode(blob).decode()}\n"


def _as_cosigners(cosigners: Iterable[Cosigner | str]) -> list[Cosigner]:
    return [parse_cosigner_key(c) if isinstance(c, str) else c for c in cosigners]


def verify_cosignatures(
    note_text: str, lines: Sequence[str] | str, cosigners: Iterable[Cosigner | str]
) -> list[Cosignature]:
    """The cosignatures in ``lines`` by trusted ``cosigners`` over ``note_text``, verified.

    ``lines`` are signature lines (a response body, or a note's signature block). Lines by
    unknown keys are ignored (signed-note: the hub's own signature, other witnesses); a line
    whose name and key ID match a trusted key but whose signature fails raises. One result
    per cosigner at most (the first valid line).
    """
    trusted = _as_cosigners(cosigners)
    if isinstance(lines, str):
        lines = lines.splitlines(keepends=True)
    found: dict[str, Cosignature] = {}
    for line in lines:
        match = _LINE.fullmatch(line if line.endswith("\n") else line + "\n")
        if not match:
            raise CosignatureError("malformed signature line")
        name = match.group(1)
        try:
            blob = base64.b64decode(match.group(2), validate=True)
        except binascii.Error:
            raise CosignatureError("malformed signature encoding") from None
        for cosigner in trusted:
            if cosigner.name != name or blob[:4] != cosigner.key_id:
                continue
            if len(blob) != _SIGNATURE_BYTES:
                raise CosignatureError(f"cosignature by {name} has the wrong length")
            (timestamp,) = struct.unpack(">Q", blob[4:12])
            try:
                cosigner.public_key.verify(blob[12:], signed_message(note_text, timestamp))
            except InvalidSignature:
                raise CosignatureError(f"cosignature by {name} does not verify") from None
            found.setdefault(name, Cosignature(name, timestamp, line.rstrip("\n") + "\n"))
    return list(found.values())

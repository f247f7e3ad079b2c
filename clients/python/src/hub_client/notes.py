"""C2SP signed notes, checkpoints and witness cosignatures (Ed25519), from the specs.

- signed-note: text ending in ``\\n``, a blank line, then lines ``— <name> base64(keyid ||
  signature)``; verifier keys ``<name>+<hex keyid>+base64(type || public key)``; key id
  ``SHA-256(name || 0x0A || type || public key)[:4]``. Type ``0x01`` is an Ed25519 note
  signature (the hub's checkpoint key).
- tlog-checkpoint: the text is ``origin``, decimal ``size``, base64 ``root hash``, then
  optional extension lines.
- tlog-cosignature (``cosignature/v1``): type ``0x04``; the signature is ``u64 timestamp ||
  Ed25519 signature`` over ``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint text``.

Unknown signatures are ignored (signed-note: MUST); a signature by a known key that fails
to verify rejects the whole note (SHOULD, and we do).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import merkle

__all__ = [
    "COSIGNATURE_V1",
    "NOTE_ED25519",
    "Checkpoint",
    "Cosignature",
    "VerificationError",
    "Verifier",
    "open_checkpoint",
    "parse_checkpoint",
    "parse_verifier",
    "split_note",
    "verify_cosignatures",
]

NOTE_ED25519 = 0x01
COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100  # signed-note: accept at least 16
_FUTURE_SKEW = 600  # cosignatures dated further ahead than this are not counted
_NAME = re.compile(r"[^\s+]+")
_SIG_LINE = re.compile(r"\u2014 ([^\s+]+) ([A-Za-z0-9+/]+={0,2})\n")


class VerificationError(Exception):
    """Something the hub (or a witness) handed out does not verify: do not trust it."""


@dataclass(frozen=True)
class Verifier:
    """A trusted key: name, signature type (0x01 note, 0x04 cosignature), id and key."""

    name: str
    kind: int
    key_id: bytes
    public_key: bytes

    @property
    def text(self) -> str:
        encoded = base64.b64encode(bytes([self.kind]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint body: origin, tree size, root hash, extension lines, and its note."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()
    note: str = ""

    @property
    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature/v1: which witness, and when it says it saw the tree."""

    witness: str
    timestamp: int


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def parse_verifier(text: str, kind: int | None = None) -> Verifier:
    """Parse a vkey ``name+hexid+base64(type || key)`` (Ed25519 note or cosignature key)."""
    name, _, rest = text.strip().partition("+")
    hex_id, _, encoded = rest.partition("+")  # base64 may itself hold '+'
    if not _NAME.fullmatch(name) or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise VerificationError(f"malformed verifier key {text.strip()[:60]!r}")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise VerificationError("malformed verifier key encoding") from None
    if len(raw) != 33 or raw[0] not in (NOTE_ED25519, COSIGNATURE_V1):
        raise VerificationError("not an Ed25519 note (0x01) or cosignature/v1 (0x04) key")
    if kind is not None and raw[0] != kind:
        raise VerificationError(f"expected a key of type 0x{kind:02x}, got 0x{raw[0]:02x}")
    if key_id(name, raw[0], raw[1:]) != bytes.fromhex(hex_id):
        raise VerificationError("verifier key id does not match its key")
    return Verifier(name, raw[0], bytes.fromhex(hex_id), raw[1:])


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """A note's text (with its final newline) and its ``(key name, keyid || sig)`` lines."""
    if any(ord(c) < 0x20 and c != "\n" for c in note) or not note.endswith("\n"):
        raise VerificationError("malformed note")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise VerificationError("malformed note: no signature block")
    text, block = note[: cut + 1], note[cut + 2 :]
    lines = block.splitlines(keepends=True)
    if not lines or len(lines) > MAX_SIGNATURES:
        raise VerificationError("malformed note: bad number of signatures")
    signatures = []
    for line in lines:
        match = _SIG_LINE.fullmatch(line)
        if not match:
            raise VerificationError("malformed note: bad signature line")
        try:
            blob = base64.b64decode(match.group(2), validate=True)
        except binascii.Error:
            raise VerificationError("malformed note: bad signature encoding") from None
        if len(blob) < 5:
            raise VerificationError("malformed note: short signature")
        signatures.append((match.group(1), blob))
    return text, signatures


def parse_checkpoint(text: str, note: str = "") -> Checkpoint:
    """Parse a checkpoint's text: origin, decimal size, base64 SHA-256 root, extensions."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[0] or any(not x for x in lines[3:-1]):
        raise VerificationError("malformed checkpoint")
    origin, size_text, root_text, *extensions = lines[:-1]
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size_text):
        raise VerificationError("malformed checkpoint size")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise VerificationError("malformed checkpoint root") from None
    if len(root) != merkle.HASH_SIZE:
        raise VerificationError("checkpoint root is not a SHA-256 hash")
    if size_text == "0" and root != merkle.EMPTY_ROOT:
        raise VerificationError("an empty tree has the hash of the empty string as root")
    return Checkpoint(origin, int(size_text), root, tuple(extensions), note)


def _ed25519(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def open_checkpoint(note: str, log_key: Verifier | str, origin: str | None = None) -> Checkpoint:
    """Verify the log's signature on a checkpoint note and parse it; optionally pin its origin.

    Other signatures (witnesses' cosignatures, rotated keys) are ignored here.
    """
    verifier = parse_verifier(log_key, NOTE_ED25519) if isinstance(log_key, str) else log_key
    text, signatures = split_note(note)
    verified = False
    for name, blob in signatures:
        if name == verifier.name and blob[:4] == verifier.key_id:
            if not _ed25519(verifier.public_key, blob[4:], text.encode()):
                raise VerificationError(f"invalid signature by the log key {name}")
            verified = True
    if not verified:
        raise VerificationError("the checkpoint has no signature from the log's key")
    checkpoint = parse_checkpoint(text, note)
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header line, time line, then the checkpoint text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def verify_cosignatures(
    note: str,
    witnesses: Iterable[Verifier | str],
    *,
    now: float | None = None,
) -> list[Cosignature]:
    """The valid cosignature/v1 lines on ``note`` from ``witnesses`` (one per witness).

    Lines from unknown keys are ignored; a line from a known witness whose signature fails
    rejects the note (:class:`VerificationError`). A cosignature dated in the future (beyond
    ten minutes of skew) is not counted.
    """
    trusted: Sequence[Verifier] = [
        parse_verifier(w, COSIGNATURE_V1) if isinstance(w, str) else w for w in witnesses
    ]
    text, signatures = split_note(note)
    moment = time.time() if now is None else now
    found: dict[str, Cosignature] = {}
    for name, blob in signatures:
        for witness in trusted:
            if witness.kind != COSIGNATURE_V1:
                continue
            if name != witness.name or blob[:4] != witness.key_id:
                continue
            if len(blob) != 4 + 8 + 64:
                raise VerificationError(f"malformed cosignature from {name}")
            timestamp = int.from_bytes(blob[4:12], "big")
            message = cosigned_message(text, timestamp)
            if timestamp >= 2**63 or not _ed25519(witness.public_key, blob[12:], message):
                raise VerificationError(f"invalid cosignature from witness {name}")
            if timestamp <= moment + _FUTURE_SKEW:
                found[witness.text] = Cosignature(name, timestamp)
    return list(found.values())

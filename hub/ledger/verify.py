"""Verify the hub's ledger: checkpoints, inclusion, consistency, and (for the DPO) everything.

A partner needs only this file, ``merkle.py`` and ``cryptography``: no database, no Flask,
no hub code. Checkpoints are C2SP tlog-checkpoint bodies inside C2SP signed notes with
Ed25519 signatures; verifier keys use the note format ``name+hexkeyid+base64(0x01||pk)``.

:func:`verify_ledger` is the one function that reads the hub's database (``hub log verify``);
it imports the store lazily so the offline functions stay dependency-free.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

try:
    from . import merkle
except ImportError:  # used as a loose file next to merkle.py
    import merkle  # type: ignore[no-redef]

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100
_NAME = re.compile(r"[^\s+]+")
_SIG_LINE = re.compile(r"\u2014 (\S+) ([A-Za-z0-9+/=]+)\n")


class VerificationError(Exception):
    """Something the hub handed out does not verify; do not trust it."""


class LedgerCorrupt(VerificationError):
    """The stored ledger fails verification; ``index`` is the first bad entry index."""

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason
        super().__init__(f"ledger entry {index}: {reason}")


@dataclasses.dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: its name, 4-byte key id and public key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint body: the log's origin, tree size and root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x01 || public key)[:4]`` (C2SP signed-note, Ed25519)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def parse_verifier_key(text: str) -> NoteVerifier:
    """Parse ``name+hexkeyid+base64(0x01 || pk)``, checking the key id matches the key."""
    # Split at the first two '+' only: standard base64 may itself contain '+'.
    name, _, rest = text.strip().partition("+")
    hex_id, _, encoded = rest.partition("+")
    if not _NAME.fullmatch(name) or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise VerificationError("malformed verifier key")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise VerificationError("malformed verifier key") from None
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise VerificationError("verifier key is not an Ed25519 note key")
    if key_id(name, raw[1:]) != bytes.fromhex(hex_id):
        raise VerificationError("verifier key id does not match its public key")
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    return NoteVerifier(name, bytes.fromhex(hex_id), public)


def open_note(note: str, verifiers: NoteVerifier | str | Sequence[NoteVerifier | str]) -> str:
    """Return the text of a signed note once a trusted key's signature on it verifies.

    Signatures by unknown keys are ignored (they may be witnesses' cosignatures or a
    rotated key); a signature by a known key that fails rejects the whole note.
    """
    trusted = _as_verifiers(verifiers)
    text, signatures = _split_note(note)
    verified = 0
    for name, blob in signatures:
        for verifier in trusted:
            if verifier.name == name and verifier.key_id == blob[:4]:
                try:
                    verifier.public_key.verify(blob[4:], text.encode())
                except InvalidSignature:
                    raise VerificationError(f"invalid signature for key {name}") from None
                verified += 1
    if not verified:
        raise VerificationError("note has no signature from a trusted key")
    return text


def _as_verifiers(value: NoteVerifier | str | Sequence[NoteVerifier | str]) -> list[NoteVerifier]:
    items = [value] if isinstance(value, NoteVerifier | str) else list(value)
    return [parse_verifier_key(v) if isinstance(v, str) else v for v in items]


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Split a signed note into its text and ``(key name, key id || signature)`` pairs."""
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


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a tlog-checkpoint body: origin, decimal size, base64 root, extension lines."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[0]:
        raise VerificationError("malformed checkpoint")
    origin, size_text, root_text, *extensions = lines[:-1]
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text):
        raise VerificationError("malformed checkpoint size")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise VerificationError("malformed checkpoint root") from None
    if len(root) != merkle.HASH_SIZE:
        raise VerificationError("checkpoint root is not a SHA-256 hash")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def verify_checkpoint(note: str, verifier_key: Any, origin: str | None = None) -> Checkpoint:
    """Verify a checkpoint note's signature and parse it; optionally pin its origin."""
    checkpoint = parse_checkpoint(open_note(note, verifier_key))
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def _hashes(values: Sequence[bytes | str]) -> list[bytes]:
    """Proof hashes as bytes (the HTTP API sends them base64-encoded)."""
    try:
        return [v if isinstance(v, bytes) else base64.b64decode(v, validate=True) for v in values]
    except binascii.Error:
        raise VerificationError("proof hash is not base64") from None


def verify_inclusion(
    checkpoint: Checkpoint, index: int, leaf_hash: bytes | str, hashes: Sequence[bytes | str]
) -> None:
    """Check a leaf hash is at ``index`` in the checkpoint's tree; raise if not."""
    (leaf,) = _hashes([leaf_hash])
    if not merkle.verify_inclusion(
        index, checkpoint.size, leaf, _hashes(hashes), checkpoint.root_hash
    ):
        raise VerificationError(
            f"entry {index} is not included in the tree of size {checkpoint.size}"
        )


def verify_entry(
    checkpoint: Checkpoint, index: int, entry: bytes, hashes: Sequence[bytes | str]
) -> None:
    """Check the canonical entry bytes themselves are at ``index`` (hash computed here)."""
    verify_inclusion(checkpoint, index, merkle.leaf_hash(entry), hashes)


def verify_consistency(old: Checkpoint, new: Checkpoint, hashes: Sequence[bytes | str]) -> None:
    """Check ``new`` extends ``old`` (append-only history); raise if not."""
    if old.origin != new.origin:
        raise VerificationError("checkpoints are from different logs")
    if not merkle.verify_consistency(
        old.size, new.size, old.root_hash, new.root_hash, _hashes(hashes)
    ):
        raise VerificationError(
            f"tree of size {new.size} does not extend the tree of size {old.size}"
        )


# -- full verification of a stored ledger (hub log verify) --------------------------------


@dataclasses.dataclass(frozen=True)
class LedgerReport:
    """What :func:`verify_ledger` checked."""

    size: int
    root_hash: bytes
    checkpoints: int


def verify_ledger(
    session: Session,
    verifier_key: Any,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int = 1 << 15,
) -> LedgerReport:
    """Recompute every leaf, stored subtree, checkpoint root, signature and consistency.

    Streams the entries in chunks of ``chunk_size`` (a power of two) and raises
    :class:`LedgerCorrupt` naming the first bad index. Trusts nothing stored but the entry
    bytes: leaf hashes, subtree hashes and the head row are recomputed and compared.
    """
    from hub.ledger import fsck

    return fsck.run(session, _as_verifiers(verifier_key), progress, chunk_size)

"""Verify the hub's ledger: checkpoints, inclusion, consistency, and (for the DPO) everything.

A partner needs only this file, ``merkle.py``, ``salted.py`` and ``cryptography``: no
database, no Flask, no hub code. Checkpoints are C2SP tlog-checkpoint bodies inside C2SP
signed notes with Ed25519 signatures; verifier keys use the note format
``name+hexkeyid+base64(0x01||pk)``. Entry views and receipts (format 2: salted member
digests, :mod:`hub.ledger.salted`) verify with :func:`verify_entry_view` and
:func:`verify_receipt`.

:func:`verify_ledger` is the one function that reads the hub's database (``hub log verify``);
it imports the store lazily so the offline functions stay dependency-free.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

try:
    from . import merkle, salted
except ImportError:  # used as loose files next to merkle.py and salted.py
    import merkle  # type: ignore[no-redef]
    import salted  # type: ignore[no-redef]

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


def entry_view_leaf(view: Mapping[str, Any]) -> bytes:
    """Recompute the leaf hash from an entry view (``/log/entries/{i}`` or a receipt).

    Format 1: ``SHA-256(0x00 || RFC 8785(entry))``, so only a whole entry verifies. Format 2:
    each disclosed member's digest from its salt, plus the opaque ``digests`` of the members
    not disclosed, sorted, as the leaf input (:mod:`hub.ledger.salted`).
    """
    entry = view.get("entry")
    if not isinstance(entry, dict):
        raise VerificationError("the view has no entry")
    fmt = view.get("format", salted.FORMAT_PLAIN)
    if fmt == salted.FORMAT_PLAIN:
        body = "{" + ",".join(salted.member_bytes(k, entry[k]).decode() for k in sorted(entry))
        return merkle.leaf_hash((body + "}").encode())
    if fmt != salted.FORMAT_SALTED:
        raise VerificationError(f"unknown entry format {fmt!r}")
    salts = view.get("salts")
    if not isinstance(salts, dict) or not isinstance(view.get("digests"), list):
        raise VerificationError("a format 2 view needs salts and digests")
    salt_bytes = dict(zip(salts, _hashes(list(salts.values())), strict=True))
    others = _hashes(view["digests"])
    if any(len(s) != salted.SALT_SIZE for s in salt_bytes.values()) or any(
        len(d) != salted.DIGEST_SIZE for d in others
    ):
        raise VerificationError("malformed salt or digest")
    try:
        return merkle.leaf_hash(salted.view_leaf_input(entry, salt_bytes, others))
    except (salted.MalformedEntry, TypeError, ValueError) as exc:
        raise VerificationError(f"malformed entry view: {exc}") from None


def verify_entry_view(view: Mapping[str, Any], leaf_hash: bytes | str | None = None) -> bytes:
    """Check the view's members commit to ``leaf_hash`` (default: the view's own).

    Returns the leaf hash, ready for :func:`verify_inclusion`.
    """
    expected = view.get("leaf_hash") if leaf_hash is None else leaf_hash
    if expected is None:
        raise VerificationError("no leaf hash to check the view against")
    (wanted,) = _hashes([expected])
    computed = entry_view_leaf(view)
    if computed != wanted:
        raise VerificationError("the entry's members do not match its leaf hash")
    return computed


def verify_receipt(
    receipt: Mapping[str, Any], verifier_key: Any, origin: str | None = None
) -> Checkpoint:
    """Check a receipt offline: its members, its leaf, its inclusion proof and checkpoint.

    A fresh receipt may have no checkpoint yet; fetch it again (``GET /api/v1/referrals/
    {id}``) or ask ``/api/v1/log/proofs/inclusion`` once a checkpoint covers the index.
    """
    leaf = verify_entry_view(receipt)
    if "checkpoint" not in receipt or "inclusion" not in receipt:
        raise VerificationError("no checkpoint covers this receipt yet")
    checkpoint = verify_checkpoint(receipt["checkpoint"], verifier_key, origin)
    inclusion = receipt["inclusion"]
    if inclusion.get("index") != receipt.get("index") or inclusion.get("tree_size") != (
        checkpoint.size
    ):
        raise VerificationError("the inclusion proof is not for this entry and checkpoint")
    verify_inclusion(checkpoint, int(receipt["index"]), leaf, inclusion["hashes"])
    return checkpoint


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
    start: int = 0  # the first index verified: 0, or the checkpoint an incremental run began at


def verify_ledger(
    session: Session,
    verifier_key: Any,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int = 1 << 15,
    *,
    since: int = 0,
    processes: int | None = None,
) -> LedgerReport:
    """Recompute every leaf, stored subtree, checkpoint root, signature and consistency.

    Streams the entries in chunks of ``chunk_size`` (a power of two), over ``processes``
    worker processes (default 1: read and hash in this process, the next chunk prefetched
    in a thread), and raises :class:`LedgerCorrupt` naming the first bad index. Trusts
    nothing stored but the entry bytes: leaf hashes, subtree hashes and the head row are
    recomputed and compared. ``since``: the size of a checkpoint an earlier run verified,
    to verify only what came after it (docs/ledger.md, "Verifying the whole ledger").
    """
    from hub.ledger import fsck

    verifiers = _as_verifiers(verifier_key)
    return fsck.run(session, verifiers, progress, chunk_size, since=since, processes=processes)

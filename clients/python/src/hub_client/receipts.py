"""Offline receipt verification: the entry view, its leaf, the inclusion proof, the checkpoint.

A receipt (the ``receipt`` of a 201, or ``GET /api/v1/log/entries/{i}``) is an *entry view*:
the members of the ledger entry the caller may read, and what commits them to the leaf.

- Format 1: the leaf is ``SHA-256(0x00 || RFC 8785(entry))``; only a whole entry verifies.
- Format 2 (salted): each member ``"name":value`` (its RFC 8785 form) has a digest
  ``SHA-256(salt || member)`` under its own 16-byte salt; the members not shown to the
  caller arrive as opaque ``digests``; the leaf is ``SHA-256(0x00 || 0x02 || sorted
  digests)``. So the caller checks its own members without learning the others.

Then the leaf must be at ``index`` in a checkpoint's tree (RFC 9162 inclusion proof), and
the checkpoint must carry the log's signature and, for a witnessed checkpoint, a quorum of
witness cosignatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import rfc8785

from . import merkle
from .notes import Checkpoint, VerificationError, Verifier, open_checkpoint, verify_cosignatures

__all__ = ["QuorumError", "entry_view_leaf", "verify_entry_view", "verify_receipt"]

FORMAT_PLAIN = 1
FORMAT_SALTED = 2
SALT_SIZE = 16
DIGEST_SIZE = 32


class QuorumError(VerificationError):
    """Fewer valid witness cosignatures than the quorum asks for."""

    def __init__(self, found: int, needed: int, witnesses: int) -> None:
        super().__init__(f"{found} of {witnesses} witnesses cosigned; {needed} needed")
        self.found = found
        self.needed = needed


def b64(value: bytes | str) -> bytes:
    """A hash or salt as bytes (the API sends them in standard base64)."""
    if isinstance(value, bytes):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("not base64") from None


def _member(name: str, value: Any) -> bytes:
    """``"name":value`` exactly as inside the entry's RFC 8785 canonical JSON."""
    try:
        return rfc8785.dumps(name) + b":" + rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise VerificationError(f"member {name!r} has no canonical JSON form") from exc


def entry_view_leaf(view: Mapping[str, Any]) -> bytes:
    """Recompute the RFC 9162 leaf hash an entry view commits to."""
    entry = view.get("entry")
    if not isinstance(entry, dict):
        raise VerificationError("the view has no entry")
    fmt = view.get("format", FORMAT_PLAIN)
    if fmt == FORMAT_PLAIN:
        body = b"{" + b",".join(_member(k, entry[k]) for k in sorted(entry)) + b"}"
        return merkle.leaf_hash(body)
    if fmt != FORMAT_SALTED:
        raise VerificationError(f"unknown entry format {fmt!r}")
    salts, others = view.get("salts"), view.get("digests")
    if not isinstance(salts, dict) or not isinstance(others, list):
        raise VerificationError("a format 2 view needs salts and digests")
    if set(salts) != set(entry):
        raise VerificationError("every member shown needs exactly one salt")
    digests = []
    for name, value in entry.items():
        salt = b64(salts[name])
        if len(salt) != SALT_SIZE:
            raise VerificationError("malformed salt")
        digests.append(hashlib.sha256(salt + _member(name, value)).digest())
    opaque = [b64(d) for d in others]
    if any(len(d) != DIGEST_SIZE for d in opaque):
        raise VerificationError("malformed digest")
    return merkle.leaf_hash(b"\x02" + b"".join(sorted(digests + opaque)))


def verify_entry_view(view: Mapping[str, Any], leaf_hash: bytes | str | None = None) -> bytes:
    """Check the view's members commit to ``leaf_hash`` (default: its own); return the leaf."""
    expected = view.get("leaf_hash") if leaf_hash is None else leaf_hash
    if expected is None:
        raise VerificationError("no leaf hash to check the view against")
    leaf = entry_view_leaf(view)
    if leaf != b64(expected):
        raise VerificationError("the entry's members do not match its leaf hash")
    return leaf


def verify_receipt(
    receipt: Mapping[str, Any],
    log_key: Verifier | str,
    *,
    checkpoint: str | None = None,
    inclusion: Mapping[str, Any] | None = None,
    origin: str | None = None,
    witnesses: Iterable[Verifier | str] = (),
    quorum: int = 0,
) -> Checkpoint:
    """Verify a receipt offline; return the checkpoint whose tree includes it.

    ``checkpoint`` (a signed note) and ``inclusion`` (``{index, tree_size, hashes}``)
    default to the receipt's own; pass newer ones (``HubClient.inclusion_proof``) for a
    receipt issued before a checkpoint covered it. With ``witnesses`` and ``quorum``, at
    least ``quorum`` of them must have cosigned that checkpoint (:class:`QuorumError`).
    """
    leaf = verify_entry_view(receipt)
    note = checkpoint if checkpoint is not None else receipt.get("checkpoint")
    proof = inclusion if inclusion is not None else receipt.get("inclusion")
    if not isinstance(note, str) or not isinstance(proof, Mapping):
        raise VerificationError("no checkpoint covers this receipt yet: fetch an inclusion proof")
    head = open_checkpoint(note, log_key, origin)
    check_quorum(note, witnesses, quorum)
    index = receipt.get("index")
    if not isinstance(index, int) or proof.get("index") != index:
        raise VerificationError("the inclusion proof is not for this entry")
    if proof.get("tree_size") != head.size:
        raise VerificationError("the inclusion proof is not for this checkpoint's tree")
    hashes: Sequence[bytes] = [b64(h) for h in proof.get("hashes", [])]
    if not merkle.verify_inclusion(index, head.size, leaf, hashes, head.root_hash):
        raise VerificationError(f"entry {index} is not in the tree of size {head.size}")
    return head


def check_quorum(note: str, witnesses: Iterable[Verifier | str], quorum: int) -> int:
    """Raise :class:`QuorumError` unless ``quorum`` of ``witnesses`` cosigned ``note``."""
    trusted = list(witnesses)
    if quorum > len(trusted):
        raise ValueError(f"a quorum of {quorum} needs at least {quorum} witness keys")
    found = len(verify_cosignatures(note, trusted)) if trusted else 0
    if found < quorum:
        raise QuorumError(found, quorum, len(trusted))
    return found

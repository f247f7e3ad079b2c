"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519 hub key.

The hub never signs two inconsistent trees (tlog-checkpoint: a log MUST NOT). Before each
signature it recomputes the new root from stored subtrees, compares it with the head row and
verifies a consistency proof from the last signed checkpoint; any mismatch means storage was
altered, and the hub refuses rather than sign a forked history.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.ledger import merkle, store
from hub.ledger.errors import InconsistentCheckpoint, LedgerError
from hub.ledger.models import LedgerCheckpoint, LedgerEntry
from hub.ledger.verify import ALG_ED25519, key_id

__all__ = [
    "checkpoint_body",
    "ensure_signing_key",
    "maybe_checkpoint",
    "sign_checkpoint",
    "sign_note",
    "verifier_key",
]


def ensure_signing_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Load the hub's Ed25519 note key, creating it (mode 0600, PKCS#8 PEM) if absent.

    Created with ``O_EXCL`` so two workers starting at once cannot both write a key; the
    loser loads the winner's. The file lives under ``instance/`` or ``HUB_HUB_KEY`` and is
    never committed.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise LedgerError(f"{path} does not hold an Ed25519 private key")
    return loaded


def _raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise LedgerError(f"note key name {name!r} must be non-empty, without spaces or '+'")


def verifier_key(name: str, key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The note verifier key partners pin: ``name+hexkeyid+base64(0x01 || pk)``."""
    _check_name(name)
    raw = _raw_public(key)
    encoded = base64.b64encode(bytes([ALG_ED25519]) + raw).decode()
    return f"{name}+{key_id(name, raw).hex()}+{encoded}"


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """``origin\\nsize\\nbase64(root)\\n``: the three tlog-checkpoint lines, no extensions."""
    if not origin or "\n" in origin:
        raise LedgerError("checkpoint origin must be one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """Append a blank line and one signature line ``— name base64(keyid || sig)``."""
    _check_name(name)
    if not text.endswith("\n"):
        raise LedgerError("note text must end with a newline")
    signature = key_id(name, _raw_public(key)) + key.sign(text.encode())
    return f"{text}\n\u2014 {name} {base64.b64encode(signature).decode()}\n"


def sign_checkpoint(
    session: Session, key: Ed25519PrivateKey, origin: str, name: str | None = None
) -> LedgerCheckpoint:
    """Sign the current tree (on demand), inside the caller's transaction.

    Holds the head lock so the size cannot move underneath. Pins ``origin`` if the log has
    none yet and refuses (:class:`~hub.ledger.origin.OriginMismatch`) any other origin.
    Returns the existing checkpoint when nothing was appended since. Raises
    :class:`InconsistentCheckpoint` (and signs nothing) if the store no longer agrees with
    itself or with the last signed checkpoint.
    """
    from hub.ledger import sequencer
    from hub.ledger.origin import pin_origin

    sequencer.lock(session)  # the sequencer's lock order: sequencer lock, then head
    frontier = store.lock_head(session)
    pin_origin(session, origin)
    size, root = frontier.size, frontier.root()
    if store.stored_root(session, size) != root:
        raise InconsistentCheckpoint(
            f"the root of {size} entries recomputed from stored subtrees differs from the head row"
        )
    previous = store.latest_checkpoint(session)
    if previous is not None:
        _check_extends(session, previous, size, root)
        if previous.tree_size == size:
            return previous
    note = sign_note(checkpoint_body(origin, size, root), name or origin, key)
    checkpoint = LedgerCheckpoint(tree_size=size, root_hash=root, note=note, created_at=utcnow())
    session.add(checkpoint)
    session.flush()
    return checkpoint


def _check_extends(session: Session, previous: LedgerCheckpoint, size: int, root: bytes) -> None:
    """Refuse unless the tree ``(size, root)`` is consistent with ``previous``."""
    first, old_root = previous.tree_size, bytes(previous.root_hash)
    if size < first:
        raise InconsistentCheckpoint(f"the log shrank from {first} to {size} entries")
    proof = store.consistency_proof(session, first, size)
    if not merkle.verify_consistency(first, size, old_root, root, proof):
        raise InconsistentCheckpoint(
            f"the tree of size {size} is not consistent with the checkpoint signed at size {first}"
        )


def maybe_checkpoint(
    session: Session,
    key: Ed25519PrivateKey,
    origin: str,
    *,
    every: int,
    interval: float,
    now: dt.datetime | None = None,
) -> LedgerCheckpoint | None:
    """Sign when ``every`` entries are unsigned or the oldest unsigned one waited ``interval`` s.

    Batching checkpoints also protects privacy: a checkpoint per entry would tie each tree
    head to one disclosure (Trillian's guidance). Call after appending, in any transaction.
    """
    previous = store.latest_checkpoint(session)
    signed = previous.tree_size if previous is not None else 0
    pending = store.tree_size(session) - signed
    if pending <= 0:
        return None
    if pending < every:
        oldest = session.scalar(select(LedgerEntry.created_at).where(LedgerEntry.index == signed))
        waited = ((now or utcnow()) - oldest).total_seconds() if oldest is not None else 0.0
        if waited < interval:
            return None
    return sign_checkpoint(session, key, origin)

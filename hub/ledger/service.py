"""What the HTTP routes and the CLI need from the ledger, as plain JSON-ready values.

Routes stay thin: each calls one function here and serialises the result; errors are the
ledger's domain exceptions (:mod:`hub.ledger.errors`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from hub.ledger import store
from hub.ledger.checkpoint import verifier_key
from hub.ledger.errors import NoCheckpoint


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def latest_checkpoint_note(session: Session) -> str:
    """The latest signed note, served as ``text/plain`` at ``/api/v1/log/checkpoint``."""
    checkpoint = store.latest_checkpoint(session)
    if checkpoint is None:
        raise NoCheckpoint("no checkpoint has been signed yet")
    return checkpoint.note


def log_verifier_key(key: Ed25519PrivateKey | Ed25519PublicKey, origin: str) -> str:
    """The note verifier key for ``/api/v1/log/key`` (the key name is the log's origin)."""
    return verifier_key(origin, key)


def entry_view(session: Session, index: int) -> dict[str, Any]:
    """``{index, entry, leaf_hash}``: the parsed event and its base64 leaf hash."""
    entry = store.get_entry(session, index)
    return {
        "index": entry.index,
        "entry": json.loads(entry.entry),
        "leaf_hash": _b64(bytes(entry.leaf_hash)),
    }


def inclusion_view(session: Session, index: int, tree_size: int) -> dict[str, Any]:
    """``{index, tree_size, hashes}`` for ``/api/v1/log/proofs/inclusion``."""
    hashes = store.inclusion_proof(session, index, tree_size)
    return {"index": index, "tree_size": tree_size, "hashes": [_b64(h) for h in hashes]}


def consistency_view(session: Session, first: int, second: int) -> dict[str, Any]:
    """``{from, to, hashes}`` for ``/api/v1/log/proofs/consistency``."""
    hashes = store.consistency_proof(session, first, second)
    return {"from": first, "to": second, "hashes": [_b64(h) for h in hashes]}


def receipt(session: Session, index: int) -> dict[str, Any]:
    """A disclosure receipt: leaf index and hash, plus proof and checkpoint once one covers it.

    Sender and recipient can check it offline with :mod:`hub.ledger.verify`.
    """
    entry = store.get_entry(session, index)
    result: dict[str, Any] = {"index": index, "leaf_hash": _b64(bytes(entry.leaf_hash))}
    checkpoint = store.checkpoint_covering(session, index)
    if checkpoint is not None:
        result["checkpoint"] = checkpoint.note
        result["inclusion"] = inclusion_view(session, index, checkpoint.tree_size)
    return result

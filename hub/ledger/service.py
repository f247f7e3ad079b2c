"""What the HTTP routes and the CLI need from the ledger, as plain JSON-ready values.

Routes stay thin: each calls one function here and serialises the result; errors are the
ledger's domain exceptions (:mod:`hub.ledger.errors`).
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.ledger import merkle, salted, store
from hub.ledger.access import Reader, readable_members
from hub.ledger.checkpoint import verifier_key
from hub.ledger.errors import CorruptStore, IndexOutOfRange, NoCheckpoint
from hub.ledger.models import LedgerCheckpoint, LedgerEntry


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


def entry_view(session: Session, index: int, reader: Reader) -> dict[str, Any]:
    """What ``reader`` may read of entry ``index``, with what it needs to verify it.

    Raises the same :class:`IndexOutOfRange` for an entry the reader may not read as for
    one that does not exist, so a 404 says nothing about either.
    """
    entry = session.get(LedgerEntry, index) if index >= 0 else None
    view = None if entry is None else view_of(entry, reader)
    if view is None:
        raise IndexOutOfRange(f"no ledger entry {index} that you may read")
    return view


def view_of(entry: LedgerEntry, reader: Reader) -> dict[str, Any] | None:
    """``{index, format, entry, leaf_hash[, salts, digests]}`` for ``reader``, or ``None``.

    ``entry`` holds the members the reader may read (:func:`readable_members`). Format 2
    adds the salts of exactly those members and the digests of every other slot, opaque
    and sorted, so the reader recomputes the leaf (:func:`hub.ledger.verify.verify_entry_view`)
    and learns nothing about what it was not given.
    """
    blob = bytes(entry.entry)
    event = json.loads(blob)
    allowed = readable_members(event, reader)
    if allowed is None:
        return None
    view: dict[str, Any] = {
        "index": entry.index,
        "format": entry.format,
        "entry": {name: event[name] for name in sorted(allowed)},
        "leaf_hash": _b64(bytes(entry.leaf_hash)),
    }
    if entry.format == salted.FORMAT_SALTED and entry.salts is not None:
        salts = bytes(entry.salts)
        digests = salted.stored_digests(blob, salts)
        names = sorted(event)
        size = salted.SALT_SIZE
        view["salts"] = {
            name: _b64(salts[i * size : (i + 1) * size])
            for i, name in enumerate(names)
            if name in allowed
        }
        hidden = [d for i, d in enumerate(digests) if i >= len(names) or names[i] not in allowed]
        view["digests"] = [_b64(d) for d in sorted(hidden)]
    return view


def leaf_view(session: Session, index: int) -> dict[str, Any]:
    """``{index, leaf_hash}`` for any entry: public, like proofs and checkpoints."""
    return {"index": index, "leaf_hash": _b64(bytes(store.get_entry(session, index).leaf_hash))}


def inclusion_view(session: Session, index: int, tree_size: int) -> dict[str, Any]:
    """``{index, tree_size, hashes}`` for ``/api/v1/log/proofs/inclusion``."""
    hashes = store.inclusion_proof(session, index, tree_size)
    return {"index": index, "tree_size": tree_size, "hashes": [_b64(h) for h in hashes]}


def consistency_view(session: Session, first: int, second: int) -> dict[str, Any]:
    """``{from, to, hashes}`` for ``/api/v1/log/proofs/consistency``."""
    hashes = store.consistency_proof(session, first, second)
    return {"from": first, "to": second, "hashes": [_b64(h) for h in hashes]}


def receipt(session: Session, index: int, reader: Reader) -> dict[str, Any]:
    """A receipt for ``reader``: its view of the entry, plus proof and checkpoint once one
    covers it.

    Sender and recipient check it offline with :func:`hub.ledger.verify.verify_receipt`.
    """
    return with_proof(session, store.get_entry(session, index), reader)


def with_proof(
    session: Session, entry: LedgerEntry, reader: Reader, *, checkpointed: int | None = None
) -> dict[str, Any]:
    """``reader``'s view of ``entry`` and, once a checkpoint covers it, proof and note.

    ``checkpointed``: no checkpoint is known to cover an index at or past it (what the
    sequencer saw when it settled the entry), so a fresh entry's receipt costs no query.
    """
    result = view_of(entry, reader) or {
        "index": entry.index,
        "leaf_hash": _b64(bytes(entry.leaf_hash)),
    }
    if checkpointed is not None and entry.index >= checkpointed:
        return result
    checkpoint = store.checkpoint_covering(session, entry.index)
    if checkpoint is not None:
        from hub.witness.served import cosigned_note  # witnesses' lines, when there are any

        result["checkpoint"] = cosigned_note(session, checkpoint)
        result["inclusion"] = inclusion_view(session, entry.index, checkpoint.tree_size)
    return result


def receipts(session: Session, requests: Sequence[tuple[int, Reader]]) -> list[dict[str, Any]]:
    """:func:`receipt` for many entries in three queries, whatever their number.

    The entries in one read, the checkpoints that cover them in one read, and every node of
    every inclusion proof (with the head's size) in one read: a page of an inbox costs the
    same few round trips as a single referral's receipt.
    """
    if not requests:
        return []
    indexes = sorted({index for index, _reader in requests})
    entries = {
        entry.index: entry
        for entry in session.scalars(select(LedgerEntry).where(LedgerEntry.index.in_(indexes)))
    }
    for index in indexes:
        if index not in entries:
            raise IndexOutOfRange(f"no entry at index {index}")
    sizes = _covering_checkpoints(session, indexes[0], indexes[-1])
    covering: dict[int, LedgerCheckpoint] = {}
    plans: dict[int, merkle.Plan] = {}
    refs: set[merkle.NodeRef] = set()
    for index in indexes:
        at = bisect.bisect_right([c.tree_size for c in sizes], index)
        if at < len(sizes):
            covering[index] = sizes[at]
            plans[index] = merkle.inclusion_plan(index, sizes[at].tree_size)
            refs |= merkle.plan_refs(plans[index])
    nodes: dict[merkle.NodeRef, bytes] = {}
    if plans:
        current, nodes = store.fetch_nodes_and_size(session, refs)
        if max(c.tree_size for c in covering.values()) > current:
            raise CorruptStore("a checkpoint is larger than the log")
        missing = refs - nodes.keys()
        if missing:
            raise CorruptStore(f"{len(missing)} subtrees of a proof are missing from the store")
    results = []
    for index, reader in requests:
        entry = entries[index]
        result = view_of(entry, reader) or {
            "index": index,
            "leaf_hash": _b64(bytes(entry.leaf_hash)),
        }
        if index in covering:
            checkpoint = covering[index]
            hashes = merkle.resolve(plans[index], nodes)
            result["checkpoint"] = checkpoint.note
            result["inclusion"] = {
                "index": index,
                "tree_size": checkpoint.tree_size,
                "hashes": [_b64(h) for h in hashes],
            }
        results.append(result)
    return results


def _covering_checkpoints(session: Session, first: int, last: int) -> list[LedgerCheckpoint]:
    """Every checkpoint some index in ``[first, last]`` needs, smallest tree first."""
    cover_last = (
        select(func.min(LedgerCheckpoint.tree_size))
        .where(LedgerCheckpoint.tree_size > last)
        .scalar_subquery()
    )
    query = (
        select(LedgerCheckpoint)
        .where(
            LedgerCheckpoint.tree_size > first,
            or_(cover_last.is_(None), LedgerCheckpoint.tree_size <= cover_last),
        )
        .order_by(LedgerCheckpoint.tree_size)
    )
    return list(session.scalars(query))

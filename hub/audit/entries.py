"""One ledger entry as a DPO sees it, verified server-side (Rekor's entry card is the model).

The view carries the entry's metadata, its body when the viewer may read it, the leaf hash,
the inclusion proof and the smallest signed checkpoint covering the entry, and the outcome
of checking all of it with the offline verifier (:mod:`hub.ledger.verify`): the checkpoint's
signature under the hub's published key, the leaf hash recomputed from the stored entry,
and the proof from that leaf to the checkpoint's root.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audit.scope import Viewer, in_scope
from hub.audit.search import Row, rows_for
from hub.errors import NotFound
from hub.ledger import merkle, store, verify
from hub.ledger.projection import event_of
from hub.ledger.projection import events_table as ev


@dataclasses.dataclass(frozen=True)
class Verification:
    """The server-side check of one entry against a signed checkpoint."""

    state: str  # verified | failed | pending (no checkpoint covers it yet)
    detail: str
    checkpoint_size: int | None = None
    checkpoint_root: str | None = None
    checkpoint_note: str | None = None
    proof: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class EntryView:
    """What the entry page shows."""

    row: Row
    leaf_hash: str
    body: dict[str, Any] | None  # None: the viewer may not read bodies
    body_json: str | None
    verification: Verification


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def load_row(session: Session, viewer: Viewer, index: int) -> Row:
    """The projection row of ``index`` if the viewer may see it; else :class:`NotFound`."""
    query = select(ev).where(ev.c.idx == index)
    scope = in_scope(viewer)
    if scope is not None:
        query = query.where(scope)
    record = session.execute(query).first()
    if record is None:
        raise NotFound("no ledger entry with that index that you may see")
    return rows_for(session, [record], viewer)[0]


def verify_entry(session: Session, index: int, entry: bytes, verifier_key: str) -> Verification:
    """Check the stored entry is in the log under a checkpoint signed with the hub's key."""
    checkpoint = store.checkpoint_covering(session, index)
    if checkpoint is None:
        return Verification("pending", "no signed checkpoint covers this entry yet")
    proof = store.inclusion_proof(session, index, checkpoint.tree_size)
    encoded = tuple(_b64(h) for h in proof)
    try:
        body = verify.verify_checkpoint(checkpoint.note, verifier_key)
        verify.verify_entry(body, index, entry, proof)
    except verify.VerificationError as exc:
        return Verification(
            "failed", str(exc), checkpoint.tree_size, None, checkpoint.note, encoded
        )
    return Verification(
        "verified",
        f"included in the signed tree of size {body.size}",
        body.size,
        _b64(body.root_hash),
        checkpoint.note,
        encoded,
    )


def entry_view(session: Session, viewer: Viewer, index: int, verifier_key: str) -> EntryView:
    """The entry page's content; out-of-scope and missing indexes are both 404."""
    row = load_row(session, viewer, index)
    entry = store.get_entry(session, index)
    blob = bytes(entry.entry)
    body = event_of(blob) if viewer.sees_bodies else None
    verification = verify_entry(session, index, blob, verifier_key)
    if merkle.leaf_hash(blob) != bytes(entry.leaf_hash) and verification.state == "verified":
        verification = dataclasses.replace(
            verification, state="failed", detail="stored leaf hash does not match the entry"
        )
    return EntryView(
        row=row,
        leaf_hash=_b64(bytes(entry.leaf_hash)),
        body=body,
        body_json=json.dumps(body, indent=2, sort_keys=True) if body is not None else None,
        verification=verification,
    )

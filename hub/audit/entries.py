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

from hub.audit.scope import ALL, Viewer, in_scope
from hub.audit.search import Row, rows_for
from hub.errors import NotFound
from hub.ledger import salted, service, store, verify
from hub.ledger.access import HUB, Reader
from hub.ledger.models import LedgerEntry
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


def verify_entry(session: Session, entry: LedgerEntry, verifier_key: str) -> Verification:
    """Check the stored entry is in the log under a checkpoint signed with the hub's key.

    The leaf is recomputed from the stored body (and, for format 2, its salts) exactly as a
    partner recomputes it from its own view, so the page shows what a partner could check.
    """
    index = entry.index
    checkpoint = store.checkpoint_covering(session, index)
    if checkpoint is None:
        return Verification("pending", "no signed checkpoint covers this entry yet")
    proof = store.inclusion_proof(session, index, checkpoint.tree_size)
    encoded = tuple(_b64(h) for h in proof)
    try:
        body = verify.verify_checkpoint(checkpoint.note, verifier_key)
        view = service.view_of(entry, HUB)
        if view is None:  # the hub reads every entry; None would mean a broken access rule
            raise verify.VerificationError("the hub could not read its own entry")
        leaf = verify.verify_entry_view(view)
        verify.verify_inclusion(body, index, leaf, proof)
    except (verify.VerificationError, salted.MalformedEntry) as exc:
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


def _body_for(viewer: Viewer, entry: LedgerEntry, blob: bytes) -> dict[str, Any] | None:
    """The hub DPO reads the whole body; an agency DPO what ``log:audit`` gives its agency
    over the API (the same rule, :mod:`hub.ledger.access`: never subject commitments);
    an auditor none."""
    if not viewer.sees_bodies:
        return None
    if viewer.scope == ALL:
        return event_of(blob)
    view = service.view_of(entry, Reader(viewer.partner_id, audit=True))
    return None if view is None else dict(view["entry"])


def entry_view(session: Session, viewer: Viewer, index: int, verifier_key: str) -> EntryView:
    """The entry page's content; out-of-scope and missing indexes are both 404."""
    row = load_row(session, viewer, index)
    entry = store.get_entry(session, index)
    blob = bytes(entry.entry)
    body = _body_for(viewer, entry, blob)
    verification = verify_entry(session, entry, verifier_key)
    return EntryView(
        row=row,
        leaf_hash=_b64(bytes(entry.leaf_hash)),
        body=body,
        body_json=json.dumps(body, indent=2, sort_keys=True) if body is not None else None,
        verification=verification,
    )

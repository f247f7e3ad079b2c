"""What each party may see of a disclosure.

The recipient sees the released data (decrypted) and the legal basis, never the list of
withheld fields: "mental_health withheld" would itself tell them something about the
person. The sender sees what it sent: what was released, what was withheld and why, the
status, and the outcome only if a return flow carried it back.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.ledger.access import Reader
from hub.ledger.service import receipt
from hub.sharing.crypto import MasterKey, PayloadUnavailable, open_sealed
from hub.sharing.models import Disclosure, InboxItem


def released_data(master_key: MasterKey, disclosure: Disclosure) -> dict[str, Any] | None:
    """The released payload, or ``None`` once erased (its data key destroyed)."""
    try:
        plain = open_sealed(
            master_key, disclosure.ciphertext, disclosure.wrapped_key, disclosure.id.encode()
        )
    except PayloadUnavailable:
        return None
    return json.loads(plain)  # type: ignore[no-any-return]


def _common(
    session: Session, disclosure: Disclosure, reader: str, known: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What both parties see; the receipt is ``reader``'s own view of the ledger entry
    (``known`` when the caller read it already, with others, in one go)."""
    return {
        "id": disclosure.id,
        "kind": disclosure.kind,
        "alert_id": disclosure.alert_id,
        "from": disclosure.sender_id,
        "to": disclosure.recipient_id,
        "purpose": disclosure.purpose,
        "status": disclosure.status,
        "agreement": {
            "id": disclosure.agreement_id,
            "version": disclosure.agreement_version,
            "digest": f"sha256:{disclosure.agreement_digest}",
        },
        "basis": list(disclosure.basis),
        "created_at": disclosure.created_at.isoformat(),
        "erased": disclosure.erased_at is not None,
        "receipt": known
        if known is not None
        else receipt(session, released_index(disclosure), Reader(reader)),
    }


def recipient_view(
    session: Session,
    master_key: MasterKey,
    disclosure: Disclosure,
    known_receipt: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The recipient's view: released data, basis, retention; no withheld list."""
    return {
        **_common(session, disclosure, disclosure.recipient_id, known_receipt),
        "data": released_data(master_key, disclosure),
        "opinion": list(disclosure.opinion or []),
        "retention_until": disclosure.retention_until.isoformat(),
    }


def sender_view(session: Session, master_key: MasterKey, disclosure: Disclosure) -> dict[str, Any]:
    """The sender's view: what was released and withheld, status, outcome if returned."""
    return {
        **_common(session, disclosure, disclosure.sender_id),
        "released": list(disclosure.fields_released),
        "transforms": dict(disclosure.transforms),
        "withheld": list(disclosure.fields_withheld),
        "outcome_id": disclosure.outcome_id,
    }


def inbox_item_view(
    session: Session,
    item: InboxItem,
    master_key: MasterKey,
    disclosure: Disclosure | None = None,
    known_receipt: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One inbox item as the recipient (and its webhook) receives it.

    A page of items passes each one's disclosure and receipt, read for the whole page at
    once (:func:`hub.sharing.inbox.read_inbox`); alone, they are read here.
    """
    if disclosure is None:
        disclosure = session.get_one(Disclosure, item.disclosure_id)
    view: dict[str, Any] = {
        "item_id": item.id,
        "cursor": str(item.seq),
        "kind": item.kind,
        "created_at": item.created_at.isoformat(),
        "disclosure": recipient_view(session, master_key, disclosure, known_receipt),
    }
    if item.notice is not None:
        view["notice"] = item.notice
    return view


def released_index(disclosure: Disclosure) -> int:
    """A released disclosure's ledger index (callers only show released ones)."""
    if disclosure.ledger_index is None:
        raise NotFound("no such referral")
    return disclosure.ledger_index

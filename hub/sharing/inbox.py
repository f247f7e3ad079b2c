"""Reading shared data: the inbox and single referrals, each view logged (DPA 2018 s62).

Every time a recipient reads released data, a ``consultation`` entry goes on the ledger in
the same transaction as the read: who looked, at which disclosure, for what purpose.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.ledger import store
from hub.ledger.access import Reader
from hub.ledger.events import draft_event
from hub.ledger.service import receipts
from hub.sharing.context import SharingContext
from hub.sharing.models import Disclosure, InboxItem
from hub.sharing.release import released
from hub.sharing.views import inbox_item_view, recipient_view, released_index, sender_view

PAGE_LIMIT = 100


def consultation_for(partner_id: str, disclosure: Disclosure) -> dict[str, Any]:
    """The s62 consultation event for ``partner_id`` viewing ``disclosure``."""
    return draft_event(  # validated once, by store.append_entries
        "consultation",
        {"partner": partner_id, "client": partner_id},
        ref=disclosure.id,
        purpose=disclosure.purpose,
        subjects=list(disclosure.subjects),
        fields=list(disclosure.fields_released),
        entry=disclosure.ledger_index,
    )


def read_inbox(
    session: Session, ctx: SharingContext, partner_id: str, cursor: int, limit: int
) -> dict[str, Any]:
    """The caller's items after ``cursor``, oldest first; logs one consultation per item.

    A constant number of queries per page: items with their disclosures in one read, the
    receipts in three (:func:`hub.ledger.service.receipts`), the consultations in one append.
    """
    limit = max(1, min(limit, PAGE_LIMIT))
    rows = session.execute(
        select(InboxItem, Disclosure)
        .join(Disclosure, Disclosure.id == InboxItem.disclosure_id)
        .where(InboxItem.recipient_id == partner_id, InboxItem.seq > cursor)
        .order_by(InboxItem.seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [item for item, _disclosure in rows]
    disclosures = [disclosure for _item, disclosure in rows]
    known = receipts(session, [(released_index(d), Reader(d.recipient_id)) for d in disclosures])
    views = [
        inbox_item_view(session, item, ctx.master_key, disclosure, receipt)
        for (item, disclosure), receipt in zip(rows, known, strict=True)
    ]
    events = [consultation_for(partner_id, d) for d in disclosures]
    store.append_entries(session, events, deferred=True)
    session.commit()  # returns once the consultations are sequenced: then the views go out
    return {
        "items": views,
        "next_cursor": str(items[-1].seq) if items else str(cursor),
        "has_more": more,
    }


def referral_for(
    session: Session, ctx: SharingContext, partner_id: str, disclosure_id: str
) -> dict[str, Any]:
    """A referral for its sender or recipient; 404 for anyone else (not 403).

    A recipient's read is a consultation and is logged; the sender's view holds no values.
    """
    disclosure = session.get(Disclosure, disclosure_id)
    parties = {disclosure.sender_id, disclosure.recipient_id} if released(disclosure) else set()
    if disclosure is None or partner_id not in parties:
        raise NotFound("no such referral sent by or to you")
    if partner_id == disclosure.sender_id:
        return sender_view(session, ctx.master_key, disclosure)
    view = recipient_view(session, ctx.master_key, disclosure)
    store.append_entries(session, [consultation_for(partner_id, disclosure)], deferred=True)
    session.commit()  # returns once the consultation is sequenced
    return view

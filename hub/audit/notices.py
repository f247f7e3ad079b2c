"""Art 19 notices: after a correction or erasure, was every recipient told?

The hub notifies recipients itself (an inbox item and, where a partner has a webhook, a
signed push: :mod:`hub.sharing.corrections`). This view follows each notice's state from
the ledger entry to the inbox item and its outbox row, and records the controller's
decision where telling a recipient would involve disproportionate effort (Art 19, first
sentence), with the reason, so the decision itself is on record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audit.entries import load_row
from hub.audit.models import NoticeDecision
from hub.audit.scope import Viewer, in_scope
from hub.audit.search import Row, rows_for
from hub.delivery.models import OutboxMessage
from hub.errors import Conflict, ValidationFailed
from hub.ledger.projection import events_table as ev
from hub.ledger.projection import recipients_table as rc
from hub.sharing.models import InboxItem

DISPROPORTIONATE = "disproportionate_effort"


@dataclasses.dataclass(frozen=True)
class RecipientNotice:
    """One recipient's notice and where it stands."""

    recipient: str
    state: str  # delivered | in_inbox | pending | dead | not_sent | disproportionate
    detail: str
    at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class NoticeView:
    row: Row
    notices: list[RecipientNotice]


def changes(session: Session, viewer: Viewer, limit: int = 200) -> list[Row]:
    """Recent corrections and erasures the viewer may see, newest first."""
    viewer.require_bodies()
    query = select(ev).where(ev.c.type.in_(("correction", "erasure")))
    scope = in_scope(viewer)
    if scope is not None:
        query = query.where(scope)
    records = list(session.execute(query.order_by(ev.c.idx.desc()).limit(limit)))
    return rows_for(session, records, viewer)


def _recipients(session: Session, row: Row) -> list[str]:
    if row.recipients:
        return list(row.recipients)
    if row.about_entry is None:  # an erasure names its disclosure's entry, not recipients
        return []
    query = select(rc.c.partner).where(rc.c.idx == row.about_entry)
    return sorted(session.scalars(query))


def notice_view(session: Session, viewer: Viewer, index: int) -> NoticeView:
    """Each recipient of the correction or erasure at ``index`` and its notice's state."""
    viewer.require_bodies()
    row = load_row(session, viewer, index)
    if row.type not in ("correction", "erasure"):
        raise Conflict("Art 19 notices follow corrections and erasures only")
    items = {
        item.recipient_id: item
        for item in session.scalars(
            select(InboxItem).where(InboxItem.disclosure_id == (row.ref or ""))
        )
        if item.kind == row.type and (item.notice or {}).get("ledger_index") == index
    }
    decisions = {
        d.recipient: d
        for d in session.scalars(select(NoticeDecision).where(NoticeDecision.entry_index == index))
    }
    notices = []
    for recipient in _recipients(session, row):
        decision = decisions.get(recipient)
        item = items.get(recipient)
        if decision is not None:
            notices.append(
                RecipientNotice(recipient, "disproportionate", decision.reason, decision.decided_at)
            )
        elif item is None:
            notices.append(RecipientNotice(recipient, "not_sent", "no notice found", None))
        else:
            notices.append(_state(session, recipient, item))
    return NoticeView(row, notices)


def _state(session: Session, recipient: str, item: InboxItem) -> RecipientNotice:
    push = session.scalars(
        select(OutboxMessage).where(OutboxMessage.inbox_item_id == item.id)
    ).first()
    if push is None:
        return RecipientNotice(recipient, "in_inbox", "in the recipient's inbox (pull)",
                               item.created_at)  # fmt: skip
    if push.state == "delivered":
        return RecipientNotice(recipient, "delivered", "pushed to the recipient's webhook",
                               push.delivered_at)  # fmt: skip
    if push.state == "dead":
        detail = f"push failed after {push.attempts} attempts ({push.last_error or 'error'})"
        return RecipientNotice(recipient, "dead", detail + "; also in the inbox", item.created_at)
    detail = f"push pending, {push.attempts} attempts so far; in the inbox meanwhile"
    return RecipientNotice(recipient, "pending", detail, item.created_at)


def record_decision(
    session: Session, viewer: Viewer, index: int, recipient: str, reason: str
) -> NoticeDecision:
    """Record that notifying ``recipient`` would be disproportionate, and why (flushes)."""
    view = notice_view(session, viewer, index)
    if recipient not in {n.recipient for n in view.notices}:
        raise ValidationFailed(
            "That partner did not receive the data this entry changes.",
            errors=[{"pointer": "#/recipient", "code": "invalid", "detail": "not a recipient"}],
        )
    reason = " ".join(reason.split())[:1000]
    if len(reason) < 10:
        raise ValidationFailed(
            "Record why notifying this recipient would be disproportionate.",
            errors=[{"pointer": "#/reason", "code": "too_short", "detail": "at least 10 chars"}],
        )
    existing = session.scalars(
        select(NoticeDecision).where(
            NoticeDecision.entry_index == index, NoticeDecision.recipient == recipient
        )
    ).first()
    if existing is not None:
        raise Conflict("a decision for this recipient is already recorded")
    decision = NoticeDecision(
        entry_index=index, recipient=recipient, decision=DISPROPORTIONATE, reason=reason,
        decided_by=viewer.pseudonym,
    )  # fmt: skip
    session.add(decision)
    session.flush()
    return decision

"""Releasing a disclosure once its ledger entry is sequenced (no entry, no release).

The request that decides a disclosure commits it with ``ledger_index`` NULL and no inbox
item: nobody can see it. The sequencer batch that gives its entry an index calls
:func:`release_disclosures` in the same transaction, which records the index and only then
puts the disclosure in the recipient's inbox and, for a webhook, the outbox. So the inbox
``seq`` follows sequencing order and an inbox cursor never skips an item released later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.delivery.outbox import enqueue
from hub.partners.models import Partner
from hub.sharing.models import Disclosure, InboxItem, new_id


def released(disclosure: Disclosure | None) -> TypeGuard[Disclosure]:
    """True for a disclosure whose entry is sequenced: the only kind anyone may see."""
    return disclosure is not None and disclosure.ledger_index is not None


def release_disclosures(session: Session, refs: Sequence[tuple[str, int]]) -> None:
    """Give each disclosure its ledger index and deliver it (inside the sequencer batch)."""
    index_of = dict(refs)
    disclosures = {
        d.id: d for d in session.scalars(select(Disclosure).where(Disclosure.id.in_(index_of)))
    }
    missing = index_of.keys() - disclosures.keys()
    if missing:  # fail closed: the batch rolls back rather than log what it cannot release
        raise LookupError(f"{len(missing)} disclosure(s) to release are missing")
    recipients = {
        p.id: p
        for p in session.scalars(
            select(Partner).where(Partner.id.in_({d.recipient_id for d in disclosures.values()}))
        )
    }
    for ref, index in refs:  # sequencing order, so inbox order follows the ledger
        disclosure = disclosures[ref]
        disclosure.ledger_index = index
        deliver(session, recipients[disclosure.recipient_id], disclosure)
    session.flush()


def deliver(session: Session, recipient: Partner, disclosure: Disclosure) -> InboxItem:
    """Put the disclosure in the recipient's inbox and, if it has a webhook, the outbox."""
    item = InboxItem(
        id=new_id(),
        recipient_id=recipient.id,
        disclosure_id=disclosure.id,
        kind=disclosure.kind,
        created_at=disclosure.created_at,
    )
    session.add(item)
    enqueue(session, recipient, item)
    return item

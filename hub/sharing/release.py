"""Releasing a disclosure once its ledger entry is sequenced (no entry, no release).

The request that decides a disclosure commits it with ``ledger_index`` NULL and no inbox
item: nobody can see it. The sequencer batch that gives its entry an index calls
:func:`release_disclosures` in the same transaction, which records the index and only then
puts the disclosure in the recipient's inbox and, for a webhook, the outbox. So the inbox
``seq`` follows sequencing order and an inbox cursor never skips an item released later.

A batch may carry thousands of disclosures, so this is a constant number of statements
(SQLAlchemy Core executemany, no unit-of-work flush): read the disclosures' recipients,
set their indexes, insert the inbox items, read the recipients' webhooks, insert the
outbox rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeGuard, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from hub.delivery.outbox import enqueue_many
from hub.partners.models import Partner
from hub.sharing.models import Disclosure, InboxItem, new_id

_disclosures = cast(Table, Disclosure.__table__)
_inbox_items = cast(Table, InboxItem.__table__)


def released(disclosure: Disclosure | None) -> TypeGuard[Disclosure]:
    """True for a disclosure whose entry is sequenced: the only kind anyone may see."""
    return disclosure is not None and disclosure.ledger_index is not None


def release_disclosures(session: Session, refs: Sequence[tuple[str, int]]) -> None:
    """Give each disclosure its ledger index and deliver it (inside the sequencer batch)."""
    index_of = dict(refs)
    found = {
        row.id: row
        for row in session.execute(
            select(
                _disclosures.c.id,
                _disclosures.c.recipient_id,
                _disclosures.c.kind,
                _disclosures.c.created_at,
            ).where(_disclosures.c.id.in_(index_of))
        )
    }
    missing = index_of.keys() - found.keys()
    if missing:  # fail closed: the batch rolls back rather than log what it cannot release
        raise LookupError(f"{len(missing)} disclosure(s) to release are missing")
    session.execute(
        update(_disclosures)
        .where(_disclosures.c.id == bindparam("ref"))
        .values(ledger_index=bindparam("index")),
        [{"ref": ref, "index": index} for ref, index in refs],
    )
    for ref, index in refs:  # loaded objects (an inline append's caller) see the index too
        loaded = session.identity_map.get(identity_key(Disclosure, ref))
        if loaded is not None:
            set_committed_value(loaded, "ledger_index", index)
    items = []
    for ref, _index in refs:  # sequencing order, so inbox order follows the ledger
        row = found[ref]
        items.append(
            {
                "id": new_id(),
                "recipient_id": row.recipient_id,
                "disclosure_id": ref,
                "kind": row.kind,
                "created_at": row.created_at,
            }
        )
    session.execute(insert(_inbox_items), items)
    webhooks = _webhooks(session, {row.recipient_id for row in found.values()})
    enqueue_many(session, [(item["recipient_id"], item["id"]) for item in items], webhooks)


def _webhooks(session: Session, partner_ids: set[str]) -> dict[str, str | None]:
    """Each recipient's webhook URL (``None`` without one), in one read per batch.

    (The policy-counter cache of :mod:`hub.counters` does not apply here: the batch has
    written before it asks, and a cache built inside a writing transaction could outlive
    its rollback.)
    """
    query = select(Partner.id, Partner.webhook_url).where(Partner.id.in_(partner_ids))
    return {row.id: row.webhook_url for row in session.execute(query)}

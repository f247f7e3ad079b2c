"""Releasing a disclosure once its ledger entry is sequenced (no entry, no release).

The request that decides a disclosure commits it with ``ledger_index`` NULL and no inbox
item: nobody can see it. The sequencer batch that gives its entry an index calls
:func:`release_disclosures` in the same transaction, which records the index and only then
puts the disclosure in the recipient's inbox and, for a webhook, the outbox. So the inbox
``seq`` follows sequencing order and an inbox cursor never skips an item released later.

A batch may carry thousands of disclosures, so this is a constant number of statements,
none through the unit of work. On PostgreSQL one statement at the driver sets their
indexes, puts them in the inboxes and returns their recipients and the recipients'
webhooks; on SQLite a read, an UPDATE and an INSERT do the same. One more statement inserts
the outbox rows when a recipient takes webhooks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple, TypeGuard, cast

from sqlalchemy import (
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hub.db import on_postgres, pg_cursor
from hub.delivery.outbox import enqueue_many
from hub.partners.models import Partner
from hub.sharing.models import Disclosure, InboxItem, new_id

_disclosures = cast(Table, Disclosure.__table__)
_inbox_items = cast(Table, InboxItem.__table__)
_partners = cast(Table, Partner.__table__)


def released(disclosure: Disclosure | None) -> TypeGuard[Disclosure]:
    """True for a disclosure whose entry is sequenced: the only kind anyone may see."""
    return disclosure is not None and disclosure.ledger_index is not None


def release_disclosures(session: Session, refs: Sequence[tuple[str, int]]) -> None:
    """Give each disclosure its ledger index and deliver it (inside the sequencer batch)."""
    item_ids = [new_id() for _ in refs]
    if on_postgres(session):
        found = _release_postgres(session, refs, item_ids)
    else:
        found = _release_sqlite(session, refs, item_ids)
    if len(found) != len(refs):  # fail closed: the batch rolls back, nothing is released
        raise LookupError(f"{len(refs) - len(found)} disclosure(s) to release are missing")
    identity_map = session.identity_map
    for ref, index in refs:  # loaded objects (an inline append's caller) see the index too
        loaded = identity_map.get((Disclosure, (ref,), None))  # its identity key
        if loaded is not None:
            set_committed_value(loaded, "ledger_index", index)
    webhooks = {row.recipient_id: row.webhook_url for row in found.values()}
    deliveries = [
        (found[ref].recipient_id, item) for (ref, _), item in zip(refs, item_ids, strict=True)
    ]
    enqueue_many(session, deliveries, webhooks)


def _release_postgres(
    session: Session, refs: Sequence[tuple[str, int]], item_ids: list[str]
) -> dict[str, _Released]:
    """One statement at the driver, whatever the batch's size: set the indexes, put the
    items in the inboxes in sequencing order, and return what the outbox needs."""
    with pg_cursor(session) as cursor:
        cursor.execute(
            _PG_RELEASE,
            ([ref for ref, _ in refs], [index for _, index in refs], item_ids),
        )
        return {row[0]: _Released(*row) for row in cursor.fetchall()}


def _release_sqlite(
    session: Session, refs: Sequence[tuple[str, int]], item_ids: list[str]
) -> dict[str, _Released]:
    """SQLite's RETURNING cannot name a joined table: one read, one executemany UPDATE,
    one INSERT of the inbox items in sequencing order."""
    read = select(*_RETURNED).where(
        _disclosures.c.id.in_([ref for ref, _ in refs]),
        _partners.c.id == _disclosures.c.recipient_id,
    )
    found = {row.id: _Released(*row) for row in session.execute(read)}
    session.execute(
        update(_disclosures)
        .where(_disclosures.c.id == bindparam("ref"))
        .values(ledger_index=bindparam("index")),
        [{"ref": ref, "index": index} for ref, index in refs],
    )
    if len(found) == len(refs):
        items = [
            {
                "id": item_id,
                "recipient_id": found[ref].recipient_id,
                "disclosure_id": ref,
                "kind": found[ref].kind,
                "created_at": found[ref].created_at,
            }
            for (ref, _index), item_id in zip(refs, item_ids, strict=True)
        ]
        session.execute(insert(_inbox_items), items)
    return found


# The refs, their indexes and the new items' ids travel as three arrays; constant text.
# The inbox ``seq`` is assigned in the INSERT's ORDER BY: sequencing order.
_PG_RELEASE = (
    "WITH batch AS ("
    " SELECT * FROM unnest(%s::varchar[], %s::bigint[], %s::varchar[]) AS b (ref, idx, item)"
    "), released AS ("
    " UPDATE disclosures SET ledger_index = batch.idx FROM batch, partners"
    " WHERE disclosures.id = batch.ref AND partners.id = disclosures.recipient_id"
    " RETURNING disclosures.id, disclosures.recipient_id, disclosures.kind,"
    " disclosures.created_at, partners.webhook_url, batch.idx, batch.item"
    "), items AS ("
    " INSERT INTO inbox_items (id, recipient_id, disclosure_id, kind, created_at)"
    " SELECT item, recipient_id, id, kind, created_at FROM released ORDER BY idx"
    ") SELECT id, recipient_id, kind, created_at, webhook_url FROM released"
)


class _Released(NamedTuple):
    id: str
    recipient_id: str
    kind: str
    created_at: dt.datetime
    webhook_url: str | None


_RETURNED = (
    _disclosures.c.id,
    _disclosures.c.recipient_id,
    _disclosures.c.kind,
    _disclosures.c.created_at,
    _partners.c.webhook_url,
)

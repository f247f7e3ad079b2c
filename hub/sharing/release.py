"""Releasing a disclosure once its ledger entry is sequenced (no entry, no release).

The request that decides a disclosure commits it with ``ledger_index`` NULL and no inbox
item: nobody can see it. The sequencer batch that gives its entry an index calls
:func:`release_disclosures` in the same transaction, which records the index and only then
puts the disclosure in the recipient's inbox and, for a webhook, the outbox. So the inbox
``seq`` follows sequencing order and an inbox cursor never skips an item released later.

A batch may carry thousands of disclosures, so this is a constant number of statements
(SQLAlchemy Core, no unit-of-work flush): one UPDATE sets their indexes and returns their
recipients, kinds and the recipients' webhooks; one INSERT puts them in the inboxes; one
more inserts the outbox rows when a recipient takes webhooks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeGuard, cast

from sqlalchemy import (
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

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
    found = _set_indexes(session, refs)
    if len(found) != len(refs):  # fail closed: the batch rolls back, nothing is released
        raise LookupError(f"{len(refs) - len(found)} disclosure(s) to release are missing")
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
    webhooks = {row.recipient_id: row.webhook_url for row in found.values()}
    enqueue_many(session, [(item["recipient_id"], item["id"]) for item in items], webhooks)


def _set_indexes(session: Session, refs: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """Set each disclosure's index; its id, recipient, kind, time and recipient's webhook.

    PostgreSQL: one ``UPDATE .. FROM unnest(..) .. RETURNING`` at the driver. SQLite's
    RETURNING cannot name a joined table, so there: one read, then one executemany UPDATE.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw: Any = connection.connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(
                _PG_RELEASE, ([ref for ref, _ in refs], [index for _, index in refs])
            )
            return {row[0]: _Released(*row) for row in cursor.fetchall()}
    read = select(*_RETURNED).where(
        _disclosures.c.id.in_([ref for ref, _ in refs]),
        _partners.c.id == _disclosures.c.recipient_id,
    )
    found = {row.id: row for row in session.execute(read)}
    session.execute(
        update(_disclosures)
        .where(_disclosures.c.id == bindparam("ref"))
        .values(ledger_index=bindparam("index")),
        [{"ref": ref, "index": index} for ref, index in refs],
    )
    return found


# One statement whatever the batch's size (the refs travel as two arrays); constant text.
_PG_RELEASE = (
    "UPDATE disclosures SET ledger_index = released.idx "
    "FROM unnest(%s::varchar[], %s::bigint[]) AS released (ref, idx), partners "
    "WHERE disclosures.id = released.ref AND partners.id = disclosures.recipient_id "
    "RETURNING disclosures.id, disclosures.recipient_id, disclosures.kind, "
    "disclosures.created_at, partners.webhook_url"
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

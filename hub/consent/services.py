"""Record, withdraw and look up consent records (a session in, no commit)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.consent.models import ConsentRecordRow
from hub.errors import Conflict, NotFound, ValidationFailed
from hub.ledger import store
from hub.ledger.events import event_time, make_event
from hub.policy.consent import ConsentRecord


def view(row: ConsentRecordRow) -> dict[str, Any]:
    """A record as its sender sees it."""
    return {
        "id": row.id,
        "given_at": row.given_at.isoformat(),
        "purposes": list(row.purposes),
        "recipients": list(row.recipients),
        "explicit": row.explicit,
        "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
    }


# No record kept under the hub's regime can predate the Data Protection Act 1998's era; an
# earlier date is a typing error, not a consent.
EARLIEST_CONSENT = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)


def record(
    session: Session, sender: str, body: Mapping[str, Any], now: dt.datetime
) -> ConsentRecordRow:
    """Keep a new consent record for ``sender``; given no later than now, nor before 1990."""
    given_at = body.get("given_at") or now
    if given_at > now:
        raise ValidationFailed("given_at must not be in the future")
    if given_at < EARLIEST_CONSENT:
        raise ValidationFailed("given_at must not be before 1990-01-01")
    row = ConsentRecordRow(
        id=str(uuid.uuid4()),
        sender_id=sender,
        given_at=given_at,
        purposes=list(body["purposes"]),
        recipients=list(body["recipients"]),
        explicit=bool(body.get("explicit", False)),
        created_at=now,
    )
    session.add(row)
    session.flush()
    _log(session, row, "given", now)
    return row


def _log(session: Session, row: ConsentRecordRow, action: str, now: dt.datetime) -> None:
    """Put the record's keeping or withdrawal on the ledger: no personal data, actor-only."""
    event = make_event(
        "consent",
        {"partner": row.sender_id, "client": row.sender_id},
        time=now,
        record=row.id,
        action=action,
        purposes=list(row.purposes),
        scope_recipients=list(row.recipients),
        explicit=row.explicit,
        given_at=event_time(row.given_at),
    )
    store.append_entries(session, [event])


def get(session: Session, sender: str, record_id: str) -> ConsentRecordRow:
    """The sender's own record, or :class:`NotFound` (another's is not even acknowledged)."""
    row = session.get(ConsentRecordRow, record_id)
    if row is None or row.sender_id != sender:
        raise NotFound("no such consent record")
    return row


def withdraw(session: Session, sender: str, record_id: str, now: dt.datetime) -> ConsentRecordRow:
    """Record the withdrawal (UK GDPR Art 7(3)); every later message citing it is refused."""
    row = get(session, sender, record_id)
    if row.withdrawn_at is not None:
        raise Conflict("consent record already withdrawn")
    row.withdrawn_at = now
    session.flush()
    _log(session, row, "withdrawn", now)
    return row


def preload_cited(session: Session, bodies: Sequence[Any]) -> list[ConsentRecordRow]:
    """Read every record the ``bodies`` cite in one query, so :func:`cited_records` then
    finds each in the session (a batch of thousands costs one read, not one per item).

    Keep the returned list while deciding: the session holds its objects only weakly."""
    ids = set()
    for body in bodies:
        consent = body.get("consent") if isinstance(body, Mapping) else None
        record_id = consent.get("record") if isinstance(consent, Mapping) else None
        if isinstance(record_id, str):
            ids.add(record_id)
    if not ids:
        return []
    query = select(ConsentRecordRow).where(ConsentRecordRow.id.in_(sorted(ids)))
    return list(session.scalars(query))


def cited_records(
    session: Session, sender: str, body: Mapping[str, Any]
) -> dict[str, ConsentRecord]:
    """The record a message cites, as the engine's value (empty if it cites none).

    Never None: the hub keeps consent records, so the engine insists that a message relying
    on consent cites one (``consent_record_missing``).
    """
    consent = body.get("consent")
    record_id = consent.get("record") if isinstance(consent, Mapping) else None
    if not isinstance(record_id, str):
        return {}
    row = session.get(ConsentRecordRow, record_id)
    if row is None or row.sender_id != sender:
        return {}
    return {
        row.id: ConsentRecord(
            id=row.id,
            sender=row.sender_id,
            given_at=row.given_at,
            purposes=tuple(row.purposes),
            recipients=tuple(row.recipients),
            explicit=row.explicit,
            withdrawn_at=row.withdrawn_at,
        )
    }

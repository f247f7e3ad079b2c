"""Recording decisions: a disclosure (sealed payload, ledger entry, inbox item, outbox row)
or a refusal (ledger entry only), many at a time.

Everything a batch records is written in the caller's transaction, ledger entries included
(the disclosures, inbox items and outbox rows by SQLAlchemy Core executemany, not ORM flushes),
so a disclosure exists only together with its entry: if the ledger cannot be written the
transaction fails and nothing is released (fail closed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import JSON, Table, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from hub import counters as hub_counters
from hub.db import utcnow
from hub.delivery.outbox import enqueue_many
from hub.ledger import store
from hub.ledger.checkpoint import maybe_checkpoint, sign_checkpoint
from hub.ledger.events import check_field_names, draft_event, payload_digest
from hub.ledger.models import LedgerEntry
from hub.partners.models import Partner
from hub.policy import Decision
from hub.sharing.context import SharingContext
from hub.sharing.crypto import seal
from hub.sharing.models import Disclosure, InboxItem, new_id

_disclosures = cast(Table, Disclosure.__table__)
_inbox_items = cast(Table, InboxItem.__table__)


@dataclasses.dataclass
class Recorded:
    """One decision as recorded: the disclosure (when released) and its ledger index."""

    decision: Decision
    ledger_index: int
    leaf_hash: bytes = b""
    disclosure: Disclosure | None = None
    inbox_item: InboxItem | None = None
    # Set when this transaction signed a checkpoint (it then covers the entry).
    checkpoint_signed: bool = False
    # The appended row (its salts make the sender's receipt without reading it back).
    entry: LedgerEntry | None = None


@dataclasses.dataclass(frozen=True)
class Pending:
    """A decided message waiting to be recorded."""

    decision: Decision
    subjects: list[str]
    kind: str = "referral"
    alert_id: str | None = None
    justification: str | None = None


def payload_bytes(released: Any) -> bytes:
    """The released fields as sorted compact JSON: what is sealed and what is digested."""
    return json.dumps(dict(released), sort_keys=True, separators=(",", ":"), default=_iso).encode()


def _iso(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def record_all(
    session: Session, ctx: SharingContext, actor: dict[str, str], pending: Sequence[Pending]
) -> list[Recorded]:
    """Record every pending decision in order; one ledger append for the lot."""
    now = utcnow()
    events: list[dict[str, Any]] = []
    prepared: list[tuple[Pending, Disclosure | None]] = []
    for item in pending:
        if item.decision.allowed:
            disclosure, event = _prepare_disclosure(ctx, actor, item, now)
        else:
            disclosure, event = None, _refusal_event(actor, item)
        check_field_names(event, ctx.field_names)  # the structure: once, by append_entries
        events.append(event)
        prepared.append((item, disclosure))
    entries = store.append_entries(session, events)
    results = []
    released: list[Disclosure] = []
    for (item, disclosure), entry in zip(prepared, entries, strict=True):
        result = Recorded(item.decision, entry.index, bytes(entry.leaf_hash), entry=entry)
        if disclosure is not None:
            disclosure.ledger_index = entry.index
            result.disclosure = disclosure
            released.append(disclosure)
        results.append(result)
    inbox_items = _insert_released(session, released)
    for result in results:
        if result.disclosure is not None:
            result.inbox_item = inbox_items[result.disclosure.id]
    # MARAC referrals open or re-open a case in this same transaction (hub.marac.intake;
    # imported here because hub.marac builds on this module).
    from hub.marac.intake import take_in

    take_in(session, results)
    if entries and _checkpoint_if_due(session, ctx, entries[0].index, entries[-1].index + 1):
        for result in results:
            result.checkpoint_signed = True
    return results


def _prepare_disclosure(
    ctx: SharingContext, actor: dict[str, str], item: Pending, now: dt.datetime
) -> tuple[Disclosure, dict[str, Any]]:
    decision = item.decision
    disclosure_id = new_id()
    payload = payload_bytes(decision.released)
    sealed, wrapped = seal(ctx.master_key, payload, disclosure_id.encode())
    digest = payload_digest(payload)
    withheld = [{"field": w.field, "reason": str(w.reason)} for w in decision.withheld]
    event = draft_event(
        "disclosure",
        actor,
        ref=disclosure_id,
        kind=item.kind,
        correlation=item.alert_id,
        recipients=[decision.recipient],
        agreement=_agreement_ref(decision),
        basis=list(decision.basis),
        purpose=decision.purpose,
        justification=item.justification,
        subjects=item.subjects,
        fields_released=sorted(decision.released),
        fields_withheld=withheld,
        transforms=dict(decision.transforms) or None,
        consent=decision.consent_state,
        payload_digest=digest,
    )
    disclosure = Disclosure(
        id=disclosure_id,
        kind=item.kind,
        alert_id=item.alert_id,
        sender_id=decision.sender,
        recipient_id=decision.recipient,
        purpose=decision.purpose,
        agreement_id=decision.agreement_id,
        agreement_version=decision.agreement_version,
        agreement_digest=decision.agreement_digest,
        flow_index=decision.flow_index,
        basis=list(decision.basis),
        fields_released=sorted(decision.released),
        fields_withheld=withheld,
        transforms=dict(decision.transforms),
        opinion=list(decision.opinion),
        consent_state=decision.consent_state,
        consent_reason=decision.consent_reason,
        consent_record=decision.consent_record,
        subjects=item.subjects,
        ciphertext=sealed,
        wrapped_key=wrapped,
        master_key_id=ctx.master_key.key_id,
        payload_digest=digest,
        status="sent",
        outcome_id=None,
        answers_id=None,
        retention_until=now + dt.timedelta(days=decision.retention_days or 365),
        erased_at=None,
        erasure_reason=None,
        created_at=now,
        updated_at=now,
    )
    return disclosure, event


def _agreement_ref(decision: Decision) -> dict[str, str]:
    return {
        "id": str(decision.agreement_id),
        "version": str(decision.agreement_version),
        "digest": f"sha256:{decision.agreement_digest}",
    }


def _refusal_event(actor: dict[str, str], item: Pending) -> dict[str, Any]:
    decision = item.decision
    return draft_event(
        "refusal",
        actor,
        kind=item.kind,
        correlation=item.alert_id,
        recipients=[decision.recipient],
        agreement=_agreement_ref(decision) if decision.agreement_id else None,
        basis=list(decision.basis) or None,
        purpose=decision.purpose,
        subjects=item.subjects,
        fields_withheld=[{"field": w.field, "reason": str(w.reason)} for w in decision.withheld],
        reasons=sorted({str(r.reason) for r in decision.refusals}),
    )


def _insert_released(session: Session, released: list[Disclosure]) -> dict[str, InboxItem]:
    """Insert the disclosures, their inbox items and outbox rows: three executemany
    statements (SQLAlchemy Core, no unit-of-work flush), in foreign-key order.

    The disclosures are then attached to the session as persistent objects, so a caller
    that changes one (an outcome's ``answers_id``) has it updated at commit. The inbox
    items returned are not attached (their ``seq`` is the database's).
    """
    if not released:
        return {}
    if session.new or session.dirty:
        session.flush()  # rows the disclosures refer to (an alert) go first
    rows = [_row(disclosure) for disclosure in released]
    session.execute(insert(_disclosures), rows)
    items = {d.id: _inbox_item(d) for d in released}
    session.execute(insert(_inbox_items), [_row(item) for item in items.values()])
    webhooks = _webhooks(session, {d.recipient_id for d in released})
    enqueue_many(session, [(d.recipient_id, items[d.id].id) for d in released], webhooks)
    for disclosure in released:
        make_transient_to_detached(disclosure)
        session.add(disclosure)
    return items


def _row(instance: Disclosure | InboxItem) -> dict[str, Any]:
    """Every column of a new object, as Core inserts it (unset columns as ``None``).

    A JSON column left ``None`` is left out, so it is SQL NULL as the ORM would store it
    (Core would write JSON ``null``)."""
    state = instance.__dict__
    return {
        column.key: state.get(column.key)
        for column in instance.__table__.columns
        if (column.key in state or not column.primary_key)
        and not (isinstance(column.type, JSON) and state.get(column.key) is None)
    }


def _inbox_item(disclosure: Disclosure) -> InboxItem:
    """The recipient's inbox item for ``disclosure`` (its ``seq`` comes from the insert)."""
    return InboxItem(
        id=new_id(),
        recipient_id=disclosure.recipient_id,
        disclosure_id=disclosure.id,
        kind=disclosure.kind,
        notice=None,
        created_at=disclosure.created_at,
    )


_WEBHOOKS: dict[hub_counters.Stamp, dict[str, str | None]] = {}


def _webhooks(session: Session, partner_ids: set[str]) -> dict[str, str | None]:
    """Each recipient's webhook URL (``None`` without one).

    Partner rows move the policy counter (:mod:`hub.counters`), so the URLs of every
    partner are read once per counter value, not once per referral.
    """
    counters = hub_counters.current(session)
    cached = None if counters is None else _WEBHOOKS.get(counters.policy)
    if cached is None:
        query = select(Partner.id, Partner.webhook_url)
        cached = {row.id: row.webhook_url for row in session.execute(query)}
        if counters is not None:
            _WEBHOOKS.clear()
            _WEBHOOKS[counters.policy] = cached
    return {pid: cached.get(pid) for pid in partner_ids}


_time_rule_checked = [0.0]  # monotonic time this process last evaluated the T rule


def _checkpoint_if_due(session: Session, ctx: SharingContext, first: int, size: int) -> bool:
    """Apply the N-entries-or-T-seconds checkpoint policy; True if a checkpoint was signed.

    The head lock is held until commit, so the common case must cost no query: the N rule
    is arithmetic on the indexes just appended (a multiple of N was crossed), and the T rule
    (which queries) is evaluated at most once per interval per process. ``hub worker`` also
    applies the T rule when nobody is appending.
    """
    if ctx.signing_key is None:
        return False
    settings = ctx.settings
    if first // settings.checkpoint_every != size // settings.checkpoint_every:
        sign_checkpoint(session, ctx.signing_key, settings.log_origin)
        return True
    now = time.monotonic()
    if now - _time_rule_checked[0] < settings.checkpoint_interval:
        return False
    _time_rule_checked[0] = now
    signed = maybe_checkpoint(
        session,
        ctx.signing_key,
        settings.log_origin,
        every=settings.checkpoint_every,
        interval=settings.checkpoint_interval,
    )
    return signed is not None

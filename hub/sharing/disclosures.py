"""Recording decisions: a disclosure (sealed payload, ledger entry, inbox item, outbox row)
or a refusal (ledger entry only), many at a time.

Everything a batch records is written in the caller's transaction, ledger entries included
(as unsequenced entries; the disclosures by SQLAlchemy Core executemany, not ORM flushes), so
a disclosure exists only together with its entry: if the ledger cannot be written the
transaction fails and nothing is released (fail closed). The inbox item and outbox row are
created by the sequencer batch that gives the entry its index (:mod:`hub.sharing.release`);
until then the disclosure's ``ledger_index`` is NULL and it is invisible.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from hub.counters import note_write
from hub.db import built, execute_rows, on_postgres, pg_cursor, utcnow
from hub.ledger import store
from hub.ledger.events import check_field_names, draft_event, payload_digest
from hub.ledger.models import LedgerEntry
from hub.policy import Decision
from hub.sharing.context import SharingContext
from hub.sharing.crypto import seal
from hub.sharing.models import Disclosure, new_id

_disclosures = cast(Table, Disclosure.__table__)


@dataclasses.dataclass
class Recorded:
    """One decision as recorded: the disclosure (when released) and its ledger entry.

    With ``record_all(..., deferred=True)`` the entry's index (and the disclosure's
    ``ledger_index``) is known only once the caller's commit has returned.
    """

    decision: Decision
    entry: LedgerEntry
    disclosure: Disclosure | None = None

    @property
    def ledger_index(self) -> int:
        if self.entry.index is None:
            raise RuntimeError("the entry is not sequenced yet: commit first")
        return self.entry.index

    @property
    def leaf_hash(self) -> bytes:
        return bytes(self.entry.leaf_hash)


@dataclasses.dataclass(frozen=True)
class Pending:
    """A decided message waiting to be recorded."""

    decision: Decision
    subjects: list[str]
    kind: str = "referral"
    alert_id: str | None = None
    justification: str | None = None


def settled(results: Sequence[Recorded]) -> None:
    """After a deferred ``record_all``'s commit: copy each entry's index to its disclosure.

    The sequencer wrote ``ledger_index`` in its own transaction; this sets the loaded
    objects to match without marking them changed.
    """
    for result in results:
        if result.disclosure is not None:
            set_committed_value(result.disclosure, "ledger_index", result.ledger_index)


def payload_bytes(released: Any) -> bytes:
    """The released fields as sorted compact JSON: what is sealed and what is digested."""
    return json.dumps(dict(released), sort_keys=True, separators=(",", ":"), default=_iso).encode()


def _iso(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def record_all(
    session: Session,
    ctx: SharingContext,
    actor: dict[str, str],
    pending: Sequence[Pending],
    *,
    deferred: bool = False,
) -> list[Recorded]:
    """Record every pending decision in order; one ledger append for the lot.

    ``deferred`` (the request hot path): the entries are sequenced after the caller
    commits (see :func:`hub.ledger.store.append_entries`); otherwise in this transaction.
    """
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
    disclosures = [d for _, d in prepared if d is not None]
    _insert_disclosures(session, disclosures)  # invisible until their entries release them
    # A MARAC referral opens or re-opens a case in this same transaction (hub.marac.intake;
    # imported here because hub.marac builds on this module). The case must not show a
    # disclosure before it is released, so a batch with one is sequenced here, not deferred.
    from hub.marac.intake import take_in, takes_in

    if deferred and takes_in(session, disclosures):
        deferred = False
    releases = [None if d is None else f"disclosure:{d.id}" for _, d in prepared]
    entries = store.append_entries(session, events, deferred=deferred, release=releases)
    results = [
        Recorded(item.decision, entry, disclosure)
        for (item, disclosure), entry in zip(prepared, entries, strict=True)
    ]
    take_in(session, results)
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
    disclosure = built(
        Disclosure,
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


_COLUMNS = tuple(column.key for column in _disclosures.columns)


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


def _insert_disclosures(session: Session, disclosures: list[Disclosure]) -> None:
    """Insert the disclosures in one executemany (SQLAlchemy Core, no unit-of-work flush).

    They are then attached to the session as persistent objects, so a caller that changes
    one (an outcome's ``answers_id``) has it updated at commit, and the sequencer batch
    that releases them finds them in the identity map.
    """
    if not disclosures:
        return
    if session.new or session.dirty:
        session.flush()  # rows the disclosures refer to (an alert) go first
    if on_postgres(session):
        note_write(session)
        with pg_cursor(session) as cursor:
            if len(disclosures) >= COPY_FROM:
                _copy_disclosures(cursor, disclosures)
            else:
                execute_rows(cursor, _PG_INSERT, [_driver_row(d) for d in disclosures])
    else:
        session.execute(insert(_disclosures), [_row(disclosure) for disclosure in disclosures])
    for disclosure in disclosures:
        make_transient_to_detached(disclosure)
        session.add(disclosure)


# On PostgreSQL the disclosures go in at the driver: from this many (a batch's chunk) by
# COPY, with no per-row parameters (a quarter of a large batch's time went there), else
# by one constant INSERT (a single referral: a third of SQLAlchemy's CPU for the same row).
COPY_FROM = 64
_JSON_COLUMNS = frozenset(c.key for c in _disclosures.columns if isinstance(c.type, JSON))
_COPY = f"COPY disclosures ({', '.join(_COLUMNS)}) FROM STDIN"
_PG_INSERT = (
    f"INSERT INTO disclosures ({', '.join(_COLUMNS)}) "  # noqa: S608 (constant text)
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
)


def _copy_disclosures(cursor: Any, disclosures: list[Disclosure]) -> None:
    """The rows of :func:`_driver_row`, by COPY."""
    with cursor.copy(_COPY) as copy:
        for disclosure in disclosures:
            copy.write_row(_driver_row(disclosure))


def _driver_row(disclosure: Disclosure) -> list[Any]:
    """The row :func:`_row` would insert, as psycopg sends it: a JSON value as the JSON text
    SQLAlchemy's JSON type would send, and None as SQL NULL, as the ORM would store it."""
    state = disclosure.__dict__
    return [
        json.dumps(value) if key in _JSON_COLUMNS and value is not None else value
        for key in _COLUMNS
        for value in (state.get(key),)
    ]


def _row(instance: Any) -> dict[str, Any]:
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

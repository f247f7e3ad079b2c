"""Sending referrals: one at a time (with an idempotency key) or in bulk.

Each message is decided on its own by the policy engine and recorded on its own ledger
entry; a refusal is recorded too (HM Government advice: record the decision and the
reason whether you share or not). The use case owns its transaction.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.agreements.services import LivePolicy, live_policy
from hub.consent.services import cited_records, preload_cited
from hub.db import utcnow
from hub.errors import Conflict, HubError, field_pointer, problem_body
from hub.ledger import sequencer, settling
from hub.ledger.access import Reader
from hub.ledger.service import receipt, with_proof
from hub.policy import Decision, RequestValidationError, decide
from hub.policy.consent import ConsentRecord
from hub.sharing.context import SharingContext
from hub.sharing.disclosures import Pending, Recorded, record_all, settled
from hub.sharing.models import IdempotencyRecord
from hub.sharing.subjects import subject_commitments

BATCH_LIMIT = 10_000
_CHUNK = 500  # messages per transaction in a batch: bounded locks and memory


class PolicyRefused(HubError):
    """Nothing may be shared; ``reasons`` say why (codes and texts without values)."""

    problem = "policy-refused"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """An HTTP-shaped result a view returns as is (and an idempotent retry replays)."""

    status: int
    body: dict[str, Any]


def actor_for(partner_id: str) -> dict[str, str]:
    """The ledger actor for a partner system acting through its OAuth client."""
    return {"partner": partner_id, "client": partner_id}


def decide_message(
    policy: LivePolicy,
    ctx: SharingContext,
    sender: str,
    body: Mapping[str, Any],
    consent_records: Mapping[str, ConsentRecord],
) -> Decision:
    """Decide one message as ``sender`` (``from`` is never taken from the body).

    ``consent_records``: the consent record the message cites (``cited_records``; empty if it
    cites none, so a message relying on consent without a record is refused, UK GDPR Art 7(1)).
    """
    request = {k: v for k, v in body.items() if k not in {"from", "client_ref"}}
    request["from"] = sender
    return decide(
        request,
        policy.agreements,
        policy.catalogues,
        policy.partners,
        utcnow(),
        keyed_hash_secret=ctx.keyed_hash_secret,
        consent_records=consent_records,
    )


def pending_for(
    ctx: SharingContext,
    decision: Decision,
    body: Mapping[str, Any],
    kind: str = "referral",
    alert_id: str | None = None,
) -> Pending:
    """A decided message with the subject commitments of its identifiers."""
    return Pending(
        decision=decision,
        subjects=subject_commitments(ctx.subject_secret, body.get("data") or {}),
        kind=kind,
        alert_id=alert_id,
    )


def created_body(session: Session, recorded: Recorded) -> dict[str, Any]:
    """The 201 body: what left, what was held back and why, and the ledger receipt."""
    return {**_created_members(recorded), "receipt": fresh_receipt(session, recorded)}


def _created_members(recorded: Recorded) -> dict[str, Any]:
    decision = recorded.decision
    assert recorded.disclosure is not None
    return {
        "id": recorded.disclosure.id,
        "status": recorded.disclosure.status,
        "to": decision.recipient,
        "released": sorted(decision.released),
        "transforms": dict(decision.transforms),
        "opinion": list(decision.opinion),
        "withheld": [{"field": w.field, "reason": str(w.reason)} for w in decision.withheld],
        "agreement": {
            "id": decision.agreement_id,
            "version": decision.agreement_version,
            "digest": f"sha256:{decision.agreement_digest}",
        },
        "basis": list(decision.basis),
    }


def refused_body(decision: Decision, ledger_index: int) -> dict[str, Any]:
    """The 403 problem: every reason, and where the refusal sits on the ledger."""
    return {**_refused_members(decision), "ledger_index": ledger_index}


def _refused_members(decision: Decision) -> dict[str, Any]:
    return problem_body(
        403,
        f"Nothing may be shared with {decision.recipient} for {decision.purpose}; see reasons.",
        problem="policy-refused",
        reasons=[{"reason": str(r.reason), "detail": r.detail} for r in decision.refusals],
    )


def fresh_receipt(session: Session, recorded: Recorded) -> dict[str, Any]:
    """The receipt for an entry sequenced just now, without re-reading the entry.

    It is the sender's (the actor's) view of its entry, with proof and checkpoint when a
    checkpoint covers it already; otherwise those come later from
    ``GET /api/v1/referrals/{id}`` or ``/api/v1/log``.
    """
    return with_proof(
        session,
        recorded.entry,
        Reader(recorded.decision.sender),
        checkpointed=session.info.get(sequencer.CHECKPOINTED),
    )


def request_digest(body: Mapping[str, Any]) -> str:
    """SHA-256 of the body's sorted JSON: the same key with another body is a conflict."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def send_referral(
    session: Session,
    ctx: SharingContext,
    sender: str,
    body: Mapping[str, Any],
    idempotency_key: str | None = None,
) -> Outcome:
    """Decide, record and deliver one referral; replay the first answer to a retried key.

    Raises :class:`RequestValidationError` (422) before anything is recorded.
    """
    digest = request_digest(body)
    if idempotency_key:
        replay = _replay(session, sender, idempotency_key, digest)
        if replay is not None:
            return replay
    policy = live_policy(session, ctx.catalogues)
    decision = decide_message(policy, ctx, sender, body, cited_records(session, sender, body))
    (recorded,) = record_all(
        session, ctx, actor_for(sender), [pending_for(ctx, decision, body)], deferred=True
    )
    record = None
    if idempotency_key:
        record = IdempotencyRecord(
            partner_id=sender,
            key=idempotency_key,
            request_digest=digest,
            status_code=201 if recorded.disclosure is not None else 403,
            response=json.dumps(_unsequenced_body(recorded)),
            pending_entry=recorded.entry.pending_id,
        )
        session.add(record)
    try:
        session.commit()  # returns once the entry is sequenced (hub.db.HubSession)
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as it did.
        session.rollback()
        replay = _replay(session, sender, idempotency_key or "", digest)
        if replay is None:
            raise
        return replay
    settled([recorded])
    if recorded.disclosure is not None:
        return Outcome(201, created_body(session, recorded))
    return Outcome(403, refused_body(decision, recorded.ledger_index))


def _unsequenced_body(recorded: Recorded) -> dict[str, Any]:
    """The answer without what needs the ledger index (a replay adds it back)."""
    if recorded.disclosure is not None:
        return _created_members(recorded)
    return _refused_members(recorded.decision)


def _replay(session: Session, sender: str, key: str, digest: str) -> Outcome | None:
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.partner_id == sender, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_digest != digest:
        raise Conflict(
            "This Idempotency-Key was used with a different request body; use a new key."
        )
    body = json.loads(record.response)
    if record.pending_entry is not None:
        index = settling.index_of(session, record.pending_entry)
        if record.status_code == 201:
            body["receipt"] = receipt(session, index, Reader(sender))
        else:
            body["ledger_index"] = index
    return Outcome(record.status_code, body)


def send_batch(
    session: Session,
    ctx: SharingContext,
    sender: str,
    items: Sequence[Any],
    rejected: Mapping[int, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """Decide and record each referral on its own; one result per item, in order.

    ``rejected`` maps the index of each item the API schema refused to its pointer errors.
    Those items, and items that fail the field catalogue, get a 422 result and no ledger
    entry (they are not decisions); the rest are recorded in transactions of a few hundred.
    """
    if len(items) > BATCH_LIMIT:
        raise HubError(f"at most {BATCH_LIMIT} referrals per batch", problem="payload-too-large")
    policy = live_policy(session, ctx.catalogues)
    results: list[dict[str, Any]] = []
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        recorded, finish = _send_chunk(session, ctx, policy, sender, start, chunk, rejected or {})
        session.commit()  # returns once the chunk's entries are sequenced
        settled(recorded)
        results.extend(finish())
    return results


def _send_chunk(
    session: Session,
    ctx: SharingContext,
    policy: LivePolicy,
    sender: str,
    offset: int,
    chunk: Sequence[Any],
    rejected: Mapping[int, list[dict[str, Any]]],
) -> tuple[list[Recorded], Callable[[], list[dict[str, Any]]]]:
    """Record the chunk (deferred); returns what was recorded and how to build the results
    once the caller's commit has sequenced it."""
    results: dict[int, dict[str, Any]] = {}
    pending: list[tuple[int, Pending]] = []
    # Only items that passed validation: a rejected item's consent record id may be
    # anything (a NUL byte, which PostgreSQL refuses in a query parameter).
    valid = [body for number, body in enumerate(chunk, start=offset) if number not in rejected]
    held = preload_cited(session, valid)  # noqa: F841 - kept alive for session.get
    for number, body in enumerate(chunk, start=offset):
        if number in rejected:
            results[number] = _rejected_item(number, body, rejected[number])
            continue
        try:
            decision = decide_message(
                policy, ctx, sender, body, cited_records(session, sender, body)
            )
        except RequestValidationError as exc:
            results[number] = _invalid_item(number, body, exc)
            continue
        pending.append((number, pending_for(ctx, decision, body)))
    recorded = record_all(session, ctx, actor_for(sender), [p for _, p in pending], deferred=True)

    def finish() -> list[dict[str, Any]]:
        for (number, _), item in zip(pending, recorded, strict=True):
            base = {"index": number, "client_ref": chunk[number - offset].get("client_ref")}
            if item.disclosure is not None:
                results[number] = {**base, "status": 201, **_brief(item)}
            else:
                results[number] = {
                    **base,
                    "status": 403,
                    "problem": refused_body(item.decision, item.ledger_index),
                }
        return [results[n] for n in sorted(results)]

    return recorded, finish


def _brief(recorded: Recorded) -> dict[str, Any]:
    """The per-item batch result: id, what was withheld, the ledger index (receipt later)."""
    assert recorded.disclosure is not None
    return {
        "id": recorded.disclosure.id,
        "released": sorted(recorded.decision.released),
        "withheld": [
            {"field": w.field, "reason": str(w.reason)} for w in recorded.decision.withheld
        ],
        "ledger_index": recorded.ledger_index,
    }


def _rejected_item(
    number: int, body: Mapping[str, Any], errors: list[dict[str, Any]]
) -> dict[str, Any]:
    """The 422 result of an item whose envelope the API schema refused."""
    return {
        "index": number,
        "client_ref": body.get("client_ref"),
        "status": 422,
        "problem": problem_body(
            422,
            "The item does not match the API schema; see errors.",
            problem="validation",
            errors=errors,
        ),
    }


def _invalid_item(
    number: int, body: Mapping[str, Any], exc: RequestValidationError
) -> dict[str, Any]:
    return {
        "index": number,
        "client_ref": body.get("client_ref"),
        "status": 422,
        "problem": problem_body(
            422,
            "The message does not match the field catalogue; see errors.",
            problem="validation",
            errors=[
                {
                    "pointer": field_pointer(p.field, f"/items/{number}"),
                    "code": p.code,
                    "detail": p.detail,
                }
                for p in exc.problems
            ],
        ),
    }

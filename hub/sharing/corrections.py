"""Corrections and erasure: the sender rectifies or withdraws what it shared.

UK GDPR Art 16 (rectification) and Art 17 (erasure) bind the sender as controller, and
Art 19 makes it tell every recipient of the data about each rectification or erasure. The
hub does that for it: each correction or withdrawal puts a notice (field *names*, a reason
code and the ledger index, never a value) in the recipient's inbox and on its webhook.

Erasure is crypto-shredding: the payload's wrapped data key and its ciphertext are set to
NULL, so nothing can decrypt it again, and an ``erasure`` entry is appended. The ledger
holds only names, digests and subject commitments, so no entry changes and every receipt,
inclusion and consistency proof issued before stays valid (docs/architecture.md). A correction seals
the corrected payload under a *new* data key, which destroys the inaccurate version the
same way. Both are logged as DPA 2018 s62 "alteration" and "erasure" records.

Each disclosure has exactly one recipient (an alert fans out into one disclosure per
recipient), so corrections and withdrawals are per disclosure id; a sender that shared the
same person's data several times corrects each disclosure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from hub.agreements.services import live_policy
from hub.consent.services import cited_records
from hub.db import utcnow
from hub.delivery.outbox import enqueue
from hub.errors import Conflict, NotFound, ValidationFailed, field_pointer
from hub.ledger import store
from hub.ledger.access import Reader
from hub.ledger.checkpoint import maybe_checkpoint
from hub.ledger.events import make_event, payload_digest, refusal_event, validate_event
from hub.ledger.service import receipt
from hub.partners.models import Partner
from hub.policy import Decision
from hub.sharing.context import SharingContext
from hub.sharing.crypto import seal
from hub.sharing.disclosures import payload_bytes
from hub.sharing.models import Disclosure, InboxItem, new_id
from hub.sharing.referrals import PolicyRefused, actor_for, decide_message
from hub.sharing.release import released
from hub.sharing.subjects import subject_commitments
from hub.sharing.views import released_data

# Art 16 grounds a sender gives for a correction (codes only: the ledger is public).
CORRECTION_REASONS = ("inaccurate", "incomplete", "out_of_date", "rectification_request")
# Art 17 grounds for a withdrawal; ``retention_expired`` is the hub's own (hub.sharing.retention).
WITHDRAWAL_REASONS = (
    "erasure_request",
    "sent_in_error",
    "consent_withdrawn",
    "objection_upheld",
    "no_longer_necessary",
    "unlawfully_shared",
)
RETENTION_EXPIRED = "retention_expired"
MAX_SUBJECTS = 16  # the ledger's limit on subject commitments per entry


@dataclasses.dataclass(frozen=True)
class Erased:
    """One erased disclosure, its ``erasure`` ledger index and the recipient's notice."""

    disclosure: Disclosure
    ledger_index: int
    notice: InboxItem


def correct_disclosure(
    session: Session,
    ctx: SharingContext,
    sender: str,
    disclosure_id: str,
    body: Mapping[str, Any],
) -> dict[str, Any]:
    """Rectify released fields (Art 16) and notify the recipient (Art 19).

    ``body`` is ``{data, reason, consent?, justification?}``. Only fields the original
    decision released may be corrected (a correction is not a way to share more). The new
    values are decided afresh under the flow now in force for the same sender, recipient
    and purpose, with the original consent (state and reason) unless ``consent`` is given; a
    refusal is
    recorded on the ledger and raised as :class:`PolicyRefused`. Raises
    :class:`ValidationFailed` (422), :class:`NotFound` (not the caller's) or
    :class:`Conflict` (erased, or nothing changes). Owns its transaction.
    """
    disclosure = _own_disclosure(session, sender, disclosure_id)
    if disclosure.erased_at is not None:
        raise Conflict(f"referral {disclosure.id} was erased; send a new referral instead")
    changes = dict(body["data"])
    _check_correctable(disclosure, changes)
    request = _request(disclosure, body)
    decision = decide_message(
        live_policy(session, ctx.catalogues),
        ctx,
        sender,
        request,
        cited_records(session, sender, request),
    )
    if not decision.allowed or decision.withheld:
        _refuse(session, ctx, sender, disclosure, decision)
    current = released_data(ctx.master_key, disclosure)
    if current is None:
        raise Conflict(f"the payload of referral {disclosure.id} cannot be read; withdraw it")
    changed = sorted(
        name for name, value in decision.released.items() if current.get(name) != value
    )
    if not changed:
        raise Conflict("the correction changes no released value; nothing was recorded")
    payload = payload_bytes({**current, **decision.released})
    digest = payload_digest(payload)
    subjects = _corrected_subjects(ctx, disclosure, current, changes)
    event = make_event(
        "correction",
        actor_for(sender),
        ref=disclosure.id,
        reason=body["reason"],
        entry=disclosure.ledger_index,
        recipients=[disclosure.recipient_id],
        fields=changed,
        payload_digest=digest,
        subjects=subjects,
    )
    validate_event(event, ctx.field_names)
    (entry,) = store.append_entries(session, [event])
    # A new data key: the old wrapped key is overwritten, so the inaccurate version is
    # shredded exactly as an erasure would shred it.
    disclosure.ciphertext, disclosure.wrapped_key = seal(
        ctx.master_key, payload, disclosure.id.encode()
    )
    disclosure.master_key_id = ctx.master_key.key_id
    disclosure.payload_digest = digest
    disclosure.subjects = subjects
    disclosure.transforms = {
        **{n: t for n, t in disclosure.transforms.items() if n not in decision.released},
        **decision.transforms,
    }
    disclosure.opinion = sorted(
        {n for n in disclosure.opinion or [] if n not in decision.released} | set(decision.opinion)
    )
    disclosure.updated_at = utcnow()
    notice = {"reason": body["reason"], "fields": changed, "ledger_index": entry.index}
    _notify(session, disclosure, "correction", notice)
    session.flush()
    checkpoint_if_due(session, ctx)
    result = {
        "id": disclosure.id,
        "status": disclosure.status,
        "reason": body["reason"],
        "corrected": changed,
        "payload_digest": digest,
        "ledger_index": entry.index,
        "notified": [disclosure.recipient_id],
        "receipt": receipt(session, entry.index, Reader(sender)),
    }
    session.commit()
    return result


def withdraw_disclosure(
    session: Session, ctx: SharingContext, sender: str, disclosure_id: str, reason: str
) -> dict[str, Any]:
    """Withdraw a referral: erase its payload (Art 17) and notify the recipient (Art 19).

    Outcomes the recipient already sent back are its own disclosures and stay. Raises
    :class:`NotFound` (not the caller's) or :class:`Conflict` (already erased). Owns its
    transaction.
    """
    disclosure = _own_disclosure(session, sender, disclosure_id)
    if disclosure.erased_at is not None:
        raise Conflict(f"referral {disclosure.id} was already erased ({disclosure.erasure_reason})")
    (erased,) = erase_disclosures(
        session, ctx, actor_for(sender), [disclosure], reason, status="withdrawn"
    )
    result = {
        "id": disclosure.id,
        "status": disclosure.status,
        "erased": True,
        "reason": reason,
        "ledger_index": erased.ledger_index,
        "notified": [disclosure.recipient_id],
        "receipt": receipt(session, erased.ledger_index, Reader(sender)),
    }
    session.commit()
    return result


def erase_disclosures(
    session: Session,
    ctx: SharingContext,
    actor: Mapping[str, str],
    disclosures: Sequence[Disclosure],
    reason: str,
    *,
    status: str | None = None,
) -> list[Erased]:
    """Crypto-shred each payload, log an ``erasure`` entry each, notify each recipient.

    Runs in the caller's transaction (flushes, never commits): the shredding and its
    ledger entries commit together or not at all. The caller has locked the rows and
    checked none is erased yet.
    """
    events = []
    for disclosure in disclosures:
        event = make_event(
            "erasure",
            actor,
            ref=disclosure.id,
            reason=reason,
            entry=disclosure.ledger_index,
            payload_digest=disclosure.payload_digest,
            key_destroyed=True,
            subjects=list(disclosure.subjects),
            recipients=[disclosure.recipient_id],
        )
        validate_event(event, ctx.field_names)
        events.append(event)
    entries = store.append_entries(session, events)
    now = utcnow()
    erased = []
    for disclosure, entry in zip(disclosures, entries, strict=True):
        disclosure.ciphertext = None
        disclosure.wrapped_key = None
        disclosure.erased_at = now
        disclosure.erasure_reason = reason
        disclosure.updated_at = now
        if status is not None:
            disclosure.status = status
        notice = _notify(
            session, disclosure, "erasure", {"reason": reason, "ledger_index": entry.index}
        )
        erased.append(Erased(disclosure, entry.index, notice))
    session.flush()
    checkpoint_if_due(session, ctx)
    return erased


def checkpoint_if_due(session: Session, ctx: SharingContext) -> None:
    """Apply the N-entries-or-T-seconds checkpoint policy inside this transaction."""
    if ctx.signing_key is not None:
        maybe_checkpoint(
            session,
            ctx.signing_key,
            ctx.settings.log_origin,
            every=ctx.settings.checkpoint_every,
            interval=ctx.settings.checkpoint_interval,
        )


def _own_disclosure(session: Session, sender: str, disclosure_id: str) -> Disclosure:
    """The caller's own disclosure, row-locked; 404 for anyone else, recipient included."""
    disclosure = session.get(Disclosure, disclosure_id, with_for_update=True)
    if not released(disclosure) or disclosure.sender_id != sender:
        raise NotFound("no such referral sent by you")
    return disclosure


def _check_correctable(disclosure: Disclosure, changes: Mapping[str, Any]) -> None:
    """422 unless every field was released by the original decision (names only)."""
    released = set(disclosure.fields_released)
    extra = sorted(name for name in changes if name not in released)
    if not changes or extra:
        raise ValidationFailed(
            "A correction may change only fields the original disclosure released; see errors.",
            errors=[
                {
                    "pointer": field_pointer(name),
                    "code": "not_released",
                    "detail": "was not released by the original disclosure",
                }
                for name in extra
            ]
            or [{"pointer": "#/data", "code": "empty", "detail": "names no field to correct"}],
        )


def _request(disclosure: Disclosure, body: Mapping[str, Any]) -> dict[str, Any]:
    """The message to decide: the changed fields, to the same recipient and purpose."""
    request: dict[str, Any] = {
        "to": disclosure.recipient_id,
        "purpose": disclosure.purpose,
        "data": dict(body["data"]),
        "consent": body.get("consent") or _original_consent(disclosure),
    }
    if body.get("justification"):
        request["justification"] = body["justification"]
    if body.get("subject"):
        request["subject"] = body["subject"]
    return request


def _original_consent(disclosure: Disclosure) -> dict[str, str]:
    """The consent the original was decided on (state, the reason if not sought, the record).

    A withdrawn record then refuses the correction (UK GDPR Art 7(3)), as it would a new
    message.
    """
    consent = {"state": disclosure.consent_state}
    if disclosure.consent_reason:
        consent["reason"] = disclosure.consent_reason
    if disclosure.consent_record:
        consent["record"] = disclosure.consent_record
    return consent


def _refuse(
    session: Session,
    ctx: SharingContext,
    sender: str,
    disclosure: Disclosure,
    decision: Decision,
) -> None:
    """Record the refused correction (decisions are logged either way), then raise 403."""
    reasons = [{"reason": str(r.reason), "detail": r.detail} for r in decision.refusals]
    reasons += [
        {"reason": str(w.reason), "field": w.field, "detail": w.detail} for w in decision.withheld
    ]
    agreement = None
    if decision.agreement_id:
        agreement = {
            "id": str(decision.agreement_id),
            "version": str(decision.agreement_version),
            "digest": f"sha256:{decision.agreement_digest}",
        }
    event = refusal_event(
        actor_for(sender),
        kind="correction",
        correlation=disclosure.id,
        recipients=[disclosure.recipient_id],
        agreement=agreement,
        basis=list(decision.basis) or None,
        purpose=disclosure.purpose,
        subjects=list(disclosure.subjects),
        fields_withheld=[{"field": w.field, "reason": str(w.reason)} for w in decision.withheld],
        reasons=sorted({r["reason"] for r in reasons}),
    )
    validate_event(event, ctx.field_names)
    (entry,) = store.append_entries(session, [event])
    session.commit()
    raise PolicyRefused(
        f"The correction may not be shared with {disclosure.recipient_id} for "
        f"{disclosure.purpose}; see reasons. Withdraw the referral if it must not stand.",
        reasons=reasons,
        ledger_index=entry.index,
    )


def _corrected_subjects(
    ctx: SharingContext,
    disclosure: Disclosure,
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
) -> list[str]:
    """Earlier commitments plus those of the corrected identifiers.

    The earlier ones stay so that a DPO still finds the disclosure under the identifiers
    it was first sent with (Art 15). Transformed values (e.g. initials) are not
    identifiers and are left out.
    """
    plain = {n: v for n, v in current.items() if n not in disclosure.transforms}
    found = set(disclosure.subjects) | set(
        subject_commitments(ctx.subject_secret, {**plain, **changes})
    )
    if len(found) > MAX_SUBJECTS:
        raise Conflict(
            f"referral {disclosure.id} has had its identifiers corrected too often; "
            "withdraw it and send a new referral"
        )
    return sorted(found)


def _notify(
    session: Session, disclosure: Disclosure, kind: str, notice: dict[str, Any]
) -> InboxItem:
    """The Art 19 notice: an inbox item for the recipient and, with a webhook, a push."""
    item = InboxItem(
        id=new_id(),
        recipient_id=disclosure.recipient_id,
        disclosure_id=disclosure.id,
        kind=kind,
        notice=notice,
        created_at=utcnow(),
    )
    session.add(item)
    enqueue(session, session.get_one(Partner, disclosure.recipient_id), item)
    return item

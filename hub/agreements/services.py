"""Agreement use cases: load from git into the database, build the live policy, dry-run.

The live policy is rebuilt from database rows on every use and checked again by the pure
engine (:mod:`hub.policy`): signatures against the partners' *currently* registered keys,
validator rules against the current catalogues, dates against now. A cache keyed by the
policy counter (:mod:`hub.counters`, moved by a trigger on every change to those rows)
keeps that cheap without ever trusting a stale answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import rfc8785
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import counters as hub_counters
from hub.agreements.models import AgreementRecord
from hub.consent.services import cited_records
from hub.db import utcnow
from hub.errors import NotFound
from hub.partners.models import Partner
from hub.partners.services import partner_info
from hub.policy import (
    AgreementStatus,
    Catalogues,
    Decision,
    PartnerInfo,
    RegisteredAgreement,
    agreement_status,
    decide,
    register_agreement,
)

_CACHE: dict[str, RegisteredAgreement] = {}
_CACHE_LIMIT = 1024
_POLICY_CACHE: dict[tuple[hub_counters.Stamp, int], LivePolicy] = {}


@dataclasses.dataclass(frozen=True)
class LivePolicy:
    """Everything ``decide()`` needs, as the database holds it right now."""

    catalogues: Catalogues
    partners: Mapping[str, PartnerInfo]
    keys: Mapping[str, Mapping[str, Any]]
    agreements: tuple[RegisteredAgreement, ...]

    def status(self, registered: RegisteredAgreement, now: dt.datetime) -> AgreementStatus:
        return agreement_status(registered, now, self.agreements)


@dataclasses.dataclass
class AgreementChanges:
    """What an agreement sync did."""

    added: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    changed: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    unchanged: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    unlisted: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    # Digest of each unlisted version as stored, for its ledger entry.
    unlisted_digests: dict[tuple[str, int], str] = dataclasses.field(default_factory=dict)


def partner_infos(session: Session) -> tuple[dict[str, PartnerInfo], dict[str, Any]]:
    """Active partners' legal facts and registered public keys, by partner id."""
    infos: dict[str, PartnerInfo] = {}
    keys: dict[str, Any] = {}
    for partner in session.scalars(select(Partner).where(Partner.active.is_(True))):
        infos[partner.id] = partner_info(partner)
        keys[partner.id] = partner.jwks
    return infos, keys


def live_policy(session: Session, catalogues: Catalogues) -> LivePolicy:
    """The policy from the listed agreements and active partners, as stored right now.

    Rebuilt only when the policy counter (:mod:`hub.counters`) has moved: every change to
    an agreement or partner row bumps it by trigger, even one made directly in the
    database, and ``hub sync`` bumps it too, so a cached policy is never stale; an
    unchanged database costs one primary-key read shared with the token check. Without
    the counter row nothing is cached.
    """
    counters = hub_counters.current(session)  # before the rows: see hub.counters.current
    if counters is None:
        return build_policy(session, catalogues)
    key = (counters.policy, id(catalogues))
    cached = _POLICY_CACHE.get(key)
    if cached is None:
        cached = build_policy(session, catalogues)
        if len(_POLICY_CACHE) >= 16:
            _POLICY_CACHE.clear()
        _POLICY_CACHE[key] = cached
    return cached


def build_policy(session: Session, catalogues: Catalogues) -> LivePolicy:
    """The policy read from the rows now, uncached (for a transaction that changed them)."""
    infos, keys = partner_infos(session)
    records = session.scalars(
        select(AgreementRecord)
        .where(AgreementRecord.listed.is_(True))
        .order_by(AgreementRecord.id, AgreementRecord.version)
    )
    agreements = tuple(_registered(r, catalogues, infos, keys) for r in records)
    return LivePolicy(catalogues, infos, keys, agreements)


def _registered(
    record: AgreementRecord,
    catalogues: Catalogues,
    infos: Mapping[str, PartnerInfo],
    keys: Mapping[str, Any],
) -> RegisteredAgreement:
    """Register (validate + verify) a stored agreement, cached on a digest of every input."""
    named = {p.get("id") for p in record.document.get("parties", []) if isinstance(p, dict)} | {
        f.get(end) for f in record.document.get("flows", []) for end in ("from", "to")
    }
    parties = sorted(str(p) for p in named if p is not None)
    inputs: dict[str, Any] = {
        "document": record.document,
        "signatures": record.signatures,
        "keys": {p: keys.get(p) for p in parties},
        "partners": {p: dataclasses.asdict(infos[p]) if p in infos else None for p in parties},
        "catalogues": id(catalogues),
        "source": record.source,
    }
    cache_key = hashlib.sha256(rfc8785.dumps(inputs)).hexdigest()  # type: ignore[arg-type]
    cached = _CACHE.get(cache_key)
    if cached is None:
        cached = register_agreement(
            record.document, record.signatures, catalogues, infos, keys, source=record.source
        )
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[cache_key] = cached
    return cached


def json_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The TOML document as JSON (dates as ISO strings): what is stored and what was signed."""
    return json.loads(json.dumps(document, default=_iso))  # type: ignore[no-any-return]


def _iso(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an agreement")


def sync_agreements(
    session: Session, loaded: Sequence[tuple[RegisteredAgreement, list[dict[str, Any]]]]
) -> AgreementChanges:
    """Make the agreements table match the files (idempotent; flushes, never commits).

    ``loaded`` pairs each registered agreement with its signature entries as read from
    ``<id>.sig.json``; both are stored exactly, so the database can be re-verified later.
    """
    changes = AgreementChanges()
    existing = {(r.id, r.version): r for r in session.scalars(select(AgreementRecord))}
    now = utcnow()
    for reg, signatures in loaded:
        key = (reg.agreement.id, reg.agreement.version)
        document = json_document(reg.document)
        record = existing.pop(key, None)
        if record is None:
            record = AgreementRecord(id=key[0], version=key[1], loaded_at=now)
            session.add(record)
            changes.added.append(key)
        elif (record.digest, record.signatures, record.listed) == (reg.digest, signatures, True):
            changes.unchanged.append(key)
            continue
        else:
            changes.changed.append(key)
        record.document = document
        record.signatures = signatures
        record.digest = reg.digest
        record.source = reg.agreement.source or record.source or ""
        record.listed = True
        record.updated_at = now
    for record in existing.values():
        if record.listed:
            record.listed = False
            record.updated_at = now
            changes.unlisted.append((record.id, record.version))
            changes.unlisted_digests[(record.id, record.version)] = record.digest
    session.flush()
    return changes


def describe(policy: LivePolicy, reg: RegisteredAgreement, now: dt.datetime) -> dict[str, Any]:
    """An agreement as the API shows it: status with every reason, flows, review date."""
    agreement = reg.agreement
    status = policy.status(reg, now)
    return {
        "id": agreement.id,
        "version": agreement.version,
        "title": agreement.title,
        "type": agreement.type,
        "digest": f"sha256:{reg.digest}",
        "status": status.status,
        "reasons": [{"code": r.code, "message": r.message} for r in status.reasons],
        "warnings": [{"code": w.code, "message": w.message} for w in status.warnings],
        "effective_from": agreement.effective_from.isoformat(),
        "effective_to": agreement.effective_to.isoformat() if agreement.effective_to else None,
        "review_by": agreement.review_by.isoformat(),
        "review_overdue": agreement.review_by < now.date(),
        "purposes": list(agreement.purposes),
        "parties": [{"id": p.id, "role": p.role} for p in agreement.parties],
        "signed_by": [s.party for s in reg.signatures if s.ok],
        "flows": [_describe_flow(f) for f in agreement.flows],
    }


def _describe_flow(flow: Any) -> dict[str, Any]:
    return {
        "from": flow.sender,
        "to": flow.recipient,
        "purpose": flow.purpose,
        "basis": list(flow.basis),
        "fields": dict(flow.fields),
        "consent": flow.consent,
        "fact_only": flow.fact_only,
        "retention_days": flow.retention_days,
    }


def agreements_for(
    session: Session, catalogues: Catalogues, partner_id: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """Every agreement the partner is a party to, with its live status."""
    policy = live_policy(session, catalogues)
    return [
        describe(policy, reg, now)
        for reg in policy.agreements
        if partner_id in {p.id for p in reg.agreement.parties}
    ]


def agreement_for(
    session: Session, catalogues: Catalogues, partner_id: str, agreement_id: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """Every version of one agreement, if the partner is a party; otherwise :class:`NotFound`.

    Non-parties get 404, not 403: whether two other agencies share is not theirs to know.
    """
    versions = [
        a for a in agreements_for(session, catalogues, partner_id, now) if a["id"] == agreement_id
    ]
    if not versions:
        raise NotFound("no such agreement to which you are a party")
    return versions


def dry_run(
    session: Session,
    catalogues: Catalogues,
    sender: str,
    body: Mapping[str, Any],
    now: dt.datetime,
    keyed_hash_secret: bytes,
) -> Decision:
    """What would be released if ``sender`` sent ``body`` now. Records nothing.

    ``from`` is always the caller: a token only ever acts as its own partner.
    """
    policy = live_policy(session, catalogues)
    request = {**body, "from": sender}
    return decide(
        request,
        policy.agreements,
        policy.catalogues,
        policy.partners,
        now,
        keyed_hash_secret=keyed_hash_secret,
        consent_records=cited_records(session, sender, body),
    )

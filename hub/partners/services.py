"""Partner use cases: look up, describe, and load declarations into the database."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.errors import NotFound
from hub.oauth.models import AccessToken
from hub.partners.files import PartnerDeclaration
from hub.partners.keys import thumbprints
from hub.partners.models import Partner
from hub.policy import PartnerInfo


class DemoKeyRefused(ValueError):
    """Production mode met a demo-only key: its private half is public in the repository."""


@dataclasses.dataclass
class PartnerChanges:
    """What a partner sync did, for the operator and for the ledger."""

    added: list[str] = dataclasses.field(default_factory=list)
    changed: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)
    deactivated: list[str] = dataclasses.field(default_factory=list)
    reactivated: list[str] = dataclasses.field(default_factory=list)


def get_partner(session: Session, partner_id: str) -> Partner:
    """The partner, or :class:`NotFound`."""
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("no such partner")
    return partner


def describe(partner: Partner) -> dict[str, Any]:
    """A partner's public registration as the API shows it."""
    return {
        "id": partner.id,
        "name": partner.name,
        "type": partner.type,
        "relevant_authority": partner.relevant_authority,
        "competent_authority": partner.competent_authority,
        "public_authority": partner.public_authority,
        "webhook_url": partner.webhook_url,
        "scopes": list(partner.scopes),
        "key_ids": [k.get("kid", "") for k in partner.jwks.get("keys", [])],
    }


def partner_info(partner: Partner | PartnerDeclaration) -> PartnerInfo:
    """The legal facts the policy engine reasons about, from a row or a declaration."""
    return PartnerInfo(
        id=partner.id,
        name=partner.name,
        type=partner.type,
        relevant_authority=partner.relevant_authority,
        competent_authority=partner.competent_authority,
        public_authority=partner.public_authority,
    )


def declaration_digest(declaration: PartnerDeclaration) -> str:
    """SHA-256 over the declaration's sorted JSON: equal digests mean nothing changed."""
    text = json.dumps(declaration.record(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def refuse_demo_keys(declarations: list[PartnerDeclaration], demo_prints: set[str]) -> None:
    """Production mode: no partner may authenticate with a key anyone can read."""
    for declaration in declarations:
        if declaration.demo_only or thumbprints(declaration.jwks) & demo_prints:
            raise DemoKeyRefused(
                f"partner {declaration.id!r} has a demo-only key; production mode refuses it"
            )


def sync_partners(session: Session, declarations: list[PartnerDeclaration]) -> PartnerChanges:
    """Make the partners table match the declarations (idempotent; flushes, no commit).

    A partner whose file was removed is deactivated, not deleted: its past disclosures and
    ledger entries still name it. Deactivation ends access at once: the partner's live
    tokens are revoked here (and the token validator also refuses an inactive partner's).
    A file put back reactivates the partner even though its digest is unchanged.
    """
    changes = PartnerChanges()
    existing = {p.id: p for p in session.scalars(select(Partner))}
    now = utcnow()
    for declaration in declarations:
        digest = declaration_digest(declaration)
        partner = existing.pop(declaration.id, None)
        if partner is None:
            partner = Partner(id=declaration.id, created_at=now)
            session.add(partner)
            changes.added.append(declaration.id)
        elif partner.digest == digest and partner.active == declaration.active:
            changes.unchanged.append(declaration.id)
            continue
        elif partner.digest == digest and declaration.active:
            changes.reactivated.append(declaration.id)
        else:
            changes.changed.append(declaration.id)
        _apply(partner, declaration, digest, now)
        if not partner.active:
            _revoke_tokens(session, partner.id, now)
    for partner in existing.values():
        if partner.active:
            partner.active = False
            partner.updated_at = now
            changes.deactivated.append(partner.id)
            _revoke_tokens(session, partner.id, now)
    session.flush()
    return changes


def _revoke_tokens(session: Session, partner_id: str, now: Any) -> None:
    """Revoke every live access token of ``partner_id`` (its access ends now, not at expiry)."""
    session.execute(
        update(AccessToken)
        .where(AccessToken.client_id == partner_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _apply(partner: Partner, declaration: PartnerDeclaration, digest: str, now: Any) -> None:
    partner.name = declaration.name
    partner.type = declaration.type
    partner.relevant_authority = declaration.relevant_authority
    partner.competent_authority = declaration.competent_authority
    partner.public_authority = declaration.public_authority
    partner.webhook_url = declaration.webhook_url
    partner.jwks = declaration.jwks
    partner.scopes = list(declaration.scopes)
    partner.demo_only = declaration.demo_only
    partner.active = declaration.active
    partner.digest = digest
    partner.updated_at = now

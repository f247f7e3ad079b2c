"""Ledger events for what ``hub sync`` changed: partners, their keys, agreements.

Policy is code reviewed in git, and the ledger records when each version took effect in
the hub, so a DPO can prove which agreement and which keys governed any past disclosure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.agreements.services import AgreementChanges
from hub.ledger.events import make_event
from hub.partners.files import PartnerDeclaration
from hub.partners.services import PartnerChanges, declaration_digest
from hub.policy import RegisteredAgreement

HUB_ACTOR = {"partner": "hub", "user": "hub-sync"}


def partner_events(
    changes: PartnerChanges, declarations: Sequence[PartnerDeclaration]
) -> list[dict[str, Any]]:
    """One ``partner`` event per added, changed or deactivated partner, and its keys."""
    by_id = {d.id: d for d in declarations}
    events: list[dict[str, Any]] = []
    pairs = (
        ("added", changes.added),
        ("changed", changes.changed),
        ("reactivated", changes.reactivated),
    )
    for action, ids in pairs:
        for partner_id in ids:
            declaration = by_id[partner_id]
            events.append(
                make_event(
                    "partner",
                    HUB_ACTOR,
                    partner=partner_id,
                    action=action,
                    partner_type=declaration.type,
                    digest=f"sha256:{declaration_digest(declaration)}",
                )
            )
            events.extend(_key_events(declaration))
    for partner_id in changes.deactivated:
        events.append(make_event("partner", HUB_ACTOR, partner=partner_id, action="deactivated"))
    return events


def _key_events(declaration: PartnerDeclaration) -> list[dict[str, Any]]:
    return [
        make_event(
            "key",
            HUB_ACTOR,
            partner=declaration.id,
            action="registered",
            key_id=jwk["kid"],
            alg=jwk.get("alg", "ES256"),
        )
        for jwk in declaration.jwks["keys"]
    ]


def agreement_events(
    changes: AgreementChanges,
    loaded: Sequence[tuple[RegisteredAgreement, list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    """One ``agreement`` event per agreement version loaded, changed or unlisted."""
    by_key = {(r.agreement.id, r.agreement.version): r for r, _ in loaded}
    events: list[dict[str, Any]] = []
    for action, keys in (("loaded", changes.added), ("changed", changes.changed)):
        for key in keys:
            reg = by_key[key]
            parties = [p.id for p in reg.agreement.parties]
            events.append(_agreement_event(key, reg.digest, action, parties))
    for key in changes.unlisted:
        digest = changes.unlisted_digests[key]
        events.append(_agreement_event(key, digest, "unlisted", []))
    return events


def _agreement_event(
    key: tuple[str, int], digest: str, action: str, parties: list[str]
) -> dict[str, Any]:
    return make_event(
        "agreement",
        HUB_ACTOR,
        agreement={"id": key[0], "version": str(key[1]), "digest": f"sha256:{digest}"},
        action=action,
        parties=parties or None,
    )

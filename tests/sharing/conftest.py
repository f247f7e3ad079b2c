"""Fixtures for the sharing tests: tokens per partner and canned messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

CANARY_WITHHELD = "Canary-Withheld-Anxiety-7731"
CANARY_RELEASED = "Canary-Released-Alexandra-4412"

KENT_REFERRAL: dict[str, Any] = {
    "to": "kent-syv-provider",
    "purpose": "syv_intervention",
    "consent": {"state": "given"},
    "data": {
        "given_name": CANARY_RELEASED,
        "family_name": "Smith",
        "date_of_birth": "2010-04-01",
        "missing_episodes_count": 3,
        "ete_status": "neet",
        "mental_health": CANARY_WITHHELD,
    },
}

VICTIM_REFERRAL: dict[str, Any] = {
    "to": "victim-first",
    "purpose": "victims_code_referral",
    "consent": {"state": "given"},
    "data": {"given_name": "Pat", "crime_type": "burglary", "crime_reference": "LP/123/26"},
}


@pytest.fixture
def auth(get_token: Callable[..., str]) -> Callable[[str], dict[str, str]]:
    """Bearer headers for a partner with every sharing scope."""
    cache: dict[str, str] = {}

    def _auth(partner_id: str) -> dict[str, str]:
        if partner_id not in cache:
            cache[partner_id] = get_token(partner_id, "referrals:write referrals:read log:read")
        return {"Authorization": f"Bearer {cache[partner_id]}"}

    return _auth


@pytest.fixture
def send(client: FlaskClient, auth: Callable[[str], dict[str, str]]) -> Callable[..., Any]:
    """POST a referral as ``sender``."""

    def _send(sender: str, body: dict[str, Any], **headers: str) -> Any:
        return client.post("/api/v1/referrals", json=body, headers={**auth(sender), **headers})

    return _send


@pytest.fixture
def consented(
    client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> Callable[..., dict[str, Any]]:
    """``body`` citing a fresh consent record of ``sender``'s in its scope (UK GDPR Art 7(1)).

    A message on a consent flow must cite a live record (``consent_record_missing``
    otherwise); the record covers the body's purpose and recipient.
    """

    def _consented(sender: str, body: dict[str, Any], explicit: bool = False) -> dict[str, Any]:
        created = client.post(
            "/api/v1/consents",
            json={"purposes": [body["purpose"]], "recipients": [body["to"]], "explicit": explicit},
            headers=auth(sender),
        )
        assert created.status_code == 201, created.get_json()
        consent = {**body.get("consent", {"state": "given"}), "record": created.get_json()["id"]}
        return {**body, "consent": consent}

    return _consented

"""Bearer tokens on ``/api/v1``: 401/403 problem+json, AND scopes, revocation, identity."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from hub import db
from hub.oauth.models import AccessToken, token_hash
from tests.conftest import client_assertion

PROBLEM = "application/problem+json"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assertion_form(partner_id: str, **fields: str) -> dict[str, str]:
    return {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(partner_id, aud="http://127.0.0.1:8000/oauth/revoke"),
        **fields,
    }


def test_partners_me_returns_the_calling_partner(client, get_token):
    response = client.get("/api/v1/partners/me", headers=_bearer(get_token("kent-police")))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "kent-police"
    assert body["type"] == "police"
    assert body["relevant_authority"] is True
    assert body["key_ids"]


def test_missing_token_is_401_problem_with_www_authenticate(client, demo_partners):
    response = client.get("/api/v1/partners/me")
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert body["status"] == 401
    assert body["type"].endswith("/unauthorized")


def test_unknown_token_is_401(client, demo_partners):
    response = client.get("/api/v1/partners/me", headers=_bearer("hubat_not-a-real-token"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.mimetype == PROBLEM


def test_non_bearer_scheme_is_401(client, demo_partners):
    response = client.get("/api/v1/partners/me", headers={"Authorization": "Basic a2VudDpwYXNz"})
    assert response.status_code == 401
    assert response.mimetype == PROBLEM


def test_expired_token_is_401(client, get_token, app):
    token = get_token("kent-police")
    with app.app_context():
        session = db.session()
        past = db.utcnow() - dt.timedelta(seconds=1)
        session.execute(update(AccessToken).where(AccessToken.token_hash == token_hash(token))
                        .values(expires_at=past))
        session.commit()
    response = client.get("/api/v1/partners/me", headers=_bearer(token))
    assert response.status_code == 401


def test_insufficient_scope_is_403_problem(client, get_token):
    token = get_token("kent-police", scope="log:read")
    response = client.get("/api/v1/partners/me", headers=_bearer(token))
    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_requires_means_every_scope(app):
    """``requires(a, b)`` must refuse a token holding only ``a`` (authlib lists mean OR)."""
    from authlib.oauth2.rfc6749 import ResourceProtector

    assert ResourceProtector is not None
    from hub.oauth.protector import require_oauth

    validator = require_oauth.get_token_validator("bearer")
    assert validator.scope_insufficient("partners:read", ["partners:read log:read"])
    assert not validator.scope_insufficient("log:read partners:read", ["partners:read log:read"])


def test_revoked_token_is_401(client, get_token):
    token = get_token("kent-police")
    revoked = client.post("/oauth/revoke", data=_assertion_form("kent-police", token=token))
    assert revoked.status_code == 200
    response = client.get("/api/v1/partners/me", headers=_bearer(token))
    assert response.status_code == 401


def test_revocation_needs_client_authentication(client, get_token):
    token = get_token("kent-police")
    response = client.post("/oauth/revoke", data={"token": token, "client_id": "kent-police"})
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] == "invalid_client"
    assert client.get("/api/v1/partners/me", headers=_bearer(token)).status_code == 200


def test_a_partner_cannot_revoke_another_partners_token(client, get_token):
    token = get_token("kent-police")
    response = client.post("/oauth/revoke", data=_assertion_form("medway-csc", token=token))
    assert response.get_json().get("error") in {"invalid_grant", None}
    assert client.get("/api/v1/partners/me", headers=_bearer(token)).status_code == 200


def test_introspection_of_own_and_other_tokens(client, get_token):
    kent = get_token("kent-police")
    own = client.post("/oauth/introspect", data=_assertion_form("kent-police", token=kent))
    body = own.get_json()
    assert body["active"] is True
    assert body["client_id"] == "kent-police"
    assert body["scope"] == "partners:read"
    other = client.post("/oauth/introspect", data=_assertion_form("medway-csc", token=kent))
    assert other.get_json() == {"active": False}


def test_a_token_only_ever_acts_as_its_partner(client, get_token):
    """Headers or query parameters naming another partner change nothing."""
    token = get_token("medway-csc")
    response = client.get(
        "/api/v1/partners/me?partner=kent-police&client_id=kent-police",
        headers={**_bearer(token), "X-Partner-ID": "kent-police"},
    )
    assert response.get_json()["id"] == "medway-csc"


def test_deactivated_partner_cannot_get_tokens(client, demo_partners, app):
    from hub.partners.models import Partner

    with app.app_context():
        session = db.session()
        session.execute(update(Partner).where(Partner.id == "kent-police").values(active=False))
        session.commit()
    form = {
        "grant_type": "client_credentials",
        "scope": "partners:read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion("kent-police"),
    }
    assert client.post("/oauth/token", data=form).get_json()["error"] == "invalid_client"

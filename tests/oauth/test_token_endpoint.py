"""The token endpoint through real signed client assertions (RFC 7523 private_key_jwt)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import OctKey

from hub.partners.keys import generate_private_jwk
from tests.conftest import ISSUER, client_assertion, demo_private_jwk, token_form


def _token(client: FlaskClient, assertion: str, scope: str = "partners:read"):  # type: ignore[no-untyped-def]
    return client.post("/oauth/token", data=token_form(assertion, scope))


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_happy_path_issues_short_lived_opaque_token(client, demo_partners):
    response = _token(client, client_assertion("kent-police"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("hubat_")
    assert body["expires_in"] == 600
    assert body["scope"] == "partners:read"
    assert "refresh_token" not in body
    assert response.headers["Cache-Control"] == "no-store"


def test_token_is_stored_only_as_a_hash(client, demo_partners, app):
    from sqlalchemy import select

    from hub import db
    from hub.oauth.models import AccessToken

    token = _token(client, client_assertion("kent-police")).get_json()["access_token"]
    with app.app_context():
        rows = db.session().scalars(select(AccessToken)).all()
        assert len(rows) == 1
        stored = rows[0]
        assert token not in json.dumps({c.name: str(getattr(stored, c.name)) for c in AccessToken.__table__.columns})


@pytest.mark.parametrize("aud", ["https://evil.example/oauth/token", "http://127.0.0.1:8000/api/v1"])
def test_wrong_audience_is_refused(client, demo_partners, aud):
    response = _token(client, client_assertion("kent-police", aud=aud))
    assert response.status_code == 400 or response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_issuer_itself_is_an_accepted_audience(client, demo_partners):
    assert _token(client, client_assertion("kent-police", aud=ISSUER)).status_code == 200


def test_expired_assertion_is_refused(client, demo_partners):
    assertion = client_assertion("kent-police", lifetime=-120)
    response = _token(client, assertion)
    assert response.get_json()["error"] == "invalid_client"


def test_long_lived_assertion_is_refused(client, demo_partners):
    response = _token(client, client_assertion("kent-police", lifetime=3 * 3600))
    assert response.get_json()["error"] == "invalid_client"
    assert "expire within" in response.get_json()["error_description"]


def test_replayed_jti_is_refused(client, demo_partners):
    assertion = client_assertion("kent-police")
    assert _token(client, assertion).status_code == 200
    replay = _token(client, assertion)
    assert replay.get_json()["error"] == "invalid_client"
    # a fresh assertion with the same jti is a replay too
    same_jti = client_assertion("kent-police", jti=json.loads(
        base64.urlsafe_b64decode(assertion.split(".")[1] + "==")
    )["jti"])
    assert _token(client, same_jti).get_json()["error"] == "invalid_client"


def test_missing_jti_is_refused(client, demo_partners):
    key = demo_private_jwk("kent-police")
    from joserfc.jwk import KeySet

    now = int(time.time())
    claims = {"iss": "kent-police", "sub": "kent-police", "aud": f"{ISSUER}/oauth/token",
              "exp": now + 60, "iat": now}
    assertion = jwt.encode({"alg": "ES256"}, claims, KeySet.import_key_set({"keys": [key]}).keys[0])
    assert _token(client, assertion).get_json()["error"] == "invalid_client"


def test_assertion_signed_by_another_partners_key_is_refused(client, demo_partners):
    # Medway's key, claiming to be Kent Police
    assertion = client_assertion("kent-police", demo_private_jwk("medway-csc"))
    response = _token(client, assertion)
    assert response.get_json()["error"] == "invalid_client"


def test_assertion_signed_by_a_fresh_unregistered_key_is_refused(client, demo_partners):
    assertion = client_assertion("kent-police", generate_private_jwk("ES256"))
    assert _token(client, assertion).get_json()["error"] == "invalid_client"


def test_alg_none_is_refused(client, demo_partners):
    now = int(time.time())
    claims = {"iss": "kent-police", "sub": "kent-police", "aud": f"{ISSUER}/oauth/token",
              "exp": now + 60, "jti": "none-attack-0001"}
    unsigned = f"{_b64({'alg': 'none'})}.{_b64(claims)}."
    assert _token(client, unsigned).get_json()["error"] == "invalid_client"


def test_hs256_with_the_public_key_as_secret_is_refused(client, demo_partners):
    """Algorithm confusion: HMAC keyed with the partner's *public* JWK bytes."""
    public = json.loads((__import__("pathlib").Path(__file__).resolve().parents[2]
                         / "keys/partners/kent-police.jwks.json").read_text())["keys"][0]
    secret = OctKey.import_key(json.dumps(public, sort_keys=True).encode())
    now = int(time.time())
    claims = {"iss": "kent-police", "sub": "kent-police", "aud": f"{ISSUER}/oauth/token",
              "exp": now + 60, "jti": "hs256-attack-0001"}
    forged = jwt.encode({"alg": "HS256"}, claims, secret)
    assert _token(client, forged).get_json()["error"] == "invalid_client"


def test_unknown_client_is_refused(client, demo_partners):
    assertion = client_assertion("no-such-partner", demo_private_jwk("kent-police"))
    response = _token(client, assertion)
    assert response.status_code == 400 or response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_issuer_subject_mismatch_is_refused(client, demo_partners):
    assertion = client_assertion("kent-police", iss="medway-csc")
    assert _token(client, assertion).get_json()["error"] == "invalid_client"


def test_no_client_authentication_is_refused(client, demo_partners):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                  "client_id": "kent-police"})
    assert response.get_json()["error"] == "invalid_client"


def test_other_grant_types_are_unsupported(client, demo_partners):
    form = token_form(client_assertion("kent-police"))
    form["grant_type"] = "password"
    assert client.post("/oauth/token", data=form).get_json()["error"] == "unsupported_grant_type"


def test_scope_must_be_requested_and_registered(client, demo_partners):
    missing = _token(client, client_assertion("kent-police"), scope="")
    assert missing.get_json()["error"] == "invalid_scope"
    unknown = _token(client, client_assertion("kent-police"), scope="partners:read admin")
    assert unknown.get_json()["error"] == "invalid_scope"


def test_several_scopes_are_granted_together(client, demo_partners):
    body = _token(client, client_assertion("kent-police"), scope="partners:read log:read").get_json()
    assert body["scope"] == "partners:read log:read"


def test_metadata_document(client):
    body = client.get("/.well-known/oauth-authorization-server").get_json()
    assert body["issuer"] == ISSUER
    assert body["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert "ES256" in body["token_endpoint_auth_signing_alg_values_supported"]
    assert "HS256" not in body["token_endpoint_auth_signing_alg_values_supported"]


def test_eddsa_partner_key_works(client, demo_partners, settings, tmp_path):
    """A partner registered with an Ed25519 key (``hub keys generate --alg EdDSA``)."""
    from sqlalchemy import select

    from hub import db
    from hub.partners.keys import public_jwks
    from hub.partners.models import Partner

    private = generate_private_jwk("EdDSA")
    with client.application.app_context():
        session = db.session()
        partner = session.scalar(select(Partner).where(Partner.id == "kent-yot"))
        partner.jwks = public_jwks(private)
        session.commit()
    assert _token(client, client_assertion("kent-yot", private)).status_code == 200

"""Webhook signatures: detached compact JWS over the body, verifiable with standard JOSE."""

from __future__ import annotations

import base64
import json
import stat
import time
from pathlib import Path

import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from jwcrypto.common import JWException

from hub.delivery.signing import (
    WEBHOOK_TYP,
    WebhookKeyError,
    WebhookSignatureError,
    decode_signature_header,
    ensure_webhook_key,
    load_webhook_key,
    public_jwks,
    sign_webhook,
    verify_webhook,
)
from hub.partners.keys import generate_private_jwk
from hub.partners.keys import public_jwks as partner_public_jwks

BODY = b'{"delivery_id":"7","item":{"kind":"referral"},"type":"inbox_item"}'


@pytest.fixture
def key(tmp_path: Path):
    return ensure_webhook_key(tmp_path / "webhook.jwk")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_key_is_created_once_private_to_the_owner_and_published_without_d(tmp_path: Path):
    path = tmp_path / "keys" / "webhook.jwk"
    first = ensure_webhook_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_webhook_key(path).thumbprint() == first.thumbprint()
    (published,) = public_jwks(first)["keys"]
    assert published == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": published["x"],
        "kid": first.thumbprint(),
        "alg": "EdDSA",
        "use": "sig",
    }


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path):
    path = tmp_path / "es256.jwk"
    path.write_text(json.dumps(generate_private_jwk("ES256")))
    with pytest.raises(WebhookKeyError, match="Ed25519"):
        load_webhook_key(path)


def test_signature_is_a_detached_compact_jws_with_the_agreed_header(key):
    signature = sign_webhook(BODY, key, iat=1_800_000_000)
    protected, payload, _sig = signature.split(".")
    assert payload == ""
    assert decode_signature_header(signature) == {
        "alg": "EdDSA",
        "kid": key.thumbprint(),
        "typ": WEBHOOK_TYP,
        "iat": 1_800_000_000,
    }
    verify_webhook(BODY, signature, public_jwks(key), now=1_800_000_010)


def test_jwcrypto_verifies_it_so_the_format_is_standard(key):
    signature = sign_webhook(BODY, key)
    public = jwcrypto_jwk.JWK(**public_jwks(key)["keys"][0])
    token = jwcrypto_jws.JWS()
    token.deserialize(signature)
    token.verify(public, detached_payload=BODY)
    # Re-attaching the payload gives an ordinary compact JWS too (RFC 7515 Appendix F).
    protected, _, sig = signature.split(".")
    attached = jwcrypto_jws.JWS()
    attached.deserialize(f"{protected}.{_b64(BODY)}.{sig}", key=public)
    assert attached.payload == BODY
    with pytest.raises(JWException):
        token.verify(public, detached_payload=BODY + b" ")


@pytest.mark.parametrize(
    "body",
    [BODY.replace(b"referral", b"alert"), BODY + b"\n", BODY[:-1], b""],
)
def test_any_change_to_the_body_fails(key, body: bytes):
    signature = sign_webhook(BODY, key)
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(body, signature, public_jwks(key))
    assert caught.value.code == "bad_signature"


def test_another_key_with_the_same_kid_fails(key, tmp_path: Path):
    other = ensure_webhook_key(tmp_path / "other.jwk")
    jwks = public_jwks(other)
    jwks["keys"][0]["kid"] = key.thumbprint()
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(BODY, sign_webhook(BODY, key), jwks)
    assert caught.value.code == "bad_signature"


def test_unknown_kid_and_non_ed25519_keys_are_refused(key):
    signature = sign_webhook(BODY, key)
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(BODY, signature, {"keys": []})
    assert caught.value.code == "unknown_kid"
    es256 = partner_public_jwks(generate_private_jwk("ES256"))
    es256["keys"][0]["kid"] = key.thumbprint()
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(BODY, signature, es256)
    assert caught.value.code == "unknown_kid"


def _forge_header(signature: str, **changes: object) -> str:
    header = decode_signature_header(signature) | changes
    _, _, sig = signature.split(".")
    return f"{_b64(json.dumps(header).encode())}..{sig}"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"alg": "none"}, "wrong_alg"),
        ({"alg": "HS256"}, "wrong_alg"),
        ({"typ": "JWT"}, "wrong_typ"),
    ],
)
def test_header_changes_are_refused_before_any_key_is_used(key, changes, code):
    forged = _forge_header(sign_webhook(BODY, key), **changes)
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(BODY, forged, public_jwks(key))
    assert caught.value.code == code


def test_a_changed_iat_breaks_the_signature(key):
    forged = _forge_header(sign_webhook(BODY, key), iat=int(time.time()) + 5)
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(BODY, forged, public_jwks(key))
    assert caught.value.code == "bad_signature"


def test_stale_signatures_are_refused_unless_the_caller_opts_out(key):
    signature = sign_webhook(BODY, key, iat=int(time.time()) - 3600)
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(BODY, signature, public_jwks(key))
    assert caught.value.code == "stale"
    verify_webhook(BODY, signature, public_jwks(key), max_age=None)


@pytest.mark.parametrize("value", ["", "abc", "a.b.c", "a..", "!!..sig"])
def test_malformed_headers(key, value: str):
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(BODY, value, public_jwks(key))
    assert caught.value.code in {"malformed", "bad_signature"}

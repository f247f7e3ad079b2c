"""Webhook verification: a real push from ``hub worker`` to a Flask receiver behind the client's
middleware, the hub's published JWKS, and every way to forge one refused."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, request
from joserfc.jwk import OKPKey
from werkzeug.serving import make_server

from hub.delivery.signing import load_webhook_key, sign_webhook
from hub_client import JWKSCache, WebhookSignatureError, WebhookVerifier, verify_webhook
from hub_client_testing import Hub, referral, start_hub

pytestmark = pytest.mark.slow
HOOK = "/hooks/hub"


class Receiver:
    """A partner's Flask app; only pushes the middleware verified reach the view."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.jwks: JWKSCache | None = None  # set once the hub's port is known
        app = Flask("partner")

        @app.post(HOOK)
        def hook() -> tuple[str, int]:
            self.received.append({"body": request.get_json(), "header": request.environ["hub.webhook"]})
            return "", 204

        app.wsgi_app = WebhookVerifier(app.wsgi_app, self.hub_keys, paths={HOOK})  # type: ignore[method-assign]
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}{HOOK}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hub_keys(self) -> dict[str, Any]:
        assert self.jwks is not None
        return self.jwks()


@pytest.fixture(scope="module")
def pushed(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, Receiver]]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        with start_hub(backend, tmp_path_factory.mktemp("webhook-hub"),
                       webhooks={"kent-syv-provider": receiver.url}) as running:
            receiver.jwks = JWKSCache(f"{running.base_url}/.well-known/jwks.json")
            yield running, receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def hub_key(hub: Hub) -> OKPKey:
    return load_webhook_key(Path(hub.env["HUB_WEBHOOK_KEY"]))


def test_a_real_push_passes_the_middleware(pushed: tuple[Hub, Receiver]):
    hub, receiver = pushed
    name = f"Hook{uuid.uuid4().hex[:8]}"
    sent = hub.client("kent-csc").send_referral(referral(name))
    hub.run("worker", "--once")
    assert len(receiver.received) == 1, hub.tmp.joinpath("server.log").read_text()[-2000:]
    push = receiver.received[0]
    assert push["header"]["alg"] == "EdDSA" and push["header"]["typ"] == "hub-webhook+jws"
    assert name in json.dumps(push["body"]) and sent["id"] in json.dumps(push["body"])


def post(receiver: Receiver, body: bytes, signature: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Hub-Signature"] = signature
    return requests.post(receiver.url, data=body, headers=headers, timeout=30)


def test_forged_pushes_never_reach_the_view(pushed: tuple[Hub, Receiver]):
    hub, receiver = pushed
    before = len(receiver.received)
    body = json.dumps({"kind": "referral", "id": str(uuid.uuid4())}).encode()
    good = sign_webhook(body, hub_key(hub))
    assert post(receiver, body, good).status_code == 204  # the genuine article
    tampered = body.replace(b"referral", b"alert")
    for forged_body, signature, code in [
        (tampered, good, "bad_signature"),
        (body, None, "missing"),
        (body, "not-a-jws", "malformed"),
        (body, sign_webhook(body, OKPKey.generate_key("Ed25519", private=True)), "unknown_kid"),
        (body, sign_webhook(body, hub_key(hub), iat=int(time.time()) - 3600), "stale"),
        (body, _with_header(good, alg="HS256"), "wrong_alg"),
        (body, _with_header(good, typ="JWT"), "wrong_typ"),
    ]:
        refused = post(receiver, forged_body, signature)
        assert refused.status_code == 401 and refused.json()["detail"] == code, code
    assert len(receiver.received) == before + 1


def _with_header(signature: str, **changes: Any) -> str:
    protected, _, sig = signature.split(".")
    header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
    header.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"{encoded}..{sig}"


def test_the_function_checks_headers_and_body(pushed: tuple[Hub, Receiver]):
    hub, _ = pushed
    jwks = hub.client("kent-syv-provider").jwks()
    body = b'{"kind": "alert"}'
    signature = sign_webhook(body, hub_key(hub))
    header = verify_webhook({"hub-signature": signature}, body, jwks)
    assert header["kid"] == jwks["keys"][0]["kid"]
    with pytest.raises(WebhookSignatureError) as refused:
        verify_webhook({"Hub-Signature": signature}, body + b" ", jwks)
    assert refused.value.code == "bad_signature"
    # a JWKS entry that is not an Ed25519 public key is never used, whatever its kid
    private = {"keys": [{**jwks["keys"][0], "d": "AAAA"}]}
    with pytest.raises(WebhookSignatureError) as refused:
        verify_webhook({"Hub-Signature": signature}, body, private)
    assert refused.value.code == "unknown_kid"

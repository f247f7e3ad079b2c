"""A tiny OpenID Connect identity provider for the single sign-on tests.

It runs on its own host and port (``127.0.0.1``, while the hub is ``localhost``), signs
RS256 id_tokens published in a JWKS, checks PKCE S256, the client secret and the redirect
URI, and echoes the nonce. Its sign-in page makes the person CLICK a button: an IdP that
redirected straight back would hide a session cookie that is not sent on the return
navigation (SameSite=Strict breaks exactly there).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclasses.dataclass
class IdentityProvider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri_prefix: str
    email: str
    subject: str = "idp-subject-0001"
    key: RSAKey = dataclasses.field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "idp-1"}))
    codes: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    tokens_issued: int = 0
    # Knobs for the refusal tests: claims to overwrite, or a key nobody published.
    tamper: dict[str, Any] = dataclasses.field(default_factory=dict)
    rogue_key: RSAKey | None = None


def make_idp_app(idp: IdentityProvider) -> Flask:
    app = Flask("test_idp")

    @app.get("/.well-known/openid-configuration")
    def metadata() -> Any:
        return jsonify(
            issuer=idp.issuer,
            authorization_endpoint=f"{idp.issuer}/authorize",
            token_endpoint=f"{idp.issuer}/token",
            jwks_uri=f"{idp.issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        )

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(keys=[idp.key.as_dict(private=False)])

    @app.get("/authorize")
    def authorize() -> str:
        args = request.args
        if args.get("client_id") != idp.client_id or args.get("response_type") != "code":
            abort(400)
        if not args.get("redirect_uri", "").startswith(idp.redirect_uri_prefix):
            abort(400)
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            abort(400)  # PKCE is required
        if not args.get("nonce") or not args.get("state") or "openid" not in args.get("scope", ""):
            abort(400)
        ticket = secrets.token_urlsafe(16)
        idp.codes[ticket] = {k: args[k] for k in ("redirect_uri", "state", "nonce", "code_challenge")}
        e = html.escape
        return (
            "<!doctype html><title>Test IdP</title><h1>Test identity provider</h1>"
            f"<p>Signed in at the IdP as {e(idp.email)} (the IdP did its own second factor).</p>"
            '<form method="post" action="/approve">'
            f'<input type="hidden" name="ticket" value="{e(ticket)}">'
            f'<button type="submit">Continue as {e(idp.email)}</button></form>'
        )

    @app.post("/approve")
    def approve() -> Any:
        ticket = request.form.get("ticket", "")
        pending = idp.codes.pop(ticket, None)
        if pending is None:
            abort(400)
        code = secrets.token_urlsafe(16)
        idp.codes[code] = pending
        query = urlencode({"code": code, "state": pending["state"]})
        return redirect(f"{pending['redirect_uri']}?{query}", code=302)

    @app.post("/token")
    def token() -> Any:
        client_id, secret = _client_credentials()
        if client_id != idp.client_id or secret != idp.client_secret:
            return jsonify(error="invalid_client"), 401
        form = request.form
        pending = idp.codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or pending is None:
            return jsonify(error="invalid_grant"), 400
        if form.get("redirect_uri") != pending["redirect_uri"]:
            return jsonify(error="invalid_grant"), 400
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge.rstrip(b"=").decode() != pending["code_challenge"]:
            return jsonify(error="invalid_grant", error_description="PKCE"), 400
        now = int(time.time())
        claims = {
            "iss": idp.issuer, "sub": idp.subject, "aud": idp.client_id, "iat": now,
            "exp": now + 300, "nonce": pending["nonce"], "email": idp.email,
        }
        claims.update(idp.tamper)
        id_token = jwt.encode({"alg": "RS256", "kid": "idp-1"}, claims, idp.rogue_key or idp.key)
        idp.tokens_issued += 1
        return jsonify(access_token=secrets.token_urlsafe(16), token_type="Bearer",
                       expires_in=300, id_token=id_token)

    return app


def _client_credentials() -> tuple[str | None, str | None]:
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username, auth.password
    return request.form.get("client_id"), request.form.get("client_secret")

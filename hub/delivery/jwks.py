"""``GET /.well-known/jwks.json``: the public key receivers verify webhook signatures with.

The key is read from ``HUB_WEBHOOK_KEY`` when first asked for (``hub init`` may create it
after the server started) and cached; until it exists the route answers 503.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, jsonify

from hub.delivery.signing import WebhookKeyError, load_webhook_key, public_jwks
from hub.errors import problem_response

if TYPE_CHECKING:
    from flask import Flask

    from hub.settings import Settings

bp = Blueprint("webhook_jwks", __name__)
_EXTENSION = "hub.webhook_jwks"


def init_app(app: Flask, settings: Settings) -> None:
    """Register the route; remember where the key lives."""
    app.extensions[_EXTENSION] = None
    app.extensions[_EXTENSION + ".path"] = settings.webhook_key_file
    app.register_blueprint(bp)


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The hub's public webhook-signing JWK Set (public members only; cacheable)."""
    published = current_app.extensions.get(_EXTENSION)
    if published is None:
        path = current_app.extensions[_EXTENSION + ".path"]
        try:
            published = public_jwks(load_webhook_key(path))
        except WebhookKeyError:
            return problem_response(
                503, "the webhook signing key is missing: run `hub init`", problem="unavailable"
            )
        current_app.extensions[_EXTENSION] = published
    response = jsonify(published)
    # A public key: safe to cache, and receivers should not fetch it on every push.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response

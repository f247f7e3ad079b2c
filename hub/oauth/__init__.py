"""OAuth 2.0: the authorization server (tokens) and the resource protector (``/api/v1``)."""

from __future__ import annotations

from typing import Any


def init_app(app: Any) -> None:
    """Create the authorization server, register the OAuth routes and the 401/403 bridge."""
    from hub.oauth import protector, views
    from hub.oauth.server import create_authorization_server

    app.extensions["hub.oauth_server"] = create_authorization_server(app)
    app.register_blueprint(views.bp)
    protector.init_app(app)

"""Serving the hub: gunicorn in production, Werkzeug's threaded server in development."""

from __future__ import annotations

import urllib.parse
from typing import Any

from hub.settings import Settings


def serve(settings: Settings, *, host: str, port: int, workers: int | None) -> None:
    """Run until interrupted."""
    from hub import create_app

    if settings.production:
        _gunicorn(settings, host, port, workers or 4)
        return
    app = create_app(settings)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (names, not a bind)


def issuer_mismatch(issuer: str, host: str, port: int) -> str | None:
    """Why tokens will fail when the issuer names another host:port than the one served.

    A client assertion's ``aud`` must be the issuer's token endpoint, so a development hub
    started with ``--port 9000`` under the default issuer (port 8000) refuses every token.
    Production sits behind a proxy, where issuer and bind address differ by design, so the
    caller asks only in development. The hub does not derive the issuer from ``--port``: the
    issuer also names the ledger's origin, which must not change with a command-line flag.
    """
    parts = urllib.parse.urlsplit(issuer)
    issuer_port = parts.port or (443 if parts.scheme == "https" else 80)
    loopback = {"127.0.0.1", "localhost", "::1"}
    same_host = (
        host in _WILDCARD_HOSTS  # reachable under any name, the issuer's included
        or parts.hostname == host
        or {parts.hostname, host} <= loopback
    )
    if same_host and issuer_port == port:
        return None
    public = "127.0.0.1" if host in _WILDCARD_HOSTS else host
    return (
        f"HUB_ISSUER is {issuer} but the hub serves on {host}:{port}: client assertions for "
        f"this server will be refused; set HUB_ISSUER=http://{public}:{port} for every hub command"
    )


def _gunicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from hub import create_app

    class HubApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", None)  # the app logs one JSON line per request

        def load(self) -> Any:
            return create_app(settings)

    HubApplication().run()

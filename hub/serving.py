"""Serving the hub: gunicorn in production, Werkzeug's threaded server in development.

gunicorn runs threaded workers (``gthread``): a request stuck on a slow dependency holds one
thread, not the worker, so ``/healthz`` still answers; every database wait is bounded by
the ``HUB_DB_*`` timeouts, and ``HUB_WORKER_TIMEOUT`` restarts a worker whose main loop
stops (README "Limits and failure behaviour"). Neither server sends a ``Server`` header.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from hub.settings import Settings


def serve(settings: Settings, *, host: str, port: int, workers: int | None) -> None:
    """Run until interrupted (``workers`` overrides ``HUB_WORKERS``)."""
    from hub import create_app

    if settings.server == "gunicorn" or (settings.server == "auto" and settings.production):
        from hub.metrics.multiproc import run_directory

        # Before the app loads: prometheus_client reads the variable when first imported.
        with run_directory():
            # Fail here, with the message, rather than as gunicorn's "worker failed to boot".
            create_app(settings).extensions["hub.engine"].dispose()
            _gunicorn(settings, host, port, workers or settings.workers)
        return
    app = create_app(settings)
    app.run(
        host=host, port=port, threaded=True, use_reloader=False, request_handler=QuietHandler
    )


def _quiet_handler() -> Any:
    """Werkzeug's request handler without its ``Server: Werkzeug/x Python/y`` banner."""
    from werkzeug.serving import WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def version_string(self) -> str:
            return ""

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() != "server":
                super().send_header(keyword, value)

    return Quiet


QuietHandler = _quiet_handler()


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
            for name, value in gunicorn_options(settings, workers).items():
                if name in self.cfg.settings:  # control-socket settings are gunicorn 25.1+
                    self.cfg.set(name, value)
            self.cfg.set("timeout", settings.worker_timeout)
            self.cfg.set("graceful_timeout", settings.worker_graceful_timeout)
            self.cfg.set("accesslog", None)  # the app logs one JSON line per request
            self.cfg.set("child_exit", _worker_exited)
            _hide_gunicorn_banner()

        def load(self) -> Any:
            return create_app(settings)

    HubApplication().run()


def gunicorn_options(settings: Settings, workers: int) -> dict[str, Any]:
    """Worker model and counts from settings; the control socket only where asked.

    gunicorn (25+) otherwise binds ``$XDG_RUNTIME_DIR/gunicorn.ctl`` or
    ``~/.gunicorn/gunicorn.ctl``: one path for every master a user runs on the machine, so
    a second hub instance would take over (or unlink) the first one's socket.
    """
    options: dict[str, Any] = {
        "worker_class": settings.worker_class,
        "workers": workers,
        "threads": settings.threads if settings.worker_class == "gthread" else 1,
    }
    if settings.control_socket is None:
        options["control_socket_disable"] = True
    else:
        options["control_socket"] = str(settings.control_socket)
        options["control_socket_disable"] = False
    return options


def _worker_exited(_server: Any, worker: Any) -> None:
    from hub.metrics.multiproc import worker_exited

    worker_exited(worker.pid)


def _hide_gunicorn_banner() -> None:
    """gunicorn writes ``Server: gunicorn`` with no setting to turn it off; drop that one
    line from the headers its response writes (once, in the serving process only)."""
    from gunicorn.http import wsgi

    original = wsgi.Response.default_headers
    if getattr(original, "hub_quiet", False):
        return

    def default_headers(self: Any) -> list[str]:
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.hub_quiet = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers  # type: ignore[method-assign]

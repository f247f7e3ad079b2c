"""Serving the hub: gunicorn in production, Werkzeug's threaded server in development.

gunicorn runs threaded workers (``gthread``): a request stuck on a slow dependency holds one
thread, not the worker, so ``/healthz`` still answers; every database wait is bounded by
the ``HUB_DB_*`` timeouts, and ``HUB_WORKER_TIMEOUT`` restarts a worker whose main loop
stops (README "Limits and failure behaviour"). Neither server sends a ``Server`` header.
"""

from __future__ import annotations

from typing import Any

from hub.settings import Settings

THREADS_PER_WORKER = 4


def serve(settings: Settings, *, host: str, port: int, workers: int | None) -> None:
    """Run until interrupted."""
    from hub import create_app

    if settings.production:
        # Fail here, with the message, rather than as gunicorn's "worker failed to boot".
        create_app(settings).extensions["hub.engine"].dispose()
        _gunicorn(settings, host, port, workers or 4)
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


def _gunicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from hub import create_app

    class HubApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", THREADS_PER_WORKER)
            self.cfg.set("timeout", settings.worker_timeout)
            self.cfg.set("graceful_timeout", settings.worker_graceful_timeout)
            self.cfg.set("accesslog", None)  # the app logs one JSON line per request
            _hide_gunicorn_banner()

        def load(self) -> Any:
            return create_app(settings)

    HubApplication().run()


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

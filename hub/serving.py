"""Serving the hub: gunicorn in production, Werkzeug's threaded server in development."""

from __future__ import annotations

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

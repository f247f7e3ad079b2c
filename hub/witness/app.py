"""``hub witness serve``: the witness's own small WSGI app (Flask; gunicorn in production).

Routes (one prefix serves both submission and monitoring, as tlog-witness allows):

* ``POST /add-checkpoint`` — tlog-witness add-checkpoint (:mod:`hub.witness.service`);
* ``GET /<hex SHA-256 of origin>/checkpoint`` — the latest cosigned checkpoint of that log
  (the monitor retrieval mechanism), 404 if never cosigned;
* ``GET /key`` — this witness's cosigner verifier key (also ``hub witness key``);
* ``GET /healthz`` — ``ok``.

No authentication beyond the log's signature on the checkpoint (the spec's model); bodies
are bounded. Nothing here touches the hub's database.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, request

from hub.witness.config import WitnessConfig
from hub.witness.protocol import MAX_BODY_BYTES
from hub.witness.service import TEXT, add_checkpoint, latest_note

_ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")


def create_witness_app(config: WitnessConfig) -> Flask:
    app = Flask("hub.witness")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["hub.witness"] = config

    @app.post("/add-checkpoint")
    def add() -> Response:
        answer = add_checkpoint(config, request.get_data(cache=False))
        return Response(answer.body, status=answer.status, content_type=answer.content_type)

    @app.get("/<origin_hash>/checkpoint")
    def checkpoint(origin_hash: str) -> Response:
        note = latest_note(config, origin_hash) if _ORIGIN_HASH.fullmatch(origin_hash) else None
        if note is None:
            return _text("no checkpoint cosigned for that log\n", 404)
        response = _text(note, 200)
        response.headers["Cache-Control"] = "no-cache, max-age=10"
        return response

    @app.get("/key")
    def key() -> Response:
        return _text(config.verifier_key + "\n", 200)

    @app.get("/healthz")
    def healthz() -> Response:
        return _text("ok\n", 200)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def http_error(error: Any) -> Response:
        return _text(f"{error.name}\n", error.code)

    return app


def _text(body: str, status: int) -> Response:
    return Response(body, status=status, content_type=TEXT)


def serve(config: WitnessConfig, *, host: str, port: int, production: bool, workers: int) -> None:
    """Run until interrupted: gunicorn in production, Werkzeug's threaded server otherwise."""
    from hub.serving import QuietHandler, _hide_gunicorn_banner

    app = create_witness_app(config)
    if not production:
        app.run(host=host, port=port, threaded=True, use_reloader=False,
                request_handler=QuietHandler)  # fmt: skip
        return
    from gunicorn.app.base import BaseApplication

    class WitnessApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 2)
            self.cfg.set("accesslog", None)
            _hide_gunicorn_banner()

        def load(self) -> Any:
            return app

    WitnessApplication().run()

"""``GET /metrics``: Prometheus exposition, and the per-route request timing hook.

Authentication: a bearer secret, ``HUB_METRICS_TOKEN`` (at least 32 characters in
production), compared in constant time. Prometheus sends it with ``authorization:
{credentials_file: ...}``. In production without the setting the endpoint refuses every
scrape (deny by default); in development it is open unless the setting is given. A
separate secret rather than an OAuth scope keeps partner clients and their tokens out of
monitoring altogether: a scraper holds no key that could share or read a record.
"""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from hub.errors import problem_response
from hub.metrics import instruments, multiproc
from hub.metrics.gauges import DatabaseGauges

bp = Blueprint("metrics", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            instruments.record_request(
                request.endpoint, request.method, response.status_code,
                time.perf_counter() - started,
            )  # fmt: skip
        return response


@bp.get("/metrics")
def metrics() -> Response:
    """Every process's counters and histograms, and the database gauges read now."""
    refusal = _refusal()
    if refusal is not None:
        return refusal
    registry = CollectorRegistry(auto_describe=False)
    if multiproc.enabled():
        multiproc.collect_into(registry)
    else:
        registry.register(_Local())
    registry.register(DatabaseGauges(current_app.extensions["hub.sessionmaker"]))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class _Local:
    """This process's instruments (development and tests: one process, no directory)."""

    def collect(self):  # type: ignore[no-untyped-def]
        return instruments.REGISTRY.collect()


def _refusal() -> Response | None:
    settings = current_app.config["HUB_SETTINGS"]
    secret = settings.metrics_token
    if not secret:
        if not settings.production:
            return None
        return problem_response(
            403, "metrics are disabled in production until HUB_METRICS_TOKEN is set"
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), secret.encode()):
        return None
    return problem_response(
        401, "the metrics bearer token is missing or wrong",
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )  # fmt: skip

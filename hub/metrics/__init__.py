"""Operational metrics: a Prometheus ``/metrics`` endpoint (README "Monitoring").

* :mod:`hub.metrics.instruments`: the counters and histograms processes update (requests
  per route, sequencer batches). Under gunicorn they live in ``PROMETHEUS_MULTIPROC_DIR``
  (prepared by ``hub serve``, :mod:`hub.metrics.multiproc`), so a scrape answered by any
  worker reports every worker's counts.
* :mod:`hub.metrics.gauges`: what is read from the database when scraped (ledger size,
  unsequenced entries and sequencer lag, outbox depth and dead letters, checkpoint age),
  so every worker reports the same values and nothing goes stale.
* :mod:`hub.metrics.views`: the endpoint and its authentication (a bearer secret,
  ``HUB_METRICS_TOKEN``; required in production, open in development unless set).

Metric values carry no personal data: route names, methods, status codes and counts.
"""

from __future__ import annotations

# Nothing here imports prometheus_client at import time: ``hub serve`` imports
# :mod:`hub.metrics.multiproc` to set PROMETHEUS_MULTIPROC_DIR, which prometheus_client
# reads once, when first imported.

__all__ = ["init_app", "record_sequencer_batch"]


def record_sequencer_batch(size: int, seconds: float) -> None:
    """The sequencer calls this once per integrated batch: its size and how long it took."""
    from hub.metrics import instruments

    instruments.record_sequencer_batch(size, seconds)


def init_app(app: object) -> None:
    """Time every request and serve ``/metrics``."""
    from hub.metrics import views

    views.init_app(app)  # type: ignore[arg-type]

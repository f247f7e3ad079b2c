"""The metrics processes update: request counts and latency per route, sequencer batches.

They are registered in a private registry, not prometheus_client's global one, so the
scrape decides what it reports: this registry in a single process, or the files every
gunicorn worker writes when ``PROMETHEUS_MULTIPROC_DIR`` is set (prometheus_client reads
that variable when first imported, which is why ``hub serve`` sets it before the app
loads).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# Seconds; the hub's targets are p99 < 50 ms, so the buckets are finest there: no wider
# than 10 ms up to 50 ms (a quantile is interpolated within one bucket), then 75 ms.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
BATCH_SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)

REQUESTS = Counter(
    "hub_http_requests",
    "HTTP requests answered, by route (Flask endpoint name), method and status code.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "hub_http_request_duration_seconds",
    "Time from the request reaching the app to its response, by route and method.",
    ["endpoint", "method"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
SEQUENCER_BATCH_SIZE = Histogram(
    "hub_sequencer_batch_size",
    "Entries the sequencer assigned indexes to in one batch.",
    buckets=BATCH_SIZE_BUCKETS,
    registry=REGISTRY,
)
SEQUENCER_BATCH_SECONDS = Histogram(
    "hub_sequencer_batch_duration_seconds",
    "Time the sequencer took to integrate one batch (indexes, subtrees, head, projection).",
    buckets=BATCH_SECONDS_BUCKETS,
    registry=REGISTRY,
)

UNMATCHED = "unmatched"  # no route matched (404 before dispatch): one label, not the path


def record_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """Count one answered request under its route's endpoint name (never the raw path)."""
    name = endpoint or UNMATCHED
    REQUESTS.labels(name, method, str(status)).inc()
    REQUEST_SECONDS.labels(name, method).observe(seconds)


def record_sequencer_batch(size: int, seconds: float) -> None:
    """The sequencer calls this once per integrated batch: its size and how long it took."""
    SEQUENCER_BATCH_SIZE.observe(size)
    SEQUENCER_BATCH_SECONDS.observe(seconds)

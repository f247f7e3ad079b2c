"""The hub's own figures for one bench phase, from ``GET /metrics`` before and after it.

``bench/share.py`` scrapes every hub instance it loads just before a phase (after the
warm-up) and just after it, and turns the differences into server-side figures: requests
per route, the referral route's latency quantiles, sequencer batches, errors by status,
and the database gauges (unsequenced backlog, sequencer lag) as they stand at the end.

The latency quantiles are estimated from the histogram's buckets the way Prometheus's
``histogram_quantile`` does (linear within the bucket the rank falls in), so they are only
as fine as the buckets (``hub/metrics/instruments.py``), and they cover every answer of
the route (refusals too). A build without ``/metrics`` (``--hub-app``) gives ``None``.
The scrape goes through prometheus_client's own text parser.
"""

from __future__ import annotations

import dataclasses
import http.client
import math
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

REFERRAL_ENDPOINT = "referrals.Referrals"  # Flask endpoint of POST /api/v1/referrals
SCRAPE_ENDPOINT = "metrics.metrics"  # the scrapes themselves, left out of the counts
Labels = tuple[tuple[str, str], ...]
Samples = dict[tuple[str, Labels], float]
TOKEN = "bench-metrics-token-" + "m" * 32


def environment(env: dict[str, str], tmp: Path) -> dict[str, str]:
    """One hub gunicorn's environment, set up the way ``hub serve`` sets up its own.

    A fresh, private ``PROMETHEUS_MULTIPROC_DIR`` per gunicorn master (each worker's
    prometheus_client reads it on import, so a scrape answered by any worker sums them all;
    without it each worker would report only its own counts), and the bearer secret, as
    in production. The directory goes with ``tmp``. (``hub serve``'s ``child_exit`` hook
    only drops live-gauge files, which the hub's instruments do not use.)
    """
    directory = tempfile.mkdtemp(prefix="hub-metrics-", dir=tmp)
    return {**env, "PROMETHEUS_MULTIPROC_DIR": directory, "HUB_METRICS_TOKEN": TOKEN}


def each(host: str, ports: Iterable[int]) -> list[Samples | None]:
    return [scrape(host, port) for port in ports]


def scrape(host: str, port: int) -> Samples | None:
    """Every sample of one scrape as ``{(name, sorted labels): value}``; None if refused."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        response = connection.getresponse()
        body = response.read().decode()
    except OSError:
        return None
    finally:
        connection.close()
    if response.status != 200:
        return None
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def increase(before: Samples, after: Samples) -> Samples:
    """Counter and histogram growth over a phase (``_created`` timestamps left out)."""
    return {
        key: value - before.get(key, 0.0)
        for key, value in after.items()
        if key[0].endswith(("_total", "_bucket", "_count", "_sum"))
    }


@dataclasses.dataclass
class ServerFigures:
    """What the hub counted during one phase (all instances loaded in it, summed)."""

    referrals: int  # answers of the referral route, any status
    requests: dict[str, int]  # answers per route (Flask endpoint), scrapes excluded
    errors: dict[str, int]  # status (>= 400) -> answers, every route
    p50_ms: float  # referral route, bucket-interpolated
    p99_ms: float
    batches: int  # sequencer batches integrated
    mean_batch: float  # entries per batch
    mean_batch_ms: float
    unsequenced: float  # gauges at the end of the phase
    lag_seconds: float


def figures(before: list[Samples | None], after: list[Samples | None]) -> ServerFigures | None:
    """Server figures from per-instance scrapes before and after (None if any is missing)."""
    pairs = list(zip(before, after, strict=True))
    if not pairs or any(b is None or a is None for b, a in pairs):
        return None
    grown: Samples = {}
    for b, a in pairs:
        assert b is not None and a is not None  # noqa: S101 - narrowing for mypy
        for key, value in increase(b, a).items():
            grown[key] = grown.get(key, 0.0) + value
    requests: dict[str, int] = {}
    errors: dict[str, int] = {}
    for (name, labels), value in grown.items():
        tags = dict(labels)
        if name != "hub_http_requests_total" or tags["endpoint"] == SCRAPE_ENDPOINT or not value:
            continue
        requests[tags["endpoint"]] = requests.get(tags["endpoint"], 0) + int(value)
        if int(tags["status"]) >= 400:
            errors[tags["status"]] = errors.get(tags["status"], 0) + int(value)
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for (name, labels), value in grown.items()
        if name == "hub_http_request_duration_seconds_bucket"
        and ("endpoint", REFERRAL_ENDPOINT) in labels and ("method", "POST") in labels
    )  # fmt: skip
    batches = grown.get(("hub_sequencer_batch_size_count", ()), 0.0)
    end = after[-1]
    assert end is not None  # noqa: S101
    return ServerFigures(
        referrals=requests.get(REFERRAL_ENDPOINT, 0),
        requests=requests,
        errors=errors,
        p50_ms=quantile(0.50, buckets) * 1000,
        p99_ms=quantile(0.99, buckets) * 1000,
        batches=int(batches),
        mean_batch=grown.get(("hub_sequencer_batch_size_sum", ()), 0.0) / batches if batches else 0,
        mean_batch_ms=(
            grown.get(("hub_sequencer_batch_duration_seconds_sum", ()), 0.0) * 1000 / batches
            if batches else 0.0
        ),  # fmt: skip
        unsequenced=end.get(("hub_ledger_unsequenced_entries", ()), math.nan),
        lag_seconds=end.get(("hub_sequencer_lag_seconds", ()), math.nan),
    )


def quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """``histogram_quantile``: ``buckets`` are (upper bound, cumulative count), sorted.

    Linear interpolation inside the bucket the rank falls in (from 0 for the first); a rank
    in the ``+Inf`` bucket gives the highest finite bound. NaN when nothing was observed.
    """
    bounds = list(buckets)
    if not bounds or bounds[-1][1] <= 0:
        return math.nan
    rank = q * bounds[-1][1]
    lower, below = 0.0, 0.0
    for upper, cumulative in bounds:
        if cumulative >= rank:
            if math.isinf(upper):
                return lower
            share = (rank - below) / (cumulative - below) if cumulative > below else 1.0
            return lower + (upper - lower) * share
        lower, below = upper, cumulative
    return lower


def as_dict(server: ServerFigures | None) -> dict[str, Any] | None:
    return None if server is None else dataclasses.asdict(server)


HEADER = (
    f"{'':8}{'answers':>8}{'p50':>7}{'p99':>7}{'batches':>9}{'mean':>6}{'ms':>6}"
    f"{'backlog':>8}{'lag s':>7}  errors"
)


def table(rows: list[tuple[str, ServerFigures | None]]) -> list[str]:
    """The server-side figures of the hub phases, one line each, under their explanation."""
    return [
        "the hub phases as its /metrics counted them: answers of the referral route (any",
        "status), its p50/p99 ms (bucket-interpolated, from request start to response, no",
        "queueing); sequencer batches, mean entries and ms per batch (as the sequencer times",
        "it, lock wait included); unsequenced backlog and lag at the end; errors by status:",
        HEADER,
        *(row(label, server) for label, server in rows),
    ]


def row(label: str, server: ServerFigures | None) -> str:
    """One line of the server-side table (``HEADER``), or why there is none."""
    if server is None:
        return f"{label:8}(no /metrics)"
    errors = ", ".join(f"{s}: {n}" for s, n in sorted(server.errors.items())) or "none"
    return (
        f"{label:8}{server.referrals:>8}{server.p50_ms:>7.1f}{server.p99_ms:>7.1f}"
        f"{server.batches:>9}{server.mean_batch:>6.1f}{server.mean_batch_ms:>6.1f}"
        f"{server.unsequenced:>8.0f}{server.lag_seconds:>7.2f}  {errors}"
    )

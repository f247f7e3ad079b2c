"""A small closed-loop HTTP load generator for loopback benchmarks (``bench/share.py``).

``concurrency`` threads each hold one keep-alive ``http.client`` connection and send the
next request as soon as the previous answer is read, until ``total`` requests are done
or ``duration`` seconds have passed: bounded in count and time. Latency is measured per
request from just before sending to the last byte of the answer.
"""

from __future__ import annotations

import dataclasses
import http.client
import itertools
import statistics
import threading
import time
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class Request:
    """One prepared request: path, body bytes and headers (token included)."""

    path: str
    body: bytes
    headers: dict[str, str]


@dataclasses.dataclass
class LoadResult:
    """What one load phase measured."""

    name: str
    seconds: float
    latencies: list[float]
    errors: int
    statuses: dict[int, int]

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Successful requests per second over the whole phase."""
        return self.completed / self.seconds if self.seconds else 0.0

    @classmethod
    def combined(cls, results: Sequence[LoadResult]) -> LoadResult:
        """Phases run side by side (against several servers) as one: over the longest."""
        statuses: dict[int, int] = {}
        for result in results:
            for status, count in result.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        latencies = [latency for result in results for latency in result.latencies]
        return cls(results[0].name, max(r.seconds for r in results), latencies,
                   sum(r.errors for r in results), statuses)  # fmt: skip

    def percentile(self, p: int) -> float:
        """The ``p``-th percentile latency in milliseconds."""
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


def run_load(
    name: str,
    host: str,
    port: int,
    requests: Sequence[Request],
    *,
    concurrency: int,
    total: int,
    duration: float,
    expect: int = 201,
    warmup: int = 20,
) -> LoadResult:
    """Send ``total`` requests (cycling through ``requests``) from ``concurrency`` threads."""
    warm_up(host, port, requests, warmup)
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = [0]
    deadline = time.perf_counter() + duration

    def worker() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        mine: list[float] = []
        seen: dict[int, int] = {}
        failed = 0
        try:
            while time.perf_counter() < deadline:
                with lock:
                    number = next(counter)
                if number >= total:
                    break
                req = requests[number % len(requests)]
                started = time.perf_counter()
                try:
                    status = _send(connection, req)
                except (http.client.HTTPException, OSError):
                    connection.close()  # reconnects on the next request
                    failed += 1
                    continue
                elapsed = time.perf_counter() - started
                seen[status] = seen.get(status, 0) + 1
                if status == expect:
                    mine.append(elapsed)
                else:
                    failed += 1
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
                errors[0] += failed
                for status, count in seen.items():
                    statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(name, time.perf_counter() - started, latencies, errors[0], statuses)


def _send(connection: http.client.HTTPConnection, req: Request) -> int:
    connection.request("POST", req.path, body=req.body, headers=req.headers)
    response = connection.getresponse()
    response.read()
    return response.status


def warm_up(host: str, port: int, requests: Sequence[Request], count: int) -> None:
    """A few requests first so that every worker has imported, connected and cached."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        for number in range(count):
            _send(connection, requests[number % len(requests)])
    finally:
        connection.close()

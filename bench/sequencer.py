"""Sequencer benchmark: sequenced entries/s, closed-loop writers and a backlog.

Not a test. For each backend (SQLite, and PostgreSQL with ``--postgres URL`` or
``HUB_TEST_DATABASE_URL``):

- writers 1/2/4/8 (threads), each in a closed loop: one deferred append and a commit that
  returns only once the entry is sequenced (the request path); prints sequenced entries/s,
  the mean batch size (group commit) and p50/p99 of append + commit;
- a backlog of ``--backlog`` committed, unsequenced entries sequenced by ``sequencer.sweep``:
  the sequencer's own rate (target >= 3,000 entries/s on PostgreSQL);
- for comparison, the inline path (append sequenced in the writer's transaction).

    python bench/sequencer.py [--postgres URL] [--seconds 5] [--backlog 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ledger import open_backend, template_events  # noqa: E402
from hub import metrics  # noqa: E402
from hub.db import make_sessionmaker  # noqa: E402
from hub.ledger import sequencer, settling, store  # noqa: E402

WRITERS = (1, 2, 4, 8)


def closed_loop(maker: Any, writers: int, seconds: float, deferred: bool) -> dict[str, float]:
    """``writers`` threads appending one event per transaction for ``seconds``."""
    batches: list[int] = []
    original = metrics.record_sequencer_batch
    metrics.record_sequencer_batch = lambda size, _s: batches.append(size)  # type: ignore[assignment]
    latencies: list[float] = []
    done = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    events = template_events(1000)

    def run(offset: int) -> None:
        i = offset
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            with maker() as session:
                store.append_entries(session, [events[i % len(events)]], deferred=deferred)
                session.commit()
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed * 1000)
                done[0] += 1
            i += writers

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    metrics.record_sequencer_batch = original
    latencies.sort()
    return {
        "per_s": done[0] / wall,
        "batch": statistics.fmean(batches) if batches else 0.0,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)],
    }


def backlog(maker: Any, count: int) -> float:
    """Commit ``count`` unsequenced entries (nobody waiting), then time one sweep."""
    events = template_events(count)
    for start in range(0, count, 2000):
        with maker() as session:
            store.append_entries(session, events[start : start + 2000], deferred=True)
            settling.forget(session)
            session.commit()
    t0 = time.perf_counter()
    with maker() as session:
        swept = sequencer.sweep(session)
    assert swept == count, swept
    return count / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("HUB_TEST_DATABASE_URL"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--backlog", type=int, default=20_000)
    args = parser.parse_args()
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name in backends:
        engine, cleanup = open_backend(name, args.postgres)
        try:
            maker = make_sessionmaker(engine)
            rate = backlog(maker, args.backlog)
            print(f"{name}: backlog of {args.backlog} sequenced at {rate:,.0f} entries/s")
            for deferred in (True, False):
                path = "deferred (sequencer)" if deferred else "inline (lock to commit)"
                for writers in WRITERS:
                    r = closed_loop(maker, writers, args.seconds, deferred)
                    print(
                        f"{name}: {path:24} writers {writers}: {r['per_s']:7,.0f} entries/s, "
                        f"mean batch {r['batch']:5.1f}, p50 {r['p50']:6.1f} ms, "
                        f"p99 {r['p99']:6.1f} ms"
                    )
        finally:
            cleanup()


if __name__ == "__main__":
    main()

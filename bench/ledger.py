"""Ledger benchmark: appends/s, inclusion-proof latency and full-verification speed.

Not a test. Runs SQLite and (with ``--postgres URL`` or ``HUB_TEST_DATABASE_URL``)
PostgreSQL side by side and prints ratios taken in the same run (docs/architecture.md targets:
>= 3,000 appends/s on PostgreSQL, inclusion proofs < 2 ms at 10^6 entries, verification
>= 0.3x hashing the same leaves with hashlib in a plain loop).

    python bench/ledger.py [--postgres URL] [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from hub.db import Base, make_engine, make_sessionmaker  # noqa: E402
from hub.ledger import checkpoint, events, store, verify  # noqa: E402
from hub.ledger.models import (  # noqa: E402
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    LedgerOrigin,
    LedgerUnsequenced,
)
from hub.ledger.projection import PROJECTION_TABLES  # noqa: E402

ORIGIN = "bench.hub/ledger"
# Appends write the audit projection in the same transaction, so its tables come too.
TABLES = [
    *(
        m.__table__
        for m in (
            LedgerEntry, LedgerNode, LedgerCheckpoint, LedgerHead, LedgerOrigin, LedgerUnsequenced
        )
    ),
    *PROJECTION_TABLES,
]
BATCH = 2000
CHECKPOINT_EVERY = 10_000


def template_events(count: int) -> list[dict[str, Any]]:
    """Realistic disclosure events (~650 bytes of canonical JSON each)."""
    base = events.disclosure_event(
        {"partner": "leics-police", "client": "leics-police-cms", "user": "u-3f9a"},
        recipients=["leics-yot"],
        agreement={"id": "ISA-0007", "version": "3", "digest": "sha256:" + "ab" * 32},
        basis=["CDA_S115", "GDPR_6_1_E", "SCH1_P18"],
        purpose="reducing_reoffending",
        justification="REF-0",
        subjects=[events.subject_commitment("bench", "pnc", "99/1A")],
        fields_released=["pnc_id", "offence_category", "risk_level"],
        fields_withheld=[{"field": "health_notes", "reason": "not_in_flow"}],
        payload_digest=events.payload_digest(b"0"),
        ref="ref-0",
    )
    out = []
    for i in range(count):
        event = dict(base)
        event["ref"] = f"ref-{i}"
        event["payload_digest"] = "sha256:" + hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
        out.append(event)
    return out


def open_backend(name: str, pg_url: str | None) -> tuple[Engine, Any]:
    """A fresh, empty ledger database; returns the engine and a clean-up callable."""
    if name == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        engine = make_engine(f"sqlite:///{tmp.name}/bench.sqlite3")
        Base.metadata.create_all(engine, tables=TABLES)
        return engine, lambda: (engine.dispose(), tmp.cleanup())
    schema = f"ledger_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})
    Base.metadata.create_all(engine, tables=TABLES)

    def cleanup() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return engine, cleanup


def bench_single(maker: Any, count: int) -> float:
    """One event per transaction, committed: the audited-disclosure path."""
    evs = template_events(count)
    start = time.perf_counter()
    for event in evs:
        with maker() as session:
            store.append_entry(session, event)
            session.commit()
    return count / (time.perf_counter() - start)


def bulk_load(maker: Any, key: Ed25519PrivateKey, start: int, target: int) -> tuple[int, float]:
    """Batched appends up to ``target`` entries, a checkpoint every 10,000; returns (n, s)."""
    evs = template_events(BATCH)
    elapsed, done = 0.0, 0
    size = start
    while size < target:
        n = min(BATCH, target - size)
        t0 = time.perf_counter()
        with maker() as session:
            store.append_entries(session, evs[:n])
            size += n
            if size % CHECKPOINT_EVERY == 0 or size == target:
                checkpoint.sign_checkpoint(session, key, ORIGIN)
            session.commit()
        elapsed += time.perf_counter() - t0
        done += n
    return done, elapsed


def bench_proofs(maker: Any, size: int, samples: int = 500) -> tuple[float, float]:
    """Inclusion proofs at ``size``: a fresh session per proof, like a request. (mean, p99) ms."""
    rng = random.Random(size)
    times = []
    for _ in range(samples):
        index = rng.randrange(size)
        t0 = time.perf_counter()
        with maker() as session:
            store.inclusion_proof(session, index, size)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.fmean(times), times[int(len(times) * 0.99) - 1]


def bench_verify(maker: Any, key: Ed25519PrivateKey, repeat: int = 3) -> tuple[float, float, int]:
    """Full verification time versus a plain hashlib loop over the same leaves.

    The baseline is the issue's: ``H(0x00 || entry)`` for every stored entry, in a plain
    Python loop over entries already in memory (no database time). Both sides are timed
    ``repeat`` times in alternation and the best of each is kept, so a noisy neighbour on
    the machine skews neither side.
    """
    vkey = checkpoint.verifier_key(ORIGIN, key)
    with maker() as session:
        blobs = list(session.scalars(select(LedgerEntry.entry).order_by(LedgerEntry.index)))
    sha = hashlib.sha256
    fulls, plains = [], []
    for _ in range(repeat):
        with maker() as session:
            t0 = time.perf_counter()
            report = verify.verify_ledger(session, vkey)
            fulls.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for blob in blobs:
            sha(b"\x00" + blob).digest()
        plains.append(time.perf_counter() - t0)
    return min(fulls), min(plains), report.checkpoints


def run_backend(name: str, pg_url: str | None, sizes: list[int], single: int) -> dict[str, Any]:
    engine, cleanup = open_backend(name, pg_url)
    maker = make_sessionmaker(engine)
    key = Ed25519PrivateKey.generate()
    result: dict[str, Any] = {"backend": name, "single": bench_single(maker, single), "sizes": {}}
    loaded, load_time, size = 0, 0.0, single
    try:
        for target in sizes:
            n, secs = bulk_load(maker, key, size, target)
            loaded, load_time, size = loaded + n, load_time + secs, target
            mean, p99 = bench_proofs(maker, target)
            full, plain, cps = bench_verify(maker, key)
            result["sizes"][target] = {
                "proof_mean": mean,
                "proof_p99": p99,
                "verify_s": full,
                "hashlib_s": plain,
                "ratio": plain / full,
                "checkpoints": cps,
            }
            print(
                f"  [{name}] {target:>9,} entries: proof {mean:.3f} ms (p99 {p99:.3f}), "
                f"verify {full:.2f} s vs hashlib {plain:.3f} s -> {plain / full:.2f}x",
                flush=True,
            )
        result["batched"] = loaded / load_time if load_time else 0.0
    finally:
        cleanup()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("HUB_TEST_DATABASE_URL"))
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--single", type=int, default=2000, help="single-append transactions")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    backends = ["sqlite"] + (["postgres"] if args.postgres else [])
    results = []
    for name in backends:
        print(f"{name}: loading...", flush=True)
        results.append(run_backend(name, args.postgres, sizes, args.single))
    print("\nmetric".ljust(44) + "".join(r["backend"].rjust(14) for r in results))
    rows = [
        ("appends/s, one per transaction", lambda r: f"{r['single']:,.0f}"),
        (f"appends/s, batched ({BATCH} per transaction)", lambda r: f"{r['batched']:,.0f}"),
    ]
    for size in sizes:
        rows.append(
            (
                f"inclusion proof mean ms @ {size:,}",
                lambda r, s=size: f"{r['sizes'][s]['proof_mean']:.3f}",
            )
        )
        rows.append(
            (
                f"inclusion proof p99 ms @ {size:,}",
                lambda r, s=size: f"{r['sizes'][s]['proof_p99']:.3f}",
            )
        )
        rows.append(
            (
                f"verify / hashlib speed @ {size:,}",
                lambda r, s=size: f"{r['sizes'][s]['ratio']:.2f}x",
            )
        )
    for label, cell in rows:
        print(label.ljust(43) + "".join(cell(r).rjust(14) for r in results))


if __name__ == "__main__":
    main()

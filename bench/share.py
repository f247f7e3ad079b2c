"""End-to-end sharing benchmark: the hub's audited referral against a bare endpoint.

Not a test. In one run, on a throw-away PostgreSQL database:

1. a bare Flask + SQLAlchemy app (``bench/bare_app.py``) that stores the same JSON, and
2. the hub (token check, decision, redaction, encryption, ledger append, inbox row, commit),

each under gunicorn with the same workers, loaded from loopback by ``bench/loadgen.py``;
then the 10,000-referral ``/referrals:batch`` (the police daily download). Prints
referrals/s, p50 and p99 side by side, the ratio, and the docs/architecture.md targets (>= 500/s,
p99 < 100 ms, ratio >= 0.5, batch < 10 s).

    python bench/share.py [--postgres URL] [--workers 4] [--threads 1] [--concurrency 8]
                          [--requests 6000] [--duration 30] [--batch 10000]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bare_app import Base as BareBase  # noqa: E402
from loadgen import LoadResult, Request, run_load  # noqa: E402

from hub import db  # noqa: E402
from hub.client_assertion import make_assertion  # noqa: E402
from hub.schema import throwaway_database  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
REFERRAL: dict[str, Any] = {
    "to": "kent-syv-provider",
    "purpose": "syv_intervention",
    "consent": {"state": "given"},
    "data": {
        "given_name": "Jayden",
        "family_name": "Reid",
        "date_of_birth": "2010-03-09",
        "gender": "male",
        "la_case_number": "KCC-558201",
        "ete_status": "neet",
        "missing_episodes_count": 4,
        "exploitation_tier": "significant",
        "rag_status": "red",
        "mental_health": "withheld by the flow",  # partial release, as in real traffic
    },
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def hub_env(database_url: str, tmp: Path, issuer: str) -> dict[str, str]:
    """The hub's environment: a copy of policies/ and keys/, secrets and keys under tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        HUB_ROOT=str(tmp / "project"),
        HUB_DATABASE_URL=database_url,
        HUB_ISSUER=issuer,
        HUB_HUB_KEY=str(tmp / "hub-signing.key"),
        HUB_MASTER_KEY=str(tmp / "master.key"),
        HUB_WEBHOOK_KEY=str(tmp / "webhook-signing.jwk"),
        HUB_SECRET_KEY="bench-secret-key-" + "s" * 40,
        HUB_SUBJECT_SECRET="bench-subject-secret-" + "t" * 40,
        HUB_LOG_LEVEL="INFO",
    )
    return env


def prepare(database_url: str, env: dict[str, str], tmp: Path) -> None:
    """``hub init`` + ``hub sync`` (the real commands) and the bare app's table."""
    shutil.copytree(PROJECT / "policies", tmp / "project" / "policies")
    shutil.copytree(PROJECT / "keys", tmp / "project" / "keys")
    for command in ("init", "sync"):
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", "from hub.cli import main; main()", command],
            env=env,
            check=True,
            capture_output=True,
        )
    engine = db.make_engine(database_url)
    BareBase.metadata.create_all(engine)
    engine.dispose()


@contextlib.contextmanager
def gunicorn(
    app: str, chdir: Path, port: int, env: dict[str, str], args: argparse.Namespace, log: Path
) -> Iterator[None]:
    """Serve ``app`` with gunicorn (same settings for both apps) until the block ends."""
    worker_class = "gthread" if args.threads > 1 else "sync"
    command = [
        sys.executable, "-m", "gunicorn", app,
        "--chdir", str(chdir),
        "--bind", f"{HOST}:{port}",
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--worker-class", worker_class,
        "--timeout", "300",
        "--keep-alive", "30",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            _wait_up(process, port)
            yield
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_up(process: subprocess.Popen[bytes], port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see the bench log")
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/readyz")
            if connection.getresponse().status in {200, 404}:  # the bare app has no probe
                return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise SystemExit("gunicorn did not come up in time")


def post_json(port: int, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(HOST, port, timeout=600)
    try:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        connection.request("POST", path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def token(port: int, issuer: str, partner_id: str) -> str:
    """A bearer token through the real token endpoint (fetched before the clock starts)."""
    jwk = json.loads((PROJECT / "keys" / "demo" / f"{partner_id}.jwk").read_text())
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "scope": "referrals:write referrals:read",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": make_assertion(partner_id, jwk, f"{issuer}/oauth/token"),
        }
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = post_json(port, "/oauth/token", form, headers)
    if status != 200:
        raise SystemExit(f"token for {partner_id}: {status} {body}")
    return str(body["access_token"])


def batch_items(count: int) -> list[dict[str, Any]]:
    """Leicestershire Police's daily download of victims who accepted referral."""
    return [
        {
            "to": "victim-first",
            "purpose": "victims_code_referral",
            "consent": {"state": "given"},
            "client_ref": f"LP-{n}",
            "data": {
                "given_name": f"Victim{n}",
                "family_name": "Example",
                "date_of_birth": "1987-06-14",
                "crime_reference": f"LP/{n}/26",
                "crime_type": "Burglary (dwelling)",
                "contact_preference": "phone",
                "phone_primary": "07700 900123",
                "phone_primary_safe_to_call": True,
                "victims_code_category": "standard",
                "ethnicity": "withheld by the flow",
            },
        }
        for n in range(count)
    ]


def run(args: argparse.Namespace) -> dict[str, Any]:
    with (
        throwaway_database(args.postgres, "hub_bench") as url,
        tempfile.TemporaryDirectory() as tmp_name,
    ):
        tmp = Path(tmp_name)
        hub_port, bare_port = free_port(), free_port()
        issuer = f"http://{HOST}:{hub_port}"
        env = hub_env(url, tmp, issuer)
        prepare(url, env, tmp)
        log = tmp / "gunicorn.log"
        body = json.dumps(REFERRAL).encode()
        json_headers = {"Content-Type": "application/json"}
        load = {
            "concurrency": args.concurrency,
            "total": args.requests,
            "duration": args.duration,
        }
        bare_env = {**env, "BENCH_DATABASE_URL": url}
        with gunicorn("bare_app:create_app()", BENCH, bare_port, bare_env, args, log):
            bare = run_load(
                "bare", HOST, bare_port, [Request("/referrals", body, json_headers)], **load
            )
        with gunicorn(args.hub_app, Path(args.hub_chdir), hub_port, env, args, log):
            auth = {
                **json_headers,
                "Authorization": f"Bearer {token(hub_port, issuer, 'kent-csc')}",
            }
            hub = run_load(
                "hub", HOST, hub_port, [Request("/api/v1/referrals", body, auth)], **load
            )
            batch = run_batch(hub_port, issuer, args.batch) if args.batch else None
        if bare.errors or hub.errors:
            print(f"errors: bare {bare.statuses}, hub {hub.statuses}; log tail:")
            print("\n".join(log.read_text(errors="replace").splitlines()[-20:]))
    return {"bare": bare, "hub": hub, "batch": batch}


def run_batch(port: int, issuer: str, count: int) -> dict[str, Any]:
    auth = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token(port, issuer, 'leics-police')}",
    }
    data = json.dumps({"items": batch_items(count)}).encode()
    started = time.perf_counter()
    status, body = post_json(port, "/api/v1/referrals:batch", data, auth)
    seconds = time.perf_counter() - started
    shared = sum(1 for r in (body or {}).get("results", []) if r.get("status") == 201)
    return {"count": count, "status": status, "shared": shared, "seconds": seconds,
            "bytes": len(data)}  # fmt: skip


def report(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    bare: LoadResult = results["bare"]
    hub: LoadResult = results["hub"]
    ratio = hub.rate / bare.rate if bare.rate else 0.0
    mode = f"{args.workers} x {'gthread/' + str(args.threads) if args.threads > 1 else 'sync'}"
    lines = [
        f"gunicorn {mode} workers, {args.concurrency} keep-alive clients on loopback, "
        f"PostgreSQL, {os.cpu_count()} CPUs",
        "",
        f"{'':24}{'hub (audited)':>16}{'bare Flask+SQLA':>18}",
        f"{'requests ok':24}{hub.completed:>16}{bare.completed:>18}",
        f"{'errors':24}{hub.errors:>16}{bare.errors:>18}",
        f"{'referrals/s':24}{hub.rate:>16.0f}{bare.rate:>18.0f}",
        f"{'p50 ms':24}{hub.percentile(50):>16.1f}{bare.percentile(50):>18.1f}",
        f"{'p99 ms':24}{hub.percentile(99):>16.1f}{bare.percentile(99):>18.1f}",
        "",
        f"ratio hub / bare: {ratio:.2f}",
    ]
    checks = [
        ("referrals/s >= 500", hub.rate >= 500),
        ("p99 < 100 ms", hub.percentile(99) < 100),
        ("ratio >= 0.5", ratio >= 0.5),
    ]
    batch = results["batch"]
    if batch:
        lines.append(
            f"batch of {batch['count']:,} ({batch['bytes'] / 1e6:.1f} MB): HTTP {batch['status']}, "
            f"{batch['shared']:,} shared in {batch['seconds']:.2f} s "
            f"({batch['count'] / batch['seconds']:.0f}/s)"
        )
        checks.append((f"batch of {batch['count']:,} < 10 s", batch["seconds"] < 10))
    lines.append("")
    lines += [f"  [{'met' if ok else 'MISSED'}] {label}" for label, ok in checks]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres", default=os.environ.get("HUB_TEST_DATABASE_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help=">1 uses gthread workers")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=6000, help="per app")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds, per app, at most")
    parser.add_argument("--batch", type=int, default=10_000, help="0 skips the batch")
    parser.add_argument(
        "--hub-app", default="wsgi:app", help="gunicorn app spec (to measure a patched build)"
    )
    parser.add_argument("--hub-chdir", default=str(PROJECT), help="where --hub-app is found")
    args = parser.parse_args()
    for line in report(run(args), args):
        print(line)


if __name__ == "__main__":
    main()

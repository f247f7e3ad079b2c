"""End-to-end sharing benchmark: the hub's audited referral beside a bare endpoint.

Not a test. In one run, on a throw-away PostgreSQL database, with both apps under gunicorn
(same workers) and loaded from loopback by ``bench/loadgen.py``:

1. **Alternating phases**: short bare and hub phases, one after the other, ``--repeats``
   times (a drifting, shared machine otherwise moves the ratio); the median ratio, and p50
   and p99 of the hub beside bare's from the same phases; CPU per referral of each server
   (its gunicorn processes, from /proc).
2. **Round trips and statements per referral**, both sides, counted in-process on the same
   code (``bench/hotpath.py``).
3. **Writers** 1, 2, 4, 8 (concurrent clients) against the hub: does throughput rise?
4. **Two hub instances** (two gunicorn masters on the one database) against one, with the
   same clients in total.
5. The 10,000-referral ``/referrals:batch`` (the police daily download).

Then the targets (DESIGN.md "Performance targets"): >= 0.7x bare, p99 < 50 ms and <= 1.5x
bare's p99, >= 500/s, batch < 5 s, rising with writers, two instances beating one. The
machine's load average is printed before and after: ratios are only comparable side by side.

Every hub phase is also read from the hub's own ``/metrics`` (``bench/scrape.py``: scraped
after the warm-up and after the phase; each hub gunicorn has its own multiprocess directory,
as under ``hub serve``): referral answers, server p50/p99 (bucket-interpolated), sequencer
batches and mean size, backlog and lag at the end, errors by status. Ratio and throughput
stay client-measured (bare has no ``/metrics``).

    python bench/share.py [--postgres URL] [--workers 4] [--threads 1] [--concurrency 8]
                          [--phase 5] [--repeats 3] [--batch 10000] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

import scrape  # noqa: E402
from bare_app import Base as BareBase  # noqa: E402
from loadgen import LoadResult, Request, run_load, warm_up  # noqa: E402

from hub import db  # noqa: E402
from hub.client_assertion import make_assertion  # noqa: E402
from hub.schema import throwaway_database  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
WARMUP = 20
WRITERS = (1, 2, 4, 8)
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
) -> Iterator[subprocess.Popen[bytes]]:
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
            yield process
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


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


@dataclasses.dataclass
class Phase:
    """One load phase, the server CPU it cost and, for the hub, what its /metrics counted."""

    load: LoadResult
    cpu_seconds: float
    server: scrape.ServerFigures | None = None

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_seconds * 1000 / self.load.completed if self.load.completed else 0.0


def phase(
    name: str, servers: dict[int, subprocess.Popen[bytes]], request: Request, concurrency: int,
    seconds: float,
) -> Phase:  # fmt: skip
    """Warm up, then load, the clients split between the servers (port: gunicorn master); a
    hub's /metrics is scraped just before and just after the load, outside the CPU reading."""
    for port in servers:
        warm_up(HOST, port, [request], WARMUP)
    scraped = scrape.each(HOST, servers) if name == "hub" else []
    before = sum(tree_cpu(process.pid) for process in servers.values())
    done: list[LoadResult] = []
    each = max(1, concurrency // len(servers))

    def load(port: int) -> None:
        done.append(run_load(name, HOST, port, [request], concurrency=each, total=10**9,
                             duration=seconds, warmup=0))  # fmt: skip

    threads = [threading.Thread(target=load, args=(port,)) for port in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = sum(tree_cpu(process.pid) for process in servers.values()) - before
    server = scrape.figures(scraped, scrape.each(HOST, servers)) if name == "hub" else None
    return Phase(LoadResult.combined(done), cpu, server)


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"load_before": os.getloadavg()}
    with (
        throwaway_database(args.postgres, "hub_bench") as url,
        tempfile.TemporaryDirectory() as tmp_name,
    ):
        tmp = Path(tmp_name)
        hub_port, bare_port, second_port = free_port(), free_port(), free_port()
        issuer = f"http://{HOST}:{hub_port}"
        env = hub_env(url, tmp, issuer)
        prepare(url, env, tmp)
        if args.hotpath:
            results["per_referral"] = in_process_counts(url, env, args.hotpath)
        log = tmp / "gunicorn.log"
        body = json.dumps(REFERRAL).encode()
        json_headers = {"Content-Type": "application/json"}
        bare_env = {**env, "BENCH_DATABASE_URL": url}
        bare_request = Request("/referrals", body, json_headers)
        chdir, hub_env_of = Path(args.hub_chdir), lambda: scrape.environment(env, tmp)
        with (
            gunicorn("bare_app:create_app()", BENCH, bare_port, bare_env, args, log) as bare_p,
            gunicorn(args.hub_app, chdir, hub_port, hub_env_of(), args, log) as hub_p,
        ):
            bearer = token(hub_port, issuer, "kent-csc")
            auth = {**json_headers, "Authorization": f"Bearer {bearer}"}
            hub_request = Request("/api/v1/referrals", body, auth)
            rounds, clients, seconds, hubs = [], args.concurrency, args.phase, {hub_port: hub_p}
            for _ in range(args.repeats):
                bare = phase("bare", {bare_port: bare_p}, bare_request, clients, seconds)
                rounds.append((bare, phase("hub", hubs, hub_request, clients, seconds)))
            results["rounds"] = rounds
            results["writers"] = {n: phase("hub", hubs, hub_request, n, seconds) for n in WRITERS}
            one = phase("hub", hubs, hub_request, clients, seconds)
            with gunicorn(args.hub_app, chdir, second_port, hub_env_of(), args, log) as second:
                two = phase("hub", {**hubs, second_port: second}, hub_request, clients, seconds)
            results["instances"] = (one, two)
            results["batch"] = run_batch(hub_port, issuer, args.batch) if args.batch else None
        errors = [p.load for pair in rounds for p in pair if p.load.errors]
        if errors:
            print(f"errors: {[(e.name, e.statuses) for e in errors]}; log tail:")
            print("\n".join(log.read_text(errors="replace").splitlines()[-20:]))
    results["load_after"] = os.getloadavg()
    return results


def in_process_counts(url: str, env: dict[str, str], count: int) -> dict[str, Any]:
    """Statements, round trips and CPU per referral, both apps, in this process."""
    import hotpath

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return {"bare": hotpath._bare(url, count), "hub": hotpath._hub(count, None)}
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_batch(port: int, issuer: str, count: int) -> dict[str, Any]:
    auth = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token(port, issuer, 'leics-police')}",
    }
    # The flow relies on consent (UK GDPR Art 7(1)): every item cites a live record.
    scope = {"purposes": ["victims_code_referral"], "recipients": ["victim-first"]}
    status, consent = post_json(port, "/api/v1/consents", {**scope, "explicit": False}, auth)
    if status != 201:
        raise SystemExit(f"consent record: {status} {consent}")
    items = batch_items(count)
    for item in items:
        item["consent"] = {"state": "given", "record": consent["id"]}
    data = json.dumps({"items": items}).encode()
    started = time.perf_counter()
    status, body = post_json(port, "/api/v1/referrals:batch", data, auth)
    seconds = time.perf_counter() - started
    answers = (body or {}).get("results", [])
    shared = sum(1 for r in answers if r.get("status") == 201)
    refused = next((r for r in answers if r.get("status") != 201), None)
    if refused is not None:
        print(f"batch: first item not shared: {json.dumps(refused)[:600]}")
    return {"count": count, "status": status, "shared": shared, "seconds": seconds,
            "bytes": len(data)}  # fmt: skip


def report(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    rounds: list[tuple[Phase, Phase]] = results["rounds"]
    ratios = [h.load.rate / b.load.rate if b.load.rate else 0.0 for b, h in rounds]
    ratio = statistics.median(ratios)
    mode = f"{args.workers} x {'gthread/' + str(args.threads) if args.threads > 1 else 'sync'}"
    load = results["load_before"], results["load_after"]
    lines = [
        f"gunicorn {mode} workers, {args.concurrency} keep-alive clients on loopback, "
        f"PostgreSQL, {os.cpu_count()} CPUs; load average {load[0][0]:.1f} before, "
        f"{load[1][0]:.1f} after",
        "",
        f"{args.repeats} rounds of {args.phase:g} s bare then {args.phase:g} s hub:",
        f"{'round':8}{'hub/s':>8}{'bare/s':>8}{'ratio':>7}{'hub p50':>9}{'bare p50':>9}"
        f"{'hub p99':>9}{'bare p99':>9}{'hub CPU':>9}{'bare CPU':>9}",
    ]
    for number, (bare, hub) in enumerate(rounds, 1):
        b, h = bare.load, hub.load
        lines.append(
            f"{number:<8}{h.rate:>8.0f}{b.rate:>8.0f}{h.rate / b.rate if b.rate else 0:>7.2f}"
            f"{h.percentile(50):>9.1f}{b.percentile(50):>9.1f}"
            f"{h.percentile(99):>9.1f}{b.percentile(99):>9.1f}"
            f"{hub.cpu_ms_per_request:>9.1f}{bare.cpu_ms_per_request:>9.1f}"
        )
    hub_p99 = statistics.median(h.load.percentile(99) for _, h in rounds)
    bare_p99 = statistics.median(b.load.percentile(99) for b, _ in rounds)
    hub_rate = statistics.median(h.load.rate for _, h in rounds)
    one, two = results["instances"]
    writers: dict[int, Phase] = results["writers"]
    lines += [
        "(latencies in ms; CPU = server CPU ms per referral, all gunicorn processes)",
        "",
        *scrape.table([(str(n), h.server) for n, (_, h) in enumerate(rounds, 1)]
                      + [(f"{n} wr", w.server) for n, w in writers.items()]
                      + [("1 inst", one.server), ("2 inst", two.server)]),  # fmt: skip
        "",
        f"median ratio hub / bare: {ratio:.2f}; median hub {hub_rate:.0f}/s; "
        f"median p99 hub {hub_p99:.1f} ms, bare {bare_p99:.1f} ms",
    ]
    counts = results.get("per_referral")
    if counts:
        lines += ["", f"{'per referral (in-process)':28}{'hub':>8}{'bare':>8}"]
        for key, label in (("statements", "statements"), ("round_trips", "round trips"),
                           ("cpu_ms", "Python CPU ms")):  # fmt: skip
            lines.append(f"{label:28}{counts['hub'][key]:>8.2f}{counts['bare'][key]:>8.2f}")
    rates = [writers[n].load.rate for n in sorted(writers)]
    lines += ["", "writers (clients) -> hub referrals/s, p99 ms:"]
    lines += [f"  {n}: {w.load.rate:.0f}/s, p99 {w.load.percentile(99):.1f}"
              for n, w in writers.items()]  # fmt: skip
    lines.append(f"one hub instance: {one.load.rate:.0f}/s; "
                 f"two instances on one database: {two.load.rate:.0f}/s")  # fmt: skip
    checks = [
        ("ratio >= 0.7 (median)", ratio >= 0.7),
        ("p99 < 50 ms (median)", hub_p99 < 50),
        ("p99 <= 1.5x bare's p99 (same phases)", hub_p99 <= 1.5 * bare_p99),
        ("referrals/s >= 500 (median)", hub_rate >= 500),
        ("throughput rising with writers 1/2/4/8", all(map(float.__lt__, rates, rates[1:]))),
        ("two instances beat one", two.load.rate > one.load.rate),
    ]
    batch = results["batch"]
    if batch:
        lines.append(
            f"batch of {batch['count']:,} ({batch['bytes'] / 1e6:.1f} MB): HTTP {batch['status']}, "
            f"{batch['shared']:,} shared in {batch['seconds']:.2f} s "
            f"({batch['count'] / batch['seconds']:.0f}/s)"
        )
        checks.append((f"batch of {batch['count']:,} < 5 s", batch["seconds"] < 5))
    lines.append("")
    lines += [f"  [{'met' if ok else 'MISSED'}] {label}" for label, ok in checks]
    return lines


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The figures as JSON (for the README table)."""
    rounds = results["rounds"]
    one, two = results["instances"]
    return {
        "load": [results["load_before"][0], results["load_after"][0]],
        "rounds": [{"bare": _figures(b), "hub": _figures(h)} for b, h in rounds],
        "per_referral": results.get("per_referral"),
        "writers": {n: _figures(w) for n, w in results["writers"].items()},
        "instances": {"one": _figures(one), "two": _figures(two)},
        "batch": results["batch"],
    }


def _figures(p: Phase) -> dict[str, Any]:
    """One phase: the client's figures, the server CPU and (hub) what /metrics counted."""
    return {"rate": p.load.rate, "completed": p.load.completed, "p50": p.load.percentile(50),
            "p99": p.load.percentile(99), "cpu_ms": p.cpu_ms_per_request,
            "errors": p.load.errors, "server": scrape.as_dict(p.server)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres", default=os.environ.get("HUB_TEST_DATABASE_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help=">1 uses gthread workers")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--phase", type=float, default=5.0, help="seconds per phase")
    parser.add_argument("--repeats", type=int, default=3, help="bare/hub rounds")
    parser.add_argument("--hotpath", type=int, default=200, help="in-process referrals; 0 skips")
    parser.add_argument("--batch", type=int, default=10_000, help="0 skips the batch")
    parser.add_argument("--json", help="also write the figures here as JSON")
    parser.add_argument(
        "--hub-app", default="wsgi:app", help="gunicorn app spec (to measure a patched build)"
    )
    parser.add_argument("--hub-chdir", default=str(PROJECT), help="where --hub-app is found")
    args = parser.parse_args()
    results = run(args)
    for line in report(results, args):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(summary(results), indent=1))


if __name__ == "__main__":
    main()

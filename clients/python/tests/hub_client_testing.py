"""Helpers: the partner client against real hubs: ``hub init`` + ``hub sync`` + ``hub serve`` processes.

The client (``hub_client``) never imports the hub; these tests do, only to run it. Each hub
gets a database of its own: a SQLite file, or (when ``HUB_TEST_DATABASE_URL`` names a
PostgreSQL server) a throw-away PostgreSQL database, so nothing here shares rows with the
rest of the suite. A :class:`Proxy` sits between a client and a hub where a test needs the
network to misbehave (a 503, a lost response, a forked view).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from hub import schema
from hub.demo.server import background_hub, stop
from hub_client import HubClient
from tests.conftest import PROJECT, demo_private_jwk
from tests.e2e.conftest import free_port, hub_env, run_hub

LOG_SCOPES = "log:read"
CLIENT_SRC = Path(__file__).resolve().parent.parent / "src"
# hub-monitor's exit codes (hub_client.monitor)
OK, ERROR, BAD_SIGNATURE, SPLIT_VIEW, INCONSISTENT, SHORT_QUORUM, RECEIPT = 0, 1, 3, 4, 5, 6, 7


@dataclasses.dataclass
class Hub:
    """A running hub: where it answers, its environment, and clients for demo partners."""

    base_url: str
    env: dict[str, str]
    tmp: Path

    @property
    def issuer(self) -> str:
        return self.env["HUB_ISSUER"]

    def client(self, partner_id: str, base_url: str | None = None, **options: Any) -> HubClient:
        """A ``HubClient`` for a demo partner (through ``base_url``, e.g. a proxy)."""
        return HubClient(
            base_url or self.base_url, partner_id, demo_private_jwk(partner_id),
            issuer=self.issuer, **options,
        )

    def run(self, *args: str) -> str:
        """A ``hub`` command against this hub's database (e.g. ``log checkpoint``)."""
        return run_hub(self.env, *args).stdout

    def log_key(self) -> str:
        """The log's verifier key (a test pins it from the hub; a partner pins it out of band)."""
        return self.client("kent-police").log_key()


@contextlib.contextmanager
def _database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'hub.sqlite3'}"
    else:
        with schema.throwaway_database(os.environ["HUB_TEST_DATABASE_URL"], "hub_client") as url:
            yield url


@contextlib.contextmanager
def start_hub(
    backend: str,
    tmp: Path,
    *,
    env: dict[str, str] | None = None,
    webhooks: dict[str, str] | None = None,
    before_serve: Callable[[Hub], None] | None = None,
) -> Iterator[Hub]:
    """A fresh project copy, database, ``hub init`` + ``hub sync``, then ``hub serve``.

    ``webhooks`` sets partners' ``webhook_url`` before the sync; ``env`` adds ``HUB_*``
    settings (e.g. the same ``HUB_HUB_KEY`` for two hubs).
    """
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PROJECT / "policies", tmp / "project" / "policies")
    shutil.copytree(PROJECT / "keys", tmp / "project" / "keys")
    for partner, url in (webhooks or {}).items():
        path = tmp / "project" / "policies" / "partners" / f"{partner}.toml"
        text = path.read_text(encoding="utf-8")
        head, sep, tail = text.partition("\n[")  # top-level keys go before any table
        path.write_text(f'{head}\nwebhook_url = "{url}"\n{sep}{tail}', encoding="utf-8")
    port = free_port()
    with _database(backend, tmp) as database_url:
        full_env = hub_env(database_url, tmp, f"http://127.0.0.1:{port}")
        full_env.update(HUB_CHECKPOINT_EVERY="1", HUB_LOG_LEVEL="INFO", **(env or {}))
        hub = Hub(f"http://127.0.0.1:{port}", full_env, tmp)
        run_hub(full_env, "init")
        run_hub(full_env, "sync")
        if before_serve is not None:
            before_serve(hub)
        with background_hub("127.0.0.1", port, full_env, tmp / "server.log"):
            yield hub


# -- a proxy that can misbehave -------------------------------------------------------------


@dataclasses.dataclass
class Seen:
    method: str
    path: str
    idempotency_key: str | None
    status: int


class Proxy:
    """A real HTTP server forwarding to ``upstream``, with scripted faults.

    ``faults`` holds ``(method, path, kind, headers)`` consumed in order by matching
    requests: ``kind`` ``"refuse"`` answers 503 without forwarding; ``"lose"`` forwards
    and then answers 503 instead of the hub's answer (the response was lost); ``"status
    NNN"`` answers NNN without forwarding. Every request is recorded in ``seen``.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[tuple[str, str, str, dict[str, str]]] = []
        self.seen: list[Seen] = []
        self._http = requests.Session()
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def fault(self, method: str, path: str, kind: str, **headers: str) -> None:
        self.faults.append((method, path, kind, headers))

    def _take_fault(self, request: Request) -> tuple[str, dict[str, str]] | None:
        with self._lock:
            for number, (method, path, kind, headers) in enumerate(self.faults):
                if method == request.method and path == request.path:
                    del self.faults[number]
                    return kind, headers
        return None

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        fault = self._take_fault(request)
        response: Response
        if fault is not None and fault[0] != "lose":
            kind, headers = fault
            status = 503 if kind == "refuse" else int(kind.split()[1])
            response = Response(b'{"title": "scripted"}', status, headers=headers,
                                mimetype="application/problem+json")
        else:
            body = request.get_data()
            forwarded = self._http.request(
                request.method,
                self.upstream + request.full_path.rstrip("?"),
                data=body,
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
                timeout=60,
            )
            response = Response(forwarded.content, forwarded.status_code,
                                content_type=forwarded.headers.get("Content-Type"))
            if fault is not None:  # "lose": the hub did the work; the client never hears
                response = Response(b'{"title": "lost"}', 503, headers=fault[1],
                                    mimetype="application/problem+json")
        with self._lock:
            self.seen.append(Seen(request.method, request.path,
                                  request.headers.get("Idempotency-Key"), response.status_code))
        return response(environ, start_response)


@dataclasses.dataclass
class Witness:
    """A ``hub witness serve`` process for one log; stop it and start it again at will."""

    name: str
    state: Path
    log_key: str
    port: int = dataclasses.field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Witness:
        command = [sys.executable, "-c", "from hub.cli import main; main()", "witness", "serve",
                   "--port", str(self.port), "--name", self.name, "--state", str(self.state),
                   "--log", self.log_key]
        env = {k: v for k, v in os.environ.items() if k != "HUB_PRODUCTION"}
        log = (self.state.parent / f"{self.state.name}.log").open("ab")
        with log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "witness exited"
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError("witness did not start")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
        self.process = None

    @property
    def verifier_key(self) -> str:
        return requests.get(f"{self.url}/key", timeout=10).text.strip()


def log_verifier_key(hub: Hub) -> str:
    """The log's note verifier key, from the hub's key file (before it serves)."""
    from hub.ledger.checkpoint import ensure_signing_key, verifier_key
    from hub.settings import Settings

    origin = Settings.from_env(hub.env).log_origin
    return verifier_key(origin, ensure_signing_key(hub.env["HUB_HUB_KEY"]))


@contextlib.contextmanager
def witnessed_hub(backend: str, tmp: Path, *, quorum: int = 2, env: dict[str, str] | None = None,
                  witnesses: list[Witness] | None = None) -> Iterator[tuple[Hub, list[Witness]]]:
    """A hub asking two real witnesses (started here unless given) to cosign."""
    started: list[Witness] = []

    def configure(hub: Hub) -> None:
        if witnesses is None:
            key = log_verifier_key(hub)
            for name in ("witness.police.test/w1", "witness.council.test/w2"):
                started.append(Witness(name, tmp / name.replace("/", "_"), key).start())
        chosen = witnesses if witnesses is not None else started
        hub.env["HUB_WITNESSES"] = ",".join(f"{w.url} {w.verifier_key}" for w in chosen)
        hub.env["HUB_WITNESS_QUORUM"] = str(quorum)
        hub.env["HUB_WITNESS_TIMEOUT"] = "5"

    try:
        with start_hub(backend, tmp / "hub", env=env, before_serve=configure) as hub:
            yield hub, witnesses if witnesses is not None else started
    finally:
        for witness in started:
            witness.stop()


def monitor(hub_url: str, hub: Hub, state: Path, *extra: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``hub-monitor`` as kent-police (``python -m hub_client.monitor``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CLIENT_SRC), os.environ.get("PYTHONPATH", "")])}
    command = [
        sys.executable, "-m", "hub_client.monitor", "--hub", hub_url, "--issuer", hub.issuer,
        "--client-id", "kent-police", "--key", str(hub.tmp / "project" / "keys" / "demo" / "kent-police.jwk"),
        "--log-key", key or hub.log_key(), "--state", str(state), *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def grow(hub: Hub, n: int = 1) -> None:
    sender = hub.client("kent-csc")
    for _ in range(n):
        sender.send_referral(referral(f"Grow{uuid.uuid4().hex[:8]}"))


def referral(given_name: str = "Alex", **data: Any) -> dict[str, Any]:
    """Kent children's services -> the SYV provider (``mental_health`` is withheld)."""
    return {
        "to": "kent-syv-provider",
        "purpose": "syv_intervention",
        "consent": {"state": "given"},
        "data": {
            "given_name": given_name,
            "family_name": "Reid",
            "date_of_birth": "2010-03-09",
            "missing_episodes_count": 3,
            "mental_health": "anxiety",
            **data,
        },
    }

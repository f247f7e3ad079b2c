"""Two real witnesses (``hub witness serve`` processes) and a hub configured to use them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import Engine

from hub.ledger.checkpoint import ensure_signing_key, verifier_key
from hub.settings import Settings, WitnessEndpoint
from tests.conftest import PROJECT, make_settings
from tests.web.conftest import console_people, signed_in_client  # noqa: F401 - fixtures

ISSUER_ORIGIN = "127.0.0.1:8000/hub-ledger"  # make_settings' issuer, as the hub derives it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WitnessProcess:
    """One ``hub witness serve``: stop and start it again on the same port and state."""

    name: str
    port: int
    state: Path
    log_key: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(PROJECT)}
        env.pop("HUB_PRODUCTION", None)
        command = [str(Path(sys.executable).parent / "hub"), "witness", "serve", "--port", str(self.port),
                   "--name", self.name, "--state", str(self.state), "--log", self.log_key]
        self.process = subprocess.Popen(command, env=env, cwd=PROJECT,  # noqa: S603
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode())  # type: ignore[union-attr]
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("witness did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    @property
    def verifier_key(self) -> str:
        return requests.get(f"{self.url}/key", timeout=5).text.strip()


@pytest.fixture
def hub_key_path(tmp_path: Path) -> Path:
    path = tmp_path / "hub-signing.key"
    ensure_signing_key(path)
    return path


@pytest.fixture
def witnesses(tmp_path: Path, hub_key_path: Path) -> Iterator[list[WitnessProcess]]:
    log_key = verifier_key(ISSUER_ORIGIN, ensure_signing_key(hub_key_path))
    started = []
    try:
        for name in ("witness.police.test/w1", "witness.council.test/w2"):
            witness = WitnessProcess(name, free_port(), tmp_path / name.replace("/", "_"), log_key)
            witness.start()
            started.append(witness)
        yield started
    finally:
        for witness in started:
            witness.stop()


@pytest.fixture
def witness_keys(witnesses: list[WitnessProcess]) -> dict[str, str]:
    return {w.name: w.verifier_key for w in witnesses}


@pytest.fixture
def settings(clean_db: Engine, database_url: str, tmp_path: Path,
             witnesses: list[WitnessProcess], witness_keys: dict[str, str]) -> Settings:  # fmt: skip
    endpoints = tuple(WitnessEndpoint(w.name, w.url, witness_keys[w.name]) for w in witnesses)
    return make_settings(database_url, tmp_path, password_hash_profile="cheapest",
                         witnesses=endpoints, witness_quorum=2, witness_timeout=3.0,
                         witness_retry_interval=1)  # fmt: skip


@pytest.fixture
def auth(get_token: Callable[..., str]) -> Callable[[str], dict[str, str]]:
    tokens: dict[str, str] = {}

    def _auth(who: str) -> dict[str, str]:
        if who not in tokens:
            tokens[who] = get_token(who, "log:read")
        return {"Authorization": f"Bearer {tokens[who]}"}

    return _auth

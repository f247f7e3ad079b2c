"""A real hub: ``hub init`` and ``hub sync`` as commands, ``hub serve`` as a child process.

Nothing here goes through Flask's test client. Partners get tokens at ``/oauth/token`` with
client assertions signed by their demo keys, and talk HTTP to the server over loopback,
so these tests see what a partner sees (and the server's real log output).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.engine import Engine

from hub.client_assertion import make_assertion
from hub.demo.server import background_hub
from tests.conftest import PROJECT, _truncate, demo_private_jwk

HUB_COMMAND = [sys.executable, "-c", "from hub.cli import main; main()"]
SHARING_SCOPES = "referrals:write referrals:read log:read"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def free_port() -> int:
    """A loopback port nothing listens on (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hub_env(database_url: str, tmp: Path, issuer: str) -> dict[str, str]:
    """The server's whole ``HUB_*`` environment: secrets and keys in ``tmp``, nothing shared.

    Inherited ``HUB_*`` variables are dropped so a developer's shell cannot change the run.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        HUB_ROOT=str(tmp / "project"),
        HUB_DATABASE_URL=database_url,
        HUB_ISSUER=issuer,
        HUB_HUB_KEY=str(tmp / "keys" / "hub-signing.key"),
        HUB_MASTER_KEY=str(tmp / "keys" / "master.key"),
        HUB_WEBHOOK_KEY=str(tmp / "keys" / "webhook-signing.jwk"),
        HUB_SECRET_KEY="e2e-secret-key-" + "s" * 40,
        HUB_SUBJECT_SECRET="e2e-subject-secret-" + "t" * 40,
        HUB_LOG_LEVEL="DEBUG",  # the log-leak check is strongest at the chattiest level
        HUB_LOG_JSON="true",
    )
    return env


def run_hub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one ``hub`` command to completion (pipes are read and closed by ``run``)."""
    result = subprocess.run(  # noqa: S603
        [*HUB_COMMAND, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"hub {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@dataclasses.dataclass
class LiveHub:
    """A running hub and the means to talk to it as any demo partner."""

    base_url: str
    issuer: str
    database_url: str
    env: dict[str, str]
    root: Path
    log_path: Path
    http: requests.Session
    _tokens: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/oauth/token"

    def assertion(self, partner_id: str) -> str:
        """A fresh RFC 7523 client assertion signed with the partner's demo key."""
        return make_assertion(partner_id, demo_private_jwk(partner_id), audience=self.token_url)

    def exchange(self, assertion: str, scope: str = SHARING_SCOPES) -> requests.Response:
        return self.http.post(
            f"{self.base_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "scope": scope,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
            timeout=30,
        )

    def token(self, partner_id: str) -> str:
        if partner_id not in self._tokens:
            response = self.exchange(self.assertion(partner_id))
            assert response.status_code == 200, response.text
            self._tokens[partner_id] = response.json()["access_token"]
        return self._tokens[partner_id]

    def call(self, partner_id: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        """An API call with the partner's bearer token."""
        headers = {"Authorization": f"Bearer {self.token(partner_id)}", **kwargs.pop("headers", {})}
        return self.http.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs
        )

    def server_log(self) -> bytes:
        return self.log_path.read_bytes()


@pytest.fixture(scope="module")
def live_hub(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveHub]:
    """``hub init`` + ``hub sync`` into this backend's database, then ``hub serve``.

    Module-scoped: the server runs once for a module's tests (they use distinct data),
    and the shared test database is emptied before and after so other tests start clean.
    """
    tmp = tmp_path_factory.mktemp("e2e")
    shutil.copytree(PROJECT / "policies", tmp / "project" / "policies")
    shutil.copytree(PROJECT / "keys", tmp / "project" / "keys")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    shared = not database_url.startswith("sqlite")
    # On SQLite the server process gets a database file of its own (created by `hub init`):
    # two processes writing one file that the in-process suite also empties between tests
    # proved fragile. PostgreSQL serves both safely, so that backend shares the test database.
    if not shared:
        database_url = f"sqlite:///{tmp / 'e2e.sqlite3'}"
    env = hub_env(database_url, tmp, issuer)
    if shared:
        _truncate(engine)
    run_hub(env, "init")
    run_hub(env, "sync")
    log_path = tmp / "server.log"
    try:
        with background_hub("127.0.0.1", port, env, log_path), requests.Session() as http:
            yield LiveHub(issuer, issuer, database_url, env, tmp / "project", log_path, http)
    finally:
        if shared:
            _truncate(engine)

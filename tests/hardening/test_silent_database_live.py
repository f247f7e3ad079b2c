"""A real gunicorn (production mode) on a database that accepts connections and never answers.

The issue's reproducer: requests hung until gunicorn killed every worker and ``/healthz``
stalled. Now the API answers 503 within the configured connect timeout, and ``/healthz``
answers while an API request is still waiting on the database (one worker, threaded).
No timing is asserted; only that each request returned, and with what.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from hub.delivery.admin import ensure_webhook_key
from hub.ledger.checkpoint import ensure_signing_key
from tests.e2e.conftest import free_port
from tests.hardening.test_database_outage import silent_url  # noqa: F401  (fixture)

SERVE = "from hub.cli import main; main()"


def _environment(tmp: Path, database_url: str) -> dict[str, str]:
    keys = tmp / "keys"
    ensure_signing_key(keys / "hub-signing.key")
    ensure_webhook_key(keys / "webhook-signing.jwk")
    (keys / "master.key").write_bytes(os.urandom(32))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        HUB_ROOT=str(Path(__file__).resolve().parents[2]),
        HUB_PRODUCTION="true",
        HUB_DATABASE_URL=database_url,
        HUB_ISSUER="https://hub.example",
        HUB_HUB_KEY=str(keys / "hub-signing.key"),
        HUB_MASTER_KEY=str(keys / "master.key"),
        HUB_WEBHOOK_KEY=str(keys / "webhook-signing.jwk"),
        HUB_SECRET_KEY="silent-secret-key-" + "s" * 40,
        HUB_SUBJECT_SECRET="silent-subject-secret-" + "t" * 40,
        HUB_DB_CONNECT_TIMEOUT="2",
        HUB_DB_POOL_TIMEOUT="1",
        HUB_DB_NETWORK_TIMEOUT="3",
    )
    return env


def _wait_for_healthz(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(f"hub serve exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"hub serve never answered /healthz:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_gunicorn_on_a_silent_database_answers_503_and_healthz_stays_up(tmp_path, silent_url):  # noqa: F811
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    command = [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--workers", "1"]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command, env=_environment(tmp_path, silent_url), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_healthz(base, process, log)
        answers: dict[str, requests.Response] = {}

        def call_api() -> None:
            answers["api"] = requests.get(
                f"{base}/api/v1/partners/me",
                headers={"Authorization": "Bearer hub_at_unknown"},
                timeout=60,
            )

        waiting = threading.Thread(target=call_api)
        waiting.start()
        health = requests.get(f"{base}/healthz", timeout=60)
        waiting.join()
        ready = requests.get(f"{base}/readyz", timeout=60)
    finally:
        process.terminate()
        process.wait(30)
    assert health.status_code == 200
    api = answers["api"]
    assert api.status_code == 503, api.text
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.json()["type"].endswith("/unavailable")
    assert int(api.headers["Retry-After"]) > 0
    assert "Server" not in api.headers
    assert ready.status_code == 503

"""``/metrics`` under a real gunicorn (production mode, two workers, PostgreSQL).

Counts written by each worker are summed by whichever worker answers the scrape; the
metric files live in a fresh directory ``hub serve`` makes for the run and removes on exit;
production refuses a scrape without the bearer secret.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from hub import create_app
from hub.delivery.admin import ensure_webhook_key
from hub.ledger.checkpoint import ensure_signing_key
from tests.e2e.conftest import free_port
from tests.hardening.test_silent_database_live import SERVE, _environment, _wait_for_healthz

TOKEN = "gunicorn-metrics-token-" + "g" * 32


def _healthz_count(base: str) -> float:
    answer = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "hub_http_requests_total" and sample.labels == {
                "endpoint": "health.healthz", "method": "GET", "status": "200"
            }:  # fmt: skip
                return sample.value
    return 0.0


def _pids_with_files(tmp: Path) -> set[str]:
    return {p.stem.rsplit("_", 1)[-1] for p in tmp.glob("hub-metrics-*/counter_*.db")}


@pytest.mark.slow
def test_two_gunicorn_workers_report_one_total_and_clean_up(tmp_path, database_url, clean_db):
    if not database_url.startswith("postgresql"):
        pytest.skip("production mode needs PostgreSQL")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _environment(tmp_path, database_url)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env.update(HUB_METRICS_TOKEN=TOKEN, TMPDIR=str(scratch))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "server.log"
    command = [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        _wait_for_healthz(base, process, log)
        refused = requests.get(f"{base}/metrics", timeout=30)
        assert refused.status_code == 401
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert "hub_" not in refused.text
        wrong = requests.get(f"{base}/metrics", headers={"Authorization": "Bearer " + "x" * 40},
                             timeout=30)  # fmt: skip
        assert wrong.status_code == 401
        sent = 1  # the probe in _wait_for_healthz
        with ThreadPoolExecutor(8) as pool:
            for _ in range(50):  # until both workers have answered some (bounded)
                answers = list(pool.map(lambda _: requests.get(f"{base}/healthz", timeout=30),
                                        range(40)))  # fmt: skip
                assert all(a.status_code == 200 for a in answers)
                sent += len(answers)
                if len(_pids_with_files(scratch)) >= 2:
                    break
        assert len(_pids_with_files(scratch)) >= 2, "both workers served requests"
        counts = {_healthz_count(base) for _ in range(10)}  # answered by either worker
        assert counts == {float(sent)}
    finally:
        process.terminate()
        process.wait(30)
    assert not list(scratch.glob("hub-metrics-*")), "hub serve removes its metrics directory"


def test_production_without_a_metrics_token_refuses_every_scrape(settings, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("production mode needs PostgreSQL")
    ensure_signing_key(settings.signing_key_file)
    ensure_webhook_key(settings.webhook_key_file)
    settings.master_key_path.write_bytes(os.urandom(32))
    production = dataclasses.replace(settings, production=True, issuer="https://hub.example")
    app = create_app(production)
    try:
        client = app.test_client()
        for headers in ({}, {"Authorization": "Bearer anything-at-all-" + "z" * 32}):
            answer = client.get("/metrics", headers=headers)
            assert answer.status_code == 403
            assert answer.content_type == "application/problem+json"
            assert "hub_" not in answer.get_data(as_text=True)
    finally:
        app.extensions["hub.engine"].dispose()

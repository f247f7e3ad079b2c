"""Security headers on every response, from the app and from the real servers.

The app sets CSP (and HSTS in production); the servers' ``Server`` banners are removed in
hub/serving.py, so the live tests start ``hub serve`` as a child process, as e2e does.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from hub import create_app
from hub.demo.server import background_hub
from hub.ledger.checkpoint import ensure_signing_key
from tests.conftest import PROJECT
from tests.e2e.conftest import free_port, hub_env, run_hub

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PATHS = ["/healthz", "/readyz", "/openapi.json", "/api/v1/partners/me", "/nowhere",
         "/.well-known/oauth-authorization-server"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_csp_and_no_hsts_in_development(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CSP
    assert "Strict-Transport-Security" not in response.headers
    assert "Server" not in response.headers


def test_production_adds_hsts(app, settings, tmp_path):  # `app` made the keys
    import dataclasses

    production = dataclasses.replace(
        settings, production=True, issuer="https://hub.example",
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/none",
    )
    ensure_signing_key(production.signing_key_file)
    app = create_app(production)
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions["hub.engine"].dispose()
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.headers["Content-Security-Policy"] == CSP


def _serve_and_get(env: dict[str, str], port: int, log: Path) -> list[requests.Response]:
    with background_hub("127.0.0.1", port, env, log):
        return [requests.get(f"http://127.0.0.1:{port}{p}", timeout=30) for p in PATHS]


def _environment(database_url: str, tmp: Path, issuer: str) -> dict[str, str]:
    shutil.copytree(PROJECT / "policies", tmp / "project" / "policies")
    shutil.copytree(PROJECT / "keys", tmp / "project" / "keys")
    return hub_env(database_url, tmp, issuer)


@pytest.mark.slow
def test_the_development_server_sends_no_server_banner(tmp_path):
    port = free_port()
    env = _environment(f"sqlite:///{tmp_path / 'live.sqlite3'}", tmp_path, f"http://127.0.0.1:{port}")
    run_hub(env, "init")
    for response in _serve_and_get(env, port, tmp_path / "server.log"):
        assert "Server" not in response.headers, response.headers
        assert response.headers["Content-Security-Policy"] == CSP


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("HUB_TEST_DATABASE_URL"), reason="production needs PostgreSQL")
def test_gunicorn_in_production_sends_hsts_and_no_server_banner(tmp_path):
    from hub import schema

    port = free_port()
    with schema.throwaway_database(os.environ["HUB_TEST_DATABASE_URL"], "hub_headers") as url:
        env = _environment(url, tmp_path, "https://hub.example")
        run_hub(env, "init")
        master = Path(env["HUB_MASTER_KEY"])  # production never creates a master key
        master.write_bytes(os.urandom(32))
        master.chmod(0o600)
        env["HUB_PRODUCTION"] = "true"
        responses = _serve_and_get(env, port, tmp_path / "server.log")
    for response in responses:
        assert "Server" not in response.headers, response.headers
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"

"""A database that is down or silent gives a 503 ``unavailable`` with ``Retry-After``.

No test here times anything: each stuck wait is bounded by a small configured timeout, and
the test asserts that the request *returned*, with the right status.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from hub import create_app
from hub.ledger.checkpoint import ensure_signing_key
from tests.conftest import client_assertion, make_settings, token_form

PROBLEM = "application/problem+json"
BEARER = {"Authorization": "Bearer hub_at_not-a-real-token"}


@pytest.fixture
def refused_url() -> str:
    """A PostgreSQL URL on a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/hub"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A listener that accepts TCP connections and never says a word (a silent partition)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql+psycopg://postgres@127.0.0.1:{listener.getsockname()[1]}/hub"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def _app(url: str, tmp_path: Path) -> Iterator[Flask]:
    settings = make_settings(
        url, tmp_path, db_connect_timeout=2, db_pool_timeout=1, db_network_timeout=3
    )
    ensure_signing_key(settings.signing_key_file)
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["hub.engine"].dispose()


@pytest.fixture(params=["refused", "silent"])
def outage_app(request, tmp_path: Path) -> Iterator[Flask]:
    url = request.getfixturevalue(f"{request.param}_url")
    yield from _app(url, tmp_path)


def _unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.mimetype == PROBLEM
    assert response.get_json()["type"].endswith("/unavailable")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/partners/me"),
        ("get", "/api/v1/inbox"),
        ("get", "/api/v1/log/checkpoint"),
        ("get", "/api/v1/referrals/abc"),
        ("post", "/api/v1/decisions"),
        ("post", "/api/v1/referrals"),
    ],
)
def test_every_api_route_answers_503_when_the_database_is_down_or_silent(
    outage_app, method, path
):
    client = outage_app.test_client()
    kwargs = {"json": {"to": "x", "purpose": "y", "data": {}}} if method == "post" else {}
    _unavailable(getattr(client, method)(path, headers=BEARER, **kwargs))


def test_the_token_endpoint_answers_503(outage_app):
    response = outage_app.test_client().post(
        "/oauth/token", data=token_form(client_assertion("kent-csc"))
    )
    _unavailable(response)


def test_probes_tell_the_truth(outage_app):
    client = outage_app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"] == "unreachable"

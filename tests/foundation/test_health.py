"""Load-balancer probes."""

from __future__ import annotations

import dataclasses

from hub import create_app


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_when_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {
        "database": "ok", "migrations": "ok", "origin": "ok", "keys": "ok"
    }


def test_readyz_without_signing_key_is_503(settings, tmp_path):
    app = create_app(dataclasses.replace(settings, hub_key_path=tmp_path / "absent.key"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["keys"].startswith("hub signing key missing")
    app.extensions["hub.engine"].dispose()


def test_readyz_on_an_unmigrated_database_is_503(settings, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app(dataclasses.replace(settings, database_url=url))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"] == "not at head: run hub init"
    app.extensions["hub.engine"].dispose()


def test_security_headers(client):
    response = client.get("/healthz")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

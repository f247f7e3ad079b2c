"""Shared fixtures: a real database (SQLite, and PostgreSQL when asked), the app, partners.

``HUB_TEST_DATABASE_URL`` (a PostgreSQL URL) makes every database test run twice: once on
SQLite and once on a fresh PostgreSQL database created for this run and dropped after it.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from hub import create_app, db, schema
from hub.models import metadata
from hub.settings import Settings
from hub.signing_algorithms import partner_jws_registry

PROJECT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("HUB_TEST_DATABASE_URL") else [])


def _throwaway(server_url: str) -> Iterator[str]:
    with schema.throwaway_database(server_url, "hub_test") as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database at head, one per backend for the whole run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hub.sqlite3'}"
        urls: Iterator[str] = iter([url])
    else:
        urls = _throwaway(os.environ["HUB_TEST_DATABASE_URL"])
    url = next(urls)
    engine = db.make_engine(url)
    schema.upgrade_to_head(engine)
    engine.dispose()
    yield url
    for _ in urls:  # runs the generator's clean-up
        pass


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    """Empty every table between tests (TRUNCATE on PostgreSQL bypasses row triggers)."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # The ledger refuses TRUNCATE by trigger; tests run as a superuser and switch
            # triggers off for this clean-up only (replica role skips ordinary triggers).
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """A database with empty tables; emptied again afterwards."""
    _truncate(engine)
    yield engine
    _truncate(engine)


# -- the app and partners -----------------------------------------------------------------




ISSUER = "http://127.0.0.1:8000"
TOKEN_URL = f"{ISSUER}/oauth/token"


def make_settings(database_url: str, tmp: Path, **overrides: Any) -> Settings:
    """Settings for tests: the project's policies/ and keys/, secrets and keys in ``tmp``."""
    values: dict[str, Any] = {
        "root": PROJECT,
        "database_url": database_url,
        "issuer": ISSUER,
        "secret_key": "test-secret-key-" + "x" * 32,
        "subject_secret": "test-subject-secret-" + "y" * 32,
        "hub_key_path": tmp / "hub-signing.key",
        "master_key_path": tmp / "master.key",
        "webhook_key_path": tmp / "webhook-signing.jwk",
        "log_json": True,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(clean_db: Engine, database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    from hub.ledger.checkpoint import ensure_signing_key

    ensure_signing_key(settings.signing_key_file)
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["hub.engine"].dispose()


_CURSOR_METHODS = {"execute": False, "executemany": True, "copy": False}


def record_statements(
    app: Flask, monkeypatch: pytest.MonkeyPatch, sink: Callable[[str, bool], None]
) -> Callable[[], None]:
    """Call ``sink(statement, many)`` for every SQL statement the app sends; returns the
    function that stops recording.

    On PostgreSQL at the psycopg cursor, so the statements the hot path sends below
    SQLAlchemy count as surely as SQLAlchemy's; on SQLite at SQLAlchemy's cursor events
    (every statement goes through SQLAlchemy there but the audit projection's).
    """
    engine = app.extensions["hub.engine"]
    if engine.dialect.name == "postgresql":
        import psycopg

        originals = {name: getattr(psycopg.Cursor, name) for name in _CURSOR_METHODS}
        for name, many in _CURSOR_METHODS.items():

            def recording(self: Any, query: Any, *args: Any, _o: Any = originals[name],
                          _many: bool = many, **kwargs: Any) -> Any:  # fmt: skip
                sink(query if isinstance(query, str) else str(query), _many)
                return _o(self, query, *args, **kwargs)

            monkeypatch.setattr(psycopg.Cursor, name, recording)

        def stop() -> None:
            for name, original in originals.items():
                setattr(psycopg.Cursor, name, original)

        return stop

    def _record(_conn: Any, _cursor: Any, statement: str, _p: Any, _c: Any, many: bool) -> None:
        sink(statement, many)

    event.listen(engine, "before_cursor_execute", _record)
    return lambda: event.remove(engine, "before_cursor_execute", _record)


@pytest.fixture
def statements(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends, in order (:func:`record_statements`)."""
    sent: list[str] = []
    stop = record_statements(app, monkeypatch, lambda statement, _many: sent.append(statement))
    yield sent
    stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo_partners(settings: Settings, app: Flask) -> list[str]:
    """The demo partnership loaded by the real ``hub sync`` code."""
    from hub.operations import synchronise

    synchronise(settings)
    return sorted(p.stem for p in (PROJECT / "policies" / "partners").glob("*.toml"))


def demo_private_jwk(partner_id: str) -> dict[str, Any]:
    """A demo partner's committed (demo-only) private key."""
    data = json.loads((PROJECT / "keys" / "demo" / f"{partner_id}.jwk").read_text())
    data.pop("demo_only", None)
    return data


def client_assertion(
    partner_id: str,
    private_jwk: dict[str, Any] | None = None,
    *,
    aud: str = TOKEN_URL,
    lifetime: int = 120,
    jti: str | None = None,
    iss: str | None = None,
    alg: str | None = None,
    **extra: Any,
) -> str:
    """A real RFC 7523 client assertion signed with the partner's private key."""
    key_data = private_jwk or demo_private_jwk(partner_id)
    key = KeySet.import_key_set({"keys": [key_data]}).keys[0]
    now = int(time.time())
    claims = {
        "iss": iss or partner_id,
        "sub": partner_id,
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "jti": jti or uuid.uuid4().hex,
        **extra,
    }
    header = {"alg": alg or key_data.get("alg", "ES256"), "kid": key_data["kid"]}
    return jwt.encode(header, claims, key, registry=partner_jws_registry())


def token_form(assertion: str, scope: str = "partners:read") -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }


@pytest.fixture
def get_token(client: FlaskClient, demo_partners: list[str]) -> Callable[..., str]:
    """Obtain an access token for a demo partner through the real token endpoint."""

    def _get(partner_id: str, scope: str = "partners:read") -> str:
        response = client.post("/oauth/token", data=token_form(client_assertion(partner_id), scope))
        assert response.status_code == 200, response.get_json()
        return str(response.get_json()["access_token"])

    return _get


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's policies/ and keys/ that a test may edit freely."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(PROJECT / "policies", root / "policies")
    shutil.copytree(PROJECT / "keys", root / "keys")
    return root

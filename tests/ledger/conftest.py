"""Fixtures for the ledger tests: a fresh database per test, SQLite and (when configured)
PostgreSQL in a throw-away schema so we never clash with other suites' tables."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hub.db import Base, make_engine, make_sessionmaker
from hub.ledger import events
from hub.ledger.models import (
    POSTGRES_APPEND_ONLY_DDL,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    LedgerOrigin,
    LedgerUnsequenced,
)

PG_URL = os.environ.get("HUB_TEST_DATABASE_URL", "")
from hub.ledger.projection import PROJECTION_TABLES  # noqa: E402 - appends write it too
from hub.witness.models import LedgerCosignature  # noqa: E402 - receipts read cosignatures

LEDGER_TABLES = [
    *(m.__table__ for m in (
            LedgerEntry,
            LedgerNode,
            LedgerCheckpoint,
            LedgerHead,
            LedgerOrigin,
            LedgerUnsequenced,
        )),
    *PROJECTION_TABLES,
    LedgerCosignature.__table__,
]
ORIGIN = "hub.test/ledger"

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="HUB_TEST_DATABASE_URL is not set"),
        ],
    ),
]


def create_database(backend: str, tmp_path: Any) -> tuple[Engine, str, str | None]:
    """A new empty ledger database; returns the engine, its URL and the PG schema."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine, tables=LEDGER_TABLES)
        return engine, url, None
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = pg_engine(schema)
    with engine.begin() as conn:
        Base.metadata.create_all(conn, tables=LEDGER_TABLES)
        for statement in POSTGRES_APPEND_ONLY_DDL:
            conn.exec_driver_sql(statement)
    return engine, PG_URL, schema


def pg_engine(schema: str) -> Engine:
    """An engine whose connections see only ``schema`` (then ``public``)."""
    return make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})


def drop_database(engine: Engine, schema: str | None) -> None:
    engine.dispose()
    if schema:
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def database(backend: str, tmp_path: Any) -> Iterator[tuple[Engine, str, str | None]]:
    engine, url, schema = create_database(backend, tmp_path)
    yield engine, url, schema
    drop_database(engine, schema)


@pytest.fixture
def engine(database: tuple[Engine, str, str | None]) -> Engine:
    return database[0]


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def sample_event(i: int = 0) -> dict[str, Any]:
    """A valid disclosure event; ``i`` varies it so leaves differ."""
    return events.disclosure_event(
        {"partner": "leics-police", "client": "leics-police", "user": f"u{i % 7}"},
        recipients=["leics-yot"],
        agreement={"id": "ISA-0007", "version": "3", "digest": "sha256:" + "ab" * 32},
        basis=["CDA_S115", "GDPR_6_1_E"],
        purpose="reducing_reoffending",
        justification=f"REF-{i}",
        subjects=[events.subject_commitment("s3cret", "pnc", f"99/{i}A")],
        fields_released=["pnc_id", "offence_category"],
        fields_withheld=[{"field": "health_notes", "reason": "not_in_flow"}],
        payload_digest=events.payload_digest(str(i).encode()),
        ref=f"ref-{i}",
    )

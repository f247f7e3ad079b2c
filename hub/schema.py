"""Schema management: run Alembic migrations and tell whether a database is at head."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

PROJECT_DIR = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    """An Alembic config for the project's ``alembic.ini`` aimed at ``database_url``."""
    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_DIR / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Create or upgrade the schema to the newest revision."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def head_revision() -> str | None:
    """The newest revision in ``migrations/versions``."""
    script = ScriptDirectory.from_config(alembic_config(""))
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database says it is at (``None`` if never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    """True when the database schema matches the code's newest migration."""
    return current_revision(engine) == head_revision()


@contextlib.contextmanager
def throwaway_database(server_url: str, prefix: str = "hub_tmp") -> Iterator[str]:
    """CREATE a fresh PostgreSQL database on ``server_url``'s server, yield its URL, DROP it.

    For the test suite and the benchmarks: each run gets a database of its own, so runs on
    one server never see each other's rows.
    """
    from hub.db import make_engine

    base = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()

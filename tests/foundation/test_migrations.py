"""Alembic: upgrade to head matches the models; downgrade and upgrade again both work."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hub import db, schema
from hub.models import metadata


def test_head_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_database_is_at_head(engine):
    assert schema.current_revision(engine) == schema.head_revision()
    assert schema.is_at_head(engine)


def test_every_table_follows_the_naming_convention(engine):
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        pk = inspector.get_pk_constraint(table.name)
        if engine.dialect.name == "postgresql":
            assert pk["name"] == f"pk_{table.name}"
        for fk in inspector.get_foreign_keys(table.name):
            assert fk["name"].startswith(f"fk_{table.name}_")


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    from alembic import command

    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    engine = db.make_engine(url)
    schema.upgrade_to_head(engine)
    config = schema.alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade_to_head(engine)
    assert schema.is_at_head(engine)
    engine.dispose()


def test_revision_files_are_date_prefixed():
    names = [p.name for p in (schema.PROJECT_DIR / "migrations" / "versions").glob("*.py")]
    assert names
    assert all(name[:8].isdigit() and name[8] == "_" for name in names)

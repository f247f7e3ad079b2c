"""The projection migration back-fills entries appended before it existed."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from hub import db, schema
from hub.ledger import merkle, projection, store
from hub.ledger.fsck import check_projection
from tests.ledger.conftest import sample_event

BEFORE = "0a6d4029895a"


def test_upgrade_backfills_existing_entries(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = db.make_engine(url)
    config = schema.alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, BEFORE)
    with engine.begin() as connection:  # entries written by the old code: no projection
        for i in range(5):
            blob = store.canonical_entry(sample_event(i))
            connection.execute(
                text("INSERT INTO ledger_entries (idx, entry, leaf_hash, created_at) "
                     "VALUES (:i, :e, :h, '2026-11-30 10:00:00')"),
                {"i": i, "e": blob, "h": merkle.leaf_hash(blob)},
            )
    schema.upgrade_to_head(engine)
    with db.make_sessionmaker(engine)() as session:
        assert sorted(projection.stored_rows(session, 0, 10)) == [0, 1, 2, 3, 4]
        check_projection(session, 5)
    engine.dispose()

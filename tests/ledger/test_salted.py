"""Entry format 2 (hub.ledger.salted): the member cut, the salts, tampering, and an old
format 1 ledger upgraded in place by ``alembic upgrade head``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
import rfc8785
from alembic import command
from hypothesis import given, settings
from sqlalchemy import text
from sqlalchemy.orm import Session

from hub import db, schema
from hub.ledger import checkpoint, merkle, salted, store, verify
from hub.ledger.access import HUB
from hub.ledger.events import member_slots
from hub.ledger.models import HEAD_ID, LedgerEntry
from hub.ledger.service import entry_view
from hub.ledger.verify import LedgerCorrupt
from tests.ledger.conftest import ORIGIN, sample_event
from tests.ledger.test_access import events
from tests.ledger.test_tamper import _bypass_triggers, _ledger


@settings(max_examples=300, deadline=None)
@given(events())
def test_members_cut_from_the_stored_bytes_are_the_rfc8785_members(event) -> None:
    blob = store.canonical_entry(event)
    members = salted.split_members(blob)
    assert members == [rfc8785.dumps({k: event[k]})[1:-1] for k in sorted(event)]
    assert members == [salted.member_bytes(k, event[k]) for k in sorted(event)]
    assert salted.member_names(blob) == sorted(event)


def test_every_entry_of_a_type_has_the_same_number_of_digests(session: Session) -> None:
    small = {k: v for k, v in sample_event(0).items() if k not in {"justification", "ref"}}
    rows = store.append_entries(session, [sample_event(1), small])
    digests = [salted.stored_digests(bytes(r.entry), bytes(r.salts)) for r in rows]
    assert [len(d) for d in digests] == [member_slots("disclosure")] * 2
    assert len({d for ds in digests for d in ds}) == 2 * member_slots("disclosure")
    assert all(r.format == 2 and len(set(_cut(bytes(r.salts)))) == len(_cut(bytes(r.salts)))
               for r in rows)


def _cut(salts: bytes) -> list[bytes]:
    return [salts[i : i + 16] for i in range(0, len(salts), 16)]


def test_malformed_stored_bytes_are_refused() -> None:
    blob = store.canonical_entry(sample_event(0))
    with pytest.raises(salted.MalformedEntry):
        salted.split_members(blob[:-1])
    with pytest.raises(salted.MalformedEntry):
        salted.split_members(blob.replace(b',"agreement"', b', "agreement"'))
    with pytest.raises(salted.MalformedEntry):  # fewer salts than members
        salted.stored_digests(blob, bytes(16))


@pytest.mark.parametrize(
    ("column", "value"),
    [("salts", os.urandom(16 * member_slots("disclosure"))), ("format", 1), ("salts", None)],
)
def test_edited_salts_or_format_are_named(session: Session, signing_key, column, value) -> None:
    vkey = _ledger(session, signing_key)
    _bypass_triggers(session)
    session.execute(text(f"UPDATE ledger_entries SET {column} = :v WHERE idx = 77"), {"v": value})
    session.commit()
    with pytest.raises(LedgerCorrupt) as caught:
        verify.verify_ledger(session, vkey, chunk_size=64)
    assert caught.value.index == 77


# -- an old (format 1) ledger upgraded in place ------------------------------------------------

PREVIOUS_HEAD = "0a6d4029895a"  # the last revision before entry format 2


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path) -> Iterator[str]:
    """A database migrated to the revision before format 2 existed."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'old.sqlite3'}"])
    elif os.environ.get("HUB_TEST_DATABASE_URL"):
        urls = _throwaway(os.environ["HUB_TEST_DATABASE_URL"])
    else:
        pytest.skip("HUB_TEST_DATABASE_URL is not set")
    url = next(urls)
    config = schema.alembic_config(url)
    engine = db.make_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, PREVIOUS_HEAD)
    engine.dispose()
    yield url
    for _ in urls:
        pass


def _throwaway(server: str) -> Iterator[str]:
    with schema.throwaway_database(server, "hub_old_ledger") as url:
        yield url


def _append_the_old_way(session: Session, count: int) -> None:
    """Entries as the format 1 code wrote them: canonical JSON, ``H(0x00 || entry)``."""
    row = session.execute(text(f"SELECT size, frontier FROM ledger_head WHERE id = {HEAD_ID}"))
    found = row.one_or_none()
    frontier = merkle.Frontier.from_bytes(found[0], bytes(found[1])) if found else merkle.Frontier()
    if found is None:
        session.execute(text(f"INSERT INTO ledger_head (id, size, frontier) VALUES ({HEAD_ID}, 0, :f)"),
                        {"f": b""})
    for i in range(count):
        event = sample_event(frontier.size)
        blob = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        leaf = merkle.leaf_hash(blob)
        session.execute(
            text("INSERT INTO ledger_entries (idx, entry, leaf_hash, created_at) "
                 "VALUES (:i, :e, :h, CURRENT_TIMESTAMP)"),
            {"i": frontier.size, "e": blob, "h": leaf},
        )
        for level, index, value in frontier.append(leaf):
            session.execute(text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
                            {"l": level, "i": index, "h": value})
    session.execute(text(f"UPDATE ledger_head SET size = :s, frontier = :f WHERE id = {HEAD_ID}"),
                    {"s": frontier.size, "f": frontier.to_bytes()})


def _checkpoint_the_old_way(session: Session, key, size: int, root: bytes) -> None:
    """A checkpoint row as the format 1 code signed it (no pinned-origin table back then)."""
    note = checkpoint.sign_note(checkpoint.checkpoint_body(ORIGIN, size, root), ORIGIN, key)
    session.execute(
        text("INSERT INTO ledger_checkpoints (tree_size, root_hash, note, created_at) "
             "VALUES (:s, :r, :n, CURRENT_TIMESTAMP)"),
        {"s": size, "r": root, "n": note},
    )


def test_old_format_ledger_upgraded_in_place_still_verifies(old_database, signing_key) -> None:
    engine = db.make_engine(old_database)
    maker = db.make_sessionmaker(engine)
    vkey = checkpoint.verifier_key(ORIGIN, signing_key)
    with maker() as session:
        _append_the_old_way(session, 70)
        old_root = store.root_hash(session)
        _checkpoint_the_old_way(session, signing_key, 70, old_root)  # a receipt issued back then
        session.commit()

    schema.upgrade_to_head(engine)  # `hub init`: alembic upgrade head, in place

    with maker() as session:
        report = verify.verify_ledger(session, vkey, chunk_size=32)
        assert (report.size, report.root_hash) == (70, old_root)
        old = session.get(LedgerEntry, 5)
        assert old is not None and (old.format, old.salts) == (1, None)
        assert verify.verify_entry_view(entry_view(session, 5, HUB)) == bytes(old.leaf_hash)
        new = store.append_entries(session, [sample_event(i) for i in range(70, 100)])
        checkpoint.sign_checkpoint(session, signing_key, ORIGIN)
        session.commit()
        assert {e.format for e in new} == {2}
        report = verify.verify_ledger(session, vkey, chunk_size=32)
        assert (report.size, report.checkpoints) == (100, 2)
        first = verify.verify_checkpoint(store.all_checkpoints(session)[0].note, vkey)
        last = verify.verify_checkpoint(store.latest_checkpoint(session).note, vkey)
        verify.verify_consistency(first, last, store.consistency_proof(session, 70, 100))
        view = entry_view(session, 80, HUB)
        verify.verify_inclusion(last, 80, verify.verify_entry_view(view),
                                store.inclusion_proof(session, 80, 100))
    engine.dispose()

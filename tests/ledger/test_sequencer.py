"""The sequencer: deferred appends leave the head alone; batches give gap-free indexes."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hub.db import make_sessionmaker
from hub.ledger import batch_pg, checkpoint, sequencer, settling, store, verify
from hub.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerUnsequenced
from tests.ledger.conftest import ORIGIN, sample_event


def _unsequenced(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerUnsequenced))


def test_deferred_append_leaves_the_head_alone_until_its_batch(engine: Engine, session: Session):
    entries = store.append_entries(session, [sample_event(i) for i in range(3)], deferred=True)
    assert [e.index for e in entries] == [None, None, None]
    assert store.tree_size(session) == 0 and _unsequenced(session) == 3
    session.commit()  # a HubSession: returns once the batch is sequenced
    assert [e.index for e in entries] == [0, 1, 2]
    assert store.tree_size(session) == 3 and _unsequenced(session) == 0
    stored = session.scalars(select(LedgerEntry).order_by(LedgerEntry.index)).all()
    assert [bytes(s.leaf_hash) for s in stored] == [bytes(e.leaf_hash) for e in entries]
    assert [s.pending_id for s in stored] == [e.pending_id for e in entries]


def test_one_batch_takes_every_committed_entry_along(engine: Engine):
    """Group commit: entries committed by several sessions, sequenced by whoever leads."""
    sessions = make_sessionmaker(engine)
    pending = []
    for i in range(4):
        with sessions() as session:
            pending.append(store.append_entries(session, [sample_event(i)], deferred=True)[0])
            settling.forget(session)  # as if the request died right after its commit
            session.commit()
    with sessions() as session:
        assert store.tree_size(session) == 0 and _unsequenced(session) == 4
        latest = store.append_entries(session, [sample_event(9)], deferred=True)[0]
        session.commit()
        assert latest.index == 4  # its batch sequenced the four stragglers first, in order
        assert _unsequenced(session) == 0
        indexes = {
            e.pending_id: e.index for e in session.scalars(select(LedgerEntry))
        }
        assert [indexes[p.pending_id] for p in pending] == [0, 1, 2, 3]
        assert verify.verify_ledger(session, []).size == 5


def test_rolled_back_entries_are_never_sequenced(engine: Engine):
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        store.append_entries(session, [sample_event(1)], deferred=True)
        session.rollback()
        assert settling.PENDING not in session.info
        assert sequencer.sweep(session) == 0
        assert store.tree_size(session) == 0


def test_batches_sign_checkpoints_consistent_with_the_last(engine: Engine, signing_key):
    sequencer.configure(
        engine, sequencer.Config(signing_key=signing_key, origin=ORIGIN, checkpoint_every=4)
    )
    sessions = make_sessionmaker(engine)
    for start in range(0, 10, 3):
        with sessions() as session:
            store.append_entries(
                session, [sample_event(i) for i in range(start, start + 3)], deferred=True
            )
            session.commit()
    with sessions() as session:
        sizes = [c.tree_size for c in store.all_checkpoints(session)]
        assert sizes == [6, 9, 12]  # each batch that crossed a multiple of 4 signed
        report = verify.verify_ledger(session, checkpoint.verifier_key(ORIGIN, signing_key))
        assert (report.size, report.checkpoints) == (12, 3)
        note = session.get(LedgerCheckpoint, 12)
        assert note is not None and note.note.startswith(f"{ORIGIN}\n12\n")
        # the on-demand signer and the batches never disagree
        assert checkpoint.sign_checkpoint(session, signing_key, ORIGIN).tree_size == 12


def test_inline_append_sequences_in_the_callers_transaction(session: Session):
    (entry,) = store.append_entries(session, [sample_event(0)])
    assert entry.index == 0 and store.tree_size(session) == 1
    assert _unsequenced(session) == 0


def test_a_large_batch_writes_the_same_projection(session: Session):
    """Batches past the COPY threshold project exactly what small ones do."""
    from hub.ledger import fsck

    store.append_entries(session, [sample_event(i) for i in range(150)], deferred=True)
    session.commit()
    assert store.tree_size(session) == 150
    fsck.check_projection(session, 150)  # raises naming the first entry it disagrees with
    assert verify.verify_ledger(session, []).size == 150


def test_a_request_that_finds_the_sequencer_free_leads_in_its_own_transaction(engine: Engine):
    """One transaction for the request and its batch; a batch that fails takes the request
    down with it (nothing half-sequenced, nothing committed unsequenced)."""
    from sqlalchemy import event

    sessions = make_sessionmaker(engine)
    begins: list[object] = []

    def count(_connection: object) -> None:
        begins.append(_connection)

    event.listen(engine, "begin", count)
    try:
        with sessions() as session:
            (entry,) = store.append_entries(session, [sample_event(1)], deferred=True)
            session.commit()
    finally:
        event.remove(engine, "begin", count)
    assert entry.index == 0 and len(begins) == 1
    with sessions() as session:
        store.append_entries(session, [sample_event(2)], deferred=True, release=["nowhere:x"])
        with pytest.raises(LookupError):
            session.commit()
        session.rollback()
    with sessions() as session:
        assert store.tree_size(session) == 1 and _unsequenced(session) == 0


def test_a_follower_commits_then_waits_for_the_leader(engine: Engine, backend: str):
    """With another transaction leading, the request commits its unsequenced entry and
    waits (shared lock); once the leader is done it gets its index (here: it leads the next
    batch itself, the leader's having missed it)."""
    if backend != "postgres":
        pytest.skip("the advisory lock is PostgreSQL's")
    sessions = make_sessionmaker(engine)
    result: dict[str, object] = {}

    def follow() -> None:
        with sessions() as session:
            (entry,) = store.append_entries(session, [sample_event(1)], deferred=True)
            session.commit()
            result["index"] = entry.index

    with engine.connect() as leader:
        leader.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": sequencer.LOCK_KEY})
        follower = threading.Thread(target=follow)
        follower.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with sessions() as observer:
                if _unsequenced(observer) == 1:
                    break
            time.sleep(0.05)
        with sessions() as observer:
            assert _unsequenced(observer) == 1  # committed, not sequenced, not acknowledged
        assert follower.is_alive() and "index" not in result
        leader.commit()  # the leader's transaction ends
        follower.join(20)
    assert result["index"] == 0
    with sessions() as session:
        assert store.tree_size(session) == 1 and _unsequenced(session) == 0


def test_the_try_lock_takes_the_batch_only_when_it_gets_the_lock(engine: Engine, backend: str):
    """One statement tries the lock and, only if it got it, locks the head and takes the
    pending rows: held elsewhere, it takes nothing and marks the transaction to commit
    asynchronously; free, it takes every pending row, its own uncommitted one included."""
    if backend != "postgres":
        pytest.skip("the advisory lock is PostgreSQL's")
    sessions = make_sessionmaker(engine)
    with sessions() as session:  # a committed straggler, and the head row at size 1
        store.append_entries(session, [sample_event(0)])
        store.append_entries(session, [sample_event(1)], deferred=True)
        settling.forget(session)
        session.commit()
    with engine.connect() as other, sessions() as session:
        other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": sequencer.LOCK_KEY})
        (own,) = store.append_entries(session, [sample_event(2)], deferred=True)
        assert not settling.try_lock(session)
        assert session.scalar(text("SHOW synchronous_commit")) == "off"
        assert _unsequenced(session) == 2  # nothing taken
        session.rollback()
        other.rollback()  # the other leader is done
        (own,) = store.append_entries(session, [sample_event(2)], deferred=True)
        lead = settling.try_lock(session)
        assert isinstance(lead, batch_pg.Lead) and lead.head is not None
        assert lead.head[0] == 1
        assert [row.id for row in lead.rows][-1] == own.pending_id and len(lead.rows) == 2
        assert session.scalar(text("SHOW synchronous_commit")) == "on"
        assert _unsequenced(session) == 0  # taken by this transaction's batch
        session.rollback()

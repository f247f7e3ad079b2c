"""The ledger store: appends inside the caller's transaction, proofs equal the RFC's."""

from __future__ import annotations

import multiprocessing

import pytest
import rfc8785
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hub.db import make_engine, make_sessionmaker
from hub.ledger import events, merkle, salted, store
from hub.ledger.errors import IndexOutOfRange, InvalidEvent
from hub.ledger.models import LedgerEntry, LedgerHead, LedgerNode
from tests.ledger.conftest import pg_engine, sample_event


def _leaves(session: Session) -> list[bytes]:
    rows = session.execute(select(LedgerEntry.leaf_hash).order_by(LedgerEntry.index))
    return [bytes(h) for (h,) in rows]


def test_append_returns_entries_with_canonical_json(session: Session) -> None:
    event = sample_event(0)
    first = store.append_entry(session, event)
    batch = store.append_entries(session, [sample_event(i) for i in range(1, 4)])
    session.commit()
    assert [first.index] + [e.index for e in batch] == [0, 1, 2, 3]
    assert first.entry == rfc8785.dumps(event)
    decoys = events.member_slots("disclosure") - len(event)
    assert first.format == 2 and len(first.salts) == 16 * len(event) + 32 * decoys
    assert first.leaf_hash == merkle.leaf_hash(salted.stored_leaf_input(first.entry, first.salts))
    assert store.tree_size(session) == 4
    assert store.get_entry(session, 2).entry == batch[1].entry
    assert store.append_entries(session, []) == []


def test_store_proofs_equal_pure_proofs_at_every_small_size(session: Session) -> None:
    # Mix single and batched appends: both must store the same subtrees.
    sizes = [1, 2, 1, 5, 1, 1, 8, 3, 13, 1, 4]
    for n in sizes:
        store.append_entries(session, [sample_event(i) for i in range(n)])
        session.commit()
    leaves = _leaves(session)
    total = len(leaves)
    for n in range(total + 1):
        assert store.root_hash(session, n) == merkle.reference_root(leaves[:n])
        for m in range(n + 1):
            assert store.consistency_proof(session, m, n) == merkle.reference_proof(m, leaves[:n])
            if m < n:
                assert store.inclusion_proof(session, m, n) == merkle.reference_path(m, leaves[:n])
    assert store.root_hash(session) == merkle.reference_root(leaves)


def test_store_proofs_at_larger_sizes(session: Session) -> None:
    store.append_entries(session, [sample_event(i) for i in range(1100)])
    session.commit()
    leaves = _leaves(session)
    lookup = merkle.subtree_lookup(leaves)
    stored = {
        (lv, i): bytes(h)
        for lv, i, h in session.execute(select(LedgerNode.level, LedgerNode.index, LedgerNode.hash))
    }
    assert all(lookup(ref) == value for ref, value in stored.items())
    assert len(stored) == sum(1100 >> lv for lv in range(1, 12))
    for n in (1, 2, 3, 255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025, 1099, 1100):
        root = merkle.root_from_leaves(leaves[:n])
        assert store.root_hash(session, n) == root
        for m in {0, 1, n // 3, n // 2, n - 1, n}:
            proof = store.consistency_proof(session, m, n)
            assert proof == merkle.consistency_path(m, leaves[:n])
            assert merkle.verify_consistency(m, n, merkle.root_from_leaves(leaves[:m]), root, proof)
            if m < n:
                path = store.inclusion_proof(session, m, n)
                assert merkle.verify_inclusion(m, n, leaves[m], path, root)


def test_rolled_back_append_leaves_nothing(session: Session) -> None:
    store.append_entries(session, [sample_event(i) for i in range(5)])
    assert store.tree_size(session) == 5
    session.rollback()
    assert store.tree_size(session) == 0
    for model in (LedgerEntry, LedgerNode):
        assert session.scalar(select(func.count()).select_from(model)) == 0
    assert store.append_entry(session, sample_event(9)).index == 0
    session.commit()


def test_append_does_not_commit(engine, session: Session) -> None:
    store.append_entry(session, sample_event(0))
    assert session.in_transaction()
    if engine.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE would block this reader
        with make_sessionmaker(engine)() as other:
            assert store.tree_size(other) == 0
    session.rollback()


def test_invalid_event_appends_nothing(session: Session) -> None:
    bad = sample_event(1) | {"name": "Jane Doe"}
    with pytest.raises(InvalidEvent):
        store.append_entries(session, [sample_event(0), bad])
    assert store.tree_size(session) == 0


def test_out_of_range_requests(session: Session) -> None:
    store.append_entries(session, [sample_event(i) for i in range(3)])
    session.commit()
    with pytest.raises(IndexOutOfRange):
        store.get_entry(session, 3)
    with pytest.raises(IndexOutOfRange):
        store.inclusion_proof(session, 3, 3)
    with pytest.raises(IndexOutOfRange):
        store.inclusion_proof(session, 0, 4)
    with pytest.raises(IndexOutOfRange):
        store.consistency_proof(session, 2, 1)
    with pytest.raises(IndexOutOfRange):
        store.root_hash(session, 4)
    assert store.consistency_proof(session, 0, 3) == []


def _append_worker(url: str, schema: str | None, worker: int, rounds: int, go) -> None:
    engine = pg_engine(schema) if schema else make_engine(url)
    maker = make_sessionmaker(engine)
    go.wait(60)  # start together so appenders really contend for the head lock
    for r in range(rounds):
        with maker() as session:
            if r % 3 == 0:
                store.append_entries(
                    session, [sample_event(worker * 1000 + r * 10 + k) for k in range(4)]
                )
            else:
                store.append_entry(session, sample_event(worker * 1000 + r))
            session.commit()
    engine.dispose()


@pytest.mark.slow
def test_concurrent_appenders_leave_a_gap_free_verifying_log(
    database, session: Session, signing_key
) -> None:
    from hub.ledger import checkpoint, verify

    engine, url, schema = database
    workers, rounds = 4, 30
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Barrier(workers + 1)
    procs = [
        ctx.Process(target=_append_worker, args=(url, schema, w, rounds, go))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    go.wait(60)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    expected = workers * (10 * 4 + 20)  # per worker: 10 batches of 4, 20 single appends
    indexes = list(session.scalars(select(LedgerEntry.index).order_by(LedgerEntry.index)))
    assert indexes == list(range(len(indexes)))
    assert len(indexes) == expected
    assert store.tree_size(session) == len(indexes)
    checkpoint.sign_checkpoint(session, signing_key, "hub.test/ledger")
    session.commit()
    key = checkpoint.verifier_key("hub.test/ledger", signing_key)
    assert verify.verify_ledger(session, key).size == len(indexes)


def test_head_row_is_single(session: Session) -> None:
    store.append_entry(session, sample_event(0))
    session.commit()
    assert session.scalar(select(func.count()).select_from(LedgerHead)) == 1
    with pytest.raises(Exception):  # noqa: B017 - the check constraint, whichever driver error
        session.execute(
            text("INSERT INTO ledger_head (id, size, frontier) VALUES (2, 0, :f)"), {"f": b""}
        )
        session.flush()
    session.rollback()

"""``verify_ledger`` finds edits made behind the hub's back and names the first bad index."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hub.ledger import checkpoint, merkle, store, verify
from hub.ledger.verify import LedgerCorrupt
from tests.ledger.conftest import ORIGIN, sample_event


def _bypass_triggers(session: Session) -> None:
    """What a superuser can do: switch off the append-only triggers for this session."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET session_replication_role = replica"))


def _ledger(session: Session, key, n: int = 300, every: int = 100) -> str:
    for start in range(0, n, every):
        store.append_entries(session, [sample_event(i) for i in range(start, start + every)])
        checkpoint.sign_checkpoint(session, key, ORIGIN)
    session.commit()
    return checkpoint.verifier_key(ORIGIN, key)


def test_untouched_ledger_verifies_with_progress(session: Session, signing_key) -> None:
    vkey = _ledger(session, signing_key)
    seen: list[tuple[int, int]] = []
    report = verify.verify_ledger(
        session, vkey, progress=lambda d, t: seen.append((d, t)), chunk_size=64
    )
    assert (report.size, report.checkpoints) == (300, 3)
    assert report.root_hash == store.root_hash(session)
    assert seen[-1] == (300, 300) and len(seen) == 5


def test_edited_entry_is_named(session: Session, signing_key) -> None:
    vkey = _ledger(session, signing_key)
    _bypass_triggers(session)
    session.execute(
        text("UPDATE ledger_entries SET entry = :e WHERE idx = 137"),
        {"e": b'{"type":"disclosure","edited":true}'},
    )
    session.commit()
    with pytest.raises(LedgerCorrupt) as caught:
        verify.verify_ledger(session, vkey, chunk_size=64)
    assert caught.value.index == 137


def test_deleted_entry_is_named(session: Session, signing_key) -> None:
    vkey = _ledger(session, signing_key)
    _bypass_triggers(session)
    session.execute(text("DELETE FROM ledger_entries WHERE idx = 42"))
    session.commit()
    with pytest.raises(LedgerCorrupt) as caught:
        verify.verify_ledger(session, vkey)
    assert caught.value.index == 42


def test_edited_subtree_hash_is_named(session: Session, signing_key) -> None:
    vkey = _ledger(session, signing_key)
    _bypass_triggers(session)
    session.execute(
        text("UPDATE ledger_nodes SET hash = :h WHERE level = 3 AND idx = 20"), {"h": b"\0" * 32}
    )
    session.commit()
    with pytest.raises(LedgerCorrupt) as caught:
        verify.verify_ledger(session, vkey)
    assert caught.value.index == 20 << 3
    assert "level 3" in caught.value.reason


def _rewrite_history(session: Session, index: int) -> None:
    """Edit an entry and recompute every derived hash, as a careful attacker would (a
    format 1 leaf: no salts needed)."""
    _bypass_triggers(session)
    forged = b'{"type":"disclosure","forged":true}'
    session.execute(
        text(
            "UPDATE ledger_entries SET entry = :e, leaf_hash = :h, format = 1, salts = NULL "
            "WHERE idx = :i"
        ),
        {"e": forged, "h": merkle.leaf_hash(forged), "i": index},
    )
    leaves = [
        bytes(h)
        for (h,) in session.execute(text("SELECT leaf_hash FROM ledger_entries ORDER BY idx"))
    ]
    frontier = merkle.Frontier()
    for leaf in leaves:
        for level, idx, value in frontier.append(leaf):
            session.execute(
                text("UPDATE ledger_nodes SET hash = :h WHERE level = :l AND idx = :i"),
                {"h": value, "l": level, "i": idx},
            )
    session.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": frontier.to_bytes()})
    session.commit()


def test_consistently_rewritten_history_is_caught_by_the_signed_checkpoints(
    session: Session, signing_key
) -> None:
    vkey = _ledger(session, signing_key)
    _rewrite_history(session, 150)
    with pytest.raises(LedgerCorrupt) as caught:
        verify.verify_ledger(session, vkey)
    assert caught.value.index == 100  # the first entry the last good checkpoint does not vouch for
    assert "[100, 200)" in caught.value.reason


def test_forged_checkpoint_signature_is_caught(session: Session, signing_key) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    vkey = _ledger(session, signing_key)
    note = checkpoint.sign_note(
        checkpoint.checkpoint_body(ORIGIN, 200, store.root_hash(session, 200)),
        ORIGIN,
        Ed25519PrivateKey.generate(),
    )
    _bypass_triggers(session)
    session.execute(
        text("UPDATE ledger_checkpoints SET note = :n WHERE tree_size = 200"), {"n": note}
    )
    session.commit()
    with pytest.raises(LedgerCorrupt) as caught:
        verify.verify_ledger(session, vkey)
    assert caught.value.index == 100 and "trusted key" in caught.value.reason


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET entry = 'x' WHERE idx = 1",
        "DELETE FROM ledger_entries WHERE idx = 1",
        "UPDATE ledger_nodes SET hash = 'x' WHERE level = 1",
        "DELETE FROM ledger_nodes",
        "DELETE FROM ledger_checkpoints",
        "TRUNCATE ledger_entries",
    ],
)
def test_postgres_triggers_refuse_update_and_delete(
    engine, session: Session, signing_key, statement: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("triggers are PostgreSQL's")
    _ledger(session, signing_key, n=10, every=10)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert store.tree_size(session) == 10


@pytest.mark.parametrize(("level", "index"), [(1, 0), (4, 3), (6, 1), (8, 0)])
def test_edited_subtree_above_the_chunk_size_is_named(
    session: Session, signing_key, level: int, index: int
) -> None:
    vkey = _ledger(session, signing_key)
    _bypass_triggers(session)
    session.execute(
        text("UPDATE ledger_nodes SET hash = :h WHERE level = :l AND idx = :i"),
        {"h": b"\7" * 32, "l": level, "i": index},
    )
    session.commit()
    with pytest.raises(LedgerCorrupt) as caught:
        verify.verify_ledger(session, vkey, chunk_size=16)
    assert caught.value.index == index << level

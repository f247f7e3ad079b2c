"""The hashing inner loop of ``hub log verify`` (hub.ledger.spancheck) computes exactly what the
reference functions do, for well-formed and altered rows alike."""

from __future__ import annotations

import gc
import os

import pytest
from hypothesis import given, settings
from sqlalchemy.orm import Session

from hub.ledger import merkle, salted, spancheck, store, verify
from hub.ledger.verify import LedgerCorrupt
from tests.ledger.conftest import sample_event
from tests.ledger.test_access import events
from tests.ledger.test_tamper import _ledger
from tests.ledger.test_verify_parallel import CHUNK, _edit_entry


def _stored(event: dict) -> tuple[bytes, bytes]:
    blob = store.canonical_entry(event)
    return blob, os.urandom(store._salts_size(event))


def _reference_leaf(entry: bytes, entry_format: int, salts: bytes | None) -> bytes:
    """What a stored row's leaf must be, by salted.py's documented steps (b"" if none)."""
    if entry_format == 1 and salts is None:
        return merkle.leaf_hash(entry)
    if entry_format == 2 and salts is not None:
        try:
            return merkle.leaf_hash(salted.stored_leaf_input(entry, salts))
        except salted.MalformedEntry:
            return b""
    return b""


@settings(max_examples=100, deadline=None)
@given(events())
def test_salted_leaves_are_the_reference_leaves(event) -> None:
    blob, salts = _stored(event)
    if not salts:  # a public governance event: format 1
        assert spancheck.salted_leaves([blob], [1], [None]) == [merkle.leaf_hash(blob)]
        return
    expected = merkle.leaf_hash(salted.leaf_input(salted.stored_digests(blob, salts)))
    assert spancheck.salted_leaves([blob], [2], [salts]) == [expected]
    assert spancheck.entry_leaf(blob, 2, salts) == expected


def test_altered_rows_have_no_leaf_or_the_reference_one() -> None:
    blob, salts = _stored(sample_event(3))
    rows = [
        (blob, 2, salts),
        (blob, 1, salts),  # format flipped, salts kept
        (blob, 2, None),  # salts dropped
        (blob, 1, None),  # a format 1 row over the same bytes
        (blob, 3, salts),  # no such format
        (blob[:-1], 2, salts),
        (blob[1:], 2, salts),
        (blob.replace(b',"agreement"', b', "agreement"'), 2, salts),  # members do not rejoin
        (blob, 2, salts[:-1]),  # salts cut short
        (blob, 2, salts + os.urandom(salted.DIGEST_SIZE)),  # one decoy more: another leaf
        (b"{", 2, b""),
        (b"{}", 2, b""),
        (b"", 2, b""),
    ]
    got = spancheck.salted_leaves(*map(list, zip(*rows, strict=True)))
    assert got == [_reference_leaf(*row) for row in rows]
    assert got[0] and not any(got[i] for i in (1, 2, 4, 5, 6, 7, 8, 10, 12))


def test_parents_are_node_hashes_and_an_odd_last_hash_waits() -> None:
    below = [os.urandom(32) for _ in range(7)]
    assert spancheck.parents(below) == [merkle.node_hash(below[i], below[i + 1]) for i in (0, 2, 4)]
    assert spancheck.parents(below[:1]) == []


def test_gc_is_paused_only_while_verifying() -> None:
    assert gc.isenabled()
    with spancheck.gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with spancheck.gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_three_processes_agree_and_name_an_edit(session: Session, signing_key) -> None:
    """Two workers and this process share the spans; the coordinator still folds them in
    index order and names the first bad entry."""
    vkey = _ledger(session, signing_key)
    one = verify.verify_ledger(session, vkey, chunk_size=CHUNK, processes=1)
    three = verify.verify_ledger(session, vkey, chunk_size=CHUNK, processes=3)
    assert (three.size, three.root_hash, three.checkpoints) == (one.size, one.root_hash, 3)
    _edit_entry(session, 250)
    _edit_entry(session, 57)
    with pytest.raises(LedgerCorrupt) as caught:
        verify.verify_ledger(session, vkey, chunk_size=CHUNK, processes=3)
    assert caught.value.index == 57

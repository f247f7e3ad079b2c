"""C2SP tlog-tiles from the stored tree agree with the store's proofs and with pymerkle."""

from __future__ import annotations

import pytest
from pymerkle import InmemoryTree

from hub.ledger import merkle, salted, store, tiles
from hub.ledger.checkpoint import sign_checkpoint
from hub.ledger.models import LedgerEntry
from tests.ledger.conftest import ORIGIN, sample_event

SIZE = 600  # level 0: two full tiles and 002.p/88; level 1: 000.p/2


def _leaf_input(entry: LedgerEntry) -> bytes:
    if entry.format == salted.FORMAT_SALTED:
        return salted.stored_leaf_input(bytes(entry.entry), bytes(entry.salts or b""))
    return bytes(entry.entry)


def test_index_paths_are_exactly_the_specs():
    assert tiles.encode_index(1234067) == "x001/x234/067"
    assert tiles.encode_index(5) == "005"
    assert tiles.tile_path(tiles.TileRef(1, 1000, 17)) == "tile/1/x001/000.p/17"
    assert tiles.parse_index(0, "x001/x234/067") == tiles.TileRef(0, 1234067)
    assert tiles.parse_index(2, "067.p/255") == tiles.TileRef(2, 67, 255)
    for bad in ("x000/005", "5", "0005", "005.p/0", "005.p/256", "005.p/012", "005/", "x1/005"):
        with pytest.raises(tiles.NoSuchTile):
            tiles.parse_index(0, bad)
    with pytest.raises(tiles.NoSuchTile):
        tiles.parse_index(64, "000")


def test_tiles_agree_with_store_proofs_and_pymerkle(session, signing_key):
    store.append_entries(session, [sample_event(i) for i in range(SIZE)])
    checkpoint = sign_checkpoint(session, signing_key, ORIGIN)
    session.commit()
    independent = InmemoryTree("sha256")
    entries = session.query(LedgerEntry).order_by(LedgerEntry.index).all()
    for entry in entries:
        independent.append_entry(_leaf_input(entry))

    level0 = b"".join(
        tiles.read_tile(session, tiles.parse_index(0, path)) for path in ("000", "001", "002.p/88")
    )
    assert len(level0) == SIZE * 32
    leaves = [level0[i : i + 32] for i in range(0, len(level0), 32)]
    assert leaves == [independent.get_leaf(i + 1) for i in range(SIZE)]
    level1 = tiles.read_tile(session, tiles.parse_index(1, "000.p/2"))
    assert level1 == independent._get_root(0, 256) + independent._get_root(256, 512)
    assert level1[:32] == merkle.reference_root(leaves[:256])

    # a monitor holding only tiles gets the checkpoint's root and the API's proofs
    assert merkle.reference_root(leaves) == independent.get_root(SIZE) == checkpoint.root_hash
    for index in (0, 255, 256, 599):
        assert merkle.inclusion_path(index, leaves) == store.inclusion_proof(session, index, SIZE)
    for first in (1, 256, 300):
        assert merkle.consistency_path(first, leaves) == store.consistency_proof(session, first, SIZE)

    for level, path in ((0, "002"), (0, "002.p/89"), (0, "003.p/1"), (1, "000"), (1, "000.p/3"),
                        (2, "000.p/1")):
        with pytest.raises(tiles.NoSuchTile):
            tiles.read_tile(session, tiles.parse_index(level, path))


def test_tiles_stop_at_the_signed_checkpoint(session, signing_key):
    store.append_entries(session, [sample_event(i) for i in range(10)])
    with pytest.raises(tiles.NoSuchTile):
        tiles.read_tile(session, tiles.parse_index(0, "000.p/1"))  # nothing signed yet
    sign_checkpoint(session, signing_key, ORIGIN)
    store.append_entries(session, [sample_event(i) for i in range(10, 20)])
    assert len(tiles.read_tile(session, tiles.parse_index(0, "000.p/10"))) == 320
    with pytest.raises(tiles.NoSuchTile):
        tiles.read_tile(session, tiles.parse_index(0, "000.p/11"))  # appended, not signed

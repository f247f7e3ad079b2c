"""Tiles and Merkle checks on synthetic trees: every size around the tile boundaries.

Tiles are built here with the hub's Merkle code, roots come from pymerkle, and the client's
:class:`TiledTree` must authenticate the tiles and give pymerkle's roots.
"""

from __future__ import annotations

import hashlib

import pytest
from pymerkle import InmemoryTree

from hub.ledger import merkle as hub_merkle
from hub_client import merkle
from hub_client.tiles import TiledTree, TileError, TilesUnavailable, tile_path


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]


def tile_server(hashes: list[bytes], *, keep_partials: bool = True):
    """A fetcher serving the tiles of the tree over ``hashes`` (what a log would serve)."""
    size = len(hashes)
    fetched: list[str] = []

    def level_hashes(level: int) -> list[bytes]:
        chunk = 256**level
        return [hub_merkle.root_from_leaves(hashes[i : i + chunk]) for i in range(0, size - chunk + 1, chunk)]

    cache: dict[int, list[bytes]] = {}

    def fetch(path: str) -> bytes | None:
        fetched.append(path)
        parts = path.split("/")
        level = int(parts[1])
        rest = "/".join(parts[2:])
        index_text, _, width_text = rest.partition(".p/")
        index = int(index_text.replace("x", "").replace("/", ""))
        row = cache.setdefault(level, level_hashes(level))
        tile = row[index * 256 : index * 256 + 256]
        if width_text:
            if not keep_partials or len(tile) != int(width_text):
                return None
            return b"".join(tile)
        return b"".join(tile) if len(tile) == 256 else None

    return fetch, fetched


def test_tile_paths_are_as_the_spec_writes_them():
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(1, 5) == "tile/1/005"
    assert tile_path(2, 1000, 17) == "tile/2/x001/000.p/17"
    with pytest.raises(ValueError):
        tile_path(0, 0, 256)


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 512, 513, 1000, 65535, 65536, 65537])
def test_tiles_authenticate_and_give_every_root(size: int):
    hashes = leaves(size)
    fetch, fetched = tile_server(hashes)
    tree = TiledTree(size, fetch)
    root = hub_merkle.root_from_leaves(hashes)
    tree.check_root(root)
    reference = InmemoryTree("sha256")
    for h in hashes[:1100]:
        reference._store_leaf(b"", h)
    for old in sorted({1, size // 2, size - 1, 255, 256, 257, 1024, size} & set(range(1, size + 1))):
        expected = reference.get_root(old) if old <= 1100 else hub_merkle.root_from_leaves(hashes[:old])
        assert tree.root_of(old) == expected
    assert tree.leaf(size - 1) == hashes[-1]
    assert len(fetched) <= 12


def test_a_full_tile_gone_partial_falls_back_to_the_full_tile():
    hashes = leaves(300)
    fetch, fetched = tile_server(hashes, keep_partials=False)
    tree = TiledTree(300, fetch)
    with pytest.raises(TilesUnavailable):  # no partial tile, no full tile for 256..299
        tree.check_root(hub_merkle.root_from_leaves(hashes))


def test_a_root_that_is_not_the_tiles_is_refused_and_nothing_is_read_before_the_check():
    hashes = leaves(600)
    fetch, _ = tile_server(hashes)
    tree = TiledTree(600, fetch)
    with pytest.raises(TileError, match="check the tree's root"):
        tree.leaf(0)
    with pytest.raises(TileError, match="do not give its root"):
        tree.check_root(hub_merkle.root_from_leaves(hashes[:599]))


def test_consistency_and_inclusion_agree_with_the_hubs_proofs():
    hashes = leaves(70)
    for first in range(0, 71):
        proof = hub_merkle.consistency_path(first, hashes)
        assert merkle.verify_consistency(
            first, 70, hub_merkle.root_from_leaves(hashes[:first]), hub_merkle.root_from_leaves(hashes), proof
        )
        if first and first < 70:
            assert not merkle.verify_consistency(first, 70, hashes[-1], hub_merkle.root_from_leaves(hashes), proof)
    root = hub_merkle.root_from_leaves(hashes)
    for index in range(70):
        path = hub_merkle.inclusion_path(index, hashes)
        assert merkle.verify_inclusion(index, 70, hashes[index], path, root)
        assert not merkle.verify_inclusion(index, 70, hashes[(index + 1) % 70], path, root)

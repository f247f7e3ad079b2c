"""Receipts verified offline by the client agree with the hub's verifier and with pymerkle.

pymerkle is an independent RFC 9162 implementation: it rebuilds the tree from the public leaf
hashes, and its roots, inclusion checks and the client's must all agree; tiles read by the
client must give pymerkle's root for every prefix of the tree.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from pymerkle import InclusionProof, InmemoryTree
from pymerkle.core import _inclusion_path_layout

from hub.ledger import merkle as hub_merkle
from hub.ledger import verify as hub_verify
from hub_client import VerificationError, merkle, verify_entry_view, verify_receipt
from hub_client.receipts import entry_view_leaf
from hub_client.tiles import TiledTree, TileError, tile_path
from hub_client_testing import Hub, referral

pytestmark = pytest.mark.slow


def pymerkle_tree(leaves: list[bytes]) -> InmemoryTree:
    """pymerkle's tree over the log's leaf hashes (stored as given, as the log stores them)."""
    tree = InmemoryTree("sha256")
    for leaf in leaves:
        tree._store_leaf(b"", leaf)
    return tree


def pymerkle_inclusion(index: int, size: int, leaf: bytes, hashes: list[bytes], root: bytes) -> None:
    rule, _ = _inclusion_path_layout(index + 1, size)
    InclusionProof("sha256", True, size, index + 1, rule, [leaf, *hashes]).verify(leaf, root, index + 1, size)


def all_leaves(client: Any, size: int) -> list[bytes]:
    return [
        base64.b64decode(client.request("GET", f"/api/v1/log/leaves/{i}", "log:read").json()["leaf_hash"])
        for i in range(size)
    ]


def test_a_receipt_verifies_offline_and_agrees_with_the_hub_and_pymerkle(hub: Hub):
    key = hub.log_key()
    sender = hub.client("kent-csc")
    sent = sender.send_referral(referral(f"Receipt{uuid.uuid4().hex[:8]}"))
    receipt = sent["receipt"]
    assert receipt["format"] == 2
    head = verify_receipt(receipt, key)  # the receipt alone, offline
    theirs = hub_verify.verify_receipt(receipt, key)
    assert (head.origin, head.size, head.root_hash) == (theirs.origin, theirs.size, theirs.root_hash)
    assert entry_view_leaf(receipt) == hub_verify.entry_view_leaf(receipt)
    # the recipient's view of the same entry (other members) commits to the same leaf
    provider = hub.client("kent-syv-provider")
    view = provider.entry(receipt["index"])
    assert "mental_health" not in str(view)  # the recipient never learns what was withheld
    assert verify_entry_view(view) == base64.b64decode(receipt["leaf_hash"])
    assert entry_view_leaf(view) == hub_verify.entry_view_leaf(view)
    # against the latest checkpoint, with a fresh inclusion proof
    latest = sender.verify_receipt(receipt, key)
    assert latest.size >= head.size
    # pymerkle: the whole tree from the public leaf hashes gives the signed root
    leaves = all_leaves(sender, latest.size)
    tree = pymerkle_tree(leaves)
    assert tree.get_root(latest.size) == latest.root_hash
    assert tree.get_root(head.size) == head.root_hash
    proof = receipt["inclusion"]
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    pymerkle_inclusion(receipt["index"], head.size, entry_view_leaf(receipt), hashes, head.root_hash)
    # one altered member fails the client, the hub's verifier and pymerkle alike
    forged = {**receipt, "entry": {**receipt["entry"], "purpose": "something_else"}}
    with pytest.raises(VerificationError):
        verify_receipt(forged, key)
    with pytest.raises(hub_verify.VerificationError):
        hub_verify.verify_receipt(forged, key)
    forged_leaf = hub_merkle.leaf_hash(b"\x02" + b"\x00" * 32)
    with pytest.raises(Exception, match="match"):
        pymerkle_inclusion(receipt["index"], head.size, forged_leaf, hashes, head.root_hash)
    # a proof with one hash changed, or for another index, is refused
    bad = {**proof, "hashes": [base64.b64encode(b"\x00" * 32).decode(), *proof["hashes"][1:]]}
    with pytest.raises(VerificationError):
        verify_receipt(receipt, key, inclusion=bad)
    with pytest.raises(VerificationError):
        verify_receipt({**receipt, "index": receipt["index"] + 1}, key)


def test_consistency_proofs_from_the_hub_verify_against_pymerkle_roots(hub: Hub):
    client = hub.client("kent-police")
    size = client.checkpoint(hub.log_key()).size
    tree = pymerkle_tree(all_leaves(client, size))
    for first in sorted({1, 2, 3, size // 3, size // 2, size - 1, size}):
        proof = client.consistency_proof(first, size)
        assert merkle.verify_consistency(first, size, tree.get_root(first), tree.get_root(size), proof)
        if proof:
            flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert not merkle.verify_consistency(first, size, tree.get_root(first), tree.get_root(size), flipped)


def test_tiles_give_pymerkles_root_for_every_prefix_and_refuse_a_changed_byte(hub: Hub):
    sender = hub.client("kent-csc")
    tag = uuid.uuid4().hex[:6]
    # enough entries for a full level-0 tile and a level-1 tile above it
    results = sender.send_batch([referral(f"Tile{tag}{n}") for n in range(260)])
    assert {r["status"] for r in results} == {201}
    head = sender.checkpoint(hub.log_key())
    assert head.size > 256
    tiles = sender.tiles(head.size)
    tiles.check_root(head.root_hash)
    tree = pymerkle_tree(all_leaves(sender, head.size))
    for size in range(1, head.size + 1):
        assert tiles.root_of(size) == tree.get_root(size), size
    assert tiles.fetched <= 4  # a full and a partial tile at level 0, a partial at level 1

    def tampered(path: str) -> bytes | None:
        data = sender.fetch_tile(path)
        if data is not None and path == tile_path(0, 0):
            data = bytes([data[0] ^ 1]) + data[1:]
        return data

    broken = TiledTree(head.size, tampered)
    broken.check_root(head.root_hash)  # the partial tiles are fine...
    with pytest.raises(TileError, match="does not hash"):
        broken.root_of(100)  # ...but the full tile does not match its entry above
    with pytest.raises(TileError, match="root"):
        TiledTree(head.size, sender.fetch_tile).check_root(b"\x00" * 32)

"""RFC 9162 known answers and properties for ``hub.ledger.merkle``.

Known-answer vectors are copied verbatim from transparency-dev/merkle,
``proof/verify_test.go`` (commit 02194e9afb6c1d95b5381350007963aa70fff472), which derives them
from the Certificate Transparency reference tree of eight leaves. Leaf numbers in its
``inclusionProofs`` table are 1-based; its ``roots[i]`` is the root of the first ``i + 1``
leaves.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ledger import merkle

# -- published vectors ---------------------------------------------------------------------

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]

# (1-based leaf, tree size, path)
INCLUSION = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (size1, size2, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

EMPTY_TREE = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

HASHES = [merkle.leaf_hash(d) for d in LEAVES]


def test_empty_tree_is_sha256_of_nothing() -> None:
    assert merkle.EMPTY_ROOT == EMPTY_TREE
    assert merkle.reference_root([]) == merkle.root_from_leaves([]) == EMPTY_TREE


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_reference_tree(size: int) -> None:
    want = ROOTS[size - 1]
    assert merkle.reference_root(HASHES[:size]) == want
    assert merkle.root_from_leaves(HASHES[:size]) == want
    lookup = merkle.subtree_lookup(HASHES[:size])
    assert merkle.fold([lookup(r) for r in merkle.root_plan(size)]) == want


@pytest.mark.parametrize(("leaf", "size", "path"), INCLUSION)
def test_published_inclusion_proofs(leaf: int, size: int, path: list[str]) -> None:
    want = [bytes.fromhex(h) for h in path]
    assert merkle.reference_path(leaf - 1, HASHES[:size]) == want
    assert merkle.inclusion_path(leaf - 1, HASHES[:size]) == want
    assert merkle.verify_inclusion(leaf - 1, size, HASHES[leaf - 1], want, ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_published_consistency_proofs(first: int, second: int, path: list[str]) -> None:
    want = [bytes.fromhex(h) for h in path]
    assert merkle.reference_proof(first, HASHES[:second]) == want
    assert merkle.consistency_path(first, HASHES[:second]) == want
    assert merkle.verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], want)


def _inclusion_probes(index: int, size: int, path: list[bytes], root: bytes, leaf: bytes):
    """The corruptions transparency-dev's ``corruptInclusionProof`` applies."""
    yield index - 1, size, leaf, path, root
    yield index + 1, size, leaf, path, root
    yield index ^ 2, size, leaf, path, root
    yield index, size * 2, leaf, path, root
    yield index, size // 2, leaf, path, root
    yield index, size, b"WrongLeaf", path, root
    yield index, size, leaf, path, EMPTY_TREE
    yield index, size, leaf, path, SOME_HASH
    yield index, size, leaf, path + [b""], root
    yield index, size, leaf, path + [root], root
    yield index, size, leaf, [b""] + path, root
    yield index, size, leaf, [root] + path, root
    for i in range(len(path)):
        bad = list(path)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        yield index, size, leaf, bad, root
    if path:
        yield index, size, leaf, path[:-1], root
    if len(path) > 1:
        yield index, size, leaf, [path[0], SOME_HASH] + path[1:], root


@pytest.mark.parametrize(("leaf", "size", "path"), INCLUSION[1:])
def test_corrupted_inclusion_proofs_fail(leaf: int, size: int, path: list[str]) -> None:
    hashes = [bytes.fromhex(h) for h in path]
    probes = _inclusion_probes(leaf - 1, size, hashes, ROOTS[size - 1], HASHES[leaf - 1])
    for probe in probes:
        assert not merkle.verify_inclusion(*probe), probe


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_fail(first: int, second: int, path: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in path]
    r1, r2 = ROOTS[first - 1], ROOTS[second - 1]
    probes = [
        (first - 1, second, r1, r2, proof),
        (first + 1, second, r1, r2, proof),
        (first ^ 2, second, r1, r2, proof),
        (first, second * 2, r1, r2, proof),
        (first, second // 2, r1, r2, proof),
        (first, second, b"WrongRoot", r2, proof),
        (first, second, r1, b"WrongRoot", proof),
        (first, second, r2, r1, proof),
        (first, second, r1, r2, []),
        (first, second, r1, r2, proof + [b""]),
        (first, second, r1, r2, proof + [r1]),
        (first, second, r1, r2, proof + [r2]),
        (first, second, r1, r2, [b""] + proof),
        (first, second, r1, r2, [r1] + proof),
        (first, second, r1, r2, [r2] + proof),
        (first, second, r1, r2, [proof[0]] + proof),
        (first, second, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        probes.append((first, second, r1, r2, bad))
    for probe in probes:
        assert not merkle.verify_consistency(*probe), probe


@pytest.mark.parametrize(
    ("first", "second", "r1", "r2", "proof", "ok"),
    [  # transparency-dev TestVerifyConsistency's edge cases
        (0, 0, b"1" * 32, b"2" * 32, [], False),
        (1, 1, b"1" * 32, b"2" * 32, [], False),
        (0, 0, b"1" * 32, b"1" * 32, [], True),
        (0, 1, b"1" * 32, b"2" * 32, [], True),
        (1, 1, b"2" * 32, b"2" * 32, [], True),
        (1, 0, b"1" * 32, b"2" * 32, [], False),
        (2, 1, b"1" * 32, b"2" * 32, [], False),
        (1, 2, b"1" * 32, b"2" * 32, [], False),
        (0, 0, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE], False),
        (0, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE], False),
        (1, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE], False),
    ],
)
def test_consistency_edge_cases(first, second, r1, r2, proof, ok) -> None:
    assert merkle.verify_consistency(first, second, r1, r2, proof) is ok


def test_single_entry_inclusion() -> None:
    h = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(0, 1, h, [], h)
    assert not merkle.verify_inclusion(0, 1, b"", [], h)
    assert not merkle.verify_inclusion(0, 1, h, [], b"")
    for index, size in [(0, 0), (1, 0), (2, 1)]:
        assert not merkle.verify_inclusion(index, size, SOME_HASH, [], EMPTY_TREE)


# -- properties -----------------------------------------------------------------------------


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def _flip(hashes: list[bytes], which: int, bit: int) -> list[bytes]:
    out = list(hashes)
    h = bytearray(out[which])
    h[bit // 8] ^= 1 << (bit % 8)
    out[which] = bytes(h)
    return out


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(1, 300))
def test_every_inclusion_proof_verifies_and_any_flipped_bit_fails(data, n: int) -> None:
    leaves = _leaves(n)
    root = merkle.root_from_leaves(leaves)
    assert root == merkle.reference_root(leaves)
    index = data.draw(st.integers(0, n - 1))
    path = merkle.inclusion_path(index, leaves)
    assert path == merkle.reference_path(index, leaves)
    assert merkle.verify_inclusion(index, n, leaves[index], path, root)
    if path:
        which = data.draw(st.integers(0, len(path) - 1))
        bit = data.draw(st.integers(0, 255))
        assert not merkle.verify_inclusion(index, n, leaves[index], _flip(path, which, bit), root)
    bit = data.draw(st.integers(0, 255))
    assert not merkle.verify_inclusion(index, n, _flip([leaves[index]], 0, bit)[0], path, root)
    assert not merkle.verify_inclusion(index, n, leaves[index], path, _flip([root], 0, bit)[0])


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(1, 300))
def test_every_consistency_proof_verifies_and_any_flipped_bit_fails(data, n: int) -> None:
    leaves = _leaves(n)
    m = data.draw(st.integers(0, n))
    proof = merkle.consistency_path(m, leaves)
    assert proof == merkle.reference_proof(m, leaves)
    r1, r2 = merkle.reference_root(leaves[:m]), merkle.reference_root(leaves)
    assert merkle.verify_consistency(m, n, r1, r2, proof)
    bit = data.draw(st.integers(0, 255))
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        assert not merkle.verify_consistency(m, n, r1, r2, _flip(proof, which, bit))
    if 0 < m < n:
        assert not merkle.verify_consistency(m, n, _flip([r1], 0, bit)[0], r2, proof)
        assert not merkle.verify_consistency(m, n, r1, _flip([r2], 0, bit)[0], proof)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 600))
def test_frontier_reports_every_completed_subtree(n: int) -> None:
    leaves = _leaves(n)
    lookup = merkle.subtree_lookup(leaves)
    frontier = merkle.Frontier()
    seen = {}
    for h in leaves:
        for level, index, value in frontier.append(h):
            seen[(level, index)] = value
    assert frontier.root() == merkle.reference_root(leaves)
    expected = {(lv, i) for lv in range(1, n.bit_length()) for i in range(n >> lv)}
    assert set(seen) == expected
    assert all(lookup(ref) == value for ref, value in seen.items())
    again = merkle.Frontier.from_bytes(n, frontier.to_bytes())
    assert again.root() == frontier.root()


def test_leaf_and_node_prefixes() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()

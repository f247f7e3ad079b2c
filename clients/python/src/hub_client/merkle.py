"""RFC 9162 Merkle tree hashing and proof verification (SHA-256), standard library only.

Written from RFC 9162 §2.1 (the same tree as RFC 6962), independently of the hub's code:
the point of a client is to check the hub, not to run it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "leaf_hash",
    "node_hash",
    "root_from_subtrees",
    "subtree_decomposition",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _hashes_ok(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove ``leaf`` is entry ``index`` of the tree ``root``?"""
    if not 0 <= index < size or not _hashes_ok(leaf, root, *path):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``path`` prove tree ``second`` extends tree ``first``?

    With the cases the RFC leaves to the caller: equal sizes need equal roots and no proof;
    every tree extends the empty one (no proof).
    """
    if not 0 <= first <= second or not _hashes_ok(first_root, second_root, *path):
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if not path:
        return False
    nodes = list(path)
    if first & (first - 1) == 0:  # a power of two: the old root is itself a node
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def subtree_decomposition(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees ``(level, index)`` that make up a tree of ``size`` leaves.

    One per set bit of ``size``, largest (leftmost) first; a node ``(level, index)``
    covers leaves ``[index << level, (index + 1) << level)``.
    """
    if size < 0:
        raise ValueError("negative tree size")
    nodes, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def root_from_subtrees(hashes: Sequence[bytes]) -> bytes:
    """The RFC 9162 root from the hashes of :func:`subtree_decomposition`, left to right."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc

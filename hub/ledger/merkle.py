"""RFC 9162 Merkle tree hashing, proofs and proof verification (pure, stdlib only).

This file is deliberately self-contained so that a partner can copy it (with ``verify.py``)
and check everything the hub hands out without trusting the hub's code or database.

Two layers:

* the RFC's recursive definitions over an in-memory list of leaf hashes (``reference_*``),
  kept as the executable specification that the tests compare against;
* *plans*: the same proofs expressed as lists of perfect, power-of-two-aligned subtrees
  ``(level, index)``. A store that keeps the hash of every completed subtree can answer any
  root or proof at any tree size with O(log n) reads: fetch the planned nodes, then
  :func:`resolve`. This is the compact-range idea of Trillian and Tessera.

A node ``(level, index)`` covers leaves ``[index << level, (index + 1) << level)``; level 0
is a leaf hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeRef = tuple[int, int]
Plan = list[list[NodeRef]]

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """``H(0x00 || d)``: the prefix stops a leaf from being passed off as an interior node."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``H(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): RFC 9162's ``k``."""
    if n < 2:
        raise ValueError("split_point needs n >= 2")
    return 1 << ((n - 1).bit_length() - 1)


# -- the RFC's recursive definitions (executable specification) ---------------------------


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf *hashes*, exactly as RFC 9162 §2.1.1 defines it."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = split_point(n)
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def reference_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1) over leaf hashes."""
    n = len(leaves)
    if not 0 <= m < n:
        raise ValueError("leaf index out of range")
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return reference_path(m, leaves[:k]) + [reference_root(leaves[k:])]
    return reference_path(m - k, leaves[k:]) + [reference_root(leaves[:k])]


def reference_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 §2.1.4.1) over leaf hashes."""
    if not 0 <= m <= len(leaves):
        raise ValueError("first tree size out of range")
    if m == 0:
        return []
    return _reference_subproof(m, leaves, True)


def _reference_subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [reference_root(leaves)]
    k = split_point(n)
    if m <= k:
        return _reference_subproof(m, leaves[:k], complete) + [reference_root(leaves[k:])]
    return _reference_subproof(m - k, leaves[k:], False) + [reference_root(leaves[:k])]


# -- compact ranges and plans -------------------------------------------------------------


def range_refs(start: int, end: int) -> list[NodeRef]:
    """Decompose leaves ``[start, end)`` into perfect subtrees, left to right.

    Valid for the ranges RFC 9162 recursion produces: ``start`` is a multiple of the largest
    power of two not exceeding ``end - start``, so the pieces are the set bits of the size,
    highest first, and :func:`fold` of their hashes is MTH of the range.
    """
    refs: list[NodeRef] = []
    size = end - start
    pos = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            refs.append((level, pos >> level))
            pos += 1 << level
    return refs


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine the perfect subtrees of a range (left to right) into its RFC 9162 root."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(b"\x01" + h + acc).digest()
    return acc


def root_plan(size: int) -> list[NodeRef]:
    """The perfect subtrees whose hashes give the root of the tree of ``size`` leaves."""
    if size < 0:
        raise ValueError("negative tree size")
    return range_refs(0, size)


def inclusion_plan(index: int, size: int) -> Plan:
    """PATH(index, D[size]) as a plan: each proof hash is the fold of a list of nodes."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    plan: Plan = []
    start, end = 0, size
    while end - start > 1:
        mid = start + split_point(end - start)
        if index < mid:
            plan.append(range_refs(mid, end))
            end = mid
        else:
            plan.append(range_refs(start, mid))
            start = mid
    plan.reverse()
    return plan


def consistency_plan(first: int, second: int) -> Plan:
    """PROOF(first, D[second]) as a plan (empty when ``first`` is 0 or equals ``second``)."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    plan: Plan = []
    if first in (0, second):
        return plan
    start, end, m, complete = 0, second, first, True
    while m != end - start:
        mid = start + split_point(end - start)
        if m <= mid - start:
            plan.append(range_refs(mid, end))
            end = mid
        else:
            plan.append(range_refs(start, mid))
            m -= mid - start
            start = mid
            complete = False
    if not complete:
        plan.append(range_refs(start, end))
    plan.reverse()
    return plan


def plan_refs(plan: Plan | list[NodeRef]) -> set[NodeRef]:
    """Every node a plan (or a flat list of nodes) needs, for one batched read."""
    refs: set[NodeRef] = set()
    for item in plan:
        if isinstance(item, tuple):
            refs.add(item)
        else:
            refs.update(item)
    return refs


def resolve(
    plan: Plan, lookup: Mapping[NodeRef, bytes] | Callable[[NodeRef], bytes]
) -> list[bytes]:
    """Turn a plan into proof hashes given the hashes of its nodes."""
    get = lookup.__getitem__ if isinstance(lookup, Mapping) else lookup
    return [fold([get(ref) for ref in element]) for element in plan]


def subtree_lookup(leaves: Sequence[bytes]) -> Callable[[NodeRef], bytes]:
    """A node lookup over an in-memory list of leaf hashes (for tests and small trees)."""
    cache: dict[NodeRef, bytes] = {}

    def lookup(ref: NodeRef) -> bytes:
        level, index = ref
        if level == 0:
            return leaves[index]
        if ref not in cache:
            cache[ref] = node_hash(
                lookup((level - 1, 2 * index)), lookup((level - 1, 2 * index + 1))
            )
        return cache[ref]

    return lookup


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, computed iteratively (fast path for large lists)."""
    frontier = Frontier()
    for h in leaves:
        frontier.append(h)
    return frontier.root()


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) over in-memory leaf hashes, via the plan."""
    return resolve(inclusion_plan(index, len(leaves)), subtree_lookup(leaves))


def consistency_path(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(first, D[n]) over in-memory leaf hashes, via the plan."""
    return resolve(consistency_plan(first, len(leaves)), subtree_lookup(leaves))


class Frontier:
    """The right border of a growing tree: one perfect subtree per set bit of ``size``.

    Appending a leaf merges completed subtrees and reports each newly completed node, which is
    exactly what a store must persist; :meth:`root` folds the border in O(log n).
    """

    __slots__ = ("size", "hashes")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError("a frontier holds one hash per set bit of its size")
        self.size = size
        self.hashes = list(hashes)

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> Frontier:
        """Rebuild from :meth:`to_bytes` (the hashes concatenated, largest subtree first)."""
        hashes = [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]
        return cls(size, hashes)

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the ``(level, index, hash)`` of each completed node."""
        completed: list[tuple[int, int, bytes]] = []
        hashes, h, position, level = self.hashes, leaf, self.size, 0
        while position & 1:
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            level += 1
            position >>= 1
            completed.append((level, position, h))
        hashes.append(h)
        self.size += 1
        return completed

    def root(self) -> bytes:
        return fold(self.hashes)


# -- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ----------------------------------------


def _well_formed(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def root_from_inclusion_path(
    index: int, size: int, leaf: bytes, path: Sequence[bytes]
) -> bytes | None:
    """Run §2.1.3.2 and return the root it implies, or ``None`` if the path is malformed."""
    if not 0 <= index < size or not _well_formed(leaf, *path):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
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
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """True iff ``path`` proves leaf hash ``leaf`` is at ``index`` in the tree with ``root``."""
    if not _well_formed(root):
        return False
    return root_from_inclusion_path(index, size, leaf, path) == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """True iff ``path`` proves the tree ``(second, second_root)`` extends ``(first, first_root)``.

    §2.1.4.2, plus the two trivial cases the RFC leaves implicit: from the empty tree every
    tree is consistent (and the proof must be empty); equal sizes need equal roots and an
    empty proof.
    """
    if not 0 <= first <= second or not _well_formed(first_root, second_root, *path):
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
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

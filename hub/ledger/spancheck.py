"""Verify one span of the ledger from its entry bytes: the hashing inner loop of ``hub log verify``.

A span ``[start, stop)`` is subtree-aligned (:func:`hub.ledger.fsck.spans`), so it needs
nothing outside itself: every leaf is recomputed from the entry bytes (and, for format 2,
the salts) and compared with the stored leaf hashes, and every complete subtree inside the
span is hashed from the level below and compared with the stored level, each level as one
concatenated blob. Only when a blob differs does the check go back row by row
(``lookups``, the slow path) to name the *first* bad index.

Kept apart from :mod:`hub.ledger.fsck` (which checks what joins the spans) and
:mod:`hub.ledger.spanpool` (which runs them) because this is where the CPU time goes: a
``hashlib`` call per leaf and per node, and for format 2 per salted member, with as few
other Python-level steps around them as the checks allow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
from collections.abc import Iterator, Sequence
from typing import Protocol

from hub.ledger import merkle, salted, scan

_sha256 = hashlib.sha256
_NODE_PREFIX = _sha256(b"\x01")  # copied per node: cheaper than building 0x01 || l || r


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while verifying (restored after).

    A chunk is some 100,000 new tuples and bytes objects, none in a reference cycle (they
    are freed by reference counting), yet each allocation burst triggers collections that
    walk every live object: measured at about a quarter of the CPU time of a full run.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def entry_leaf(entry: bytes, entry_format: int, salts: bytes | None) -> bytes:
    """The leaf hash a stored row should have; ``b""`` (matches nothing) if it cannot.

    Format 1: ``SHA-256(0x00 || entry)``. Format 2: over the salted member digests, which
    also checks the salts fit the entry. A format that disagrees with the salts' presence
    (a row flipped from one format to the other) can have no valid leaf.
    """
    if entry_format == salted.FORMAT_PLAIN and salts is None:
        return _sha256(b"\x00" + entry).digest()
    if entry_format == salted.FORMAT_SALTED and salts is not None:
        try:
            return _sha256(b"\x00" + salted.stored_leaf_input(entry, salts)).digest()
        except salted.MalformedEntry:
            return b""
    return b""


def leaves_of(data: scan.Chunk) -> list[bytes]:
    """Every leaf of the span, recomputed from the entry bytes (and salts)."""
    if data.formats:
        return salted_leaves(data.entries, data.formats, data.salts)
    sha = _sha256
    return [sha(b"\x00" + entry).digest() for entry in data.entries]


def salted_leaves(
    entries: Sequence[bytes], formats: Sequence[int], salts: Sequence[bytes | None]
) -> list[bytes]:
    """:func:`entry_leaf` of each row, with the format 2 case inlined.

    A format 2 leaf is some fourteen SHA-256 calls and a member cut, and the Python calls
    around them (``stored_leaf_input`` -> ``stored_digests`` -> ``split_members`` ...)
    would add a tenth again; the steps are :mod:`hub.ledger.salted`'s own, in one loop.
    Any row that is not a well-formed format 2 row goes through :func:`entry_leaf`.
    """
    sha, cut_members, cutter = _sha256, salted.MEMBER_FINDALL, salted.salt_cutter
    out: list[bytes] = []
    append = out.append
    for entry, entry_format, salt_bytes in zip(entries, formats, salts, strict=True):
        if entry_format != salted.FORMAT_SALTED or salt_bytes is None or entry[:1] != b"{":
            append(entry_leaf(entry, entry_format, salt_bytes))
            continue
        members = cut_members(entry, 1, len(entry) - 1)
        try:
            pieces = cutter(len(members), len(salt_bytes))(salt_bytes)
        except salted.MalformedEntry:
            append(b"")
            continue
        if b",".join(members) != entry[1:-1] or entry[-1:] != b"}":
            append(b"")  # the members do not rejoin: not an entry the hub wrote
            continue
        pairs = zip(pieces, members, strict=False)  # the salts; the decoys follow them
        digests = [sha(salt + member).digest() for salt, member in pairs]
        digests += pieces[len(members) :]
        digests.sort()
        append(sha(b"\x00" + salted.LEAF_INPUT_TAG + b"".join(digests)).digest())
    return out


def parents(below: Sequence[bytes]) -> list[bytes]:
    """The level above ``below`` (pairs of hashes; an odd last one has no parent yet)."""
    prefix = _NODE_PREFIX
    out: list[bytes] = []
    append = out.append
    for left, right in zip(below[0::2], below[1::2], strict=False):
        node = prefix.copy()
        node.update(left)
        node.update(right)
        append(node.digest())
    return out


@dataclasses.dataclass
class SpanResult:
    """What verifying one span ``[start, stop)`` found, small enough to pass between
    processes: the hashes of the span's perfect subtrees (``range_refs(start, stop)``), the
    same for each checkpoint size ending inside the span, and the problems found."""

    start: int
    stop: int
    pieces: list[tuple[int, bytes]]
    cuts: dict[int, list[bytes]]
    problems: list[tuple[int, str]]


class Lookups(Protocol):
    """The slow path: exact reads that name the first bad entry or node of a span."""

    def entries(self, start: int, stop: int) -> list[scan.Row]: ...

    def nodes(self, level: int, first: int, last: int) -> dict[int, bytes]: ...


def check_span(data: scan.Chunk, cuts: Sequence[int], lookups: Lookups) -> SpanResult:
    """Verify one span read by :meth:`hub.ledger.scan.ChunkReader.read`.

    Leaves are recomputed from the entry bytes and compared with the stored leaf hashes;
    each level inside the span is hashed from the one below and compared with the stored
    level in one go. ``lookups`` is used only to name the first bad entry or node.
    """
    start, stop = data.start, data.stop
    result = SpanResult(start, stop, [], {}, [])
    leaves = leaves_of(data)
    if not data.complete or len(leaves) != stop - start or b"".join(leaves) != data.leaf_hashes:
        result.problems.append(_first_bad_entry(lookups, start, stop))
        return result
    levels = [leaves]
    hashes = leaves
    for level in range(1, (stop - start).bit_length()):
        hashes = parents(hashes)
        if data.levels.get(level) != b"".join(hashes):
            problem = _first_bad_node(lookups, level, start >> level, hashes)
            if problem is not None:
                result.problems.append(problem)
        levels.append(hashes)
    result.pieces = [
        (lv, levels[lv][i - (start >> lv)]) for lv, i in merkle.range_refs(start, stop)
    ]
    for size in cuts:
        refs = merkle.range_refs(start, size)
        result.cuts[size] = [levels[lv][i - (start >> lv)] for lv, i in refs]
    return result


def _first_bad_node(
    lookups: Lookups, level: int, first: int, hashes: list[bytes]
) -> tuple[int, str] | None:
    stored = lookups.nodes(level, first, first + len(hashes) - 1)
    for offset, value in enumerate(hashes):
        if stored.get(first + offset) != value:
            state = "missing" if first + offset not in stored else "wrong"
            where = f"(level {level}, index {first + offset})"
            return (first + offset) << level, f"stored subtree hash {where} is {state}"
    return None


def _first_bad_entry(lookups: Lookups, start: int, stop: int) -> tuple[int, str]:
    """The slow, exact path: name the first missing or altered entry in the span."""
    position = start
    for index, blob, stored, entry_format, salts in lookups.entries(start, stop):
        if index != position:
            break
        salts = None if salts is None else bytes(salts)
        if entry_leaf(bytes(blob), entry_format, salts) != bytes(stored):
            return position, "entry does not match its stored leaf hash (entry edited)"
        position += 1
    return position, "entry is missing"

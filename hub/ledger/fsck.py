"""The database walk behind :func:`hub.ledger.verify.verify_ledger` (``hub log verify``).

Nothing stored is trusted except the entry bytes: each leaf hash, each completed subtree,
the head row, every checkpoint's root, signature and consistency with the previous one is
recomputed. Storage is untrusted (a superuser can disable the append-only triggers), so this
walk is what actually detects tampering.

Speed: entries stream in power-of-two chunks; each chunk's subtrees are hashed level by level
in list comprehensions, and stored hashes are compared as one concatenated blob per level.
Only when a blob differs does the walk go back row by row, to name the *first* bad index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from hub.ledger import merkle, store
from hub.ledger.verify import (
    LedgerCorrupt,
    LedgerReport,
    NoteVerifier,
    VerificationError,
    open_note,
    parse_checkpoint,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hub.ledger.models import LedgerCheckpoint

_sha256 = hashlib.sha256


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete subtree inside a chunk, level by level (level 0 = the leaves)."""
    levels, current = [leaves], leaves
    while len(current) > 1:
        current = [
            _sha256(b"\x01" + current[i] + current[i + 1]).digest()
            for i in range(0, len(current) - 1, 2)
        ]
        levels.append(current)
    return levels


class _Walk:
    """One verification pass: the frontier of finished chunks and the problems found."""

    def __init__(self, session: Session, verifiers: list[NoteVerifier], chunk_size: int) -> None:
        self.session = session
        self.verifiers = verifiers
        self.chunk_bits = chunk_size.bit_length() - 1
        self.high = merkle.Frontier()  # one "leaf" per finished chunk
        self.problems: list[tuple[int, str]] = []
        self.checkpoints = store.all_checkpoints(session)
        self.next_checkpoint = 0
        self.previous: tuple[int, bytes] = (0, merkle.EMPTY_ROOT)
        self.verified_checkpoints = 0

    @property
    def prefix(self) -> list[bytes]:
        """Perfect subtrees of all finished chunks, largest first."""
        return self.high.hashes

    def chunk(self, start: int, stop: int) -> list[bytes] | None:
        """Verify entries ``[start, stop)``; return the chunk's pieces, or None if it is bad."""
        rows = store.entries_between(self.session, start, stop)
        leaves = [_sha256(b"\x00" + blob).digest() for _, blob, _ in rows]
        stored = b"".join([leaf for _, _, leaf in rows])
        if len(leaves) != stop - start or stored != b"".join(leaves):
            self._find_bad_entry(start, stop)
            return None
        levels = _levels(leaves)
        for level in range(1, len(levels)):
            self._compare_level(level, start >> level, levels[level])
        pieces = [levels[lv][i - (start >> lv)] for lv, i in merkle.range_refs(start, stop)]
        self._checkpoints_within(start, stop, levels)
        if stop - start == 1 << self.chunk_bits:
            for level, index, value in self.high.append(levels[-1][0]):
                self._compare_level(level + self.chunk_bits, index, [value])
        return pieces

    def _compare_level(self, level: int, first: int, hashes: list[bytes]) -> None:
        last = first + len(hashes) - 1
        if store.level_blob(self.session, level, first, last) == b"".join(hashes):
            return
        stored = store.nodes_at_level(self.session, level, first, last)
        for offset, value in enumerate(hashes):
            if stored.get(first + offset) != value:
                state = "missing" if first + offset not in stored else "wrong"
                where = f"(level {level}, index {first + offset})"
                self._note((first + offset) << level, f"stored subtree hash {where} is {state}")
                return

    def _find_bad_entry(self, start: int, stop: int) -> None:
        """The slow, exact path: name the first missing or altered entry in the chunk."""
        position = start
        for index, blob, stored in store.entries_between(self.session, start, stop):
            if index != position:
                break
            if merkle.leaf_hash(blob) != bytes(stored):
                self._note(position, "entry does not match its stored leaf hash (entry edited)")
                return
            position += 1
        self._note(position, "entry is missing")

    def _checkpoints_within(self, start: int, stop: int, levels: list[list[bytes]]) -> None:
        while self.next_checkpoint < len(self.checkpoints):
            checkpoint = self.checkpoints[self.next_checkpoint]
            size = checkpoint.tree_size
            if size > stop or (size == start and start > 0):
                return
            refs = merkle.range_refs(start, size)
            pieces = [levels[lv][i - (start >> lv)] for lv, i in refs]
            self._checkpoint(checkpoint, merkle.fold(self.prefix + pieces))
            self.next_checkpoint += 1

    def _checkpoint(self, checkpoint: LedgerCheckpoint, root: bytes) -> None:
        """Signature, body, recomputed root and consistency with the previous checkpoint."""
        size, first = checkpoint.tree_size, self.previous[0]
        where = f"checkpoint at size {size}"
        try:
            body = parse_checkpoint(open_note(checkpoint.note, self.verifiers))
        except VerificationError as exc:
            self._note(first, f"{where}: {exc}")
            return
        if body.size != size or body.root_hash != bytes(checkpoint.root_hash):
            self._note(first, f"{where}: signed note does not match the stored checkpoint")
        elif root != body.root_hash:
            reason = f"root does not match the entries; one in [{first}, {size}) was altered"
            self._note(first, f"{where}: {reason}")
        else:
            proof = store.consistency_proof(self.session, first, size)
            if not merkle.verify_consistency(first, size, self.previous[1], root, proof):
                self._note(first, f"{where}: not consistent with the checkpoint at size {first}")
            else:
                self.verified_checkpoints += 1
        self.previous = (size, body.root_hash)

    def finish(self, head: merkle.Frontier, frontier: list[bytes]) -> None:
        """Checks that need the whole walk: head row, stray rows and late checkpoints."""
        size = head.size
        if self.next_checkpoint < len(self.checkpoints):
            late = self.checkpoints[self.next_checkpoint].tree_size
            self._note(size, f"checkpoint at size {late} covers entries that are not stored")
        if head.hashes != frontier:
            refs = merkle.root_plan(size)
            bad = next(
                (i for i, (a, b) in enumerate(zip(frontier, head.hashes, strict=False)) if a != b),
                0,
            )
            level, index = refs[bad] if refs else (0, 0)
            self._note(index << level, "the head row's frontier does not match the entries")
        if store.stray_entries(self.session, size):
            self._note(size, "entries table holds rows beyond the head's tree size")
        if store.node_count(self.session) != sum(size >> lv for lv in range(1, 64)):
            self._note(size, "nodes table holds rows that no complete subtree explains")

    def _note(self, index: int, reason: str) -> None:
        self.problems.append((index, reason))

    def raise_first(self) -> None:
        if self.problems:
            index, reason = min(self.problems)
            raise LedgerCorrupt(index, reason)


def run(
    session: Session,
    verifiers: list[NoteVerifier],
    progress: Callable[[int, int], None] | None,
    chunk_size: int,
) -> LedgerReport:
    """Walk the whole ledger; raise :class:`LedgerCorrupt` naming the first bad index."""
    if chunk_size < 2 or chunk_size & (chunk_size - 1):
        raise ValueError("chunk_size must be a power of two")
    head = store.head_frontier(session)
    walk = _Walk(session, verifiers, chunk_size)
    pieces: list[bytes] = []
    for start in range(0, max(head.size, 1), chunk_size):
        stop = min(head.size, start + chunk_size)
        chunk_pieces = walk.chunk(start, stop)
        walk.raise_first()
        if chunk_pieces is None:  # _find_bad_entry always notes a problem; defensive
            raise LedgerCorrupt(start, "chunk failed verification")
        pieces = chunk_pieces if stop - start < chunk_size else []
        if progress is not None:
            progress(stop, head.size)
    frontier = walk.prefix + pieces
    walk.finish(head, frontier)
    walk.raise_first()
    return LedgerReport(head.size, merkle.fold(frontier), walk.verified_checkpoints)

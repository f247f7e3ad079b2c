"""The database walk behind :func:`hub.ledger.verify.verify_ledger` (``hub log verify``).

Nothing stored is trusted except the entry bytes (and, for format 2, their salts): each leaf
hash, each completed subtree,
the head row, every checkpoint's root, signature and consistency with the previous one is
recomputed. Storage is untrusted (a superuser can disable the append-only triggers), so this
walk is what actually detects tampering.

Speed: entries stream in subtree-aligned spans of up to ``chunk_size``
(:func:`spans`; :class:`hub.ledger.scan.ChunkReader`: the entry bytes and stored leaf hashes,
plus every level's stored subtree hashes as one blob per level). Each span is checked on its
own (:func:`hub.ledger.spancheck.check_span`): its leaves and the subtrees inside it are
hashed level by level and compared with the stored levels as concatenated blobs; only when
a blob differs does the check go back row by row, to name the *first* bad index. Spans run
in this process or in this process and worker processes (:mod:`hub.ledger.spanpool`); the
coordinator folds their roots together in index order (:class:`_Joiner`, which checks each
subtree larger than a span), and checks checkpoints and the head row. An incremental run
starts from the stored subtrees of a signed checkpoint (:func:`_anchor`).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from hub.ledger import merkle, scan, spanpool, store
from hub.ledger.errors import CorruptStore
from hub.ledger.spancheck import gc_paused
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


def spans(begin: int, end: int, chunk_size: int) -> list[tuple[int, int]]:
    """Cut ``[begin, end)`` into spans a chunk read accepts: each starts at a multiple of a
    power of two at least its length and is at most ``chunk_size`` long. From an unaligned
    ``begin`` (an incremental run) the first spans grow with its lowest set bit."""
    out = []
    position = begin
    while position < end:
        step = min(position & -position, chunk_size) if position else chunk_size
        out.append((position, min(position + step, end)))
        position += step
    return out


class _Joiner:
    """The compact range ``[0, position)`` as ``(level, hash)`` pieces, largest first.

    Spans' pieces are pushed in index order; two equal-level neighbours merge into their
    parent, which is a completed subtree and so must equal the stored node (checked here:
    these are the subtrees larger than a span, or straddling an incremental start).
    """

    def __init__(self, walk: _Walk, position: int, pieces: list[tuple[int, bytes]]) -> None:
        self.walk, self.position, self.pieces = walk, position, pieces

    @property
    def hashes(self) -> list[bytes]:
        return [h for _, h in self.pieces]

    def push(self, level: int, value: bytes) -> None:
        position = self.position
        self.position += 1 << level
        while self.pieces and self.pieces[-1][0] == level:
            _, left = self.pieces.pop()
            value = _sha256(b"\x01" + left + value).digest()
            level += 1
            position -= 1 << (level - 1)
            self.walk.compare_node(level, position >> level, value)
        self.pieces.append((level, value))


class _Walk:
    """One verification pass: the coordinator's checks between and after spans."""

    def __init__(self, session: Session, verifiers: list[NoteVerifier], begin: int) -> None:
        self.session = session
        # Held around this walk's queries: in one process the prefetch thread shares the
        # session's connection (:class:`_Prefetch`).
        self.lock = threading.Lock()
        self.verifiers = verifiers
        self.problems: list[tuple[int, str]] = []
        self.checkpoints = [c for c in store.all_checkpoints(session) if c.tree_size > begin]
        self.verified_checkpoints = 0
        self.previous: tuple[int, bytes] = (0, merkle.EMPTY_ROOT)

    def compare_node(self, level: int, index: int, value: bytes) -> None:
        with self.lock:
            stored = scan.nodes_at_level(self.session, level, index, index)
        if stored.get(index) != value:
            state = "missing" if index not in stored else "wrong"
            reason = f"stored subtree hash (level {level}, index {index}) is {state}"
            self.note(index << level, reason)

    def checkpoint(self, checkpoint: LedgerCheckpoint, root: bytes) -> None:
        """Signature, body, recomputed root and consistency with the previous checkpoint."""
        size, first = checkpoint.tree_size, self.previous[0]
        where = f"checkpoint at size {size}"
        try:
            body = parse_checkpoint(open_note(checkpoint.note, self.verifiers))
        except VerificationError as exc:
            self.note(first, f"{where}: {exc}")
            return
        if body.size != size or body.root_hash != bytes(checkpoint.root_hash):
            self.note(first, f"{where}: signed note does not match the stored checkpoint")
        elif root != body.root_hash:
            reason = f"root does not match the entries; one in [{first}, {size}) was altered"
            self.note(first, f"{where}: {reason}")
        else:
            with self.lock:
                proof = store.consistency_proof(self.session, first, size)
            if not merkle.verify_consistency(first, size, self.previous[1], root, proof):
                self.note(first, f"{where}: not consistent with the checkpoint at size {first}")
            else:
                self.verified_checkpoints += 1
        self.previous = (size, body.root_hash)

    def finish(self, head: merkle.Frontier, frontier: list[bytes], pending: int) -> None:
        """Checks that need the whole walk: head row, stray rows and late checkpoints."""
        size = head.size
        if pending < len(self.checkpoints):
            late = self.checkpoints[pending].tree_size
            self.note(size, f"checkpoint at size {late} covers entries that are not stored")
        if head.hashes != frontier:
            refs = merkle.root_plan(size)
            bad = next(
                (i for i, (a, b) in enumerate(zip(frontier, head.hashes, strict=False)) if a != b),
                0,
            )
            level, index = refs[bad] if refs else (0, 0)
            self.note(index << level, "the head row's frontier does not match the entries")
        if store.stray_entries(self.session, size):
            self.note(size, "entries table holds rows beyond the head's tree size")
        if store.node_count(self.session) != sum(size >> lv for lv in range(1, 64)):
            self.note(size, "nodes table holds rows that no complete subtree explains")

    def note(self, index: int, reason: str) -> None:
        self.problems.append((index, reason))

    def raise_first(self) -> None:
        if self.problems:
            index, reason = min(self.problems)
            raise LedgerCorrupt(index, reason)


# One process unless asked (``hub log verify --processes N``): a worker costs a spawned
# interpreter and its own connection, which pays only on large ledgers and idle cores; with
# N > 1 this process verifies spans too, so a worker never delays the run by its start-up.
# Worker processes see only committed rows, which is all ``hub log verify`` ever looks at.
DEFAULT_PROCESSES = 1


def run(
    session: Session,
    verifiers: list[NoteVerifier],
    progress: Callable[[int, int], None] | None,
    chunk_size: int,
    *,
    since: int = 0,
    processes: int | None = None,
) -> LedgerReport:
    """Walk the ledger from ``since`` (0: everything); raise :class:`LedgerCorrupt` naming
    the first bad index.

    ``since`` must be the size of a signed checkpoint that an earlier run verified: the
    stored subtrees covering ``[0, since)`` are checked against that checkpoint's signed
    root and taken as the start of the tree, then everything after is verified as in a full
    run. Should they not match (something before ``since`` changed), the walk starts over
    from 0, so the first bad index is still named.
    """
    if chunk_size < 2 or chunk_size & (chunk_size - 1):
        raise ValueError("chunk_size must be a power of two")
    with gc_paused():
        return _walk(session, verifiers, progress, chunk_size, since, processes)


def _walk(
    session: Session,
    verifiers: list[NoteVerifier],
    progress: Callable[[int, int], None] | None,
    chunk_size: int,
    since: int,
    processes: int | None,
) -> LedgerReport:
    head = store.head_frontier(session)
    if since:
        anchored = _anchor(session, verifiers, since, head.size)
        if anchored is None:
            since = 0
    walk = _Walk(session, verifiers, since)
    joiner = _Joiner(walk, 0, [])
    if since:
        walk.previous, joiner = anchored[0], _Joiner(walk, since, anchored[1])  # type: ignore[index]
    pending = 0
    while pending < len(walk.checkpoints) and walk.checkpoints[pending].tree_size == 0:
        walk.checkpoint(walk.checkpoints[pending], merkle.EMPTY_ROOT)
        pending += 1
    sizes = [c.tree_size for c in walk.checkpoints]
    todo = [
        (a, b, tuple(s for s in sizes if a < s <= b))
        for a, b in spans(since, head.size, chunk_size)
    ]
    workers = DEFAULT_PROCESSES if processes is None else processes
    source = scan.source_of(session) if workers > 1 and len(todo) > 1 else None
    if source is not None:
        results = spanpool.shared(session, source, todo, workers)
    else:
        results = spanpool.in_process(session, todo, walk.lock)
    try:
        for result in results:
            walk.problems.extend(result.problems)
            walk.raise_first()
            for _size, pieces in sorted(result.cuts.items()):
                walk.checkpoint(walk.checkpoints[pending], merkle.fold(joiner.hashes + pieces))
                pending += 1
            for level, value in result.pieces:
                joiner.push(level, value)
            walk.raise_first()
            if progress is not None:
                progress(result.stop, head.size)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    walk.finish(head, joiner.hashes, pending)
    walk.raise_first()
    return LedgerReport(head.size, merkle.fold(joiner.hashes), walk.verified_checkpoints, since)


def _anchor(
    session: Session, verifiers: list[NoteVerifier], size: int, head_size: int
) -> tuple[tuple[int, bytes], list[tuple[int, bytes]]] | None:
    """The signed root at ``size`` and the stored pieces of ``[0, size)`` if they agree."""
    from hub.ledger.models import LedgerCheckpoint

    checkpoint = session.get(LedgerCheckpoint, size)
    if checkpoint is None or size > head_size:
        return None
    try:
        body = parse_checkpoint(open_note(checkpoint.note, verifiers))
    except VerificationError:
        return None
    refs = merkle.root_plan(size)
    try:
        nodes = store.fetch_nodes(session, set(refs))
    except CorruptStore:
        return None
    pieces = [(level, nodes[level, index]) for level, index in refs]
    if body.size != size or merkle.fold([h for _, h in pieces]) != body.root_hash:
        return None
    return (size, body.root_hash), pieces


def check_projection(session: Session, size: int, start: int = 0) -> None:
    """Raise :class:`LedgerCorrupt` at the first index where the audit projection differs.

    The projection (:mod:`hub.ledger.projection`) is what DPO searches and subject access
    read; a row edited or dropped there would hide a disclosure from a DPO while the Merkle
    tree still verifies, so ``hub log verify`` recomputes it from the entries too (from
    ``start`` in an incremental run; stray rows anywhere are still found).
    """
    from hub.ledger import projection

    mismatch = projection.first_mismatch(session, size, start=start)
    if mismatch is not None:
        raise LedgerCorrupt(*mismatch)

"""The database walk behind :func:`hub.ledger.verify.verify_ledger` (``hub log verify``).

Nothing stored is trusted except the entry bytes (and, for format 2, their salts): each leaf
hash, each completed subtree,
the head row, every checkpoint's root, signature and consistency with the previous one is
recomputed. Storage is untrusted (a superuser can disable the append-only triggers), so this
walk is what actually detects tampering.

Speed: entries stream in power-of-two chunks (:class:`hub.ledger.scan.ChunkReader`: the entry
bytes and stored leaf hashes, plus every level's stored subtree hashes as one blob per level);
on PostgreSQL the next chunk is read in a thread while this one is hashed. Each chunk's
subtrees are hashed level by level in list comprehensions and compared with the stored level
as one concatenated blob. Only when a blob differs does the walk go back row by row, to name
the *first* bad index.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from hub.ledger import merkle, salted, scan, store
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


class _Walk:
    """One verification pass: the frontier of finished chunks and the problems found."""

    def __init__(
        self,
        session: Session,
        verifiers: list[NoteVerifier],
        chunk_size: int,
        db: AbstractContextManager[object] | None = None,
    ) -> None:
        self.session = session
        self.db = db if db is not None else nullcontext()  # held around every query
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

    def chunk(self, data: scan.Chunk) -> list[bytes] | None:
        """Verify one chunk of entries; return the chunk's pieces, or None if it is bad.

        The hashing is the plain loop the benchmark compares with; each level above it
        hashes 64-byte slices of the level below's concatenation, which is also what is
        compared with the stored level in one go.
        """
        start, stop = data.start, data.stop
        sha = _sha256
        if data.formats:
            leaves = [
                entry_leaf(e, f, s)
                for e, f, s in zip(data.entries, data.formats, data.salts, strict=True)
            ]
        else:
            leaves = [sha(b"\x00" + entry).digest() for entry in data.entries]
        below = b"".join(leaves)
        if not data.complete or len(leaves) != stop - start or below != data.leaf_hashes:
            self._find_bad_entry(start, stop)
            return None
        levels = [leaves]
        for level in range(1, (stop - start).bit_length()):
            hashes = [
                sha(b"\x01" + below[i : i + 64]).digest() for i in range(0, len(below) - 63, 64)
            ]
            below = b"".join(hashes)
            if data.levels.get(level) != below:
                self._compare_level(level, start >> level, hashes)
            levels.append(hashes)
        pieces = [levels[lv][i - (start >> lv)] for lv, i in merkle.range_refs(start, stop)]
        self._checkpoints_within(start, stop, levels)
        if stop - start == 1 << self.chunk_bits:
            for level, index, value in self.high.append(levels[-1][0]):
                self._compare_level(level + self.chunk_bits, index, [value])
        return pieces

    def _compare_level(self, level: int, first: int, hashes: list[bytes]) -> None:
        last = first + len(hashes) - 1
        with self.db:
            if scan.level_blob(self.session, level, first, last) == b"".join(hashes):
                return
            stored = scan.nodes_at_level(self.session, level, first, last)
        for offset, value in enumerate(hashes):
            if stored.get(first + offset) != value:
                state = "missing" if first + offset not in stored else "wrong"
                where = f"(level {level}, index {first + offset})"
                self._note((first + offset) << level, f"stored subtree hash {where} is {state}")
                return

    def _find_bad_entry(self, start: int, stop: int) -> None:
        """The slow, exact path: name the first missing or altered entry in the chunk."""
        position = start
        with self.db:
            rows = scan.entries_between(self.session, start, stop)
        for index, blob, stored, entry_format, salts in rows:
            if index != position:
                break
            salts = None if salts is None else bytes(salts)
            if entry_leaf(bytes(blob), entry_format, salts) != bytes(stored):
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
            with self.db:
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


class _Prefetch:
    """Read chunk ``k + 1`` in a thread while the caller hashes chunk ``k``.

    On PostgreSQL the reader spends its time waiting for the server (with the GIL
    released), so reading overlaps hashing on a second core. SQLite reads row by row with
    the GIL dropped and re-taken per row, which a hashing thread would starve, so it reads
    in line. ``lock`` is held around every use of the connection by either thread.
    """

    def __init__(
        self,
        read: Callable[[int, int], scan.Chunk],
        spans: list[tuple[int, int]],
        lock: threading.Lock,
        threaded: bool,
    ) -> None:
        self.read, self.spans, self.lock, self.threaded = read, spans, lock, threaded
        self.queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[scan.Chunk]:
        if not self.threaded or len(self.spans) < 2:
            for start, stop in self.spans:
                with self.lock:
                    chunk = self.read(start, stop)
                yield chunk
            return
        self.thread = threading.Thread(target=self._run, name="ledger-verify-reader", daemon=True)
        self.thread.start()
        for _ in self.spans:
            kind, value = self.queue.get()
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]

    def _run(self) -> None:
        try:
            for start, stop in self.spans:
                if self.stopping.is_set():
                    return
                with self.lock:
                    item: tuple[str, object] = ("chunk", self.read(start, stop))
                self._put(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put(("error", exc))

    def _put(self, item: tuple[str, object]) -> None:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Stop the reader and wait for it, so the connection is the caller's again."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join()


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
    reader = scan.ChunkReader(session)
    lock = threading.Lock()
    walk = _Walk(session, verifiers, chunk_size, lock)
    spans = [
        (start, min(head.size, start + chunk_size))
        for start in range(0, max(head.size, 1), chunk_size)
    ]
    pieces: list[bytes] = []
    prefetch = _Prefetch(reader.read, spans, lock, threaded=reader.postgres)
    try:
        for data in prefetch:
            chunk_pieces = walk.chunk(data)
            walk.raise_first()
            if chunk_pieces is None:  # _find_bad_entry always notes a problem; defensive
                raise LedgerCorrupt(data.start, "chunk failed verification")
            pieces = chunk_pieces if data.stop - data.start < chunk_size else []
            if progress is not None:
                progress(data.stop, head.size)
    finally:
        prefetch.close()
    frontier = walk.prefix + pieces
    walk.finish(head, frontier)
    walk.raise_first()
    return LedgerReport(head.size, merkle.fold(frontier), walk.verified_checkpoints)


def check_projection(session: Session, size: int) -> None:
    """Raise :class:`LedgerCorrupt` at the first index where the audit projection differs.

    The projection (:mod:`hub.ledger.projection`) is what DPO searches and subject access
    read; a row edited or dropped there would hide a disclosure from a DPO while the Merkle
    tree still verifies, so ``hub log verify`` recomputes it from the entries too.
    """
    from hub.ledger import projection

    mismatch = projection.first_mismatch(session, size)
    if mismatch is not None:
        raise LedgerCorrupt(*mismatch)

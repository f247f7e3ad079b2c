"""Where :mod:`hub.ledger.fsck` verifies its spans: this process, or this one and workers.

Both yield :class:`~hub.ledger.spancheck.SpanResult` in index order, so the coordinator
folds them the same way whatever ran them.

- :func:`in_process`: one process. On PostgreSQL a thread reads span ``k + 1`` on a
  connection of its own while this thread hashes span ``k``; the session stays free for
  the coordinator's own reads (checkpoint consistency proofs, subtrees above a span), which
  would otherwise wait behind a whole chunk read.
- :func:`shared`: ``processes - 1`` spawned workers *and* this process take spans from
  one queue. Spawning a worker (a fresh interpreter importing the hub) takes about a
  second, so this process verifies spans meanwhile instead of waiting: a worker only adds
  throughput, never start-up latency.
"""

from __future__ import annotations

import collections
import gc
import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING

from hub.ledger import scan
from hub.ledger.spancheck import SpanResult, check_span

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Job = tuple[int, int, tuple[int, ...]]  # (start, stop, checkpoint sizes in (start, stop])


class _Prefetch:
    """Read span ``k + 1`` in a thread while the caller hashes span ``k`` (in-process runs).

    On PostgreSQL the reader spends much of its time waiting for the server (with the GIL
    released), so reading overlaps hashing. SQLite reads row by row with the GIL dropped
    and re-taken per row, which a hashing thread would starve, so it reads in line.
    ``lock`` is held around every use of the reader's connection by either thread.
    """

    def __init__(
        self,
        read: Callable[[int, int], scan.Chunk],
        todo: list[tuple[int, int]],
        lock: threading.Lock,
        threaded: bool,
    ) -> None:
        self.read, self.todo, self.lock, self.threaded = read, todo, lock, threaded
        self.queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[scan.Chunk]:
        if not self.threaded or len(self.todo) < 2:
            for start, stop in self.todo:
                with self.lock:
                    chunk = self.read(start, stop)
                yield chunk
            return
        self.thread = threading.Thread(target=self._run, name="ledger-verify-reader", daemon=True)
        self.thread.start()
        for _ in self.todo:
            kind, value = self.queue.get()
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]

    def _run(self) -> None:
        try:
            for start, stop in self.todo:
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
        """Stop the reader and wait for it, so its connection is free again."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join()


class _Locked:
    """The slow-path lookups on the reader's connection, under the prefetch lock."""

    def __init__(self, reader: scan.ChunkReader, lock: threading.Lock) -> None:
        self.reader, self.lock = reader, lock

    def entries(self, start: int, stop: int) -> list[scan.Row]:
        with self.lock:
            return self.reader.entries(start, stop)

    def nodes(self, level: int, first: int, last: int) -> dict[int, bytes]:
        with self.lock:
            return self.reader.nodes(level, first, last)


def in_process(session: Session, todo: list[Job], lock: threading.Lock) -> Iterator[SpanResult]:
    """Every span in this process, in order. On PostgreSQL the reader thread has its own
    connection, so it sees committed rows only, as worker processes do (``hub log verify``
    and the health page walk in a fresh read-only session). ``lock`` guards the session's
    connection when the reader shares it instead (SQLite, read in line)."""
    source = scan.source_of(session)
    own = source is not None and source.postgres and len(todo) > 1
    if own:
        reader = scan.ChunkReader.connect(source)  # type: ignore[arg-type]
        lock = threading.Lock()
    else:
        reader = scan.ChunkReader.for_session(session)
    lookups = _Locked(reader, lock)
    prefetch = _Prefetch(reader.read, [(a, b) for a, b, _ in todo], lock, reader.postgres)
    try:
        for data, (_, _, cuts) in zip(prefetch, todo, strict=True):
            yield check_span(data, cuts, lookups)
    finally:
        prefetch.close()
        if own:
            reader.close()


_worker_reader: scan.ChunkReader | None = None


def _open_worker(source: scan.Source) -> None:
    global _worker_reader
    gc.disable()  # a worker only verifies spans (see hub.ledger.spancheck.gc_paused)
    _worker_reader = scan.ChunkReader.connect(source)


def _worker_span(job: Job) -> SpanResult:
    start, stop, cuts = job
    assert _worker_reader is not None  # noqa: S101 - set by the pool's initializer
    return check_span(_worker_reader.read(start, stop), cuts, _worker_reader)


def shared(
    session: Session, source: scan.Source, todo: list[Job], processes: int
) -> Iterator[SpanResult]:
    """Spans over ``processes - 1`` worker processes and this one, yielded in index order.

    Workers are spawned (not forked: the caller may hold threads and pooled connections)
    and each opens its own read-only connection. The pool is kept two spans ahead per
    worker; whenever this process would otherwise wait, it reads and checks the next
    unclaimed span itself, in line on the session's connection (no thread, so the
    coordinator's reads between spans never wait for it).
    """
    reader = scan.ChunkReader.for_session(session)
    jobs = collections.deque(todo)
    ready: dict[int, SpanResult] = {}
    running: dict[Future[SpanResult], int] = {}
    ahead = 2 * (processes - 1)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(processes - 1, mp_context=context, initializer=_open_worker,
                               initargs=(source,))  # fmt: skip
    try:
        for start, _, _ in todo:
            while start not in ready:
                for future in [f for f in running if f.done()]:
                    ready[running.pop(future)] = future.result()
                if start in ready:
                    break
                while jobs and len(running) < ahead:
                    job = jobs.popleft()
                    running[pool.submit(_worker_span, job)] = job[0]
                if jobs:
                    first, stop, cuts = jobs.popleft()
                    ready[first] = check_span(reader.read(first, stop), cuts, reader)
                else:
                    wait(running, return_when=FIRST_COMPLETED)
            yield ready.pop(start)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

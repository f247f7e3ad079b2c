"""prometheus_client's multiprocess mode for gunicorn: one directory per ``hub serve`` run.

Each worker writes its counters and histograms to memory-mapped files in
``PROMETHEUS_MULTIPROC_DIR``; a scrape answered by any worker sums them. The directory
must be empty when the server starts (stale files from an earlier run would be counted
again) and private to that run, so ``hub serve`` makes a fresh one, sets the variable
before the app (and so prometheus_client) is imported, and removes it on exit.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENV = "PROMETHEUS_MULTIPROC_DIR"


def enabled() -> bool:
    return bool(os.environ.get(ENV))


@contextmanager
def run_directory() -> Iterator[Path]:
    """A fresh, private directory for this run's metric files, exported as ``ENV``."""
    path = Path(tempfile.mkdtemp(prefix="hub-metrics-"))  # mode 0700
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(path, ignore_errors=True)


def collect_into(registry: Any) -> None:
    """Add every worker's files to ``registry`` (for one scrape)."""
    from prometheus_client import multiprocess

    multiprocess.MultiProcessCollector(registry)


def worker_exited(worker_pid: int) -> None:
    """gunicorn ``child_exit`` hook: drop a dead worker's live-gauge files."""
    from prometheus_client import multiprocess

    if enabled():
        multiprocess.mark_process_dead(worker_pid)

"""Domain errors of the ledger; the API layer maps them to problem+json responses."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class: something the ledger refuses to do or cannot do."""


class IndexOutOfRange(LedgerError):
    """An index or tree size the log does not (yet) have; an API client's mistake (404/400)."""


class InvalidEvent(LedgerError, ValueError):
    """An event that is not on the allow-list; nothing is appended (fail closed)."""


class NoCheckpoint(LedgerError):
    """No checkpoint has been signed yet."""


class InconsistentCheckpoint(LedgerError):
    """The tree no longer extends the last signed checkpoint; the hub refuses to sign.

    C2SP tlog-checkpoint: a log MUST NOT sign two inconsistent checkpoints. Raising this is
    the hub noticing that its own storage was altered.
    """


class CorruptStore(LedgerError):
    """A stored node or entry needed for an answer is missing; the store was tampered with."""

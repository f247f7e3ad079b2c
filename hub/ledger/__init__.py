"""The tamper-evident disclosure ledger: an RFC 9162 Merkle tree with signed checkpoints.

Kept import-free on purpose: ``merkle.py`` and ``verify.py`` must load without SQLAlchemy
or Flask so that partners can reuse them as they are.
"""

"""Fixtures for the hardening tests: the sharing fixtures (real tokens, real database)."""

from __future__ import annotations

from tests.sharing.conftest import auth, consented, send  # noqa: F401  (pytest fixtures)

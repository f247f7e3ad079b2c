"""Password hashing with argon2id (argon2-cffi), its cost chosen by a named profile.

Tests use the "cheapest" profile (refused in production) because the default costs about
a second per verify on a loaded 2-core machine. A hash records its own parameters, so a
hash made under one profile still verifies under another.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

_PROFILES = {
    "rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106_high_memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


@functools.cache
def hasher(profile: str) -> PasswordHashing:
    """The argon2id hashing for ``profile`` (a name from ``PASSWORD_HASH_PROFILES``)."""
    return PasswordHashing(PasswordHasher.from_parameters(_PROFILES[profile]))


def check_strength(password: str) -> str | None:
    """Why ``password`` is refused, or ``None`` (NCSC: length over composition rules)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    return None


class PasswordHashing:
    """Hash and verify; verifying for nobody still costs one argon2 verify.

    Spending the same work for an unknown email keeps response times from telling which
    emails exist.
    """

    def __init__(self, ph: PasswordHasher) -> None:
        self._ph = ph
        self._dummy = ph.hash("not a real password, never matches")

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        try:
            self._ph.verify(stored or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return stored is not None

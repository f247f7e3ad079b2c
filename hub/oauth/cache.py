"""A per-process cache of access tokens, valid only under the credentials counter it saw.

An entry is a plain, immutable copy of the token row (never an ORM object shared between
threads) stored with the :class:`hub.counters.Stamp` read *before* the row was. It is used
only while the stamp is still current, so a revocation or deactivation anywhere, by any
process or directly in the database, ends every cached copy at the next request. Expiry is
checked on every use by authlib, from the copy's ``expires_at``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import OrderedDict

from hub.counters import Stamp
from hub.oauth.models import AccessToken, TokenMethods

CACHE_SIZE = 4096


@dataclasses.dataclass(frozen=True)
class CachedToken(TokenMethods):
    """What authlib and the views read of a token (the authlib TokenMixin methods)."""

    client_id: str
    scope: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, row: AccessToken) -> CachedToken:
        return cls(row.client_id, row.scope, row.issued_at, row.expires_at, row.revoked_at)


class TokenCache:
    """Token-hash → (stamp, token), least recently used evicted past ``size``."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[Stamp, CachedToken]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str, stamp: Stamp) -> CachedToken | None:
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[0] != stamp:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry[1]

    def put(self, digest: str, stamp: Stamp, token: CachedToken) -> None:
        with self._lock:
            self._entries[digest] = (stamp, token)
            self._entries.move_to_end(digest)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


TOKENS = TokenCache()

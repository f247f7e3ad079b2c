"""``HubClient``: the hub's partner API over HTTP, with tokens, retries and idempotency.

Every request carries a bearer token from :class:`~hub_client.auth.TokenSource` (one per
scope set, cached). A 401 drops the cached token and tries once more with a fresh one. A
503 (the hub's database could not answer in time) is retried after its ``Retry-After``
(seconds or an HTTP date), at most ``max_retries`` times and never waiting longer than
``max_wait`` seconds at once. A referral carries an ``Idempotency-Key`` (generated unless
given): a retry of a send the hub already took replays its first answer and creates
nothing. A batch has no such key at the hub, so it is not retried (:meth:`HubClient.
send_batch`).
"""

from __future__ import annotations

import email.utils
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from .auth import TokenSource, load_private_jwk
from .notes import Checkpoint, VerificationError, Verifier, open_checkpoint
from .receipts import b64, check_quorum, verify_receipt
from .tiles import TiledTree

__all__ = ["HubClient", "HubError"]

RETRYABLE = frozenset({503})
ENV_NAMES = ("HUB_CLIENT_URL", "HUB_CLIENT_ID", "HUB_CLIENT_KEY")
SEND_SCOPES = "referrals:write"
READ_SCOPES = "referrals:read"
LOG_SCOPES = "log:read"


class HubError(Exception):
    """The hub answered with an error: ``status`` and the RFC 9457 problem (if any)."""

    def __init__(self, status: int, problem: Mapping[str, Any] | None = None) -> None:
        self.status = status
        self.problem = dict(problem or {})
        title = self.problem.get("title") or "HTTP error"
        detail = self.problem.get("detail")
        super().__init__(f"{status} {title}" + (f": {detail}" if detail else ""))


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HubClient:
    """A partner's connection to one hub.

    ``base_url`` is where the hub answers; ``issuer`` its ``HUB_ISSUER`` (default: the
    same). ``tile_prefix`` is the tlog-tiles prefix under it (the hub serves
    ``/api/v1/log/tile/...``). ``sleep`` is what waits between retries (a test may record it).
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        private_jwk: Mapping[str, Any] | str | Path,
        *,
        issuer: str | None = None,
        session: requests.Session | None = None,
        max_retries: int = 3,
        max_wait: float = 30.0,
        default_wait: float = 1.0,
        timeout: float = 30.0,
        tile_prefix: str = "/api/v1/log",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.session = session or requests.Session()
        key = private_jwk if isinstance(private_jwk, Mapping) else load_private_jwk(private_jwk)
        self.tokens = TokenSource(
            issuer or self.base_url,
            client_id,
            key,
            token_url=f"{self.base_url}/oauth/token",
            session=self.session,
            timeout=timeout,
            clock=clock,
        )
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.default_wait = default_wait
        self.timeout = timeout
        self.tile_prefix = tile_prefix.rstrip("/")
        self._sleep = sleep

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> HubClient:
        """A client from ``HUB_CLIENT_URL``, ``HUB_CLIENT_ID``, ``HUB_CLIENT_KEY`` (a private
        JWK file) and optionally ``HUB_CLIENT_ISSUER``."""
        env = os.environ if environ is None else environ
        missing = [n for n in ENV_NAMES if not env.get(n)]
        if missing:
            raise ValueError(f"set {', '.join(missing)}")
        return cls(
            env["HUB_CLIENT_URL"],
            env["HUB_CLIENT_ID"],
            Path(env["HUB_CLIENT_KEY"]),
            issuer=env.get("HUB_CLIENT_ISSUER") or None,
            **options,
        )

    # -- the one request path -------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        scopes: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Sequence[int] = (200,),
        retry: bool = True,
    ) -> requests.Response:
        """Send with a token; refresh once on 401; retry 503 (bounded, honouring Retry-After).

        A connection failure is retried too, for reads and for idempotency-keyed sends.
        ``retry=False`` retries nothing but the 401 (for a request the hub may have acted
        on and cannot deduplicate).
        """
        refreshed = False
        attempt = 0
        while True:
            sent = {**(headers or {}), "Authorization": f"Bearer {self.tokens.token(scopes)}"}
            try:
                response = self.session.request(
                    method,
                    f"{self.base_url}{path}",
                    json=json,
                    params=params,
                    headers=sent,
                    timeout=self.timeout,
                )
            except requests.ConnectionError:
                # Safe to repeat only a read, or a send the Idempotency-Key deduplicates.
                replayable = retry and (method == "GET" or "Idempotency-Key" in sent)
                if not replayable or attempt >= self.max_retries:
                    raise
                attempt += 1
                self._sleep(self.default_wait)
                continue
            if response.status_code == 401 and not refreshed:
                self.tokens.invalidate(scopes)
                refreshed = True
                continue
            if retry and response.status_code in RETRYABLE and attempt < self.max_retries:
                attempt += 1
                wait = retry_after(response.headers.get("Retry-After"))
                self._sleep(min(self.max_wait, self.default_wait if wait is None else wait))
                continue
            if response.status_code not in expect:
                raise HubError(response.status_code, _problem(response))
            return response

    # -- sending --------------------------------------------------------------------------

    def send_referral(
        self, referral: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """``POST /api/v1/referrals``: the 201 body (id, released, withheld, receipt...).

        A refusal raises :class:`HubError` (403 ``policy-refused`` with every reason). The
        same ``Idempotency-Key`` goes with every retry, so the hub sends it at most once.
        """
        key = idempotency_key or f"hubclient-{uuid.uuid4().hex}"
        response = self.request(
            "POST",
            "/api/v1/referrals",
            SEND_SCOPES,
            json=dict(referral),
            headers={"Idempotency-Key": key},
            expect=(201,),
        )
        return dict(response.json())

    def send_batch(
        self, items: Sequence[Mapping[str, Any]], *, retry: bool = False
    ) -> list[dict[str, Any]]:
        """``POST /api/v1/referrals:batch``: one result per item, in order (201/403/422).

        Not retried by default: the hub records a batch in chunks of a few hundred as it goes
        and does not deduplicate batches, so after a 503 some items may have been sent, and
        a blind retry would send them twice (a second disclosure about the same people).
        On :class:`HubError` 503, check what arrived, or send the items one by one with
        :meth:`send_referral`, which is idempotent. ``retry=True`` accepts the risk.
        """
        response = self.request(
            "POST",
            "/api/v1/referrals:batch",
            SEND_SCOPES,
            json={"items": [dict(item) for item in items]},
            retry=retry,
        )
        return list(response.json()["results"])

    def referral(self, referral_id: str) -> dict[str, Any]:
        """``GET /api/v1/referrals/{id}``: the sender's or the recipient's view."""
        return dict(self.request("GET", f"/api/v1/referrals/{referral_id}", READ_SCOPES).json())

    def set_status(self, referral_id: str, status: str, **extra: Any) -> dict[str, Any]:
        """``POST /api/v1/referrals/{id}/status`` (the recipient moves it on)."""
        response = self.request(
            "POST",
            f"/api/v1/referrals/{referral_id}/status",
            f"{SEND_SCOPES} {READ_SCOPES}",
            json={"status": status, **extra},
        )
        return dict(response.json())

    # -- receiving ------------------------------------------------------------------------

    def inbox(self, cursor: str = "0", *, page_size: int = 50) -> Iterator[dict[str, Any]]:
        """Every inbox item after ``cursor``, oldest first, following ``next_cursor``.

        Each item has its own ``cursor``: store the last one handled and pass it next time
        to resume. Each item read is a ``consultation`` entry on the ledger.
        """
        while True:
            page = self.request(
                "GET", "/api/v1/inbox", READ_SCOPES, params={"cursor": cursor, "limit": page_size}
            ).json()
            yield from page["items"]
            if not page["has_more"] or page["next_cursor"] == cursor:
                return
            cursor = page["next_cursor"]

    # -- the log --------------------------------------------------------------------------

    def log_key(self) -> str:
        """``GET /api/v1/log/key``. Pin it out of band: fetched from the hub it proves nothing."""
        return self.request("GET", "/api/v1/log/key", LOG_SCOPES).text.strip()

    def checkpoint_note(self) -> str:
        """``GET /api/v1/log/checkpoint``: the latest signed note, with any cosignatures."""
        return self.request("GET", "/api/v1/log/checkpoint", LOG_SCOPES).text

    def checkpoint(self, log_key: Verifier | str, origin: str | None = None) -> Checkpoint:
        """The latest checkpoint, its log signature verified."""
        return open_checkpoint(self.checkpoint_note(), log_key, origin)

    def inclusion_proof(self, index: int, tree_size: int) -> dict[str, Any]:
        params = {"index": index, "tree_size": tree_size}
        return dict(
            self.request("GET", "/api/v1/log/proofs/inclusion", LOG_SCOPES, params=params).json()
        )

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        params = {"from": first, "to": second}
        body = self.request(
            "GET", "/api/v1/log/proofs/consistency", LOG_SCOPES, params=params
        ).json()
        return [b64(h) for h in body["hashes"]]

    def entry(self, index: int) -> dict[str, Any]:
        """``GET /api/v1/log/entries/{i}``: the members the caller may read, and salts."""
        return dict(self.request("GET", f"/api/v1/log/entries/{index}", LOG_SCOPES).json())

    def fetch_tile(self, path: str) -> bytes | None:
        """One tile (``tile/<L>/<N>[.p/<W>]``) under the tile prefix; ``None`` on 404."""
        response = self.request("GET", f"{self.tile_prefix}/{path}", LOG_SCOPES, expect=(200, 404))
        return None if response.status_code == 404 else response.content

    def tiles(self, size: int) -> TiledTree:
        """The tree of ``size`` leaves as tiles (check its root before reading nodes)."""
        return TiledTree(size, self.fetch_tile)

    def witnesses(self) -> dict[str, Any]:
        """``GET /api/v1/log/witnesses``: whom the hub asks, and its quorum.

        For discovery only: trust a witness key you got from the witness's operator.
        """
        return dict(self.request("GET", "/api/v1/log/witnesses", LOG_SCOPES).json())

    def witnessed_checkpoint(
        self,
        log_key: Verifier | str,
        *,
        covering: int = -1,
        witnesses: Sequence[Verifier | str] = (),
        quorum: int = 0,
        origin: str | None = None,
        wait: float = 0.0,
        poll: float = 1.0,
    ) -> str:
        """The latest checkpoint note once it covers entry ``covering`` with ``quorum``.

        Checkpoints are signed in batches and cosigned after, so a fresh receipt's entry
        may not be covered yet: with ``wait`` (seconds) this asks again every ``poll``
        seconds until it is, then raises :class:`VerificationError` or
        :class:`~hub_client.receipts.QuorumError` as the last answer deserves.
        """
        deadline = time.monotonic() + wait
        while True:
            note = self.checkpoint_note()
            head = open_checkpoint(note, log_key, origin)
            try:
                if head.size <= covering:
                    raise VerificationError(f"no checkpoint covers entry {covering} yet")
                check_quorum(note, witnesses, quorum)
                return note
            except VerificationError:
                if time.monotonic() >= deadline:
                    raise
            self._sleep(poll)

    def verify_receipt(
        self,
        receipt: Mapping[str, Any],
        log_key: Verifier | str,
        *,
        witnesses: Sequence[Verifier | str] = (),
        quorum: int = 0,
        origin: str | None = None,
        wait: float = 0.0,
    ) -> Checkpoint:
        """Verify a receipt against the latest (witnessed) checkpoint.

        Fetches the checkpoint (waiting up to ``wait`` seconds for one that covers the
        receipt with ``quorum`` cosignatures) and an inclusion proof for the receipt's index
        at its size, then checks everything offline (:func:`hub_client.receipts.verify_receipt`).
        """
        index = int(receipt["index"])
        note = self.witnessed_checkpoint(
            log_key, covering=index, witnesses=witnesses, quorum=quorum, origin=origin, wait=wait
        )
        head = open_checkpoint(note, log_key, origin)
        proof = self.inclusion_proof(index, head.size)
        return verify_receipt(
            receipt,
            log_key,
            checkpoint=note,
            inclusion=proof,
            origin=origin,
            witnesses=witnesses,
            quorum=quorum,
        )

    def jwks(self) -> dict[str, Any]:
        """The hub's webhook keys (``/.well-known/jwks.json``; no token needed)."""
        response = self.session.get(f"{self.base_url}/.well-known/jwks.json", timeout=self.timeout)
        if response.status_code != 200:
            raise HubError(response.status_code, _problem(response))
        return dict(response.json())


def _problem(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"title": response.reason}
    return body if isinstance(body, dict) else {"title": response.reason}

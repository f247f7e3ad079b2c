"""Sending one webhook: an HTTP POST with a short timeout, reduced to an :class:`Outcome`.

Standard library only (``urllib.request``): one POST needs no client dependency. The
response body is read (bounded) and discarded, never stored or logged: a receiver's error
page may echo what we sent. Redirects are not followed, so a push never lands anywhere but
the registered URL.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from hub.delivery.outbox import Outcome

# How much of a response we read (and throw away) so the connection closes cleanly.
_DRAIN_LIMIT = 64 * 1024

__all__ = ["Sender", "check_url", "post"]


class Sender(Protocol):
    """What the worker calls to push a body; tests may pass a fake."""

    def __call__(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> Outcome: ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Treat 3xx as a failed delivery instead of following it."""

    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def check_url(url: str, *, https_only: bool) -> str | None:
    """A machine reason to refuse ``url``, or ``None`` if it may be used.

    Only http(s) with a host: ``file:``, ``ftp:`` and friends would let a partner record
    read local files or reach other services through the worker.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "invalid_url"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "unsupported_url"
    if https_only and parts.scheme != "https":
        return "insecure_url"
    return None


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Outcome:
    """POST ``body`` to ``url``; 2xx is delivered, anything else a short reason."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310 - scheme checked by check_url
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(_DRAIN_LIMIT)
            return Outcome(status=response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return Outcome(status=exc.code, error=f"http_{exc.code}")
    except urllib.error.URLError as exc:
        return Outcome(error=_reason(exc.reason))
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(error=_reason(exc))


def _reason(exc: object) -> str:
    """Name the failure without its message (messages can quote hosts, paths or data)."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, ConnectionResetError):
        return "connection_reset"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls_error"
    if isinstance(exc, socket.gaierror):
        return "dns_error"
    if isinstance(exc, http.client.HTTPException):
        return "protocol_error"
    return "connection_error"

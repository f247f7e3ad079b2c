"""A partner's client for the hub (its own distribution; it never imports the hub).

- :class:`HubClient`: tokens with ``private_key_jwt`` (cached), ``send_referral`` /
  ``send_batch`` with automatic ``Idempotency-Key`` and bounded retries on 503 honouring
  ``Retry-After``, the ``inbox()`` iterator, log reads and tiles.
- :func:`verify_webhook` and :class:`WebhookVerifier` (WSGI/Flask): ``Hub-Signature``.
- :func:`verify_receipt`: a receipt checked offline (format 2 salted entry view, RFC 9162
  inclusion proof, checkpoint signature, witness quorum).
- ``hub-monitor`` (:mod:`hub_client.monitor`): the log monitor.
"""

from .auth import TokenError, TokenSource, make_assertion
from .client import HubClient, HubError
from .notes import Checkpoint, Cosignature, VerificationError, open_checkpoint, verify_cosignatures
from .receipts import QuorumError, verify_entry_view, verify_receipt
from .webhooks import JWKSCache, WebhookSignatureError, WebhookVerifier, verify_webhook

__version__ = "0.1.0"

__all__ = [
    "Checkpoint",
    "Cosignature",
    "HubClient",
    "HubError",
    "JWKSCache",
    "QuorumError",
    "TokenError",
    "TokenSource",
    "VerificationError",
    "WebhookSignatureError",
    "WebhookVerifier",
    "make_assertion",
    "open_checkpoint",
    "verify_cosignatures",
    "verify_entry_view",
    "verify_receipt",
    "verify_webhook",
]

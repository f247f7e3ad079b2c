"""The one registry of OAuth scopes: feeds the server, the OpenAPI document and the tests."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "partners:read": "Read the calling partner's own registration",
    "agreements:read": "List the caller's information-sharing agreements and dry-run decisions",
    "referrals:write": "Send referrals and alerts, correct or withdraw them",
    "referrals:read": "Read the caller's inbox and the referrals it sent or received",
    "log:read": "Read the disclosure ledger: checkpoints, entries and proofs",
}

# What a partner's client may ask for unless its partner file narrows it.
DEFAULT_PARTNER_SCOPES: tuple[str, ...] = tuple(SCOPES)


def parse_scope(scope: str | None) -> list[str]:
    """Split an RFC 6749 scope string into unique scope names, keeping order."""
    seen: list[str] = []
    for name in (scope or "").split():
        if name not in seen:
            seen.append(name)
    return seen

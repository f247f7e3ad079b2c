"""The one registry of OAuth scopes: feeds the server, the OpenAPI document and the tests."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "partners:read": "Read the calling partner's own registration",
    "agreements:read": "List the caller's information-sharing agreements and dry-run decisions",
    "referrals:write": "Send referrals and alerts, correct or withdraw them",
    "referrals:read": "Read the caller's inbox and the referrals it sent or received",
    "log:read": "Read the disclosure ledger: checkpoints, leaf hashes, proofs, and the parts "
    "of the caller's own entries it is entitled to",
    "marac:research": "MARAC member agency: list the research requests sent to the caller's "
    "agency, return research, list meetings and sign a meeting's confidentiality statement",
    "marac:actions": "MARAC member agency: list and report on the actions the caller's agency "
    "owns",
    "log:audit": "Agency DPO: read whole entries the caller's agency is actor or recipient of "
    "(never subject commitments); only when the partner file grants it",
}

# Scopes a partner gets only when its partner file lists them.
PRIVILEGED_SCOPES: frozenset[str] = frozenset({"log:audit"})

# What a partner's client may ask for unless its partner file narrows (or widens) it.
DEFAULT_PARTNER_SCOPES: tuple[str, ...] = tuple(s for s in SCOPES if s not in PRIVILEGED_SCOPES)


def parse_scope(scope: str | None) -> list[str]:
    """Split an RFC 6749 scope string into unique scope names, keeping order."""
    seen: list[str] = []
    for name in (scope or "").split():
        if name not in seen:
            seen.append(name)
    return seen

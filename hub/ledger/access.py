"""Who may read which members of a ledger entry: one pure function, the only rule.

Proofs, leaf hashes and checkpoints are for everyone authenticated; they reveal nothing
(format 2 leaves commit to salted digests, :mod:`hub.ledger.salted`). An entry's *body* is
released member by member:

- governance events (``agreement``, ``key``, ``partner``) are public: no personal data;
- the actor (the sender of a disclosure, the reader behind a consultation, the partner that
  refused, corrected or withdrew) sees its whole decision;
- a recipient sees what it received, and nothing about what it did not: never the withheld
  fields or the refusal reasons, never another recipient, never a refusal made about it;
- an agency DPO (``log:audit``) sees every entry its agency is actor or recipient of;
- nobody else sees anything: the API answers 404, as for an index that does not exist.

Subject commitments (``subjects``) never leave the hub: only the hub itself (subject
access, Art 19 notices, the 12-month repeat rule, the hub DPO console, server side) reads
them, so no partner can match a person across flows it is not party to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hub.ledger.events import PUBLIC_TYPES

# Members released over the API to nobody, whatever the scope.
HUB_ONLY = frozenset({"subjects"})

_RECEIVED = frozenset({"type", "time", "actor", "ref", "recipients", "payload_digest"})
# What a recipient may read of an entry about a disclosure it received.
RECIPIENT_MEMBERS: dict[str, frozenset[str]] = {
    "disclosure": _RECEIVED
    | {
        "correlation",
        "kind",
        "agreement",
        "basis",
        "purpose",
        "justification",
        "fields_released",
        "transforms",
        "consent",
    },
    "correction": _RECEIVED | {"entry", "fields", "reason"},
    "erasure": _RECEIVED | {"entry", "reason", "key_destroyed"},
}


@dataclasses.dataclass(frozen=True)
class Reader:
    """Who is asking: a partner's API client (``audit`` with ``log:audit``), or the hub."""

    partner: str | None
    audit: bool = False


HUB = Reader(None)  # the hub itself, server side: every member, commitments included


def readable_members(event: Mapping[str, Any], reader: Reader) -> frozenset[str] | None:
    """The members of ``event`` that ``reader`` may read; ``None``: not even that it exists.

    A member is all or nothing (it has one salt), so ``recipients`` goes to a recipient only
    when it names that recipient alone.
    """
    present = frozenset(event)
    kind = event.get("type")
    if reader.partner is None or kind in PUBLIC_TYPES:
        return present
    actor = event.get("actor")
    is_actor = isinstance(actor, Mapping) and actor.get("partner") == reader.partner
    recipients = event.get("recipients")
    recipients = list(recipients) if isinstance(recipients, list) else []
    is_recipient = reader.partner in recipients
    if is_actor or (reader.audit and is_recipient):
        return present - HUB_ONLY
    if is_recipient and kind in RECIPIENT_MEMBERS:
        allowed = RECIPIENT_MEMBERS[str(kind)]
        if recipients != [reader.partner]:
            allowed = allowed - {"recipients"}
        return present & allowed
    return None

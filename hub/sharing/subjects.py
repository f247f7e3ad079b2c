"""Subject commitments from a message's identifiers (the ledger never holds identities).

``HMAC-SHA256(subject_secret, normalised identifier)`` for each identifier present: PNC id,
NHS number, and name + date of birth. They let a DPO find every disclosure about a person
(subject access, Art 19 notices) and let the hub spot a repeat MARAC referral, without the
ledger or the disclosure index holding a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.ledger.events import subject_commitment


def subject_commitments(secret: bytes, data: Mapping[str, Any]) -> list[str]:
    """Commitments for every identifier in ``data``, sorted and unique."""
    found: set[str] = set()
    if data.get("pnc_id"):
        found.add(subject_commitment(secret, "pnc", str(data["pnc_id"])))
    if data.get("nhs_number"):
        found.add(subject_commitment(secret, "nhs", str(data["nhs_number"])))
    names = (data.get("given_name"), data.get("family_name"), data.get("date_of_birth"))
    if all(names):
        found.add(subject_commitment(secret, "name_dob", " ".join(str(n) for n in names)))
    return sorted(found)

"""Subject commitments from a message's identifiers (the ledger never holds identities).

``HMAC-SHA256(subject_secret, normalised identifier)`` for each identifier present: PNC id,
NHS number, and name + date of birth. They let a DPO find every disclosure about a person
(subject access, Art 19 notices) and let the hub spot a repeat MARAC referral, without the
ledger or the disclosure index holding a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.ledger.events import normalise_identifier, subject_commitment


def subject_commitments(secret: bytes, data: Mapping[str, Any]) -> list[str]:
    """Commitments for every identifier in ``data``, sorted and unique.

    A value that normalises to nothing (an NHS number with no digit, a PNC id of spaces)
    identifies nobody, so it gets no commitment rather than failing the message.
    """
    names = (data.get("given_name"), data.get("family_name"), data.get("date_of_birth"))
    candidates = [
        ("pnc", data.get("pnc_id")),
        ("nhs", data.get("nhs_number")),
        ("name_dob", " ".join(str(n) for n in names) if all(names) else None),
    ]
    found = {
        subject_commitment(secret, kind, str(value))
        for kind, value in candidates
        if value and normalise_identifier(kind, str(value))
    }
    return sorted(found)

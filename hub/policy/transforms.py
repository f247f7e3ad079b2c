"""Redaction transforms an agreement may apply instead of releasing a field as given.

Each makes re-identification harder while keeping what the recipient needs: initials to
match a case by eye, a year or age band for eligibility (e.g. the 10-17 SYV cohort), a
postcode district for area-based work, a masked number to confirm a record, and a keyed hash
(HMAC-SHA256 under a hub secret) to link records without disclosing the identifier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from typing import Any

AGE_BANDS = ((0, 9), (10, 13), (14, 15), (16, 17), (18, 24), (25, 34), (35, 49), (50, 64))
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")


class TransformError(ValueError):
    """The transform cannot be applied (the message never includes the value)."""


def initials(value: str) -> str:
    """'Jane Anne' -> 'J.A.'"""
    parts = [p for p in re.split(r"[\s\-']+", value.strip()) if p]
    if not parts:
        raise TransformError("no name to take initials from")
    return "".join(f"{p[0].upper()}." for p in parts)


def year_of_birth(value: dt.date) -> int:
    """The year only."""
    return value.year


def age_band(value: dt.date, today: dt.date) -> str:
    """Age on ``today`` as a band ('10-13', ..., '65+'); bands split at the youth-justice ages."""
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if age < 0:
        raise TransformError("date of birth is in the future")
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return "65+"


def postcode_district(value: str) -> str:
    """The outward code of a UK postcode: 'SM1 1AA' -> 'SM1'."""
    found = _POSTCODE.match(value.strip().upper())
    if found is None:
        raise TransformError("not a UK postcode")
    return found.group(1)


def mask(value: str) -> str:
    """All but the last three characters replaced; short values fully masked."""
    text = value.strip()
    if len(text) <= 6:
        return "*" * len(text)
    return "*" * (len(text) - 3) + text[-3:]


def keyed_hash(value: Any, secret: bytes) -> str:
    """HMAC-SHA256 of the NFKC-normalised, case-folded, space-stripped value, as hex.

    A plain hash of a PNC id or date of birth could be reversed by enumeration; the key makes
    that impossible without the hub's secret.
    """
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    normal = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())
    return "hmac-sha256:" + hmac.new(secret, normal.encode("utf-8"), hashlib.sha256).hexdigest()


def apply_transform(name: str, value: Any, today: dt.date, secret: bytes | None) -> Any:
    """Apply the named transform to an already type-checked value."""
    if name == "initials":
        return initials(value)
    if name == "year_of_birth":
        return year_of_birth(value)
    if name == "age_band":
        return age_band(value, today)
    if name == "postcode_district":
        return postcode_district(value)
    if name == "mask":
        return mask(value)
    if name == "keyed_hash":
        if not secret:
            raise TransformError("no keyed-hash secret configured")
        return keyed_hash(value, secret)
    raise TransformError(f"unknown transform {name!r}")

"""Fixtures for the pure policy engine: the real catalogues, partners and demo keys."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from hub.policy import (
    RegisteredAgreement,
    load_catalogues,
    load_keys,
    load_partners,
    load_policy,
    register_agreement,
    sign_agreement,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
CATALOGUES = load_catalogues(ROOT / "policies")
PARTNERS = load_partners(ROOT / "policies" / "partners")
KEYS = load_keys(ROOT / "keys")
_PRIVATE: dict[str, dict[str, Any]] = {}
SECRET = b"test-subject-secret"


def private_key(party: str) -> dict[str, Any]:
    """The demo-only private JWK of a partner."""
    if party not in _PRIVATE:
        _PRIVATE[party] = json.loads((ROOT / "keys" / "demo" / f"{party}.jwk").read_text())
    return _PRIVATE[party]


def flow(
    sender: str = "tri-borough-rr", recipient: str = "met-police", **kw: Any
) -> dict[str, Any]:
    """A valid s115 flow (provider -> police) unless overridden."""
    base: dict[str, Any] = {
        "from": sender,
        "to": recipient,
        "purpose": "enforcement",
        "basis": ["CDA_S115", "GDPR_6_1_EA", "SCH1_P10", "ART10"],
        "consent": "not_required",
        "consent_exemption": "para10_prejudice",
        "retention_days": 365,
        "fields": {
            "given_name": "release",
            "family_name": "initials",
            "pnc_id": "release",
            "offence": "release",
            "substance_misuse": "release",
            "date_of_birth": "age_band",
        },
    }
    base.update(kw)
    return base


def document(*flows: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """A complete agreement document (as tomllib would parse it)."""
    flows = flows or (flow(),)
    ids: list[str] = []
    for f in flows:
        for pid in (f["from"], f["to"]):
            if pid not in ids:
                ids.append(pid)
    doc: dict[str, Any] = {
        "id": "test-agreement",
        "version": 1,
        "type": "ISP",
        "title": "Test agreement",
        "status": "active",
        "purposes": sorted({f["purpose"] for f in flows}),
        "benefits": "Testing.",
        "joining_and_leaving": "By new version.",
        "effective_from": dt.date(2026, 1, 1),
        "effective_to": dt.date(2027, 12, 31),
        "review_by": dt.date(2027, 6, 30),
        "dpia_reference": "DPIA-TEST-1",
        "appropriate_policy_document": "APD-TEST-1",
        "review_history": [{"date": dt.date(2026, 6, 1), "by": "DPOs", "outcome": "Agreed."}],
        "parties": [{"id": p, "role": "controller", "signatory": "A. Signatory"} for p in ids],
        "governance": {
            k: "Agreed."
            for k in (
                "security",
                "breach_notification",
                "training",
                "retention_and_disposal",
                "termination",
                "review",
            )
        },
        "rights": {k: "Agreed." for k in ("sar_contact", "complaints", "rectification_notice")},
        "flows": list(flows),
    }
    doc.update(kw)
    return copy.deepcopy(doc)


def sign_all(doc: dict[str, Any]) -> list[dict[str, str]]:
    """Every party's demo signature over ``doc``."""
    return [sign_agreement(doc, p["id"], private_key(p["id"])) for p in doc["parties"]]


def register(doc: dict[str, Any], sigs: list[dict[str, str]] | None = None) -> RegisteredAgreement:
    """Register ``doc`` signed by every party unless ``sigs`` is given."""
    return register_agreement(
        doc, sign_all(doc) if sigs is None else sigs, CATALOGUES, PARTNERS, KEYS
    )


@pytest.fixture(scope="session")
def demo():
    """The demo partnership as shipped in the repository."""
    return load_policy(ROOT)

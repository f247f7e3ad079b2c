"""Signatures: standard detached JWS (checked with jwcrypto), tamper and removal, statuses."""

from __future__ import annotations

import base64
import datetime as dt
import json

from jwcrypto import jwk, jws

from hub.policy import agreement_digest, agreement_status, canonical_bytes, verify_signatures
from tests.policy.conftest import KEYS, NOW, document, private_key, register, sign_all


def test_canonical_json_and_digest():
    doc = document()
    raw = canonical_bytes(doc)
    assert json.loads(raw)["effective_from"] == "2026-01-01"
    assert raw == canonical_bytes(json.loads(raw))  # stable under a JSON round trip
    assert len(agreement_digest(doc)) == 64


def test_signature_verifies_with_jwcrypto():
    doc = document()
    for entry in sign_all(doc):
        protected, empty, signature = entry["jws"].split(".")
        assert empty == ""
        header = json.loads(base64.urlsafe_b64decode(protected + "=="))
        assert header == {"alg": "ES256", "kid": entry["kid"], "party": entry["party"]}
        payload = base64.urlsafe_b64encode(canonical_bytes(doc)).rstrip(b"=").decode()
        token = jws.JWS()
        token.deserialize(f"{protected}.{payload}.{signature}")
        token.verify(jwk.JWKSet.from_json(json.dumps(KEYS[entry["party"]])))
        assert token.payload == canonical_bytes(doc)


def test_all_signed_is_in_force():
    assert agreement_status(register(document()), NOW).in_force


def test_any_change_invalidates():
    doc = document()
    sigs = sign_all(doc)
    doc["flows"][0]["retention_days"] = 366
    status = agreement_status(register(doc, sigs), NOW)
    assert status.status == "draft"
    assert {r.code for r in status.reasons} == {"signature_invalid_signature"}


def test_removed_signature_is_draft():
    doc = document()
    status = agreement_status(register(doc, sign_all(doc)[1:]), NOW)
    assert status.status == "draft" and status.reasons[0].code == "signature_missing"


def test_key_of_another_partner_does_not_count():
    doc = document()
    forged = dict(sign_all(doc)[0])
    from hub.policy import sign_agreement

    forged = sign_agreement(doc, "met-police", private_key("tri-borough-rr"))
    results = verify_signatures(doc, [forged], KEYS)
    assert results[1].code == "key_not_registered"


def test_stranger_signature_is_a_warning_only():
    doc = document()
    from hub.policy import sign_agreement

    extra = sign_agreement(doc, "victim-first", private_key("victim-first"))
    status = agreement_status(register(doc, sign_all(doc) + [extra]), NOW)
    assert status.in_force and status.warnings[0].code == "signature_not_a_party"


def test_review_overdue_warning():
    status = agreement_status(register(document(review_by=dt.date(2026, 6, 1))), NOW)
    assert status.in_force and "review_overdue" in {w.code for w in status.warnings}


def test_every_reason_is_reported():
    doc = document(
        status="suspended", effective_to=dt.date(2026, 2, 1), review_by=dt.date(2026, 1, 2)
    )
    status = agreement_status(register(doc, []), NOW)
    assert status.status == "draft"
    assert {"suspended", "expired", "signature_missing"} <= {r.code for r in status.reasons}


def test_canonical_json_form_registers_identically():
    """The DB may store the canonical JSON; reloading it keeps digest and signatures."""
    doc = document()
    sigs = sign_all(doc)
    reloaded = json.loads(canonical_bytes(doc))
    reg = register(reloaded, sigs)
    assert reg.digest == agreement_digest(doc)
    assert agreement_status(reg, NOW).in_force

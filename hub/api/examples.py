"""Examples for the OpenAPI document: the demo partnership, invented people.

Every request example is one the demo partnership really accepts (Kent County Council
children's services referring to the Kent serious-youth-violence provider; Kent Police
alerting the two children's services), so the examples in ``/docs`` can be tried as they
are, and the conformance test sends them as its first cases. Nobody here exists.
"""

from __future__ import annotations

from typing import Any

REFERRAL_ID = "f83aa623-7d31-450e-aa5a-bc495e2bb921"
ALERT_ID = "5d0c2a4e-9b7f-4e61-8d3a-2f1c6b9e7a05"
DIGEST = "sha256:4e0ade42942645539b4d9831a9382122628250e99349b5f8d61a3a6d5f3feea2"
LEAF_HASH = "WL0kIux5sg07h9pP9rYZXU4YLESYC/WakHrm7oBJkWA="
CREATED_AT = "2026-12-01T09:30:00.541773+00:00"
BASIS = ["CA04_S10_S11", "GDPR_6_1_E", "SCH1_P18", "ART10"]
AGREEMENT_REF = {"id": "kent-syv-referral", "version": 1, "digest": DIGEST}
RECEIPT = {
    "index": 58,
    "leaf_hash": LEAF_HASH,
    "format": 2,
    "entry": {
        "type": "disclosure",
        "purpose": "syv_intervention",
        "recipients": ["kent-syv-provider"],
    },
    "salts": {
        "type": "q83vEjRWeJASNFZ4kBI0Vg==",
        "purpose": "ASNFZ4mrze8BI0VniavN7w==",
        "recipients": "/ty6mHZUMhD+3LqYdlQyEA==",
    },
    "digests": ["3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
}

REFERRAL: dict[str, Any] = {
    "to": "kent-syv-provider",
    "purpose": "syv_intervention",
    "consent": {"state": "given"},
    "justification": "Three missing episodes since September; worker concerned about exploitation",
    "data": {
        "given_name": "Alex",
        "family_name": "Smith",
        "date_of_birth": "2010-04-01",
        "missing_episodes_count": 3,
        "ete_status": "neet",
        "mental_health": "anxiety",
    },
}
RELEASED = ["date_of_birth", "ete_status", "family_name", "given_name", "missing_episodes_count"]
WITHHELD = [{"field": "mental_health", "reason": "not_in_allow_list"}]

REFERRAL_CREATED = {
    "id": REFERRAL_ID,
    "status": "sent",
    "to": "kent-syv-provider",
    "released": RELEASED,
    "transforms": {},
    "withheld": WITHHELD,
    "agreement": AGREEMENT_REF,
    "basis": BASIS,
    "receipt": RECEIPT,
}

DECISION = {
    "allowed": True,
    "outcome": "partial",
    "to": "kent-syv-provider",
    "purpose": "syv_intervention",
    "released": {k: v for k, v in REFERRAL["data"].items() if k != "mental_health"},
    "transforms": {},
    "withheld": [
        {
            "field": "mental_health",
            "reason": "not_in_allow_list",
            "detail": "mental_health is not on the allow-list of flow kent-syv-referral#0",
        }
    ],
    "refusals": [],
    "agreement": {**AGREEMENT_REF, "flow": 0},
    "basis": BASIS,
    "consent": {"state": "given", "reason": None},
    "retention_days": 1095,
}

BATCH = {"items": [{**REFERRAL, "client_ref": "KCC-2026-000731"}]}
BATCH_RESULT = {
    "results": [
        {
            "index": 0,
            "client_ref": "KCC-2026-000731",
            "status": 201,
            "id": REFERRAL_ID,
            "released": RELEASED,
            "withheld": WITHHELD,
            "ledger_index": 58,
        }
    ]
}

_COMMON_VIEW = {
    "id": REFERRAL_ID,
    "kind": "referral",
    "alert_id": None,
    "from": "kent-csc",
    "to": "kent-syv-provider",
    "purpose": "syv_intervention",
    "status": "sent",
    "agreement": AGREEMENT_REF,
    "basis": BASIS,
    "created_at": CREATED_AT,
    "erased": False,
    "receipt": RECEIPT,
}
RECIPIENT_VIEW = {
    **_COMMON_VIEW,
    "data": DECISION["released"],
    "retention_until": "2029-11-30T09:30:00.541773+00:00",
}
SENDER_VIEW = {
    **_COMMON_VIEW,
    "released": RELEASED,
    "transforms": {},
    "withheld": WITHHELD,
    "outcome_id": None,
}

STATUS = {"status": "accepted"}
STATUS_RESULT = {"id": REFERRAL_ID, "status": "accepted"}

INBOX_PAGE = {
    "items": [
        {
            "item_id": "bcba79dc-3109-416a-bbe2-3be44271d7ad",
            "cursor": "1",
            "kind": "referral",
            "created_at": CREATED_AT,
            "disclosure": RECIPIENT_VIEW,
        }
    ],
    "next_cursor": "1",
    "has_more": False,
}

CORRECTION = {"data": {"family_name": "Smyth"}, "reason": "inaccurate"}
CORRECTED = {
    "id": REFERRAL_ID,
    "status": "received",
    "reason": "inaccurate",
    "corrected": ["family_name"],
    "payload_digest": "sha256:ba90dd892434e8d22186f32e2e8bf27977b5a8850c8cbb061e654547e0576838",
    "ledger_index": 65,
    "notified": ["kent-syv-provider"],
    "receipt": {"index": 65, "leaf_hash": "QHuw0fQdkevlyJdgxUzlpy6B6mY2Pd5e/mLp/TXcK2c="},
}
WITHDRAWAL = {"reason": "sent_in_error"}
WITHDRAWN = {
    "id": REFERRAL_ID,
    "status": "withdrawn",
    "erased": True,
    "reason": "sent_in_error",
    "ledger_index": 66,
    "notified": ["kent-syv-provider"],
    "receipt": {"index": 66, "leaf_hash": "oJOcRdKQQs+I2N7VgmUP1YKqPx5df+dO5/7eGFTYkGw="},
}

ALERT = {
    "kind": "missing_child",
    "purpose": "missing_child_alert",
    "consent": {"state": "not_sought", "reason": "prejudice"},
    "data": {
        "given_name": "Jamie",
        "family_name": "Doe",
        "date_of_birth": "2012-06-15",
        "missing_episodes_count": 2,
        "risk_level": "high",
    },
}
ALERT_CREATED = {
    "id": ALERT_ID,
    "kind": "missing_child",
    "purpose": "missing_child_alert",
    "repeat": False,
    "criteria": [],
    "created_at": CREATED_AT,
    "recipients": [
        {
            "to": "kent-csc",
            "status": 201,
            "id": "0b7e4f6a-1c2d-4e3f-9a8b-7c6d5e4f3a21",
            "released": ["date_of_birth", "family_name", "given_name", "risk_level"],
            "transforms": {},
            "withheld": [],
            "agreement": {**AGREEMENT_REF, "id": "kent-missing-children"},
            "basis": ["CA04_S10_S11", "GDPR_6_1_E", "SCH1_P18"],
            "receipt": {"index": 70, "leaf_hash": LEAF_HASH},
        }
    ],
}
ALERT_VIEW = {
    "id": ALERT_ID,
    "kind": "missing_child",
    "purpose": "missing_child_alert",
    "repeat": False,
    "created_at": CREATED_AT,
    "recipients": [
        {
            "to": "kent-csc",
            "id": "0b7e4f6a-1c2d-4e3f-9a8b-7c6d5e4f3a21",
            "status": "sent",
            "released": ["date_of_birth", "family_name", "given_name", "risk_level"],
            "ledger_index": 70,
            "erased": False,
        }
    ],
    "refused": [{"to": "medway-csc", "reasons": ["consent_required"], "ledger_index": 71}],
}
ALERT_PAGE = {"items": [ALERT_VIEW], "next_cursor": None, "has_more": False}

PARTNER = {
    "id": "kent-csc",
    "name": "Kent County Council children's social care",
    "type": "childrens_services",
    "relevant_authority": True,
    "competent_authority": False,
    "public_authority": True,
    "webhook_url": None,
    "scopes": ["partners:read", "agreements:read", "referrals:write", "referrals:read"],
    "key_ids": ["J4T-YKyVn3X_i0d-MzugpHPfqf6Bxy2NTGQa1xwKJzI"],
}

AGREEMENT = {
    "id": "kent-syv-referral",
    "version": 1,
    "title": "Kent serious youth violence: referrals to the intervention provider",
    "type": "ISA",
    "digest": DIGEST,
    "status": "in_force",
    "reasons": [],
    "warnings": [],
    "effective_from": "2026-01-01",
    "effective_to": "2028-03-31",
    "review_by": "2027-03-31",
    "review_overdue": False,
    "purposes": ["syv_intervention"],
    "parties": [
        {"id": "kent-csc", "role": "controller"},
        {"id": "kent-syv-provider", "role": "controller"},
    ],
    "signed_by": ["kent-csc", "kent-syv-provider"],
    "flows": [
        {
            "from": "kent-csc",
            "to": "kent-syv-provider",
            "purpose": "syv_intervention",
            "basis": BASIS,
            "fields": {"given_name": "release", "family_name": "release"},
            "consent": "preferred",
            "fact_only": False,
            "retention_days": 1095,
        }
    ],
}

ENTRY = {
    "index": 0,
    "format": 1,
    "entry": {
        "type": "partner",
        "action": "added",
        "actor": {"partner": "hub", "user": "hub-sync"},
        "partner": "kent-csc",
        "partner_type": "childrens_services",
        "digest": "sha256:6aa7fe2704aeea96ccd4f0120d462f8a994e99bd902d2c0c88e2c83aea171261",
        "time": "2026-12-01T07:58:30.332826Z",
    },
    "leaf_hash": "S2HbZbCUUV61POevSRP6vso6SHWoQgzWRUwi+wJCW6U=",
}
PROOF_HASHES = [
    "+jz66BduADfirVMQuCrjZDyNe7rX1Yy1k2ovLsuNF20=",
    "LZOP7hyXKk8nQbyv7VY2+pAVxOojW3UVVylwRcOC+rY=",
]
INCLUSION = {"index": 0, "tree_size": 3, "hashes": PROOF_HASHES}
CONSISTENCY = {"from": 1, "to": 3, "hashes": PROOF_HASHES}
CHECKPOINT = (
    "hub.example.gov.uk/hub-ledger\n58\nT82TV7j1fhJ6uj6Xgpw+3ZFeaXuD368ZYi0hUntwpps=\n\n"
    "\u2014 hub.example.gov.uk/hub-ledger oU/kkpmHARmP9D9+935zInx9ubmOpMBo+6tZz/94QH3w3j8W\n"
)
WITNESSES: dict[str, Any] = {
    "quorum": 2,
    "witnesses": [
        {
            "name": "witness.kent-police.example/w1",
            "url": "https://witness.kent-police.example",
            "verifier_key": "witness.kent-police.example/w1+7511e958+BItx32/xR8yM3KFZlGny9z8SrJY"
            "mS3txIZj7uetZ2wcM",
        },
        {
            "name": "witness.kent-csc.example/w2",
            "url": "https://witness.kent.gov.example/csc",
            "verifier_key": "witness.kent-csc.example/w2+a3a2fccd+BN5PLf+blkDS2Z+rUTjCUAvjWQjP96K"
            "eZLchzDBRm2LE",
        },
    ],
}
VERIFIER_KEY = (
    "hub.example.gov.uk/hub-ledger+a14fe492+AW0i01lpTzcLqaFx2UtIN5FZSIstWwhZw84T5LL5jjjT\n"
)

# Victim First recording a victim's consent to be referred on to the target-hardening
# contractor (leics-target-hardening), then citing it as consent.record.
CONSENT_IN: dict[str, Any] = {
    "purposes": ["target_hardening"],
    "recipients": ["leics-target-hardening"],
    "explicit": False,
}
CONSENT_RECORD: dict[str, Any] = {
    "id": "6f1c2d7e-3b4a-4c5d-9e8f-0a1b2c3d4e5f",
    "given_at": "2026-12-01T09:30:00+00:00",
    "purposes": ["target_hardening"],
    "recipients": ["leics-target-hardening"],
    "explicit": False,
    "withdrawn_at": None,
}

"""A cited consent record id that no record can have (a NUL byte: PostgreSQL text cannot
hold one) is answered as any unknown record is, never as a failed query."""

from __future__ import annotations

from tests.sharing.conftest import KENT_REFERRAL

UNKNOWN = "00000000-0000-4000-8000-000000000000"
IMPOSSIBLE = "rec\x00ord"


def _citing(record: str) -> dict:
    return {**KENT_REFERRAL, "consent": {"state": "given", "record": record}}


def test_a_referral_citing_an_impossible_record_is_answered_as_an_unknown_one(client, auth):
    headers = auth("kent-csc")
    unknown = client.post("/api/v1/referrals", json=_citing(UNKNOWN), headers=headers)
    impossible = client.post("/api/v1/referrals", json=_citing(IMPOSSIBLE), headers=headers)
    assert unknown.status_code in (201, 403)
    assert impossible.status_code == unknown.status_code, impossible.get_json()
    if unknown.status_code == 403:
        reasons = [[r["reason"] for r in a.get_json()["reasons"]] for a in (unknown, impossible)]
        assert reasons[0] == reasons[1] == ["consent_record_unknown"]


def test_a_batch_citing_an_impossible_record_is_answered_item_by_item(client, auth):
    items = [_citing(UNKNOWN), _citing(IMPOSSIBLE), {"to": 7}]  # the last fails validation
    answer = client.post("/api/v1/referrals:batch", json={"items": items}, headers=auth("kent-csc"))
    assert answer.status_code == 200, answer.get_json()
    first, second, third = answer.get_json()["results"]
    assert second["status"] == first["status"] in (201, 403)
    assert third["status"] == 422

"""End to end through a real ``hub serve`` process and real OAuth client assertions.

Partial release and refusal; no withheld value anywhere in the recipient's view, the
database (raw bytes) or the server's log; cross-partner access to inbox, referral and
status routes fails; a replayed client assertion is refused; an idempotent retry answers
as the first request did.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import LiveHub
from tests.e2e.rawdump import encodings, found_in, raw_dump

pytestmark = pytest.mark.slow

PROBLEM = "application/problem+json"
KENT_RELEASED = {
    "given_name",
    "family_name",
    "date_of_birth",
    "missing_episodes_count",
    "ete_status",
}


def kent_referral(released_value: str, withheld_value: str) -> dict[str, Any]:
    """Kent children's services -> SYV provider: ``mental_health`` is not on the allow-list."""
    return {
        "to": "kent-syv-provider",
        "purpose": "syv_intervention",
        "consent": {"state": "given"},
        "data": {
            "given_name": released_value,
            "family_name": "Reid",
            "date_of_birth": "2010-03-09",
            "missing_episodes_count": 4,
            "ete_status": "neet",
            "mental_health": withheld_value,
        },
    }


def canaries() -> tuple[str, str]:
    """Values unique to one test, so a hit can only come from that test's request."""
    tag = uuid.uuid4().hex[:10]
    return f"CanaryReleased{tag}Alexandra", f"CanaryWithheld{tag}Anxiety"


def inbox(hub: LiveHub, partner_id: str) -> list[dict[str, Any]]:
    """Every item in the partner's inbox, following the cursor to the end."""
    items: list[dict[str, Any]] = []
    cursor = "0"
    while True:
        page = hub.call(partner_id, "GET", f"/api/v1/inbox?cursor={cursor}&limit=100")
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return items


def test_partial_release_reaches_the_recipient_without_the_withheld_field(live_hub: LiveHub):
    released, withheld = canaries()
    sent = live_hub.call(
        "kent-csc", "POST", "/api/v1/referrals", json=kent_referral(released, withheld)
    )
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert set(body["released"]) == KENT_RELEASED
    assert body["withheld"] == [{"field": "mental_health", "reason": "not_in_allow_list"}]
    assert body["agreement"]["id"] == "kent-syv-referral"
    assert body["receipt"]["index"] >= 0 and base64.b64decode(body["receipt"]["leaf_hash"])
    assert released not in sent.text and withheld not in sent.text  # the sender gets names only

    items = [i for i in inbox(live_hub, "kent-syv-provider") if i["disclosure"]["id"] == body["id"]]
    assert len(items) == 1
    data = items[0]["disclosure"]["data"]
    assert set(data) == KENT_RELEASED and data["given_name"] == released
    view = live_hub.call("kent-syv-provider", "GET", f"/api/v1/referrals/{body['id']}")
    assert view.status_code == 200 and view.json()["data"]["given_name"] == released
    for text in (str(items), view.text):
        assert withheld not in text and "mental_health" not in text


def test_refusal_is_a_problem_with_reasons_and_a_ledger_index(live_hub: LiveHub):
    refused = live_hub.call(
        "kent-police", "POST", "/api/v1/referrals", json=kent_referral("A", "B")
    )
    assert refused.status_code == 403
    assert refused.headers["Content-Type"].startswith(PROBLEM)
    problem = refused.json()
    assert problem["type"].endswith("/policy-refused")
    assert [r["reason"] for r in problem["reasons"]] == ["no_agreement"]
    entry = live_hub.call("kent-police", "GET", f"/api/v1/log/entries/{problem['ledger_index']}")
    assert entry.status_code == 200
    assert entry.json()["entry"]["type"] == "refusal"
    assert all(
        i["disclosure"]["from"] != "kent-police" for i in inbox(live_hub, "kent-syv-provider")
    )


def test_no_value_in_plaintext_in_the_database_or_the_server_log(live_hub: LiveHub):
    released, withheld = canaries()
    sent = live_hub.call(
        "kent-csc", "POST", "/api/v1/referrals", json=kent_referral(released, withheld)
    )
    assert sent.status_code == 201, sent.text
    referral_id = sent.json()["id"]
    # Positive control: the recipient can read the released value, so it really was stored.
    received = [
        i for i in inbox(live_hub, "kent-syv-provider") if i["disclosure"]["id"] == referral_id
    ]
    assert received[0]["disclosure"]["data"]["given_name"] == released
    assert withheld not in str(received)

    dump = raw_dump(live_hub.database_url)
    assert referral_id.encode() in dump, "the dump does not cover the disclosures table"
    assert found_in(released, dump) == [], "a released value is stored in plaintext"
    assert found_in(withheld, dump) == [], "a withheld value is stored in plaintext"

    log = live_hub.server_log()
    assert referral_id.encode() in log or b"/api/v1/referrals" in log, "the log captured nothing"
    assert found_in(released, log) == [] and found_in(withheld, log) == []


def test_other_partners_cannot_reach_a_referral_or_see_it_in_their_inbox(live_hub: LiveHub):
    sent = live_hub.call("kent-csc", "POST", "/api/v1/referrals", json=kent_referral("Sam", "x"))
    referral_id = sent.json()["id"]
    for outsider in ("medway-csc", "leics-police", "kent-police"):
        got = live_hub.call(outsider, "GET", f"/api/v1/referrals/{referral_id}")
        assert got.status_code == 404 and got.headers["Content-Type"].startswith(PROBLEM)
        moved = live_hub.call(
            outsider, "POST", f"/api/v1/referrals/{referral_id}/status", json={"status": "accepted"}
        )
        assert moved.status_code == 404, moved.text
        assert inbox(live_hub, outsider) == []
    # the sender may see its referral but not move it on: that is the recipient's step
    assert live_hub.call("kent-csc", "GET", f"/api/v1/referrals/{referral_id}").status_code == 200
    own = live_hub.call(
        "kent-csc", "POST", f"/api/v1/referrals/{referral_id}/status", json={"status": "accepted"}
    )
    assert own.status_code == 409 and own.headers["Content-Type"].startswith(PROBLEM)
    assert inbox(live_hub, "kent-csc") == []
    # a request without any token is 401 with a Bearer challenge
    bare = live_hub.http.get(f"{live_hub.base_url}/api/v1/inbox", timeout=30)
    assert bare.status_code == 401 and "Bearer" in bare.headers.get("WWW-Authenticate", "")


def test_a_replayed_client_assertion_is_refused(live_hub: LiveHub):
    assertion = live_hub.assertion("kent-csc")
    first = live_hub.exchange(assertion)
    assert first.status_code == 200 and first.json()["token_type"].lower() == "bearer"
    replay = live_hub.exchange(assertion)
    assert replay.status_code in {400, 401}
    assert replay.json()["error"] == "invalid_client"
    assert "access_token" not in replay.json()


def test_an_idempotent_retry_returns_the_first_answer(live_hub: LiveHub):
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
    body = kent_referral("Robin", "y")
    first = live_hub.call("kent-csc", "POST", "/api/v1/referrals", json=body, headers=key)
    again = live_hub.call("kent-csc", "POST", "/api/v1/referrals", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json() == first.json()
    matching = [
        i
        for i in inbox(live_hub, "kent-syv-provider")
        if i["disclosure"]["id"] == first.json()["id"]
    ]
    assert len(matching) == 1
    other = live_hub.call(
        "kent-csc", "POST", "/api/v1/referrals", json=kent_referral("Other", "z"), headers=key
    )
    assert other.status_code == 409 and other.headers["Content-Type"].startswith(PROBLEM)


def test_canary_encodings_are_found_wherever_they_hide():
    """The dump search itself can fail: each encoding is found inside surrounding bytes."""
    value = "CanaryProbe1234567890"
    for prefix in (b"", b"x", b"xy", b"xyz"):
        blob = prefix + value.encode() + b"tail"
        assert found_in(value, base64.b64encode(blob))
        assert found_in(value, blob.hex().encode())
    assert len(encodings(value)) == 6
    assert found_in(value, b"nothing to see") == []


def test_no_access_token_in_the_server_log(live_hub: LiveHub):
    """A bearer token in a log is a credential in a log: anyone reading logs could use it."""
    token = live_hub.exchange(live_hub.assertion("medway-csc")).json()["access_token"]
    assert live_hub.http.get(f"{live_hub.base_url}/healthz", timeout=30).status_code == 200
    assert token.encode() not in live_hub.server_log()

"""The document's request examples work as they stand against the demo partnership.

``/docs`` shows them as the way to call each operation, so each must be accepted: a
referral and a batch from Kent CSC, a dry run, and a Kent Police missing-child alert.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from hub.api import examples

SCOPES = "agreements:read referrals:write referrals:read"


@pytest.mark.parametrize(
    ("sender", "path", "body", "status"),
    [
        ("kent-csc", "/api/v1/decisions", examples.REFERRAL, 200),
        ("kent-csc", "/api/v1/referrals", examples.REFERRAL, 201),
        ("kent-csc", "/api/v1/referrals:batch", examples.BATCH, 200),
        ("kent-police", "/api/v1/alerts", examples.ALERT, 201),
    ],
)
def test_request_example_is_accepted(
    client: FlaskClient,
    get_token: Callable[..., str],
    sender: str,
    path: str,
    body: dict,
    status: int,
) -> None:
    headers = {"Authorization": f"Bearer {get_token(sender, SCOPES)}"}
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    answer = response.get_json()
    if path.endswith(":batch"):
        assert [r["status"] for r in answer["results"]] == [201]
    if path.endswith("/alerts"):
        assert {r["to"] for r in answer["recipients"]} == {"kent-csc", "medway-csc"}
        assert all(r["status"] == 201 for r in answer["recipients"])
    if path.endswith("/decisions"):
        assert answer["allowed"] is True and answer["outcome"] == examples.DECISION["outcome"]


def test_the_examples_follow_through_the_workflow(
    client: FlaskClient, get_token: Callable[..., str]
) -> None:
    sender = {"Authorization": f"Bearer {get_token('kent-csc', SCOPES)}"}
    recipient = {"Authorization": f"Bearer {get_token('kent-syv-provider', SCOPES)}"}
    referral = client.post("/api/v1/referrals", json=examples.REFERRAL, headers=sender)
    assert referral.status_code == 201
    released = referral.get_json()["released"]
    assert released == examples.REFERRAL_CREATED["released"]
    rid = referral.get_json()["id"]
    moved = client.post(f"/api/v1/referrals/{rid}/status", json=examples.STATUS, headers=recipient)
    assert moved.status_code == 200 and moved.get_json()["status"] == "accepted"
    corrected = client.post(
        f"/api/v1/referrals/{rid}/correction", json=examples.CORRECTION, headers=sender
    )
    assert corrected.status_code == 200, corrected.get_json()
    withdrawn = client.post(
        f"/api/v1/referrals/{rid}/withdraw", json=examples.WITHDRAWAL, headers=sender
    )
    assert withdrawn.status_code == 200 and withdrawn.get_json()["erased"] is True

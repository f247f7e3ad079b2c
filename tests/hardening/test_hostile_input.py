"""Hostile input gets a clean problem+json 4xx, never a 500, and changes nothing it must not.

Reproducers from issue 14: identifiers the ledger cannot record, integers beyond 64 bits,
bodies nested a thousand deep, NUL bytes in paths, wrong content types, oversized bodies,
and 404 details that echoed the requested id.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from hub import db
from hub.ledger.models import LedgerEntry
from tests.sharing.conftest import KENT_REFERRAL

PROBLEM = "application/problem+json"
BAD_IDENTIFIERS = ["a b", "é", "../x", "a\x00b", 'a"b', "_x", "-x", "a/b", "__main__", "x" * 129]


def _ledger(app) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session().scalars(select(LedgerEntry).order_by(LedgerEntry.index))
        return [json.loads(r.entry) for r in rows]


def _ledger_size(app) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(LedgerEntry))


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    return response.get_json()


@pytest.mark.parametrize("bad", BAD_IDENTIFIERS)
def test_a_malformed_recipient_is_a_422_with_a_pointer(send, app, bad):
    before = _ledger_size(app)
    problem = _problem(send("kent-csc", {**KENT_REFERRAL, "to": bad}), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["#/to"]
    assert _ledger_size(app) == before


@pytest.mark.parametrize("member", ["purpose", "to"])
def test_malformed_identifiers_on_the_dry_run_are_422(client, get_token, member):
    token = get_token("kent-csc", "agreements:read")
    body = {**KENT_REFERRAL, member: "a b"}
    response = client.post("/api/v1/decisions", json=body,
                           headers={"Authorization": f"Bearer {token}"})
    assert [e["pointer"] for e in _problem(response, 422)["errors"]] == [f"#/{member}"]


def test_a_malformed_purpose_is_a_422(send):
    problem = _problem(send("kent-csc", {**KENT_REFERRAL, "purpose": "__main__"}), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["#/purpose"]


def test_a_well_formed_unknown_recipient_is_a_recorded_policy_refusal(send, app):
    problem = _problem(send("kent-csc", {**KENT_REFERRAL, "to": "nobody-here"}), 403)
    assert problem["type"].endswith("/policy-refused")
    entry = _ledger(app)[problem["ledger_index"]]
    assert entry["type"] == "refusal" and entry["recipients"] == ["nobody-here"]


def test_every_batch_item_gets_its_own_result_whatever_is_wrong_with_it(client, auth, app):
    good = {**KENT_REFERRAL, "client_ref": "good"}
    items = [
        good,
        {**KENT_REFERRAL, "to": "a b", "client_ref": "bad-to"},
        {k: v for k, v in KENT_REFERRAL.items() if k != "to"},
        {**KENT_REFERRAL, "consent": {"state": "maybe"}},
        {**KENT_REFERRAL, "data": ["not", "an", "object"]},
        "not an object",
        {**KENT_REFERRAL, "to": "nobody-here"},
        good,
    ]
    response = client.post("/api/v1/referrals:batch", json={"items": items},
                           headers=auth("kent-csc"))
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    results = response.get_json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["status"] for r in results] == [201, 422, 422, 422, 422, 422, 403, 201]
    assert results[1]["client_ref"] == "bad-to"
    pointers = [[e["pointer"] for e in r["problem"]["errors"]] for r in results[1:6]]
    assert pointers[0] == ["#/items/1/to"]
    assert pointers[1] == ["#/items/2/to"]
    assert pointers[2] == ["#/items/3/consent/state"]
    assert pointers[3] == ["#/items/4/data"]
    assert pointers[4] == ["#/items/5"]
    kinds = [e["type"] for e in _ledger(app)]
    assert kinds.count("disclosure") == 2 and kinds.count("refusal") == 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/inbox?cursor=9223372036854775808",
        "/api/v1/inbox?cursor=-1",
        "/api/v1/log/proofs/consistency?from=1&to=18446744073709551615",
        "/api/v1/log/proofs/consistency?from=9223372036854775808&to=9223372036854775809",
        "/api/v1/log/proofs/inclusion?index=0&tree_size=10000000000000000001",
        "/api/v1/log/proofs/inclusion?index=9223372036854775808&tree_size=1",
    ],
)
def test_integers_beyond_64_bits_are_422(client, auth, url):
    problem = _problem(client.get(url, headers=auth("kent-csc")), 422)
    assert problem["type"].endswith("/validation")
    assert "9223372036854775808" not in json.dumps(problem)


@pytest.mark.parametrize("index", ["9223372036854775808", "18446744073709551616", "1" * 400])
def test_a_log_index_beyond_the_log_is_404(client, auth, index):
    _problem(client.get(f"/api/v1/log/entries/{index}", headers=auth("kent-csc")), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/referrals/abc%00def",
        "/api/v1/referrals/abc%00def/status",
        "/api/v1/referrals/abc%00def/correction",
        "/api/v1/referrals/abc%00def/withdraw",
        "/api/v1/alerts/abc%00def",
        "/api/v1/agreements/abc%00def",
        "/api/v1/referrals/a%20b",
        "/api/v1/alerts/%C3%A9",
    ],
)
def test_nul_bytes_and_odd_shapes_in_path_ids_are_404(client, auth, get_token, path):
    token = get_token("kent-csc", "referrals:write referrals:read agreements:read")
    headers = {"Authorization": f"Bearer {token}"}
    if path.endswith(("status", "correction", "withdraw")):
        response = client.post(path, json={"status": "accepted", "reason": "x", "data": {}},
                               headers=headers)
    else:
        response = client.get(path, headers=headers)
    _problem(response, 404)


def test_a_nul_in_the_alert_cursor_is_a_clean_4xx(client, auth):
    response = client.get("/api/v1/alerts?cursor=abc%00def", headers=auth("kent-csc"))
    assert 400 <= response.status_code < 500
    assert response.mimetype == PROBLEM


def test_404_details_do_not_echo_the_requested_id(client, get_token):
    token = get_token("kent-csc", "referrals:write referrals:read agreements:read")
    headers = {"Authorization": f"Bearer {token}"}
    long_id = "Z" * 100
    for method, path in [
        ("get", f"/api/v1/referrals/{long_id}"),
        ("post", f"/api/v1/referrals/{long_id}/status"),
        ("post", f"/api/v1/referrals/{long_id}/withdraw"),
        ("get", f"/api/v1/alerts/{long_id}"),
        ("get", f"/api/v1/agreements/{long_id}"),
        ("get", f"/api/v1/alerts?cursor={long_id}"),
        ("get", f"/api/v1/nothing/{long_id}"),
    ]:
        body = {"status": "accepted", "reason": "erasure_request"}
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code in (404, 422), (path, response.status_code)
        assert long_id not in response.get_data(as_text=True), path


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/decisions",
        "/api/v1/referrals",
        "/api/v1/referrals:batch",
        "/api/v1/alerts",
        "/api/v1/referrals/xyz/correction",
        "/api/v1/referrals/xyz/status",
    ],
)
def test_deeply_nested_bodies_are_a_clean_4xx(client, get_token, path):
    token = get_token("kent-csc", "referrals:write referrals:read agreements:read")
    depth = 100_000 if path.endswith(":batch") else 1000  # 200 KB fits only the batch's cap
    response = client.post(path, data=_nested(depth), content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    problem = _problem(response, 400)
    assert "deep" in problem["detail"]


def test_deep_nesting_inside_data_is_refused_too(send):
    body = {**KENT_REFERRAL, "data": {"given_name": json.loads(_nested(60))}}
    response = send("kent-csc", body)
    assert response.status_code in (400, 422)


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
@pytest.mark.parametrize("path", ["/api/v1/decisions", "/api/v1/referrals", "/api/v1/alerts"])
def test_wrong_or_missing_content_type_is_415(client, get_token, path, content_type):
    token = get_token("kent-csc", "referrals:write referrals:read agreements:read")
    kwargs: dict[str, Any] = {"data": json.dumps(KENT_REFERRAL)}
    if content_type:
        kwargs["content_type"] = content_type
    response = client.post(path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    problem = _problem(response, 415)
    assert problem["type"].endswith("/unsupported-media-type")


@pytest.mark.parametrize("path", ["/api/v1/decisions", "/api/v1/referrals", "/api/v1/alerts"])
def test_no_body_at_all_is_a_clean_422_not_a_415(client, get_token, path):
    """A body-less POST has no media type to get wrong; a route that needs a body says so."""
    token = get_token("kent-csc", "referrals:write referrals:read agreements:read")
    response = client.post(path, headers={"Authorization": f"Bearer {token}"})
    _problem(response, 422)


def test_json_with_a_charset_and_problem_json_suffix_types_are_accepted(client, get_token):
    token = get_token("kent-csc", "agreements:read")
    response = client.post("/api/v1/decisions", data=json.dumps(KENT_REFERRAL),
                           content_type="application/json; charset=utf-8",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()


def test_the_dry_run_body_is_capped(client, get_token):
    token = get_token("kent-csc", "agreements:read")
    body = {**KENT_REFERRAL, "data": {f"k{i}": "v" for i in range(60_000)}}
    response = client.post("/api/v1/decisions", json=body,
                           headers={"Authorization": f"Bearer {token}"})
    _problem(response, 413)


@pytest.mark.parametrize("path", ["/api/v1/decisions", "/api/v1/referrals"])
def test_error_lists_are_capped(client, get_token, path):
    token = get_token("kent-csc", "agreements:read referrals:write")
    body = {**KENT_REFERRAL, **{f"u{i}": 1 for i in range(2000)}}
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    problem = _problem(response, 422)
    assert len(problem["errors"]) <= 100
    assert problem.get("errors_truncated") is True
    assert len(response.get_data()) < 64 * 1024


def test_policy_error_lists_are_capped(client, get_token):
    token = get_token("kent-csc", "agreements:read")
    body = {**KENT_REFERRAL, "data": {f"unknown_{i}": 1 for i in range(2000)}}
    response = client.post("/api/v1/decisions", json=body,
                           headers={"Authorization": f"Bearer {token}"})
    problem = _problem(response, 422)
    assert len(problem["errors"]) <= 100


def test_oauth_form_bodies_are_capped_too(client):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "client_assertion": "x" * 100_000})
    assert response.status_code == 413


def test_bodies_are_parsed_only_after_authentication(client):
    response = client.post("/api/v1/referrals:batch", data=_nested(100_000),
                           content_type="application/json")
    assert response.status_code == 401


def test_an_identifier_that_normalises_to_nothing_is_no_500(client, get_token):
    """Found by the conformance fuzzer: an NHS number with no digit made ``subject_commitment``
    raise. It identifies nobody, so it is simply not committed; the message is decided."""
    token = get_token("kent-csc", "referrals:write referrals:read agreements:read")
    body = {**KENT_REFERRAL, "data": {**KENT_REFERRAL["data"], "nhs_number": "n/a"}}
    response = client.post(
        "/api/v1/decisions", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code < 500
    response = client.post(
        "/api/v1/referrals", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code in (201, 403, 422), response.get_json()


def test_a_consent_record_naming_a_recipient_twice_is_a_422_not_a_500(client, get_token):
    """Found by the conformance fuzzer: the ledger refuses repeated items, so the API must."""
    token = get_token("victim-first", "referrals:write referrals:read")
    body = {"purposes": ["target_hardening"], "recipients": ["leics-target-hardening"] * 2}
    response = client.post(
        "/api/v1/consents", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    problem = _problem(response, 422)
    assert problem["errors"][0]["pointer"].startswith("#/recipients")


@pytest.mark.parametrize("given_at", ["0900-11-30T04:40:44Z", "1989-12-31T23:59:59Z"])
def test_a_consent_given_before_1990_is_a_422_not_a_500(client, get_token, given_at):
    """Found by the conformance fuzzer: year 900 reached the ledger as an unpadded year."""
    token = get_token("victim-first", "referrals:write referrals:read")
    body = {
        "purposes": ["target_hardening"],
        "recipients": ["leics-target-hardening"],
        "given_at": given_at,
    }
    response = client.post(
        "/api/v1/consents", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    _problem(response, 422)


def test_entry_times_always_have_four_digit_years():
    import datetime as dt

    from hub.ledger.events import event_time

    assert event_time(dt.datetime(900, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == (
        "0900-01-02T03:04:05.000000Z"
    )

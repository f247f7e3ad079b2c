"""The hub DPO reads the security trail: failed sign-ins and refused pages are on it."""

from __future__ import annotations

from tests.web.conftest import csrf_token


def test_hub_dpo_reads_failed_sign_ins_and_refused_pages(
    client, signed_in_client, console_people
):
    agency_dpo = console_people["dpo"]
    # a failed sign-in (wrong password) and a refused page (an agency DPO on the trail)
    page = client.get("/console/login").get_data(as_text=True)
    client.post(
        "/console/login",
        data={"email": agency_dpo.email, "password": "not it", "csrf_token": csrf_token(page)},
    )
    refused = signed_in_client("dpo").get("/console/dpo/security")
    assert refused.status_code == 403

    trail = signed_in_client("hub_dpo").get("/console/dpo/security")
    assert trail.status_code == 200
    text = trail.get_data(as_text=True)
    assert "sign_in_failed" in text and "page_refused" in text
    filtered = signed_in_client("hub_dpo").get("/console/dpo/security?kind=page_refused")
    body = filtered.get_data(as_text=True)
    assert "page_refused" in body and "<span class=\"badge\">sign_in_failed" not in body

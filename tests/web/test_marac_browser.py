"""The MARAC console in real Chromium: one meeting's whole cycle, and what YOT never sees.

Screenshots go to the test's temporary directory (taking them is part of the test); the
README's come from the demo tour in ``test_marac_tour_browser.py``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.sharing.conftest import auth, send  # noqa: F401
from tests.web.marac_fixtures import (
    CANARY_NAME,
    MARAC_ID,
    OUTREACH_REFERRAL,
    POLICE_REFERRAL,
    WHERE,
    fill,
    hub_log_verify,
    ledger_events,
    marac_routes,
    next_week,
    purposes,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Screenshots of this cycle stay with the test (the README's come from the demo tour)."""
    return tmp_path


def _shot(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"marac-{name}.png"), full_page=True)


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email")).to_be_visible()


def _return_research(page, live_server: str, case_number: str, shots: Path | None) -> None:
    page.goto(f"{live_server}/console/marac/research")
    page.get_by_role("link", name=f"Return research for {case_number}").click()
    expect(page.get_by_role("heading", name=f"Return research for {case_number}")).to_be_visible()
    values = page.locator("input[name^='value-']")
    assert values.count() >= 2
    values.first.fill("Known to us since 2025: two call-outs")
    selects = page.locator("select[name^='reason-']")
    for i in range(1, selects.count()):
        selects.nth(i).select_option("not_held")
    selects.nth(1).select_option("third_party")
    if shots:
        _shot(page, shots, "research-return")
    page.get_by_role("button", name="Return the research").click()
    expect(page.get_by_role("heading", name="MARAC research")).to_be_visible()
    expect(page.locator("table.research")).to_contain_text("returned")


def test_one_meeting_from_referral_to_minutes(  # noqa: PLR0915
    app, settings, page, csp_errors, live_server, marac_people, browser_sign_in, send, shots  # noqa: F811
):
    from pypdf import PdfReader

    page.set_viewport_size({"width": 1400, "height": 900})

    # 1. the co-ordinator puts a meeting on the calendar
    browser_sign_in(page, "marac_coordinator")
    page.get_by_role("link", name="MARAC", exact=True).first.click()
    page.get_by_role("link", name=re.compile("Community MARAC")).click()
    page.get_by_label("New meeting on").fill(next_week().isoformat())
    page.get_by_role("button", name="Add to the calendar").click()
    expect(page.get_by_role("heading", name=re.compile("meeting on"))).to_be_visible()
    meeting_url = page.url

    # 2. referrals in through the API: the Met, then the outreach provider (a repeat)
    for sender, body in (("met-police", POLICE_REFERRAL), ("sutton-outreach", OUTREACH_REFERRAL)):
        assert send(sender, body).status_code == 201
    page.goto(f"{live_server}/console/marac/{MARAC_ID}/referrals")
    rows = page.locator("table.referrals tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(".badge.repeat")).to_have_count(1)
    assert CANARY_NAME not in page.content() and WHERE not in page.content()
    case_number = page.locator("table.referrals tbody tr td a").first.inner_text()
    _shot(page, shots, "referrals")
    page.get_by_label("Criterion").select_option("repeat")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"criterion=repeat"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("sutton-outreach")

    # 3. the research list goes out: one disclosure per agency, none to YOT
    page.goto(meeting_url)
    if page.get_by_role("button", name="List for this meeting").count():
        page.get_by_role("button", name="List for this meeting").click()
    page.get_by_role("button", name="Circulate the research list").click()
    expect(page.get_by_role("heading", name="Research list circulated")).to_be_visible()
    table = page.locator("table.research")
    expect(table).to_contain_text("met-police")
    expect(table).to_contain_text("sutton-csc")
    expect(table).not_to_contain_text("sutton-yot")
    _shot(page, shots, "circulated")
    _sign_out(page)

    # 4. two agencies return their research, field by field, with what they did not share
    browser_sign_in(page, "police_rep")
    _return_research(page, live_server, case_number, shots)
    _sign_out(page)
    browser_sign_in(page, "csc_rep")
    _return_research(page, live_server, case_number, None)
    _sign_out(page)

    # 5. the co-ordinator sees the returns; the agenda waits for the statement
    browser_sign_in(page, "marac_coordinator")
    page.goto(meeting_url)
    expect(page.locator("table.research")).to_contain_text("returned")
    page.get_by_role("link", name="Agenda and cases").click()
    expect(page.get_by_role("heading", name="Confidentiality statement not signed")).to_be_visible()
    page.get_by_role("link", name="Read and sign the statement").click()
    _shot(page, shots, "meeting")
    page.get_by_label(re.compile("I have read the statement")).check()
    page.get_by_role("button", name="Sign the statement").click()
    expect(page.get_by_text("Your agency has signed the statement")).to_be_visible()

    # 6. the agenda in the SafeLives order: the children's case before any adult-only case
    page.get_by_role("link", name="Agenda and cases").click()
    expect(page.get_by_role("heading", name=re.compile("^Agenda"))).to_be_visible()
    expect(page.locator("#agenda-children")).to_contain_text(case_number)
    expect(page.locator("#agenda-adults")).not_to_contain_text(case_number)
    headings = page.locator("ol.agenda > li > h2").all_inner_texts()
    assert headings[0].startswith("Incomplete actions") and headings[1].startswith("Cases with children")
    _shot(page, shots, "agenda")

    # 7. the case: fact apart from opinion; an action for the Met
    page.locator("#agenda-children").get_by_role("link", name=case_number).click()
    expect(page.get_by_role("heading", name=re.compile(f"Case {case_number}"))).to_be_visible()
    expect(page.locator("section.opinion").first).to_contain_text("professional judgement")
    for block in page.locator("section.fact").all():
        expect(block).not_to_contain_text("professional judgement")
    page.get_by_label("Owner agency").select_option("met-police")
    page.get_by_label(re.compile("^Action")).fill("Flag the address and share the risk plan")
    page.get_by_label("Due").fill(next_week().isoformat())
    page.get_by_role("button", name="Add the action").click()
    expect(page.locator("table.actions")).to_contain_text("Flag the address")
    _shot(page, shots, "case")
    _sign_out(page)

    # 8. the Met's rep reports it done; the CSC rep cannot touch it
    browser_sign_in(page, "police_rep")
    page.goto(f"{live_server}/console/marac/actions")
    row = page.locator("table.actions tbody tr", has_text="Flag the address")
    row.get_by_label(re.compile("^Status")).select_option("done")
    row.get_by_label("Note").fill("Address flagged on our systems")
    row.get_by_role("button", name="Report").click()
    expect(row).to_contain_text("Done")
    action_id = row.get_attribute("id").removeprefix("action-")
    _shot(page, shots, "actions")
    _sign_out(page)
    browser_sign_in(page, "csc_rep")
    page.goto(f"{live_server}/console/marac/actions")
    expect(page.locator("table.actions")).not_to_contain_text("Flag the address")
    token = page.locator("body").get_attribute("data-csrf-token")
    refused = page.request.post(f"{live_server}/console/marac/actions/{action_id}",
                                form={"csrf_token": token, "status": "not_done"})  # fmt: skip
    assert refused.status == 403
    _sign_out(page)

    # 9. the pack and the minutes, marked OFFICIAL-SENSITIVE
    browser_sign_in(page, "marac_coordinator")
    page.goto(meeting_url)
    for link, name in (("Meeting pack (PDF)", "pack"), ("Minutes (PDF)", "minutes")):
        with page.expect_download() as download:
            page.get_by_role("link", name=link).click()
        data = Path(download.value.path()).read_bytes()
        text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
        assert "OFFICIAL-SENSITIVE" in text and "strictly confidential" in text, name
        assert case_number in text and "Flag the address" in text, name
    assert csp_errors == []

    # 10. every step left its entry, and the whole ledger verifies
    events = ledger_events(app)
    disclosures = purposes(events, "disclosure")
    consultations = purposes(events, "consultation")
    assert disclosures.count("community_marac_referral") == 2
    for step in ("marac_research_return", "marac_action_update"):
        assert step in disclosures, step
    for view in ("marac_agenda_view", "marac_case_view", "marac_pack_export"):
        assert view in consultations, view
    verified = hub_log_verify(settings)
    assert verified.exit_code == 0, verified.output


def test_a_perpetrator_facing_rep_sees_nothing_on_any_marac_page(  # noqa: PLR0913
    app, page, csp_errors, live_server, marac_people, browser_sign_in, marac_cycle  # noqa: F811
):
    ids = marac_cycle.as_dict()
    browser_sign_in(page, "yot_rep")
    expect(page.locator("body")).not_to_contain_text("Overdue")
    missing = {k: "missing" for k in ids}
    for endpoint, method, rule in marac_routes(app):
        if method != "GET":
            continue
        seen = []
        for values in (ids, missing):
            response = page.goto(f"{live_server}{fill(rule, values)}")
            body = page.content() if response.headers.get("content-type", "").startswith(
                "text/html") else ""
            for secret in (CANARY_NAME, WHERE, "SCM-", "Flag the address", "Community MARAC"):
                assert secret not in body, (endpoint, secret)
            seen.append(response.status)
        assert seen[0] == seen[1], (endpoint, seen)
    assert csp_errors == []

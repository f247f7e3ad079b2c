"""The README's MARAC console tour, on the demo data ``hub demo`` makes, in real Chromium.

The demo Leicestershire co-ordinator takes the demo meeting from the research list to the
minutes; the SDVS's rep signs the confidentiality statement, returns research and reports
on an action; the YOT's rep sees no MARAC. Set ``HUB_CONSOLE_SCREENSHOTS=docs/console`` to
refresh the README's ``marac-*.png`` (otherwise they go to the test's temporary directory).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from hub import db
from hub.people import accounts, factors
from hub.people.demo import DEMO_PASSWORD, ensure_demo_people
from hub.people.models import Person
from tests.web.marac_fixtures import hub_log_verify, ledger_events, next_week, purposes

pytestmark = pytest.mark.browser

COORDINATOR = "marac@leics-police.demo.hub.example"
SDVS_REP = "rep@leics-sdvs.demo.hub.example"
YOT_REP = "rep@sutton-yot.demo.hub.example"


@pytest.fixture
def demo(app, settings, demo_partners):
    """The demo people and the demo MARAC meetings, made by the code ``hub demo`` runs."""
    from hub.marac.demo import ensure_demo_marac

    with app.app_context():
        session = db.session()
        ensure_demo_people(session, accounts.rules_from_settings(settings))
        session.commit()
        lines = ensure_demo_marac(session, app.extensions["hub.sharing"])
        session.commit()
    return lines


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("HUB_CONSOLE_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def _shot(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"marac-{name}.png"), full_page=True)


def _sign_in(page, app, live_server: str, email: str) -> None:
    """As a demo person: the demo password, then the current code (``hub users code``)."""
    with app.app_context():
        session = db.session()  # each 30 s step signs in once: forget the last (tests only)
        session.execute(update(Person).where(Person.email == email).values(totp_last_step=None))
        session.commit()
    page.goto(f"{live_server}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Code")).to_be_visible()
    with app.app_context():
        code = factors.current_code(accounts.get(db.session(), email))
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("^Welcome"))).to_be_visible()


def test_readme_marac_tour(  # noqa: PLR0915
    app, settings, page, csp_errors, live_server, demo, shots
):
    from pypdf import PdfReader

    page.set_viewport_size({"width": 1280, "height": 860})

    # 1. the co-ordinator signs in: overdue research is prompted on the landing page
    _sign_in(page, app, live_server, COORDINATOR)
    prompts = page.locator("section.prompts")
    expect(prompts).to_contain_text("Overdue for your agency")
    _shot(page, shots, "landing")

    # 2. the calendar, and the referrals with the repeat badge
    page.get_by_role("link", name="MARAC", exact=True).first.click()
    page.get_by_role("link", name="Leicestershire MARAC").click()
    expect(page.locator("table.calendar tbody tr")).to_have_count(2)
    _shot(page, shots, "calendar")
    page.get_by_role("link", name="Referrals").click()
    expect(page.locator(".badge.repeat")).to_have_count(1)
    assert "Whitfield" not in page.content()
    _shot(page, shots, "referrals")

    # 3. the meeting: research list out, Victim First's returned, two statements signed
    page.get_by_role("link", name="Leicestershire MARAC").click()
    page.locator("table.calendar tbody tr").last.get_by_role("link").click()
    research = page.locator("table.research")
    expect(research).to_contain_text("returned")
    expect(research).to_contain_text("awaited")
    expect(page.locator("table.signatures tbody tr")).to_have_count(2)
    _shot(page, shots, "meeting")
    meeting_url = page.url

    # 4. the agenda in the SafeLives order, then a case: fact apart from opinion
    page.get_by_role("link", name="Agenda and cases").click()
    expect(page.locator("#agenda-actions")).to_contain_text("safety planning session")
    children = page.locator("#agenda-children tbody tr")
    expect(children).to_have_count(2)
    expect(page.locator("#agenda-adults tbody tr")).to_have_count(1)
    _shot(page, shots, "agenda")
    opened = False
    for i in range(children.count()):
        children.nth(i).get_by_role("link").click()
        if page.locator("article.step-research_return").count():
            opened = True
            break
        page.go_back()
    assert opened, "no case with a research return"
    returned = page.locator("article.step-research_return").first
    expect(returned.locator("section.fact")).to_contain_text("marac research summary")
    expect(returned.locator("section.opinion")).to_contain_text("professional judgement")
    expect(returned.locator("ul.not-shared")).to_contain_text("disability")
    page.get_by_label("Owner agency").select_option("leics-sdvs")
    page.get_by_label(re.compile("^Action")).fill("Review the safety plan with the victim's IDVA")
    page.get_by_label("Due").fill(next_week().isoformat())
    page.get_by_role("button", name="Add the action").click()
    expect(page.locator("table.actions")).to_contain_text("Review the safety plan")
    _shot(page, shots, "case")
    page.get_by_role("button", name="Sign out").click()

    # 5. the SDVS's rep: the statement gate, signing, research, and the action
    _sign_in(page, app, live_server, SDVS_REP)
    page.goto(meeting_url)
    page.get_by_role("link", name="Agenda and cases").click()
    expect(page.get_by_role("heading", name="Confidentiality statement not signed")).to_be_visible()
    page.get_by_role("link", name="Read and sign the statement").click()
    _shot(page, shots, "statement")
    page.get_by_label(re.compile("I have read the statement")).check()
    page.get_by_role("button", name="Sign the statement").click()
    expect(page.get_by_text("Your agency has signed the statement")).to_be_visible()
    page.goto(f"{live_server}/console/marac/research")
    page.get_by_role("link", name=re.compile("^Return research for")).first.click()
    page.locator("input[name='value-marac_research_summary']").fill(
        "Open to the IDVA service since the summer; engaging well")
    for select in page.locator("select[name^='reason-']").all():
        name = select.get_attribute("name")
        if name != "reason-marac_research_summary":
            select.select_option("not_held")
    _shot(page, shots, "research-return")
    page.get_by_role("button", name="Return the research").click()
    expect(page.locator("table.research")).to_contain_text("returned")
    page.goto(f"{live_server}/console/marac/actions")
    row = page.locator("table.actions tbody tr", has_text="Review the safety plan")
    row.get_by_label(re.compile("^Status")).select_option("done")
    row.get_by_label("Note").fill("Reviewed at the IDVA's visit")
    row.get_by_role("button", name="Report").click()
    expect(row).to_contain_text("Done")
    _shot(page, shots, "actions")
    page.get_by_role("button", name="Sign out").click()

    # 6. the co-ordinator marks the meeting held and downloads the minutes
    _sign_in(page, app, live_server, COORDINATOR)
    page.goto(meeting_url)
    page.get_by_role("button", name="Mark the meeting held").click()
    expect(page.get_by_text("Status held")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Minutes (PDF)").click()
    data = Path(download.value.path()).read_bytes()
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
    assert "OFFICIAL-SENSITIVE" in text and "Review the safety plan" in text
    page.get_by_role("button", name="Sign out").click()

    # 7. the YOT's rep (perpetrator-facing): no MARAC, no prompt
    _sign_in(page, app, live_server, YOT_REP)
    expect(page.locator("section.prompts")).to_have_count(0)
    page.goto(f"{live_server}/console/marac/")
    expect(page.get_by_text("Your agency takes part in no MARAC")).to_be_visible()
    assert csp_errors == []
    assert "marac_action_update" in purposes(ledger_events(app), "disclosure")
    assert hub_log_verify(settings).exit_code == 0

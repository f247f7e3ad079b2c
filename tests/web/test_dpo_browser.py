"""The DPO console in real Chromium: the README's tour, step by step, with no CSP violation.

Set ``HUB_CONSOLE_SCREENSHOTS=docs/console`` to refresh the README's screenshots; otherwise
they go to the test's temporary directory (taking them is part of the test either way).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.audit.conftest import SUBJECT, seeded, sign_now  # noqa: F401
from tests.sharing.conftest import auth, consented, send  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("HUB_CONSOLE_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def _shot(page, shots: Path, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=full_page)


def test_dpo_tour_search_verify_sar_register_health(  # noqa: PLR0915
    page, csp_errors, live_server, console_people, browser_sign_in, seeded, sign_now, shots  # noqa: F811
):
    from pypdf import PdfReader

    sign_now()  # a checkpoint covers the seeded entries, so each one verifies
    page.set_viewport_size({"width": 1400, "height": 900})
    browser_sign_in(page, console_people["hub_dpo"])

    # 1. search disclosures (the filter form swaps the results in with htmx)
    page.goto(f"{live_server}/console/dpo/disclosures")
    expect(page.get_by_role("heading", name="Disclosures")).to_be_visible()
    page.get_by_label("Event type").select_option("disclosure")
    page.get_by_label("From partner").fill("kent-csc")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"type=disclosure"))
    link = page.get_by_role("link", name=str(seeded.disclosures[0]), exact=True)
    expect(link).to_be_visible()
    expect(page.locator("#results tbody tr")).to_have_count(3)  # two about the subject, one not
    _shot(page, shots, "disclosures")

    # 2. open and verify an entry
    link.click()
    expect(page.get_by_role("heading", name=f"Ledger entry {seeded.disclosures[0]}")).to_be_visible()
    expect(page.locator("#verification h2")).to_have_text("Verified")
    _shot(page, shots, "entry")

    # 3. answer a subject access request, on screen and as a PDF
    page.goto(f"{live_server}/console/dpo/subject-access")
    page.get_by_label("Case reference").fill("SAR 2026/41")
    page.get_by_label("Identity checked").check()
    page.get_by_label("Given name").fill(SUBJECT["given_name"])
    page.get_by_label("Family name").fill(SUBJECT["family_name"])
    page.get_by_label("Date of birth").fill(SUBJECT["date_of_birth"])
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Subject access report")).to_be_visible()
    # exactly what was seeded, plus the DPO's own look at entry 1 above (a view, s62)
    cells = page.locator("td.entry-index")
    expect(cells).to_have_count(len(seeded.disclosures + seeded.refusals + seeded.views) + 1)
    listed = [int(t) for t in cells.all_inner_texts()]
    assert listed[:3] == seeded.disclosures + seeded.refusals
    assert listed[3:-1] == seeded.views and listed[-1] > max(seeded.views)
    expect(page.get_by_role("cell", name="dpo_entry_view").first).to_be_visible()
    _shot(page, shots, "subject-access")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for index in seeded.disclosures + seeded.refusals:
        assert str(index) in text

    # 4. the agreement register and its data-sharing map
    page.goto(f"{live_server}/console/dpo/agreements")
    picture = page.get_by_role("img", name=re.compile("Data-sharing map"))
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.complete && img.naturalWidth") > 0
    _shot(page, shots, "agreements")

    # 5. ledger health, after a verification run from the console
    page.goto(f"{live_server}/console/dpo/ledger")
    page.get_by_role("button", name="Verify the whole ledger now").click()
    expect(page.locator("#lights")).to_contain_text("Full verification")
    expect(page.locator("#lights tbody tr").nth(2)).to_contain_text("green")
    _shot(page, shots, "ledger")

    # and the rest of the console, for the README
    page.goto(f"{live_server}/console/dpo/charts")
    expect(page.get_by_role("img", name="Disclosures and refusals per week")).to_be_visible()
    _shot(page, shots, "charts")
    page.goto(f"{live_server}/console/dpo/processing")
    expect(page.get_by_role("heading", name="Record of processing activities")).to_be_visible()
    _shot(page, shots, "processing", full_page=False)  # the first rows; the page is long
    assert csp_errors == []


def test_marac_coordinator_is_refused_dpo_pages(
    page, csp_errors, live_server, console_people, browser_sign_in
):
    browser_sign_in(page, console_people["marac_coordinator"])
    for path in ("disclosures", "subject-access", "agreements", "ledger"):
        page.goto(f"{live_server}/console/dpo/{path}")
        expect(page.get_by_text("Not permitted")).to_be_visible()
    expect(page.get_by_role("link", name="Disclosures")).to_have_count(0)
    # the 403 itself is logged by Chromium as a failed load; nothing else may be
    assert [e for e in csp_errors if "status of 403" not in e] == []

"""The console in real Chromium (Debian's, driven by Playwright): the sign-in paths.

Waits are ``expect()`` assertions (auto-retrying; no sleeps, no timing thresholds) and the
page's CSP is never bypassed, so a violation shows up as a console error and fails.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_sign_in_with_password_and_code_without_csp_violations(
    page, csp_errors, live_server, console_people, browser_sign_in
):
    person = console_people["dpo"]
    browser_sign_in(page, person)
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert csp_errors == []

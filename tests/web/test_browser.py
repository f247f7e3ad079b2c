"""The console in real Chromium (Debian's, driven by Playwright): the sign-in paths.

Waits are ``expect()`` assertions (auto-retrying; no sleeps, no timing thresholds) and the
page's CSP is never bypassed, so a violation shows up as a console error and fails the test.
Each test signs in at most twice: a sign-in costs seconds on a loaded machine.
"""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.web.conftest import age_sessions

pytestmark = pytest.mark.browser


def _get_pages(app):
    """Every console GET page without URL arguments (DPO pages too, once merged)."""
    from hub.web.access import PUBLIC_ENDPOINTS

    return sorted(
        rule.rule for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("console.") and rule.endpoint not in PUBLIC_ENDPOINTS
        and "GET" in rule.methods and not rule.arguments
        # downloads and pictures (CSV, PDF, SVG) are not pages
        and not rule.rule.endswith((".csv", ".pdf", ".svg"))
    )


def test_password_and_code_then_every_page_without_csp_violations(
    app, page, csp_errors, live_server, console_people, browser_sign_in
):
    page.goto(f"{live_server}/console/login")
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    page.goto(f"{live_server}/console/login/recovery")  # expired step: back to the login
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    browser_sign_in(page, console_people["hub_dpo"].email)
    # htmx requests will carry the CSRF token: console.js copied it into hx-headers.
    expect(page.locator("body")).to_have_attribute("hx-headers", re.compile('"X-CSRFToken"'))
    for path in _get_pages(app):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status in (200, 403), path
        expect(page.locator("main h1")).to_be_visible()
    assert csp_errors == []


def test_wrong_code_then_right_code_and_sign_out_ends_the_session_on_the_server(
    app, page, context, browser, csp_errors, live_server, console_people
):
    person = console_people["dpo"]
    page.goto(f"{live_server}/console/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("code was not accepted"))
    from tests.web.conftest import fresh_code

    page.get_by_label("Code").fill(fresh_code(app, person))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Welcome, {person.name}")).to_be_visible()
    kept = context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    # The old cookie, replayed in a fresh browser context, opens nothing.
    other = browser.new_context()
    try:
        other.add_cookies(kept)
        replay = other.new_page()
        replay.goto(f"{live_server}/console/")
        expect(replay.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        other.close()
    assert csp_errors == []


def test_lockout_after_repeated_wrong_passwords(page, live_server, console_people, settings):
    person = console_people["auditor"]
    page.goto(f"{live_server}/console/login")
    for _ in range(settings.console_lockout_failures):
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill("not the password at all")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("alert")).to_have_text("Email or password not recognised.")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("paused"))


def test_idle_timeout_and_csrf_refusal(app, page, live_server, console_people, settings,
                                       browser_sign_in):
    browser_sign_in(page, console_people["marac_coordinator"])
    # A form posted without its CSRF token is refused (the browser sends the cookie anyway).
    page.route("**/console/logout", lambda route: route.continue_(post_data=""))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Form expired")).to_be_visible()
    page.unroute("**/console/logout")
    page.goto(f"{live_server}/console/")
    expect(page.get_by_role("heading", name="Welcome, Ruth Marac")).to_be_visible()
    # Idle for the whole timeout (the session's clock moves; nobody sleeps): signed out.
    age_sessions(app, dt.timedelta(minutes=settings.console_idle_minutes))
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_security_key_registration_and_sign_in(app, page, context, csp_errors, live_server,
                                                console_people, browser_sign_in):
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    person = console_people["dpo_csc"]
    browser_sign_in(page, person)
    page.get_by_role("link", name="Account").click()
    page.get_by_role("button", name="Add a security key").click()
    expect(page.get_by_text("security key (added")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_role("heading", name=f"Welcome, {person.name}")).to_be_visible()
    assert csp_errors == []


def test_enrolment_with_a_qr_code_after_mfa_reset(app, page, csp_errors, live_server,
                                                  console_people):
    from hub import db
    from hub.people import accounts

    person = console_people["agency_rep"]
    with app.app_context():
        session = db.session()
        accounts.reset_mfa(session, accounts.get(session, person.email))
        session.commit()
    page.goto(f"{live_server}/console/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Continue").click()
    qr = page.get_by_role("img", name="QR code holding your authenticator secret")
    expect(qr).to_be_visible()
    expect(qr).not_to_have_js_property("naturalWidth", 0)  # the SVG loaded under the CSP
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("ul.codes li")).to_have_count(10)
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name=f"Welcome, {person.name}")).to_be_visible()
    assert csp_errors == []

"""``GET /docs``: the API reference page, vendored, and rendered under the strict CSP.

The first tests read the HTML; the browser test loads the page in real headless Chromium
(Debian's ``/usr/bin/chromium`` through Playwright) and fails on any console error, CSP
violations included. It is skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from hub import CONTENT_SECURITY_POLICY

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_docs_page_is_served_with_the_strict_policy(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    page = response.get_data(as_text=True)
    # No inline script or style: every script has a src, and there is no <style> or style=.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in page and "style=" not in page
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere


def test_every_asset_the_page_names_is_vendored(client: FlaskClient) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert len(assets) == 5
    for asset in assets:
        with client.get(asset) as response:  # static files stream: close them
            assert response.status_code == 200, asset
            assert len(response.get_data()) > 0


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The app on a loopback port, for the browser (stopped after the test)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.mark.browser
def test_docs_page_renders_in_chromium_with_no_console_error(live_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip("no Chromium (apt-get install chromium)")
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"{live_url}/docs", wait_until="networkidle")
            page.wait_for_selector(".opblock", timeout=30_000)
            title = page.inner_text(".info .title")
            operations = page.locator(".opblock").count()
        finally:
            browser.close()
    assert problems == []
    assert "hub partner API" in title
    assert operations >= 26

"""``GET /docs``: the API reference page, vendored, and rendered under the strict CSP.

These tests read the HTML; ``tests/web/test_api_docs_browser.py`` loads the page in real
headless Chromium with the console's browser fixtures and fails on any console error, CSP
violations included.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from hub import CONTENT_SECURITY_POLICY


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

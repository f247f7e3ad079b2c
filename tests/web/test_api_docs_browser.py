"""``GET /docs`` in real Chromium: Swagger UI renders every operation under the strict CSP.

Uses the console's browser fixtures (Debian's Chromium through pytest-playwright), so one
Playwright session serves every browser test; ``csp_errors`` listens for violations and
script errors and never bypasses the page's policy.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_api_docs_render_in_chromium_with_no_console_error(
    page: Any, live_server: str, csp_errors: list[str]
) -> None:
    page.goto(f"{live_server}/docs", wait_until="networkidle")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    assert "hub partner API" in page.inner_text(".info .title")
    assert page.locator(".opblock").count() >= 26
    assert csp_errors == []

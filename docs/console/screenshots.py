"""Take the console screenshots in docs/console/ (sign-in pages) with Debian's Chromium.

    .venv/bin/python docs/console/screenshots.py

Builds a throw-away demo hub (SQLite in a temporary directory, the demo partnership and
demo people), serves it on localhost and drives Chromium through Playwright. Later pages
(the DPO console) can add their own shots to ``SHOTS`` below.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from hub import create_app, db
from hub.operations import initialise, synchronise
from hub.people import accounts, factors
from hub.people.demo import DEMO_PASSWORD, ensure_demo_people
from hub.settings import Settings

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent.parent
CHROMIUM = os.environ.get("HUB_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="hub-shots-"))
    port = _port()
    settings = Settings(
        root=PROJECT, database_url=f"sqlite:///{tmp / 'hub.sqlite3'}",
        secret_key="screenshots-" + "x" * 32, subject_secret="screenshots-" + "y" * 32,
        hub_key_path=tmp / "hub.key", master_key_path=tmp / "master.key",
        webhook_key_path=tmp / "webhook.jwk", password_hash_profile="cheapest",  # noqa: S106
        console_origin=f"http://localhost:{port}", log_level="WARNING",
    )
    initialise(settings)
    synchronise(settings)
    app = create_app(settings)
    with app.app_context():
        session = db.session()
        rules = accounts.rules_from_settings(settings)
        ensure_demo_people(session, rules)
        accounts.reset_mfa(session, accounts.get(session, "auditor@demo.hub.example"))
        session.commit()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://localhost:{port}/console"

    def code(email: str) -> str:
        with app.app_context():
            return factors.current_code(accounts.get(db.session(), email))

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1100, "height": 640})
            page.goto(f"{base}/login")
            page.get_by_label("Email").fill("hub.dpo@demo.hub.example")
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.screenshot(path=HERE / "sign-in.png")
            page.get_by_role("button", name="Continue").click()
            expect(page.get_by_label("Code")).to_be_visible()
            page.get_by_label("Code").fill(code("hub.dpo@demo.hub.example"))
            page.screenshot(path=HERE / "second-step.png")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Welcome, Hana Okafor")).to_be_visible()
            page.screenshot(path=HERE / "landing.png")
            page.get_by_role("button", name="Sign out").click()
            page.get_by_label("Email").fill("auditor@demo.hub.example")
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Continue").click()
            expect(page.get_by_role("img")).to_be_visible()
            page.set_viewport_size({"width": 1100, "height": 760})
            page.screenshot(path=HERE / "enrol-totp.png")
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    print("wrote", ", ".join(sorted(p.name for p in HERE.glob("*.png"))))


if __name__ == "__main__":
    main()

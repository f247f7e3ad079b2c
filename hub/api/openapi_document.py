"""Render the OpenAPI document deterministically, for the committed copy and its test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COMMITTED_PATH = Path(__file__).with_name("openapi.json")


def render(app: Any) -> str:
    """The app's OpenAPI 3.1 document as stable, sorted JSON text."""
    with app.test_request_context():
        doc = app.test_client().get("/openapi.json").get_json()
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Write the committed copy (``make openapi``) using a throw-away SQLite database."""
    import tempfile

    from hub import create_app
    from hub.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/openapi.sqlite3",
            secret_key="x" * 40,
            subject_secret="y" * 40,
            hub_key_path=Path(tmp) / "key",
        )
        COMMITTED_PATH.write_text(render(create_app(settings)), encoding="utf-8")
    print(f"wrote {COMMITTED_PATH}")


if __name__ == "__main__":
    main()

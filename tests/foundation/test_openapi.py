"""The committed OpenAPI document matches the code (regenerate with ``make openapi``)."""

from __future__ import annotations

import json

from hub.api.openapi_document import COMMITTED_PATH, render


def test_served_document_is_openapi_3_1_with_oauth(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    scheme = doc["components"]["securitySchemes"]["oauth2"]
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    me = doc["paths"]["/api/v1/partners/me"]["get"]
    assert me["security"] == [{"oauth2": ["partners:read"]}]


def test_committed_copy_matches_the_code(app):
    committed = json.loads(COMMITTED_PATH.read_text(encoding="utf-8"))
    assert committed == json.loads(render(app)), "run `make openapi` and commit the result"

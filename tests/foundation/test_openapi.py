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


# -- the contract the document states (issue 14) -------------------------------------------

PLATFORM_PATHS = {
    "/oauth/token",
    "/oauth/introspect",
    "/oauth/revoke",
    "/.well-known/oauth-authorization-server",
    "/.well-known/jwks.json",
    "/healthz",
    "/readyz",
}
# RFC 6749/7662 endpoints answer RFC 6749 JSON errors, and /readyz its own check list.
NOT_PROBLEM_JSON = {"/oauth/token", "/oauth/introspect", "/oauth/revoke", "/readyz"}


def _document(client):
    return client.get("/openapi.json").get_json()


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def _resolve(doc, node):
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = doc["components"][kind][name]
    return node


def test_every_operation_is_named_described_and_exemplified(client):
    doc = _document(client)
    ids = []
    for path, method, operation in _operations(doc):
        where = f"{method.upper()} {path}"
        assert operation.get("operationId"), where
        assert operation.get("summary") and operation.get("description"), where
        ids.append(operation["operationId"])
        for content in operation.get("requestBody", {}).get("content", {}).values():
            assert "example" in content, where
        success = [r for s, r in operation["responses"].items() if s.startswith("2")]
        assert any("example" in c for r in success for c in r["content"].values()), where
    assert len(ids) == len(set(ids)) >= 26
    assert PLATFORM_PATHS <= set(doc["paths"])


def test_error_responses_are_problem_json_and_declared_per_status(client):
    doc = _document(client)
    for path, method, operation in _operations(doc):
        assert "default" not in operation["responses"], path
        if path.startswith("/api/"):
            assert {"401", "403", "503"} <= set(operation["responses"]), path
        if "requestBody" in operation and path.startswith("/api/"):
            assert {"400", "413", "415", "422"} <= set(operation["responses"]), path
        for status, response in operation["responses"].items():
            if int(status) < 400 or path in NOT_PROBLEM_JSON:
                continue
            content = _resolve(doc, response)["content"]
            assert list(content) == ["application/problem+json"], (path, status)
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }


def test_problem_allows_the_members_the_hub_sends(client):
    problem = _document(client)["components"]["schemas"]["Problem"]
    members = {"request_id", "errors", "reasons", "ledger_index", "oauth_error", "instance"}
    assert members <= set(problem["properties"])
    assert problem["additionalProperties"] is True
    assert set(problem["required"]) == {"type", "title", "status"}


def test_schemas_say_which_members_are_always_there(client):
    schemas = _document(client)["components"]["schemas"]
    without = sorted(n for n, s in schemas.items() if s.get("properties") and not s.get("required"))
    # every catalogue field is optional; a subject declaration may give either member or both
    assert without == ["MessageData", "Subject"]
    assert "refused" in schemas["AlertView"]["properties"]
    assert schemas["AlertView"]["additionalProperties"] is False


def test_enforced_rules_are_declared(client, app):
    doc = _document(client)
    schemas = doc["components"]["schemas"]
    data = schemas["MessageData"]
    assert data["additionalProperties"] is False
    assert set(data["properties"]) == set(app.extensions["hub.catalogues"].fields)
    assert data["properties"]["date_of_birth"] == {
        "type": "string",
        "format": "date",
        "description": data["properties"]["date_of_birth"]["description"],
    }
    message = schemas["Message"]["properties"]
    assert {"$ref": "#/components/schemas/MessageData"} in message["data"]["allOf"]
    reason = schemas["Consent"]["properties"]["reason"]
    assert reason["enum"] == ["unsafe", "prejudice", "incapable", "cannot_reasonably_obtain"]
    send = doc["paths"]["/api/v1/referrals"]["post"]
    key = next(p for p in send["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["schema"]["pattern"]
    inbox = doc["paths"]["/api/v1/inbox"]["get"]
    cursor = next(p for p in inbox["parameters"] if p["name"] == "cursor")
    assert cursor["schema"]["type"] == schemas["InboxPage"]["properties"]["next_cursor"]["type"]


def test_servers_name_the_issuer(client, settings):
    assert _document(client)["servers"][0]["url"] == settings.issuer.rstrip("/")

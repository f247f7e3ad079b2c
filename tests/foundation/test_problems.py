"""Every /api error is RFC 9457 problem+json; OAuth endpoints keep RFC 6749 bodies."""

from __future__ import annotations

import marshmallow as ma
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from hub.errors import PROBLEM_BASE, Conflict

PROBLEM = "application/problem+json"
CANARY = "Jane-Canary-Doe-1971"


class _Body(ma.Schema):
    name = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True)


def _probe_blueprint() -> Blueprint:
    """A throw-away blueprint registered like the real ones, to reach every error path."""
    blp = Blueprint("probe", __name__)

    @blp.route("/probe")
    class Probe(MethodView):
        @blp.arguments(_Body)
        @blp.response(201, _Body)
        def post(self, body):
            return body

    @blp.route("/probe/boom")
    class Boom(MethodView):
        def get(self):
            raise RuntimeError(f"secret SQL: SELECT * FROM victims WHERE name='{CANARY}'")

    @blp.route("/probe/conflict")
    class Clash(MethodView):
        def get(self):
            raise Conflict("Idempotency-Key reused with a different body")

    return blp


@pytest.fixture
def probe_client(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as in production for the 500 test
    app.extensions["hub.api"].register_blueprint(_probe_blueprint(), url_prefix="/api/v1")
    return app.test_client()


def _assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith(PROBLEM_BASE)
    assert body["title"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_404_unknown_route(client):
    _assert_problem(client.get("/api/v1/nowhere"), 404)


def test_405_wrong_method_lists_allowed(client):
    response = client.delete("/api/v1/partners/me")
    _assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_401_and_403_are_problems(client, demo_partners):
    _assert_problem(client.get("/api/v1/partners/me"), 401)


def test_422_points_at_each_bad_member(probe_client):
    response = probe_client.post("/api/v1/probe", json={"name": 5, "extra": "x"})
    body = _assert_problem(response, 422)
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {"#/name", "#/count", "#/extra"}
    assert body["type"].endswith("/validation")


def test_400_malformed_json_is_a_problem(probe_client):
    response = probe_client.post("/api/v1/probe", data="{not json",
                                 headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    _assert_problem(response, response.status_code)


def test_409_domain_error_is_a_problem(probe_client):
    body = _assert_problem(probe_client.get("/api/v1/probe/conflict"), 409)
    assert body["detail"] == "Idempotency-Key reused with a different body"


def test_500_hides_the_exception(probe_client):
    response = probe_client.get("/api/v1/probe/boom")
    body = _assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert CANARY not in text and "SELECT" not in text and "Traceback" not in text
    assert "request_id" in body["detail"]


def test_413_payload_too_large(probe_client, app):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = probe_client.post("/api/v1/probe", json={"name": "x" * 500, "count": 1})
    _assert_problem(response, 413)


def test_oauth_errors_keep_rfc6749_bodies(client):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    body = response.get_json()
    assert "error" in body and "type" not in body
    assert response.mimetype == "application/json"


def test_request_id_is_echoed_only_when_well_formed(client):
    good = client.get("/healthz", headers={"X-Request-ID": "abcd-1234-efgh"})
    assert good.headers["X-Request-ID"] == "abcd-1234-efgh"
    bad = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert bad.headers["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(bad.headers["X-Request-ID"]) == 32

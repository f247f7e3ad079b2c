"""The OAuth endpoints answer at the configured issuer whatever ``Host`` a client sends."""

from __future__ import annotations

import dataclasses

import pytest

from hub import create_app
from tests.conftest import client_assertion, token_form


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1:9", "[::1]"])
def test_a_foreign_host_header_does_not_break_or_steer_the_token_endpoint(client, demo_partners, host):
    response = client.post("/oauth/token", data=token_form(client_assertion("kent-csc")),
                           headers={"Host": host})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["token_type"].lower() == "bearer"


def test_the_assertion_audience_is_the_issuer_not_the_host(client, demo_partners):
    assertion = client_assertion("kent-csc", aud="http://evil.example/oauth/token")
    response = client.post("/oauth/token", data=token_form(assertion), headers={"Host": "evil.example"})
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_an_http_issuer_off_loopback_is_an_rfc6749_error_not_a_500(settings, app, path):
    lan = dataclasses.replace(settings, issuer="http://hub.internal:8000", origin=settings.log_origin)
    other = create_app(lan)
    try:
        response = other.test_client().post(path, data=token_form(client_assertion("kent-csc")))
    finally:
        other.extensions["hub.engine"].dispose()
    assert response.status_code == 400
    assert response.get_json()["error"] == "insecure_transport"

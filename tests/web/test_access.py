"""Deny by default: every console route, with every role and signed out.

The walk reads ``app.url_map``, so routes added later (the DPO and MARAC consoles) are
covered the moment they are registered: each must declare its roles with
``roles_required`` or be refused to everyone.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub import db
from hub.people.models import SecurityEvent
from hub.people.roles import ROLES
from hub.web import access
from hub.web.access import PUBLIC_ENDPOINTS, ROUTE_ROLES, roles_required
from tests.web.conftest import csrf_token

ROLE_REFUSAL = "Your roles do not include this page."
SAMPLE_ARGS = {"int": 1, "integer": 1, "default": "x", "string": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def console_routes(app):
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        args = {}
        for name in rule.arguments:
            converter = type(rule._converters[name]).__name__.replace("Converter", "").lower()
            args[name] = SAMPLE_ARGS.get(converter, "x")
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
        path = rule.build(args, append_unknown=False)[1]
        routes.append((rule.endpoint, method, path))
    return routes


def _request(client, method, path, token):
    if method == "GET":
        return client.get(path)
    return client.open(path, method=method, data={"csrf_token": token},
                       headers={"X-CSRFToken": token})


def test_every_console_route_declares_roles_or_is_public(app):
    for endpoint, _method, _path in console_routes(app):
        assert endpoint in ROUTE_ROLES, f"{endpoint} declares no roles: it is refused to everyone"


def test_every_route_with_every_role_and_signed_out(app, console_people, signed_in_client):
    routes = console_routes(app)
    assert routes
    anonymous = app.test_client()
    for _endpoint, method, path in routes:
        page = anonymous.get("/console/login")
        response = _request(anonymous, method, path, csrf_token(page.get_data(as_text=True)))
        assert response.status_code == 302, (path, response.status_code)
        assert "/console/login" in response.headers["Location"]
    for key, person in console_people.items():
        client = signed_in_client(key)
        token = csrf_token(client.get("/console/").get_data(as_text=True))
        for endpoint, method, path in routes:
            admitted = ROUTE_ROLES.get(endpoint, frozenset())
            response = _request(client, method, path, token)
            # PDFs and other downloads are bytes; a refusal is always an HTML page
            body = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
            if set(person.roles) & admitted:
                # A view may still refuse a record it does not show this agency (its own
                # 403/404); what must not happen is the role refusal or a trip to the login.
                assert ROLE_REFUSAL not in body, (key, path)
                assert not (response.status_code == 302
                            and "/console/login" in response.headers.get("Location", "")), (key, path)
            else:
                assert response.status_code == 403, (key, path, response.status_code)
                assert ROLE_REFUSAL in body, (key, path)


def test_an_undeclared_route_is_refused_and_recorded(app, console_people, signed_in_client):
    view = app.view_functions["console.home"]

    def undeclared():
        return "should never be shown"

    app.view_functions["console.home"] = undeclared
    try:
        client = signed_in_client("hub_dpo")
        response = client.get("/console/")
    finally:
        app.view_functions["console.home"] = view
    assert response.status_code == 403
    with app.app_context():
        refused = list(db.session().scalars(select(SecurityEvent).where(SecurityEvent.kind == "page_refused")))
    assert refused and refused[-1].endpoint == "console.home"


def test_roles_required_refuses_unknown_roles():
    with pytest.raises(ValueError):
        roles_required("superuser")
    with pytest.raises(ValueError):
        roles_required()


def test_landing_page_by_role(console_people, signed_in_client):
    marac = signed_in_client("marac_coordinator").get("/console/").get_data(as_text=True)
    assert 'href="/console/marac/"' in marac and 'href="/console/dpo/' not in marac
    auditor = signed_in_client("auditor").get("/console/").get_data(as_text=True)
    assert 'href="/console/marac/' not in auditor


def test_current_person_carries_a_ledger_safe_pseudonym(app, console_people, signed_in_client):
    import re

    client = signed_in_client("dpo")
    with client:
        client.get("/console/")
        person = access.current_person()
    assert re.fullmatch(r"u-[0-9a-f]{16}", person.pseudonym)
    assert person.partner_id == "kent-police" and person.roles == frozenset({"dpo"})
    assert set(ROLES) >= person.roles


def test_signed_out_htmx_request_is_told_to_load_the_login_page(client, console_people):
    response = client.get("/console/account", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/console/login?next=/console/account")


def test_next_only_ever_points_inside_the_console(app):
    from hub.web.access import safe_next

    assert safe_next("/console/account?x=1") == "/console/account?x=1"
    for bad in ("https://evil.example/console/", "//evil.example/console/", "/api/v1/partners",
                "/console\\..\\", None, ""):
        assert safe_next(bad) is None

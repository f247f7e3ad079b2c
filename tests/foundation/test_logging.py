"""Logs: one JSON line per request with the request id, and no personal data."""

from __future__ import annotations

import json
import logging

import structlog

from hub.logging import REDACTED, drop_personal_data

CANARY = "Canary-Victim-Name-42"


def _json_lines(capsys) -> list[dict]:
    err = capsys.readouterr().err
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_processor_redacts_personal_keys_at_any_depth():
    event = {"event": "x", "subject_name": CANARY, "nested": {"dob": "1971-01-01", "ok": 1},
             "client_id": "kent-police", "fields_released": ["given_name"]}
    clean = drop_personal_data(None, "info", event)
    assert clean["subject_name"] == REDACTED
    assert clean["nested"]["dob"] == REDACTED
    assert clean["nested"]["ok"] == 1
    assert clean["client_id"] == "kent-police"
    assert clean["fields_released"] == ["given_name"]


def test_one_json_line_per_request_with_request_id(client, capsys):
    capsys.readouterr()
    client.get("/healthz", headers={"X-Request-ID": "req-12345678"})
    lines = [line for line in _json_lines(capsys) if line.get("event") == "request_finished"]
    assert len(lines) == 1
    assert lines[0]["request_id"] == "req-12345678"
    assert lines[0]["status"] == 200
    assert lines[0]["path"] == "/healthz"


def test_no_personal_data_reaches_captured_logs(client, capsys, demo_partners):
    """Personal data passed to a logger, in a query string, or in a crash never appears."""
    capsys.readouterr()
    structlog.get_logger("hub.test").info("referral_received", victim_name=CANARY,
                                          data={"given_name": CANARY})
    logging.getLogger("hub.stdlib").warning("stdlib", extra={"address": CANARY})
    client.get(f"/api/v1/partners/me?name={CANARY}")
    client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": CANARY})
    err = capsys.readouterr().err
    assert err, "expected log output"
    assert CANARY not in err


def test_exception_messages_are_not_logged(app, capsys):
    from flask_smorest import Blueprint

    blp = Blueprint("crash", __name__)

    @blp.route("/crash")
    def crash():
        raise ValueError(f"cannot parse {CANARY}")

    app.register_blueprint(blp, url_prefix="/api/v1")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    capsys.readouterr()
    response = app.test_client().get("/api/v1/crash")
    assert response.status_code == 500
    err = capsys.readouterr().err
    assert "ValueError" in err
    assert CANARY not in err


def test_credentials_inside_messages_are_redacted(capsys, app):
    """A library printing a token or client assertion in its message text is scrubbed."""
    token = "hubat_" + "A1b2C3d4" * 5
    assertion = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJrZW50In0.c2lnbmF0dXJl"
    capsys.readouterr()
    logging.getLogger("authlib.oauth2").warning("Issue token {'access_token': '%s'} %s", token, assertion)
    err = capsys.readouterr().err
    assert err and token not in err and assertion not in err


def test_authlib_debug_lines_are_never_emitted(app):
    assert logging.getLogger("authlib").getEffectiveLevel() >= logging.INFO

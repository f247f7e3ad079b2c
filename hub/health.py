"""Load-balancer probes: ``/healthz`` (process up) and ``/readyz`` (able to serve)."""

from __future__ import annotations

import structlog
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hub import db, schema
from hub.ledger.origin import OriginMismatch, check_origin

bp = Blueprint("health", __name__)
log = structlog.get_logger("hub.health")


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers; says nothing about its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Database reachable, migrations at head, log origin as pinned, signing key loaded."""
    checks: dict[str, str] = {}
    try:
        with db.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        at_head = schema.is_at_head(db.engine())
        checks["migrations"] = "ok" if at_head else "not at head: run hub init"
        checks["origin"] = _origin_check() if at_head else "unknown"
    except SQLAlchemyError as exc:
        log.warning("readyz_database_unreachable", exc_type=type(exc).__name__)
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
        checks["origin"] = "unknown"
    key = current_app.extensions.get("hub.signing_key")
    checks["keys"] = "ok" if key is not None else "hub signing key missing: run hub init"
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        log.warning("readyz_not_ready", failing=sorted(k for k, v in checks.items() if v != "ok"))
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _origin_check() -> str:
    """``ok``, or the mismatch between the pinned and the configured log origin."""
    settings = current_app.config["HUB_SETTINGS"]
    with Session(db.engine()) as session:
        try:
            check_origin(session, settings.log_origin)
        except OriginMismatch as exc:
            return str(exc)
    return "ok"

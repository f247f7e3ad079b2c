"""Logging: structlog JSON, a request id on every line, and no personal data.

Configured once, before the Flask app exists, following warehouse's ``logging.py``: stdlib
records (gunicorn, SQLAlchemy, authlib) go through the same processors, so every line is
one JSON object. :func:`drop_personal_data` runs last before rendering, whatever a caller
passed, because logs are read by people who must never see victims' details.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from flask import Flask, Response

    from hub.settings import Settings

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")

# Keys that may carry values about a person. Matched on the key name, case-insensitively,
# anywhere in the event dict (nested too). Anything matched is replaced, never logged.
_PERSONAL_KEY_RE = re.compile(
    r"(name|dob|birth|address|postcode|phone|email|nhs|pnc|upn|subject|victim|perpetrator"
    r"|offender|child|data|payload|body|notes?|narrative|text|value|token|secret|password"
    r"|assertion|authorization|cookie|jwk|private)",
    re.IGNORECASE,
)
# Keys we know are safe even though they match the pattern above.
_SAFE_KEYS = frozenset(
    {
        "logger_name", "event", "client_id", "partner_id", "request_id", "token_type",
        "field_names", "fields_released", "fields_withheld", "path", "method", "status",
        "duration_ms", "level", "timestamp", "logger", "exc_info", "exception",
    }
)
REDACTED = "[redacted]"
# Credentials that libraries may print inside a message (authlib logs issued tokens at
# DEBUG): our opaque access tokens and any compact JWS/JWT (client assertions).
_CREDENTIAL_RE = re.compile(
    r"hubat_[A-Za-z0-9_\-]+|eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"
)


def drop_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: replace every value whose key may name personal data."""
    return _scrub(event_dict)  # type: ignore[return-value]


def _scrub(mapping: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in mapping.items():
        if key not in _SAFE_KEYS and _PERSONAL_KEY_RE.search(key):
            clean[key] = REDACTED
        elif isinstance(value, Mapping):
            clean[key] = _scrub(value)
        elif isinstance(value, str):
            clean[key] = _CREDENTIAL_RE.sub(REDACTED, value)
        else:
            clean[key] = value
    return clean


def _drop_exception_text(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Keep exception type and frames, drop the message: messages may quote input values."""
    for entry in event_dict.get("exception", []) or []:
        if isinstance(entry, dict):
            entry["exc_value"] = REDACTED
            for frame in entry.get("frames", []) or []:
                frame.pop("locals", None)
    return event_dict


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Write to whatever ``sys.stderr`` is now (gunicorn, pytest capture redirect it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    """Configure structlog and the stdlib root logger. Safe to call more than once."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.dict_tracebacks,
            _drop_exception_text,
            drop_personal_data,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_hub_handler", False)]:
        root.removeHandler(old)
    handler._hub_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # authlib's DEBUG lines print issued tokens in full; never below INFO for it.
    logging.getLogger("authlib").setLevel(max(logging.INFO, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def init_app(app: Flask) -> None:
    """Bind a request id to every log line; one ``request_finished`` line per request."""
    from flask import g, request

    log = structlog.get_logger("hub.request")

    @app.before_request
    def _bind_request_id() -> None:
        structlog.contextvars.clear_contextvars()
        inbound = request.headers.get("X-Request-ID", "")
        g.request_id = inbound if REQUEST_ID_RE.fullmatch(inbound) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        structlog.contextvars.bind_contextvars(
            request_id=g.request_id, method=request.method, path=request.path
        )

    @app.after_request
    def _log_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        started = g.get("request_started")
        duration = round((time.perf_counter() - started) * 1000, 2) if started else None
        log.info("request_finished", status=response.status_code, duration_ms=duration)
        return response

    @app.teardown_request
    def _unbind(_exc: BaseException | None) -> None:
        structlog.contextvars.clear_contextvars()

"""Errors: the domain exception hierarchy and the one RFC 9457 problem+json renderer.

Every ``/api`` error leaves through :func:`problem_response`, whether it started as a
domain exception, a webargs 422, a routing 404/405, an OAuth resource error or an
unexpected exception. Each ``type`` is a stable URI documented in the README.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, json

PROBLEM_BASE = "https://hub.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# Stable problem types: name -> (title, default status). Documented in README "Errors".
PROBLEM_TYPES: dict[str, tuple[str, int]] = {
    "bad-request": ("Bad request", 400),
    "unauthorized": ("Authentication required", 401),
    "forbidden": ("Not permitted", 403),
    "not-found": ("Not found", 404),
    "method-not-allowed": ("Method not allowed", 405),
    "conflict": ("Conflict", 409),
    "payload-too-large": ("Payload too large", 413),
    "unsupported-media-type": ("Unsupported media type", 415),
    "validation": ("Request body or parameters are invalid", 422),
    "policy-refused": ("Sharing refused by policy", 403),
    "internal": ("Internal error", 500),
    "unavailable": ("Service unavailable", 503),
}

# Every answer stays small whatever was sent: at most this many ``errors`` items (then
# ``errors_truncated: true``), each pointer cut to a bounded length.
MAX_ERRORS = 100
MAX_POINTER = 256

_STATUS_TYPES = {status: name for name, (_, status) in PROBLEM_TYPES.items()}
_STATUS_TYPES[403] = "forbidden"


class HubError(Exception):
    """Base of domain errors; services raise these, the API renders them as problems.

    ``detail`` must be safe to show a partner's developer: no personal data, no SQL,
    no internals. ``extensions`` are extra problem members (e.g. ``reasons``).
    """

    problem = "bad-request"

    def __init__(self, detail: str, *, problem: str | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if problem is not None:
            self.problem = problem
        self.extensions = extensions

    @property
    def status(self) -> int:
        return PROBLEM_TYPES[self.problem][1]


class NotFound(HubError):
    """The thing does not exist, or the caller may not know that it exists."""

    problem = "not-found"


class Conflict(HubError):
    """The request conflicts with the current state (e.g. idempotency-key reuse)."""

    problem = "conflict"


class PermissionDenied(HubError):
    """Authenticated but not allowed."""

    problem = "forbidden"


class ValidationFailed(HubError):
    """Input that fails validation; ``errors`` point at the offending members."""

    problem = "validation"


def problem_type_uri(name: str) -> str:
    """The documented ``type`` URI for a problem name."""
    return PROBLEM_BASE + name


def problem_body(
    status: int, detail: str | None = None, *, problem: str | None = None, **extensions: Any
) -> dict[str, Any]:
    """Build the RFC 9457 members for a problem, with the request id as ``instance``."""
    name = problem or _STATUS_TYPES.get(status, "internal" if status >= 500 else "bad-request")
    title = PROBLEM_TYPES.get(name, ("Error", status))[0]
    body: dict[str, Any] = {
        "type": problem_type_uri(name),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    request_id = g.get("request_id") if g else None
    if request_id:
        body["instance"] = f"urn:hub:request:{request_id}"
        body["request_id"] = request_id
    body.update({k: v for k, v in extensions.items() if v is not None})
    found = body.get("errors")
    if isinstance(found, list) and len(found) > MAX_ERRORS:
        body["errors"] = found[:MAX_ERRORS]
        body["errors_truncated"] = True
    return body


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    problem: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """Render a problem+json response."""
    body = problem_body(status, detail, problem=problem, **extensions)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_hub_error(error: HubError) -> Response:
    """Render a domain error."""
    return problem_response(
        error.status, error.detail, problem=error.problem, **error.extensions
    )


def pointer_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn webargs/marshmallow messages into RFC 9457 §3 style ``errors`` with JSON pointers.

    ``{"json": {"data": {"x": ["Unknown field."]}}}`` becomes
    ``[{"pointer": "#/data/x", "detail": "Unknown field."}]``; query and header locations
    use ``parameter`` instead of a body pointer. marshmallow's ``_schema`` key (the object
    as a whole) points at the object itself; ``prefix`` places the body inside a larger one
    (``/items/3`` in a batch).
    """
    found: list[dict[str, str]] = []

    def walk(node: Any, path: list[str], location: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                step = [] if key == "_schema" else [_escape(str(key))]
                walk(value, [*path, *step], location)
        elif isinstance(node, list) and all(isinstance(m, str) for m in node):
            for message in node:
                found.append(_error_item(location, path, message))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, [*path, str(index)], location)
        else:
            found.append(_error_item(location, path, str(node)))

    if isinstance(messages, dict):
        for location, node in messages.items():
            walk(node, [prefix.strip("/")] if prefix else [], str(location))
    return found[: MAX_ERRORS + 1]


def _escape(token: str) -> str:
    """RFC 6901 escaping of one pointer token."""
    return token.replace("~", "~0").replace("/", "~1")


def _error_item(location: str, path: list[str], message: str) -> dict[str, str]:
    if location in {"json", "form", "json_or_form"}:
        return {"pointer": ("#/" + "/".join(path))[:MAX_POINTER], "detail": message}
    name = ("/".join(path) or location)[:MAX_POINTER]
    return {"parameter": name, "location": location, "detail": message}


_TOP_LEVEL_MEMBERS = ("to", "purpose", "justification", "from", "consent", "data", "kind")


def field_pointer(field: str, prefix: str = "") -> str:
    """A JSON pointer for a policy field problem: ``given_name`` -> ``#/data/given_name``.

    The policy engine names message fields bare and envelope members by name; ``prefix``
    places the message inside a larger body (``/items/3`` in a batch).
    """
    path = field.replace(".", "/")
    if path.split("/")[0] not in _TOP_LEVEL_MEMBERS:
        path = f"data/{path}"
    return f"#{prefix}/{path}"

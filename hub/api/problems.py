"""The error half of the contract: the ``Problem`` schema and the responses that use it.

Every error the hub sends is ``application/problem+json`` (RFC 9457), so every declared
error response says so, with the members the hub really sends. flask-smorest registers one
lazy response component per HTTP status (``UNAUTHORIZED``, ``NOT_FOUND``, ...); the hub's
:class:`~hub.api.HubApi` registers them with this media type and schema instead of
``application/json``, and :func:`problems` lists, per operation, the statuses it can return.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any, TypeVar

import marshmallow as ma
from apispec import APISpec
from flask_smorest import Blueprint

from hub.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, PROBLEM_TYPES

F = TypeVar("F", bound=Callable[..., Any])


class ProblemErrorSchema(ma.Schema):
    """One bad input: a JSON pointer into the body, or a query/header parameter."""

    pointer = ma.fields.String(metadata={"description": "RFC 6901 pointer, e.g. #/data/dob"})
    parameter = ma.fields.String(metadata={"description": "Query or header parameter name"})
    location = ma.fields.String(metadata={"description": "query, headers, path or body"})
    code = ma.fields.String(metadata={"description": "Stable code, e.g. unknown_field"})
    detail = ma.fields.String(required=True)


class ProblemReasonSchema(ma.Schema):
    """Why the policy engine refused (``policy-refused``): a stable code and a sentence."""

    reason = ma.fields.String(required=True, metadata={"description": "e.g. no_agreement"})
    detail = ma.fields.String(required=True)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details with the extension members the hub sends.

    Responses are built by :mod:`hub.errors`, not by this schema; it documents them. New
    extension members are allowed (RFC 9457 §3.2: clients ignore what they do not know).
    """

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(
        required=True,
        metadata={
            "description": "Stable URI naming the problem type",
            "enum": [PROBLEM_BASE + name for name in PROBLEM_TYPES],
        },
    )
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True, validate=ma.validate.Range(400, 599))
    detail = ma.fields.String(metadata={"description": "What went wrong; never an input value"})
    instance = ma.fields.String(metadata={"description": "urn:hub:request:<request_id>"})
    request_id = ma.fields.String(metadata={"description": "Quote it when asking for help"})
    errors = ma.fields.List(
        ma.fields.Nested(ProblemErrorSchema),
        metadata={"description": "validation: each bad member (JSON pointer or parameter)"},
    )
    reasons = ma.fields.List(
        ma.fields.Nested(ProblemReasonSchema),
        metadata={"description": "policy-refused: every reason sharing was refused"},
    )
    ledger_index = ma.fields.Integer(
        metadata={"description": "policy-refused: the ledger entry recording the refusal"}
    )
    oauth_error = ma.fields.String(
        metadata={"description": "401/403: the RFC 6750 error code, e.g. invalid_token"}
    )


_CHALLENGE = {
    "description": 'RFC 6750 challenge, e.g. Bearer realm="hub", error="invalid_token"',
    "schema": {"type": "string"},
}
# Headers a problem of a given status carries (RFC 6750 §3; RFC 9110 §10.2.3, §10.2.1).
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": _CHALLENGE},
    403: {"WWW-Authenticate": _CHALLENGE},
    405: {"Allow": {"description": "The methods the route has", "schema": {"type": "string"}}},
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying",
            "schema": {"type": "string"},
        }
    },
}
_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request, e.g. JSON nested too deep (`bad-request`)",
    401: "Missing, unknown, expired or revoked token (`unauthorized`)",
    403: "The token lacks a scope (`forbidden`), or policy refused (`policy-refused`)",
    404: "No such thing, or not yours to see (`not-found`); the id is not echoed",
    409: "Conflicts with the current state (`conflict`)",
    413: "Body over the limit (`payload-too-large`)",
    415: "Body is not `application/json` (`unsupported-media-type`)",
    422: "Body or parameters invalid (`validation`); `errors` point at each member",
    503: "A dependency is unavailable (`unavailable`); retry after `Retry-After`",
}


def register_problem_responses(spec: APISpec, schema: type[ma.Schema]) -> None:
    """One lazy response component per status, served as ``application/problem+json``."""
    for status in http.HTTPStatus:
        if status < 400:
            continue
        response: dict[str, Any] = {
            "description": _DESCRIPTIONS.get(status, status.phrase),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        spec.components.response(status.name, response, lazy=True)


# What hub.api.guards answers for any JSON body: too deep (400), too big (413), not JSON (415).
BODY = (400, 413, 415)


def problems(*statuses: int) -> Callable[[F], F]:
    """Declare the error statuses an operation can return (each a problem+json response)."""
    responses = {status: http.HTTPStatus(status).name for status in statuses}
    return Blueprint.doc(responses=responses)  # type: ignore[no-any-return]

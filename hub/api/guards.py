"""Checks every ``/api`` request passes before any view, schema or database sees it.

Each closes a class of hostile input (issue 14) in one place instead of per route:

* a body must fit its route's cap (413) and, on an ``/api`` route, say it is JSON (415);
* a JSON body is nested no deeper than :data:`MAX_JSON_DEPTH` (400), checked as it is
  parsed (:class:`HubParser`, after authentication, before any schema), so no parser or
  validator recurses into ``RecursionError`` and no answer grows with the garbage sent;
* a path parameter must have the shape of what it names: a string id is a ledger
  identifier (no NUL byte, space or ``/`` ever reaches a query) and an integer fits a
  BIGINT; anything else is a 404, as for any id that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flask_smorest
import marshmallow as ma
from flask import abort, current_app, request
from webargs.flaskparser import FlaskParser

from hub.api.fields import BIGINT_MAX
from hub.errors import HubError
from hub.ledger.events import IDENT_PATTERN

if TYPE_CHECKING:
    from flask import Flask

API_PREFIX = "/api/"
# Deep enough for every documented body (a batch item's data is four levels down).
MAX_JSON_DEPTH = 32
# One message (referral, alert, dry run, correction, status); the batch has its own cap.
MESSAGE_BYTES = 64 * 1024
BATCH_BYTES = 32 * 1024 * 1024
_BATCH_ENDPOINTS = frozenset({"referrals.ReferralBatch"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def body_limit(endpoint: str | None) -> int:
    """The largest body ``endpoint`` accepts."""
    return BATCH_BYTES if endpoint in _BATCH_ENDPOINTS else MESSAGE_BYTES


def is_json_type(mimetype: str) -> bool:
    """``application/json`` or a ``+json`` structured suffix (RFC 6839)."""
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def check_body() -> None:
    """Size of every body (OAuth forms too); type and depth of a body on an ``/api`` route."""
    if request.method not in _BODY_METHODS or request.url_rule is None:
        return  # routing answers 404/405 itself
    limit = min(body_limit(request.endpoint), current_app.config["MAX_CONTENT_LENGTH"])
    request.max_content_length = limit  # also bounds chunked bodies with no length
    if not request.path.startswith(API_PREFIX):
        return  # the OAuth endpoints are form-encoded; werkzeug enforces the limit
    if not is_json_type(request.mimetype):
        raise HubError(
            "Send the body as JSON with 'Content-Type: application/json'.",
            problem="unsupported-media-type",
        )
    if request.content_length is not None and request.content_length > limit:
        raise HubError(f"the body may be at most {limit} bytes", problem="payload-too-large")


class HubParser(FlaskParser):
    """webargs' Flask parser with the depth limit applied to every JSON body it parses."""

    def load_json(self, req: Any, schema: ma.Schema) -> Any:
        try:
            document = super().load_json(req, schema)
        except RecursionError:
            raise _too_deep() from None
        if depth_exceeds(document, MAX_JSON_DEPTH):
            raise _too_deep()
        return document


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """The API's blueprint: ``@blp.arguments`` parses with :class:`HubParser`."""

    ARGUMENTS_PARSER = HubParser()


def _too_deep() -> HubError:
    return HubError(f"JSON may be nested at most {MAX_JSON_DEPTH} levels deep")


def depth_exceeds(document: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def check_view_args(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A path id that cannot name anything is a 404 before it reaches a query."""
    if not values or endpoint is None or not request.path.startswith(API_PREFIX):
        return
    for value in values.values():
        if isinstance(value, str) and not IDENT_PATTERN.fullmatch(value):
            abort(404)
        if isinstance(value, int) and not 0 <= value <= BIGINT_MAX:
            abort(404)


def init_app(app: Flask) -> None:
    """Run the checks on every request (routing first, so 404/405 stay what they are)."""
    app.url_value_preprocessor(check_view_args)
    app.before_request(check_body)

"""``GET /docs``: the OpenAPI document rendered for people, by a vendored Swagger UI.

The renderer's files are committed under ``hub/static/swagger-ui`` (no CDN: a hub holding
personal data loads no third-party script). The page has no inline script or style, so it
works under the hub's strict Content-Security-Policy (``hub.CONTENT_SECURITY_POLICY``, on
every response); Swagger UI sets styles through the DOM, never with ``<style>`` elements,
which that policy would refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, url_for
from markupsafe import escape

if TYPE_CHECKING:
    from flask import Flask

bp = Blueprint("docs", __name__)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>hub partner API</title>
<link rel="stylesheet" href="{swagger_css}">
<link rel="stylesheet" href="{page_css}">
<link rel="icon" type="image/png" href="{icon}">
</head>
<body data-openapi-url="{openapi}">
<div id="swagger-ui"></div>
<script src="{swagger_js}"></script>
<script src="{page_js}"></script>
</body>
</html>
"""


@bp.get("/docs")
def docs() -> Response:
    """The API reference, rendered in the browser from ``/openapi.json``."""

    def static(name: str) -> str:
        return str(escape(url_for("static", filename=name)))

    page = _PAGE.format(
        swagger_css=static("swagger-ui/swagger-ui.css"),
        swagger_js=static("swagger-ui/swagger-ui-bundle.js"),
        icon=static("swagger-ui/favicon-32x32.png"),
        page_css=static("docs/docs.css"),
        page_js=static("docs/docs.js"),
        openapi=escape(url_for("api-docs.openapi_json")),
    )
    response = Response(page, mimetype="text/html")
    # The page holds no personal data; the renderer's files may be cached.
    response.headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    """Register ``/docs`` (the renderer's files are served from the app's ``static``)."""
    app.register_blueprint(bp)
